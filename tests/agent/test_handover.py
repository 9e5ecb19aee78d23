"""The runner on small pages of its own: a field already right is left alone, a fixed field
that is wrong stops before submit, and a step the agent cannot do is handed to the human in a
guided session (and stops an unattended one).

The pages are served under an exchange-like origin by Playwright's router; the stand-in
human acts only when the runner asks, as a person would after reading the banner.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from agent.engine.context import Vars
from agent.engine.flow import Flow
from agent.engine.human import Need
from agent.engine.runner import Options, Runner
from agent.exitcodes import AgentError, Exit

BASE = "https://exchange.test"
STYLE = """<style>body{font:14px sans-serif} .sel{cursor:pointer;border:1px solid #ccc;height:32px;
display:flex;align-items:center;gap:6px;padding:0 8px;width:300px}
.dis{cursor:not-allowed;background:#eee;color:#999}
.pop{position:absolute;background:#fff;border:1px solid #ddd}</style>"""
SELECT_JS = """<script>
window.clicks = 0;
function sel(box, options, multi) {
  box.addEventListener('click', () => {
    window.clicks++;
    if (box.classList.contains('dis')) return;
    const open = document.querySelector('.pop'); if (open) { open.remove(); return; }
    const r = box.getBoundingClientRect(), p = document.createElement('div');
    p.className = 'pop'; p.style.left = r.left + 'px'; p.style.top = (r.bottom + scrollY + 2) + 'px';
    for (const o of options) {
      const it = document.createElement('div'); it.style.padding = '6px'; it.style.cursor = 'pointer';
      it.textContent = o; it.onclick = (ev) => { ev.stopPropagation();
        const v = box.querySelector('.v'); v.textContent = o; p.remove(); };
      p.appendChild(it);
    }
    document.body.appendChild(p);
  });
}
</script>"""


def flow(steps: list[dict[str, Any]]) -> Flow:
    return Flow.model_validate(
        {
            "name": "test",
            "version": 1,
            "exchange": "test",
            "sites": {"global": BASE},
            "origins": [BASE],
            "permissions": {"read": "Read", "trade": "Trade"},
            "permission_field": "Permissions",
            "main_account": "Main account",
            "login": {"url_contains": "/login", "say": "log in"},
            "steps": steps,
        }
    )


class Said:
    """The terminal, as a list."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def step(self, n: int, total: int, caption: str, status: str, detail: str = "") -> None:
        self.lines.append(f"{status}: {caption} {detail}")

    def waiting(self, say: str, elapsed: float, limit: float) -> None: ...
    def done_waiting(self) -> None: ...

    def info(self, text: str) -> None:
        self.lines.append(f"info: {text}")

    def warn(self, text: str) -> None:
        self.lines.append(f"warn: {text}")

    def ask_secret(self, prompt: str, timeout: float | None = None) -> str:
        raise AssertionError("no prompts here")


class Person:
    """Does what the banner asks, once, with `act(page)`; records what it was asked."""

    def __init__(self, act: Any) -> None:
        self.do = act
        self.asked: list[str] = []

    def act(self, page: Page, need: Need) -> None:
        if need.kind == "act" and not self.asked:
            self.asked.append(need.say)
            self.do(page)


def serve(page: Page, html: str) -> None:
    page.route(f"{BASE}/**", lambda route: route.fulfill(body=html, content_type="text/html"))
    page.goto(f"{BASE}/form")


def run(page: Page, steps: list[dict[str, Any]], person: Person | None = None,
        guided: bool = True, **vars: Any) -> Said:  # fmt: skip
    said = Said()
    runner = Runner(
        page, flow(steps), Vars(vars), BASE, [BASE],
        Options(pace=0, step_timeout=2, human_timeout=10, drift_to_human=guided),
        said, lambda *a: None, person,
    )  # fmt: skip
    runner.run()
    return said


ACCOUNT = {
    "id": "account",
    "caption": "Account",
    "choose": {
        "open": [{"field": "Account"}, {"role": "combobox", "name": "Account"}],
        "option": [{"role": "option", "name": "{option}"}, {"text": "{option}", "popup": True}],
        "want": ["{account_text}"],
    },
}


@pytest.mark.parametrize("fixed", [True, False], ids=["disabled", "enabled"])
def test_a_select_already_showing_the_value_is_left_alone(page: Page, fixed: bool):
    cls = "sel dis" if fixed else "sel"
    serve(
        page,
        f"""{STYLE}{SELECT_JS}<div><div>Account</div><div class="{cls}" id=a>
      <span class=v>sub-1</span></div></div><script>sel(document.querySelector('#a'), ['Main account', 'sub-1'])</script>""",
    )
    said = run(page, [ACCOUNT], account_text="sub-1")
    assert page.evaluate("window.clicks") == 0  # verified, never clicked
    assert "info: Account: already shows sub-1; left as it is" in said.lines


def test_an_enabled_select_showing_another_value_is_set(page: Page):
    serve(
        page,
        f"""{STYLE}{SELECT_JS}<div><div>Account</div><div class=sel id=a>
      <span class=v>Main account</span></div></div><script>sel(document.querySelector('#a'), ['Main account', 'sub-1'])</script>""",
    )
    run(page, [ACCOUNT], account_text="sub-1")
    assert page.locator("#a .v").inner_text() == "sub-1"


def test_a_fixed_field_showing_another_value_stops_before_submit(page: Page):
    serve(
        page,
        f"""{STYLE}{SELECT_JS}<div><div>Account</div><div class="sel dis" id=a>
      <span class=v>Main account</span></div></div>""",
    )
    with pytest.raises(AgentError) as err:
        run(page, [ACCOUNT], account_text="sub-1")
    assert err.value.code == Exit.AUDIT_MISMATCH
    assert "the field is fixed and shows 'Main account', expected 'sub-1'" in err.value.message
    assert page.evaluate("window.clicks") == 0


CREATE = {
    "id": "create",
    "caption": "Open the form",
    "click": {
        "target": [{"role": "button", "name": "Create"}, {"text": "Create", "exact": True}],
        "until": [{"text": "The form", "exact": True}],
    },
}
COVERED = f"""{STYLE}<button id=create onclick="document.body.insertAdjacentHTML('beforeend', '<h2>The form</h2>')"
  style="margin:40px">Create</button>
<div id=banner style="position:fixed;left:0;right:0;top:20px;height:80px;background:#fff;border:1px solid #000">
  Something covers the page <button onclick="this.parentNode.remove()">Dismiss</button></div>"""


def test_a_covered_button_is_handed_to_the_human_in_a_guided_session(page: Page):
    serve(page, COVERED)
    person = Person(lambda p: (p.get_by_text("Dismiss").click(), p.locator("#create").click()))
    said = run(page, [CREATE], person)
    assert person.asked == ["Please click “Create” yourself (it may look different)."]
    assert any("covered by another element" in line for line in said.lines)
    assert page.get_by_text("The form", exact=True).count() == 1


def test_a_covered_button_stops_an_unattended_run_at_once(page: Page):
    serve(page, COVERED)
    with pytest.raises(AgentError) as err:
        run(page, [CREATE], guided=False)
    assert err.value.code == Exit.UI_NOT_UNDERSTOOD
    assert "Open the form is covered by another element" in err.value.message


def test_a_click_with_no_effect_is_handed_to_the_human(page: Page):
    serve(
        page,
        f"""{STYLE}<button id=create onclick="window.n = (window.n || 0) + 1">Create</button>""",
    )
    person = Person(
        lambda p: p.evaluate("document.body.insertAdjacentHTML('beforeend', '<h2>The form</h2>')")
    )
    said = run(page, [CREATE], person)
    assert page.evaluate("window.n") == 1  # the agent clicked once, then asked
    assert any("nothing happened after the click" in line for line in said.lines)
    assert person.asked


def test_an_option_the_agent_cannot_see_is_chosen_by_the_human_then_read_back(page: Page):
    """The list draws its options where the agent cannot read them (here: no text at all)."""
    serve(
        page,
        f"""{STYLE}<div><div>Account</div><div class=sel id=a><span class=v>Main account</span></div></div>
      <script>document.querySelector('#a').onclick = () => {{ const c = document.createElement('canvas');
        c.width = 200; c.height = 60; c.className = 'pop'; document.body.appendChild(c); }};</script>""",
    )
    person = Person(lambda p: p.evaluate("document.querySelector('#a .v').textContent = 'sub-1'"))
    said = run(page, [ACCOUNT], person, account_text="sub-1")
    assert person.asked == ["Please choose sub-1 in “Account” yourself."]
    assert "info: Account: confirmed on the page after the human acted" in said.lines
