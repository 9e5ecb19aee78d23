"""The real `onboard` CLI refuses bad input with exit 2 and one line, before any browser opens."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import onboard

# A documentation address (RFC 5737) stands in for a client's server: it needs the flag.
OK = ["--label", "ICG-MM", "--ip", "203.0.113.7", "--allow-private-ip"]


def assert_nothing_opened(home: Path) -> None:
    assert not (home / "profiles").exists()
    assert not (home / "vault").exists()


CASES = [
    pytest.param(["--label", "", *OK[2:]], {}, "--label is empty", id="empty-label"),
    pytest.param(
        ["--label", "ICG-MM", "--ip", "10.0.0.1"],
        {},
        "private IP address 10.0.0.1",
        id="private-ip",
    ),
    pytest.param(
        ["--label", "ICG-MM", "--ip", "203.0.113.7"],
        {},
        "documentation-range IP address 203.0.113.7 cannot reach OKX from the firm's servers "
        "(use the public address, or --allow-private-ip for test setups)",
        id="documentation-ip",
    ),
    pytest.param([*OK, "--profile", "a/b"], {}, "--profile 'a/b'", id="bad-profile"),
    pytest.param([*OK, "--cdp", "notaurl"], {}, "--cdp 'notaurl' is not a URL", id="bad-cdp"),
    pytest.param(
        [*OK, "--passphrase-env", "ONBOARD_TEST_UNSET_PASS"],
        {},
        "--passphrase-env ONBOARD_TEST_UNSET_PASS: that variable is not set",
        id="passphrase-env-unset",
    ),
    pytest.param(
        [*OK, "--passphrase-env", "ONBOARD_TEST_WEAK_PASS"],
        {"ONBOARD_TEST_WEAK_PASS": "abc"},
        "passphrase must have 8-32 characters",
        id="passphrase-weak",
    ),
    pytest.param(
        [*OK, "--totp-secret-env", "ONBOARD_TEST_UNSET_TOTP"],
        {},
        "--totp-secret-env ONBOARD_TEST_UNSET_TOTP: that variable is not set",
        id="totp-env-unset",
    ),
    pytest.param(
        [*OK, "--flow", "no-such-flow"],
        {},
        "no-such-flow",
        id="unknown-flow",
    ),
]


@pytest.mark.parametrize(("args", "env", "expect"), CASES)
def test_bad_input_one_line_exit_2(
    tmp_path: Path, args: list[str], env: dict[str, str], expect: str
) -> None:
    home = tmp_path / "home"
    proc = onboard(home, "run", *args, env={"NO_COLOR": "1", **env})
    lines = proc.stderr.splitlines()
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    assert expect in lines[0]
    assert proc.stdout == ""
    assert_nothing_opened(home)


@pytest.mark.parametrize(
    ("args", "choices"),
    [
        pytest.param(["--site", "asia"], "'global', 'eea', 'us'", id="bad-site"),
        pytest.param(["--code-prompt", "bogus"], "'totp', 'sms', 'email'", id="bad-code-prompt"),
    ],
)
def test_a_choice_outside_the_set_is_one_line(
    tmp_path: Path, args: list[str], choices: str
) -> None:
    """--site, --code-prompt, --format, --sink are fixed sets (agent.choices): typer refuses a
    value outside them, naming them, as it does any bad option value: in one line."""
    home = tmp_path / "home"
    proc = onboard(home, "run", *OK, *args, env={"NO_COLOR": "1"})
    assert proc.returncode == 2 and proc.stdout == ""
    assert "Invalid value for" in proc.stderr and choices in proc.stderr
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert_nothing_opened(home)


def test_missing_ip_is_a_usage_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    proc = onboard(home, "run", "--label", "ICG-MM")
    assert proc.returncode == 2
    assert "--ip" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert_nothing_opened(home)


def test_help_lists_commands(tmp_path: Path) -> None:
    proc = onboard(tmp_path, "--help")
    assert proc.returncode == 0, proc.stderr
    rows = {m.group(1) for m in re.finditer(r"^\W*\s([a-z]+)\s{2,}\S", proc.stdout, re.M)}
    assert {"replica", "run", "demo", "verify", "batch", "doctor"} <= rows, proc.stdout


def test_run_help_mentions_exit_codes(tmp_path: Path) -> None:
    proc = onboard(tmp_path, "run", "--help")
    assert proc.returncode == 0, proc.stderr
    assert "Exit codes" in proc.stdout
    assert "--ip" in proc.stdout
