"""The live batch table as rich renders it: overall progress, and messages cut only at spaces."""

from __future__ import annotations

import re

from rich.console import Console

from agent.batch import Board, View
from agent.cli_batch import overall, table

# What an exit-7 entry's row says (longer than the column: it must wrap).
REFUSED = (
    "the exchange refused: an API key named ICG-MM already exists on this account; "
    "delete it in OKX or rename it in the roster, then re-run the batch"
)


def board_at(now: float) -> Board:
    """Six entries at `now`: one skipped (done before), two ended here, two running, one not
    started; the first started 10 minutes ago."""
    b = Board()
    b.add(View("acct-1", "A1", "main", state="verified", outcome="skipped", note="already done"))
    b.add(View("acct-2", "A2", "main", state="verified", outcome="ok", note="stored",
               started=now - 600, ended=now - 300))  # fmt: skip
    b.add(View("acct-3", "ICG-MM", "main", state="refused", outcome="failed", note=REFUSED,
               started=now - 590, ended=now - 500))  # fmt: skip
    b.add(View("acct-4", "A4", "sub1", state="verifying-human", waiting="SMS code",
               started=now - 280))  # fmt: skip
    b.add(View("acct-5", "A5", "main", state="filled", step="9/18 Permissions",
               started=now - 60))  # fmt: skip
    b.add(View("acct-6", "A6", "main"))
    return b


def rendered(board: Board, now: float, width: int) -> str:
    con = Console(record=True, width=width, color_system=None)
    con.print(table(board, "onboard batch clients.yaml", now))
    return con.export_text()


def test_progress_counts_throughput_and_eta():
    now = 10_000.0
    p = board_at(now).progress(now)
    assert (p.total, p.done, p.failed, p.flagged, p.running, p.waiting) == (6, 3, 1, 0, 2, 1)
    # 2 entries ran and ended in 600 s: 12 an hour; 3 left at that rate: 900 s.
    assert p.per_hour == 12.0
    assert p.eta == 900.0
    assert overall(board_at(now), now) == "3/6 done · 2 running · 1 failed · 12.0/h · ETA 15:00"
    # Before any entry ended there is no rate to go by, and the line says so.
    fresh = Board()
    fresh.add(View("a", "A", "main", started=now - 5))
    assert fresh.progress(now).eta is None
    assert overall(fresh, now).endswith("ETA when the first entry ends")


def test_table_shows_overall_and_wraps_messages_at_word_boundaries():
    now = 10_000.0
    for width in (100, 120, 160):
        text = rendered(board_at(now), now, width)
        assert "3/6 done · 2 running · 1 failed · 12.0/h · ETA 15:00" in text
        assert "waiting for a human — acct-4: SMS code" in text
        assert re.search(r"acct-4 .*│ 4:40 ", text) and re.search(r"acct-3 .*│ 1:30 ", text)
        # The refusal is all there, every word whole, in order: read back from the cells of
        # the "now" column, joined across the lines it wrapped onto.
        cells = [
            line.split("│")[6].strip()
            for line in text.splitlines()
            if line.count("│") == 8 and ("acct-3" in line or line.split("│")[1].strip() == "")
        ]
        start = next(i for i, c in enumerate(cells) if c.startswith("the exchange"))
        got = []
        for c in cells[start:]:
            if not c:
                break
            got.append(c)
        assert len(got) > 1, f"width {width}: expected the message to wrap"
        assert " ".join(got) == REFUSED, (width, got)
        assert all(len(line) <= width for line in text.splitlines())


def test_a_word_wider_than_the_column_ends_in_an_ellipsis_not_a_cut():
    now = 10_000.0
    b = Board()
    long_word = "x" * 120
    b.add(View("a", "A", "main", state="failed", outcome="failed", note=f"bad {long_word} end",
               started=now - 10, ended=now))  # fmt: skip
    text = rendered(b, now, 100)
    assert "…" in text and re.search(r"\bend\b", text) and "bad" in text
