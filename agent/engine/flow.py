"""The flow file schema and loader.

A flow is data: a short vocabulary of actions (agent.engine.steps), each step with a
caption a person can read, and locator candidates tried in order; here the flow as a whole
(the exchange's sites, words and rules) and the engine's own rule that no flow can ask for
a permission beyond read and trade. Errors name the file and line, so a broken flow is
fixed in a minute.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from agent.engine.steps import (
    ACTIONS,
    HASHED_CLASS,
    KINDS,
    Assert,
    Cands,
    Capture,
    Check,
    Choose,
    Click,
    Codes,
    Fill,
    FillChips,
    Loc,
    MenuStep,
    Navigate,
    Step,
    Strict,
    as_list,
)

# The step vocabulary is part of the flow schema: importable from here too.
__all__ = [
    "ACTIONS",
    "HASHED_CLASS",
    "KINDS",
    "REQUESTED",
    "Assert",
    "Cands",
    "Capture",
    "Check",
    "Choose",
    "Click",
    "Codes",
    "Fill",
    "FillChips",
    "Flow",
    "FlowError",
    "Loc",
    "MenuStep",
    "Navigate",
    "Step",
    "Strict",
    "flows_dir",
    "is_bundled",
    "load_flow",
    "load_named",
]


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

    _l = field_validator("detect", mode="before")(as_list)


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

    _l = field_validator("add", "empty", mode="before")(as_list)


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
    # The banner the person sees once every step is done (the key made, stored and checked).
    done_say: str = "Done."
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


def _parse(text: str) -> Any:
    """The YAML as data: with libyaml's loader when PyYAML has it (the same data, ~10x less
    CPU: ~20 ms a run for the bundled flow otherwise); a text it refuses is parsed again by
    the pure-Python loader, whose error (problem and line) is the one said."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return yaml.load(text, Loader=fast)  # a safe loader: libyaml's SafeLoader
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def load_flow(path: Path) -> Flow:
    try:
        text = path.read_text()
    except OSError as exc:
        raise FlowError(f"{path}: cannot read the flow file ({exc.strerror or exc})") from None
    try:
        data = _parse(text)
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
    """Whether `name` is a flow that ships with the agent (by name, or as the path of a
    bundled flow file), not a custom one."""
    try:
        shipped = flows_dir()
    except FlowError:
        return False
    p = Path(name)
    if p.suffix not in (".yaml", ".yml"):
        return (shipped / f"{name}.yaml").is_file()
    try:
        return p.resolve().parent == shipped.resolve() and p.resolve().is_file()
    except OSError:
        return False


def load_named(name: str) -> Flow:
    p = Path(name)
    if p.suffix in (".yaml", ".yml"):
        return load_flow(p)
    path = flows_dir() / f"{name}.yaml"
    if not path.exists():
        known = ", ".join(sorted(f.stem for f in flows_dir().glob("*.yaml")))
        raise FlowError(f"no flow named {name!r} (known: {known}; or give a path to a .yaml file)")
    return load_flow(path)
