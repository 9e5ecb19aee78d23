"""OKX, for what cannot be data in flows/okx.yaml: its REST vocabulary (permission names, the
calls onboard makes), the ccxt client aimed at one of its hosts, and its error codes in plain
words with the next step. `onboard verify` (agent.custody.verify), `onboard subkeys`
(agent.subkeys) and the run's signed REST check come here; none of them names OKX's codes or
builds a ccxt client itself. ccxt is imported lazily so the CLI's `--help` stays instant, and
only its okx client (`ccxt_okx`), not every exchange ccxt has.

ccxt does the signing; nothing here signs by hand.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from agent.custody.vault import Credential

NAME = "okx"  # flows/okx.yaml's `exchange`, and a Credential's
# The REST API's names of the permissions every key is made with (the pages call them Read and
# Trade: the flow's `permissions`), and the one that makes a key unusable.
READ_ONLY = "read_only"
TRADE = "trade"
PERMISSIONS = (READ_ONLY, TRADE)
PERM = ",".join(PERMISSIONS)  # the only permission string ever sent
WITHDRAW = "withdraw"

TIMEOUT_MS = 10_000
CONFIG_PATH = "/api/v5/account/config"  # the key's own view of itself: perm, ip, label
# ccxt's implicit methods for the calls onboard makes
ACCOUNT_CONFIG = "privateGetAccountConfig"
SUBACCOUNT_LIST = "privateGetUsersSubaccountList"
SUBACCOUNT_KEYS = "privateGetUsersSubaccountApikey"
SUBACCOUNT_CREATE_KEY = "privatePostUsersSubaccountApikey"
SUBACCOUNT_DELETE_KEY = "privatePostUsersSubaccountDeleteApikey"

TIMESTAMP_EXPIRED = "50102"
RATE_LIMITED = "50011"
RATE_TRIES = 3  # a 50011 (rate limit) is waited out and retried this many times
RATE_WAIT = 1.0
CREATE_INTERVAL = 1.0  # OKX: 1 create per second per user ID; waited on the clock
# Refusals that concern the signing key itself: the same answer for every sub-account, so a
# run over several stops at the first one.
MAIN_KEY_CODES = {
    "50035", "50100", "50101", "50102", "50105", "50110", "50111", "50113", "50120", "59500",
}  # fmt: skip

_load_lock = threading.Lock()  # ccxt_okx: one loading at a time
_warm_lock = threading.Lock()
_warming: list[threading.Thread] = []  # warm_ccxt's thread, once started

_CODE_RE = re.compile(r'"code"\s*:\s*"(\d+)"')
_MSG_RE = re.compile(r'"msg"\s*:\s*"([^"]*)"')
_IP_IN_MSG = re.compile(r"Your IP (\S+) is not")


def rest_url(site: str) -> str:
    """The REST API base of `site`, as flows/okx.yaml gives it (EEA and US keys are served by
    their own hosts); KeyError for a site the flow does not have."""
    from agent.exchanges import bundled_flow

    flow = bundled_flow()
    if site not in flow.sites:
        raise KeyError(site)
    return flow.rest_url(site)


def sites() -> list[str]:
    from agent.exchanges import bundled_flow

    return sorted(bundled_flow().sites)


def warm_ccxt() -> None:
    """Load ccxt's okx client (`ccxt_okx`) in a background thread, once: a run starts it when
    a key is stored, so the ~0.1 s of loading ccxt and requests overlaps the browser's last
    steps instead of delaying the signed check after them. A failure there is silent: the
    check's own `ccxt_okx` loads it again and says why."""
    with _warm_lock:
        if _warming or "ccxt.okx" in sys.modules:
            return
        _warming.append(threading.Thread(target=_warm, name="ccxt-warm", daemon=True))
    _warming[0].start()


def _warm() -> None:
    try:
        ccxt_okx()
    except Exception:
        pass


def ccxt_okx() -> tuple[Any, Any]:
    """ccxt's okx client class and ccxt's errors module, without ccxt's package init.

    `import ccxt` imports every exchange ccxt supports (~0.35 s of CPU more than okx alone,
    measured with bench/run.py's A B pairs): a run's signed check pays it after every key.
    Here the package is stood in for while `ccxt.okx` and `ccxt.base.errors` load, then
    removed, so a later `import ccxt` runs the real init over the same modules (the same
    classes: its `ccxt.okx` and `ccxt.BaseError` are these). When ccxt is already imported,
    its own. One thread at a time (a batch's entries, `warm_ccxt`'s): the stand-in is
    process-wide."""
    with _load_lock:
        return _ccxt_okx()


def _ccxt_okx() -> tuple[Any, Any]:
    import importlib.util
    import types

    full = sys.modules.get("ccxt")
    if full is not None and hasattr(full, "okx"):
        return full.okx, sys.modules["ccxt.base.errors"]
    spec = importlib.util.find_spec("ccxt")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("No module named 'ccxt'", name="ccxt")
    stand_in = types.ModuleType("ccxt")
    stand_in.__path__ = list(spec.submodule_search_locations)
    sys.modules["ccxt"] = stand_in
    try:
        from ccxt.base import errors
        from ccxt.okx import okx
    finally:
        if sys.modules.get("ccxt") is stand_in:
            del sys.modules["ccxt"]
    return okx, errors


def make_exchange(
    cred: Credential, endpoint: str, *, demo: bool = False, proxy: str | None = None
) -> Any:
    """A stock ccxt okx client aimed at `endpoint`, demo header when asked, proxy when given."""
    okx, _errors = ccxt_okx()
    ex = okx(
        {
            "apiKey": cred.api_key,
            "secret": cred.secret,
            "password": cred.passphrase,
            "enableRateLimit": False,
            "timeout": TIMEOUT_MS,
        }
    )
    if demo:
        ex.set_sandbox_mode(True)  # sends x-simulated-trading: 1; swaps urls["api"]
    ex.urls["api"] = {"rest": endpoint}  # after set_sandbox_mode, which replaces urls["api"]
    if proxy:
        if urlsplit(proxy).scheme.lower().startswith("socks"):
            ex.socksProxy = proxy
        elif urlsplit(endpoint).scheme.lower() == "https":
            # ccxt's sync client puts httpsProxy under requests' "https" key, which requests
            # uses for https:// targets (a plain http:// CONNECT proxy is the usual value);
            # httpProxy would be silently ignored for an https:// exchange URL.
            ex.httpsProxy = proxy
        else:
            ex.httpProxy = proxy
    return ex


def clock_offset(ex: Any) -> float:
    """Seconds OKX's clock is ahead of the timestamp ccxt signs with (negative: behind)."""
    before = ex.nonce()
    resp = ex.publicGetPublicTime()
    after = ex.nonce()
    server_ms = int(resp["data"][0]["ts"])
    return float(round((server_ms - (before + after) / 2) / 1000, 1))


class SubaccountKeys:
    """OKX's sub-account key calls, signed by ccxt (its implicit methods) with the main key:
    the sub-accounts, one sub-account's keys, create (Read + Trade only), delete. A rate
    limit is waited out; creates and deletes keep OKX's one-per-second pace. Not thread-safe."""

    def __init__(
        self,
        ex: Any,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.ex = ex
        self.clock = clock
        self.sleep = sleep
        self._last_create = -1e9  # monotonic time of the last create call's answer

    def call(self, method: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """One signed call through ccxt's implicit method; a 50011 is waited out."""
        _okx, errors = ccxt_okx()
        fn = getattr(self.ex, method)
        for attempt in range(1, RATE_TRIES + 1):
            try:
                resp = fn(params)
                data = resp.get("data") if isinstance(resp, dict) else None
                return [d for d in (data or []) if isinstance(d, dict)]
            except errors.BaseError as exc:
                code, _msg = okx_code(exc)
                if code == RATE_LIMITED and attempt < RATE_TRIES:
                    self.sleep(RATE_WAIT)
                    continue
                raise
        raise AssertionError("unreachable")

    def sub_accounts(self) -> list[str]:
        """Every sub-account OKX lists for the main account (GET /users/subaccount/list)."""
        rows = self.call(SUBACCOUNT_LIST, {})
        return [str(r["subAcct"]) for r in rows if r.get("subAcct")]

    def keys_of(self, sub: str) -> list[dict[str, Any]]:
        return self.call(SUBACCOUNT_KEYS, {"subAcct": sub})

    def _wait_create_slot(self) -> None:
        """OKX takes 1 create per second per user: wait until a second has passed since the
        previous create was answered (the exchange counted it before answering)."""
        gap = CREATE_INTERVAL - (self.clock() - self._last_create)
        if gap > 0:
            self.sleep(gap)

    def create(
        self, sub: str, label: str, ips: list[str], passphrase: str
    ) -> dict[str, Any] | None:
        """The new key as OKX answers it (apiKey, secretKey, perm, ip), or None without data."""
        body = {"subAcct": sub, "label": label, "passphrase": passphrase, "perm": PERM,
                "ip": ",".join(ips)}  # fmt: skip
        assert body["perm"] == ",".join((READ_ONLY, TRADE))  # never more than Read + Trade
        self._wait_create_slot()
        try:
            rows = self.call(SUBACCOUNT_CREATE_KEY, body)
        finally:
            self._last_create = self.clock()
        return rows[0] if rows else None

    def delete(self, sub: str, api_key: str) -> None:
        self._wait_create_slot()
        try:
            self.call(SUBACCOUNT_DELETE_KEY, {"subAcct": sub, "apiKey": api_key})
        finally:
            self._last_create = self.clock()


# -- errors in plain words -----------------------------------------------------------
def okx_code(exc: BaseException) -> tuple[str | None, str]:
    """OKX's code and message in a ccxt error, (None, "") when it holds none (network)."""
    text = str(exc)
    code = _CODE_RE.search(text)
    msg = _MSG_RE.search(text)
    return (code.group(1) if code else None), (msg.group(1) if msg else "")


def explain(code: str, msg: str, demo: bool) -> tuple[str, str]:
    """(status, plain words with the next step) for an OKX refusal of a signed call."""
    if code == "50110":
        ip = _IP_IN_MSG.search(msg)
        seen = f" ({ip.group(1)})" if ip else ""
        return "pending", (
            f"this machine's IP{seen} is not on the key's allowlist (OKX 50110) - expected on a "
            "client's machine; the key itself was not tested: run verify from a whitelisted host "
            "or through --proxy"
        )
    if code == "50105":
        return "failed", (
            "OKX refused the passphrase (50105): the stored passphrase is not the one the key "
            "was created with; delete the key on OKX and onboard it again"
        )
    if code == "50111":
        return "failed", (
            "OKX does not know this API key (50111): it was deleted, or belongs to another site "
            "(global/eea/us) or environment; check the key list on OKX, onboard again if it is gone"
        )
    if code == "50113":
        return "failed", (
            "OKX refused the signature (50113): the stored secret does not belong to this key; "
            "delete the key on OKX and onboard it again"
        )
    if code == "50101":
        other = "without --demo (live)" if demo else "with --demo (demo trading)"
        return "failed", (
            f"the key is not a {'demo-trading' if demo else 'live'} key (OKX 50101: demo vs live "
            f"mismatch); try again {other}"
        )
    return "error", f"OKX refused the request ({code}: {msg or 'no message'})"


def refusal_line(code: str, msg: str, sub: str, label: str, main_masked: str) -> str:
    """One line for a refused sub-account key call: OKX's code, what it means, what to do."""
    if code == "50120":
        return (
            f"OKX 50120: the main key {main_masked} lacks the Trade permission OKX requires to "
            "manage sub-account keys; use a main-account key with Read + Trade"
        )
    if code == "50035":
        return (
            f"OKX 50035: the main key {main_masked} is not bound to IP addresses, and OKX lets "
            "only an IP-bound main key manage sub-account keys; onboard a main key with --ip"
        )
    if code == "59500":
        return (
            f"OKX 59500: the key {main_masked} is not a main-account key (only the main "
            "account's API key may create sub-account keys); use the client's main-account "
            "key record with --from"
        )
    if code == "59501":
        return (
            f"OKX 59501: sub-account {sub} already has 50 API keys (OKX's limit); the client "
            "deletes one it no longer uses, then run again"
        )
    if code == "59502":
        return (
            f'OKX 59502: sub-account {sub} already has a key named "{label}" (made since the '
            "agent read its list); run again to see whose it is, or choose another --label"
        )
    if code in ("59503", "51000") and ("ip" in msg.split() or code == "59503"):
        return (
            f"OKX {code} ({msg}): OKX refused the IP allowlist for sub-account {sub}; give "
            "single public IPv4/IPv6 addresses, at most 20, with --ip"
        )
    if code == "51000" and "subAcct" in msg:
        return (
            f"OKX 51000 ({msg}): the main account has no sub-account {sub}; check the name "
            "(--all-sub-accounts takes every sub-account OKX lists)"
        )
    if code == "51000" and "label" in msg:
        return f"OKX 51000 ({msg}): OKX refused the label {label!r}; choose another --label"
    if code == "59505":
        return f"OKX 59505 ({msg}): OKX refused the generated passphrase; run again"
    if code == "59504":
        return f"OKX 59504 ({msg}): a sub-account key cannot have the withdrawal right"
    if code == RATE_LIMITED:
        return f"OKX 50011 (rate limit) after {RATE_TRIES} waits; run again in a minute"
    status, words = explain(code, msg, False)
    if status != "error":
        return f"the main key was refused: {words}"
    return f"OKX {code}: {msg or 'no message'}"
