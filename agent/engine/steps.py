"""The flow vocabulary's data: locator candidates (`Loc`) and one model per verb, each a
step's part (`click:`, `fill:` ...), with `Step` holding exactly one. What each verb does
with its part is in agent.engine.verbs; the flow as a whole is agent.engine.flow."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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


def as_list(v: Any) -> Any:
    return [v] if isinstance(v, dict) else v


class Navigate(Strict):
    path: str
    ready: Cands  # the page is this one
    loaded: Cands | None = None  # its data has arrived (any of these shows)
    via: list[MenuStep] = Field(default_factory=list)

    _l = field_validator("ready", "loaded", mode="before")(as_list)


class MenuStep(Strict):
    hover: Cands | None = None
    click: Cands | None = None

    _l = field_validator("hover", "click", mode="before")(as_list)


class Click(Strict):
    target: Cands
    by: Literal["agent", "human", "submit"] = "agent"  # submit: human unless --auto-submit
    until: Cands | None = None  # what shows once the click took effect
    errors: Cands | None = None  # what shows when the site refused (read and reported)
    say: str | None = None  # what to tell the human when it is theirs to click
    # A submission's refusal is tried again, unless its text matches this (a regular
    # expression, any case): a refusal that says so is the site's last word (a limit reached).
    final: str | None = None

    _l = field_validator("target", "until", "errors", mode="before")(as_list)


class Fill(Strict):
    target: Cands
    value: str
    secret: bool = False

    _l = field_validator("target", mode="before")(as_list)


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

    _l = field_validator("input", "errors", mode="before")(as_list)


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

    _l = field_validator("open", "option", "loaded", mode="before")(as_list)


class Check(Strict):
    """A radio or checkbox that must end up on (`on`) or off (`off`)."""

    target: Cands
    state: Literal["on", "off"] = "on"

    _l = field_validator("target", mode="before")(as_list)


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
        return {k: as_list(x) for k, x in (v or {}).items()}

    _l = field_validator("dialog", "boxes", "submit", "error", "done", mode="before")(as_list)


class Capture(Strict):
    """Read what the site shows once (credentials): labelled values in a container."""

    container: Cands
    fields: dict[str, str]  # record field -> the visible label text before its value
    formats: dict[str, str] = Field(default_factory=dict)  # record field -> regex it must match
    clipboard: Cands | None = None  # a button that copies the same info as text
    clipboard_patterns: dict[str, str] = Field(default_factory=dict)

    _l = field_validator("container", "clipboard", mode="before")(as_list)


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

    _m = field_validator("mask", "if_visible", "unless_visible", mode="before")(as_list)

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


Navigate.model_rebuild()
