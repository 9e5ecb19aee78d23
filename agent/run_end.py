"""The end of a run: what the exchange's "created" dialog showed, compared with the request
(permissions in the page's words, IPs by agent.ips' rule); the signed REST check of the keys
just stored (agent.custody.verify); and what is kept when a run stops (a masked screenshot of
where, the redacted recording, the window held open while a person copies a key that could
not be stored). None of these raises: the keys are already safe on disk, or in the person's
hands, when they run."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from agent import warm
from agent.custody import redact
from agent.engine.human import Reporter
from agent.ips import same_set
from agent.lists import split_list

if TYPE_CHECKING:
    from agent.artifacts import RunArtifacts
    from agent.custody.vault import Credential, Vault
    from agent.engine.runner import Runner


def write_recording(recorder: Any, reporter: Reporter) -> str:
    """The stages seen, redacted, as a fixture set; a failure here never fails the run."""
    if not recorder.snaps:
        return ""
    try:
        path = recorder.write()
    except Exception as exc:
        reporter.warn(redact.redact(f"the fixture set was not written: {exc}"))
        return ""
    reporter.info(f"recorded {len(recorder.snaps)} stage(s), redacted, as a fixture set: {path}")
    return str(path)


def hold_for_copy(page: Any, reporter: Reporter, message: str, limit: float) -> None:
    """Storing failed while the secret is on screen: keep the window until the human is done."""
    reporter.warn(f"{message}. Close the browser window when you have copied them.")
    try:
        page.wait_for_event("close", timeout=limit * 1000)
    except Exception:
        pass


def stopped_screenshot(art: RunArtifacts, page: Any, runner: Runner) -> None:
    """Where it stopped, for the operator; masked like every other screenshot."""
    try:
        if not page.is_closed():
            art.screenshot(page, "stopped", runner.secret_targets, whole=True)
    except Exception:
        pass  # the page may be gone; the log says where it stopped


def prepare_signed_rest() -> None:
    """Start loading the signed check's REST client in the background (the check runs after
    the browser's last steps; they overlap now)."""
    from agent.exchanges.okx import warm_ccxt

    warm_ccxt()


def signed_rest(vault: Vault, creds: dict[str, Credential], reporter: Reporter) -> str:
    """`onboard verify` for the keys just stored; never raises (the records are safe on disk)."""
    outcomes: dict[str, str] = {}
    for rid, cred in creds.items():
        try:
            from agent.custody.verify import verify_stored

            reporter.info(f"signed REST check of {rid} (GET /api/v5/account/config)")
            # In a warm batch slot the others run on during the HTTP round trips (agent.warm).
            res = warm.blocking(partial(verify_stored, vault, rid, cred, log=reporter.info))
        except Exception as exc:
            outcomes[rid] = redact.redact(f"error: {type(exc).__name__}: {exc}")
            continue
        if res.critical:
            reporter.warn(res.detail)  # starts with CRITICAL
        if res.status == "pending":
            outcomes[rid] = f"pending: run `onboard verify {rid}` from a whitelisted host"
        else:
            outcomes[rid] = redact.redact(res.verification)
    if len(outcomes) == 1:
        return next(iter(outcomes.values()))
    worst = next(
        (
            s
            for s in ("failed", "error", "pending")
            if any(o.startswith(s) for o in outcomes.values())
        ),
        "ok",
    )
    if worst == "ok":
        return "ok"
    return f"{worst}: " + "; ".join(f"{rid}: {o}" for rid, o in outcomes.items())


def beyond_requested(displayed: list[dict[str, str]], perms: list[str]) -> str:
    """What the created dialog shows beyond the requested permissions, said in words ("" if
    nothing): any other permission makes the key unusable, whatever it is called."""
    want = {p.lower() for p in perms}
    extra = sorted(
        {
            p.strip()
            for shown in displayed
            for p in split_list(shown.get("permissions"))
            if p.lower() not in want
        }
    )
    return (
        f"the exchange created it with {', '.join(extra)} besides {', '.join(perms)}"
        if extra
        else ""
    )


def compare_shown(shown: dict[str, str], perms: list[str], ips: list[str]) -> str:
    if not shown:
        return "not read"
    got_perms = split_list(shown.get("permissions"))
    got_ips = sorted(split_list(shown.get("ips")))
    problems = []
    if got_perms != perms:
        problems.append(f"permissions {got_perms}")
    if not same_set(got_ips, ips) or len(got_ips) != len(ips):
        problems.append(f"IPs {got_ips}")
    return "ok" if not problems else "MISMATCH: " + "; ".join(problems)
