"""`onboard verify`: signed REST verification of stored keys, against the live replica.

Records are stored with the real Vault for keys inserted into the replica's world;
the real CLI runs as a subprocess with ONBOARD_HOME. Clock skew and network retries
run in-process (patched ccxt nonce, recorded sleeps).
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import ccxt
import httpx
import pytest

from agent.config import Settings
from agent.custody.vault import Credential, Vault
from agent.custody.verify import (
    check_config,
    make_exchange,
    overall_exit,
    safe_proxy,
    verify_record,
)
from agent.exitcodes import Exit
from replica.server import ReplicaServer
from replica.state import ApiKey
from tests.helpers import onboard

CLIENT = "client@replica.test"
RESULT_KEYS = {
    "id", "label", "api_key_masked", "status", "detail", "endpoint", "demo", "proxy", "code",
    "critical", "checks", "seen", "clock_offset_s", "verified_at", "verification",
}  # fmt: skip


# -- helpers ----------------------------------------------------------------------------
def add_key(
    replica: ReplicaServer,
    *,
    label: str = "ICG-MM",
    perms: list[str] | None = None,
    ips: list[str] | None = None,
    demo: bool = False,
) -> ApiKey:
    key = ApiKey(
        label=label,
        account="main",
        api_key=str(uuid.uuid4()),
        secret=uuid.uuid4().hex.upper(),
        passphrase=f"Verify-{uuid.uuid4().hex[:12]}-1!",
        perms=list(perms or ["read_only", "trade"]),
        ips=list(ips if ips is not None else ["127.0.0.1"]),
        demo=demo,
    )
    with replica.world.lock:
        replica.world.accounts[CLIENT].keys.append(key)
    return key


def store(home: Path, replica: ReplicaServer, key: ApiKey, **override: Any) -> str:
    fields: dict[str, Any] = {
        "exchange": "okx",
        "site": "global",
        "base_url": replica.base_url,
        "account": "main",
        "label": key.label,
        "api_key": key.api_key,
        "secret": key.secret,
        "passphrase": key.passphrase,
        "permissions": ["read_only", "trade"],
        "ips": list(key.ips),
        **override,
    }
    return Vault(Settings(home=home)).store(Credential(**fields))


def meta(home: Path, rid: str) -> dict[str, Any]:
    return json.loads((Settings(home=home).vault_dir / f"{rid}.json").read_text())


def assert_no_secrets(proc: subprocess.CompletedProcess[str], *keys: ApiKey) -> None:
    seen = proc.stdout + proc.stderr
    for k in keys:
        assert k.secret not in seen
        assert k.passphrase not in seen
        assert k.api_key not in seen


def verify_json(
    home: Path, *args: str, keys: tuple[ApiKey, ...] = ()
) -> tuple[int, list[dict[str, Any]], str]:
    proc = onboard(home, "verify", *args, "--json")
    assert_no_secrets(proc, *keys)
    out = json.loads(proc.stdout)
    assert isinstance(out, list)
    for r in out:
        assert set(r) == RESULT_KEYS
    return proc.returncode, out, proc.stderr


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


# -- ok -----------------------------------------------------------------------------------
def test_ok_json_and_metadata(replica: ReplicaServer, home: Path) -> None:
    key = add_key(replica, ips=["127.0.0.1"])
    rid = store(home, replica, key)
    assert meta(home, rid)["verification"] == "pending"
    code, [res], _err = verify_json(home, rid, keys=(key,))
    assert code == Exit.OK
    assert res["status"] == "ok" and res["verification"] == "ok"
    assert res["id"] == rid and res["label"] == "ICG-MM"
    assert res["api_key_masked"] == "…" + key.api_key[-4:]
    assert res["checks"] == {"perm": "ok", "ip": "ok", "label": "ok"}
    assert res["seen"] == {"perm": "read_only,trade", "ip": "127.0.0.1", "label": "ICG-MM"}
    assert res["endpoint"] == replica.base_url and res["critical"] is False
    m = meta(home, rid)
    assert m["verification"] == "ok"
    assert abs(m["verified_at"] - res["verified_at"]) < 1
    assert m["verify_detail"]["checks"] == {"perm": "ok", "ip": "ok", "label": "ok"}
    text = json.dumps(m)
    assert key.secret not in text and key.passphrase not in text and key.api_key not in text


def test_ok_table(replica: ReplicaServer, home: Path) -> None:
    key = add_key(replica)
    rid = store(home, replica, key)
    proc = onboard(home, "verify", rid)
    assert proc.returncode == 0, proc.stderr
    assert_no_secrets(proc, key)
    assert rid in proc.stdout and "ICG-MM" in proc.stdout
    assert "…" + key.api_key[-4:] in proc.stdout
    assert "ok" in proc.stdout and "1 ok" in proc.stderr


def test_demo_key_with_demo_flag(replica: ReplicaServer, home: Path) -> None:
    key = add_key(replica, demo=True)
    rid = store(home, replica, key)
    code, [res], _ = verify_json(home, rid, "--demo", keys=(key,))
    assert code == Exit.OK and res["status"] == "ok" and res["demo"] is True


def test_ip_set_is_order_insensitive_and_normalised(replica: ReplicaServer, home: Path) -> None:
    key = add_key(replica, ips=["2001:db8::7", "127.0.0.1"])
    rid = store(home, replica, key, ips=["127.0.0.1", "2001:0DB8:0:0::0007"])
    code, [res], _ = verify_json(home, rid, keys=(key,))
    assert code == Exit.OK, res
    assert res["checks"]["ip"] == "ok"


# -- the exchange shows something else ---------------------------------------------------------
def test_withdraw_is_critical(replica: ReplicaServer, home: Path) -> None:
    key = add_key(replica, perms=["read_only", "trade", "withdraw"])
    rid = store(home, replica, key)
    proc = onboard(home, "verify", rid)
    assert proc.returncode == Exit.VERIFY_FAILED, proc.stderr
    assert_no_secrets(proc, key)
    assert "CRITICAL" in proc.stdout and "CRITICAL" in proc.stderr
    assert "WITHDRAW" in proc.stderr and "Delete this key on OKX now" in proc.stderr
    m = meta(home, rid)
    assert m["verification"].startswith("failed: CRITICAL")
    assert m["verify_detail"]["critical"] is True
    assert m["verify_detail"]["seen"]["perm"] == "read_only,trade,withdraw"


def test_read_only_is_a_failure(replica: ReplicaServer, home: Path) -> None:
    key = add_key(replica, perms=["read_only"])
    rid = store(home, replica, key)
    code, [res], _ = verify_json(home, rid, keys=(key,))
    assert code == Exit.VERIFY_FAILED
    assert res["checks"]["perm"] == "mismatch" and not res["critical"]
    assert "permissions are read_only, expected read_only,trade" in res["detail"]


def test_label_mismatch(replica: ReplicaServer, home: Path) -> None:
    key = add_key(replica, label="someone-else")
    rid = store(home, replica, key, label="ICG-MM")
    code, [res], _ = verify_json(home, rid, keys=(key,))
    assert code == Exit.VERIFY_FAILED
    assert res["checks"] == {"perm": "ok", "ip": "ok", "label": "mismatch"}
    assert "label is 'someone-else', expected 'ICG-MM'" in res["detail"]
    assert meta(home, rid)["verification"].startswith("failed: label is")


def test_ip_set_mismatch(replica: ReplicaServer, home: Path) -> None:
    key = add_key(replica, ips=["127.0.0.1", "198.51.100.9"])
    rid = store(home, replica, key, ips=["127.0.0.1", "2001:db8::7"])
    code, [res], _ = verify_json(home, rid, keys=(key,))
    assert code == Exit.VERIFY_FAILED
    assert res["checks"]["ip"] == "mismatch"
    assert "missing 2001:db8::7" in res["detail"] and "unexpected 198.51.100.9" in res["detail"]


# -- refusals in plain words -------------------------------------------------------------------
def test_ip_not_allowed_is_pending(replica: ReplicaServer, home: Path) -> None:
    key = add_key(replica, ips=["203.0.113.7"])
    rid = store(home, replica, key)
    code, [res], err = verify_json(home, rid, keys=(key,))
    assert code == Exit.PENDING == 10
    assert res["status"] == "pending" and res["code"] == "50110"
    assert "this machine's IP (127.0.0.1) is not on the key's allowlist" in res["detail"]
    assert "--proxy" in res["detail"]
    assert f"onboard verify {rid}" in err and "whitelisted host" in err
    m = meta(home, rid)
    assert m["verification"].startswith("pending: this machine's IP")
    assert m["verify_detail"]["code"] == "50110"


@pytest.mark.parametrize(
    ("override", "code", "words"),
    [
        ({"passphrase": "Not-The-Pass-1!"}, "50105", "passphrase"),
        ({"secret": "0" * 32}, "50113", "secret does not belong to this key"),
    ],
)
def test_wrong_passphrase_or_secret(
    replica: ReplicaServer, home: Path, override: dict[str, str], code: str, words: str
) -> None:
    key = add_key(replica)
    rid = store(home, replica, key, **override)
    ret, [res], _ = verify_json(home, rid, keys=(key,))
    assert ret == Exit.VERIFY_FAILED
    assert res["status"] == "failed" and res["code"] == code
    assert words in res["detail"]
    assert meta(home, rid)["verification"] == res["verification"]
    assert override.get("passphrase", "x" * 40) not in json.dumps(res)


def test_deleted_key_50111(replica: ReplicaServer, home: Path) -> None:
    key = add_key(replica)
    rid = store(home, replica, key)
    with replica.world.lock:
        replica.world.accounts[CLIENT].keys.remove(key)
    ret, [res], _ = verify_json(home, rid, keys=(key,))
    assert ret == Exit.VERIFY_FAILED and res["code"] == "50111"
    assert "does not know this API key" in res["detail"]


def test_demo_against_live_key_50101(replica: ReplicaServer, home: Path) -> None:
    key = add_key(replica)
    rid = store(home, replica, key)
    ret, [res], _ = verify_json(home, rid, "--demo", keys=(key,))
    assert ret == Exit.VERIFY_FAILED and res["code"] == "50101"
    assert "try again without --demo" in res["detail"]


def test_clock_skew_50102(
    replica: ReplicaServer, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ccxt signs with iso8601(nonce()): a nonce 60 s slow is a clock 60 s behind."""
    key = add_key(replica)
    rid = store(home, replica, key)
    monkeypatch.setattr(ccxt.okx, "nonce", lambda self: self.milliseconds() - 60_000)
    res = verify_record(Vault(Settings(home=home)), rid)
    assert res.status == "error" and res.code == "50102"
    assert res.clock_offset_s is not None and 58 <= res.clock_offset_s <= 62
    # the offset as measured (60 s, give or take the round trip), in the words the user reads
    offset = f"{res.clock_offset_s:.1f}"
    assert f"this machine's clock is {offset} s behind OKX's (OKX accepts 30 s)" in res.detail
    assert "sync the clock" in res.detail
    assert overall_exit([res]) == Exit.FAILED
    assert meta(home, rid)["verification"] == "pending"  # not tested: nothing recorded


def test_network_errors_retry_then_explain(home: Path, replica: ReplicaServer) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"  # closed once the block ends
    key = add_key(replica)
    rid = store(home, replica, key, base_url=dead)
    slept: list[float] = []
    logs: list[str] = []
    res = verify_record(Vault(Settings(home=home)), rid, sleep=slept.append, log=logs.append)
    assert slept == [0.5, 1.0] and len(logs) == 2
    assert res.status == "error" and "after 3 tries" in res.detail and dead in res.detail
    assert meta(home, rid)["verification"] == "pending"
    # the same key through --base-url works: the override wins over the record
    ok = verify_record(Vault(Settings(home=home)), rid, base_url=replica.base_url)
    assert ok.status == "ok"


def test_network_error_exit_code(home: Path, replica: ReplicaServer) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    key = add_key(replica)
    rid = store(home, replica, key, base_url=dead)
    proc = onboard(home, "verify", rid, "--json")
    assert proc.returncode == Exit.FAILED
    assert "retrying" in proc.stderr
    assert json.loads(proc.stdout)[0]["status"] == "error"


# -- many records, input ------------------------------------------------------------------------
def test_all(replica: ReplicaServer, home: Path) -> None:
    good = add_key(replica)
    far = add_key(replica, label="far", ips=["203.0.113.7"])
    rids = [store(home, replica, good), store(home, replica, far)]
    ret, results, _ = verify_json(home, "--all", keys=(good, far))
    assert ret == Exit.PENDING
    assert {r["id"]: r["status"] for r in results} == {rids[0]: "ok", rids[1]: "pending"}
    bad = add_key(replica, label="bad", perms=["read_only", "trade", "withdraw"])
    rids.append(store(home, replica, bad))
    ret, results, _ = verify_json(home, "--all", keys=(good, far, bad))
    assert ret == Exit.VERIFY_FAILED
    assert {r["id"]: r["status"] for r in results} == dict(
        zip(rids, ["ok", "pending", "failed"], strict=True)
    )
    assert [r["id"] for r in results] == sorted(rids)  # vault order: ids start with the time
    assert [meta(home, r)["verification"].split(":")[0] for r in rids] == [
        "ok",
        "pending",
        "failed",
    ]


def test_all_goes_on_past_a_bad_record(replica: ReplicaServer, home: Path) -> None:
    """A record whose metadata cannot be read or written gets one line and an `error`
    result; the records after it are still verified, and the exit code says so (1)."""
    keys = [add_key(replica, label=f"K{i}") for i in range(3)]
    rids = [store(home, replica, k) for k in keys]
    bad = Settings(home=home).vault_dir / f"{rids[1]}.json"
    bad.write_text('{"id": "truncat')
    proc = onboard(home, "verify", "--all", "--json")
    assert_no_secrets(proc, *keys)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == Exit.FAILED, proc.stderr
    results = {r["id"]: r for r in json.loads(proc.stdout)}
    assert [results[r]["status"] for r in rids] == ["ok", "error", "ok"]
    assert f"{rids[1]}.json" in results[rids[1]]["detail"]
    assert [ln for ln in proc.stderr.splitlines() if rids[1] in ln and "error" in ln]
    assert meta(home, rids[2])["verification"] == "ok"  # verified after the bad one
    assert bad.read_text() == '{"id": "truncat'  # a damaged file is reported, not replaced


def test_all_with_empty_vault(home: Path) -> None:
    proc = onboard(home, "verify", "--all", "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout) == []
    assert "nothing to verify" in proc.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((), "give record id(s) or --all"),
        (("--all", "x"), "give record id(s) or --all"),
        (("20990101T000000-abcdef",), "no record '20990101T000000-abcdef'"),
        (("--all", "--proxy", "ftp://proxy:21"), "--proxy"),
    ],
)
def test_bad_input(home: Path, args: tuple[str, ...], words: str) -> None:
    proc = onboard(home, "verify", *args)
    assert proc.returncode == Exit.BAD_INPUT
    assert words in proc.stderr


# -- proxy -----------------------------------------------------------------------------------------
class _Forward(BaseHTTPRequestHandler):
    seen: list[str]

    def do_GET(self) -> None:  # absolute-form request line: GET http://host/path HTTP/1.1
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        headers = {
            k: v
            for k, v in self.headers.items()
            if k.lower() not in ("host", "proxy-connection", "connection")
        }
        resp = httpx.get(self.path, headers=headers, timeout=5)
        self.send_response(resp.status_code)
        self.send_header("Content-Type", resp.headers.get("content-type", "application/json"))
        self.send_header("Content-Length", str(len(resp.content)))
        self.end_headers()
        self.wfile.write(resp.content)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def forward_proxy() -> Iterator[tuple[str, list[str]]]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Forward)
    srv.seen = []  # type: ignore[attr-defined]
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://user:Proxy-Pass-77@127.0.0.1:{srv.server_port}", srv.seen  # type: ignore[attr-defined]
    finally:
        srv.shutdown()
        srv.server_close()


def test_through_proxy(
    replica: ReplicaServer, home: Path, forward_proxy: tuple[str, list[str]]
) -> None:
    url, seen = forward_proxy
    key = add_key(replica)
    rid = store(home, replica, key)
    proc = onboard(home, "verify", rid, "--proxy", url, "--json")
    assert proc.returncode == 0, proc.stderr
    assert_no_secrets(proc, key)
    assert "Proxy-Pass-77" not in proc.stdout + proc.stderr
    assert seen == [replica.base_url + "/api/v5/account/config"]
    [res] = json.loads(proc.stdout)
    assert res["proxy"] == url.replace("user:Proxy-Pass-77@", "")
    assert "Proxy-Pass-77" not in json.dumps(meta(home, rid))


def test_proxy_setting_follows_ccxt() -> None:
    """ccxt's sync client keys httpProxy/httpsProxy by the *target* scheme (requests' proxies)."""
    cred = Credential("okx", "global", None, "main", "x", "k" * 36, "s" * 32, "p" * 10, [], [])
    https = make_exchange(cred, "https://www.okx.com", proxy="http://10.0.0.5:3128")
    assert https.httpsProxy == "http://10.0.0.5:3128" and not https.httpProxy
    plain = make_exchange(cred, "http://127.0.0.1:8700", proxy="http://10.0.0.5:3128")
    assert plain.httpProxy == "http://10.0.0.5:3128" and not plain.httpsProxy
    socks = make_exchange(cred, "https://www.okx.com", proxy="socks5h://10.0.0.5:1080")
    assert socks.socksProxy == "socks5h://10.0.0.5:1080"
    demo = make_exchange(cred, "https://my.okx.com", demo=True)
    assert demo.urls["api"] == {"rest": "https://my.okx.com"}
    assert demo.headers.get("x-simulated-trading") == "1"
    assert safe_proxy("http://u:pw@[2001:db8::1]:8080") == "http://[2001:db8::1]:8080"


def test_real_sites_come_from_the_flow() -> None:
    """Each site's REST host as the flow gives it (`rest`), not its pages' origin."""
    from agent.custody.verify import endpoint_for
    from agent.engine.flow import load_named

    flow = load_named("okx")
    for site in ("global", "eea", "us"):
        cred = Credential("okx", site, None, "main", "x", "k" * 36, "s" * 32, "p" * 10, [], [])
        assert endpoint_for(cred) == flow.rest_url(site) == flow.rest[site]


def test_check_config_unit() -> None:
    cred = Credential(
        "okx", "global", None, "main", "ICG-MM", "k" * 36, "s" * 32, "p" * 10, [],
        ["203.0.113.7", "2001:0DB8::0007"],
    )  # fmt: skip
    cfg = {"perm": "trade,read_only", "ip": "2001:db8::7, 203.0.113.7", "label": "ICG-MM"}
    assert check_config(cfg, cred) == ({"perm": "ok", "ip": "ok", "label": "ok"}, [], False)
    # agent.ips' strict rule: an IPv4-mapped form is not the IPv4 address requested
    checks, problems, critical = check_config({**cfg, "ip": "::ffff:203.0.113.7,2001:db8::7"}, cred)
    assert checks["ip"] == "mismatch" and "unexpected ::ffff:203.0.113.7" in problems[0]
    checks, problems, critical = check_config({**cfg, "ip": ""}, cred)
    assert checks["ip"] == "mismatch" and "NO IP allowlist" in problems[0]
    checks, problems, critical = check_config({**cfg, "perm": "read_only,withdraw"}, cred)
    assert critical and problems[0].startswith("CRITICAL")


# -- onboard run ends with the signed REST check -------------------------------------------------
@pytest.mark.slow
def test_run_ends_with_signed_rest_ok(replica: ReplicaServer, tmp_path: Path) -> None:
    from tests.helpers import login_profiles, outbox_cmd

    home = tmp_path / "home"
    acct = login_profiles(replica, home, ["acme"])
    outbox = outbox_cmd(replica.base_url)
    proc = onboard(
        home,
        "run", "--label", "ICG-MM", "--ip", "127.0.0.1", "--allow-private-ip",
        "--base-url", replica.base_url, "--profile", "acme", "--headless", "--pace", "0", "--auto-submit",
        "--totp-secret-env", "CLIENT_TOTP", "--sms-code-cmd", f"{outbox} sms", "--email-code-cmd", f"{outbox} email",
        "--login-timeout", "5", "--json",
        env={"CLIENT_TOTP": acct.totp_secret or ""},
        timeout=180,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["status"] == "ok"
    assert result["verification"]["signed REST"] == "ok"
    [rid] = result["vault_ids"]
    m = meta(home, rid)
    assert m["verification"] == "ok" and m["verify_detail"]["checks"]["perm"] == "ok"
    [made] = httpx.get(f"{replica.base_url}/replica/issued").json()["keys"]
    for secret in (made["secretKey"], made["passphrase"], made["apiKey"]):
        assert secret not in proc.stdout + proc.stderr
