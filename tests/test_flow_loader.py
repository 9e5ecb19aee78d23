"""The flow loader names file:line for every broken flow; the engine itself knows no OKX text."""

from __future__ import annotations

import ast
import re
import uuid
from pathlib import Path

import pytest

from agent.engine.context import Vars
from agent.engine.flow import Capture, Flow, FlowError, load_flow, load_named
from agent.engine.verbs.capture import parse_labelled, valid
from agent.exitcodes import AgentError, Exit

ROOT = Path(__file__).resolve().parent.parent
OKX = ROOT / "flows" / "okx.yaml"
AGENT = ROOT / "agent"


@pytest.fixture(scope="module")
def okx_text() -> str:
    return OKX.read_text()


@pytest.fixture(scope="module")
def okx() -> Flow:
    return load_named("okx")


def line_of(text: str, pattern: str, nth: int = 0) -> int:
    """1-based line of the nth line matching `pattern` (a regex searched in each line)."""
    hits = [i + 1 for i, ln in enumerate(text.splitlines()) if re.search(pattern, ln)]
    assert len(hits) > nth, f"{pattern!r} not found {nth + 1} time(s) in the flow"
    return hits[nth]


def insert_after(text: str, pattern: str, new: str) -> str:
    """Insert `new` (one or more lines) after the single line matching `pattern`."""
    lines = text.splitlines(keepends=True)
    hits = [i for i, ln in enumerate(lines) if re.search(pattern, ln)]
    assert len(hits) == 1, f"{pattern!r} matches {len(hits)} lines of the flow"
    lines.insert(hits[0] + 1, new)
    return "".join(lines)


def append_step(text: str, step: str) -> str:
    """`steps` is the last top-level key: a new step goes at the end of the file."""
    assert re.search(r"^steps:", text, re.M)
    assert not re.search(r"^\w", text.split("\nsteps:", 1)[1], re.M), "steps is not last"
    return text.rstrip("\n") + "\n\n" + step


def load_error(tmp_path: Path, text: str) -> tuple[Path, str]:
    p = tmp_path / "mutated.yaml"
    p.write_text(text)
    with pytest.raises(FlowError) as exc:
        load_flow(p)
    return p, str(exc.value)


def error_line(path: Path, message: str) -> int:
    m = re.match(rf"^{re.escape(str(path))}:(\d+): ", message)
    assert m, f"not 'path:line: ...': {message}"
    return int(m.group(1))


# -- the real flow ---------------------------------------------------------------------


def test_real_flow_loads(okx: Flow) -> None:
    assert okx.exchange == "okx"
    assert len(okx.steps) >= 5
    ids = [s.id for s in okx.steps]
    assert len(ids) == len(set(ids))
    assert okx.permissions == {"read": "Read", "trade": "Trade"}  # nothing else can be asked
    assert okx.permission_field == "Permissions"
    assert all(s.action for s in okx.steps)
    assert load_flow(OKX).model_dump() == okx.model_dump()


def test_real_flow_never_wants_withdraw(okx: Flow) -> None:
    for s in okx.steps:
        if s.choose:
            assert "Withdraw" not in s.choose.want
    perms = [s.choose for s in okx.steps if s.choose and s.choose.multiple]
    assert perms and all(c.want == ["Read", "Trade"] for c in perms)


def test_load_named_accepts_a_path(tmp_path: Path, okx_text: str) -> None:
    p = tmp_path / "copy.yaml"
    p.write_text(okx_text)
    assert load_named(str(p)).name == load_named("okx").name


def test_unknown_flow_name_is_a_flow_error() -> None:
    with pytest.raises(FlowError, match="no-such-exchange-flow"):
        load_named("no-such-exchange-flow")


# -- mutations: each error names the right line ------------------------------------------


def test_unknown_key_in_step(tmp_path: Path, okx_text: str) -> None:
    text = insert_after(okx_text, r"^  - id: open-create$", "    bogus_key: 1\n")
    p, msg = load_error(tmp_path, text)
    assert error_line(p, msg) == line_of(text, r"^    bogus_key: 1$")
    assert "bogus_key" in msg and "Extra inputs are not permitted" in msg


def test_locator_with_two_kinds(tmp_path: Path, okx_text: str) -> None:
    text = append_step(
        okx_text,
        "  - id: extra\n"
        "    caption: Extra\n"
        "    click:\n"
        "      target:\n"
        "        - {role: button, name: Go}\n"
        "        - {role: button, text: Go}\n",
    )
    p, msg = load_error(tmp_path, text)
    assert error_line(p, msg) == line_of(text, r"\{role: button, text: Go\}")
    assert (
        "exactly one of role, label, placeholder, text, field, dialog, css (got role, text)" in msg
    )


@pytest.mark.parametrize("css", ["._root_1p8xt_1 input", ".index_title__3fK9a", ".css-1x2y3z"])
def test_hashed_css_class_refused(tmp_path: Path, okx_text: str, css: str) -> None:
    text = append_step(
        okx_text,
        f'  - id: extra\n    caption: Extra\n    click:\n      target:\n        - {{css: "{css}"}}\n',
    )
    p, msg = load_error(tmp_path, text)
    assert error_line(p, msg) == line_of(text, re.escape(f'{{css: "{css}"}}'))
    assert "uses a hashed class name" in msg


def test_hashed_css_in_existing_step(tmp_path: Path, okx_text: str) -> None:
    text, n = re.subn(r'\{css: "\[class\*=\'toast\'\]"\}', '{css: "._root_1p8xt_1 div"}', okx_text)
    assert n == 1
    p, msg = load_error(tmp_path, text)
    assert error_line(p, msg) == line_of(text, re.escape('{css: "._root_1p8xt_1 div"}'))
    assert "click.errors" in msg and "uses a hashed class name" in msg


def test_step_with_two_actions(tmp_path: Path, okx_text: str) -> None:
    text = append_step(
        okx_text,
        "  - id: extra\n"
        "    caption: Extra\n"
        "    click:\n"
        "      target: {text: Go}\n"
        "    fill:\n"
        "      target: {text: Go}\n"
        "      value: x\n",
    )
    p, msg = load_error(tmp_path, text)
    assert error_line(p, msg) == line_of(text, r"^  - id: extra$")
    assert "step 'extra' needs exactly one action" in msg


def test_step_with_no_action(tmp_path: Path, okx_text: str) -> None:
    text = append_step(okx_text, "  - id: extra\n    caption: Extra\n")
    p, msg = load_error(tmp_path, text)
    assert error_line(p, msg) == line_of(text, r"^  - id: extra$")
    assert "step 'extra' needs exactly one action" in msg


def _withdraw_text(okx_text: str) -> str:
    text, n = re.subn(r"want: \[Read, Trade\]", "want: [Read, Trade, Withdraw]", okx_text)
    assert n == 1
    return text


def test_choose_wanting_withdraw_is_refused(tmp_path: Path, okx_text: str) -> None:
    _, msg = load_error(tmp_path, _withdraw_text(okx_text))
    assert "the permissions step must want exactly Read, Trade" in msg


def test_choose_wanting_withdraw_names_its_line(tmp_path: Path, okx_text: str) -> None:
    text = _withdraw_text(okx_text)
    p, msg = load_error(tmp_path, text)
    assert error_line(p, msg) in {
        line_of(text, r"want: \[Read, Trade, Withdraw\]"),
        line_of(text, r"^  - id: permissions$"),
    }
    assert ": : " not in msg


@pytest.mark.parametrize(
    "want",
    [
        pytest.param('"/Withdraw/"', id="regex"),
        pytest.param('"/withdraw/i"', id="regex-ignorecase"),
        pytest.param('"{label}"', id="variable"),
    ],
)
def test_choose_wanting_withdraw_in_disguise_is_refused(
    tmp_path: Path, okx_text: str, want: str
) -> None:
    text, n = re.subn(r"want: \[Read, Trade\]", f"want: [Read, Trade, {want}]", okx_text)
    assert n == 1
    _, msg = load_error(tmp_path, text)
    assert "only literal names (or {account_text}) may be chosen" in msg


def test_duplicate_step_ids_are_refused(tmp_path: Path, okx_text: str) -> None:
    text = append_step(
        okx_text, "  - id: open-create\n    caption: Again\n    click:\n      target: {text: Go}\n"
    )
    _, msg = load_error(tmp_path, text)
    assert "duplicate step id 'open-create'" in msg


def test_duplicate_step_ids_name_their_line(tmp_path: Path, okx_text: str) -> None:
    text = append_step(
        okx_text, "  - id: open-create\n    caption: Again\n    click:\n      target: {text: Go}\n"
    )
    p, msg = load_error(tmp_path, text)
    assert error_line(p, msg) in {
        line_of(text, r"^  - id: open-create$", 0),
        line_of(text, r"^  - id: open-create$", 1),
    }


@pytest.mark.parametrize(
    ("anchor", "bad"),
    [
        (r"^  - id: open-create$", "   bogus: 1\n"),  # 3 spaces: under-indented key
        (r"^    caption: Open the create form$", "      orphan: 1\n"),  # over-indented
    ],
)
def test_invalid_yaml_names_its_line(tmp_path: Path, okx_text: str, anchor: str, bad: str) -> None:
    text = insert_after(okx_text, anchor, bad)
    p, msg = load_error(tmp_path, text)
    assert "not valid YAML" in msg
    assert error_line(p, msg) == line_of(text, "^" + re.escape(bad.rstrip("\n")) + "$")


def test_missing_required_field_names_its_step(tmp_path: Path, okx_text: str) -> None:
    text = append_step(
        okx_text, "  - id: extra\n    caption: Extra\n    fill:\n      target: {text: Go}\n"
    )
    p, msg = load_error(tmp_path, text)
    assert error_line(p, msg) == line_of(text, r"^    fill:$", text.count("\n    fill:\n") - 1)
    assert "value" in msg and "Field required" in msg


# -- Vars -----------------------------------------------------------------------------------


def test_vars_sub() -> None:
    v = Vars(label="ICG-MM", ips=["203.0.113.7", "2001:db8::7"], n=3)
    assert v.sub("key {label} x{n}") == "key ICG-MM x3"
    assert v.sub("{ips}") == "203.0.113.7, 2001:db8::7"
    assert v.sub("no variables {} {Label} here") == "no variables {} {Label} here"


def test_vars_sub_list() -> None:
    v = Vars(label="ICG-MM", ips=["203.0.113.7", "2001:db8::7"])
    assert v.sub_list("{ips}") == ["203.0.113.7", "2001:db8::7"]
    assert v.sub_list("  {ips} ") == ["203.0.113.7", "2001:db8::7"]
    assert v.sub_list("{label}") == ["ICG-MM"]
    assert v.sub_list("ips: {ips}") == ["ips: 203.0.113.7, 2001:db8::7"]


@pytest.mark.parametrize("call", ["sub", "sub_list"])
@pytest.mark.parametrize("name", ["nope", "sub_account"])
def test_vars_unknown_or_unset_value(call: str, name: str) -> None:
    v = Vars(label="x", sub_account=None)
    with pytest.raises(AgentError) as exc:
        getattr(v, call)(f"a {{{name}}}")
    assert exc.value.code == Exit.BAD_INPUT
    assert exc.value.message == f"flow refers to unknown value {{{name}}}"


# -- parse_labelled / valid --------------------------------------------------------------


def modal(api_key: str, secret: str, ips: str = "203.0.113.7") -> str:
    return (
        "Used for\nAPI trading\nPermissions\nRead, Trade\nIP address allowlist (optional)\n"
        f"{ips}\nAPI key\n{api_key}\nSecret key\n{secret}\n"
    )


def _capture(okx: Flow) -> Capture:
    return next(s.capture for s in okx.steps if s.capture)


def test_parse_labelled_one_record(okx: Flow) -> None:
    cap = _capture(okx)
    key, secret = str(uuid.uuid4()), uuid.uuid4().hex.upper()
    recs = parse_labelled(modal(key, secret) + "Copy API key info", cap.fields)
    assert recs == [
        {
            "used_for": "API trading",
            "permissions": "Read, Trade",
            "ips": "203.0.113.7",
            "api_key": key,
            "secret": secret,
        }
    ]
    assert valid(recs[0], cap.formats)


def test_parse_labelled_two_records(okx: Flow) -> None:
    cap = _capture(okx)
    k1, s1 = str(uuid.uuid4()), uuid.uuid4().hex.upper()
    k2, s2 = str(uuid.uuid4()), uuid.uuid4().hex.upper()
    text = (
        "  "
        + modal(k1, s1).replace("\n", "\n\n  ")
        + modal(k2, s2, "198.51.100.1")
        + "Copy API key info"
    )
    recs = parse_labelled(text, cap.fields)
    assert [(r["api_key"], r["secret"], r["ips"]) for r in recs] == [
        (k1, s1, "203.0.113.7"),
        (k2, s2, "198.51.100.1"),
    ]
    assert all(valid(r, cap.formats) for r in recs)


def test_parse_labelled_is_case_insensitive_and_ignores_other_text() -> None:
    recs = parse_labelled(
        "Header\nAPI KEY\nabc\nnoise\nsecret key\nDEF\n",
        {"api_key": "API key", "secret": "Secret key"},
    )
    assert recs == [{"api_key": "abc", "secret": "DEF"}]
    assert parse_labelled("nothing here", {"api_key": "API key"}) == []
    assert parse_labelled("API key", {"api_key": "API key"}) == []  # label with no value


def test_valid_with_flow_formats(okx: Flow) -> None:
    fmt = _capture(okx).formats
    key, secret = str(uuid.uuid4()), uuid.uuid4().hex.upper()
    assert valid({"api_key": key, "secret": secret}, fmt)
    assert not valid({"api_key": key, "secret": secret.lower()}, fmt)
    assert not valid({"api_key": key.upper(), "secret": secret}, fmt)
    assert not valid({"api_key": key + "0", "secret": secret}, fmt)
    assert not valid({"api_key": key}, fmt)  # missing secret
    assert not valid({"api_key": "…" + key[-4:], "secret": secret}, fmt)  # masked display
    assert valid({}, {})


# -- flows are data: the engine has no OKX page strings -------------------------------------

OKX_TEXTS = ["Create API key", "Submit all", "API key created", "okx.com", "Secret key", "Withdraw"]

# Found when this was written (help text and docstrings, not engine logic): see the report.
FOUND: dict[str, str] = {}


def occurrences(needle: str) -> list[str]:
    out = []
    for p in sorted([*AGENT.rglob("*.py"), *AGENT.rglob("*.js")]):
        for n, line in enumerate(p.read_text().splitlines(), 1):
            if needle in line:
                out.append(f"{p.relative_to(ROOT)}:{n}")
    return out


@pytest.mark.parametrize(
    "needle",
    [
        pytest.param(
            t,
            marks=pytest.mark.xfail(
                reason=f"FINDING: OKX page text {t!r} in agent/ (help text/docstrings): {FOUND[t]}",
                strict=True,
            )
            if t in FOUND
            else (),
        )
        for t in OKX_TEXTS
    ],
)
def test_no_okx_page_text_in_agent(needle: str) -> None:
    assert occurrences(needle) == []


def _code_strings(path: Path) -> list[tuple[int, str]]:
    """String literals in code, without docstrings and comments."""
    tree = ast.parse(path.read_text())
    docs = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docs.add(id(body[0].value))
    return [
        (n.lineno, n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs
    ]


def test_engine_code_has_no_okx_strings() -> None:
    """agent/engine code (string literals, not docstrings) and overlay.js hold no OKX page text."""
    engine = AGENT / "engine"
    found = []
    for p in sorted(engine.rglob("*.py")):
        for line, s in _code_strings(p):
            found += [f"{p.name}:{line}: {t!r}" for t in OKX_TEXTS if t in s]
    for p in sorted(engine.rglob("*.js")):
        text = p.read_text()
        found += [f"{p.name}: {t!r}" for t in OKX_TEXTS if t in text]
    assert found == []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # one candidate only
        (
            "        - {text: Complete, exact: true}\n",
            "",
        ),
        # two candidates, both needing ARIA (a role and a for=/aria-label label)
        (
            "        - {text: Complete, exact: true}\n",
            "        - {label: Complete}\n",
        ),
    ],
)
def test_a_step_needs_two_ways_one_without_aria(
    tmp_path: Path, okx_text: str, old: str, new: str
) -> None:
    assert okx_text.count(old) == 1
    p, msg = load_error(tmp_path, okx_text.replace(old, new))
    assert (
        "steps.17.click.target: step 'complete' needs more than one way to find its element" in msg
    )
    assert error_line(p, msg) == line_of(okx_text, r"id: complete") + 4


def test_every_bundled_step_finds_its_element_without_aria(okx: Flow) -> None:
    for step in okx.steps:
        for where, cands in step.finders():
            assert len(cands) >= 2 and any(not c.needs_aria for c in cands), (step.id, where)


def test_option_candidates_take_the_option_name(okx: Flow) -> None:
    perms = next(s for s in okx.steps if s.id == "permissions").choose
    assert perms is not None
    bound = [c.bind(option="Trade") for c in perms.option]
    assert [c.describe() for c in bound] == [
        "role='option' name='Trade'",
        "text='Trade' in the popup",
        "css=\"[class*='select-item']\" with text 'Trade'",
    ]


# -- hostile flows: no flow can make a Withdraw key (the engine owns the rule) -------------
TRADE_BOX = """    check:
      target:
        - {role: checkbox, name: Trade, exact: true}
        - {field: Trade}
      state: "on\""""


def _one_line(msg: str) -> None:
    assert "\n" not in msg and "Traceback" not in msg


def test_hostile_check_step_turning_on_a_pattern_is_refused(tmp_path: Path, okx_text: str) -> None:
    assert okx_text.count(TRADE_BOX) == 1
    bad = TRADE_BOX.replace(
        "{role: checkbox, name: Trade, exact: true}", '{role: checkbox, name: "/^Withdr/"}'
    )
    text = okx_text.replace(TRADE_BOX, bad)
    p, msg = load_error(tmp_path, text)
    assert "acts on a pattern (role='checkbox' name='/^Withdr/')" in msg
    assert error_line(p, msg) == line_of(text, r"/\^Withdr/")
    _one_line(msg)


def test_hostile_flow_naming_another_permission_is_refused(tmp_path: Path, okx_text: str) -> None:
    text = okx_text.replace("  trade: Trade\n", "  trade: Trade\n  withdraw: Retrait\n", 1)
    assert text != okx_text
    _, msg = load_error(tmp_path, text)
    assert "a flow names only the permissions the engine requests (read, trade)" in msg
    _one_line(msg)


def test_hostile_flow_without_the_withdraw_off_step_is_refused(
    tmp_path: Path, okx_text: str
) -> None:
    text = re.sub(r"\n  - id: permissions-withdraw-box\n.*?(?=\n  - id: )", "", okx_text,
                  count=1, flags=re.S)  # fmt: skip
    text = text.replace(" permissions-withdraw-box,", "")  # and from the drafts' step list
    assert "permissions-withdraw-box" not in text
    _, msg = load_error(tmp_path, text)
    assert "permissions as checkboxes need a step that keeps the others off" in msg
    _one_line(msg)


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (
            "- {text: Complete, exact: true}",
            "- {text: Withdraw, exact: true}",
            "no flow may act on 'withdraw'",
        ),
        (
            "- {text: Complete, exact: true}",
            '- {css: "[data-perm=withdraw]"}',
            "no flow may act on 'withdraw'",
        ),
        (
            "- {text: Complete, exact: true}",
            '- {text: "{passphrase}"}',
            "may use only {account_text}, {label}, {option}",
        ),
        ("- {text: Add another, exact: true}", '- {text: "/Add/"}', "acts on a pattern"),
    ],
)
def test_action_targets_are_literal_and_never_name_withdraw(
    tmp_path: Path, okx_text: str, old: str, new: str, says: str
) -> None:
    assert okx_text.count(old) == 1
    _, msg = load_error(tmp_path, okx_text.replace(old, new))
    assert says in msg
    _one_line(msg)
