"""`--browser-ws`: the browser comes from a Playwright browser server (`playwright run-server`).

The servers here run on loopback, in their own process group, started with the Python
package's own CLI. With `--unsafe` a server honours the executable path the agent sends
(this machine's Chromium); without it, it launches only its own Playwright browsers.
A remote context holds no login: the replica's `logged-in` scenario stands in for a
browser that already has the session, and one test has the scripted client log in
inside the remote page, as the human would.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from agent import roster
from agent.batch import Batch, BatchOptions
from agent.browser import BrowserChoice
from agent.config import Settings
from agent.console import ConsoleReporter
from agent.custody.vault import Vault
from agent.engine.human import CodeSources
from agent.engine.runner import Options
from agent.exitcodes import AgentError
from agent.request import build_request
from agent.run import RunPlan, execute
from agent.session import SessionSpec, _remote_failure, endpoint
from replica.client import ScriptedClient
from tests.helpers import CLIENT, in_thread, onboard

from .conftest import CLEANED_UP, LAUNCHED, closed_port, issued, write_roster


def nothing_opened(home: Path, proc: subprocess.CompletedProcess[str]) -> None:
    """Refused as bad input: one line, exit 2, no run started (so no browser)."""
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: "), proc.stderr
    assert not (home / "runs").exists()


# -- the real CLI through a real run-server ------------------------------------------
@pytest.mark.slow
@pytest.mark.scenarios("logged-in", "totp-only")
def test_run_over_browser_ws(replica, tmp_path, totp_env, browser_server):
    """`onboard run --browser-ws`: the server launches the browser; the key is made and stored."""
    srv = browser_server()
    home = tmp_path / "home"
    proc = onboard(
        home,
        "run", "--label", "WS-ONE", "--ip", "203.0.113.7", "--allow-private-ip",
        "--base-url", replica.base_url,
        "--browser-ws", srv.ws, "--headless", "--pace", "0", "--auto-submit",
        "--totp-secret-env", "CLIENT_TOTP", "--login-timeout", "5", "--json",
        env=totp_env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["status"] == "ok"
    assert result["verification"]["key list"] == "ok"
    assert "waiting for the client to log in" not in proc.stderr
    assert srv.count(LAUNCHED) == 1  # the server launched the one browser of this run
    srv.wait_for(CLEANED_UP, 30)  # and the agent closed it
    [made] = issued(replica)
    assert made["label"] == "WS-ONE"
    listed = onboard(home, "vault", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    [meta] = json.loads(listed.stdout)
    assert meta["id"] == result["vault_ids"][0]
    assert meta["label"] == "WS-ONE"
    cred = Vault(Settings(home=home)).load(meta["id"])
    assert (cred.api_key, cred.secret, cred.passphrase) == (
        made["apiKey"], made["secretKey"], made["passphrase"],
    )  # fmt: skip
    for secret in (made["secretKey"], made["passphrase"]):
        assert secret not in proc.stdout + proc.stderr


@pytest.mark.slow
@pytest.mark.scenarios("logged-in", "totp-only")
def test_batch_entry_browser_ws_overrides_cli(replica, tmp_path, totp_env, browser_server):
    """`onboard batch --browser-ws A`: an entry's own browser_ws (B) wins; the other uses A."""
    a, b = browser_server(), browser_server()
    home = tmp_path / "home"
    ros = write_roster(
        tmp_path / "clients.yaml",
        [
            {"id": "by-cli", "label": "WS-A", "ips": ["203.0.113.7"]},
            {"id": "by-roster", "label": "WS-B", "ips": ["203.0.113.8"], "browser_ws": b.ws},
        ],
        base_url=replica.base_url,
        totp_secret_env="CLIENT_TOTP",
        allow_private_ip=True,
    )
    proc = onboard(
        home,
        "batch", str(ros), "--browser-ws", a.ws, "--headless", "--pace", "0", "--auto-submit",
        "--login-timeout", "5", "--json",
        env=totp_env, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert {e["id"]: e["outcome"] for e in out["entries"]} == {"by-cli": "ok", "by-roster": "ok"}
    assert (a.count(LAUNCHED), b.count(LAUNCHED)) == (1, 1)
    assert sorted(k["label"] for k in issued(replica)) == ["WS-A", "WS-B"]
    assert sorted(m["label"] for m in Vault(Settings(home=home)).list()) == ["WS-A", "WS-B"]


@pytest.mark.slow
@pytest.mark.scenarios("totp-only")
def test_login_wait_applies_in_a_remote_context(replica, tmp_path, monkeypatch, browser_server):
    """No session in a fresh remote context: the agent waits; the client logs in in that page."""
    srv = browser_server()
    acct = replica.world.accounts[CLIENT]
    monkeypatch.setenv("CLIENT_TOTP", acct.totp_secret or "")
    monkeypatch.setenv("COLUMNS", "120")
    plan = RunPlan(
        request=build_request(
            {
                "label": "WS-LOGIN",
                "ips": ["203.0.113.7"],
                "base_url": replica.base_url,
                "allow_private_ip": True,
            }
        ),
        session=SessionSpec(browser_ws=srv.ws, headless=True),
        options=Options(
            pace=0,
            auto_submit=True,
            codes=CodeSources("CLIENT_TOTP"),
            login_timeout=60,
            human_timeout=60,
            step_timeout=10,
        ),
    )
    client = ScriptedClient.for_seed(replica.base_url, acct, typing_delay_ms=0)
    settings = Settings(home=tmp_path / "home")
    result = in_thread(execute, plan, ConsoleReporter(), settings, stand_in=client)
    assert result["status"] == "ok", result.get("message")
    assert "login: email+password" in client.actions
    assert srv.count(LAUNCHED) == 1
    [made] = issued(replica)
    cred = Vault(settings).load(result["vault_ids"][0])
    assert (cred.api_key, cred.secret) == (made["apiKey"], made["secretKey"])


# -- servers that cannot give a browser: one line, exit 1, nothing created -------------
def test_server_without_a_browser_of_its_own(replica, tmp_path, browser_server):
    """Started without --unsafe, the server drops the executable path and has no browser."""
    srv = browser_server(unsafe=False, env={"PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "none")})
    home = tmp_path / "home"
    proc = onboard(
        home,
        "run", "--label", "WS-NONE", "--ip", "203.0.113.7", "--allow-private-ip",
        "--base-url", replica.base_url,
        "--browser-ws", srv.ws, "--headless", "--pace", "0", "--json",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    message = json.loads(proc.stdout)["message"]
    assert message.startswith(f"the browser server at {srv.ws} has no browser to launch (")
    assert "`playwright run-server --unsafe`" in message
    assert "\n" not in message
    assert issued(replica) == []


def test_server_not_listening(replica, tmp_path):
    port = closed_port()
    proc = onboard(
        tmp_path / "home",
        "run", "--label", "WS-DOWN", "--ip", "203.0.113.7", "--allow-private-ip",
        "--base-url", replica.base_url,
        "--browser-ws", f"ws://127.0.0.1:{port}/", "--headless", "--json",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    message = json.loads(proc.stdout)["message"]
    assert message.startswith(f"cannot use the browser server at ws://127.0.0.1:{port}/: ")
    assert "ECONNREFUSED" in message
    assert "\n" not in message


# -- bad input: one line, exit 2, before any browser --------------------------------
RUN = ["run", "--label", "WS-BAD", "--ip", "203.0.113.7", "--allow-private-ip", "--headless"]


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["--browser-ws", "http://x"],
            "error: --browser-ws 'http://x' is not a Playwright browser server URL like "
            "ws://127.0.0.1:3000/ (ws:// or wss://)",
        ),
        (
            ["--browser-ws", "ws://"],
            "error: --browser-ws 'ws://' is not a Playwright browser server URL like "
            "ws://127.0.0.1:3000/ (ws:// or wss://)",
        ),
        (
            ["--cdp", "http://127.0.0.1:9222", "--browser-ws", "ws://127.0.0.1:3000/"],
            "error: give only one of --cdp and --browser-ws",
        ),
        (
            ["--profile", "acme", "--browser-ws", "ws://127.0.0.1:3000/"],
            "error: give only one of --profile and --browser-ws (a remote browser has no local "
            "profile: it gets a fresh context)",
        ),
    ],
)
def test_run_refuses_bad_browser_ws(tmp_path, args, line):
    home = tmp_path / "home"
    proc = onboard(home, *RUN, *args)
    nothing_opened(home, proc)
    assert proc.stderr == line + "\n"


def test_batch_refuses_bad_browser_ws(tmp_path):
    home = tmp_path / "home"
    ros = write_roster(
        tmp_path / "r.yaml",
        [{"id": "a", "label": "A", "ips": ["203.0.113.7"], "allow_private_ip": True}],
    )
    proc = onboard(home, "batch", str(ros), "--browser-ws", "https://grid.example/")
    nothing_opened(home, proc)
    assert proc.stderr == (
        "error: --browser-ws 'https://grid.example/' is not a Playwright browser server URL "
        "like ws://127.0.0.1:3000/ (ws:// or wss://)\n"
    )


def test_roster_browser_ws_checked(tmp_path):
    """Each problem on its own line with the line it is on (YAML), and the same in CSV."""
    path = tmp_path / "r.yaml"
    path.write_text(
        "- id: ok\n"
        "  label: OK\n"
        "  ips: [203.0.113.7]\n"
        "  allow_private_ip: true\n"
        "  browser_ws: wss://browsers.example:443/pw\n"
        "- id: not-ws\n"
        "  label: NOT-WS\n"
        "  ips: [203.0.113.8]\n"
        "  allow_private_ip: true\n"
        "  browser_ws: http://10.0.0.5:3000/\n"
        "- id: both\n"
        "  label: BOTH\n"
        "  ips: [203.0.113.9]\n"
        "  allow_private_ip: true\n"
        "  profile: acme\n"
        "  browser_ws: wss://10.0.0.5:3000/\n"
        "- id: clear\n"
        "  label: CLEAR\n"
        "  ips: [203.0.113.10]\n"
        "  allow_private_ip: true\n"
        "  browser_ws: ws://10.0.0.5:3000/\n"
    )
    with pytest.raises(roster.RosterError) as err:
        roster.load(path)
    assert err.value.lines == [
        "r.yaml:10: not-ws: browser_ws 'http://10.0.0.5:3000/' is not a Playwright browser "
        "server URL like ws://127.0.0.1:3000/ (ws:// or wss://)",
        "r.yaml:16: both: give only one of profile, cdp and browser_ws",
        "r.yaml:21: clear: browser_ws ws://10.0.0.5:3000/: plain ws:// to another host would "
        "carry the new key's secret unencrypted; use wss:// or an SSH tunnel to a loopback port",
    ]
    csv = tmp_path / "r.csv"
    csv.write_text(
        "id,label,ips,allow_private_ip,browser_ws\n"
        "a,A,203.0.113.7,true,wss://10.0.0.5:3000/\n"
        "b,B,203.0.113.8,true,ftp://x\n"
    )
    with pytest.raises(roster.RosterError) as err:
        roster.load(csv)
    assert err.value.lines == [
        "r.csv:3: b: browser_ws 'ftp://x' is not a Playwright browser server URL like "
        "ws://127.0.0.1:3000/ (ws:// or wss://)"
    ]


def test_roster_entry_browser_ws_over_cli_default(tmp_path):
    """plan_for: the entry's browser_ws, else its profile or cdp, else the CLI's --browser-ws."""
    ros = roster.load(
        write_roster(
            tmp_path / "r.yaml",
            [
                {"id": "plain", "label": "P", "ips": ["203.0.113.7"], "allow_private_ip": True},
                {
                    "id": "own",
                    "label": "O",
                    "ips": ["203.0.113.8"],
                    "allow_private_ip": True,
                    "browser_ws": "wss://b.example/pw",
                },
                {
                    "id": "prof",
                    "label": "R",
                    "ips": ["203.0.113.9"],
                    "allow_private_ip": True,
                    "profile": "acme",
                },
            ],
        )
    )
    batch = Batch(
        ros, BatchOptions(browser_ws="wss://a.example:3000/"), Settings(home=tmp_path / "h")
    )
    got = {e.id: batch.plan_for(e).session for e in ros.entries}
    assert got["plain"].browser_ws == "wss://a.example:3000/"
    assert got["own"].browser_ws == "wss://b.example/pw"
    assert (got["prof"].browser_ws, got["prof"].profile) == (None, "acme")
    got["plain"].validate()
    got["own"].validate()


# -- what the server is asked to launch --------------------------------------------
def test_launch_options_loopback_sends_this_machines_browser(monkeypatch):
    monkeypatch.setattr(
        "agent.session.find_browser",
        lambda *a, **k: BrowserChoice("system", executable_path="/opt/x/chromium", args=[]),
    )
    spec = SessionSpec(browser_ws="ws://127.0.0.1:3000/", headless=True, extra_args=["--x"])
    opts = spec.remote_launch_options()
    assert opts["headless"] is True
    assert opts["executablePath"] == "/opt/x/chromium"
    assert opts["args"][-1] == "--x"  # type: ignore[index]
    # Playwright's own build: the server has the same one; nothing to send.
    monkeypatch.setattr(
        "agent.session.find_browser",
        lambda *a, **k: BrowserChoice(
            "playwright", executable_path="/root/ms-playwright/x", args=[]
        ),
    )
    assert (
        "executablePath"
        not in SessionSpec(browser_ws="ws://localhost:3000/").remote_launch_options()
    )


def test_launch_options_remote_host_sends_only_what_was_asked(monkeypatch):
    def boom(*a: object, **k: object) -> None:
        raise AssertionError("this machine's browser means nothing to another host")

    monkeypatch.setattr("agent.session.find_browser", boom)
    opts = SessionSpec(browser_ws="wss://10.0.0.5:3000/").remote_launch_options()
    assert "executablePath" not in opts and "channel" not in opts
    assert opts["headless"] is False
    spec = SessionSpec(browser_ws="wss://10.0.0.5:3000/", executable="/srv/chrome/chrome")
    spec.validate()  # a path on the server's machine: not checked here
    assert spec.remote_launch_options()["executablePath"] == "/srv/chrome/chrome"
    opts = SessionSpec(browser_ws="wss://10.0.0.5:3000/", channel="chrome").remote_launch_options()
    assert opts["channel"] == "chrome"
    with pytest.raises(AgentError, match="no such file"):
        SessionSpec(executable="/srv/chrome/chrome").validate()  # local: checked


def test_messages_never_show_the_urls_credentials_or_query():
    url = "wss://grid.example:443/pw?token=abc"
    SessionSpec(browser_ws=url).validate()  # a service's URL with a token is a valid URL
    assert endpoint(url) == "wss://grid.example:443/pw"
    # credentials as user info are refused, and never echoed
    with pytest.raises(AgentError) as err:
        SessionSpec(browser_ws="wss://u:tok@grid.example:443/pw").validate()
    assert "credentials in the URL (user:password@) are refused" in err.value.message
    assert "tok" not in err.value.message
    mismatch = (
        "BrowserType.connect: WebSocket error: 428 Precondition Required\n"
        "╔══════════════════════════╗\n║ Playwright version mismatch: ║\n"
        "║   - server version: v1.50 ║\n║   - client version: v1.65 ║\n╚═══╝"
    )
    assert _remote_failure("ws://h:1/?token=abc", mismatch) == (
        "the browser server at ws://h:1/ runs another Playwright version (server version: "
        "v1.50, client version: v1.65): use the same major.minor version on both sides"
    )


@pytest.mark.parametrize("headless", [True, False], ids=["headless", "headed"])
def test_an_unattended_batch_stops_on_a_page_it_does_not_know(tmp_path, headless):
    """Before: only `onboard run` derived the drift handover from the window; a headless
    batch entry waited for a person nobody would be there to be (the issue's finding).
    Now one plan builder (agent.run.build_plan) makes every plan."""
    ros = roster.load(
        write_roster(
            tmp_path / "r.yaml",
            [{"id": "a", "label": "A", "ips": ["203.0.113.7"], "allow_private_ip": True}],
        )
    )
    batch = Batch(ros, BatchOptions(headless=headless), Settings(home=tmp_path / "h"))
    assert batch.plan_for(ros.entries[0]).options.drift_to_human is (not headless)
