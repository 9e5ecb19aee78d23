"""`onboard batch --sink okx-toml:PREFIX`: each entry's key in the vault and in its own OKX
profile PREFIX-<entry id>; an entry whose profile exists already stops before its browser."""

from __future__ import annotations

import json
import stat
import tomllib

import pytest

from tests.helpers import login_profiles, onboard

from .conftest import issued, write_roster


@pytest.mark.scenarios("totp-only")
def test_batch_writes_one_profile_per_entry(replica, tmp_path, totp_env):
    home = tmp_path / "home"
    target = tmp_path / ".okx" / "config.toml"
    target.parent.mkdir()
    target.write_text('default_profile = "desk-b"\n\n[profiles.desk-b]\napi_key = "mine"\n')
    login_profiles(replica, home, ["p1"])
    roster = write_roster(
        tmp_path / "clients.yaml",
        [
            {"id": "a", "label": "B-ONE", "ips": ["127.0.0.1"], "profile": "p1",
             "totp_secret_env": "CLIENT_TOTP"},
            {"id": "b", "label": "B-TWO", "ips": ["127.0.0.1"], "profile": "p1",
             "totp_secret_env": "CLIENT_TOTP"},
        ],
        base_url=replica.base_url,
        allow_private_ip=True,
    )  # fmt: skip
    proc = onboard(
        home, "batch", str(roster), "--headless", "--pace", "0", "--auto-submit",
        "--login-timeout", "10", "--human-timeout", "30", "--json", "--sink", "okx-toml:desk",
        env={**totp_env, "ONBOARD_OKX_CONFIG": str(target)}, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr  # b failed
    by_id = {e["id"]: e for e in json.loads(proc.stdout)["entries"]}
    assert by_id["a"]["outcome"] == "ok"
    assert f"OKX profile desk-a in {target}" in by_id["a"]["result"]["stored"]
    assert by_id["b"]["outcome"] == "failed" and by_id["b"]["result"]["exit_code"] == 2
    assert "profile desk-b already exists" in by_id["b"]["result"]["message"]
    [made] = issued(replica)  # b never reached the exchange
    assert made["label"] == "B-ONE"
    doc = tomllib.loads(target.read_text())
    assert doc["default_profile"] == "desk-b" and doc["profiles"]["desk-b"] == {"api_key": "mine"}
    assert doc["profiles"]["desk-a"]["secret_key"] == made["secretKey"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    for value in (made["secretKey"], made["passphrase"], made["apiKey"]):
        assert value not in proc.stdout + proc.stderr
