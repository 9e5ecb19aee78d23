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
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
import time
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from replica.state import PERMS, Account, ApiKey, World

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

    return [
        Route("/api/v5/public/time", public_time, methods=["GET"]),
        Route("/api/v5/account/config", get_account_config, methods=["GET"]),
    ]
