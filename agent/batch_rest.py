"""A roster's `sub_accounts_via: rest` entries: `onboard subkeys` inside a batch.

Why a batch runs them: a client onboarded in the browser (its main key) usually has many
sub-accounts, and once that main key is stored and verified the rest needs no browser,
no human and no 2FA prompt. The entry runs the very code of `onboard subkeys`
(agent.subkeys: list first, one signed create, stored before anything else, then
checked), journaled as the entry's attempts in the roster's batch, so a rerun resumes it
like any entry and never makes a second key for a sub-account (it lists first).

What this module adds is only what a batch needs around it: the checks before anything
opens (the operator's consent, the vault as the place, a `from` that is a usable record),
waiting for the main key's entry to be verified, and the entry's result for the journal
and the reports.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from agent.custody import redact
from agent.custody.vault import Vault, VaultError
from agent.exitcodes import AgentError, Exit
from agent.journal import Journal
from agent.lists import split_list
from agent.roster import Entry, Roster
from agent.subkeys import (
    Consent,
    Engine,
    InputError,
    Outcome,
    exit_code,
    load_main,
    log_consent,
    run_subs,
    statement,
)

if TYPE_CHECKING:
    from agent.batch import Batch

DONE = ("stored", "confirmed", "verified")
# Where a REST run may rest: `stored` is also the end of a key found already made.
TERMINAL = ("failed", "verified", "confirmed", "stored", "refused", "not-created")
CONSENT_HOW = "onboard batch --yes"


def rest_entries(roster: Roster) -> list[Entry]:
    return [e for e in roster.entries if e.rest is not None]


def check(roster: Roster, sink: str, consent_at: float | None, vault: Vault) -> None:
    """Before anything opens: AgentError (one line, exit 2) when the batch cannot run its
    REST entries. The roster is the operator's statement, but the client's agreement is
    said on the command line (--yes) each time, as `onboard subkeys --yes` says it."""
    rest = rest_entries(roster)
    if not rest:
        return
    names = ", ".join(e.id for e in rest)
    if consent_at is None:
        raise AgentError(
            f"{roster.path.name}: the sub_accounts_via: rest entries ({names}) create keys "
            "over OKX's REST API with each client's main key, with no one at a prompt: pass "
            "--yes once each client has agreed",
            Exit.BAD_INPUT,
        )
    if sink != "vault":
        raise AgentError(
            f"--sink {sink}: the sub_accounts_via: rest entries ({names}) read the main key "
            "from the vault and store their keys there: use --sink vault",
            Exit.BAD_INPUT,
        )
    for e in rest:
        assert e.rest is not None
        if e.after is not None:
            continue  # the main key is made by the batch itself
        at = f"{roster.path.name}:{e.from_line}: {e.id}"
        src = e.rest.from_id
        if not vault.exists(src):
            raise AgentError(
                f"{at}: from {src!r} is neither an entry of this roster nor a record in the "
                f"vault at {vault.dir}",
                Exit.BAD_INPUT,
            )
        try:
            load_main(vault, src)
        except InputError as exc:
            line = f"{at}: {str(exc).replace('--from ', 'from ', 1)}"
            raise AgentError(line, Exit.BAD_INPUT) from None


def done(runs: Sequence[dict[str, Any]], subs: Sequence[str]) -> bool:
    """Every sub-account's last attempt stored its key (or found it stored): nothing to do.
    Anything else runs again, and the engine's list-first makes that safe."""
    last: dict[str, dict[str, Any]] = {}
    for r in runs:
        last[str(r["account"])] = r
    return all((last.get(s) or {}).get("reached") in DONE for s in subs)


def main_key(
    e: Entry,
    outcome: str | None,
    runs: Sequence[dict[str, Any]],
    records: Sequence[dict[str, Any]],
    vault: Vault,
) -> tuple[str | None, str]:
    """The vault record of the main key that signs, or why the entry cannot run yet.

    `from` a record: that record (checked before the batch started). `from` an entry: its
    key, once that entry ended ok (or was done before) and the key is verified: its run
    reached `verified`, or `onboard verify` has since recorded ok."""
    assert e.rest is not None
    if e.after is None:
        return e.rest.from_id, ""
    src = e.after
    if outcome not in ("ok", "skipped") or not runs:
        return None, (
            f"not run: entry {src!r} (the client's main key) did not end ok "
            f"({outcome or 'not run'}); re-run the batch once it has"
        )
    row = runs[-1]
    ids = split_list(row.get("vault_ids"))
    ids = ids or [str(r["id"]) for r in records if not r.get("error")]
    if not ids:
        return None, f"not run: entry {src!r} has no key in the vault"
    rid = ids[0]
    if row.get("reached") == "verified":
        return rid, ""
    try:
        meta = vault.meta(rid)
    except VaultError as exc:
        return None, f"not run: the main key of entry {src!r}: {exc}"
    if meta.get("verification") == "ok" and not meta.get("unusable"):
        return rid, ""
    return None, (
        f"not run: the main key of entry {src!r} ({rid}) is stored but not verified "
        f"(reached {row.get('reached') or row.get('state')}); check it with `onboard verify "
        f"{rid}` from one of its IPs, then re-run the batch"
    )


def run_entry(
    e: Entry,
    main_id: str,
    vault: Vault,
    journal: Journal,
    batch_id: str,
    consent_at: float,
    stop: Callable[[], str | None],
    progress: Callable[[int, int, Outcome], None],
) -> dict[str, Any]:
    """The entry's keys through agent.subkeys, as the entry's attempts in the batch; the
    result in the shape the batch journals (`outcome`: ok | failed | flagged | interrupted)."""
    assert e.rest is not None
    started = time.monotonic()
    plan = replace(e.rest, from_id=main_id)
    subs = list(plan.sub_accounts)
    try:
        main = load_main(vault, main_id)
    except InputError as exc:
        return _failed(str(exc).replace("--from ", "from ", 1), started)
    engine = Engine(plan, vault, journal, main)
    engine.batch_id, engine.entry_id = batch_id, e.id
    consent = Consent(CONSENT_HOW, consent_at, statement(plan, main, subs, vault))
    note = log_consent(vault, plan, consent, subs)
    outcomes = run_subs(engine, subs, consent, progress, stop)
    code = exit_code(outcomes)
    bad = [o for o in outcomes if o.exit != 0]
    outcome = "ok" if code == 0 else "failed"
    if any(o.status == "flagged" for o in outcomes):
        outcome = "flagged"  # a key may exist that this vault does not hold: loudest
    elif bad and all(o.status == "skipped" for o in bad) and stop():
        outcome = "interrupted"
    checks = [o.verification for o in outcomes if o.verification and o.verification != "ok"]
    message = "; ".join(f"{o.sub_account}: {o.detail}" for o in bad)
    return {
        "status": "ok" if code == 0 else "failed",
        "exit_code": code,
        "outcome": outcome,
        "message": redact.redact(message + (f"; note: {note}" if note else "")),
        "vault_ids": [o.record_id for o in outcomes if o.record_id],
        "api_key_masked": ", ".join(o.api_key_masked for o in outcomes if o.api_key_masked),
        "keys": [
            {
                "account": o.sub_account,
                "api_key_masked": o.api_key_masked,
                "vault_id": o.record_id,
                "status": o.status,
            }
            for o in outcomes
        ],
        "verification": {"signed REST": checks[0] if checks else "ok"},
        "seconds": round(time.monotonic() - started, 2),
    }


def _failed(message: str, started: float) -> dict[str, Any]:
    return {
        "status": "failed",
        "exit_code": int(Exit.FAILED),
        "outcome": "failed",
        "message": redact.redact(message),
        "seconds": round(time.monotonic() - started, 2),
    }


def worker(
    batch: Batch,
    e: Entry,
    slot: int,
    main_id: str | None,
    why: str,
    vault: Any,
    done_q: queue.Queue[tuple[Entry, int, dict[str, Any]]],
) -> None:
    """A `sub_accounts_via: rest` entry (agent.batch_rest): no browser; a progress line
    per key on the board; stops between keys on Ctrl-C or when its time is up."""
    limit = e.timeout or batch.opts.entry_timeout
    deadline = time.monotonic() + limit if limit else None
    batch.board.update(
        e.id, f"{e.id}: started (REST)", started=time.monotonic(), ended=None, outcome=""
    )

    def stop() -> str | None:
        if batch.stop.soft.is_set():
            return "stopped by the operator (Ctrl-C)"
        if deadline is not None and time.monotonic() > deadline:
            return f"the entry ran out of time ({limit:.0f} s per entry)"
        return None

    def progress(i: int, n: int, o: Outcome) -> None:
        batch.board.update(
            e.id,
            f"{e.id}: [{i}/{n}] {o.sub_account}: {o.status}: {o.detail}",
            step=f"{i}/{n} {o.sub_account}",
            state=o.status,
        )

    if main_id is None:
        result: dict[str, Any] = {"status": "failed", "exit_code": int(Exit.FAILED),
                                  "outcome": "failed", "message": why}  # fmt: skip
    else:
        journal = Journal(batch.settings.journal_file)
        try:
            assert batch.opts.consent_at is not None  # batch_rest.check said so
            result = run_entry(
                e, main_id, vault, journal, batch.batch_id, batch.opts.consent_at, stop,
                progress,
            )  # fmt: skip
        except Exception as exc:  # the vault or the network failing beyond the engine
            result = {
                "status": "failed",
                "exit_code": int(Exit.FAILED),
                "outcome": "failed",
                "message": redact.redact(f"{type(exc).__name__}: {exc}".splitlines()[0]),
            }
        finally:
            journal.close()
    done_q.put((e, slot, result))
