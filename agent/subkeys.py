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
from typing import Any

from agent.custody import redact
from agent.custody.vault import Credential, Vault, VaultError
from agent.custody.verify import endpoint_for, ip_set, verify_stored
from agent.exchanges.okx import (
    MAIN_KEY_CODES,
    PERM,
    PERMISSIONS,
    WITHDRAW,
    SubaccountKeys,
    make_exchange,
    okx_code,
    refusal_line,
)
from agent.exitcodes import Exit
from agent.journal import Journal
from agent.lists import split_list
from agent.passphrase import generate
from agent.subkeys_plan import Consent as Consent
from agent.subkeys_plan import InputError as InputError
from agent.subkeys_plan import Outcome as Outcome
from agent.subkeys_plan import Plan as Plan
from agent.subkeys_plan import SubkeysError as SubkeysError
from agent.subkeys_plan import browser_fallback as browser_fallback
from agent.subkeys_plan import check_input as check_input
from agent.subkeys_plan import load_main as load_main
from agent.subkeys_plan import log_consent as log_consent
from agent.subkeys_plan import statement as statement


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
        self.api = SubaccountKeys(
            make_exchange(main, self.endpoint, demo=plan.demo), clock=clock, sleep=sleep
        )
        self.batch_id = ""
        # Set by a roster's `sub_accounts_via: rest` entry: every sub-account's run is that
        # entry's attempt in the roster's batch (which records the entry's outcome itself);
        # unset, each sub-account is an entry of its own `subkeys-...` batch.
        self.entry_id = ""

    # -- calls (agent.exchanges.okx.SubaccountKeys) --------------------------------------
    def sub_accounts(self) -> list[str]:
        """Every sub-account OKX lists for the main account."""
        return self.api.sub_accounts()

    def _create(self, sub: str, passphrase: str) -> dict[str, Any]:
        row = self.api.create(sub, self.plan.label, self.plan.ips, passphrase)
        if row is None:
            raise SubkeysError("OKX answered the create call without data")
        return row

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
            line = refusal_line(code, msg, sub, label, self.main_masked)
            self.journal.set(run_id, state, line)
            out = done(Outcome(sub, "refused", line, code=code, exit=int(Exit.EXCHANGE_REFUSED)))
            if code in MAIN_KEY_CODES:
                raise MainKeyRefused(out)
            return out

        # 1. list first: a rerun never creates a second key with the label
        try:
            listed = self.api.keys_of(sub)
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
            listed = [k for k in self.api.keys_of(sub) if k.get("label") == self.plan.label]
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
            self.api.delete(sub, api_key)
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
