"""Pages that drifted the way the fuzz's seeds found the agent wanting (tests/fuzz): ARIA a
release added wrongly, a title written over two lines and split into pieces, a verification
window whose step the flow cannot read. Each was a safe stop or a hang before its fix.

Small pages of their own, served by Playwright's router under an exchange-like origin.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page

from agent.engine.context import Vars
from agent.engine.flow import Flow, Interruption
from agent.engine.human import Need
from agent.engine.pressing import press_in
from agent.engine.runner import Options, Runner
from agent.engine.verbs.wait_codes import UNREAD_VERIFICATION
from agent.exitcodes import AgentError, Exit
from tests.agent.test_handover import BASE, SELECT_JS, STYLE, Said, flow, serve

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


def test_labels_written_with_no_break_spaces_are_read():
    """Before: "Secret\\u00a0key" was not the label "Secret key", so the dialog's values went
    unread (the copy button had to be used)."""
    from agent.engine.verbs.capture import parse_labelled

    text = "API\u00a0key\nk-1\nSecret\u00a0 key\ns-1\nIP\u00a0address allowlist (optional)\n1.2.3.4"
    fields = {
        "api_key": "API key",
        "secret": "Secret key",
        "ips": "IP address allowlist (optional)",
    }
    assert parse_labelled(text, fields) == [{"api_key": "k-1", "secret": "s-1", "ips": "1.2.3.4"}]


KEY = "0d6f1b6e-9c3a-4b1e-8f2a-1c2d3e4f5a6b"
SECRET = "0123456789ABCDEF0123456789ABCDEF"
# The credentials masked on screen; the copy button (a div, its text in nested spans, so the
# text candidate matches inside the element the role-less structure candidate matches)
# writes them to the clipboard.
COPY_PAGE = f"""{STYLE}<div class=dlg><h3>Created</h3><div>API key</div><div>****</div>
<div class=copy onclick="navigator.clipboard.writeText('API key: {KEY}\\nSecret key: {SECRET}')">
<span><span>Copy API key info</span></span></div></div>"""

CAPTURE = {
    "id": "capture",
    "caption": "Save the API key and secret",
    "capture": {
        "container": [{"css": ".dlg"}, {"css": "div:has(> h3)"}],
        "fields": {"api_key": "API key", "secret": "Secret key"},
        "formats": {"api_key": "[0-9a-f-]{36}", "secret": "[0-9A-F]{32}"},
        "clipboard": [{"css": ".copy"}, {"text": "Copy API key info", "exact": True}],
        "clipboard_patterns": {"api_key": "API key: (\\S+)", "secret": "Secret key: (\\S+)"},
    },
}


def test_a_copy_button_found_twice_over_is_one_key(page: Page):
    """Before: the button and its own text were two matches, clicked one after the other, and
    one key became two records ("the exchange shows 2 key(s) for 1 draft(s)", exit 9)."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=BASE)
    serve(page, COPY_PAGE)
    got: list[list[dict[str, str]]] = []
    Runner(
        page, flow([CAPTURE]), Vars({}), BASE, [BASE],
        Options(pace=0, step_timeout=2, human_timeout=2, drift_to_human=False),
        Said(), lambda records, first, count: got.append(records),
    ).run()  # fmt: skip
    assert [[r["api_key"] for r in recs] for recs in got] == [[KEY]]


def test_a_word_of_a_value_written_word_by_word_is_not_a_label(page: Page):
    """Before: the value "Main account", one element per word, held an element whose text was
    "account", taken as a second "Account" label (2 matches: the run stopped)."""
    from agent.engine.flow import Loc
    from agent.engine.locate import to_locator

    page.set_content(
        f"""{STYLE}<div class=item><div>Account</div><div class=sel id=acct><div class=value>
        <span><span>Main</span><span> </span><span>account</span></span></div>
        <div class=arrow><svg width=12 height=12><path d="M5 9l7 7 7-7"/></svg></div></div></div>"""
    )
    found = to_locator(page, Loc(field="Account"), Vars({}))
    assert found.evaluate_all("els => els.map(e => e.id)") == ["acct"]


# A select in a card with other controls, under a transparent sibling layer that takes the
# pointer and opens the list (okx.com's selects are clicked with `force: true` by scripts).
LAYERED = f"""{STYLE}<div class=card style="position:relative;padding:10px"><button>Create</button>
<div class=sel id=a style="margin-top:8px"><span>Account:</span> <span class=v>Main account</span></div>
<div class=layer style="position:absolute;left:10px;top:44px;width:318px;height:34px"></div></div>
{SELECT_JS}<script>const a = document.querySelector('#a');
sel(a, ['Main account', 'sub-1']);
document.querySelector('.layer').onclick = () => a.click();</script>"""

SWITCHER = {
    "id": "account",
    "caption": "Account",
    "choose": {
        "open": [{"field": "Account:"}, {"role": "combobox", "name": "Account"}],
        "label": "Account:",
        "option": [{"role": "option", "name": "{option}"}, {"text": "{option}", "popup": True}],
        "want": ["sub-1"],
    },
}


def test_a_see_through_layer_over_a_select_is_clicked_where_the_select_shows(page: Page):
    """Before: with another control in the card, the layer counted as something covering the
    select and the run stopped (seed 11, sub-account)."""
    serve(page, LAYERED)
    assert page.locator(".layer").bounding_box()["width"] > 0  # type: ignore[index]
    make_runner(page, [SWITCHER]).run()
    assert page.locator("#a .v").inner_text() == "sub-1"


@pytest.mark.parametrize(
    "hide",
    [
        "position:absolute;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden",
        "position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0,0,0,0)",
        "opacity:0;position:absolute;pointer-events:none",
    ],
    ids=["offscreen", "sr-only", "transparent"],
)
def test_a_copy_a_person_cannot_see_is_no_choice(page: Page, hide: str):
    """Before: a hidden second "Confirm" (Playwright calls it visible) made two matches, the
    code was never confirmed and the run timed out (seed 60)."""
    serve(
        page,
        f"""{STYLE}<div style="{hide}"><button onclick="window.hit = 'decoy'">Confirm</button></div>
        <button onclick="window.hit = 'real'">Confirm</button>""",
    )
    step = {
        "id": "confirm",
        "caption": "Confirm",
        "click": {"target": [{"role": "button", "name": "Confirm"}, {"text": "Confirm"}]},
    }
    make_runner(page, [step]).run()
    assert page.evaluate("window.hit") == "real"


# An announcement (a card in a corner, over nothing the agent needs) that comes up the first
# time the list opens: the list's options stop showing while it is up, and closing it closes
# the list (seeds 22, 65: "the option 'Trade' went away" as okx.com's announcement came up).
ANNOUNCED = f"""{STYLE}
<div><div>Permissions</div><div class=sel id=p></div></div>
<script>
const box = document.querySelector('#p'), on = new Set();
let shown = false;
function draw() {{ box.replaceChildren(...[...on].map(o => {{
  const t = document.createElement('span'); t.textContent = o; return t; }})); }}
function announce(list) {{
  const d = document.createElement('div');
  d.style.cssText = 'position:fixed;right:10px;bottom:10px;background:#fff;border:1px solid #ccc;padding:20px';
  d.innerHTML = '<h3>Announcement</h3><button>Got it</button>';
  d.querySelector('button').onclick = () => {{ d.remove(); list.remove(); }};
  for (const it of list.children) it.style.visibility = 'hidden';
  document.body.appendChild(d);
}}
box.onclick = () => {{
  if (document.querySelector('.pop')) return;
  const r = box.getBoundingClientRect(), p = document.createElement('div');
  p.className = 'pop'; p.style.left = r.left + 'px'; p.style.top = (r.bottom + scrollY + 2) + 'px';
  for (const o of ['Read', 'Trade', 'Withdraw']) {{
    const it = document.createElement('div'); it.style.padding = '6px'; it.style.cursor = 'pointer';
    it.textContent = o;
    it.onclick = (ev) => {{ ev.stopPropagation(); on.has(o) ? on.delete(o) : on.add(o); draw(); }};
    p.appendChild(it);
  }}
  document.body.appendChild(p);
  if (!shown) {{ shown = true; announce(p); }}
}};
document.addEventListener('keydown', (e) => {{ if (e.key === 'Escape') document.querySelector('.pop')?.remove(); }});
</script>"""

ANNOUNCEMENT_SAY = 'The page shows an announcement: close it ("Got it").'


def announced_flow(steps: list[dict]) -> Flow:  # type: ignore[type-arg]
    """The test flow, knowing the announcement the way flows/okx.yaml knows okx.com's."""
    detect = [
        {"role": "button", "name": "Got it", "exact": True},
        {"text": "Got it", "exact": True},
    ]
    extra = [Interruption.model_validate({"detect": detect, "say": ANNOUNCEMENT_SAY})]
    return flow(steps).model_copy(update={"interruptions": extra})


class PassesAnnouncements:
    """A person who closes an announcement when told of it, and does nothing else."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def act(self, page: Page, need: Need) -> None:
        self.asked.append(need.say)
        if need.say == ANNOUNCEMENT_SAY and page.get_by_text("Got it").count():
            page.get_by_text("Got it").click()


@pytest.mark.parametrize("guided", [True, False], ids=["guided", "unattended"])
def test_a_step_an_announcement_broke_is_done_again_once_it_is_passed(page: Page, guided: bool):
    """Before: guided, the broken choice was handed to the person as a page the flow did not
    know (and the person, asked to choose, had the announcement in the way); unattended, the
    run stopped at once. Now the person is asked only to pass the announcement, and the agent
    does the step again."""
    serve(page, ANNOUNCED)
    person = PassesAnnouncements()
    runner = Runner(
        page, announced_flow([PERMISSIONS]), Vars({}), BASE, [BASE],
        Options(pace=0, step_timeout=2, human_timeout=10, drift_to_human=guided),
        Said(), lambda *a: None, person,
    )  # fmt: skip
    runner.run()
    assert sorted(page.locator("#p span").all_inner_texts()) == ["Read", "Trade"]
    assert runner.out.drifted == []
    assert set(person.asked) == {ANNOUNCEMENT_SAY}


def test_a_click_an_announcement_hides_waits_for_it_to_be_passed(page: Page):
    """Before: only a click *covered* by an announcement waited for the person; one the
    announcement hid (the page behind it set to display:none) stopped the run (seed 38)."""
    serve(
        page,
        f"""{STYLE}<div id=app style="display:none"><button onclick="window.hit = 1">Confirm</button></div>
        <div class=ann><h3>Announcement</h3><button onclick="this.parentElement.remove();
        document.querySelector('#app').style.display = 'block'">Got it</button></div>""",
    )
    person = PassesAnnouncements()
    runner = Runner(
        page, announced_flow([]), Vars({}), BASE, [BASE],
        Options(pace=0, step_timeout=2, human_timeout=10, drift_to_human=False),
        Said(), lambda *a: None, person,
    )  # fmt: skip
    press_in(runner, page.get_by_role("button", name="Confirm"), "Confirm")
    assert page.evaluate("window.hit") == 1
    assert person.asked == [ANNOUNCEMENT_SAY]


@pytest.mark.parametrize("editable", [True, False], ids=["field", "control"])
def test_an_icon_beside_a_deeply_wrapped_label_is_not_the_field(page: Page, editable: bool):
    """Before: with the label's words wrapped deeper than the climb to its line, the "(?)"
    icon beside them was the first block after the label: no field found to type in (seed
    114, "could not find Passphrase"), or the icon taken as the control."""
    from agent.engine.flow import Loc
    from agent.engine.locate import to_locator

    page.set_content(
        f"""{STYLE}<div class=item><div class=lab><span><span><span><span> </span><span> passphrase
        </span></span></span></span><span class=tip><svg width=13 height=13><circle cx=6 cy=6 r=5 /></svg>
        <span style="display:none">You'll need the passphrase</span></span></div>
        <div><div><input id=pass type=password></div></div></div>"""
    )
    found = to_locator(page, Loc(field="Passphrase"), Vars({}), editable)
    assert found.evaluate_all("els => els.map(e => e.id)") == ["pass"]


def test_a_wait_that_ends_under_an_announcement_names_it(page: Page):
    """Before: a code the agent waited for behind an announcement ended as "waiting for the
    human: Enter the 6-digit code…", which is not what stood in the way (seeds 1, 38, 96)."""
    from agent.engine.waiting import wait_human

    serve(page, f"""{STYLE}<div class=dlg><h3>Announcement</h3><button>Got it</button></div>""")
    runner = Runner(
        page, announced_flow([]), Vars({}), BASE, [BASE],
        Options(pace=0, step_timeout=2, human_timeout=1, drift_to_human=False),
        Said(), lambda *a: None,
    )  # fmt: skip
    with pytest.raises(AgentError) as err:
        wait_human(runner, Need("code", "Enter the code"), lambda: False, 0.2)
    assert err.value.message == (
        f"timed out after 0 s waiting for the human: Enter the code (in the way: {ANNOUNCEMENT_SAY})"
    )
