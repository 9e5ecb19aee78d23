"""The replica's sub-account key management over REST, through the real server and ccxt.

Every call is signed by a stock ccxt client (its implicit methods), so what passes here is
what a real OKX client sends. Raw httpx pins the HTTP status and the envelope.
"""

from __future__ import annotations

import json
import time

import ccxt
import httpx
import pyotp
import pytest

from replica.server import ReplicaServer
from tests.replica.test_rest import add_key, key_headers, okx

SUB = "icg-mm-sub1"
IPS = "127.0.0.1,2001:db8::7"


def main_key(server: ReplicaServer, **kw: object) -> ccxt.okx:
    """A Read + Trade main-account key bound to loopback (what `onboard subkeys` uses)."""
    opts: dict = {"label": "main-rw", "perms": ["read_only", "trade"], "ips": ["127.0.0.1"]}
    opts.update(kw)
    return okx(server, add_key(server, **opts))  # type: ignore[arg-type]


def create(ex: ccxt.okx, sub: str = SUB, label: str = "ICG-MM", **extra: str) -> dict:
    body = {
        "subAcct": sub,
        "label": label,
        "passphrase": "Sub-Key-Pass-1!",
        "perm": "read_only,trade",
    }
    body["ip"] = IPS
    body.update(extra)
    return ex.privatePostUsersSubaccountApikey(body)  # type: ignore[no-any-return]


def refused(fn, code: str) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ccxt.BaseError) as info:
        fn()
    text = str(info.value)
    assert f'"code":"{code}"' in text, text
    return text


def test_create_returns_okx_fields_and_the_key_works(replica: ReplicaServer) -> None:
    ex = main_key(replica)
    resp = create(ex)
    assert resp["code"] == "0" and resp["msg"] == ""
    (d,) = resp["data"]
    assert set(d) == {"subAcct", "label", "apiKey", "secretKey", "passphrase", "perm", "ip", "ts"}
    assert (d["subAcct"], d["label"], d["perm"], d["ip"]) == (SUB, "ICG-MM", "read_only,trade", IPS)
    assert d["passphrase"] == "Sub-Key-Pass-1!"
    # the new key signs its own requests: it is a sub-account key with exactly what was asked
    sub = okx(replica, apiKey=d["apiKey"], secret=d["secretKey"], password=d["passphrase"])
    cfg = sub.privateGetAccountConfig()["data"][0]
    assert (cfg["perm"], cfg["label"], cfg["ip"]) == ("read_only,trade", "ICG-MM", IPS)
    assert cfg["mainUid"] == "628391047715821568" and cfg["uid"] != cfg["mainUid"]


def test_rest_key_shows_in_the_pages_key_list(replica: ReplicaServer) -> None:
    """One store: the key list the web page reads has the key made over REST."""
    d = create(main_key(replica))["data"][0]
    with httpx.Client(base_url=replica.base_url) as c:
        totp = pyotp.TOTP("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").now()
        r = c.post(
            "/priapi/v1/user/login",
            json={"email": "client@replica.test", "password": "Replica-Pass-1", "totp": totp},
        )
        assert r.json()["code"] == "0"
        keys = c.get("/priapi/v5/account/api-keys", params={"account": SUB}).json()["data"]
    assert [(k["label"], k["apiKey"], k["perms"]) for k in keys["keys"]] == [
        ("ICG-MM", d["apiKey"], ["read_only", "trade"])
    ]


def test_query_list_modify_delete(replica: ReplicaServer) -> None:
    ex = main_key(replica)
    d = create(ex)["data"][0]
    listed = ex.privateGetUsersSubaccountApikey({"subAcct": SUB})["data"]
    assert listed == [
        {
            "label": "ICG-MM",
            "apiKey": d["apiKey"],
            "perm": "read_only,trade",
            "ip": IPS,
            "ts": d["ts"],
        }
    ]  # no secret, no passphrase
    one = ex.privateGetUsersSubaccountApikey({"subAcct": SUB, "apiKey": d["apiKey"]})["data"]
    assert one == listed
    subs = ex.privateGetUsersSubaccountList()["data"]
    assert [s["subAcct"] for s in subs] == ["icg-mm-sub1", "icg-mm-sub2", "icg-mm-sub3"]
    assert subs[0]["type"] == "1" and subs[0]["enable"] is True
    time.sleep(1.0)  # modify and delete share OKX's 1 request per second
    mod = ex.privatePostUsersSubaccountModifyApikey(
        {
            "subAcct": SUB,
            "apiKey": d["apiKey"],
            "label": "ICG-MM2",
            "perm": "read_only",
            "ip": "127.0.0.1",
        }
    )["data"][0]
    assert (mod["label"], mod["perm"], mod["ip"]) == ("ICG-MM2", "read_only", "127.0.0.1")
    time.sleep(1.0)
    gone = ex.privatePostUsersSubaccountDeleteApikey({"subAcct": SUB, "apiKey": d["apiKey"]})
    assert gone["data"] == [{"subAcct": SUB}]
    assert ex.privateGetUsersSubaccountApikey({"subAcct": SUB})["data"] == []
    time.sleep(1.0)
    refused(
        lambda: ex.privatePostUsersSubaccountDeleteApikey({"subAcct": SUB, "apiKey": d["apiKey"]}),
        "59506",
    )


def test_rate_limit_one_create_per_second_per_user(replica: ReplicaServer) -> None:
    ex = main_key(replica)
    create(ex, label="first")
    # another main key of the same user shares the limit (OKX: rate limit rule User ID)
    other = main_key(replica, label="main-rw-2")
    refused(lambda: create(other, label="second"), "50011")
    raw = httpx.post(
        replica.base_url + "/api/v5/users/subaccount/apikey",
        content=json.dumps({"subAcct": SUB, "label": "x", "passphrase": "Sub-Key-Pass-1!"}),
        headers={"Content-Type": "application/json"},
    )
    assert raw.status_code == 401  # unsigned: refused before the limit is looked at
    time.sleep(1.05)
    assert create(other, label="second")["code"] == "0"


def test_http_status_and_envelope_of_a_refusal(replica: ReplicaServer) -> None:
    key = add_key(replica, label="main-rw", perms=["read_only", "trade"], ips=["127.0.0.1"])
    path = "/api/v5/users/subaccount/apikey"
    body = json.dumps(
        {"subAcct": SUB, "label": "ICG-MM", "passphrase": "Sub-Key-Pass-1!", "perm": "withdraw"}
    )
    headers = {
        **key_headers(key, path=path, method="POST", body=body),
        "Content-Type": "application/json",
    }
    r = httpx.post(replica.base_url + path, content=body, headers=headers)
    assert r.status_code == 200
    assert r.json() == {
        "code": "59504", "msg": "The sub account does not support the withdrawal function", "data": []
    }  # fmt: skip
    time.sleep(1.05)
    body = json.dumps({"label": "ICG-MM", "passphrase": "Sub-Key-Pass-1!"})
    headers = {
        **key_headers(key, path=path, method="POST", body=body),
        "Content-Type": "application/json",
    }
    r = httpx.post(replica.base_url + path, content=body, headers=headers)
    assert r.status_code == 400
    assert r.json() == {"code": "50014", "msg": "Parameter subAcct can not be empty.", "data": []}


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"perm": "read_only,trade,withdraw"}, "59504"),
        ({"perm": "read_only,admin"}, "51000"),
        ({"ip": "127.0.0.1,not-an-ip"}, "51000"),
        ({"ip": ",".join(f"198.51.100.{i}" for i in range(1, 22))}, "59503"),
        ({"passphrase": "short"}, "59505"),
        ({"subAcct": "no-such-sub"}, "51000"),
        ({"label": "bad/label"}, "51000"),
    ],
)
def test_create_refusals_create_nothing(replica: ReplicaServer, extra: dict, code: str) -> None:
    ex = main_key(replica)
    text = refused(lambda: create(ex, **extra), code)
    assert "secretKey" not in text
    with replica.world.lock:
        assert [
            k for k in replica.world.accounts["client@replica.test"].keys if k.account != "main"
        ] == []


def test_label_taken_59502(replica: ReplicaServer) -> None:
    ex = main_key(replica)
    create(ex)
    time.sleep(1.05)
    refused(lambda: create(ex), "59502")
    time.sleep(1.05)
    assert create(ex, sub="icg-mm-sub2")["code"] == "0"  # the label is per sub-account


@pytest.mark.scenarios("sub-key-limit")
def test_sub_account_at_50_keys_59501(replica: ReplicaServer) -> None:
    ex = main_key(replica)
    assert len(ex.privateGetUsersSubaccountApikey({"subAcct": SUB})["data"]) == 50
    refused(lambda: create(ex), "59501")
    time.sleep(1.05)
    assert create(ex, sub="icg-mm-sub2")["code"] == "0"


@pytest.mark.scenarios("rest-label-race")
def test_label_race_scenario_59502(replica: ReplicaServer) -> None:
    ex = main_key(replica)
    assert ex.privateGetUsersSubaccountApikey({"subAcct": SUB})["data"] == []
    refused(lambda: create(ex), "59502")


def test_sub_account_key_is_not_a_main_key_59500(replica: ReplicaServer) -> None:
    ex = main_key(replica, account=SUB)
    refused(lambda: create(ex), "59500")
    refused(lambda: ex.privateGetUsersSubaccountList(), "59500")


def test_read_only_main_key_50120(replica: ReplicaServer) -> None:
    ex = main_key(replica, perms=["read_only"])
    refused(lambda: create(ex), "50120")
    assert ex.privateGetUsersSubaccountList()["code"] == "0"  # reading needs Read only


def test_main_key_without_ip_50035(replica: ReplicaServer) -> None:
    ex = main_key(replica, ips=[])
    text = refused(lambda: create(ex), "50035")
    assert "must be bound to IP" in text


def test_rest_calls_record_never_the_passphrase(replica: ReplicaServer) -> None:
    create(main_key(replica))
    calls = httpx.get(replica.base_url + "/replica/rest-calls").json()["calls"]
    assert [(c["call"], c["perm"]) for c in calls] == [("create", "read_only,trade")]
    assert "Sub-Key-Pass-1!" not in json.dumps(calls)
