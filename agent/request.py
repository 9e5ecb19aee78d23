"""What the firm asks for, validated before any browser opens.

Every refusal is one line a person can act on. Exchange-specific limits (name
pattern, IP count, passphrase length) come from the flow file's `rules`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from agent import ips, urls
from agent.engine.flow import Rules


class RequestError(ValueError):
    """A bad request, already phrased for the user (one line)."""


BASE32_TOKEN = re.compile(r"(?:[A-Z2-7]{16,}|(?=[a-z2-7]*[2-7])[a-z2-7]{16,})=*")
GROUPED_BASE32 = re.compile(r"(?:[A-Z2-7]{4}\s){3,}[A-Z2-7]{4,}|(?:[a-z2-7]{4}\s){3,}[a-z2-7]{4,}")
HEX32 = re.compile(r"[0-9A-Fa-f]{32}")
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def looks_secret(value: str, name: bool = False) -> str | None:
    """What secret `value` looks like ("looks like a TOTP secret ..."), or None.

    `name`: the value is a name people choose, such as a key's label. Capitals alone are then
    a name (MARKETMAKINGDESK), not a TOTP seed: a seed's base32 must also hold a digit 2-7.
    """
    b32 = [m.group(0) for m in GROUPED_BASE32.finditer(value)]
    b32 += [t for t in value.split() if BASE32_TOKEN.fullmatch(t)]
    if any(not name or re.search(r"[2-7]", t) for t in b32):
        return "looks like a TOTP secret (16+ base32 characters)"
    if any(HEX32.fullmatch(t) for t in re.split(r"[\s=:]+", value)):
        return "looks like an API secret (32 hex characters)"
    if UUID.search(value):
        return "looks like an API key (a UUID)"
    return None


def label_problem(value: str, rules: Rules) -> str | None:
    """The one rule for a key's name, `onboard run`'s and a roster's: the exchange's length and
    characters (length first: a 10,000-character label is too long whatever it holds), then
    not a secret, since a label is printed, logged and shown on screenshots in clear."""
    if not value:
        return "--label is empty: give the API key name, e.g. ICG-MM"
    if len(value) > rules.label_max:
        return f"--label is {len(value)} characters; the exchange allows {rules.label_max}"
    if not re.fullmatch(rules.label_pattern, value):
        return f"--label {value!r} has characters the exchange refuses ({rules.label_hint})"
    why = looks_secret(value, name=True)
    if why:
        return (
            f"--label {why}; a key's name is shown in clear everywhere: give a name, not a secret"
        )
    return None


# Example addresses (RFC 5737, RFC 3849): never anyone's server. Refused like private ones, and
# named, since a documentation address on a real allowlist is a copy-paste from an example.
DOCUMENTATION = [
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
]


def check_ip(raw: str, allow_private: bool) -> str:
    """One allowlist address in canonical text (agent.ips' rule), reachable from the firm's
    servers unless `allow_private`; RequestError saying what is wrong."""
    try:
        ip = ips.parse(raw)
    except ips.IPError as exc:
        raise RequestError(str(exc)) from None
    if not allow_private:
        kind = (
            "unspecified"
            if ip.is_unspecified
            else "loopback"
            if ip.is_loopback
            else "link-local"
            if ip.is_link_local
            else "multicast"
            if ip.is_multicast
            else "reserved"
            if ip.is_reserved
            else "documentation-range"
            if any(ip in net for net in DOCUMENTATION)
            else "private"
            if ip.is_private
            else "non-public"
            if not ip.is_global
            else None
        )
        if kind:
            raise RequestError(
                f"{kind} IP address {raw.strip()} cannot reach OKX from the firm's servers "
                "(use the public address, or --allow-private-ip for test setups)"
            )
    return str(ip)


def ip_problems(raws: list[str], allow_private: bool, rules: Rules) -> tuple[list[str], list[str]]:
    """An allowlist checked whole: (each good address in canonical text, every problem in
    order: a bad address, one given twice, more than the exchange takes). A roster reports
    them all; `check_ips` the first."""
    seen: list[str] = []
    problems: list[str] = []
    for raw in raws:
        try:
            ip = check_ip(raw, allow_private)
        except RequestError as exc:
            problems.append(str(exc))
            continue
        if ip in seen:
            problems.append(f"duplicate IP address: {raw.strip()}")
        seen.append(ip)
    if len(raws) > rules.max_ips:
        problems.append(
            f"{len(raws)} IP addresses given; the exchange allows at most {rules.max_ips}"
        )
    return seen, problems


def check_ips(raws: list[str], allow_private: bool, rules: Rules) -> list[str]:
    """An allowlist: each address checked and canonical, none twice, no more than the exchange
    takes. RequestError naming the first problem."""
    seen, problems = ip_problems(raws, allow_private, rules)
    if problems:
        raise RequestError(problems[0])
    return seen


def site_problem(site: str, sites: Iterable[str]) -> str | None:
    """A site the flow does not have (its `sites`), said with the ones it has."""
    known = list(sites)
    return None if site in known else f"--site must be one of {', '.join(known)}"


def check_base_url(v: str) -> str:
    """`--base-url` (a replica or test exchange): an origin only, no credentials, no plain http
    to another host; the origin, or RequestError. The value is not echoed when it does not
    parse (it may hold a password)."""
    try:
        parts = urlsplit(v)
    except ValueError as exc:  # an unclosed IPv6 bracket
        raise RequestError(f"--base-url is not a valid URL ({exc})") from None
    try:
        urls.check(v, "--base-url", ("http", "https"))
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise urls.URLError(
                f"--base-url {v!r} must be an origin only (no path or query)"  # no credentials: checked
            )
        urls.check_clear(v, "--base-url", "http")
    except urls.URLError as exc:
        raise RequestError(str(exc)) from None
    return f"{parts.scheme}://{parts.netloc}"


SUB_ACCOUNT_RE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


def check_sub_accounts(names: list[str]) -> list[str]:
    """Sub-account names, stripped; RequestError on a malformed or repeated one."""
    out: list[str] = []
    for raw in names:
        v = raw.strip()
        if not SUB_ACCOUNT_RE.fullmatch(v):
            raise RequestError(f"--sub-account {v!r} is not a valid sub-account name")
        if v in out:
            raise RequestError(f"--sub-account {v!r} is given twice")
        out.append(v)
    return out


def passphrase_problems(p: str, rules: Rules) -> list[str]:
    problems = []
    if not rules.passphrase_min <= len(p) <= rules.passphrase_max:
        problems.append(f"{rules.passphrase_min}-{rules.passphrase_max} characters")
    if not any(c.islower() for c in p):
        problems.append("a lowercase letter")
    if not any(c.isupper() for c in p):
        problems.append("an uppercase letter")
    if not any(c.isdigit() for c in p):
        problems.append("a number")
    if not any(not c.isalnum() and not c.isspace() for c in p):
        problems.append("a special character")
    if any(c.isspace() for c in p):
        problems.append("no spaces")
    return problems


class OnboardRequest(BaseModel):
    """One key to create. Permissions are not a field: they are always exactly Read + Trade."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str
    ips: list[str] = Field(default_factory=list)
    site: str = "global"  # one of the flow's `sites`
    base_url: str | None = None
    sub_account: str | None = None
    # Several sub-accounts: one key each, drafted together and submitted at once.
    sub_accounts: list[str] = Field(default_factory=list)
    allow_private_ip: bool = False
    passphrase: str | None = Field(default=None, repr=False)
    # A demo-trading key (OKX's simulated trading), made on the demo key pages.
    demo: bool = False

    @field_validator("label")
    @classmethod
    def _label(cls, v: str, info: Any) -> str:
        rules: Rules = (info.context or {}).get("rules") or Rules()
        v = v.strip()
        problem = label_problem(v, rules)
        if problem:
            raise RequestError(problem)
        return v

    @field_validator("sub_account")
    @classmethod
    def _sub(cls, v: str | None) -> str | None:
        return None if v is None else check_sub_accounts([v])[0]

    @field_validator("sub_accounts")
    @classmethod
    def _subs(cls, v: list[str]) -> list[str]:
        return check_sub_accounts(v)

    @property
    def accounts(self) -> list[str | None]:
        """The account of each key to create (None: the main account), in order."""
        return list(self.sub_accounts) if self.sub_accounts else [self.sub_account]

    @field_validator("base_url")
    @classmethod
    def _base(cls, v: str | None) -> str | None:
        return None if v is None else check_base_url(v)

    @field_validator("site")
    @classmethod
    def _site(cls, v: str, info: Any) -> str:
        problem = site_problem(v, (info.context or {}).get("sites") or default_sites())
        if problem:
            raise RequestError(problem)
        return v

    @model_validator(mode="after")
    def _ips_and_passphrase(self, info: Any) -> OnboardRequest:
        rules: Rules = (info.context or {}).get("rules") or Rules()
        if not self.ips:
            raise RequestError(
                "give at least one --ip: keys without an IP allowlist expire after 14 days "
                "and can be used from anywhere"
            )
        object.__setattr__(self, "ips", check_ips(self.ips, self.allow_private_ip, rules))
        if self.sub_accounts and self.sub_account:
            raise RequestError("give the sub-account(s) once: sub_account or sub_accounts")
        if len(self.sub_accounts) == 1:  # one key: the plain case
            object.__setattr__(self, "sub_account", self.sub_accounts[0])
            object.__setattr__(self, "sub_accounts", [])
        if len(self.sub_accounts) > rules.max_drafts:
            raise RequestError(
                f"{len(self.sub_accounts)} sub-accounts given; one submission takes at most "
                f"{rules.max_drafts} keys"
            )
        if self.passphrase is not None:
            problems = passphrase_problems(self.passphrase, rules)
            if problems:
                raise RequestError("passphrase must have " + ", ".join(problems))
        return self


def default_sites() -> list[str]:
    """The bundled flow's sites: a request checked without a flow in hand."""
    from agent.exchanges import bundled_flow

    return list(bundled_flow().sites)


def build_request(
    data: dict[str, Any], rules: Rules | None = None, sites: Iterable[str] | None = None
) -> OnboardRequest:
    """Validate against the flow's `rules` and `sites` (the bundled flow's when not given),
    turning pydantic's report into the first problem, one line."""
    context = {"rules": rules or Rules(), "sites": list(sites) if sites is not None else None}
    try:
        return OnboardRequest.model_validate(data, context=context)
    except ValidationError as exc:
        err = exc.errors()[0]
        ctx_err = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_err, RequestError):
            raise RequestError(str(ctx_err)) from None
        where = ".".join(str(p) for p in err.get("loc", ())) or "request"
        raise RequestError(f"{where}: {err['msg']}") from None
