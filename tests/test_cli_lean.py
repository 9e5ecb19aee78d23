"""`onboard run`'s own Python work before the browser, kept to what the run needs: the flow
file parsed once (with libyaml when PyYAML has it), and typer's option values settled without a
pydantic adapter per option (agent.cli_coerce) while every refusal stays the one it was; and
the end: the process left without the interpreter's teardown (agent.leave).

In-process (typer's CliRunner on agent.cli.app), with Playwright replaced by a tripwire: the
cases stop at a refusal before any browser."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import playwright.sync_api
import pytest
import typer._coercion
import typer.core
import yaml
from click.testing import Result
from typer.testing import CliRunner

import agent.session
from agent.cli import app
from agent.engine import flow as flow_mod

OK = ["--label", "ICG-MM", "--ip", "203.0.113.7", "--allow-private-ip", "--headless", "--pace", "0"]
# Stopped by preflight (after the request was checked against the flow): nothing opens.
UNSET = "ONBOARD_LEAN_TEST_UNSET"  # no ONBOARD_* variable reaches the command
TO_PREFLIGHT = [*OK, "--totp-secret-env", UNSET]
PREFLIGHT_REFUSAL = f"error: --totp-secret-env {UNSET}: that variable is not set"


@pytest.fixture
def invoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    def tripwire(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("a browser was about to start")

    monkeypatch.setattr(playwright.sync_api, "sync_playwright", tripwire)
    monkeypatch.setattr(agent.session, "sync_playwright", tripwire)
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("ONBOARD_")}
    env.update(ONBOARD_HOME=str(tmp_path / "home"), NO_COLOR="1", COLUMNS="200", TERM="dumb")

    def run(*args: str) -> Result:
        return CliRunner().invoke(app, ["run", *args], env=env)

    return run


@pytest.fixture
def adapters(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The annotations typer built a pydantic adapter for, in order."""
    built: list[Any] = []
    real = typer._coercion.build_runtime_param

    def counting(desc: Any) -> Any:
        built.append(desc.annotation)
        return real(desc)

    monkeypatch.setattr(typer.core, "build_runtime_param", counting)
    return built


def test_run_parses_its_flow_once(invoke: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[Path] = []
    real = flow_mod.load_flow
    monkeypatch.setattr(flow_mod, "load_flow", lambda p: loads.append(p) or real(p))
    res = invoke(*TO_PREFLIGHT)
    assert res.stderr.splitlines() == [PREFLIGHT_REFUSAL]
    assert [p.name for p in loads] == ["okx.yaml"]


def test_flow_is_parsed_by_libyaml_when_there(monkeypatch: pytest.MonkeyPatch) -> None:
    if getattr(yaml, "CSafeLoader", None) is None:
        pytest.skip("this PyYAML has no libyaml")
    pure = flow_mod.load_named("okx")

    def refused(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("the pure-Python loader parsed a valid flow")

    monkeypatch.setattr(yaml, "safe_load", refused)
    assert flow_mod.load_named("okx") == pure  # the same flow, without the slow loader


def test_broken_flow_says_the_pure_python_loaders_error(tmp_path: Path) -> None:
    """libyaml words some problems differently: a refused text is said as before."""
    p = tmp_path / "f.yaml"
    p.write_text("exchange: okx\nsteps: [a, b\n")
    with pytest.raises(flow_mod.FlowError) as err:
        flow_mod.load_flow(p)
    assert str(err.value) == f"{p}:3: not valid YAML (expected ',' or ']', but got '<stream end>')"


def test_run_options_need_no_pydantic_adapter(invoke: Any, adapters: list[Any]) -> None:
    """Text options, texts, defaults, options not given and onboard's own parsers (--pace):
    typer built 25 adapters for these before; none is needed."""
    res = invoke(*TO_PREFLIGHT, "--profile", "p", "--base-url", "http://127.0.0.1:9/",
                 "--sms-code-cmd", "a b", "--email-code-cmd", "c")  # fmt: skip
    assert res.stderr.splitlines() == [PREFLIGHT_REFUSAL]
    assert adapters == []


HELP = " (see `onboard run -h`)"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--pace", "nan"], "--pace': 'nan' is not a finite number"),
        (["--pace", "-1"], "--pace': '-1': give a number between 0 and 10"),
        (["--site", "mars"], "--site': 'mars' is not one of 'global', 'eea', 'us'"),
        (["--sink", "nowhere"], None),
    ],
)
def test_refusals_are_typers_own(invoke: Any, args: list[str], line: str | None) -> None:
    """A value onboard's parser refuses, or a choice typer checks, is refused as it was."""
    res = invoke(*OK, *args)
    assert res.exit_code == 2
    got = res.stderr.splitlines()
    assert len(got) == 1 and got[0].startswith("error: Invalid value for "), got
    if line is not None:
        assert got[0] == f"error: Invalid value for '{line}{HELP}"


def test_given_values_arrive_as_typer_gave_them(
    invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the command receives: numbers parsed by onboard's parsers, lists as lists, the
    site's default as its member, options not given as None."""
    import agent.plan
    import agent.request
    from agent.choices import Site

    seen: dict[str, Any] = {}
    real_request = agent.request.build_request

    def request(values: dict[str, Any], *_a: Any) -> None:
        seen.update(values)
        raise SystemExit(0)

    monkeypatch.setattr(agent.request, "build_request", request)
    res = invoke(*OK, "--ip", "198.51.100.1")
    assert res.exit_code == 0, res.stderr
    assert seen["label"] == "ICG-MM"
    assert seen["ips"] == ["203.0.113.7", "198.51.100.1"]
    assert seen["site"] == str(Site.GLOBAL)
    assert seen["base_url"] is None and seen["sub_accounts"] == []

    def plan(_req: Any, _spec: Any, **kw: Any) -> None:
        seen.update(kw)
        raise SystemExit(0)

    monkeypatch.setattr(agent.request, "build_request", real_request)
    monkeypatch.setattr(agent.plan, "build_plan", plan)
    res = invoke(*OK, "--login-timeout", "30", "--sms-code-cmd", "a b")
    assert res.exit_code == 0, res.stderr
    assert seen["pace"] == 0.0 and isinstance(seen["pace"], float)
    assert seen["login_timeout"] == 30 and seen["human_timeout"] == 600
    assert seen["flow"] == "okx" and seen["sink"] == "vault"
    assert seen["codes"].sms_cmd == "a b" and seen["record"] is None


# -- leaving: the process ends without the interpreter's teardown (agent.leave) --------------
LEAVING = """
import atexit, sys
class Torn:
    def __del__(self):
        sys.stdout.write("torn down\\n")
torn = Torn()
atexit.register(lambda: sys.stdout.write("atexit ran\\n"))
sys.stdout.write("unflushed ")
sys.argv = ["onboard", *sys.argv[1:]]
from agent.cli import main
main()
"""


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONBOARD_")}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=env, timeout=120)  # fmt: skip


def test_the_cli_leaves_without_teardown() -> None:
    """The atexit handlers run and the output is flushed; the teardown is skipped."""
    from agent import __version__

    done = _python(LEAVING, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"unflushed onboard {__version__}\natexit ran\n"


def test_the_cli_leaves_with_its_exit_code() -> None:
    done = _python(LEAVING, "run", "--ip", "203.0.113.7")
    assert done.returncode == 2
    assert done.stdout == "unflushed atexit ran\n"
    assert "--label" in done.stderr


def test_a_running_thread_means_a_normal_exit() -> None:
    """A non-daemon thread still at work: `leave` declines, the exit waits for the thread."""
    code = """
import sys, threading
from agent.leave import leave
gate = threading.Event()
def work():
    gate.wait()
    sys.stdout.write("thread done\\n")
threading.Thread(target=work).start()
leave(0)
sys.stdout.write("declined\\n")
gate.set()
"""
    done = _python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "declined\nthread done\n"


def test_the_progress_console_loads_no_panel_or_table() -> None:
    """rich's panel and table are the final panel's (not printed with --json): loaded then."""
    code = (
        "import sys; import agent.console\n"
        "assert not {'rich.panel', 'rich.table', 'rich.status'} & set(sys.modules)\n"
        "agent.console.ConsoleReporter().panel({'status': 'ok', 'label': 'x'})\n"
        "assert {'rich.panel', 'rich.table'} <= set(sys.modules)\n"
    )
    done = _python(code)
    assert done.returncode == 0, done.stderr
    assert "Label" in done.stdout


def test_a_command_is_built_only_when_looked_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """typer's click command of each function (its signature, hints and options) is made
    for the command the line names, not for all of them at every start (agent.cli_lazy)."""
    import typer.main

    built: list[str] = []
    real = typer.main.get_command_from_info

    def counting(command_info: Any, **how: Any) -> Any:
        built.append(command_info.callback.__name__)
        return real(command_info, **how)

    monkeypatch.setattr(typer.main, "get_command_from_info", counting)
    assert CliRunner().invoke(app, ["--version"]).exit_code == 0
    assert built == []  # the version answered with no command built
    res = CliRunner().invoke(app, ["vault", "list", "--help"])
    assert res.exit_code == 0, res.output
    assert built == ["list_"]  # the group named on the line, and its one command


def test_help_still_lists_every_command() -> None:
    """Listing builds them (their help is read from each), in typer's order."""
    import typer.main

    group = typer.main.get_command(app)
    names = group.list_commands(None)  # type: ignore[arg-type]
    assert names[:4] == ["completion", "replica", "run", "demo"] and "vault" in names
    out = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200", "NO_COLOR": "1"}).output
    for name in names:
        assert f" {name} " in out, name


def test_no_pydantic_plugin_sees_what_the_agent_validates() -> None:
    """A pydantic plugin installed in the environment would be handed every validated input,
    the passphrase included: the agent's process loads none (agent/__init__.py)."""
    code = """
import pydantic.plugin._loader as loader

class Spy:  # an entry point in the `pydantic` group, as an installed plugin declares one
    name = value = "spy"
    group = "pydantic"

    def load(self):
        raise SystemExit("a pydantic plugin was loaded")

loader.entry_points = lambda group: [Spy()]
from agent.request import OnboardRequest

OnboardRequest(label="ICG-MM", ips=["203.0.113.7"], allow_private_ip=True, passphrase="Secret-pass-123")
print("no plugin")
"""
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert res.returncode == 0 and res.stdout.strip() == "no plugin", res.stderr[-2000:]
