"""The replica's OKX v5 REST API: public time and the signed `GET /api/v5/account/config`.

Behaviour follows okx.com's v5 API so that real clients (ccxt, python-okx, a hand
signer) work against the replica unchanged:

* Every response uses OKX's envelope ``{"code": "...", "msg": "...", "data": [...]}``;
  success is code ``"0"`` with HTTP 200, auth failures are HTTP 401 with ``data: []``.
* A private request carries ``OK-ACCESS-KEY``, ``OK-ACCESS-SIGN``,
  ``OK-ACCESS-TIMESTAMP`` and ``OK-ACCESS-PASSPHRASE``; ``x-simulated-trading: 1``
  selects the demo-trading environment. The signature is
  ``base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body))`` where
  requestPath is the path as sent plus ``?query`` when there is one.
* The timestamp must be ISO 8601 UTC with milliseconds (``2020-12-08T09:08:57.715Z``)
  and within 30 seconds of the replica's clock, either side.

Checks run in this order; the first failure is the answer:

1. missing headers, in code order: 50103 key, 50104 passphrase, 50106 sign,
   50107 timestamp;
2. 50111 the key is unknown;
3. 50101 the key's environment (demo or live) differs from the request's;
4. 50112 the timestamp is malformed, then 50102 it is more than 30 s off;
5. 50105 the passphrase is wrong;
6. 50113 the signature is wrong;
7. 50110 the key has an IP allowlist and the connecting address is not on it
   (addresses compared as parsed IPs; an IPv4-mapped IPv6 peer such as
   ``::ffff:127.0.0.1`` counts as its IPv4 address). A key with no IPs works
   from anywhere.

Secrets and signatures are compared in constant time.

Sub-account key management (OKX's "Sub-account" REST section, master accounts only):
``POST /api/v5/users/subaccount/apikey`` (create), ``GET`` the same path (query a
sub-account's keys), ``POST .../modify-apikey``, ``POST .../delete-apikey`` and
``GET /api/v5/users/subaccount/list``. After authentication, in this order:

1. 50011 (HTTP 429) the user's rate limit for that endpoint: 1 request per second for
   create, modify and delete, 20 per 2 seconds for the two queries (OKX limits them per
   user ID, so every key of one main account shares them);
2. 59500 the key belongs to a sub-account ("Only the APIKey of the main account has
   permission");
3. 50120 a write with a key without the Trade permission;
4. 50035 (HTTP 403) a write with a main key that is not bound to IP addresses (OKX: the
   master account's API key must be linked to IP addresses);
5. the request's own parameters: 50000 / 50002 an empty or broken body, 50014 a missing
   parameter, 51000 a parameter OKX refuses (an unknown sub-account, a label or an IP it
   cannot take), 59504 ``withdraw`` in ``perm`` (sub-account keys cannot have it), 59503
   more than 20 IPs, 59505 a passphrase outside the rules, 59506 an unknown API key,
   59502 a label the sub-account already uses, 59501 a sub-account already at 50 keys.

The keys live in the same store the web pages use: a key created here shows in the
sub-account's key list page and authenticates like any other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import re
import time
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from replica.state import (
    MAX_IPS,
    MAX_KEYS,
    NAME_RE,
    PERMS,
    Account,
    ApiKey,
    World,
    new_api_key,
    new_secret,
    passphrase_rules,
)

TIMESTAMP_WINDOW = 30.0  # seconds either side of the replica's clock
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

MESSAGES = {
    "50101": "APIKey does not match current environment.",
    "50102": "Timestamp request expired.",
    "50103": "Request header OK-ACCESS-KEY cannot be empty.",
    "50104": "Request header OK-ACCESS-PASSPHRASE cannot be empty.",
    "50105": "Request header OK-ACCESS-PASSPHRASE incorrect.",
    "50106": "Request header OK-ACCESS-SIGN cannot be empty.",
    "50107": "Request header OK-ACCESS-TIMESTAMP cannot be empty.",
    "50110": "Your IP {ip} is not in the APIKey bound IP list.",
    "50111": "Invalid OK-ACCESS-KEY.",
    "50112": "Invalid OK-ACCESS-TIMESTAMP.",
    "50113": "Invalid signature.",
}

# OKX's answers to sub-account key management, code -> (message, HTTP status).
SUB_MESSAGES = {
    "50000": ("Body for POST request cannot be empty.", 400),
    "50002": ("JSON syntax error", 400),
    "50011": ("Too Many Requests", 429),
    "50014": ("Parameter {p} can not be empty.", 400),
    "50035": ("This endpoint requires that APIKey must be bound to IP", 403),
    "50120": ("This API key doesn't have permission to use this function", 200),
    "51000": ("Parameter {p} error", 400),
    "59500": ("Only the APIKey of the main account has permission", 200),
    "59501": ("Only 50 APIKeys can be created per account", 200),
    "59502": ("Note name cannot be duplicate with the currently created APIKey note name", 200),
    "59503": ("Each APIKey can bind up to 20 IP addresses", 200),
    "59504": ("The sub account does not support the withdrawal function", 200),
    "59505": ("The passphrase format is incorrect", 200),
    "59506": ("APIKey does not exist", 200),
}
# Rate limits per user ID: bucket -> (requests, seconds).
SUB_LIMITS = {
    "create": (1, 1.0),
    "modify": (1, 1.0),
    "delete": (1, 1.0),
    "query": (20, 2.0),
    "list": (20, 2.0),
}
SUB_PERMS = ("read_only", "trade")  # what a sub-account key may be given


class SubError(Exception):
    """An OKX refusal of a sub-account key management call."""

    def __init__(self, code: str, **fmt: str) -> None:
        self.code = code
        msg, self.status = SUB_MESSAGES[code]
        self.msg = msg.format(**fmt)
        super().__init__(f"{code} {self.msg}")


class AuthError(Exception):
    def __init__(self, code: str, **fmt: str) -> None:
        self.code = code
        self.msg = MESSAGES[code].format(**fmt)
        super().__init__(f"{code} {self.msg}")


def envelope(code: str, msg: str, data: list[Any], status: int = 200) -> JSONResponse:
    return JSONResponse({"code": code, "msg": msg, "data": data}, status_code=status)


def sign(secret: str, timestamp: str, method: str, request_path: str, body: str = "") -> str:
    """OKX's signature: base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body))."""
    msg = f"{timestamp}{method.upper()}{request_path}{body}".encode()
    return base64.b64encode(hmac.new(secret.encode(), msg, hashlib.sha256).digest()).decode()


def okx_timestamp(when: float | None = None) -> str:
    """`2020-12-08T09:08:57.715Z` for `when` (default now), as OKX wants it."""
    dt = datetime.fromtimestamp(time.time() if when is None else when, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> float | None:
    if not TIMESTAMP_RE.match(text):
        return None
    try:
        dt = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    return dt.timestamp()


def normalize_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Parse an address; IPv4-mapped IPv6 (`::ffff:1.2.3.4`) becomes the IPv4 address."""
    try:
        ip = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
    return ip


def ip_allowed(client: str, allowlist: list[str]) -> bool:
    if not allowlist:
        return True
    peer = normalize_ip(client)
    if peer is None:
        return False
    return any(normalize_ip(entry) == peer for entry in allowlist)


def request_path(request: Request) -> str:
    """The path exactly as the client sent it, plus `?query` when present (what OKX signs)."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if raw else request.scope["path"]
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


def sub_uid(main_uid: str, sub: str) -> str:
    """A stable 18-digit uid for a sub-account (OKX gives each sub-account its own uid)."""
    n = int(hashlib.sha256(f"{main_uid}:{sub}".encode()).hexdigest(), 16)
    return str(10**17 + n % (9 * 10**17))


def account_config(acct: Account, key: ApiKey) -> dict[str, Any]:
    uid = acct.uid if key.account == "main" else sub_uid(acct.uid, key.account)
    return {
        "uid": uid,
        "mainUid": acct.uid,
        "acctLv": "2",
        "posMode": "net_mode",
        "autoLoan": False,
        "greeksType": "PA",
        "level": "Lv1",
        "levelTmp": "",
        "ctIsoMode": "automatic",
        "mgnIsoMode": "automatic",
        "roleType": "0",
        "traderInsts": [],
        "spotRoleType": "0",
        "spotTraderInsts": [],
        "opAuth": "0",
        "kycLv": "2",
        "label": key.label,
        "ip": ",".join(key.ips),
        "perm": ",".join(p for p in PERMS if p in key.perms),
        "liquidationGear": "-1",
        "enableSpotBorrow": False,
        "spotBorrowAutoRepay": False,
        "type": "0",
        "settleCcy": "USDT",
        "settleCcyList": ["USD", "USDC", "USDG"],
    }


def authenticate(world: World, request: Request, body: str) -> tuple[Account, ApiKey]:
    """Check a private request the way OKX does (order in the module docstring)."""
    h = request.headers
    api_key = h.get("OK-ACCESS-KEY", "")
    passphrase = h.get("OK-ACCESS-PASSPHRASE", "")
    signature = h.get("OK-ACCESS-SIGN", "")
    timestamp = h.get("OK-ACCESS-TIMESTAMP", "")
    for value, code in (
        (api_key, "50103"),
        (passphrase, "50104"),
        (signature, "50106"),
        (timestamp, "50107"),
    ):
        if not value:
            raise AuthError(code)

    with world.lock:
        found = world.find_key(api_key)
        if found is None:
            raise AuthError("50111")
        acct, key = found
        secret, key_passphrase, demo, ips = key.secret, key.passphrase, key.demo, list(key.ips)

    wants_demo = h.get("x-simulated-trading", "").strip() == "1"
    if wants_demo != demo:
        raise AuthError("50101")

    ts = parse_timestamp(timestamp)
    if ts is None:
        raise AuthError("50112")
    if abs(time.time() - ts) > TIMESTAMP_WINDOW:
        raise AuthError("50102")

    if not hmac.compare_digest(passphrase.encode(), key_passphrase.encode()):
        raise AuthError("50105")

    expected = sign(secret, timestamp, request.method, request_path(request), body)
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise AuthError("50113")

    client = request.client.host if request.client else ""
    if not ip_allowed(client, ips):
        peer = normalize_ip(client)
        raise AuthError("50110", ip=str(peer) if peer else client)
    return acct, key


def _ts(when: float) -> str:
    return str(int(when * 1000))


def sub_key_view(key: ApiKey) -> dict[str, Any]:
    """A sub-account key as OKX's query returns it: no secret, no passphrase."""
    return {
        "label": key.label,
        "apiKey": key.api_key,
        "perm": ",".join(p for p in PERMS if p in key.perms),
        "ip": ",".join(key.ips),
        "ts": _ts(key.created_at),
    }


def _param(d: dict[str, Any], name: str, required: bool = True) -> str:
    value = d.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise SubError("50014", p=name)
        return ""
    if not isinstance(value, str):
        raise SubError("51000", p=name)
    return value.strip()


def _sub(acct: Account, name: str) -> str:
    if name not in acct.subaccounts:
        raise SubError("51000", p="subAcct")
    return name


def _perms(text: str) -> list[str]:
    """`perm` as OKX takes it: comma-separated, read_only always included, never withdraw."""
    got = [p.strip() for p in text.split(",") if p.strip()]
    if "withdraw" in got:
        raise SubError("59504")
    if any(p not in SUB_PERMS for p in got):
        raise SubError("51000", p="perm")
    return [p for p in PERMS if p in {"read_only", *got}]


def _ips(text: str) -> list[str]:
    out: list[str] = []
    for raw in text.split(","):
        raw = raw.strip()
        if not raw:
            continue
        try:
            ip = str(ipaddress.ip_address(raw))
        except ValueError:
            raise SubError("51000", p="ip") from None
        if ip in out:
            raise SubError("51000", p="ip")
        out.append(ip)
    if len(out) > MAX_IPS:
        raise SubError("59503")
    return out


def _label(text: str) -> str:
    if not NAME_RE.match(text):
        raise SubError("51000", p="label")
    return text


def rest_routes(world: World) -> list[Route]:
    async def public_time(request: Request) -> Response:
        return envelope("0", "", [{"ts": str(int(time.time() * 1000))}])

    async def get_account_config(request: Request) -> Response:
        body = (await request.body()).decode("utf-8", "replace")
        try:
            acct, key = authenticate(world, request, body)
        except AuthError as err:
            return envelope(err.code, err.msg, [], 401)
        with world.lock:
            data = account_config(acct, key)
        return envelope("0", "", [data])

    def sub_endpoint(bucket: str, write: bool, fn: Any) -> Any:
        """Authentication, the user's rate limit, the main-account and permission rules, then
        `fn(acct, key, params)` under the world's lock; OKX's envelope either way."""

        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            body = raw.decode("utf-8", "replace")
            try:
                acct, key = authenticate(world, request, body)
            except AuthError as err:
                return envelope(err.code, err.msg, [], 401)
            try:
                limit, window = SUB_LIMITS[bucket]
                if not world.rate_ok(acct.uid, bucket, limit, window):
                    raise SubError("50011")
                if key.account != "main":
                    raise SubError("59500")
                if write and "trade" not in key.perms:
                    raise SubError("50120")
                if write and not key.ips:
                    raise SubError("50035")
                if write:
                    if not body.strip():
                        raise SubError("50000")
                    try:
                        params = json.loads(body)
                    except ValueError:
                        raise SubError("50002") from None
                    if not isinstance(params, dict):
                        raise SubError("50002")
                else:
                    params = dict(request.query_params)
                with world.lock:
                    data = fn(acct, key, params)
            except SubError as err:
                return envelope(err.code, err.msg, [], err.status)
            return envelope("0", "", data)

        return endpoint

    def create(acct: Account, main: ApiKey, d: dict[str, Any]) -> list[dict[str, Any]]:
        sub = _sub(acct, _param(d, "subAcct"))
        label = _label(_param(d, "label"))
        passphrase = _param(d, "passphrase")
        perms = _perms(_param(d, "perm", required=False))
        ips = _ips(_param(d, "ip", required=False))
        world.rest_calls.append(
            {"call": "create", "subAcct": sub, "label": label, "perm": d.get("perm"),
             "ip": d.get("ip"), "at": time.time()}
        )  # fmt: skip
        if not all(passphrase_rules(passphrase).values()) or any(c.isspace() for c in passphrase):
            raise SubError("59505")
        if world.knobs.rest_label_race and label not in {k.label for k in acct.keys_of(sub)}:
            acct.keys.append(
                ApiKey(
                    label=label,
                    account=sub,
                    api_key=new_api_key(),
                    secret=new_secret(),
                    passphrase="Racing-Key-1!",
                    perms=["read_only"],
                    ips=["198.51.100.12"],
                )
            )
        if label in {k.label for k in acct.keys_of(sub)}:
            raise SubError("59502")
        if len(acct.keys_of(sub)) >= MAX_KEYS:
            raise SubError("59501")
        key = ApiKey(
            label=label,
            account=sub,
            api_key=new_api_key(),
            secret=new_secret(),
            passphrase=passphrase,
            # grants-withdraw: an exchange bug the agent must catch after the fact.
            perms=[*perms, "withdraw"] if world.knobs.grants_withdraw else perms,
            ips=ips,
            demo=main.demo,
        )
        acct.keys.append(key)
        world.issued.append(key)
        view = sub_key_view(key)
        return [
            {
                "subAcct": sub,
                "label": key.label,
                "apiKey": key.api_key,
                "secretKey": key.secret,
                "passphrase": key.passphrase,
                "perm": view["perm"],
                "ip": view["ip"],
                "ts": view["ts"],
            }
        ]

    def query(acct: Account, main: ApiKey, d: dict[str, Any]) -> list[dict[str, Any]]:
        sub = _sub(acct, _param(d, "subAcct"))
        wanted = _param(d, "apiKey", required=False)
        keys = [k for k in acct.keys_of(sub) if not wanted or k.api_key == wanted]
        if wanted and not keys:
            raise SubError("59506")
        return [sub_key_view(k) for k in keys]

    def _key_of(acct: Account, sub: str, api_key: str) -> ApiKey:
        for k in acct.keys_of(sub):
            if k.api_key == api_key:
                return k
        raise SubError("59506")

    def modify(acct: Account, main: ApiKey, d: dict[str, Any]) -> list[dict[str, Any]]:
        sub = _sub(acct, _param(d, "subAcct"))
        key = _key_of(acct, sub, _param(d, "apiKey"))
        label = _param(d, "label", required=False)
        perm = _param(d, "perm", required=False)
        perms = _perms(perm) if perm else None
        ips = _ips(str(d["ip"])) if isinstance(d.get("ip"), str) else None
        world.rest_calls.append(
            {"call": "modify", "subAcct": sub, "label": d.get("label"), "perm": d.get("perm"),
             "ip": d.get("ip"), "at": time.time()}
        )  # fmt: skip
        if label:
            _label(label)
            if label != key.label and label in {k.label for k in acct.keys_of(sub)}:
                raise SubError("59502")
            key.label = label
        if perms is not None:
            key.perms = perms
        if ips is not None:
            key.ips = ips
        view = sub_key_view(key)
        return [{"subAcct": sub, **{k: view[k] for k in ("apiKey", "label", "perm", "ip", "ts")}}]

    def delete(acct: Account, main: ApiKey, d: dict[str, Any]) -> list[dict[str, Any]]:
        sub = _sub(acct, _param(d, "subAcct"))
        key = _key_of(acct, sub, _param(d, "apiKey"))
        world.rest_calls.append({"call": "delete", "subAcct": sub, "at": time.time()})
        acct.keys = [k for k in acct.keys if k is not key]
        return [{"subAcct": sub}]

    def sub_list(acct: Account, main: ApiKey, d: dict[str, Any]) -> list[dict[str, Any]]:
        wanted = _param(d, "subAcct", required=False)
        enable = _param(d, "enable", required=False)
        if enable not in ("", "true", "false"):
            raise SubError("51000", p="enable")
        limit = _param(d, "limit", required=False) or "100"
        if not limit.isdigit() or not 1 <= int(limit) <= 100:
            raise SubError("51000", p="limit")
        subs = [s for s in acct.subaccounts if not wanted or s == wanted]
        if enable == "false":
            subs = []  # the replica's sub-accounts are never frozen
        return [
            {
                "type": "1",
                "enable": True,
                "subAcct": s,
                "uid": sub_uid(acct.uid, s),
                "label": "",
                "mobile": "",
                "gAuth": False,
                "frozenFunc": [],
                "canTransOut": True,
                "ts": _ts(1_700_000_000 + i),
                "subAcctLv": "1",
                "firstLvSubAcct": s,
                "ifDma": False,
            }
            for i, s in enumerate(subs[: int(limit)])
        ]

    base = "/api/v5/users/subaccount"
    return [
        Route("/api/v5/public/time", public_time, methods=["GET"]),
        Route("/api/v5/account/config", get_account_config, methods=["GET"]),
        Route(f"{base}/apikey", sub_endpoint("create", True, create), methods=["POST"]),
        Route(f"{base}/apikey", sub_endpoint("query", False, query), methods=["GET"]),
        Route(f"{base}/modify-apikey", sub_endpoint("modify", True, modify), methods=["POST"]),
        Route(f"{base}/delete-apikey", sub_endpoint("delete", True, delete), methods=["POST"]),
        Route(f"{base}/list", sub_endpoint("list", False, sub_list), methods=["GET"]),
    ]
