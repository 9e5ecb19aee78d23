"""Sub-account keys over OKX's REST API, signed with a client's onboarded main-account key.

Why: a client with many sub-accounts would otherwise pass one browser session and one
security verification per batch of keys. OKX lets a main account's API key (Read + Trade,
bound to IPs) create its sub-accounts' keys itself (`POST /api/v5/users/subaccount/apikey`,
1 request per second per user), so once that key is in the vault and the client agrees,
the rest needs no browser, no human and no 2FA prompt.

The order of things is the custody rule of the browser path, kept here:

1. list the sub-account's keys first: a key with the label already there is either this
   vault's (nothing to do: a rerun never creates a second one) or someone else's (refused
   with one line, nothing sent);
2. one signed create call through ccxt's implicit method (ccxt signs; nothing here does),
   with a generated passphrase and the permission string `PERM`, a constant: no input
   reaches it;
3. the response's key and secret stored encrypted in the vault before anything else,
   in one commit with the main key's record id and the client's consent;
4. only then the checks: the create response's perm, IPs and label, and a signed
   `GET /api/v5/account/config` with the new key (`agent.custody.verify`).

A refusal by OKX is one line naming its code and what to do; it created nothing, so
nothing is stored. Every step is in the journal (one run per sub-account key, grouped as a
batch), and nothing printed or written holds a secret, a passphrase or a whole API key.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from agent.custody import redact
from agent.custody.vault import Credential, Vault, VaultError
from agent.custody.verify import endpoint_for, ip_set, verify_stored
from agent.engine.flow import Rules
from agent.exchanges.okx import (
    MAIN_KEY_CODES,
    NAME,
    PERM,
    PERMISSIONS,
    RATE_LIMITED,
    READ_ONLY,
    SUBACCOUNT_CREATE_KEY,
    SUBACCOUNT_DELETE_KEY,
    SUBACCOUNT_KEYS,
    SUBACCOUNT_LIST,
    TRADE,
    WITHDRAW,
    make_exchange,
    okx_code,
    refusal_line,
)
from agent.exitcodes import Exit
from agent.journal import Journal
from agent.lists import split_list
from agent.passphrase import generate

CREATE_INTERVAL = 1.0  # OKX: 1 create per second per user ID; waited on the clock
RATE_TRIES = 3  # a 50011 (rate limit) is waited out and retried this many times
RATE_WAIT = 1.0


class InputError(ValueError):
    """Bad input, one line; nothing was sent."""


class SubkeysError(Exception):
    """A stop before any key was created, phrased for one line, with its exit code."""

    def __init__(self, message: str, code: Exit = Exit.FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class Plan:
    """What the operator asked for; validated by the CLI before anything is sent."""

    from_id: str
    label: str
    ips: list[str]
    sub_accounts: list[str] = field(default_factory=list)  # empty: every sub-account
    base_url: str | None = None
    demo: bool = False

    @property
    def every(self) -> bool:
        return not self.sub_accounts


@dataclass
class Outcome:
    """One sub-account's key: what happened, in words fit to print."""

    sub_account: str
    status: str  # created | exists | refused | failed | flagged | skipped
    detail: str
    record_id: str = ""
    api_key_masked: str = ""
    code: str | None = None  # OKX's code when it refused
    verification: str = ""  # ok | failed: ... | pending: ... | error: ...
    critical: bool = False
    seconds: float = 0.0
    exit: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Consent:
    """The client's agreement, as recorded in every record this run stores."""

    how: str  # "--yes" or "confirmed at the prompt"
    agreed_at: float
    statement: str

    def meta(self) -> dict[str, Any]:
        return {"how": self.how, "agreed_at": self.agreed_at, "statement": self.statement}


# -- the plan, the main key and the consent, before anything is sent ----------------------
def check_input(
    from_id: str,
    label: str,
    ips: list[str],
    sub_accounts: list[str],
    all_sub_accounts: bool,
    allow_private_ip: bool,
    base_url: str | None,
    rules: Rules | None = None,
) -> Plan:
    """The plan, or InputError naming the first problem (before any network call).

    `onboard subkeys` and a roster's `sub_accounts_via: rest` entry both build their plan
    here, so both take the same labels, IPs and sub-account names with the same words.
    """
    from agent.request import RequestError, check_ips, check_sub_accounts, label_problem

    if rules is None:
        from agent.exchanges import bundled_flow

        rules = bundled_flow().rules
    if bool(sub_accounts) == bool(all_sub_accounts):
        raise InputError(
            "give the sub-accounts: --sub-account NAME (repeatable) or --all-sub-accounts "
            "(not both)"
        )
    try:
        seen = check_sub_accounts(sub_accounts)
        problem = label_problem(label.strip(), rules)
        if problem:
            raise InputError(problem)
        if not ips:
            raise InputError("give at least one --ip: the new keys are bound to the firm's IPs")
        clean = check_ips(ips, allow_private_ip, rules)
    except RequestError as exc:
        raise InputError(str(exc)) from None
    if base_url:
        from agent import urls

        try:
            urls.check(base_url, "--base-url", ("http", "https"))
            urls.check_clear(base_url, "--base-url", "http", "the main key and the new secrets")
        except urls.URLError as exc:
            raise InputError(str(exc)) from None
        base_url = base_url.rstrip("/")
    return Plan(
        from_id=from_id.strip(),
        label=label.strip(),
        ips=clean,
        sub_accounts=seen,
        base_url=base_url,
    )


def load_main(vault: Vault, rid: str) -> Credential:
    """The main key's credentials from the vault, or InputError (nothing sent)."""
    try:
        meta = vault.meta(rid)
    except VaultError as exc:
        raise InputError(f"--from {rid}: {exc}") from None
    if meta.get("unusable"):
        raise InputError(
            f"--from {rid}: that record is marked unusable ({meta['unusable']}); its key must "
            "be deleted, not used"
        )
    if meta.get("exchange") not in (None, NAME):
        raise InputError(f"--from {rid}: a {meta.get('exchange')} key, not an OKX key")
    try:
        identity = vault.local_identity(create=False)
        return vault.load(rid, identity)
    except (VaultError, OSError) as exc:
        raise InputError(f"--from {rid}: cannot read the main key here ({exc})") from None


def statement(plan: Plan, main: Credential, subs: list[str], vault: Vault) -> str:
    """What will be created, with whose key: said before the client agrees, and kept in
    every record the run stores (Consent.statement)."""
    where = main.base_url or f"OKX {main.site}"
    return (
        f"This creates {len(subs)} OKX API key(s) over OKX's REST API, signed with the "
        f"client's main-account key (record {plan.from_id}, key {redact.mask_key(main.api_key)}, "
        f"label {main.label}, {where}): one per sub-account ({', '.join(subs)}), each named "
        f"{plan.label}, with Read + Trade only (never a withdrawal right), bound to "
        f"{', '.join(plan.ips)}. Each key's secret and passphrase are stored encrypted in "
        f"the vault ({vault.dir}) before anything else."
    )


def log_consent(vault: Vault, plan: Plan, consent: Consent, subs: list[str]) -> str | None:
    """Append the consent to the main record's `subkeys_consent` log, so the main key's
    record tells every time it was used to make keys, with whose agreement and when.
    A problem is returned as a note, not raised: each new record carries the consent too."""
    try:
        vault.update_meta(
            plan.from_id,
            subkeys_consent=[
                *vault.meta(plan.from_id).get("subkeys_consent", []),
                {"agreed_at": consent.agreed_at, "how": consent.how, "label": plan.label,
                 "sub_accounts": subs},
            ],
        )  # fmt: skip
    except Exception as exc:
        return f"the main record's consent log was not updated ({exc})"
    return None


def browser_fallback(plan: Plan, subs: list[str]) -> str:
    """The browser path for the same keys: drafts of up to 10, one verification each."""
    ips = " ".join(f"--ip {ip}" for ip in plan.ips)
    accounts = " ".join(f"--sub-account {s}" for s in subs[:10])
    more = f" (then the next {len(subs) - 10})" if len(subs) > 10 else ""
    return f"onboard run --label {plan.label} {ips} {accounts}{more}"


# -- the engine ---------------------------------------------------------------------
class Engine:
    """Talks to OKX for one plan: lists, creates, stores, checks. Not thread-safe."""

    def __init__(
        self,
        plan: Plan,
        vault: Vault,
        journal: Journal,
        main: Credential,
        *,
        say: Callable[[str], None] = lambda _m: None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.plan = plan
        self.vault = vault
        self.journal = journal
        self.main = main
        self.say = say
        self.clock = clock
        self.sleep = sleep
        self.endpoint = endpoint_for(main, plan.base_url)
        self.main_masked = redact.mask_key(main.api_key)
        redact.register_secret(main.secret)
        redact.register_secret(main.passphrase)
        redact.register_key(main.api_key)
        self.ex = make_exchange(main, self.endpoint, demo=plan.demo)
        self._last_create = -1e9  # monotonic time of the last create call's answer
        self.batch_id = ""
        # Set by a roster's `sub_accounts_via: rest` entry: every sub-account's run is that
        # entry's attempt in the roster's batch (which records the entry's outcome itself);
        # unset, each sub-account is an entry of its own `subkeys-...` batch.
        self.entry_id = ""

    # -- calls -------------------------------------------------------------------------
    def _call(self, method: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """One signed call through ccxt's implicit method; a 50011 is waited out."""
        import ccxt

        fn = getattr(self.ex, method)
        for attempt in range(1, RATE_TRIES + 1):
            try:
                resp = fn(params)
                data = resp.get("data") if isinstance(resp, dict) else None
                return [d for d in (data or []) if isinstance(d, dict)]
            except ccxt.BaseError as exc:
                code, _msg = okx_code(exc)
                if code == RATE_LIMITED and attempt < RATE_TRIES:
                    self.sleep(RATE_WAIT)
                    continue
                raise
        raise AssertionError("unreachable")

    def sub_accounts(self) -> list[str]:
        """Every sub-account OKX lists for the main account (GET /users/subaccount/list)."""
        rows = self._call(SUBACCOUNT_LIST, {})
        return [str(r["subAcct"]) for r in rows if r.get("subAcct")]

    def keys_of(self, sub: str) -> list[dict[str, Any]]:
        return self._call(SUBACCOUNT_KEYS, {"subAcct": sub})

    def _wait_create_slot(self) -> None:
        """OKX takes 1 create per second per user: wait until a second has passed since the
        previous create was answered (the exchange counted it before answering)."""
        gap = CREATE_INTERVAL - (self.clock() - self._last_create)
        if gap > 0:
            self.sleep(gap)

    def _create(self, sub: str, passphrase: str) -> dict[str, Any]:
        body = {
            "subAcct": sub,
            "label": self.plan.label,
            "passphrase": passphrase,
            "perm": PERM,
            "ip": ",".join(self.plan.ips),
        }
        assert body["perm"] == ",".join((READ_ONLY, TRADE))  # never more than Read + Trade
        self._wait_create_slot()
        try:
            rows = self._call(SUBACCOUNT_CREATE_KEY, body)
        finally:
            self._last_create = self.clock()
        if not rows:
            raise SubkeysError("OKX answered the create call without data")
        return rows[0]

    def _delete(self, sub: str, api_key: str) -> None:
        self._wait_create_slot()
        try:
            self._call(SUBACCOUNT_DELETE_KEY, {"subAcct": sub, "apiKey": api_key})
        finally:
            self._last_create = self.clock()

    # -- one sub-account -----------------------------------------------------------
    def held(self, sub: str, api_key: str) -> dict[str, Any] | None:
        """The vault's intact record of this very key (same account, label, place, last 4)."""
        for rec in self.vault.holding(
            self.main.exchange, self.main.site, self.main.base_url, sub, self.plan.label
        ):
            if rec.get("api_key_last4") == api_key[-4:]:
                return rec
        return None

    def one(self, sub: str, consent: Consent) -> Outcome:
        """List, create, store, check one sub-account's key; an Outcome whatever happens
        (a main-key refusal is raised as SubkeysError after it is journaled)."""
        import ccxt

        start = self.clock()
        run_id = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{secrets.token_hex(3)}"
        label = self.plan.label
        self.journal.start(
            run_id, label, sub, f"{self.endpoint} (REST)", self.batch_id,
            entry_id=self.entry_id or sub,
        )  # fmt: skip

        def done(out: Outcome) -> Outcome:
            out.seconds = round(self.clock() - start, 2)
            if self.batch_id and not self.entry_id:
                self.journal.batch_entry_done(
                    self.batch_id, sub, out.status, redact.redact(json.dumps(out.as_dict()))
                )
            return out

        def refused(exc: Exception, state: str) -> Outcome:
            code, msg = okx_code(exc)
            if code is None:
                line = f"could not reach OKX at {self.endpoint} ({type(exc).__name__})"
                self.journal.set(run_id, "failed", line)
                return done(Outcome(sub, "failed", line, exit=int(Exit.FAILED)))
            line = refusal_line(code, msg, sub, label, self.main_masked, RATE_TRIES)
            self.journal.set(run_id, state, line)
            out = done(Outcome(sub, "refused", line, code=code, exit=int(Exit.EXCHANGE_REFUSED)))
            if code in MAIN_KEY_CODES:
                raise MainKeyRefused(out)
            return out

        # 1. list first: a rerun never creates a second key with the label
        try:
            listed = self.keys_of(sub)
        except ccxt.BaseError as exc:
            return refused(exc, "failed")
        same = [k for k in listed if k.get("label") == label]
        if same:
            key = str(same[0].get("apiKey", ""))
            masked = redact.mask_key(key)
            rec = self.held(sub, key)
            if rec is not None:
                line = f"already has its key {masked} (record {rec['id']}): nothing to do"
                self.journal.set(run_id, "stored", line, vault_ids=[str(rec["id"])])
                return done(
                    Outcome(
                        sub,
                        "exists",
                        line,
                        record_id=str(rec["id"]),
                        api_key_masked=masked,
                        verification=str(rec.get("verification", "")),
                    )
                )
            line = (
                f'sub-account {sub} already has a key named "{label}" ({masked}) whose secret '
                "is not in this vault: nothing was sent; delete that key on OKX if it is "
                "unused, or choose another --label"
            )
            self.journal.set(run_id, "failed", line)
            return done(Outcome(sub, "flagged", line, api_key_masked=masked, exit=int(Exit.FAILED)))

        # 2. one signed create call
        passphrase = generate()
        redact.register_secret(passphrase)
        self.journal.set(run_id, "submitted")
        try:
            d = self._create(sub, passphrase)
        except ccxt.BaseError as exc:
            code, _ = okx_code(exc)
            if code is not None:
                return refused(exc, "refused")
            return done(self._lost(run_id, sub, exc))
        api_key, secret = str(d.get("apiKey", "")), str(d.get("secretKey", ""))
        redact.register_secret(secret)
        redact.register_key(api_key)
        masked = redact.mask_key(api_key)
        self.journal.set(run_id, "captured")

        # 3. stored before anything else
        cred = Credential(
            exchange=self.main.exchange,
            site=self.main.site,
            base_url=self.main.base_url,
            account=sub,
            label=label,
            api_key=api_key,
            secret=secret,
            passphrase=passphrase,
            permissions=list(PERMISSIONS),
            ips=list(self.plan.ips),
        )
        extra = {
            "from_id": self.plan.from_id,
            "created_via": "rest",
            "consent": consent.meta(),
        }
        try:
            rid = self.vault.store(cred, run_id, extra=extra)
        except VaultError as exc:
            return done(self._unstored(run_id, sub, api_key, str(exc)))
        self.journal.set(run_id, "stored", vault_ids=[rid])

        # 4. the checks: what the create answered, then the key's own signed view of itself
        problems = self._check_response(d)
        critical = WITHDRAW in split_list(d.get("perm"))
        if critical:
            self.vault.mark_unusable(rid, f"OKX created it with perm {d.get('perm')}")
        res = verify_stored(self.vault, rid, cred, base_url=self.plan.base_url, demo=self.plan.demo)
        critical = critical or res.critical
        status = "created"
        if problems or res.status == "failed":
            status = "failed"
        detail = f"created {masked}, stored {rid}, check {res.status}"
        if problems:
            detail += "; create response: " + "; ".join(problems)
        if res.status != "ok":
            detail += f": {res.detail}"
        if critical:
            detail = (
                f"CRITICAL: {masked} on {sub} has WITHDRAW; delete this key on OKX now "
                f"(record {rid} marked unusable). " + detail
            )
        journal_state = "verified" if res.status == "ok" and not problems else "stored"
        if status == "failed":
            journal_state = "failed"
        self.journal.set(run_id, journal_state, "" if status == "created" else detail, [rid])
        return done(
            Outcome(
                sub,
                status,
                redact.redact(detail),
                record_id=rid,
                api_key_masked=masked,
                verification=redact.redact(res.verification),
                critical=critical,
                exit=int(Exit.VERIFY_FAILED) if status == "failed" else 0,
            )
        )

    def _check_response(self, d: dict[str, Any]) -> list[str]:
        """The create answer against the request: perm exactly Read + Trade, IPs, label."""
        out = []
        perms = split_list(d.get("perm"))
        if sorted(perms) != sorted(PERMISSIONS):
            out.append(f"perm is {','.join(perms) or '(none)'}, expected {PERM}")
        if ip_set(split_list(d.get("ip"))) != ip_set(self.plan.ips):
            out.append(f"IPs are {d.get('ip') or '(none)'}, expected {','.join(self.plan.ips)}")
        if str(d.get("label", "")) != self.plan.label:
            out.append(f"label is {d.get('label')!r}, expected {self.plan.label!r}")
        return out

    def _lost(self, run_id: str, sub: str, exc: Exception) -> Outcome:
        """No answer to the create call: the key may or may not exist. The list decides."""
        why = type(exc).__name__
        try:
            listed = [k for k in self.keys_of(sub) if k.get("label") == self.plan.label]
        except Exception:
            listed = None
        if listed == []:
            line = f"no answer from OKX to the create call ({why}); its key list shows no such key: nothing was created; run again"
            self.journal.set(run_id, "not-created", line)
            return Outcome(sub, "failed", line, exit=int(Exit.FAILED))
        line = (
            f"no answer from OKX to the create call ({why}) and the key may exist: CHECK THE "
            f'EXCHANGE: if sub-account {sub} has a key "{self.plan.label}", delete it (its '
            "secret was not received) and run again"
        )
        self.journal.set(run_id, "failed", line)
        return Outcome(sub, "flagged", line, exit=int(Exit.FAILED))

    def _unstored(self, run_id: str, sub: str, api_key: str, why: str) -> Outcome:
        """The vault refused the store: the key is deleted again over REST, so nothing on
        OKX is left without its secret; if that fails too, the human must delete it."""
        masked = redact.mask_key(api_key)
        try:
            self._delete(sub, api_key)
            line = (
                f"could not store the new key {masked} ({why}); it was deleted again on OKX, "
                "nothing is left half-made: fix the vault and run again"
            )
            self.journal.set(run_id, "not-created", line)
        except Exception as exc:
            line = (
                f"KEY MUST BE DELETED: could not store the new key {masked} of {sub} ({why}) "
                f"and deleting it failed ({type(exc).__name__}): delete it on OKX now"
            )
            self.journal.set(run_id, "failed", line)
        return Outcome(
            sub, "failed", redact.redact(line), api_key_masked=masked, exit=int(Exit.CUSTODY_FAILED)
        )


class MainKeyRefused(Exception):
    """OKX refused the main key itself: the same answer would come for every sub-account."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.detail)
        self.outcome = outcome


def run(
    engine: Engine,
    subs: list[str],
    consent: Consent,
    progress: Callable[[int, int, Outcome], None] = lambda _i, _n, _o: None,
) -> list[Outcome]:
    """`onboard subkeys`: a `subkeys-...` batch in the journal, one entry per sub-account."""
    digest = hashlib.sha256(json.dumps(sorted(subs)).encode()).hexdigest()[:16]
    engine.batch_id = (
        f"subkeys-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{secrets.token_hex(3)}"
    )
    engine.journal.batch_start(
        engine.batch_id,
        f"subkeys:{engine.plan.from_id}:{engine.plan.label}",
        digest,
        [{"id": s, "label": engine.plan.label, "account": s} for s in subs],
    )
    out = run_subs(engine, subs, consent, progress)
    worst = exit_code(out)
    engine.journal.batch_set(engine.batch_id, "done" if worst == 0 else "failed")
    return out


def run_subs(
    engine: Engine,
    subs: list[str],
    consent: Consent,
    progress: Callable[[int, int, Outcome], None] = lambda _i, _n, _o: None,
    stop: Callable[[], str | None] = lambda: None,
) -> list[Outcome]:
    """Every sub-account in order, journaled in whatever batch the engine is in (its own,
    or a roster's). A main-key refusal skips the rest (nothing sent for them); so does a
    stop (`stop()` says why: Ctrl-C, the entry's time), checked between keys only, so a key
    that was created is always stored and checked."""
    out: list[Outcome] = []
    stopped: Outcome | None = None
    halt: str | None = None
    for i, sub in enumerate(subs, 1):
        halt = halt or (stop() if stopped is None else None)
        if halt:  # not done, so not 0: the entry is run again next time
            o = Outcome(sub, "skipped", f"not attempted: {halt}", exit=int(Exit.FAILED))
        elif stopped is not None:
            o = Outcome(sub, "skipped", "not attempted: OKX refused the main key", exit=0)
        else:
            try:
                o = engine.one(sub, consent)
            except MainKeyRefused as exc:
                o = stopped = exc.outcome
        out.append(o)
        progress(i, len(subs), o)
    return out


def exit_code(outcomes: list[Outcome]) -> int:
    """9 a key's check failed (or it can withdraw), 8 a key could not be stored, 7 OKX
    refused, 1 anything else, 0 every key created and stored, or already there."""
    codes = {o.exit for o in outcomes}
    for code in (Exit.VERIFY_FAILED, Exit.CUSTODY_FAILED, Exit.EXCHANGE_REFUSED, Exit.FAILED):
        if int(code) in codes:
            return int(code)
    return 0
