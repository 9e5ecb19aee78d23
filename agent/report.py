"""A batch's reports: a JSON summary and one self-contained HTML file.

Built from the journal (the batch, its entries, every attempt) and each
entry's run artifacts (`runs/<run>/log.jsonl` and its masked screenshots,
embedded as compressed WebP data URIs). The HTML comes from a Jinja2 template
(templates/report.html.j2) with autoescape, passes the redaction layer, and has
inline CSS, inline SVG and no script or external reference, so it can be mailed
or archived as is. jinja2 and Pillow are imported when a report is written,
never when the CLI starts.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from agent.config import Settings, private_dir
from agent.custody.redact import redact
from agent.journal import Journal, verdict


def summary(journal: Journal, batch_id: str, settings: Settings) -> dict[str, Any]:
    batch = journal.batch(batch_id)
    if batch is None:
        raise KeyError(batch_id)
    entries = []
    counts: dict[str, int] = {}
    for be in journal.batch_entries(batch_id):
        runs = journal.entry_runs(batch_id, be["entry_id"])
        last = runs[-1] if runs else None
        try:
            result = json.loads(be["result"]) if be["result"] else {}
        except json.JSONDecodeError:
            result = {}
        outcome = be["outcome"] or ("not started" if last is None else "interrupted")
        counts[outcome] = counts.get(outcome, 0) + 1
        run_dir = settings.runs_dir / last["id"] if last else None
        entries.append(
            {
                "id": be["entry_id"],
                "label": be["label"],
                "account": be["account"],
                "profile": be["profile"],
                "outcome": outcome,
                "state": last["state"] if last else "pending",
                "reached": last["reached"] if last else "",
                "attempts": [
                    {
                        "run_id": r["id"],
                        "reached": r["reached"],
                        "state": r["state"],
                        "note": r["note"],
                        "started": r["started"],
                        "updated": r["updated"],
                    }
                    for r in runs
                ],
                "result": result,
                # what the key may do and from where: the result's, else the run log's start
                "permissions": list(result.get("permissions") or []),
                "ips": list(
                    result.get("ips") or (_start(run_dir).get("ips") or [] if run_dir else [])
                ),
                "steps": _steps(run_dir) if run_dir else [],
                "screenshots": sorted(str(p) for p in run_dir.glob("*.png")) if run_dir else [],
                "next": next_action(outcome, last, result),
            }
        )
    return json.loads(
        redact(
            json.dumps(
                {
                    "batch_id": batch_id,
                    "roster": batch["roster"],
                    "state": batch["state"],
                    "started": batch["started"],
                    "updated": batch["updated"],
                    "counts": counts,
                    "entries": entries,
                },
                default=str,
            )
        )
    )


def next_action(outcome: str, row: dict[str, Any] | None, result: dict[str, Any]) -> str:
    """What an operator must do about an entry, in plain words."""
    if row is None:
        return "not started: re-run the batch (it resumes where it stopped)"
    if outcome in ("ok", "skipped"):
        rest = str((result.get("verification") or {}).get("signed REST", ""))
        ids = ", ".join(result.get("vault_ids") or []) or row.get("vault_ids") or ""
        if rest.startswith("pending") or rest.startswith("not run"):
            return f"stored ({ids}); prove it works: `onboard verify {ids.split(',')[0]}` from a whitelisted host"
        return f"nothing: the key is stored ({ids}) and checked"
    if str(result.get("message", "")).startswith("DELETE THIS KEY NOW"):
        return str(result["message"])
    if outcome == "flagged":
        return verdict(row) + "; then `onboard batch ROSTER --retry " + "ID`"
    if result.get("exit_code") == 7:
        return (
            f"the exchange refused: {result.get('message')}; delete or rename the existing key, "
            "then re-run the batch"
        )
    return verdict(row) + "; re-run the batch to try again"


def _start(run_dir: Path) -> dict[str, Any]:
    """The run log's first `start` event ({} if none): its IPs stand in for a result's when a
    run stopped before it had one."""
    log = run_dir / "log.jsonl"
    if log.exists():
        for line in log.read_text(encoding="utf-8").splitlines():
            try:
                ev = json.loads(line)
            except json.JSONDecodeError:
                continue
            if ev.get("event") == "start":
                return dict(ev)
    return {}


def _steps(run_dir: Path) -> list[dict[str, Any]]:
    """Each step's caption, outcome and seconds, and each state change, from the run log."""
    out: list[dict[str, Any]] = []
    log = run_dir / "log.jsonl"
    if not log.exists():
        return out
    t0 = None
    captions: dict[str, str] = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            ev = json.loads(line)
        except json.JSONDecodeError:
            continue
        t0 = t0 if t0 is not None else ev.get("t", 0)
        at = round(ev.get("t", 0) - t0, 2)
        if ev.get("event") == "step":
            if ev.get("state") == "running":
                captions[ev.get("id", "")] = ev.get("caption", "")
            else:
                out.append({"at": at, "step": captions.get(ev.get("id", ""), ev.get("id")),
                            "status": ev.get("state"), "seconds": ev.get("seconds")})  # fmt: skip
        elif ev.get("event") == "state":
            out.append({"at": at, "state": ev.get("state")})
        elif ev.get("event") == "result" and ev.get("status") != "ok":
            out.append({"at": at, "stopped": ev.get("message")})
    return out


# Screenshots: each is inlined twice, as a thumbnail in the entry and as a larger copy shown
# on click. Both are lossy WebP: Chromium's 1920x1080 PNG of a form is ~80-110 KB, this pair
# ~12 KB, so a 24-entry batch with three shots each stays under 1.5 MB (tests/agent/
# test_report.py). The larger copy is 1152 px wide (0.6 of the screen): the filled values and
# the captions still read, which is what the shots are for. Quality 30, not lower: at 25 the
# yellow banner's edge on the black header left a few blue-cast pixels that the secret-pixel
# check (tests/custody/test_no_secret_pixels.py) rightly counts.
THUMB_WIDTH, THUMB_QUALITY = 320, 40
LARGE_WIDTH, LARGE_QUALITY = 1152, 30
TEMPLATE = Path(__file__).parent / "templates" / "report.html.j2"


# The report's two copies of each screenshot, largest first: each is scaled from the one
# before it (the thumbnail from the enlarged copy, not from the full PNG).
SIZES = ((LARGE_WIDTH, LARGE_QUALITY), (THUMB_WIDTH, THUMB_QUALITY))


def shrink(path: Path, sizes: tuple[tuple[int, int], ...] = SIZES) -> list[bytes]:
    """The screenshot at each (width, quality) of `sizes` (never scaled up), as WebP bytes
    (Pillow imported here: the CLI's start stays fast). The PNG is decoded once and each
    size scaled from the one before.

    Why bilinear scaling and WebP's method 2: the report was most of a batch process's CPU
    (8.2 of its 11.7 CPU s for 24 entries, cProfile: WebP encoding 3.6 s, Lanczos scaling
    2.9 s, PNG decoding 1.5 s). Measured on a batch's 72 screenshots: Lanczos and method 6
    took 114 ms per screenshot, this takes 55 ms, and the pair is smaller (12.1 KB against
    12.7 KB). The text stays readable at 1152 px (checked by eye on the form, the created
    dialog and the key list). The masks survive: they are solid boxes, far larger than a
    pixel."""
    import io

    from PIL import Image

    with Image.open(path) as src:
        im = src.convert("RGB")
    out = []
    for width, quality in sizes:
        if im.width > width:
            im = im.resize((width, round(im.height * width / im.width)), Image.Resampling.BILINEAR)
        buf = io.BytesIO()
        im.save(buf, "WEBP", quality=quality, method=2)
        out.append(buf.getvalue())
    return out


def _duration(seconds: float) -> str:
    s = round(seconds)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h {m:02d}m {s:02d}s" if h else f"{m}m {s:02d}s" if m else f"{s}s"


def _active(intervals: list[tuple[float, float]]) -> float:
    """Seconds in which at least one run was going: a batch resumed a day later does not
    count the night, and runs side by side count once."""
    total, end = 0.0, float("-inf")
    for a, b in sorted(intervals):
        if b <= end:
            continue
        total += b - max(a, end)
        end = b
    return total


def timing(s: dict[str, Any]) -> dict[str, Any]:
    """Batch duration, throughput and the per-step times the report charts.

    Duration is first start to last end; active time leaves out gaps with no run going;
    throughput is keys made (entries ok) per hour of active time."""
    intervals = [
        (float(a["started"]), float(a["updated"]))
        for en in s["entries"]
        for a in en["attempts"]
        if a.get("started") and a.get("updated")
    ]
    wall = max(b for _, b in intervals) - min(a for a, _ in intervals) if intervals else 0.0
    active = _active(intervals)
    ok = sum(1 for en in s["entries"] if en["outcome"] == "ok")
    done = sum(1 for en in s["entries"] if en["outcome"] not in ("not started", "interrupted"))
    per_step: dict[str, list[float]] = {}
    for en in s["entries"]:
        for st in en["steps"]:
            if "step" in st and st.get("seconds") is not None and st["status"] == "done":
                per_step.setdefault(str(st["step"]), []).append(float(st["seconds"]))
    return {
        "wall": wall,
        "wall_text": _duration(wall),
        "active_text": _duration(active),
        "done": done,
        "total": len(s["entries"]),
        "ok": ok,
        "per_hour": round(ok * 3600 / active, 1) if active > 0 else 0.0,
        "per_entry": _duration(active / done) if done else "",
        "chart": step_chart(per_step),
    }


def step_chart(per_step: dict[str, list[float]]) -> dict[str, Any]:
    """Geometry of the per-step timing chart (inline SVG): one row per step, in the order the
    steps first ran; a bar to the median over entries and a tick at the slowest."""
    label_w, bar_w, row_h = 300, 420, 22
    rows = []
    top = max((max(v) for v in per_step.values()), default=0.0) or 1.0
    for i, (name, secs) in enumerate(per_step.items()):
        ordered = sorted(secs)
        median = ordered[len(ordered) // 2]
        rows.append(
            {
                "y": i * row_h,
                "name": name if len(name) <= 44 else name[:43] + "…",
                "median": median,
                "max": ordered[-1],
                "n": len(ordered),
                "w": max(1.0, round(median / top * bar_w, 1)),
                "x_max": round(label_w + ordered[-1] / top * bar_w, 1),
            }
        )
    return {
        "rows": rows,
        "label_w": label_w,
        "bar_w": bar_w,
        "row_h": row_h,
        "width": label_w + bar_w + 110,
        "height": len(rows) * row_h + 4,
        "top": top,
    }


def _rows(en: dict[str, Any]) -> list[tuple[str, str]]:
    """An entry's detail table: (name, value), empty values left out."""
    r = en["result"]
    keys = r.get("keys") or []
    rows: list[tuple[str, Any]] = [
        ("label", en["label"]),
        ("account", en["account"]),
        ("profile", en["profile"]),
        ("permissions", ", ".join(en["permissions"])),
        ("IP allowlist", ", ".join(en["ips"])),
        ("flow", r.get("flow")),
        ("API key", r.get("api_key_masked") if len(keys) < 2 else ""),
        ("stored", ", ".join(r.get("vault_ids") or [])),
        ("message", r.get("message")),
        ("seconds", r.get("seconds")),
        ("factors", ", ".join(r.get("factors") or [])),
    ]
    if len(keys) > 1:  # one submission, several keys: one line each
        rows += [
            (f"key {i + 1}", f"{k['account']}: {k['api_key_masked']} stored as {k['vault_id']}")
            for i, k in enumerate(keys)
        ]
    rows += [(f"check: {k}", v) for k, v in (r.get("verification") or {}).items()]
    rows += [
        (f"attempt {i + 1}", f"{a['run_id']}: reached {a['reached']} ({a['state']}) {a['note']}")
        for i, a in enumerate(en["attempts"])
    ]
    return [(k, str(v)) for k, v in rows if v not in (None, "")]


def _step_rows(en: dict[str, Any]) -> list[tuple[Any, str, str]]:
    out = []
    for st in en["steps"]:
        if "step" in st:
            what, res = st["step"], f"{st['status']} {st.get('seconds') or ''}"
        elif "state" in st:
            what, res = f"state → {st['state']}", ""
        else:
            what, res = "stopped", st.get("stopped") or ""
        out.append((st["at"], str(what), str(res)))
    return out


def render_html(s: dict[str, Any]) -> str:
    """The report, from templates/report.html.j2 with autoescape on (every value from the
    journal, the roster or a page is text, never markup), then through the redaction layer.

    The images go in after redaction, by placeholder: they were masked when taken, and a
    base64 text is no place to look for secrets (nor to replace inside)."""
    import base64

    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE.parent),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    images: dict[str, str] = {}

    def inline(data: bytes) -> str:
        mark = f"@@IMG{len(images)}@@"
        images[mark] = "data:image/webp;base64," + base64.b64encode(data).decode()
        return mark

    entries = []
    for en in s["entries"]:
        shots = []
        for shot in en["screenshots"]:
            p = Path(shot)
            try:
                large, thumb = shrink(p)
            except OSError:  # gone or not an image: the report goes out without it
                continue
            shots.append(
                {"name": p.stem, "thumb": inline(thumb), "large": inline(large),
                 "anchor": f"shot-{len(images) // 2}"}
            )  # fmt: skip
        entries.append({**en, "rows": _rows(en), "step_rows": _step_rows(en), "shots": shots})
    text = env.get_template(TEMPLATE.name).render(
        s=s,
        entries=entries,
        timing=timing(s),
        started=time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(s["started"])),
        counts=" · ".join(f"{k}: {v}" for k, v in sorted(s["counts"].items())),
    )
    text = redact(text)
    for mark, uri in images.items():
        text = text.replace(mark, uri, 1)
    return text


def write(journal: Journal, batch_id: str, settings: Settings, out_dir: Path | None) -> list[Path]:
    """Writes <dir>/<batch>.json and <dir>/<batch>.html (0600); returns their paths."""
    s = summary(journal, batch_id, settings)
    d = private_dir(out_dir or settings.home / "batches")
    paths = []
    for suffix, text in (
        (".json", json.dumps(s, indent=2)),
        (".html", render_html(s)),
    ):
        path = d / f"{batch_id}{suffix}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        paths.append(path)
    return paths
