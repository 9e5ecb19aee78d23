"""The replica's OKX v5 REST API, through the real server.

ccxt (a client nobody here wrote) proves compatibility; httpx with a signer written
in this file pins the exact HTTP status and JSON envelope of every answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import ccxt
import httpx
import pytest

from replica.rest import ip_allowed, normalize_ip
from replica.server import ReplicaServer
from replica.state import ApiKey

CONFIG = "/api/v5/account/config"
MAIN_UID = "628391047715821568"  # client@replica.test in seed.yaml
SEEDED = {  # firm@replica.test's "legacy-reader" in seed.yaml
    "api_key": "5b0c7c2e-6a3f-4d35-9d8e-2f1a4b7c9e01",
    "secret": "9A1F3C5E7B2D4F6A8C0E1B3D5F7A9C2E",
    "passphrase": "Legacy-Reader-9!",
}
CONFIG_FIELDS = {
    "uid", "mainUid", "acctLv", "posMode", "autoLoan", "greeksType", "level", "levelTmp",
    "ctIsoMode", "mgnIsoMode", "roleType", "traderInsts", "spotRoleType", "spotTraderInsts",
    "opAuth", "kycLv", "label", "ip", "perm", "liquidationGear", "enableSpotBorrow",
    "spotBorrowAutoRepay", "type", "settleCcy", "settleCcyList",
}  # fmt: skip


# -- helpers ----------------------------------------------------------------
def add_key(
    server: ReplicaServer,
    *,
    label: str = "ICG-MM",
    perms: list[str] | None = None,
    ips: list[str] | None = None,
    demo: bool = False,
    account: str = "main",
    email: str = "client@replica.test",
) -> ApiKey:
    key = ApiKey(
        label=label,
        account=account,
        api_key=str(uuid.uuid4()),
        secret=uuid.uuid4().hex.upper(),
        passphrase="Rest-Test-Pass-1!",
        perms=list(perms or ["read_only"]),
        ips=list(ips if ips is not None else ["127.0.0.1"]),
        demo=demo,
    )
    with server.world.lock:
        server.world.accounts[email].keys.append(key)
    return key


def okx(
    server: ReplicaServer,
    key: ApiKey | None = None,
    *,
    sandbox: bool = False,
    **creds: str,
) -> ccxt.okx:
    """A stock ccxt okx client aimed at the replica.

    `urls["api"]["rest"]` is the base ccxt prefixes to `/api/v5/...`. It must be
    set *after* `set_sandbox_mode`, which swaps `urls["api"]` for `urls["test"]`
    (OKX's demo trading shares the live host; only the header differs).
    """
    ex = ccxt.okx(
        {
            "apiKey": creds.get("apiKey", key.api_key if key else ""),
            "secret": creds.get("secret", key.secret if key else ""),
            "password": creds.get("password", key.passphrase if key else ""),
            "enableRateLimit": False,
            "timeout": 5000,
        }
    )
    if sandbox:
        ex.set_sandbox_mode(True)
    ex.urls["api"] = {"rest": server.base_url}
    return ex


def okx_ts(when: float | None = None) -> str:
    dt = datetime.fromtimestamp(time.time() if when is None else when, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def signed_headers(
    api_key: str,
    secret: str,
    passphrase: str,
    path: str = CONFIG,
    *,
    method: str = "GET",
    body: str = "",
    ts: str | None = None,
) -> dict[str, str]:
    ts = ts or okx_ts()
    mac = hmac.new(secret.encode(), f"{ts}{method}{path}{body}".encode(), hashlib.sha256)
    return {
        "OK-ACCESS-KEY": api_key,
        "OK-ACCESS-SIGN": base64.b64encode(mac.digest()).decode(),
        "OK-ACCESS-TIMESTAMP": ts,
        "OK-ACCESS-PASSPHRASE": passphrase,
    }


def key_headers(key: ApiKey, **kw: Any) -> dict[str, str]:
    return signed_headers(key.api_key, key.secret, key.passphrase, **kw)


def get(server: ReplicaServer, headers: dict[str, str], path: str = CONFIG) -> httpx.Response:
    return httpx.get(server.base_url + path, headers=headers, timeout=5)


def assert_refused(resp: httpx.Response, code: str, msg: str) -> None:
    assert resp.status_code == 401
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.json() == {"code": code, "msg": msg, "data": []}


def assert_ccxt_refused(ex: ccxt.okx, exc: type[Exception], code: str) -> None:
    with pytest.raises(exc) as info:
        ex.privateGetAccountConfig()
    assert f'"code":"{code}"' in str(info.value)


# -- public -----------------------------------------------------------------
def test_public_time(replica: ReplicaServer) -> None:
    before = int(time.time() * 1000)
    resp = okx(replica).publicGetPublicTime()
    after = int(time.time() * 1000)
    assert resp["code"] == "0" and resp["msg"] == ""
    assert before - 5 <= int(resp["data"][0]["ts"]) <= after + 5
    raw = httpx.get(replica.base_url + "/api/v5/public/time").json()
    assert set(raw) == {"code", "msg", "data"} and isinstance(raw["data"][0]["ts"], str)


# -- success ----------------------------------------------------------------
def test_ccxt_reads_account_config(replica: ReplicaServer) -> None:
    key = add_key(replica, perms=["read_only", "trade"], ips=["127.0.0.1", "2001:db8::7"])
    resp = okx(replica, key).privateGetAccountConfig()
    assert resp["code"] == "0" and resp["msg"] == ""
    (cfg,) = resp["data"]
    assert cfg["perm"] == "read_only,trade"
    assert cfg["ip"] == "127.0.0.1,2001:db8::7"
    assert cfg["label"] == "ICG-MM"
    assert cfg["uid"] == cfg["mainUid"] == MAIN_UID
    assert set(cfg) == CONFIG_FIELDS
    assert cfg["acctLv"] == "2" and cfg["posMode"] == "net_mode" and cfg["autoLoan"] is False
    assert cfg["settleCcyList"] == ["USD", "USDC", "USDG"] and cfg["traderInsts"] == []


def test_seeded_key_hand_signed(replica: ReplicaServer) -> None:
    resp = get(replica, signed_headers(**SEEDED))
    assert resp.status_code == 200
    body = resp.json()
    assert body["code"] == "0" and body["msg"] == ""
    cfg = body["data"][0]
    assert (cfg["label"], cfg["perm"], cfg["ip"]) == ("legacy-reader", "read_only", "127.0.0.1")
    assert cfg["uid"] == "628391047715821999"


def test_demo_key_with_ccxt_sandbox(replica: ReplicaServer) -> None:
    key = add_key(replica, demo=True, perms=["read_only", "trade"])
    cfg = okx(replica, key, sandbox=True).privateGetAccountConfig()["data"][0]
    assert cfg["perm"] == "read_only,trade"


def test_open_allowlist_and_withdraw_perm(replica: ReplicaServer) -> None:
    key = add_key(replica, perms=["read_only", "trade", "withdraw"], ips=[])
    cfg = okx(replica, key).privateGetAccountConfig()["data"][0]
    assert cfg["ip"] == ""
    assert cfg["perm"] == "read_only,trade,withdraw"


def test_perm_order_is_okx_order(replica: ReplicaServer) -> None:
    key = add_key(replica, perms=["withdraw", "read_only", "trade"])
    assert get(replica, key_headers(key)).json()["data"][0]["perm"] == "read_only,trade,withdraw"


def test_subaccount_key_has_own_uid(replica: ReplicaServer) -> None:
    key = add_key(replica, account="icg-mm-sub1")
    first = get(replica, key_headers(key)).json()["data"][0]
    again = get(replica, key_headers(key)).json()["data"][0]
    assert first["mainUid"] == MAIN_UID
    assert first["uid"] != MAIN_UID and first["uid"].isdigit()
    assert first["uid"] == again["uid"]


def test_query_string_is_signed(replica: ReplicaServer) -> None:
    key = add_key(replica)
    path = CONFIG + "?instType=SPOT"
    assert get(replica, key_headers(key, path=path), path).json()["code"] == "0"
    # signing only the bare path is wrong when a query was sent
    assert_refused(get(replica, key_headers(key), path), "50113", "Invalid signature.")


# -- refusals ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("drop", "code", "msg"),
    [
        ("OK-ACCESS-KEY", "50103", "Request header OK-ACCESS-KEY cannot be empty."),
        ("OK-ACCESS-PASSPHRASE", "50104", "Request header OK-ACCESS-PASSPHRASE cannot be empty."),
        ("OK-ACCESS-SIGN", "50106", "Request header OK-ACCESS-SIGN cannot be empty."),
        ("OK-ACCESS-TIMESTAMP", "50107", "Request header OK-ACCESS-TIMESTAMP cannot be empty."),
    ],
)
def test_missing_header(replica: ReplicaServer, drop: str, code: str, msg: str) -> None:
    headers = signed_headers(**SEEDED)
    del headers[drop]
    assert_refused(get(replica, headers), code, msg)
    headers[drop] = ""
    assert_refused(get(replica, headers), code, msg)


def test_no_headers_at_all(replica: ReplicaServer) -> None:
    assert_refused(get(replica, {}), "50103", "Request header OK-ACCESS-KEY cannot be empty.")


@pytest.mark.parametrize(
    "ts", ["1597026383085", "2020-12-08T09:08:57Z", "2020-13-08T09:08:57.715Z"]
)
def test_malformed_timestamp_50112(replica: ReplicaServer, ts: str) -> None:
    assert_refused(
        get(replica, signed_headers(**SEEDED, ts=ts)), "50112", "Invalid OK-ACCESS-TIMESTAMP."
    )


@pytest.mark.parametrize("offset", [-31.0, 31.0])
def test_expired_timestamp_50102(replica: ReplicaServer, offset: float) -> None:
    old = okx_ts(time.time() + offset)
    assert_refused(
        get(replica, signed_headers(**SEEDED, ts=old)), "50102", "Timestamp request expired."
    )


def test_expired_timestamp_50102_ccxt(replica: ReplicaServer) -> None:
    key = add_key(replica)
    ex = okx(replica, key)
    ex.nonce = lambda: ex.milliseconds() - 60_000  # ccxt signs with iso8601(nonce())
    assert_ccxt_refused(ex, ccxt.InvalidNonce, "50102")


def test_unknown_key_50111(replica: ReplicaServer) -> None:
    ghost = signed_headers(str(uuid.uuid4()), SEEDED["secret"], SEEDED["passphrase"])
    assert_refused(get(replica, ghost), "50111", "Invalid OK-ACCESS-KEY.")
    ex = okx(replica, apiKey=str(uuid.uuid4()), secret="A" * 32, password="Whatever-1!")
    assert_ccxt_refused(ex, ccxt.AuthenticationError, "50111")


def test_demo_header_live_key_50101(replica: ReplicaServer) -> None:
    key = add_key(replica)
    headers = {**key_headers(key), "x-simulated-trading": "1"}
    assert_refused(get(replica, headers), "50101", "APIKey does not match current environment.")
    assert_ccxt_refused(okx(replica, key, sandbox=True), ccxt.AuthenticationError, "50101")


def test_live_request_demo_key_50101(replica: ReplicaServer) -> None:
    key = add_key(replica, demo=True)
    assert_refused(
        get(replica, key_headers(key)), "50101", "APIKey does not match current environment."
    )
    assert_ccxt_refused(okx(replica, key), ccxt.AuthenticationError, "50101")


def test_wrong_passphrase_50105(replica: ReplicaServer) -> None:
    key = add_key(replica)
    bad = signed_headers(key.api_key, key.secret, "Not-The-Pass-1!")
    assert_refused(get(replica, bad), "50105", "Request header OK-ACCESS-PASSPHRASE incorrect.")
    ex = okx(replica, key, password="Not-The-Pass-1!")
    assert_ccxt_refused(ex, ccxt.AuthenticationError, "50105")


def test_wrong_secret_50113(replica: ReplicaServer) -> None:
    key = add_key(replica)
    wrong = "0" * 32
    bad = signed_headers(key.api_key, wrong, key.passphrase)
    assert_refused(get(replica, bad), "50113", "Invalid signature.")
    assert_ccxt_refused(okx(replica, key, secret=wrong), ccxt.AuthenticationError, "50113")


def test_tampered_signature_pieces_50113(replica: ReplicaServer) -> None:
    key = add_key(replica)
    other_method = key_headers(key, method="POST")
    assert_refused(get(replica, other_method), "50113", "Invalid signature.")
    other_path = key_headers(key, path="/api/v5/account/balance")
    assert_refused(get(replica, other_path), "50113", "Invalid signature.")


def test_ip_not_bound_50110(replica: ReplicaServer) -> None:
    key = add_key(replica, perms=["read_only", "trade"], ips=["203.0.113.7"])
    msg = "Your IP 127.0.0.1 is not in the APIKey bound IP list."
    assert_refused(get(replica, key_headers(key)), "50110", msg)
    assert_ccxt_refused(okx(replica, key), ccxt.PermissionDenied, "50110")


def test_ip_checked_after_signature(replica: ReplicaServer) -> None:
    """A caller who cannot sign learns nothing about the allowlist."""
    key = add_key(replica, ips=["203.0.113.7"])
    bad = signed_headers(key.api_key, "0" * 32, key.passphrase)
    assert get(replica, bad).json()["code"] == "50113"


# -- addresses --------------------------------------------------------------
def test_ip_normalization() -> None:
    assert str(normalize_ip("::ffff:127.0.0.1")) == "127.0.0.1"
    assert str(normalize_ip(" 2001:DB8:0:0::7 ")) == "2001:db8::7"
    assert normalize_ip("not-an-ip") is None
    assert ip_allowed("::ffff:203.0.113.7", ["203.0.113.7"])
    assert ip_allowed("203.0.113.7", ["::ffff:203.0.113.7"])
    assert ip_allowed("2001:db8::7", ["2001:0db8:0000::0007"])
    assert not ip_allowed("203.0.113.8", ["203.0.113.7"])
    assert ip_allowed("198.51.100.1", [])


def _dual_stack() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.bind(("::", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _dual_stack(), reason="no dual-stack IPv6 socket here")
def test_ipv4_mapped_peer_matches_ipv4_allowlist() -> None:
    """On a dual-stack listener an IPv4 client shows up as ::ffff:127.0.0.1."""
    with ReplicaServer(host="::") as srv:
        key = add_key(srv, ips=["127.0.0.1"])
        url = f"http://127.0.0.1:{srv.port}{CONFIG}"
        resp = httpx.get(url, headers=key_headers(key), timeout=5)
        assert resp.json()["code"] == "0", resp.text
        blocked = add_key(srv, label="other", ips=["203.0.113.7"])
        resp = httpx.get(url, headers=key_headers(blocked), timeout=5)
        assert_refused(resp, "50110", "Your IP 127.0.0.1 is not in the APIKey bound IP list.")
