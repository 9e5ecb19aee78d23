"""A batch roster: the accounts to onboard, in YAML or CSV, checked completely before anything starts.

Every problem is reported, one line each, with the file and line it is on (not
just the first), so an operator fixes the roster in one pass. Label and IP
rules are `onboard run`'s own (agent.request), so the messages match. The text
is parsed by agent.roster_parse, each entry checked by agent.roster_entry; here the
entries are checked against each other (ids, the same key twice, REST entries' `from`). Secrets never go in a roster: code sources are references (an
environment variable's name, a command), and a field that is, or a value that
looks like, a secret is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from agent.engine.flow import Rules
from agent.pool import Endpoint, parse_roster_pool
from agent.request import default_sites
from agent.roster_entry import Entry as Entry
from agent.roster_entry import check_entry
from agent.roster_parse import line_of, parse_csv, parse_yaml


class RosterError(ValueError):
    """All of a roster's problems, one line each."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


@dataclass
class Roster:
    path: Path
    entries: list[Entry]
    digest: str
    pool: list[Endpoint] = field(default_factory=list)  # its `browser_pool:` (agent.pool)


def load(path: Path, rules: Rules | None = None, sites: Iterable[str] | None = None) -> Roster:
    """Parse and validate a roster against the flow's `rules` and `sites` (the bundled flow's
    when not given); raises RosterError with every problem found."""
    import hashlib

    rules = rules or Rules()
    sites = list(sites) if sites is not None else default_sites()
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM, as Excel writes, is not a field
    except FileNotFoundError:
        raise RosterError([f"{path}: no such roster file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError([f"{path}: cannot read the roster ({exc})"]) from None
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    pool: list[Endpoint] = []
    if path.suffix.lower() == ".csv":
        raw, problems = parse_csv(name, text)
    elif path.suffix.lower() in (".yaml", ".yml"):
        raw, problems = parse_yaml(name, text)
        pool, bad_pool = parse_roster_pool(name, text)
        problems += bad_pool
    else:
        raise RosterError([f"{path}: a roster is a .yaml, .yml or .csv file"])
    entries: list[Entry] = []
    seen_ids: dict[str, int] = {}
    seen_keys: dict[tuple[str, str, str, str], str] = {}
    for item, lines in raw:
        where = lines.get("", 0)
        rid = item.get("id")
        if isinstance(rid, str | int) and str(rid) in seen_ids:
            problems.append(
                f"{name}:{lines.get('id', where)}: id {str(rid)!r} is used twice "
                f"(first on line {seen_ids[str(rid)]})"
            )
        elif isinstance(rid, str | int):
            seen_ids[str(rid)] = lines.get("id", where)
        for entry in check_entry(name, item, lines, rules, sites, problems):
            # A REST entry's client is known once its `from` is: checked below.
            owner = entry.profile or entry.cdp or entry.login_state or ""
            if entry.rest is not None or _unique(name, entry, owner, seen_keys, problems):
                entries.append(entry)
    # REST entries once every entry is known: `from` may name one further down.
    by_id = {e.id: e for e in entries}
    for entry in [e for e in entries if e.rest is not None]:
        assert entry.rest is not None
        src = entry.rest.from_id
        at = f"{name}:{entry.from_line}: {entry.id}"
        ref = by_id.get(src)
        if src in seen_ids and ref is None:
            continue  # that entry has problems of its own, reported above
        if ref is not None and ref.rest is not None:
            problems.append(
                f"{at}: from {src!r} is itself a sub_accounts_via: rest entry; name the entry "
                "(or vault record) of the client's main-account key"
            )
            continue
        if ref is not None and ref.accounts != ["main"]:
            problems.append(
                f"{at}: from {src!r} makes sub-account keys ({ref.account}); name the entry "
                "(or vault record) of the client's main-account key"
            )
            continue
        entry.after = src if ref is not None else None
        # The client is the one whose main key signs: its entry's browser, or its record.
        owner = (ref.profile or ref.cdp or "") if ref is not None else f"record:{src}"
        if not _unique(name, entry, owner, seen_keys, problems):
            entries.remove(entry)
    if not raw and not problems:
        problems.append(f"{name}: the roster has no entries")
    if problems:
        raise RosterError(sorted(problems, key=line_of))
    return Roster(path.resolve(), entries, digest, pool)


def _unique(
    name: str,
    entry: Entry,
    owner: str,
    seen: dict[tuple[str, str, str, str], str],
    problems: list[str],
) -> bool:
    """Records the entry's keys; False (with a problem) when another entry makes one of
    them (same client, place, account and label): a batch never makes a key twice."""
    keys = [(owner, entry.request.base_url or entry.request.site, acct, entry.label)
            for acct in entry.accounts]  # fmt: skip
    twice = next((k for k in keys if k in seen), None)
    if twice is not None:
        problems.append(
            f"{name}:{entry.line}: {entry.id}: the same key (label {entry.label!r}, account "
            f"{twice[2]}, same profile) is already entry {seen[twice]!r}"
        )
        return False
    seen.update((k, entry.id) for k in keys)
    return True
