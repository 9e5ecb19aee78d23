"""The flow file schema and loader.

A flow is data: a short vocabulary of actions, each step with a caption a
person can read, and locator candidates tried in order. Errors name the file
and line, so a broken flow is fixed in a minute.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

# Class names minted by CSS modules change with every deploy: locators must not use them.
HASHED_CLASS = re.compile(
    r"\.[A-Za-z0-9-]*_[A-Za-z0-9-]*_[A-Za-z0-9]+|__[A-Za-z0-9]{4,}\b|\.css-[a-z0-9]+"
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


KINDS = ("role", "label", "placeholder", "text", "field", "dialog", "css")


class Loc(Strict):
    """One locator candidate. Exactly one kind: role(+name), label, placeholder, text, field,
    dialog, css. `field`, `dialog` and `text` with `popup` need no ARIA at all.

    - field: the control beside a visible label text (its form item, either layout)
    - dialog: the floating window around a visible title text
    - popup (with text, role or css): only inside the list that appeared since the select was
      opened, never the select's own box (a page may give its tags role=option too)
    - has_text (with css or role): only matches whose whole text is this
    """

    role: str | None = None
    name: str | None = None
    exact: bool = False
    label: str | None = None
    placeholder: str | None = None
    text: str | None = None
    field: str | None = None  # the control nearest to a visible label text
    dialog: str | None = None  # the dialog window around this title text
    css: str | None = None  # structure (component classes, attributes); never hashed classes
    popup: bool = False  # only in the list a select just opened (text, role or css)
    has_text: str | None = None
    nth: int | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Loc:
        kinds = [k for k in KINDS if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError(
                f"a locator needs exactly one of {', '.join(KINDS)} (got {', '.join(kinds) or 'none'})"
            )
        if self.name is not None and not self.role:
            raise ValueError("'name' only goes with 'role'")
        if self.popup and not (self.text or self.role or self.css):
            raise ValueError("'popup' only goes with 'text', 'role' or 'css'")
        if self.css and HASHED_CLASS.search(self.css):
            raise ValueError(
                f"css {self.css!r} uses a hashed class name; use roles, text or structure"
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k in KINDS if getattr(self, k))

    @property
    def needs_aria(self) -> bool:
        """Found only through ARIA: a role, or a label tied by for=/aria-label."""
        return self.kind in ("role", "label")

    def describe(self) -> str:
        k = self.kind
        extra = f" name={self.name!r}" if self.name else ""
        extra += " in the popup" if self.popup else ""
        extra += f" with text {self.has_text!r}" if self.has_text else ""
        return f"{k}={getattr(self, k)!r}{extra}"

    def words(self) -> str:
        """The human-readable text of this candidate (what a person would look for)."""
        return str(self.name or self.label or self.field or self.placeholder or self.text
                   or self.dialog or self.has_text or "")  # fmt: skip

    def bind(self, **values: str) -> Loc:
        """This candidate with {name} placeholders filled (an option's name, say)."""

        def fill(v: Any) -> Any:
            if not isinstance(v, str):
                return v
            for k, x in values.items():
                v = v.replace("{" + k + "}", x)
            return v

        return Loc(**{k: fill(v) for k, v in self.model_dump(exclude_none=True).items()})


Cands = list[Loc]


def _as_list(v: Any) -> Any:
    return [v] if isinstance(v, dict) else v


class Navigate(Strict):
    path: str
    ready: Cands  # the page is this one
    loaded: Cands | None = None  # its data has arrived (any of these shows)
    via: list[MenuStep] = Field(default_factory=list)

    _l = field_validator("ready", "loaded", mode="before")(_as_list)


class MenuStep(Strict):
    hover: Cands | None = None
    click: Cands | None = None

    _l = field_validator("hover", "click", mode="before")(_as_list)


class Click(Strict):
    target: Cands
    by: Literal["agent", "human", "submit"] = "agent"  # submit: human unless --auto-submit
    until: Cands | None = None  # what shows once the click took effect
    errors: Cands | None = None  # what shows when the site refused (read and reported)
    say: str | None = None  # what to tell the human when it is theirs to click

    _l = field_validator("target", "until", "errors", mode="before")(_as_list)


class Fill(Strict):
    target: Cands
    value: str
    secret: bool = False

    _l = field_validator("target", mode="before")(_as_list)


class FillChips(Strict):
    """Addresses entered one by one into an input that turns each into a chip.

    The chips are read as a person reads them: the addresses shown in the field's area
    (around the input, up to the field's `label`), whatever the chip's markup, close glyph
    or spacing; each is removed with the control inside its chip."""

    input: Cands
    values: str  # a variable holding a list, e.g. "{ips}"
    label: str | None = None  # the field's visible label: bounds the area the chips are read in
    confirm: Literal["enter", "comma", "space"] = "enter"
    errors: Cands | None = None

    _l = field_validator("input", "errors", mode="before")(_as_list)


class Choose(Strict):
    """Make a select show exactly `want` (multi) or `want[0]` (single); `never` must stay off.

    What the select is set to is read as a person reads it: the value, or the tags, its
    closed box shows (`label`'s words left out). A select already showing what is wanted is
    left alone, enabled or not; a disabled one showing anything else stops the run."""

    open: Cands  # the select's box, clicked to open its list
    option: Cands  # one option, with {option} standing for its text, e.g. {text: "{option}", popup: true}
    want: list[str] = Field(default_factory=list)
    never: list[str] = Field(default_factory=list)
    multiple: bool = False
    label: str | None = None  # the field's label (default: the first `open` candidate's words)
    audit: Literal["permissions", "account", "none"] = "none"
    loaded: Cands | None = None  # choosing reloads the page's data: wait until one of these shows

    _l = field_validator("open", "option", "loaded", mode="before")(_as_list)


class Check(Strict):
    """A radio or checkbox that must end up on (`on`) or off (`off`)."""

    target: Cands
    state: Literal["on", "off"] = "on"

    _l = field_validator("target", mode="before")(_as_list)


class Codes(Strict):
    """One-time-code challenges, any subset in any order, until `done` shows."""

    dialog: Cands
    factors: dict[str, Cands]  # factor -> what identifies its step (e.g. its title)
    boxes: Cands  # the code's boxes (the first candidate with several visible in the dialog)
    submit: Cands
    error: Cands | None = None
    cancelled_when_gone: bool = True
    done: Cands
    say: dict[str, str] = Field(default_factory=dict)
    # factor -> its code as the page names it ("Authenticator code"): what a prompt at the
    # operator's terminal asks for, so the operator and the client use the same words
    names: dict[str, str] = Field(default_factory=dict)

    @field_validator("factors", mode="before")
    @classmethod
    def _fl(cls, v: Any) -> Any:
        return {k: _as_list(x) for k, x in (v or {}).items()}

    _l = field_validator("dialog", "boxes", "submit", "error", "done", mode="before")(_as_list)


class Capture(Strict):
    """Read what the site shows once (credentials): labelled values in a container."""

    container: Cands
    fields: dict[str, str]  # record field -> the visible label text before its value
    formats: dict[str, str] = Field(default_factory=dict)  # record field -> regex it must match
    clipboard: Cands | None = None  # a button that copies the same info as text
    clipboard_patterns: dict[str, str] = Field(default_factory=dict)

    _l = field_validator("container", "clipboard", mode="before")(_as_list)


class Assert(Strict):
    present: Loc | None = None
    absent: Loc | None = None
    near: list[str] = Field(default_factory=list)  # texts that must show around `present`
    message: str
    code: Literal["exchange_refused", "verify_failed", "ui_not_understood"] = "ui_not_understood"


class Step(Strict):
    id: str
    caption: str
    navigate: Navigate | None = None
    click: Click | None = None
    fill: Fill | None = None
    fill_chips: FillChips | None = None
    choose: Choose | None = None
    check: Check | None = None
    wait_codes: Codes | None = None
    capture: Capture | None = None
    assert_: Assert | None = Field(default=None, alias="assert")
    when: str | None = None  # a request variable that must be truthy, e.g. "sub_account"
    if_visible: Cands | None = None  # run only on pages that show this (UI variants)
    unless_visible: Cands | None = None  # skip on pages that show this
    audit: str | None = None  # request field this step fills, read back before submit
    # Secrets are on the page from `start` until after `end`: no trace, no unmasked screenshot.
    sensitive: Literal["start", "end"] | None = None
    screenshot: str | None = None  # save a (masked) screenshot under this name after the step
    mask: Cands = Field(
        default_factory=list
    )  # more to paint over in that screenshot (e.g. a QR code)

    _m = field_validator("mask", "if_visible", "unless_visible", mode="before")(_as_list)

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        acts = [n for n in ACTIONS if getattr(self, n) is not None]
        if len(acts) != 1:
            raise ValueError(f"step {self.id!r} needs exactly one action of {', '.join(ACTIONS)}")
        return self

    @property
    def action(self) -> str:
        return next(n for n in ACTIONS if getattr(self, n) is not None)

    def targets(self) -> list[tuple[str, list[Loc]]]:
        """The candidate lists this step acts on (clicks, ticks, chooses): never a pattern,
        never a forbidden word. A check turning something off is not an action on it."""
        if self.check and self.check.state == "off":
            return []
        if self.navigate:
            return [
                (f"via.{k}.{kind}", getattr(m, kind))
                for k, m in enumerate(self.navigate.via)
                for kind in ("hover", "click")
                if getattr(m, kind)
            ]
        return [
            (w, c)
            for w, c in self.finders()
            if self.action in ("click", "check", "choose") and w in ("target", "open", "option")
        ]

    def finders(self) -> list[tuple[str, list[Loc]]]:
        """The candidate lists this step finds the element it acts on with."""
        act = getattr(self, self.action)
        fields = {
            "navigate": ["ready"],
            "click": ["target"],
            "fill": ["target"],
            "fill_chips": ["input"],
            "choose": ["open", "option"],
            "check": ["target"],
            "wait_codes": ["dialog", "boxes", "submit"],
            "capture": ["container"],
        }.get(self.action, [])
        return [(f, getattr(act, f)) for f in fields]


ACTIONS = (
    "navigate",
    "click",
    "fill",
    "fill_chips",
    "choose",
    "check",
    "wait_codes",
    "capture",
    "assert_",
)


class Rules(Strict):
    """The exchange's input rules, used to validate a request before any browser opens."""

    label_pattern: str = r"[A-Za-z0-9 _.\-]{1,50}"
    label_max: int = 50
    label_hint: str = "letters, numbers, spaces, - _ ."
    max_ips: int = 20
    passphrase_min: int = 8
    passphrase_max: int = 32
    max_drafts: int = 10  # keys in one submission (several sub-accounts at once)


class Login(Strict):
    url_contains: str
    say: str


class Interruption(Strict):
    """Something that covers the page (cookie banner, announcement): the human's to pass."""

    detect: Cands
    say: str

    _l = field_validator("detect", mode="before")(_as_list)


class Language(Strict):
    """The flow's texts are in this language; another one is the human's to switch."""

    expect: str  # prefix of <html lang>, e.g. "en"
    say: str


class Drafts(Strict):
    """Several keys in one submission (one per sub-account), so the human verifies once.

    The `steps` block is filled once per key, with `add` clicked between keys; before
    submit the runner selects each key's draft (`tile`, the k-th of exactly as many as
    there are keys with that name) and reads every field back. The `after` block (once
    the keys are created) also runs once per key.
    """

    steps: list[str]
    add: Cands  # the control that starts another draft
    empty: Cands  # a new draft's first field, which must read empty once `add` took effect
    tile: Loc  # a draft in the drafts list, by what it shows ({label})
    after: list[str] = Field(default_factory=list)

    _l = field_validator("add", "empty", mode="before")(_as_list)


# What every key is made with, owned by the engine: no flow can ask for more. Every other
# permission the page offers is kept off, whatever it is called.
REQUESTED = ("read", "trade")
# Words an action target may never hold, whatever the flow calls things (defence in depth).
FORBIDDEN_WORDS = ("withdraw",)
# Variables an action target may use: none can name a permission.
TARGET_VARS = {"label", "account_text", "option"}


class Demo(Strict):
    """How the site's key pages switch to demo trading and back: queries added to their URLs
    (a session stays in the mode it was last switched to)."""

    query: str = Field(pattern=r"^[A-Za-z0-9_.-]+=[A-Za-z0-9_.-]+$")
    live_query: str = Field(pattern=r"^[A-Za-z0-9_.-]+=[A-Za-z0-9_.-]+$")


class Flow(Strict):
    name: str
    version: int
    exchange: str
    sites: dict[str, str]
    origins: list[str]
    # Each site's REST API base (signed requests), where it differs from the site's pages.
    rest: dict[str, str] = Field(default_factory=dict)
    # Demo trading: the query that switches the key pages to demo-trading keys (run --demo).
    demo: Demo | None = None
    rules: Rules = Field(default_factory=Rules)
    # The labels the site shows for the requested permissions (read, trade), and nothing else.
    permissions: dict[str, str]
    permission_field: str  # the visible label of the permissions widget, read back by the engine
    main_account: str
    login: Login
    interruptions: list[Interruption] = Field(default_factory=list)
    language: Language | None = None
    # Before submit these audits must have read the page back (name, or name.part for groups).
    required_audits: list[str] = Field(default_factory=list)
    drafts: Drafts | None = None
    steps: list[Step]

    def rest_url(self, site: str) -> str:
        """The REST API base of `site`: its `rest` entry, else its pages' origin."""
        return (self.rest.get(site) or self.sites[site]).rstrip("/")

    @model_validator(mode="after")
    def _sane(self) -> Flow:
        unknown = sorted(set(self.rest) - set(self.sites))
        if unknown:
            raise ValueError(f"@rest: {unknown[0]!r} is not one of the sites")
        seen: set[str] = set()
        for i, s in enumerate(self.steps):
            if s.id in seen:
                raise ValueError(f"@steps.{i}.id: duplicate step id {s.id!r}")
            seen.add(s.id)
        if self.drafts:
            ids = [s.id for s in self.steps]
            for block in ("steps", "after"):
                names = getattr(self.drafts, block)
                for n in names:
                    if n not in ids:
                        raise ValueError(f"@drafts.{block}: no step {n!r} in this flow")
                at = sorted(ids.index(n) for n in names)
                if at and at != list(range(at[0], at[0] + len(at))):
                    raise ValueError(
                        f"@drafts.{block}: the steps repeated per key must follow each other"
                    )
        for i, s in enumerate(self.steps):
            for where, cands in s.finders():
                if len(cands) < 2 or all(c.needs_aria for c in cands):
                    raise ValueError(
                        f"@steps.{i}.{s.action.rstrip('_')}.{where}: step {s.id!r} needs more than "
                        "one way to find its element, at least one without an ARIA role or label "
                        "(a field, placeholder, text, dialog title or structure)"
                    )
        self._only_requested_permissions()
        return self

    def _only_requested_permissions(self) -> None:
        """No step can turn on a permission other than those the engine requests."""
        if sorted(self.permissions) != sorted(REQUESTED):
            raise ValueError(
                "@permissions: a flow names only the permissions the engine requests "
                f"({', '.join(REQUESTED)}), got {', '.join(sorted(self.permissions))}; every "
                "other option on the page is kept off by the engine"
            )
        requested = {v.lower() for v in self.permissions.values()}
        for n, c in enumerate(self.drafts.add if self.drafts else []):
            problem = _target_problem(c)
            if problem:
                raise ValueError(f"@drafts.add.{n}: {problem}")
        for i, s in enumerate(self.steps):
            for where, cands in s.targets():
                for n, c in enumerate(cands):
                    problem = _target_problem(c)
                    if problem:
                        raise ValueError(
                            f"@steps.{i}.{s.action.rstrip('_')}.{where}.{n}: step {s.id!r} {problem}"
                        )
            if s.check and s.check.state == "on" and (s.audit or "").startswith("permissions"):
                words = {c.words().lower() for c in s.check.target}
                if not words <= requested:
                    raise ValueError(
                        f"@steps.{i}.check: step {s.id!r} turns on {', '.join(sorted(words))}: "
                        f"a permission step may turn on only {', '.join(self.permissions.values())}"
                    )
            if s.choose:
                for w in s.choose.want:
                    if w != "{account_text}" and ("{" in w or w.startswith("/")):
                        raise ValueError(
                            f"@steps.{i}.choose.want: step {s.id!r} wants {w!r}: only literal "
                            "names (or {account_text}) may be chosen"
                        )
                if (
                    s.choose.audit == "permissions"
                    and {w.lower() for w in s.choose.want} != requested
                ):
                    raise ValueError(
                        f"@steps.{i}.choose.want: the permissions step must want exactly "
                        f"{', '.join(self.permissions.values())}"
                    )
        boxes = [s for s in self.steps if s.check and (s.audit or "").startswith("permissions")]
        if boxes and not any(s.check and s.check.state == "off" for s in boxes):
            raise ValueError(
                "@steps: permissions as checkboxes need a step that keeps the others off"
            )


def _target_problem(c: Loc) -> str | None:
    """Why a candidate may not be acted on (a click, a tick, a choice), or None."""
    text = " ".join(str(v) for v in c.model_dump(exclude_none=True).values()).lower()
    for word in FORBIDDEN_WORDS:
        if word in text:
            return f"acts on {c.describe()}: no flow may act on {word!r}"
    for v in (c.name, c.label, c.text, c.field, c.placeholder, c.dialog, c.has_text):
        if v and v.startswith("/"):
            return f"acts on a pattern ({c.describe()}): an action's target must be literal"
    used = set(re.findall(r"\{([a-z_]+)\}", text))
    if used - TARGET_VARS:
        return (
            f"acts on {c.describe()}: an action's target may use only "
            f"{', '.join('{' + v + '}' for v in sorted(TARGET_VARS))}"
        )
    return None


Navigate.model_rebuild()


class FlowError(Exception):
    """A flow file that cannot be used, with file:line."""


def _line_map(text: str) -> dict[tuple[Any, ...], int]:
    """Map each YAML path (keys and list indexes) to its 1-based line."""
    lines: dict[tuple[Any, ...], int] = {}

    def walk(node: yaml.Node, path: tuple[Any, ...]) -> None:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = (*path, k.value)
                lines[key] = k.start_mark.line + 1
                walk(v, key)
                lines[key] = k.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                walk(v, (*path, i))

    root = yaml.compose(text)
    if root is not None:
        walk(root, ())
    return lines


def load_flow(path: Path) -> Flow:
    try:
        text = path.read_text()
    except OSError as exc:
        raise FlowError(f"{path}: cannot read the flow file ({exc.strerror or exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise FlowError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    try:
        return Flow.model_validate(data)
    except ValidationError as exc:
        lines = _line_map(text)
        err = exc.errors()[0]
        msg = err["msg"].removeprefix("Value error, ")
        loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and x[:1].isupper()))
        if msg.startswith("@"):  # a flow-level check that names its own place: "@steps.3.id: ..."
            where, _, msg = msg[1:].partition(": ")
            loc = tuple(int(x) if x.isdigit() else x for x in where.split("."))
        line = None
        for n in range(len(loc), -1, -1):
            key = tuple("assert" if x == "assert_" else x for x in loc[:n])
            if key in lines:
                line = lines[key]
                break
        where = ".".join(str(x) for x in loc)
        raise FlowError(f"{path}:{line or 1}: {where}: {msg}") from None


def flows_dir() -> Path:
    """Flows ship inside the wheel (agent/flows) and live at the repo top in a checkout."""
    here = Path(__file__).resolve().parent.parent
    for cand in (here / "flows", here.parent / "flows"):
        if cand.is_dir():
            return cand
    raise FlowError("no flows directory found (broken install?)")


def is_bundled(name: str) -> bool:
    """Whether `name` is the flow that ships with the agent (not a custom one)."""
    if name == "okx":
        return True
    p = Path(name)
    try:
        return p.suffix in (".yaml", ".yml") and p.resolve() == (flows_dir() / "okx.yaml").resolve()
    except (OSError, FlowError):
        return False


def load_named(name: str = "okx") -> Flow:
    p = Path(name)
    if p.suffix in (".yaml", ".yml"):
        return load_flow(p)
    path = flows_dir() / f"{name}.yaml"
    if not path.exists():
        known = ", ".join(sorted(f.stem for f in flows_dir().glob("*.yaml")))
        raise FlowError(f"no flow named {name!r} (known: {known}; or give a path to a .yaml file)")
    return load_flow(path)
