"""Seeded page mutations: a reproducible random set of the changes OKX's releases make.

Hand-written scenarios (`reordered`, `renamed`, ...) are variants the agent was tuned to. A
mutation seed is not: `draw(seed)` picks, for each kind in the catalogue below, whether the
seed has it and with which parameters, from a random generator keyed by the seed and the
kind's name, so adding a kind never changes what an existing seed does with the others.

A kind is data here (its parameters) plus the few places where the replica builds its DOM
and reads it: the Jinja helpers in `replica/app.py` (templates), `OKX.*` builders in
`replica/static/okx.js` (`window.__mut`), `create.js`, `api-keys.js`, and the central text
rewrite of everything served (`rename_classes`). The replica keeps working under every
mutation: a change that would break the page for a person too is not a release, it is a bug.

To add a kind: a function decorated with `@kind("name")` that draws its parameters (its
docstring is what `onboard replica --list-mutations` prints), then the code that applies
them where the DOM is built; see README "Fuzzing".
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

if TYPE_CHECKING:
    from replica.scenarios import Knobs

# How likely a seed is to carry each kind: about four kinds per seed from the catalogue.
P_KIND = 0.25


@dataclass(frozen=True)
class Kind:
    name: str
    doc: str
    draw: Callable[[random.Random], dict[str, Any]]
    knobs: Callable[[Knobs, dict[str, Any]], None] | None = None


KINDS: dict[str, Kind] = {}


def kind(
    name: str, knobs: Callable[[Knobs, dict[str, Any]], None] | None = None
) -> Callable[
    [Callable[[random.Random], dict[str, Any]]], Callable[[random.Random], dict[str, Any]]
]:
    """Register a mutation kind: `fn(rng) -> params`; `knobs(k, params)` for server-side knobs."""

    def deco(fn: Callable[[random.Random], dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        KINDS[name] = Kind(name, (fn.__doc__ or "").strip(), fn, knobs)
        return fn

    return deco


def _subset(rng: random.Random, items: Sequence[str], least: int = 1) -> list[str]:
    """A non-empty random subset, in the catalogue's order (stable output)."""
    n = rng.randint(least, len(items))
    chosen = set(rng.sample(list(items), n))
    return [i for i in items if i in chosen]


# Where a text transform (case, whitespace, split, wrappers) may apply.
TEXT_TARGETS = ["labels", "buttons", "titles", "options"]
HIDE_METHODS = ["display", "visibility", "offscreen", "sr-only", "zero-size", "opacity"]


def _aria_dom(k: Knobs, _p: dict[str, Any]) -> None:
    k.dom = "aria"


@kind("aria-strip", knobs=_aria_dom)
def _aria_strip(rng: random.Random) -> dict[str, Any]:
    """On the `aria` DOM, a release drops groups of ARIA: widget roles (option, listbox,
    combobox, expanded), dialog roles and labelling, states (selected, checked, disabled),
    accessible names, live regions and tooltips."""
    return {"groups": _subset(rng, ["widgets", "dialogs", "states", "names", "alerts"])}


@kind("aria-wrong")
def _aria_wrong(rng: random.Random) -> dict[str, Any]:
    """ARIA added wrongly on a DOM that had none: the box's tags also role=option, a stale
    aria-selected, the two selects' aria-labels swapped, role=dialog on the dimmed overlay
    (labelled by nothing), aria-hidden on the open list."""
    bugs = ["tags-as-options", "stale-selected", "swapped-labels", "dialog-on-overlay",
            "hidden-popup"]  # fmt: skip
    return {"bugs": _subset(rng, bugs)}


def _salt(k: Knobs, p: dict[str, Any]) -> None:
    k.css_salt = str(p["salt"])


@kind("class-rename", knobs=_salt)
def _class_rename(rng: random.Random) -> dict[str, Any]:
    """Component classes renamed in HTML, CSS and JS alike: a CSS-module prefix
    (`trade_okui-select`), a hashed suffix (`okui-select__3fK9a`), `okui-` gone with the
    name kept (`_select_1p8xt_1`) or gone entirely (`c4e1a2b`); every hashed class re-hashed."""
    return {
        "mode": rng.choice(["prefix", "suffix", "css-module", "opaque"]),
        "module": rng.choice(["trade", "asset", "account", "earn", "growth"]),
        "salt": f"{rng.getrandbits(32):08x}",
    }


@kind("wrappers")
def _wrappers(rng: random.Random) -> dict[str, Any]:
    """Extra wrapper elements (1-3 deep) around labels' text, form controls, button text,
    dialog windows and option text."""
    return {
        "depth": rng.randint(1, 3),
        "targets": _subset(rng, ["labels", "controls", "buttons", "dialogs", "options"]),
    }


FIELDS = ["label", "account", "usedFor", "ips", "perms", "passphrase"]


def _order(k: Knobs, p: dict[str, Any]) -> None:
    k.field_order = list(p["fields"])


@kind("reorder", knobs=_order)
def _reorder(rng: random.Random) -> dict[str, Any]:
    """The create form's items in another order, the permission options too."""
    fields = FIELDS[:]
    while fields == FIELDS:
        rng.shuffle(fields)
    perms = ["read_only", "trade", "withdraw"]
    rng.shuffle(perms)
    return {"fields": fields, "perm_options": perms}


@kind("label-case")
def _label_case(rng: random.Random) -> dict[str, Any]:
    """Label, button, title and option text in another case or spacing in the DOM (upper,
    lower, title; doubled spaces, a line break, no-break spaces, padding): the same words."""
    case = rng.choice(["upper", "lower", "title", "none"])
    space = rng.choice(["double", "newline", "nbsp", "pad"] + ([] if case == "none" else ["none"]))
    return {"case": case, "space": space, "targets": _subset(rng, TEXT_TARGETS)}


@kind("button-div")
def _button_div(rng: random.Random) -> dict[str, Any]:
    """Buttons rendered as clickable `div`s (no role, no tabindex, disabled shown by class
    and cursor): Create API key, Add another, Submit all, Continue/Confirm, Complete, Copy
    API key info, the banners' buttons."""
    which = ["create", "add", "submit", "verify", "complete", "copy", "dismiss"]
    return {"targets": _subset(rng, which)}


@kind("popup-place")
def _popup_place(rng: random.Random) -> dict[str, Any]:
    """Where a select's option list is put: inside the select itself, in a portal container
    at the end of `<body>`, or first in `<body>` (the default is last in `<body>`)."""
    return {"where": rng.choice(["inline", "portal", "start"])}


@kind("chip-close")
def _chip_close(rng: random.Random) -> dict[str, Any]:
    """The IP chips' close control: a bare SVG, a text glyph (before or after the address),
    or absent (Backspace in the empty input removes the last chip)."""
    return {
        "mode": rng.choice(["svg", "glyph", "absent"]),
        "glyph": rng.choice(["×", "✕", "x", "✖"]),
        "side": rng.choice(["after", "before"]),
    }


def _late_ms(rng: random.Random) -> int:
    return rng.choice([0, rng.randint(50, 1500)])


@kind("late")
def _late(rng: random.Random) -> dict[str, Any]:
    """Parts of pages rendered 0-1500 ms late: option lists (empty, or "Loading...", first),
    the create form, the key list, the verification window, the created dialog."""
    parts = {p: _late_ms(rng) for p in ("list_ms", "form_ms", "keys_ms", "verify_ms", "created_ms")}
    if not any(parts.values()):
        parts[rng.choice(list(parts))] = rng.randint(50, 1500)
    return {**parts, "loading": rng.choice(["none", "spinner", "text"])}


@kind("cover")
def _cover(rng: random.Random) -> dict[str, Any]:
    """A transparent layer over some selects takes the pointer (it opens them when clicked):
    inside the select, or a sibling laid over it."""
    return {
        "targets": _subset(rng, ["account", "perms", "pill"]),
        "where": rng.choice(["inside", "sibling"]),
    }


@kind("interrupt")
def _interrupt(rng: random.Random) -> dict[str, Any]:
    """A cookie banner or an announcement dialog appearing at a random moment (0-4 s after
    the key list or the create form loads)."""
    return {
        "what": rng.choice(["cookies", "announcement"]),
        "page": rng.choice(["keys", "create"]),
        "after_ms": rng.randint(0, 4000),
    }


@kind("split-text")
def _split_text(rng: random.Random) -> dict[str, Any]:
    """Text split across several elements: one per word, a first letter apart, or two halves
    of a word."""
    return {
        "how": rng.choice(["words", "first-letter", "halves"]),
        "targets": _subset(rng, TEXT_TARGETS),
    }


@kind("decoys")
def _decoys(rng: random.Random) -> dict[str, Any]:
    """Decoys: a hidden second "Confirm" in the verification window, a hidden IP input with
    the same placeholder, a disabled duplicate of a field, the word "Withdraw" in help text
    under Permissions or as a note in its list."""
    items = ["hidden-confirm", "hidden-input", "disabled-duplicate", "withdraw-help"]
    return {
        "items": _subset(rng, items),
        "hide": rng.choice(HIDE_METHODS),
        "duplicate": rng.choice(["label", "passphrase", "ips"]),
        "help_where": rng.choice(["extra", "list-note"]),
    }


def _autosubmit(k: Knobs, _p: dict[str, Any]) -> None:
    k.codes_autosubmit = True


@kind("codes-autosubmit", knobs=_autosubmit)
def _codes_autosubmit(rng: random.Random) -> dict[str, Any]:
    """The verification boxes submit by themselves after the sixth digit."""
    return {}


# -- a seed's set -------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutation:
    kind: str
    params: dict[str, Any]

    def text(self) -> str:
        """One line, as printed and logged: `late: form_ms=800 list_ms=0 ...`."""
        args = " ".join(f"{k}={_show(v)}" for k, v in self.params.items())
        return f"{self.kind}: {args}".rstrip(": ").rstrip()


def _show(v: Any) -> str:
    return ",".join(map(str, v)) if isinstance(v, list) else str(v)


@dataclass
class MutationSet:
    seed: int
    items: list[Mutation] = field(default_factory=list)

    @property
    def kinds(self) -> list[str]:
        return [m.kind for m in self.items]

    def as_params(self) -> dict[str, dict[str, Any]]:
        """What the pages get (`window.__mut`, the templates' `mut`): kind -> parameters."""
        return {m.kind: m.params for m in self.items}

    def lines(self) -> list[str]:
        return [m.text() for m in self.items]

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "kinds": self.kinds,
            "mutations": [
                {"kind": m.kind, "params": m.params, "text": m.text()} for m in self.items
            ],
        }

    def apply_knobs(self, k: Knobs) -> None:
        for m in self.items:
            hook = KINDS[m.kind].knobs
            if hook:
                hook(k, m.params)


def _rng(seed: int, *parts: str) -> random.Random:
    # A string seed is hashed with SHA-512 by `random`: the same on every run and machine.
    return random.Random(":".join(["onboard-mutate", str(seed), *parts]))


def draw(seed: int, only: Sequence[str] | None = None) -> MutationSet:
    """The seed's mutations: each kind in or out by its own coin, parameters by its own rng.

    `only`: exactly these kinds (to try one kind, e.g. `--mutate 7:late`)."""
    if only:
        unknown = [k for k in only if k not in KINDS]
        if unknown:
            raise ValueError(f"unknown mutation kind {unknown[0]!r} (known: {', '.join(KINDS)})")
        names = [n for n in KINDS if n in only]
    else:
        names = [n for n in KINDS if _rng(seed, n, "pick").random() < P_KIND]
        if not names:
            names = [_rng(seed, "fallback").choice(list(KINDS))]
    return MutationSet(seed, [Mutation(n, KINDS[n].draw(_rng(seed, n))) for n in names])


SPEC = re.compile(r"^(\d{1,9})(?::([a-z-]+(?:[,+][a-z-]+)*))?$")


def parse_spec(spec: str) -> tuple[int, list[str] | None]:
    """`7` -> (7, None); `7:late,cover` -> (7, ["late", "cover"]). ValueError when malformed."""
    m = SPEC.match(spec.strip())
    if not m:
        raise ValueError("give a seed, a whole number, optionally with kinds (7, or 7:late,cover)")
    only = re.split(r"[,+]", m.group(2)) if m.group(2) else None
    draw(int(m.group(1)), only)  # unknown kinds fail here, with the list
    return int(m.group(1)), only


def describe() -> dict[str, str]:
    return {name: k.doc for name, k in KINDS.items()}


# -- text, as the templates write it (okx.js mirrors this for what the scripts build) -------


def case_space(text: str, case: str, space: str) -> str:
    if case == "upper":
        text = text.upper()
    elif case == "lower":
        text = text.lower()
    elif case == "title":
        text = " ".join(w[:1].upper() + w[1:].lower() for w in text.split(" "))
    if space == "double":
        text = text.replace(" ", "  ")
    elif space == "newline":
        text = text.replace(" ", "\n", 1)
    elif space == "nbsp":
        text = text.replace(" ", "\u00a0")
    elif space == "pad":
        text = f"  {text}\n "
    return text


def split_parts(text: str, how: str) -> list[str]:
    """The pieces a split text is written in (their concatenation is the text)."""
    if how == "words":
        return [p for p in re.split(r"(\s+)", text) if p]
    if how == "first-letter":
        return [text[:1], text[1:]] if len(text) > 1 else [text]
    stripped = text.strip()
    mid = len(stripped) // 2
    lead = text[: len(text) - len(text.lstrip())]
    return [
        p for p in (lead + stripped[:mid], stripped[mid:] + text[len(lead) + len(stripped) :]) if p
    ]


def _hash(salt: str, text: str, n: int) -> str:
    return hashlib.sha1(f"{salt}:{text}".encode()).hexdigest()[:n]


def wrap_tags(depth: int, salt: str, tag: str, what: str) -> tuple[str, str]:
    """Opening and closing tags of `depth` wrapper elements with hashed classes."""
    opens = "".join(
        f'<{tag} class="index_wrap-{what}-{i}__{_hash(salt, what + str(i), 5)}">'
        for i in range(depth)
    )
    return opens, f"</{tag}>" * depth


class Text:
    """The templates' text helper for one page render: case, spacing, split and wrappers."""

    def __init__(self, mut: dict[str, dict[str, Any]], salt: str) -> None:
        self.mut = mut
        self.salt = salt

    def __call__(self, text: str, target: str = "labels") -> Markup:
        lc = self.mut.get("label-case")
        if lc and target in lc["targets"]:
            text = case_space(text, lc["case"], lc["space"])
        st = self.mut.get("split-text")
        if st and target in st["targets"]:
            # One inline box around the pieces: in a flex label or button they stay one item,
            # so the text shows exactly as before, only its DOM is in pieces.
            out = Markup("<span>{}</span>").format(
                Markup("").join(
                    Markup("<span>{}</span>").format(p) for p in split_parts(text, st["how"])
                )
            )
        else:
            out = escape(text)
        wr = self.mut.get("wrappers")
        if wr and target in wr["targets"]:
            opens, closes = wrap_tags(wr["depth"], self.salt, "span", target)
            out = Markup(opens) + out + Markup(closes)
        return Markup(out)


def aria_group(name: str, value: str) -> str:
    """Which ARIA group an attribute belongs to (`aria-strip` drops whole groups; okx.js's
    ariaGroup is the same table)."""
    if name == "role":
        if value in ("option", "listbox", "combobox"):
            return "widgets"
        if value in ("dialog", "alertdialog"):
            return "dialogs"
        if value in ("alert", "status", "tooltip", "region"):
            return "alerts"
        return "other"
    if name in ("aria-haspopup", "aria-expanded", "aria-multiselectable"):
        return "widgets"
    if name in ("aria-modal", "aria-labelledby"):
        return "dialogs"
    if name in ("aria-selected", "aria-checked", "aria-disabled", "aria-current"):
        return "states"
    if name in ("aria-label", "aria-describedby"):
        return "names"
    return "other"


# -- classes renamed in everything served ----------------------------------------------------

OKUI_CLASS = re.compile(r"(?<![\w-])okui-[A-Za-z0-9_-]*[A-Za-z0-9]")


def rename_classes(text: str, params: dict[str, Any]) -> str:
    """Every okui-* class token renamed the same way in HTML, CSS and JS (so the page's own
    selectors and styles keep working), as a build with other CSS-module settings would."""
    mode, salt = params["mode"], str(params["salt"])

    def one(m: re.Match[str]) -> str:
        token = m.group(0)
        if mode == "prefix":
            return f"{params['module']}_{token}"
        if mode == "suffix":
            return f"{token}__{_hash(salt, token, 5)}"
        if mode == "css-module":
            return f"_{token[5:]}_{_hash(salt, token, 5)}_1"
        return f"c{_hash(salt, token, 6)}"

    return OKUI_CLASS.sub(one, text)


# The inline styles of each way a decoy is hidden from a person (some of them stay "visible"
# to a naive check: off screen, clipped to a pixel, transparent).
HIDE_CSS = {
    "display": "display:none",
    "visibility": "visibility:hidden",
    "offscreen": "position:absolute;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden",
    "sr-only": "position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;"
    "clip:rect(0,0,0,0);white-space:nowrap;border:0",
    "zero-size": "display:block;width:0;height:0;padding:0;border:0;overflow:hidden",
    "opacity": "opacity:0;position:absolute;pointer-events:none",
}
