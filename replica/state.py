"""The replica's world: accounts, sessions, API keys, verification challenges, outbox.

All state sits behind one lock in memory; tests reset it through the
replica-only control endpoints. Rules (name, IPs, passphrase, limits) are
checked here so the web pages and the REST API agree on them.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyotp
import yaml

from replica.scenarios import Knobs

if TYPE_CHECKING:
    from replica.mutations import MutationSet

SEED_PATH = Path(__file__).with_name("seed.yaml")
log = logging.getLogger("replica")

MAX_KEYS = 50
MAX_IPS = 20
FACTOR_ORDER = ("totp", "sms", "email")
PERMS = ("read_only", "trade", "withdraw")
NAME_RE = re.compile(r"^[A-Za-z0-9 _.\-]{1,50}$")
CODE_TTL = 600.0
RESEND_AFTER = 60


class ReplicaError(Exception):
    """A refusal the user sees: message as shown in the UI, plus the field it belongs to."""

    def __init__(self, message: str, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


@dataclass
class ApiKey:
    label: str
    account: str  # "main" or a sub-account name
    api_key: str
    secret: str
    passphrase: str
    perms: list[str]
    ips: list[str]
    used_for: str = "api_trading"  # or "third_party"
    demo: bool = False
    created_at: float = field(default_factory=time.time)
    challenge: str = ""  # the verification that created it (UI-created keys only)

    def public(self) -> dict[str, Any]:
        """What the key list shows: never the secret or passphrase."""
        return {
            "label": self.label,
            "account": self.account,
            "apiKey": self.api_key,
            "perms": self.perms,
            "ips": self.ips,
            "usedFor": self.used_for,
            "createdAt": datetime.fromtimestamp(self.created_at, UTC).strftime("%Y-%m-%d %H:%M:%S"),
        }


@dataclass
class Account:
    email: str
    password: str
    uid: str
    totp_secret: str | None
    phone: str
    factors: list[str]
    subaccounts: list[str]
    keys: list[ApiKey] = field(default_factory=list)

    def keys_of(self, account: str, demo: bool = False) -> list[ApiKey]:
        """The account's live keys, or its demo-trading keys (a list and a limit of their own)."""
        return [k for k in self.keys if k.account == account and k.demo == demo]

    def masked_email(self) -> str:
        local, _, domain = self.email.partition("@")
        return f"{local[:2]}***@{domain[:2]}***{domain[-2:]}"

    def masked_phone(self) -> str:
        digits = self.phone.replace(" ", "")
        return f"{digits[:3]}****{digits[-4:]}"


@dataclass
class Draft:
    label: str
    account: str
    used_for: str
    ips: list[str]
    perms: list[str]
    passphrase: str


@dataclass
class Challenge:
    id: str
    email: str
    drafts: list[Draft]
    steps: list[str]
    done: list[str] = field(default_factory=list)
    codes: dict[str, tuple[str, float]] = field(default_factory=dict)  # factor -> (code, issued)
    finished: bool = False
    completed: int = 0  # clicks on Complete in the "API key created" dialog of its keys

    def current(self) -> str | None:
        for step in self.steps:
            if step not in self.done:
                return step
        return None


@dataclass
class Session:
    token: str
    email: str
    created: float = field(default_factory=time.time)
    expire_armed: bool = False  # session-expires: the next account call logs out
    # Demo trading, as on okx.com: the API page opened with ?go-demo-trading=1 switches the
    # session to demo trading (its own key list; keys made there are demo keys, which the REST
    # API accepts only with x-simulated-trading: 1); ?go-live-trading=1 switches back.
    demo: bool = False


@dataclass
class OutboxMessage:
    to: str
    channel: str  # "sms" or "email"
    code: str
    challenge: str
    sent_at: float


def new_api_key() -> str:
    return str(uuid.uuid4())


def new_secret() -> str:
    return secrets.token_hex(16).upper()


def validate_ip(raw: str) -> str:
    """One allowlist entry as OKX takes it: a single IPv4/IPv6 address, no ranges."""
    text = raw.strip()
    if not text:
        raise ReplicaError("Enter an IP address", "ips")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ReplicaError(f"Invalid IP address: {text}", "ips") from None


def validate_ips(raw: list[str]) -> list[str]:
    out: list[str] = []
    for item in raw:
        ip = validate_ip(item)
        if ip in out:
            raise ReplicaError(f"Duplicate IP address: {ip}", "ips")
        out.append(ip)
    if len(out) > MAX_IPS:
        raise ReplicaError(f"You can add up to {MAX_IPS} IP addresses", "ips")
    return out


def passphrase_rules(p: str) -> dict[str, bool]:
    """The five rules of the live checklist, in the page's order."""
    return {
        "length": 8 <= len(p) <= 32,
        "lower": any(c.islower() for c in p),
        "upper": any(c.isupper() for c in p),
        "number": any(c.isdigit() for c in p),
        "special": any(not c.isalnum() and not c.isspace() for c in p),
    }


def validate_draft(d: dict[str, Any], account: Account) -> Draft:
    label = str(d.get("label", "")).strip()
    if not label:
        raise ReplicaError("Enter an API key name", "label")
    if not NAME_RE.match(label):
        raise ReplicaError(
            "API key name can only contain letters, numbers, spaces, '-', '_' and '.' (max 50)",
            "label",
        )
    sub = str(d.get("account") or "main")
    if sub != "main" and sub not in account.subaccounts:
        raise ReplicaError("Select a valid account", "account")
    used_for = str(d.get("usedFor") or "api_trading")
    if used_for not in ("api_trading", "third_party"):
        raise ReplicaError("Select what this API key is used for", "usedFor")
    ips = validate_ips([str(x) for x in d.get("ips") or []])
    perms = [str(p) for p in d.get("perms") or []]
    if "read_only" not in perms:
        perms.insert(0, "read_only")
    for p in perms:
        if p not in PERMS:
            raise ReplicaError(f"Unknown permission: {p}", "perms")
    perms = [p for p in PERMS if p in perms]
    passphrase = str(d.get("passphrase") or "")
    if not passphrase:
        raise ReplicaError("Enter a passphrase", "passphrase")
    if not all(passphrase_rules(passphrase).values()):
        raise ReplicaError("Your passphrase doesn't meet the requirements", "passphrase")
    return Draft(label, sub, used_for, ips, perms, passphrase)


class World:
    """Everything the replica knows, guarded by one lock (requests are short)."""

    def __init__(self, seed: Path | None = None, scenarios: list[str] | None = None) -> None:
        self.lock = threading.RLock()
        self.seed_path = seed or SEED_PATH
        self.scenario_names: list[str] = []
        self.knobs = Knobs()
        self.accounts: dict[str, Account] = {}
        self.sessions: dict[str, Session] = {}
        self.challenges: dict[str, Challenge] = {}
        self.outbox: list[OutboxMessage] = []
        self.issued: list[ApiKey] = []  # every key created through the UI, for tests
        # Ground truth for the fuzz: what each field held at each Submit all (refused ones
        # too), and clicks on decoy controls (replica/mutations.py `decoys`).
        self.submits: list[dict[str, Any]] = []
        self.decoy_clicks: list[str] = []
        self.mutations: MutationSet | None = None
        self.submit_errors_left = 0
        self.expired_once: set[str] = set()
        # REST calls that manage sub-account keys, as received (passphrase left out), and
        # each user's recent calls per rate-limit bucket (OKX limits these per user ID).
        self.rest_calls: list[dict[str, Any]] = []
        self.rate_hits: dict[tuple[str, str], list[float]] = {}
        self.reset(scenarios or [])

    # -- setup -----------------------------------------------------------
    def reset(self, scenarios: list[str] | None = None, mutate: str | int | None = None) -> None:
        """Back to the seed, with these scenarios; `mutate` (a seed, or `7:late`) adds that
        seed's page mutations, the same as the scenario name `mutate:SEED`."""
        from replica.mutations import draw, parse_spec
        from replica.scenarios import MUTATE, combine

        names = list(scenarios or [])
        if mutate is not None and str(mutate) != "":
            names.append(f"{MUTATE}{mutate}")
        knobs = combine(names)  # a bad name fails before anything changes
        muts = None
        for n in names:
            if n.startswith(MUTATE):
                muts = draw(*parse_spec(n[len(MUTATE) :]))
        with self.lock:
            data = yaml.safe_load(self.seed_path.read_text())
            self.accounts = {}
            for a in data.get("accounts", []):
                acct = Account(
                    email=a["email"].lower(),
                    password=a["password"],
                    uid=str(a["uid"]),
                    totp_secret=a.get("totp_secret"),
                    phone=a.get("phone", ""),
                    factors=list(a.get("factors", ["totp"])),
                    subaccounts=list(a.get("subaccounts", [])),
                )
                for k in a.get("keys", []):
                    acct.keys.append(
                        ApiKey(
                            label=k["label"],
                            account=k.get("account", "main"),
                            api_key=k.get("api_key") or new_api_key(),
                            secret=k.get("secret") or new_secret(),
                            passphrase=k.get("passphrase", "Seeded-Key-1!"),
                            perms=list(k.get("perms", ["read_only"])),
                            ips=list(k.get("ips", [])),
                            used_for=k.get("used_for", "api_trading"),
                            demo=bool(k.get("demo", False)),
                        )
                    )
                self.accounts[acct.email] = acct
            self.sessions.clear()
            self.challenges.clear()
            self.outbox.clear()
            self.issued.clear()
            self.submits.clear()
            self.decoy_clicks.clear()
            self.expired_once.clear()
            self.rest_calls.clear()
            self.rate_hits.clear()
            self.scenario_names = names
            self.knobs = knobs
            self.mutations = muts
            if muts is not None:
                log.info("mutate %s: %s", muts.seed, "; ".join(muts.lines()))
            self.submit_errors_left = self.knobs.submit_errors
            for acct in self.accounts.values():
                if self.knobs.factors is not None:
                    acct.factors = list(self.knobs.factors)
                if self.knobs.key_limit:
                    for i in range(MAX_KEYS - len(acct.keys_of("main"))):
                        acct.keys.append(
                            ApiKey(
                                label=f"bot-{i + 1:02d}",
                                account="main",
                                api_key=new_api_key(),
                                secret=new_secret(),
                                passphrase="Filler-Key-1!",
                                perms=["read_only"],
                                ips=["198.51.100.10"],
                            )
                        )
                if self.knobs.sub_key_limit and acct.subaccounts:
                    sub = acct.subaccounts[0]
                    for i in range(MAX_KEYS - len(acct.keys_of(sub))):
                        acct.keys.append(
                            ApiKey(
                                label=f"sub-bot-{i + 1:02d}",
                                account=sub,
                                api_key=new_api_key(),
                                secret=new_secret(),
                                passphrase="Filler-Key-1!",
                                perms=["read_only"],
                                ips=["198.51.100.11"],
                            )
                        )
                if self.knobs.duplicate_label:
                    acct.keys.append(
                        ApiKey(
                            label=self.knobs.duplicate_label,
                            account="main",
                            api_key=new_api_key(),
                            secret=new_secret(),
                            passphrase="Older-Key-1!",
                            perms=["read_only", "trade"],
                            ips=["198.51.100.20"],
                        )
                    )

    # -- sessions ----------------------------------------------------------
    def login(self, email: str, password: str, totp: str | None) -> Session:
        with self.lock:
            acct = self.accounts.get(email.strip().lower())
            if acct is None or not secrets.compare_digest(acct.password, password):
                raise ReplicaError("Incorrect email or password", "password", 401)
            if acct.totp_secret and "totp" in acct.factors:
                if not totp:
                    raise ReplicaError(
                        "Enter the 6-digit code from your authenticator app", "totp", 401
                    )
                if not pyotp.TOTP(acct.totp_secret).verify(totp, valid_window=1):
                    raise ReplicaError("Incorrect verification code", "totp", 401)
            s = Session(token=secrets.token_urlsafe(24), email=acct.email)
            self.sessions[s.token] = s
            return s

    def needs_totp(self, email: str) -> bool:
        acct = self.accounts.get(email.strip().lower())
        return bool(acct and acct.totp_secret and "totp" in acct.factors)

    def session(self, token: str | None) -> Session | None:
        if not token:
            return None
        with self.lock:
            return self.sessions.get(token)

    def standing_session(self) -> Session:
        """logged-in: the session a browser without the cookie is taken to hold."""
        with self.lock:
            s = self.sessions.get("logged-in")
            if s is None:
                s = Session(token="logged-in", email=next(iter(self.accounts)))
                self.sessions[s.token] = s
            return s

    def logout(self, token: str | None) -> None:
        with self.lock:
            if token:
                self.sessions.pop(token, None)

    def arm_expiry(self, s: Session) -> None:
        """session-expires: the first visit to the create page dooms the session once."""
        with self.lock:
            if self.knobs.session_expires and s.email not in self.expired_once:
                self.expired_once.add(s.email)
                s.expire_armed = True

    def check_alive(self, s: Session) -> bool:
        with self.lock:
            if s.expire_armed:
                self.sessions.pop(s.token, None)
                return False
            return True

    # -- ground truth for tests ---------------------------------------------
    def record_submit(self, raw_drafts: list[Any], decoys: dict[str, Any]) -> dict[str, Any]:
        """What every field held at a Submit all, as the page sent it (before any check)."""
        keep = ("label", "account", "usedFor", "ips", "perms", "passphrase")
        drafts = [
            {k: d.get(k) for k in keep} if isinstance(d, dict) else {"invalid": repr(d)}
            for d in raw_drafts
        ]
        entry = {
            "at": time.time(),
            "drafts": drafts,
            "decoys": {str(k): str(v) for k, v in decoys.items()},
            "result": "pending",
        }
        with self.lock:
            self.submits.append(entry)
        return entry

    def record_decoy_click(self, which: str) -> None:
        with self.lock:
            self.decoy_clicks.append(which)

    # -- keys and verification ---------------------------------------------
    def account(self, s: Session) -> Account:
        return self.accounts[s.email]

    def start_challenge(self, s: Session, raw_drafts: list[dict[str, Any]]) -> Challenge:
        with self.lock:
            if self.submit_errors_left > 0:
                self.submit_errors_left -= 1
                raise ReplicaError("System error. Please try again later.", None, 500)
            acct = self.account(s)
            if not raw_drafts:
                raise ReplicaError("Add at least one API key", None)
            drafts = [validate_draft(d, acct) for d in raw_drafts]
            for target in {d.account for d in drafts}:
                new = sum(1 for d in drafts if d.account == target)
                if len(acct.keys_of(target, s.demo)) + new > MAX_KEYS:
                    who = "main account" if target == "main" else f"sub-account {target}"
                    raise ReplicaError(
                        f"The {who} already has {MAX_KEYS} API keys. Delete one to create another.",
                        None,
                    )
            seen: set[tuple[str, str]] = set()
            for d in drafts:
                existing = {k.label for k in acct.keys_of(d.account, s.demo)}
                if d.label in existing or (d.account, d.label) in seen:
                    raise ReplicaError(f'An API key named "{d.label}" already exists', "label")
                seen.add((d.account, d.label))
            steps = [f for f in FACTOR_ORDER if f in acct.factors]
            ch = Challenge(id=secrets.token_hex(8), email=acct.email, drafts=drafts, steps=steps)
            self.challenges[ch.id] = ch
            for f in steps:
                if f in ("sms", "email"):
                    self._send(ch, f)
            return ch

    def _send(self, ch: Challenge, factor: str) -> OutboxMessage:
        acct = self.accounts[ch.email]
        code = f"{secrets.randbelow(10**6):06d}"
        ch.codes[factor] = (code, time.time())
        msg = OutboxMessage(
            to=acct.phone if factor == "sms" else acct.email,
            channel=factor,
            code=code,
            challenge=ch.id,
            sent_at=time.time(),
        )
        self.outbox.append(msg)
        return msg

    def resend(self, s: Session, challenge_id: str, factor: str) -> None:
        with self.lock:
            ch = self._challenge(s, challenge_id)
            if factor not in ("sms", "email") or factor not in ch.steps:
                raise ReplicaError("Nothing to resend", None)
            self._send(ch, factor)

    def _challenge(self, s: Session, challenge_id: str) -> Challenge:
        ch = self.challenges.get(challenge_id)
        if ch is None or ch.email != s.email or ch.finished:
            raise ReplicaError("This verification has expired. Submit again.", None, 410)
        return ch

    def cancel(self, s: Session, challenge_id: str) -> None:
        with self.lock:
            ch = self.challenges.get(challenge_id)
            if ch and ch.email == s.email:
                ch.finished = True

    def verify(self, s: Session, challenge_id: str, factor: str, code: str) -> list[ApiKey] | None:
        """Check one step's code; after the last step, create the keys and return them."""
        with self.lock:
            ch = self._challenge(s, challenge_id)
            if factor != ch.current():
                raise ReplicaError("Complete the verification steps in order", None)
            acct = self.accounts[ch.email]
            code = code.strip()
            if factor == "totp":
                ok = bool(acct.totp_secret) and pyotp.TOTP(acct.totp_secret or "").verify(
                    code, valid_window=1
                )
            else:
                sent, issued = ch.codes.get(factor, ("", 0.0))
                if sent and time.time() - issued > CODE_TTL:
                    raise ReplicaError("This code has expired. Request a new one.", "code")
                ok = bool(sent) and secrets.compare_digest(sent, code)
            if not ok:
                raise ReplicaError("Incorrect verification code. Try again.", "code")
            ch.done.append(factor)
            if ch.current() is not None:
                return None
            ch.finished = True
            created: list[ApiKey] = []
            for d in ch.drafts:
                if len(acct.keys_of(d.account, s.demo)) >= MAX_KEYS:
                    raise ReplicaError("API key limit reached", None)
                key = ApiKey(
                    label=d.label,
                    account=d.account,
                    api_key=new_api_key(),
                    secret=new_secret(),
                    passphrase=d.passphrase,
                    # grants-withdraw: an exchange bug the agent must catch after the fact.
                    perms=[*d.perms, "withdraw"] if self.knobs.grants_withdraw else d.perms,
                    ips=d.ips,
                    used_for=d.used_for,
                    challenge=ch.id,
                    demo=s.demo,
                )
                acct.keys.append(key)
                created.append(key)
            self.issued.extend(created)
            return created

    def complete(self, challenge_id: str) -> None:
        """The created dialog's Complete was clicked (recorded for tests: /replica/issued)."""
        with self.lock:
            ch = self.challenges.get(challenge_id)
            if ch is None or not any(k.challenge == ch.id for k in self.issued):
                raise ReplicaError("No keys were created by this verification", None, 404)
            ch.completed += 1

    def complete_clicks(self, key: ApiKey) -> int:
        """How many times Complete was clicked in the dialog that showed `key`."""
        with self.lock:
            ch = self.challenges.get(key.challenge)
            return ch.completed if ch else 0

    def delete_key(self, s: Session, api_key: str) -> None:
        with self.lock:
            acct = self.account(s)
            before = len(acct.keys)
            acct.keys = [k for k in acct.keys if k.api_key != api_key]
            if len(acct.keys) == before:
                raise ReplicaError("API key not found", None, 404)

    def rate_ok(self, user: str, bucket: str, limit: int, window: float) -> bool:
        """OKX's per-user rate limit: at most `limit` accepted calls to `bucket` in any
        `window` seconds. An accepted call is counted; a refused one is not."""
        now = time.monotonic()
        with self.lock:
            hits = [t for t in self.rate_hits.get((user, bucket), []) if now - t < window]
            if len(hits) >= limit:
                self.rate_hits[(user, bucket)] = hits
                return False
            hits.append(now)
            self.rate_hits[(user, bucket)] = hits
            return True

    def find_key(self, api_key: str) -> tuple[Account, ApiKey] | None:
        with self.lock:
            for acct in self.accounts.values():
                for k in acct.keys:
                    if k.api_key == api_key:
                        return acct, k
        return None
