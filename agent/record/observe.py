"""Recording while the engine runs the flow: the recorder watches the run through its hooks
(it never changes what the run does) and snapshots each stage as the flow reaches it.

Used by `onboard record --drive` (and `onboard run --record`): the flow runs as usual;
after the keys page opens, before submit, at every verification step, before the capture
and after the final check the page is snapshotted (in memory; written redacted at the end).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agent.config import Settings
from agent.engine.context import Context, Vars
from agent.engine.flow import Flow, Step
from agent.engine.human import CodeSources
from agent.engine.runner import Runner
from agent.exitcodes import AgentError
from agent.passphrase import generate
from agent.record.recorder import Recorder, RecordError
from agent.session import open_session


class _RecordingCodes(CodeSources):
    """The run's code sources, each code given also registered as a value to redact."""

    def __init__(self, inner: CodeSources, recorder: Recorder) -> None:
        super().__init__(inner.totp_secret_env, inner.sms_cmd, inner.email_cmd, inner.prompt)
        self._recorder = recorder

    def get(
        self, factor: str, reporter: Any, name: str | None = None, timeout: float | None = None
    ) -> str:
        code = super().get(factor, reporter, name, timeout)
        self._recorder.add_secret(code)
        return code


def observe(run: Context, recorder: Recorder) -> None:
    """Attach `recorder` to a run that has not started: each stage snapshotted once."""
    run.opts.codes = _RecordingCodes(run.opts.codes, recorder)
    recorder.add_secret(run.vars.get("passphrase"))

    def snap(stage: str) -> None:
        if not recorder.has(stage):
            recorder.snapshot(run.page, stage)

    def before(step: Step) -> None:
        if step.click and step.click.by == "submit":
            snap("create-form")
        elif step.capture:
            snap("created")

    def after(step: Step) -> None:
        if step.navigate:
            snap("keys")
        elif step.assert_ and step.assert_.present is not None and recorder.has("created"):
            snap("keys-listed")

    run.hooks.before_step.append(before)
    run.hooks.after_step.append(after)
    run.hooks.on_factor.append(lambda factor: snap(f"verify-{factor}"))


def drive(
    flow: Flow,
    base_url: str,
    out: Path,
    label: str,
    ips: list[str],
    session: Any,
    options: Any,
    reporter: Any,
    stand_in: Any = None,
    known: Iterable[str] = (),
    site: str | None = None,
    force: bool = False,
    settings: Any = None,
) -> tuple[Path, str | None]:
    """Run the flow with the engine and record every stage it passes through.

    Returns (set directory, None) or (set directory, why it stopped) when the flow broke
    part-way: what was recorded up to there is still written (redacted).
    """
    passphrase = generate(max(24, flow.rules.passphrase_min), flow.rules.passphrase_max)
    perms = [flow.permissions["read"], flow.permissions["trade"]]
    vars = Vars(
        label=label,
        ips=list(ips),
        account_text=flow.main_account,
        sub_account=None,
        passphrase=passphrase,
        permissions_text=", ".join(perms),
    )
    rec = Recorder(out, flow, site or base_url, dict(vars), known=[passphrase, *known])

    def on_capture(records: list[dict[str, str]], _first: int = 0, _count: int = 0) -> None:
        for r in records:  # never stored: the key is only a fixture; delete it on the site
            rec.add_secret(r.get("api_key"), r.get("secret"))

    stopped = None
    with open_session(session, settings or Settings(), base_url) as (_ctx, page):
        runner = Runner(
            page, flow, vars, base_url, [*flow.origins, base_url], options, reporter, on_capture,
            stand_in,
        )  # fmt: skip
        observe(runner, rec)
        try:
            runner.run()
        except AgentError as err:
            stopped = err.message
    if stopped and not rec.snaps:
        raise RecordError(f"nothing recorded: {stopped}")
    return rec.write(force=force), stopped
