"""Signed REST verification of a stored key: `GET /api/v5/account/config` through ccxt.

The exchange answers with the key's own view of itself (`perm`, `ip`, `label`);
this module compares that with what was requested and explains every refusal in
plain words with the next step. ccxt does the signing; nothing here signs by hand.

Outcomes (`VerifyResult.status`):

* ``ok``      - the exchange confirms exactly read_only,trade, the IP set and the label;
* ``failed``  - the key is wrong (withdraw enabled: CRITICAL; other permissions, IPs,
  label; passphrase, secret or key refused; demo/live mismatch);
* ``pending`` - OKX refused this machine's address (50110): expected on a client's
  machine, the key itself is untested; run verify from a whitelisted host or a proxy;
* ``error``   - the key could not be tested (network, this machine's clock, record
  unreadable). Not written to the vault metadata.

ok/failed/pending are written to the record's clear metadata with `Vault.update_meta`
(`verification`, `verified_at`, `verify_detail`), never with a secret in them.
ccxt is imported lazily so the CLI's `--help` stays instant, and only its okx client.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from agent.custody import redact
from agent.custody.results import VerifyInputError as VerifyInputError
from agent.custody.results import VerifyResult as VerifyResult
from agent.custody.results import overall_exit as overall_exit
from agent.exchanges.okx import (
    ACCOUNT_CONFIG,
    PERMISSIONS,
    TIMESTAMP_EXPIRED,
    WITHDRAW,
    ccxt_okx,
    clock_offset,
    explain,
    make_exchange,
    okx_code,
    rest_url,
    sites,
)
from agent.ips import comparable
from agent.lists import split_list

if TYPE_CHECKING:
    from agent.custody.vault import Credential, Vault

NETWORK_TRIES = 3
BACKOFF = (0.5, 1.0)  # seconds slept between network tries
PROXY_SCHEMES = ("http", "https", "socks4", "socks4a", "socks5", "socks5h")


# -- addresses, permissions, endpoints ---------------------------------------------
def ip_set(values: Iterable[str]) -> set[str]:
    """Addresses as compared (agent.ips' strict rule): canonical text, else as written."""
    return {comparable(v) for v in values if v and v.strip()}


def check_config(cfg: dict[str, Any], cred: Credential) -> tuple[dict[str, str], list[str], bool]:
    """Compare the exchange's view with the request: (checks, problems, critical)."""
    checks: dict[str, str] = {}
    problems: list[str] = []
    perms = split_list(cfg.get("perm"))
    critical = WITHDRAW in perms
    if critical:
        checks["perm"] = "CRITICAL: withdraw enabled"
        problems.append(
            f"CRITICAL: the key has the WITHDRAW permission (exchange shows perm "
            f"{','.join(perms)}). Delete this key on OKX now and create a new Read + Trade key"
        )
    elif sorted(perms) != sorted(PERMISSIONS) or len(perms) != len(PERMISSIONS):
        checks["perm"] = "mismatch"
        problems.append(
            f"permissions are {','.join(perms) or '(none)'}, expected read_only,trade: "
            "delete the key and create it again with exactly Read + Trade"
        )
    else:
        checks["perm"] = "ok"
    got_ips, want_ips = ip_set(split_list(cfg.get("ip"))), ip_set(cred.ips)
    if got_ips == want_ips:
        checks["ip"] = "ok"
    else:
        checks["ip"] = "mismatch"
        parts = []
        if want_ips - got_ips:
            parts.append(f"missing {', '.join(sorted(want_ips - got_ips))}")
        if got_ips - want_ips:
            parts.append(f"unexpected {', '.join(sorted(got_ips - want_ips))}")
        if not got_ips:
            parts.append("the key has NO IP allowlist (usable from anywhere)")
        problems.append(
            f"IP allowlist differs ({'; '.join(parts)}): fix the key's IPs on OKX "
            "(API management, edit) to exactly the requested set"
        )
    got_label = str(cfg.get("label", ""))
    if got_label == cred.label:
        checks["label"] = "ok"
    else:
        checks["label"] = "mismatch"
        problems.append(
            f"label is {got_label!r}, expected {cred.label!r}: this may be a different key; "
            "check the record against OKX's key list"
        )
    return checks, problems, critical


def endpoint_for(cred: Credential, base_url: str | None = None) -> str:
    """`--base-url`, else the record's base_url (replica), else the REST API of the record's
    site as the flow gives it (EEA and US keys are served by their own REST hosts)."""
    if base_url:
        return base_url.rstrip("/")
    if cred.base_url:
        return cred.base_url.rstrip("/")
    try:
        return rest_url(cred.site)
    except KeyError:
        raise VerifyInputError(
            f"record's site {cred.site!r} is not in the flow (known: {', '.join(sites())})"
        ) from None


def safe_proxy(proxy: str | None) -> str | None:
    """The proxy as shown and stored: scheme://host:port, credentials dropped."""
    if not proxy:
        return None
    parts = urlsplit(proxy)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def check_proxy(proxy: str) -> None:
    parts = urlsplit(proxy)
    scheme = parts.scheme.lower()
    if scheme not in PROXY_SCHEMES or not parts.hostname:
        raise VerifyInputError(
            f"--proxy {safe_proxy(proxy) or proxy!r}: give a URL like http://host:3128 or "
            f"socks5://host:1080 (schemes: {', '.join(PROXY_SCHEMES)})"
        )
    if parts.password:
        redact.register_secret(parts.password)
    if scheme.startswith("socks"):
        try:
            import socks  # noqa: F401  (PySocks: what requests needs for SOCKS)
        except ImportError:
            raise VerifyInputError(
                "--proxy socks: SOCKS proxies need PySocks, an onboard dependency missing from "
                "this environment (pip install PySocks), or use an HTTP proxy"
            ) from None


# -- verification --------------------------------------------------------------------
def verify_credential(
    cred: Credential,
    rid: str = "",
    *,
    base_url: str | None = None,
    proxy: str | None = None,
    demo: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] | None = None,
) -> VerifyResult:
    """One signed `GET /api/v5/account/config` for `cred`, compared with the request. A
    demo-trading record (or `demo`, for records made before they said so) is sent in ccxt's
    sandbox mode: OKX's x-simulated-trading header."""
    _okx, ccxt = ccxt_okx()  # ccxt's errors, under the name they have in ccxt

    demo = demo or cred.demo
    redact.register_secret(cred.secret)
    redact.register_secret(cred.passphrase)
    redact.register_key(cred.api_key)
    res = VerifyResult(
        id=rid,
        label=cred.label,
        api_key_masked=redact.mask_key(cred.api_key),
        status="error",
        detail="",
        demo=demo,
        proxy=safe_proxy(proxy),
    )
    try:
        if proxy:
            check_proxy(proxy)
        res.endpoint = endpoint_for(cred, base_url)
        ex = make_exchange(cred, res.endpoint, demo=demo, proxy=proxy)
    except VerifyInputError as exc:
        res.detail = redact.redact(str(exc))
        return res

    resp: Any = None
    for attempt in range(1, NETWORK_TRIES + 1):
        try:
            resp = getattr(ex, ACCOUNT_CONFIG)()
            break
        except ccxt.BaseError as exc:
            code, msg = okx_code(exc)
            if code == TIMESTAMP_EXPIRED or isinstance(exc, ccxt.InvalidNonce):
                res.code = code or TIMESTAMP_EXPIRED
                try:
                    res.clock_offset_s = clock_offset(ex)
                    side = "behind" if res.clock_offset_s > 0 else "ahead of"
                    off = f"{abs(res.clock_offset_s):.1f} s {side}"
                except Exception as texc:  # the time endpoint is best effort
                    off = f"unknown offset ({redact.redact(type(texc).__name__)})"
                res.detail = (
                    f"OKX says the request timestamp expired (50102): this machine's clock is "
                    f"{off} OKX's (OKX accepts 30 s); sync the clock (NTP, e.g. "
                    "`timedatectl set-ntp true`) and run verify again"
                )
                return res
            if code is not None:
                res.code = code
                res.status, res.detail = explain(code, msg, demo)
                return res
            if isinstance(exc, ccxt.NetworkError) and attempt < NETWORK_TRIES:
                if log:
                    log(
                        f"network error talking to {res.endpoint} "
                        f"(try {attempt}/{NETWORK_TRIES}): {redact.redact(type(exc).__name__)}; "
                        "retrying"
                    )
                sleep(BACKOFF[min(attempt - 1, len(BACKOFF) - 1)])
                continue
            if isinstance(exc, ccxt.NetworkError):
                via = f" through the proxy {res.proxy}" if res.proxy else ""
                res.detail = (
                    f"could not reach {res.endpoint}{via} after {NETWORK_TRIES} tries "
                    f"({type(exc).__name__}: {redact.redact(_short(exc))}); check the network "
                    "or proxy and run verify again"
                )
            else:
                res.detail = (
                    f"unexpected answer from {res.endpoint} "
                    f"({type(exc).__name__}: {redact.redact(_short(exc))})"
                )
            return res
        except Exception as exc:  # requests/urllib3 errors ccxt does not wrap (e.g. proxy setup)
            res.detail = (
                f"could not send the request to {res.endpoint} "
                f"({type(exc).__name__}: {redact.redact(_short(exc))})"
            )
            return res

    data = (resp or {}).get("data") or []
    if not data or not isinstance(data[0], dict):
        res.detail = f"the exchange answered without account config data: {_short(resp)}"
        return res
    cfg = data[0]
    res.seen = {
        "perm": str(cfg.get("perm", "")),
        "ip": str(cfg.get("ip", "")),
        "label": str(cfg.get("label", "")),
    }
    res.checks, problems, res.critical = check_config(cfg, cred)
    if problems:
        res.status, res.detail = "failed", "; ".join(problems)
    else:
        n = len(ip_set(cred.ips))
        res.status = "ok"
        res.detail = (
            f"perm read_only,trade; {n} IP{'s match' if n != 1 else ' matches'}; label {cred.label}"
        )
    return res


def _short(obj: Any, limit: int = 300) -> str:
    text = str(obj)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def record(vault: Vault, res: VerifyResult) -> None:
    """Write ok/failed/pending to the record's metadata; errors (key untested) are not written."""
    if res.status == "error" or not res.id:
        return
    if res.critical:
        vault.mark_unusable(res.id, redact.redact(res.detail))
    vault.update_meta(
        res.id,
        verification=redact.redact(res.verification),
        verified_at=res.verified_at,
        verify_detail=json.loads(redact.redact(json.dumps(res.meta_detail()))),
    )


def verify_stored(vault: Vault, rid: str, cred: Credential, **kw: Any) -> VerifyResult:
    """Verify a credential already in hand (e.g. just captured) and record the outcome.

    The request has been sent by the time the outcome is written: a metadata file that
    cannot be written turns the result into an error that says so (the key's own outcome
    kept in the detail; a failure stays a failure), never an exception.
    """
    from agent.custody.vault import VaultError

    res = verify_credential(cred, rid, **kw)
    try:
        record(vault, res)
    except VaultError as exc:
        res.detail = redact.redact(
            f"{res.verification}; but the outcome was not recorded: {_short(exc)}"
        )
        if res.status != "failed":
            res.status = "error"
    return res


def verify_record(vault: Vault, rid: str, identity: Any | None = None, **kw: Any) -> VerifyResult:
    """Decrypt record `rid` with the local identity, verify it, record the outcome. A record
    marked unusable is refused without sending anything: its key must be deleted. So is a
    record whose metadata cannot be read: it could hide that mark, and nothing could be
    recorded in it."""
    from agent.custody.vault import VaultError

    try:
        meta = vault.meta(rid)
    except VaultError as exc:
        return VerifyResult(
            id=rid,
            label="",
            api_key_masked="",
            status="error",
            detail=redact.redact(f"{_short(exc)}; nothing was sent"),
        )
    if meta.get("unusable"):
        return VerifyResult(
            id=rid,
            label=str(meta.get("label", "")),
            api_key_masked=str(meta.get("api_key_masked", "")),
            status="failed",
            critical=True,
            detail=f"marked unusable ({meta['unusable']}): delete this key on the exchange",
        )
    try:
        cred = vault.load(rid, identity or _identity(vault))
    except Exception as exc:
        return VerifyResult(
            id=rid,
            label=str(meta.get("label", "")),
            api_key_masked=str(meta.get("api_key_masked", "")),
            status="error",
            detail=f"cannot decrypt the record: {redact.redact(_short(exc))}",
        )
    return verify_stored(vault, rid, cred, **kw)


def _identity(vault: Vault) -> Any:
    """The local identity, never a freshly generated one (that could decrypt nothing)."""
    path = vault.settings.identity_file
    if not path.exists():
        raise FileNotFoundError(
            f"no age identity at {path}: run verify on the machine that holds the vault's "
            "identity (records encrypted to the firm's recipients need the firm's identity)"
        )
    return vault.local_identity()


def record_ids(vault: Vault) -> list[str]:
    """Every record in the vault, damaged ones included (each gets its own line)."""
    return vault.ids()
