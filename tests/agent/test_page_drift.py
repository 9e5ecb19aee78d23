"""Pages that drifted the way the fuzz's seeds found the agent wanting (tests/fuzz): ARIA a
release added wrongly, a title written over two lines and split into pieces, a verification
window whose step the flow cannot read. Each was a safe stop or a hang before its fix.

Small pages of their own, served by Playwright's router under an exchange-like origin.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page

from agent.engine.human import Need
from agent.engine.locate import Vars
from agent.engine.runner import UNREAD_VERIFICATION, Options, Runner
from agent.exitcodes import AgentError, Exit
from tests.agent.test_handover import BASE, STYLE, Said, flow, serve

# A multi-select whose box shows its tags; the page (wrongly) gives the tags role=option too,
# as it does the list's options. The list stays open between clicks; Escape closes it.
TAGS_AS_OPTIONS = f"""{STYLE}
<div><div>Permissions</div><div class=sel id=p></div></div>
<script>
const box = document.querySelector('#p'), on = new Set();
function draw() {{
  box.replaceChildren(...[...on].map(o => {{ const t = document.createElement('span');
    t.setAttribute('role', 'option'); t.textContent = o; return t; }}));
}}
box.onclick = () => {{
  if (document.querySelector('.pop')) return;
  const r = box.getBoundingClientRect(), p = document.createElement('div');
  p.className = 'pop'; p.style.left = r.left + 'px'; p.style.top = (r.bottom + scrollY + 2) + 'px';
  for (const o of ['Read', 'Trade', 'Withdraw']) {{
    const it = document.createElement('div'); it.setAttribute('role', 'option');
    it.style.padding = '6px'; it.textContent = o;
    it.onclick = (ev) => {{ ev.stopPropagation(); on.has(o) ? on.delete(o) : on.add(o); draw(); }};
    p.appendChild(it);
  }}
  document.body.appendChild(p);
}};
document.addEventListener('keydown', (e) => {{ if (e.key === 'Escape') document.querySelector('.pop')?.remove(); }});
</script>"""

PERMISSIONS = {
    "id": "permissions",
    "caption": "Permissions",
    "choose": {
        "open": [{"field": "Permissions"}, {"role": "combobox", "name": "Permissions"}],
        "label": "Permissions",
        "option": [
            {"role": "option", "name": "{option}", "exact": True},
            {"text": "{option}", "exact": True, "popup": True},
        ],
        "want": ["Read", "Trade"],
        "never": ["Withdraw"],
        "multiple": True,
    },
}


def make_runner(page: Page, steps: list[dict], human_timeout: float = 10, stand_in=None) -> Runner:  # type: ignore[no-untyped-def, type-arg]
    return Runner(
        page, flow(steps), Vars({}), BASE, [BASE],
        Options(pace=0, step_timeout=2, human_timeout=human_timeout, drift_to_human=False),
        Said(), lambda *a: None, stand_in,
    )  # fmt: skip


def test_tags_given_role_option_are_not_taken_for_the_open_list(page: Page):
    """Before: the box's tags matched `role=option`, so the list 'did not close' (a safe stop
    on every seed with aria-wrong's tags-as-options)."""
    serve(page, TAGS_AS_OPTIONS)
    make_runner(page, [PERMISSIONS]).run()
    assert page.locator("#p span").all_inner_texts() == ["Read", "Trade"]
    assert page.locator(".pop").count() == 0


@pytest.mark.parametrize(
    "title",
    [
        "<span>API</span>\n<span>KEY</span> <span>CREATED</span>",  # split, upper, a newline
        "API  key&nbsp;created",  # two spaces, a no-break space
    ],
    ids=["split-newline", "spaces"],
)
def test_an_exact_text_is_found_whatever_whitespace_separates_its_words(page: Page, title: str):
    """Before: `exact` compiled "API key created" with single spaces, and Playwright tests a
    pattern against the raw text: the result dialog of a seed went unseen."""
    serve(page, f"{STYLE}<div class=dlg><div class=title>{title}</div></div>")
    step = {
        "id": "created",
        "caption": "The key was created",
        "assert": {"present": {"text": "API key created", "exact": True}, "message": "not there"},
    }
    make_runner(page, [step]).run()


CODES = {
    "id": "verify",
    "caption": "Security verification",
    "wait_codes": {
        "dialog": [{"css": ".dlg"}, {"css": "div:has(> h3)"}],
        "factors": {"totp": {"text": "Verify with authenticator app"}},
        "boxes": [{"css": "input[maxlength='6']"}, {"placeholder": "Code"}],
        "submit": [{"text": "Confirm", "exact": True}, {"css": "button"}],
        "done": {"text": "API key created", "exact": True},
    },
}
# A verification window the flow cannot read: none of its factors' titles shows.
UNREADABLE = f"""{STYLE}<div class=dlg><h3>Security check</h3><input maxlength=6>
<button onclick="document.querySelector('.dlg').outerHTML = '<h2>API key created</h2>'">Confirm</button></div>"""


def test_an_unreadable_verification_window_ends_within_the_human_timeout(page: Page):
    """Before: the loop waited for a factor or the result forever (a seed hung for 90 s and
    the key it then made was never captured). Now: the person is asked, within a bound."""
    serve(page, UNREADABLE)
    runner = make_runner(page, [CODES], human_timeout=2)
    t0 = time.monotonic()
    with pytest.raises(AgentError) as err:
        runner.run()
    assert err.value.code == Exit.HUMAN_TIMEOUT
    assert UNREAD_VERIFICATION in str(err.value)
    assert time.monotonic() - t0 < 30


def test_an_unreadable_verification_window_finished_by_the_person_goes_on(page: Page):
    serve(page, UNREADABLE)
    asked: list[str] = []

    class Client:
        def act(self, page: Page, need: Need) -> None:
            if need.say == UNREAD_VERIFICATION and not asked:
                asked.append(need.say)
                page.get_by_text("Confirm").click()

    make_runner(page, [CODES], stand_in=Client()).run()
    assert asked == [UNREAD_VERIFICATION]
