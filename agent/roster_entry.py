"""One roster entry's fields, checked one at a time so every problem is reported with its line:
secrets refused (a field that is one, a value that looks like one), the label, site, base URL,
IPs and sub-accounts by the request's own rules and words (agent.request), the browser and code
sources, and a `sub_accounts_via: rest` entry by `onboard subkeys`' own plan
(agent.subkeys_plan). The result is an `Entry`: a validated request plus where and how to run it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.config import NAME_RE, name_problem
from agent.engine.flow import Rules
from agent.engine.human import CodeSources, validate_code_sources
from agent.exitcodes import AgentError
from agent.lists import WHITESPACE, split_list
from agent.request import (
    OnboardRequest,
    RequestError,
    build_request,
    check_base_url,
    check_sub_accounts,
    ip_problems,
    label_problem,
    looks_secret,
    site_problem,
)
from agent.session import browser_ws_problem
from agent.subkeys_plan import InputError, Plan, check_input

ENV_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
FACTORS = ("totp", "sms", "email")
# Field names that would carry a secret; each with what to give instead.
SECRET_FIELDS = {
    "totp_secret": "give totp_secret_env: the name of an environment variable that holds it",
    "totp": "give totp_secret_env: the name of an environment variable that holds it",
    "otp_secret": "give totp_secret_env: the name of an environment variable that holds it",
    "password": "the agent never types a password: the client logs in to the profile once",
    "passphrase": "the agent generates each key's passphrase and stores it encrypted",
    "secret": "secrets never go in a roster",
    "secret_key": "secrets never go in a roster",
    "api_key": "the exchange issues the key; the agent stores it encrypted",
    "api_secret": "secrets never go in a roster",
    "private_key": "secrets never go in a roster",
    "token": "secrets never go in a roster",
    "sms_code": "give sms_code_cmd: a command that prints the code",
    "email_code": "give email_code_cmd: a command that prints the code",
}


class _Fields(BaseModel):
    """Types only; the rules are checked one field at a time so every problem is reported."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    label: str | None = None
    ips: list[str] | None = None
    profile: str | None = None
    cdp: str | None = None
    browser_ws: str | None = None  # a Playwright browser server (fresh context, no profile)
    login_state: str | None = None  # a sealed login (agent.custody.logins): a fresh context
    account: str | None = None  # "main" or a sub-account name
    sub_account: str | None = None
    sub_accounts: list[str] | None = None
    site: str = "global"
    base_url: str | None = None
    allow_private_ip: bool = False
    totp_secret_env: str | None = None
    sms_code_cmd: str | None = None
    email_code_cmd: str | None = None
    code_prompt: list[str] | None = None
    human_timeout: float | None = None
    login_timeout: float | None = None
    timeout: float | None = None  # the whole entry, seconds
    # "rest": the sub-accounts' keys are made over OKX's REST API (`onboard subkeys`), signed
    # with the main key of `from` (an entry of this roster, or a vault record).
    sub_accounts_via: str = "browser"
    from_: str | None = Field(default=None, alias="from")


KNOWN = tuple(f.alias or n for n, f in _Fields.model_fields.items())
# What only a browser entry uses: refused when written on a `sub_accounts_via: rest` entry
# itself (a roster's defaults may still carry them for its browser entries).
BROWSER_ONLY = ("profile", "cdp", "browser_ws", "login_state", "totp_secret_env", "sms_code_cmd",
                "email_code_cmd", "code_prompt", "human_timeout", "login_timeout")  # fmt: skip


@dataclass
class Entry:
    """One key to create: a validated request plus where and how to run it."""

    id: str
    request: OnboardRequest
    line: int
    profile: str | None = None
    cdp: str | None = None
    codes: CodeSources = field(default_factory=CodeSources)
    human_timeout: float | None = None
    login_timeout: float | None = None
    timeout: float | None = None
    browser_ws: str | None = None
    login_state: str | None = None
    # sub_accounts_via: rest: `onboard subkeys`' own plan (its from_id: the roster's `from`),
    # and `after`, the entry whose main key signs, when `from` names an entry of the roster.
    rest: Plan | None = None
    after: str | None = None
    from_line: int = 0

    @property
    def label(self) -> str:
        return self.request.label

    @property
    def accounts(self) -> list[str]:
        """The account of each key the entry makes ("main" or a sub-account), in order."""
        if self.rest is not None:
            return list(self.rest.sub_accounts)
        return [a or "main" for a in self.request.accounts]

    @property
    def account(self) -> str:
        """Where the key(s) go: "main", a sub-account, or several (one submission or REST)."""
        return ", ".join(self.accounts)

    def public(self) -> dict[str, Any]:
        """What the journal and reports may show (no secrets exist in an entry anyway)."""
        return {
            "id": self.id,
            "label": self.label,
            "account": self.account,
            "profile": self.profile or "",
            "ips": list(self.request.ips),
            "target": self.request.base_url or self.request.site,
        }


def check_entry(
    name: str,
    item: dict[str, Any],
    lines: dict[str, int],
    rules: Rules,
    sites: list[str],
    problems: list[str],
) -> list[Entry]:
    where = lines.get("", 0)
    eid = item.get("id")
    who = f"{eid}" if isinstance(eid, str) and eid.strip() else f"entry on line {where}"
    before = len(problems)

    def bad(fld: str, msg: str) -> None:
        problems.append(f"{name}:{lines.get(fld, where)}: {who}: {msg}")

    # Secrets first: a field that is one, or a value that looks like one.
    for key in list(item):
        norm = str(key).strip().lower().replace("-", "_")
        if norm in SECRET_FIELDS or (
            not norm.endswith(("_env", "_cmd"))
            and any(w in norm for w in ("secret", "password", "passphrase"))
        ):
            hint = SECRET_FIELDS.get(norm, "secrets never go in a roster")
            bad(key, f"field {key!r} would put a secret in the roster; refused ({hint})")
            item.pop(key)
            continue
        # The id is a name; the label is checked by the request's own rule below (the same as
        # `onboard run`'s: a name in capitals is a name there, and length comes first).
        for v in item[key] if isinstance(item[key], list) else [item[key]]:
            if isinstance(v, str) and key not in ("id", "label"):
                why = looks_secret(v)
                if why:
                    bad(key, f"{key}: the value {why}; secrets never go in a roster "
                        "(reference them: totp_secret_env, sms_code_cmd, email_code_cmd)")  # fmt: skip
                    item.pop(key)
                    break
    unknown = sorted(k for k in item if k not in KNOWN)
    for key in unknown:
        bad(key, f"unknown field {key!r} (known: {', '.join(KNOWN)})")
        item.pop(key)
    if isinstance(item.get("ips"), str):
        item["ips"] = split_list(item["ips"], WHITESPACE + ";,|")
    for key in ("id", "label"):
        if key not in item:
            bad("", f"missing {key!r}")
    if "ips" not in item:
        bad("", "missing 'ips': keys without an IP allowlist expire after 14 days and can be "
            "used from anywhere")  # fmt: skip
    try:
        f = _Fields.model_validate(
            {k: v for k, v in item.items() if k in KNOWN and v is not None}, strict=False
        )
    except ValidationError as exc:
        for err in exc.errors():
            loc = str(err["loc"][0]) if err.get("loc") else ""
            bad(loc, f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}")
        return []
    complete = f.id is not None and f.label is not None and f.ips is not None
    for field_, what, value in (("id", "id", f.id), ("profile", "--profile", f.profile)):
        problem = None if value is None else name_problem(what, value)
        if problem:
            bad(field_, problem)
    if f.profile and f.cdp:
        bad("cdp", "give only one of profile and cdp")
    if f.login_state is not None:
        if problem := name_problem("login_state", f.login_state):
            bad("login_state", problem)
        elif f.profile or f.cdp:
            bad("login_state", "give only one of profile, cdp and login_state")
    if f.browser_ws is not None:
        problem = browser_ws_problem(f.browser_ws, "browser_ws")
        if problem:
            bad("browser_ws", problem)
        elif f.profile or f.cdp:
            bad("browser_ws", "give only one of profile, cdp and browser_ws")
    # Label, IPs, site, base URL: `onboard run`'s own rules and messages, one field at a time.
    if f.label is not None:
        problem = label_problem(f.label.strip(), rules)
        if problem:
            bad("label", problem)
    problem = site_problem(f.site, sites)
    if problem:
        bad("site", problem)
    if f.base_url is not None:
        try:
            check_base_url(f.base_url)
        except RequestError as exc:
            bad("base_url", str(exc))
    if f.ips is not None and not f.ips:
        bad("ips", "give at least one IP: keys without an IP allowlist expire after 14 days and "
            "can be used from anywhere")  # fmt: skip
    for problem in ip_problems(f.ips or [], f.allow_private_ip, rules)[1]:
        bad("ips", problem)
    rest = f.sub_accounts_via == "rest"
    if f.sub_accounts_via not in ("browser", "rest"):
        bad("sub_accounts_via", f"sub_accounts_via {f.sub_accounts_via!r}: use browser (the "
            "default: drafts on the key page) or rest (OKX's REST API, with the main key)")  # fmt: skip
    if rest:
        _rest_problems(f, lines, bad)
    elif f.from_ is not None and f.sub_accounts_via == "browser":
        bad("from", "from is only for sub_accounts_via: rest (the main key that signs the "
            "REST calls)")  # fmt: skip
    accounts: list[str | None]
    given = [k for k in ("account", "sub_account", "sub_accounts") if getattr(f, k) is not None]
    if len(given) > 1:
        bad(given[1], f"give only one of {', '.join(given)}")
        accounts = [None]
    elif f.sub_accounts is not None:
        accounts = list(f.sub_accounts)
        if not accounts:
            bad("sub_accounts", "sub_accounts is empty")
        if len(set(accounts)) != len(accounts):
            bad("sub_accounts", "a sub-account is listed twice")
        if len(accounts) > rules.max_drafts and not rest:  # REST: no submission, no drafts
            bad("sub_accounts", f"{len(accounts)} sub-accounts; one submission takes at most "
                f"{rules.max_drafts} keys (split the entry)")  # fmt: skip
    elif f.account is not None:
        accounts = [None if f.account.strip().lower() == "main" else f.account]
    else:
        accounts = [f.sub_account]
    for sub in accounts:
        if sub is None:
            continue
        try:
            check_sub_accounts([sub])
        except RequestError as exc:
            bad(given[0] if given else "sub_account", str(exc))
    # Code sources: references only, checked now (the variable is set, the command parses).
    for fld, val in (("totp_secret_env", f.totp_secret_env),):
        if val is not None and not ENV_RE.fullmatch(val):
            bad(fld, f"{fld} {val!r} is not an environment variable name")
    prompt = set(f.code_prompt or [])
    for p in sorted(prompt - set(FACTORS)):
        bad("code_prompt", f"code_prompt {p!r}: use totp, sms or email")
    codes = CodeSources(f.totp_secret_env, f.sms_code_cmd, f.email_code_cmd, prompt)
    if rest:
        codes = CodeSources()  # no browser, no human: a roster's defaults do not apply
    elif f.totp_secret_env is None or ENV_RE.fullmatch(f.totp_secret_env):
        try:
            validate_code_sources(codes)
        except AgentError as exc:
            msg = exc.message
            for flag in ("totp-secret-env", "sms-code-cmd", "email-code-cmd"):
                msg = msg.replace(f"--{flag}", flag.replace("-", "_"))
            fld = next((k for k in ("totp_secret_env", "sms_code_cmd", "email_code_cmd")
                        if msg.startswith(k)), "")  # fmt: skip
            bad(fld, msg)
    for fld in ("human_timeout", "login_timeout", "timeout"):
        val = getattr(f, fld)
        if val is not None and (not math.isfinite(val) or val <= 0):
            bad(fld, f"{fld} must be a positive, finite number of seconds (got {val})")
    if len(problems) > before or not complete:
        return []
    assert f.id is not None and f.ips is not None
    if rest:
        return _rest_entry(f, where, lines, rules, sites, bad)
    out = []
    # Several sub-accounts: one entry, one key per sub-account, drafted together and
    # submitted at once (the human verifies once).
    subs = [a for a in accounts if a is not None]
    req = build_request(
        {"label": f.label, "ips": f.ips, "site": f.site, "base_url": f.base_url,
         "sub_accounts": subs, "allow_private_ip": f.allow_private_ip},
        rules, sites,
    )  # fmt: skip
    out.append(
        Entry(
            f.id, req, where, f.profile, f.cdp, codes, f.human_timeout, f.login_timeout, f.timeout,
            browser_ws=f.browser_ws,
            login_state=f.login_state,
        )
    )  # fmt: skip
    return out


def _rest_problems(f: _Fields, lines: dict[str, int], bad: Callable[[str, str], None]) -> None:
    """What a `sub_accounts_via: rest` entry needs: its main key (`from`, not itself) and the
    list of sub-accounts; and no browser field of its own (it opens no browser)."""
    if f.from_ is None:
        bad("", "sub_accounts_via: rest needs 'from': the entry id, or the vault record id, of "
            "the client's main-account key")  # fmt: skip
    elif not NAME_RE.fullmatch(f.from_):
        bad("from", f"from {f.from_!r}: give the id of an entry of this roster or of a vault "
            "record (letters, digits, '.', '_' or '-')")  # fmt: skip
    elif f.from_ == f.id:
        bad("from", f"from {f.from_!r} is this entry itself; name the entry (or vault record) "
            "of the client's main-account key")  # fmt: skip
    if f.sub_accounts is None:
        bad("sub_account" if f.sub_account is not None else "account" if f.account else "",
            "sub_accounts_via: rest needs 'sub_accounts': the list of sub-accounts to create "
            "keys for")  # fmt: skip
    for fld in BROWSER_ONLY:
        if fld in lines and getattr(f, fld) is not None:
            bad(fld, f"{fld}: a sub_accounts_via: rest entry opens no browser (its keys are "
                "made over REST with the main key); remove it")  # fmt: skip


def _rest_entry(
    f: _Fields,
    where: int,
    lines: dict[str, int],
    rules: Rules,
    sites: list[str],
    bad: Callable[[str, str], None],
) -> list[Entry]:
    """A REST entry: `onboard subkeys`' own plan (check_input, the same rules and words),
    beside a main-account request that only names the label, IPs and place for the
    journal and the reports."""
    assert f.id is not None and f.label is not None and f.ips is not None and f.from_ is not None
    req = build_request(
        {"label": f.label, "ips": f.ips, "site": f.site, "base_url": f.base_url,
         "allow_private_ip": f.allow_private_ip},
        rules, sites,
    )  # fmt: skip
    try:
        plan = check_input(
            f.from_, f.label, f.ips, list(f.sub_accounts or []), False, f.allow_private_ip,
            req.base_url, rules,
        )  # fmt: skip
    except InputError as exc:
        bad("", str(exc))
        return []
    entry = Entry(f.id, req, where, timeout=f.timeout, rest=plan)
    entry.from_line = lines.get("from", where)
    return [entry]
