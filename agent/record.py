"""Recorded fixtures: what the exchange's pages looked like at each stage of a flow.

A fixture set is a directory with one self-contained HTML file per stage (the
DOM as a person saw it: input values, checked states and open dialogs written
into attributes, stylesheets inlined, scripts dropped) and `manifest.json`
(site, locale, date, viewport, stages, flow name and version, which flow step
belongs to which stage, and the non-secret request values the flow refers to).

Nothing secret reaches the disk: snapshots stay in memory until `Recorder.write`,
which redacts every file (API keys, secrets, emails, phone numbers, UIDs,
passphrases, one-time codes, QR codes, and every value the caller registered)
and then proves that no registered value survives in what it wrote.

Stages are named by what the flow is doing, never by the exchange's texts:

  keys         the API keys page before anything is created
  create-form  the create form, filled in, before submit
  verify-<f>   each security-verification step (f: the flow's factor names)
  created      the "key created" dialog
  keys-listed  the API keys page after Complete, with the new key
"""

from __future__ import annotations

import html as htmllib
import json
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Page

from agent.engine.flow import Flow, Step

STAGES = ["keys", "create-form", "verify-*", "created", "keys-listed"]
PLACEHOLDER_UUID = "00000000-0000-4000-8000-000000000000"
PLACEHOLDER_HEX32 = "0" * 32
PLACEHOLDER_EMAIL = "user@example.com"
PLACEHOLDER_PASSPHRASE = "Redacted-Passphrase-0!"
PLACEHOLDER_TEXT = "[redacted]"
MANIFEST = "manifest.json"

STAGE_HELP = {
    "keys": "the API keys page, before creating anything (its list fully loaded)",
    "create-form": "the create-key form, every field filled in, before submitting",
    "verify-totp": "the security verification step asking for the authenticator code",
    "verify-sms": "the security verification step asking for the SMS code",
    "verify-email": "the security verification step asking for the email code",
    "created": "the dialog that shows the new API key and secret",
    "keys-listed": "the API keys page after Complete, showing the new key",
}

# Runs in the page: a serialized copy of the DOM as displayed, without touching the page.
SNAPSHOT_JS = r"""
(opts) => {
  const liveRoot = document.documentElement;
  const live = [liveRoot, ...liveRoot.querySelectorAll('*')];
  const root = liveRoot.cloneNode(true);
  const copy = [root, ...root.querySelectorAll('*')];
  const notes = [];
  if (live.length !== copy.length) notes.push('clone differs from the page');
  const drop = [];
  const qrLike = (el) => {
    const tag = el.tagName.toLowerCase();
    if (!['svg', 'img', 'canvas'].includes(tag)) return false;
    const hint = ((el.getAttribute('class') || '') + ' ' + (el.getAttribute('alt') || '') + ' ' +
      (el.getAttribute('aria-label') || '') + ' ' + (el.id || '') + ' ' +
      ((el.parentElement && el.parentElement.getAttribute('class')) || '')).toLowerCase();
    if (/(^|[^a-z])qr/.test(hint)) return true;
    const r = el.getBoundingClientRect();
    if (r.width < 64 || Math.abs(r.width - r.height) > 8) return false;
    if (tag === 'canvas') return true;
    if (tag === 'img') return (el.getAttribute('src') || '').startsWith('data:') || /qr/i.test(el.src);
    const shapes = el.querySelectorAll('rect, path, use').length;
    let dlen = 0;
    for (const p of el.querySelectorAll('path')) dlen += (p.getAttribute('d') || '').length;
    return shapes >= 20 || dlen > 600;
  };
  const sheetText = (sheet) => {
    try { return Array.from(sheet.cssRules).map((r) => r.cssText).join('\n'); }
    catch (e) { return null; }
  };
  for (let i = 0; i < live.length && i < copy.length; i++) {
    const l = live[i], c = copy[i];
    const tag = l.tagName.toLowerCase();
    if (tag === 'onboard-overlay' || tag === 'script' || tag === 'noscript' || tag === 'base') {
      drop.push(c); continue;
    }
    for (const a of Array.from(c.attributes)) {
      if (/^on/i.test(a.name)) c.removeAttribute(a.name);
      else if (/^\s*javascript:/i.test(a.value)) c.setAttribute(a.name, '#');
    }
    if (tag === 'link') {
      const rel = (l.getAttribute('rel') || '').toLowerCase();
      if (rel.includes('stylesheet') && l.sheet) {
        const text = sheetText(l.sheet);
        if (text === null) { notes.push('cross-origin stylesheet not inlined: ' + l.href); drop.push(c); continue; }
        const st = document.createElement('style');
        st.setAttribute('data-onboard-inlined', l.getAttribute('href') || '');
        st.textContent = text;
        c.replaceWith(st);
      } else drop.push(c);
      continue;
    }
    if (tag === 'style' && l.sheet) {
      const text = sheetText(l.sheet);
      if (text !== null) c.textContent = text;
      continue;
    }
    if (tag === 'iframe' || tag === 'frame') { c.removeAttribute('src'); c.removeAttribute('srcdoc'); }
    if (qrLike(l)) {
      const r = l.getBoundingClientRect();
      const box = document.createElement('div');
      box.setAttribute('data-onboard-redacted', 'qr');
      box.setAttribute('style', `display:inline-block;width:${Math.round(r.width)}px;height:${Math.round(r.height)}px;` +
        'background:#e6e6e6;border:1px dashed #888');
      c.replaceWith(box);
      continue;
    }
    if (tag === 'input') {
      const type = (l.getAttribute('type') || 'text').toLowerCase();
      if (type === 'checkbox' || type === 'radio') {
        if (l.checked) c.setAttribute('checked', ''); else c.removeAttribute('checked');
      } else if (type === 'password') {
        c.setAttribute('value', l.value ? opts.passphrase : '');
      } else if ((l.getAttribute('autocomplete') || '') === 'one-time-code') {
        c.setAttribute('value', '');
      } else if (type !== 'file') {
        c.setAttribute('value', l.value);
      }
      if (l.disabled) c.setAttribute('disabled', ''); else c.removeAttribute('disabled');
    } else if (tag === 'textarea') {
      c.textContent = l.value;
    } else if (tag === 'select') {
      const lo = l.options, co = c.options;
      for (let k = 0; k < lo.length && k < co.length; k++) {
        if (lo[k].selected) co[k].setAttribute('selected', ''); else co[k].removeAttribute('selected');
      }
    } else if (tag === 'dialog') {
      if (l.open) c.setAttribute('open', ''); else c.removeAttribute('open');
    } else if (tag === 'details') {
      if (l.open) c.setAttribute('open', ''); else c.removeAttribute('open');
    }
    if (l.shadowRoot) notes.push('shadow root not captured under <' + tag + '>');
  }
  for (const d of drop) d.remove();
  const head = root.querySelector('head');
  for (const sheet of (document.adoptedStyleSheets || [])) {
    const text = sheetText(sheet);
    if (text !== null && head) {
      const st = document.createElement('style');
      st.setAttribute('data-onboard-inlined', 'adopted');
      st.textContent = text;
      head.appendChild(st);
    }
  }
  return {
    html: '<!DOCTYPE html>\n' + root.outerHTML,
    title: document.title,
    url: location.href,
    locale: document.documentElement.lang || navigator.language || '',
    viewport: {width: innerWidth, height: innerHeight},
    notes,
  };
}
"""


# -- redaction ---------------------------------------------------------------------

_UUID = re.compile(
    r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![0-9A-Fa-f])"
)
_HEX32 = re.compile(r"(?<![0-9A-Za-z])[0-9A-Fa-f]{32}(?![0-9A-Za-z])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+*\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_MASKED_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]*\*+[A-Za-z0-9._%+*\-]*@[A-Za-z0-9.*\-]*[A-Za-z0-9*]")
_PHONE = re.compile(r"\+\d{1,3}(?:[ \-]?\(?[\d*]{2,}\)?){1,4}(?![\d*\-])")
_UID = re.compile(r"(?<![\d.])\d{12,20}(?![\d.])")
_STYLE = re.compile(r"(<style\b[^>]*>)(.*?)(</style>)", re.S | re.I)


def _zero_digits(m: re.Match[str]) -> str:
    return re.sub(r"\d", "0", m.group(0))


def redact_text(text: str, known: Iterable[str] = ()) -> str:
    """Shape-preserving placeholders for anything that identifies a person or opens an account."""
    text = _UUID.sub(PLACEHOLDER_UUID, text)
    text = _HEX32.sub(PLACEHOLDER_HEX32, text)
    text = _EMAIL.sub(PLACEHOLDER_EMAIL, text)
    text = _MASKED_EMAIL.sub(PLACEHOLDER_EMAIL, text)
    text = _PHONE.sub(_zero_digits, text)
    text = _UID.sub(_zero_digits, text)
    for value in sorted({v for v in known if v and len(v) >= 4}, key=len, reverse=True):
        for form in {value, htmllib.escape(value), htmllib.escape(value, quote=False)}:
            text = text.replace(form, PLACEHOLDER_TEXT)
    return text


def redact_html(html: str, known: Iterable[str] = ()) -> str:
    """Redact a snapshot: patterns outside <style> (CSS keeps its numbers), known values everywhere."""
    known = list(known)
    out: list[str] = []
    pos = 0
    for m in _STYLE.finditer(html):
        out.append(redact_text(html[pos : m.start()], known))
        css = m.group(2)
        for value in sorted({v for v in known if v and len(v) >= 4}, key=len, reverse=True):
            css = css.replace(value, PLACEHOLDER_TEXT)
        out.append(m.group(1) + css + m.group(3))
        pos = m.end()
    out.append(redact_text(html[pos:], known))
    return "".join(out)


def leaks(directory: Path, values: Iterable[str]) -> list[str]:
    """'file: value…' for every registered value found in any file under `directory`."""
    found = []
    vals = sorted({v for v in values if v and len(v) >= 4})
    for path in sorted(directory.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        for v in vals:
            if v in text or v.lower() in text.lower():
                found.append(f"{path.name}: {v[:3]}…")
    return found


# -- which flow step belongs to which stage ---------------------------------------------


def step_stages(flow: Flow, stages: list[str]) -> dict[str, list[str]]:
    """Each step id -> the recorded stages its locators must resolve on.

    By position and action, not by text: steps up to the first click (the one that opens
    the form; a select before it, e.g. the list's account, is on the keys page) act on the
    keys page; form fields and the submit click on the create form; the code step on
    every verification stage; the capture and the click that closes it on the created
    dialog; whatever checks the list afterwards on the list after Complete.
    """
    have = set(stages)
    verify = [s for s in stages if s.startswith("verify-")]
    out: dict[str, list[str]] = {}
    phase = "keys"
    opened = False  # the keys page's click that leads to the create form
    for step in flow.steps:
        act = step.action
        if phase == "keys" and opened:
            phase = "create-form"
        if phase == "keys" and act == "click":
            opened = True
        if act == "wait_codes":
            out[step.id] = verify
            phase = "verify"
            continue
        if act == "capture":
            phase = "created"
        elif phase == "created" and act in ("navigate", "assert_"):
            phase = "keys-listed"
        if phase == "verify":  # a step between the codes and the capture: skip it
            continue
        target = {"create-form": "create-form"}.get(phase, phase)
        out[step.id] = [target] if target in have else []
        if phase == "created" and act == "click":
            phase = "keys-listed"  # the click that closes the dialog leads back to the list
    return out


# -- the recorder ---------------------------------------------------------------------------


@dataclass
class Snapshot:
    stage: str
    html: str
    title: str
    url_path: str
    locale: str
    viewport: dict[str, int]
    notes: list[str] = field(default_factory=list)


class RecordError(Exception):
    """Recording could not produce a clean fixture set (nothing unsafe was left behind)."""


class Recorder:
    """Buffers stage snapshots in memory; `write` redacts and saves them with a manifest."""

    def __init__(
        self,
        out: Path,
        flow: Flow,
        site: str,
        vars: dict[str, Any] | None = None,
        known: Iterable[str] = (),
    ) -> None:
        self.out = Path(out)
        self.flow = flow
        self.site = site
        self.vars = {k: v for k, v in (vars or {}).items() if k in _PUBLIC_VARS}
        self._known: set[str] = set()
        self.add_secret(*known)
        self.snaps: dict[str, Snapshot] = {}

    def add_secret(self, *values: str | None) -> None:
        """Values that must not appear in any written file (codes, names, keys, passphrases)."""
        for v in values:
            if v and len(str(v)) >= 4:
                self._known.add(str(v))

    @property
    def known(self) -> set[str]:
        return set(self._known)

    def has(self, stage: str) -> bool:
        return stage in self.snaps

    def snapshot(self, page: Page, stage: str) -> Snapshot:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,40}", stage):
            raise RecordError(f"bad stage name {stage!r} (lowercase letters, digits and -)")
        got = page.evaluate(SNAPSHOT_JS, {"passphrase": PLACEHOLDER_PASSPHRASE})
        snap = Snapshot(
            stage=stage,
            html=got["html"],
            title=got["title"],
            url_path=urlsplit(got["url"]).path,
            locale=got["locale"],
            viewport=got["viewport"],
            notes=got["notes"],
        )
        self.snaps[stage] = snap
        return snap

    def manifest(self) -> dict[str, Any]:
        stages = list(self.snaps)
        first = next(iter(self.snaps.values()), None)
        return {
            "format": 1,
            "site": self.site,
            "locale": first.locale if first else "",
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
            "viewport": first.viewport if first else {"width": 1920, "height": 1080},
            "flow": {"name": self.flow.name, "version": self.flow.version},
            "vars": self.vars,
            "stages": [
                {
                    "name": s.stage,
                    "file": f"{s.stage}.html",
                    "title": s.title,
                    "path": s.url_path,
                    "notes": s.notes,
                }
                for s in self.snaps.values()
            ],
            "steps": step_stages(self.flow, stages),
            "redacted": True,
        }

    def write(self, force: bool = False) -> Path:
        """Redact every snapshot, write the set, and prove no registered value is in it."""
        if not self.snaps:
            raise RecordError("nothing was recorded")
        if self.out.exists() and any(self.out.iterdir()) and not force:
            raise RecordError(f"{self.out} already holds files (pick a new set name, or --force)")
        tmp = self.out.with_name(self.out.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        try:
            known = self.known
            for s in self.snaps.values():
                (tmp / f"{s.stage}.html").write_text(redact_html(s.html, known))
            manifest = json.loads(redact_text(json.dumps(self.manifest()), known))
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
            found = leaks(tmp, known)
            if found:
                raise RecordError("redaction left values behind: " + ", ".join(found))
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if self.out.exists():
            shutil.rmtree(self.out)
        tmp.rename(self.out)
        return self.out


_PUBLIC_VARS = {"label", "ips", "account_text", "permissions_text"}


# -- recording while the engine runs the flow ---------------------------------------------


def recording_runner(recorder: Recorder) -> type:
    """A Runner subclass that snapshots each stage as the flow reaches it.

    Used by `onboard record --drive` (and `onboard run --record`): the flow runs as
    usual; before submit, at every verification step, before the capture and after the
    final check, the page is snapshotted (in memory; written redacted at the end).
    """
    from agent.engine.human import CodeSources
    from agent.engine.runner import Runner

    class RecordingCodes(CodeSources):
        def __init__(self, inner: CodeSources, before: Callable[[str], None]) -> None:
            super().__init__(inner.totp_secret_env, inner.sms_cmd, inner.email_cmd, inner.prompt)
            self._before = before

        def get(
            self,
            factor: str,
            reporter: Any,
            name: str | None = None,
            timeout: float | None = None,
        ) -> str:
            self._before(factor)
            code = super().get(factor, reporter, name, timeout)
            recorder.add_secret(code)
            return code

    class RecordingRunner(Runner):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.opts.codes = RecordingCodes(self.opts.codes, self._verify_stage)
            recorder.add_secret(self.vars.get("passphrase"))

        def _snap(self, stage: str) -> None:
            if not recorder.has(stage):
                recorder.snapshot(self.page, stage)

        def _verify_stage(self, factor: str) -> None:
            self._snap(f"verify-{factor}")

        def do_navigate(self, step: Step, nav: Any) -> None:
            super().do_navigate(step, nav)
            self._snap("keys")

        def do_click(self, step: Step, c: Any) -> None:
            if c.by == "submit":
                self._snap("create-form")
            super().do_click(step, c)

        def _await_step_change(self, cd: Any, factor: str, dialog: Any, need: Any) -> None:
            self._verify_stage(factor)
            super()._await_step_change(cd, factor, dialog, need)

        def do_capture(self, step: Step, cap: Any) -> None:
            self._snap("created")
            super().do_capture(step, cap)

        def do_assert_(self, step: Step, a: Any) -> None:
            super().do_assert_(step, a)
            if a.present is not None and recorder.has("created"):
                self._snap("keys-listed")

    return RecordingRunner


def manual_record(
    page: Page,
    recorder: Recorder,
    stages: list[str],
    ask: Callable[[str, str], str],
) -> list[str]:
    """The person walks the site; at each stage `ask(stage, help)` returns "" (snapshot),
    "s" (skip) or "q" (stop). Works when the flow itself no longer does."""
    done = []
    for stage in stages:
        answer = ask(stage, STAGE_HELP.get(stage, stage)).strip().lower()
        if answer.startswith("q"):
            break
        if answer.startswith("s"):
            continue
        recorder.snapshot(page, stage)
        done.append(stage)
    return done


def default_stages(flow: Flow) -> list[str]:
    factors: list[str] = []
    for s in flow.steps:
        if s.wait_codes:
            factors += list(s.wait_codes.factors)
    return ["keys", "create-form", *[f"verify-{f}" for f in factors], "created", "keys-listed"]


def drive(
    flow: Flow,
    base_url: str,
    out: Path,
    label: str,
    ips: list[str],
    session: Any,
    options: Any,
    reporter: Any,
    stand_in: Any = None,
    known: Iterable[str] = (),
    site: str | None = None,
    force: bool = False,
    settings: Any = None,
) -> tuple[Path, str | None]:
    """Run the flow with the engine and record every stage it passes through.

    Returns (set directory, None) or (set directory, why it stopped) when the flow broke
    part-way: what was recorded up to there is still written (redacted).
    """
    from agent.config import Settings
    from agent.engine.locate import Vars
    from agent.exitcodes import AgentError
    from agent.passphrase import generate
    from agent.session import open_session

    passphrase = generate(max(24, flow.rules.passphrase_min), flow.rules.passphrase_max)
    perms = [flow.permissions["read"], flow.permissions["trade"]]
    vars = Vars(
        label=label,
        ips=list(ips),
        account_text=flow.main_account,
        sub_account=None,
        passphrase=passphrase,
        permissions_text=", ".join(perms),
    )
    rec = Recorder(out, flow, site or base_url, dict(vars), known=[passphrase, *known])

    def on_capture(records: list[dict[str, str]], _first: int = 0, _count: int = 0) -> None:
        for r in records:  # never stored: the key is only a fixture; delete it on the site
            rec.add_secret(r.get("api_key"), r.get("secret"))

    stopped = None
    with open_session(session, settings or Settings(), base_url) as (_ctx, page):
        runner_cls = recording_runner(rec)
        runner = runner_cls(
            page, flow, vars, base_url, [*flow.origins, base_url], options, reporter, on_capture,
            stand_in,
        )  # fmt: skip
        try:
            runner.run()
        except AgentError as err:
            stopped = err.message
    if stopped and not rec.snaps:
        raise RecordError(f"nothing recorded: {stopped}")
    return rec.write(force=force), stopped


# -- the locator contract: does the flow still find its elements on recorded pages? -------

_CLICKABLE_JS = """el => {
  const tag = el.tagName.toLowerCase(); const role = (el.getAttribute('role') || '').toLowerCase();
  const disabled = el.disabled === true || el.getAttribute('aria-disabled') === 'true';
  const kind = ['button', 'a', 'summary', 'label'].includes(tag) || (tag === 'input' &&
      ['button', 'submit', 'radio', 'checkbox'].includes((el.type || '').toLowerCase())) ||
    ['button', 'link', 'menuitem', 'tab', 'option', 'radio', 'checkbox', 'switch', 'combobox']
      .includes(role) || getComputedStyle(el).cursor === 'pointer' || el.hasAttribute('tabindex');
  return {kind, disabled, tag, role};
}"""


@dataclass
class StepCheck:
    set: str
    stage: str
    step: str
    action: str
    ok: bool
    detail: str = ""
    tried: list[str] = field(default_factory=list)
    skipped: bool = False  # the step does not apply to this set (`when`, `if_visible`)

    @property
    def test_id(self) -> str:
        return f"{self.set}:{self.stage}:{self.step}"

    def message(self) -> str:
        head = (
            f"flow step {self.step!r} ({self.action}) on stage {self.stage!r} of fixture set "
            f"{self.set!r}: {self.detail}"
        )
        if self.tried:
            head += "; candidates tried: " + "; ".join(self.tried)
        return head


class _Fail(Exception):
    def __init__(self, detail: str, tried: list[str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.tried = tried or []


def load_manifest(set_dir: Path) -> dict[str, Any]:
    path = Path(set_dir) / MANIFEST
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise RecordError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except json.JSONDecodeError as exc:
        raise RecordError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("stages"), list):
        raise RecordError(f"{path}: no 'stages' list (not a fixture manifest)")
    return data


def fixture_sets(root: Path) -> list[Path]:
    return sorted(p.parent for p in Path(root).glob(f"*/{MANIFEST}"))


def planned_checks(set_dir: Path, flow: Flow) -> list[tuple[str, str]]:
    """(step id, stage) pairs to check for a set: the manifest's table, else by position."""
    man = load_manifest(set_dir)
    stages = [s["name"] for s in man["stages"]]
    table = man.get("steps") or step_stages(flow, stages)
    out = []
    for step in flow.steps:
        for stage in table.get(step.id, []):
            if stage in stages:
                out.append((step.id, stage))
    return out


def load_stage(page: Page, set_dir: Path, stage: str) -> dict[str, Any]:
    """Open a recorded stage in `page`, offline (every request refused)."""
    man = load_manifest(set_dir)
    entry = next((s for s in man["stages"] if s["name"] == stage), None)
    if entry is None:
        raise RecordError(f"{set_dir.name}: no stage {stage!r} in the manifest")
    html = (Path(set_dir) / entry["file"]).read_text()
    vp = man.get("viewport") or {"width": 1920, "height": 1080}
    page.set_viewport_size({"width": int(vp["width"]), "height": int(vp["height"])})
    page.unroute("**/*")
    page.route("**/*", lambda route: route.abort())
    page.set_content(html, wait_until="domcontentloaded")
    return man


def _resolve(
    scope: Any, cands: list[Any], vars: Any, editable: bool = False, tick: bool = False
) -> tuple[Any, list[str]]:
    """Like Resolver.one without waiting: the first candidate with exactly one visible match."""
    from agent.engine.locate import to_locator

    tried = []
    for c in cands:
        found = to_locator(scope, c, vars, editable, tick).filter(visible=True)
        n = found.count()
        if n == 1 and editable and not found.is_editable():
            tried.append(f"{c.describe()} -> 1 match, not editable")
            continue
        tried.append(f"{c.describe()} -> {n} match(es)")
        if n == 1:
            return found, tried
    return None, tried


def _one(scope: Any, cands: list[Any], vars: Any, what: str, editable: bool = False) -> Any:
    el, tried = _resolve(scope, cands, vars, editable)
    if el is None:
        kind = "editable visible element" if editable else "visible element"
        raise _Fail(f"no candidate gave exactly one {kind} for {what}", tried)
    return el


def _clickable(el: Any, what: str, tried: list[str]) -> None:
    info = el.evaluate(_CLICKABLE_JS)
    if not info["kind"]:
        raise _Fail(f"{what} resolves to a <{info['tag']}> that is not clickable", tried)
    if info["disabled"]:
        raise _Fail(f"{what} resolves to a disabled element", tried)


def check_step(page: Page, set_dir: Path, flow: Flow, step: Step, stage: str) -> StepCheck:
    """Load the stage and check the step's locators against it."""
    from agent.engine.locate import Vars

    res = StepCheck(Path(set_dir).name, stage, step.id, step.action.rstrip("_"), True)
    try:
        man = load_stage(page, set_dir, stage)
        vars = Vars({k: v for k, v in (man.get("vars") or {}).items()})
        vars.setdefault("passphrase", PLACEHOLDER_PASSPHRASE)
        gate = getattr(step, "if_visible", None)
        if step.when and not vars.get(step.when):
            res.skipped, res.detail = (
                True,
                f"needs {{{step.when}}}, which this set was not recorded with",
            )
        elif gate is not None and not _gate_shows(page, gate, vars):
            res.skipped, res.detail = True, "its `if_visible` does not show on this set"
        else:
            _check(page, step, stage, vars, res)
    except _Fail as f:
        res.ok, res.detail, res.tried = False, f.detail, f.tried
    except Exception as exc:  # an unusable locator or a broken snapshot: say so, by step
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        res.ok, res.detail = False, f"error: {first}"
    return res


def _gate_shows(page: Page, gate: Any, vars: Any) -> bool:
    from agent.engine.locate import to_locator

    cands = gate if isinstance(gate, list) else [gate]
    return any(to_locator(page, c, vars).filter(visible=True).count() for c in cands)


def _check(page: Page, step: Step, stage: str, vars: Any, res: StepCheck) -> None:
    from agent.engine.locate import to_locator
    from agent.engine.runner import parse_labelled, valid

    vis = lambda scope, loc: to_locator(scope, loc, vars).filter(visible=True)  # noqa: E731
    act = step.action
    if act == "navigate":
        nav = step.navigate
        assert nav is not None
        _one(page, nav.ready, vars, "the page's `ready` marker")
        if nav.loaded:
            counts = [f"{c.describe()} -> {vis(page, c).count()} match(es)" for c in nav.loaded]
            if not any(vis(page, c).count() for c in nav.loaded):
                raise _Fail("none of `loaded` shows (the list never looks loaded)", counts)
        res.detail = "ready and loaded found"
    elif act == "assert_":
        a = step.assert_
        assert a is not None
        if a.absent is not None:
            n = vis(page, a.absent).count()
            if n:
                raise _Fail(f"`absent` matches {n} element(s) on this recorded page",
                            [f"{a.absent.describe()} -> {n} match(es)"])  # fmt: skip
        if a.present is not None:
            el = _one(page, [a.present], vars, "`present`")
            wanted = [w for item in a.near for w in vars.sub_list(item)]
            text = el.evaluate(
                """(el, wanted) => { let n = el; for (let d = 0; n && d < 8; d++, n = n.parentElement) {
                     const t = n.innerText || ''; if (wanted.every(w => t.includes(w))) return t; } return null; }""",
                wanted,
            )
            if text is None:
                raise _Fail(f"`present` found, but not near {wanted}")
        res.detail = "assertion locators behave"
    elif act == "click":
        c = step.click
        assert c is not None
        el, tried = _resolve(page, c.target, vars)
        if el is None:
            raise _Fail("no candidate gave exactly one visible element to click", tried)
        _clickable(el, "the click target", tried)
        res.detail = "one enabled clickable target"
    elif act == "fill":
        f = step.fill
        assert f is not None
        _one(page, f.target, vars, "the field", editable=True)
        res.detail = "one editable field"
    elif act == "fill_chips":
        fc = step.fill_chips
        assert fc is not None
        from agent.engine import engines
        from agent.engine.runner import shown_ips
        from agent.ips import canonical

        box = _one(page, fc.input, vars, "the chip input", editable=True)
        want = sorted({canonical(v) or v for v in vars.sub_list(fc.values)})
        area = box.locator("ob-area=" + engines.body(label=vars.sub(fc.label or "")))
        chips = shown_ips(area if fc.label and area.count() == 1 else page.locator("body"))
        if stage == "create-form" and chips != want:
            raise _Fail(f"the chips read {chips}, the recorded form holds {want}")
        res.detail = f"one editable input, {len(chips)} chip(s)"
    elif act == "choose":
        ch = step.choose
        assert ch is not None
        _one(page, ch.open, vars, "the select to open")
        res.detail = "select found"
    elif act == "check":
        ck = step.check
        assert ck is not None
        el, tried = _resolve(page, ck.target, vars, tick=True)
        if el is None:
            raise _Fail("no candidate gave exactly one visible radio/checkbox", tried)
        if el.is_disabled():
            raise _Fail("the radio/checkbox is disabled", tried)
        if stage == "create-form" and el.is_checked() != (ck.state == "on"):
            raise _Fail(f"the filled form shows it {'off' if ck.state == 'on' else 'on'}", tried)
        res.detail = "one enabled radio/checkbox"
    elif act == "wait_codes":
        cd = step.wait_codes
        assert cd is not None
        factor = stage.removeprefix("verify-")
        dialog = _one(page, cd.dialog, vars, "the verification dialog")
        if factor not in cd.factors:
            raise _Fail(f"the flow knows no factor {factor!r} (knows {', '.join(cd.factors)})")
        shown = [f for f, cands in cd.factors.items() if any(vis(dialog, c).count() for c in cands)]
        counts = [
            f"{f}: {c.describe()} -> {vis(dialog, c).count()} match(es)"
            for f, cands in cd.factors.items()
            for c in cands
        ]
        if not shown or shown[0] != factor:
            raise _Fail(f"the dialog reads as factor {shown[0] if shown else 'none'!r}, expected {factor!r}",
                        counts)  # fmt: skip
        counted = [(c, vis(dialog, c).count()) for c in cd.boxes]
        boxes = next((vis(dialog, c) for c, n in counted if n >= 4), None)
        n = boxes.count() if boxes is not None else 0
        if boxes is None or n != 6 or not all(boxes.nth(i).is_editable() for i in range(n)):
            raise _Fail(f"expected 6 editable code boxes, found {n}",
                        [f"{c.describe()} -> {k} match(es)" for c, k in counted])  # fmt: skip
        _one(dialog, cd.submit, vars, "the verification button")
        res.detail = f"{factor} title, 6 code boxes, one button"
    elif act == "capture":
        cap = step.capture
        assert cap is not None
        box = _one(page, cap.container, vars, "the capture container")
        records = parse_labelled(box.inner_text(), cap.fields)
        if not records:
            raise _Fail(f"no labelled values found for {list(cap.fields.values())}")
        for r in records:
            missing = [k for k in cap.formats if k not in r]
            if missing:
                raise _Fail(f"labels not found for {missing} (read {sorted(r)})")
            if not valid(r, cap.formats):
                bad = [k for k, p in cap.formats.items() if not re.fullmatch(p, r.get(k, ""))]
                raise _Fail(f"values for {bad} do not match the flow's formats")
        res.detail = f"{len(records)} record(s) with {', '.join(cap.formats)} in format"
    else:
        res.detail = "nothing to check"


def check_sets(page: Page, sets: list[Path], flow: Flow) -> list[StepCheck]:
    by_id = {s.id: s for s in flow.steps}
    out = []
    for set_dir in sets:
        for step_id, stage in planned_checks(set_dir, flow):
            out.append(check_step(page, set_dir, flow, by_id[step_id], stage))
    return out
