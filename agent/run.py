"""One onboarding: validate, open the client's browser, run the flow, store, check.

This is the orchestration layer; the CLI, the demo and the batch runner call
`execute`. It returns a result with no secrets in it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from agent import faults
from agent.artifacts import RunArtifacts
from agent.config import Settings
from agent.custody import redact
from agent.custody.sinks import Sink
from agent.custody.vault import Credential, Vault, VaultError, held_message
from agent.engine.context import Vars
from agent.engine.flow import Flow, is_bundled
from agent.engine.human import Reporter, StandIn
from agent.engine.runner import Runner
from agent.exchanges import rest_permissions
from agent.exitcodes import AgentError, Exit
from agent.journal import LOST, Journal, verdict
from agent.passphrase import generate
from agent.plan import RunPlan as RunPlan
from agent.plan import build_plan as build_plan
from agent.plan import plan_sink, plan_target, trading_query
from agent.plan import preflight as preflight
from agent.run_end import (
    beyond_requested,
    compare_shown,
    hold_for_copy,
    prepare_signed_rest,
    signed_rest,
    stopped_screenshot,
    write_recording,
)
from agent.session import open_session


def _stored(sink: Sink, refs: list[str], ok: bool) -> str:
    """Where the keys are, once the run's checks are known: the sink's `finish` (an okx-toml
    profile is written only now, and only when `ok`) said after the records' place."""
    note = sink.finish(ok)
    return sink.describe(refs) + (f"; {note}" if note else "")


def execute(
    plan: RunPlan,
    reporter: Reporter,
    settings: Settings | None = None,
    stand_in: StandIn | None = None,
    flow: Flow | None = None,
    vault: Vault | None = None,
    on_state: Callable[[str], None] | None = None,
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One onboarding. `on_state(state)` hears every journal transition (the batch's live
    table); `tags` (batch_id, entry_id) are written into the run's journal row."""
    settings = settings or Settings()
    notify = on_state or (lambda _state: None)
    if flow is None or vault is None:
        flow, vault = preflight(plan, settings)
    sink = plan_sink(plan, vault, settings)
    req = plan.request
    base, origins = plan_target(flow, req)
    if req.base_url:
        reporter.warn(f"TEST TARGET: acting on {req.base_url} instead of the real exchange")
    if not is_bundled(plan.flow):
        reporter.warn(
            f"CUSTOM FLOW: {plan.flow} (not the bundled okx flow); the engine still makes keys "
            "with exactly Read + Trade and reads every permission back before submit"
        )
    # One key per account; several accounts are drafted together and submitted at once.
    # Each key gets its own passphrase (or the client's, when they chose one).
    drafts: list[dict[str, Any]] = []
    for sub in req.accounts:
        phrase = req.passphrase or generate(
            max(24, flow.rules.passphrase_min), flow.rules.passphrase_max
        )
        redact.register_secret(phrase)
        drafts.append(
            dict(label=req.label, account_text=sub or flow.main_account, sub_account=sub,
                 account=sub or "main", passphrase=phrase)
        )  # fmt: skip
    account = ", ".join(d["account"] for d in drafts)
    perms = [flow.permissions["read"], flow.permissions["trade"]]
    rest_perms = rest_permissions(flow)  # the same two, in the REST API's words
    vars = Vars(
        **drafts[0],
        ips=list(req.ips),
        permissions_text=", ".join(perms),
        multi_draft=len(drafts) > 1,
    )
    result: dict[str, Any] = {
        "status": "failed",
        "exchange": flow.exchange,
        "site": req.site,
        "base_url": base,
        "flow": plan.flow if is_bundled(plan.flow) else f"CUSTOM: {plan.flow}",
        "label": req.label,
        "account": account,
        "permissions": rest_perms,
        "ips": list(req.ips),
        "vault_ids": [],
        "verification": {},
    }
    try:
        # Again for each run: a batch preflights its first entry only, and each entry's
        # okx-toml profile (PREFIX-<entry id>) is its own. Before the journal and the browser.
        sink.check()
        # set here, whoever preflighted (a batch: its first entry only)
        plan.options.trading_query = trading_query(plan, flow)
        plan.options.demo = req.demo
    except VaultError as exc:
        result.update(message=str(exc), exit_code=int(Exit.BAD_INPUT))
        return result
    except AgentError as exc:
        result.update(message=exc.message, exit_code=int(exc.code))
        return result
    stored: list[str] = []
    creds: dict[str, Credential] = {}  # for the signed REST check: no need to decrypt again

    recorder = None
    if plan.record is not None:
        from agent.record import Recorder

        where = base if req.base_url else req.site
        recorder = Recorder(plan.record, flow, where, dict(vars),
                            known=[d["passphrase"] for d in drafts])  # fmt: skip

    def on_capture(records: list[dict[str, str]], first: int = 0, count: int = 0) -> None:
        """The `count` keys shown for drafts[first:]: all at once, or one per submission."""
        count = count or len(drafts)
        for rec in records:
            redact.register_secret(rec.get("secret"))
            redact.register_key(rec.get("api_key"))
            if recorder is not None:
                recorder.add_secret(rec.get("api_key"), rec.get("secret"))
        faults.point("capture:before-store")
        if len(records) != count:
            # Never lose a shown key: store each (matched by position where possible), then stop.
            reporter.warn(
                f"the exchange shows {len(records)} key(s) for {count} draft(s); storing all"
            )
        for k, rec in enumerate(records):
            d = drafts[min(first + k, len(drafts) - 1)]
            cred = Credential(
                exchange=flow.exchange,
                site=req.site,
                base_url=req.base_url,
                account=d["account"],
                label=req.label,
                api_key=rec["api_key"],
                secret=rec["secret"],
                passphrase=d["passphrase"],
                permissions=list(rest_perms),
                ips=list(req.ips),
                demo=req.demo,
            )
            try:
                stored.append(sink.store(cred, run_id=art.id))
                creds[stored[-1]] = cred
            except VaultError as exc:
                raise AgentError(
                    f"{exc}. Complete was NOT clicked: copy the API key and secret from the "
                    "window now (the secret is shown only once)",
                    Exit.CUSTODY_FAILED,
                ) from None
        journal.set(art.id, "stored", vault_ids=stored)
        notify("stored")
        reporter.info(f"stored encrypted in the vault before continuing: {', '.join(stored)}")
        if plan.verify_rest and sink.name == "vault":
            prepare_signed_rest()  # its client loads while the browser finishes
        if len(records) != count:
            raise AgentError(
                f"the exchange shows {len(records)} key(s) for {count} draft(s); all are "
                f"stored ({', '.join(stored)}); check each on the exchange before using it",
                Exit.VERIFY_FAILED,
            )

    started = time.monotonic()
    art = RunArtifacts(
        settings.runs_dir,
        trace=plan.trace,
        fast_shots=plan.session.headless and plan.session.cdp is None,
    )
    result["run_id"] = art.id
    result["artifacts"] = str(art.dir)
    art.log("start", label=req.label, account=account, base_url=base, ips=list(req.ips))
    journal = Journal(settings.journal_file)
    journal.start(art.id, req.label, account, base, **(tags or {}))
    notify("pending")

    def journal_state(state: str) -> None:
        journal.set(art.id, state)
        art.log("state", state=state)
        notify(state)

    try:
        reporter.step(0, 0, "Starting the browser", "running")  # the first seconds, said
        with open_session(plan.session, settings, base) as (ctx, page):
            art.attach(ctx)
            runner = Runner(
                page, flow, vars, base, origins, plan.options, reporter, on_capture, stand_in, art,
                journal_state, drafts=drafts,
            )  # fmt: skip
            if recorder is not None:
                from agent.record import observe

                observe(runner, recorder)
            try:
                out = runner.run()
            except AgentError as err:
                stopped_screenshot(art, page, runner)
                if err.code == Exit.CUSTODY_FAILED and not plan.session.headless:
                    hold_for_copy(page, reporter, err.message, plan.options.human_timeout)
                _settle_after_submit(journal, art.id, runner, reporter)
                raise
            finally:
                art.close()
                if recorder is not None:
                    result["recorded"] = write_recording(recorder, reporter)
    except AgentError as err:
        if err.code == Exit.EXCHANGE_REFUSED and not stored:
            # The flow's duplicate-name check (it looks for the label on the key list) says
            # "delete it"; after a kill the vault may hold that key's working credentials.
            dups = [
                st.assert_.message
                for st in flow.steps
                if st.assert_
                and st.assert_.absent
                and "{label}" in st.assert_.absent.model_dump_json()
            ]
            if any(err.message == vars.sub(m) for m in dups):
                try:
                    held = vault.holding(flow.exchange, req.site, req.base_url,
                                         str(vars["account"]), req.label)  # fmt: skip
                except VaultError:
                    held = []
                if held:
                    err = AgentError(held_message(req.label, held), err.code)
        result.update(message=err.message, exit_code=int(err.code), vault_ids=stored)
        if stored:
            result["stored"] = _stored(sink, stored, ok=False)
        journal.set(art.id, "failed", note=err.message)
        notify("failed")
        row = journal.get(art.id) or {}
        result["journal"] = verdict(row)
        if row.get("reached") in LOST:
            reporter.warn(result["journal"])
        journal.close()
        art.log("result", **result)
        return result
    rec = out.records[0] if out.records else {}
    shown_all = [compare_shown(d, perms, req.ips) for d in out.displayed] or ["not read"]
    checks = {
        "form audit": "ok"
        if out.audit and all(v == "ok" for v in out.audit.values())
        else "not run",
        "shown by exchange": next((c for c in shown_all if c != "ok"), "ok"),
        "key list": "ok" if out.listed else "not confirmed",
        "signed REST": "not run (--verify, or `onboard verify ID` from a whitelisted host)",
    }
    if plan.verify_rest and creds:
        checks["signed REST"] = (
            signed_rest(vault, creds, reporter)
            if sink.name == "vault"
            else f"not run (sink: {sink.name}; verify from the firm's store)"
        )
    ok = (
        checks["shown by exchange"] == "ok"
        and checks["key list"] == "ok"
        and not checks["signed REST"].startswith("failed")
    )
    message = (
        "" if ok else "created and stored, but what the exchange shows differs from the request"
    )
    beyond = beyond_requested(out.displayed, perms) or (
        "the signed REST check shows the withdraw permission"
        if "CRITICAL" in checks["signed REST"]
        else ""
    )
    if beyond:
        # More than Read + Trade: no one may use this key. Said once, plainly, and recorded.
        if sink.name == "vault":
            for rid in stored:
                vault.mark_unusable(rid, beyond)
        masked = ", ".join(redact.mask_key(r.get("api_key", "")) for r in out.records)
        message = f"DELETE THIS KEY NOW on the exchange ({masked}): {beyond}" + (
            "; its vault record is marked unusable" if sink.name == "vault" else ""
        )
        reporter.warn(message)
        ok = False
    result.update(
        status="ok" if ok else "failed",
        exit_code=int(Exit.OK if ok else Exit.VERIFY_FAILED),
        message=message,
        api_key_masked=redact.mask_key(rec.get("api_key", "")),
        keys=[
            {
                "account": drafts[min(k, len(drafts) - 1)]["account"],
                "api_key_masked": redact.mask_key(r.get("api_key", "")),
                "vault_id": stored[k] if k < len(stored) else "",
            }
            for k, r in enumerate(out.records)
        ],
        vault_ids=stored,
        stored=_stored(sink, stored, ok),
        verification=checks,
        factors=out.factors,
        seconds=round(time.monotonic() - started, 2),
        capture_to_disk_ms=round(out.timings.get("capture_to_disk", 0) * 1000, 1),
        step_seconds={k: round(v, 3) for k, v in out.timings.items() if k != "capture_to_disk"},
    )
    journal.set(art.id, "verified" if ok else "confirmed", note=result["message"])
    notify("verified" if ok else "confirmed")
    journal.close()
    art.log("result", **result)
    return result


def _settle_after_submit(journal: Journal, run_id: str, runner: Runner, reporter: Reporter) -> None:
    """A stop after submit, before any key was shown: read the key list before anyone is told
    to delete a key. None there means nothing was created (the verification never finished)."""
    row = journal.get(run_id) or {}
    if row.get("reached") not in ("submitted", "verifying-human") or runner.out.records:
        return
    try:
        listed = runner.label_listed()
    except Exception:
        listed = None  # the page is gone: the journal's advice stands
    if listed is False:
        journal.set(run_id, "not-created")
        reporter.info("the key list shows no such key: nothing was created")
