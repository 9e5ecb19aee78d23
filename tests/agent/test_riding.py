"""A step's banner and its look for what the page shows of its own (a cookie banner, an
announcement) ride the step's first read of its page (agent.engine.locate.Rider): no round
trip of their own, and still made, and said, before the step acts, at every step.

Driver calls are counted as bench/counted.py counts them: each message this process sends
to Playwright's driver."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.sync_api import Page

from agent.engine.context import Vars
from agent.engine.runner import Options, Runner
from agent.exitcodes import AgentError
from tests.agent.test_handover import BASE, STYLE, Said, serve
from tests.agent.test_page_drift import ANNOUNCEMENT_SAY, announced_flow

# Every page here as the agent's session has it: its page scripts installed (pagelib).
pytestmark = pytest.mark.usefixtures("agent_scripts")

NAME = {
    "id": "name",
    "caption": "Name",
    "fill": {"target": [{"label": "Name", "exact": True}, {"field": "Name"}], "value": "abc"},
}
CITY = {
    "id": "city",
    "caption": "City",
    "fill": {"target": [{"label": "City", "exact": True}, {"field": "City"}], "value": "Oslo"},
}
ANNOUNCEMENT = """<div class=ann style="position:fixed;right:8px;bottom:8px;padding:16px;
background:#fff;border:1px solid #ccc"><h3>Announcement</h3><button>Got it</button></div>"""
# The announcement comes up once the name is typed: between the two steps.
FORM = f"""{STYLE}<label>Name <input id=name></label><br><label>City <input id=city></label>
<script>document.querySelector('#name').addEventListener('input', () => {{
  if (window.announce && !document.querySelector('.ann'))
    document.body.insertAdjacentHTML('beforeend', `{ANNOUNCEMENT}`); }});</script>"""


@contextmanager
def driver_calls(on: Callable[[str], None] = lambda _m: None) -> Iterator[list[str]]:
    """Every call this process sends to Playwright's driver, by method, in order (each also
    handed to `on` as it goes)."""
    from playwright._impl.connection import Connection

    sent: list[str] = []
    send = Connection.send_message_to_server

    def counting(self: Any, obj: Any, method: str, *rest: Any) -> Any:
        if method != "__waitInfo__":
            sent.append(method)
            on(method)
        return send(self, obj, method, *rest)

    Connection.send_message_to_server = counting  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        Connection.send_message_to_server = send  # type: ignore[method-assign]


def runner(page: Page, steps: list[dict[str, Any]], said: Said) -> Runner:
    return Runner(
        page, announced_flow(steps), Vars({}), BASE, [BASE],
        Options(pace=0, step_timeout=2, human_timeout=5, drift_to_human=False),
        said, lambda *a: None,
    )  # fmt: skip


def banner(page: Page) -> str:
    return str(page.evaluate("window.__onboard.state().banner"))


def test_a_step_shows_its_banner_and_looks_for_interruptions_in_the_call_that_finds_it(
    page: Page,
):
    """Before: the banner and the look were a call of their own before each step's find."""
    serve(page, FORM)
    said = Said()
    r = runner(page, [NAME], said)
    seen: list[str] = []
    r.hooks.after_step.append(lambda _s: seen.append(banner(page)))
    with driver_calls() as sent:
        r.run()
    assert seen == ["Step 1/1 — Name"]  # shown while the step ran
    assert page.locator("#name").input_value() == "abc"
    # One call before the field is typed into: found, boxed, focused, banner shown, page
    # looked at.
    assert sent.index("keyboardInsertText") == 1, sent
    assert not [line for line in said.lines if "of its own" in line]


@pytest.mark.parametrize("when", ["before", "between"])
def test_an_announcement_is_said_and_boxed_before_the_step_acts(page: Page, when: str):
    """Shown from the start, or come up between two steps (after the first one typed): the
    step that meets it says it and boxes it before it types anything."""
    serve(page, FORM.replace("</script>", "window.announce = true;</script>"))
    if when == "before":
        page.evaluate("h => document.body.insertAdjacentHTML('beforeend', h)", ANNOUNCEMENT)
    said = Said()
    r = runner(page, [NAME, CITY], said)
    typed_at: list[int] = []  # how many lines were said when each field was typed into

    def on(method: str) -> None:
        if method == "keyboardInsertText":
            typed_at.append(len(said.lines))

    with driver_calls(on):
        r.run()
    info = f"info: the page shows something of its own: {ANNOUNCEMENT_SAY}"
    assert said.lines.count(info) == 1  # said once a run
    said_at = said.lines.index(info)
    assert len(typed_at) == 2
    if when == "before":
        assert said_at < typed_at[0], said.lines
    else:
        assert typed_at[0] <= said_at < typed_at[1], said.lines
    assert page.locator("#city").input_value() == "Oslo"
    marks = page.evaluate("window.__onboard.state().marks")
    assert ANNOUNCEMENT_SAY in marks


def test_a_rider_no_read_carried_is_made_before_the_step_acts(page: Page):
    """A step that acts before it reads: the banner and the look are made by the origin
    check every action passes first, on their own."""
    from agent.engine.interruptions import covering
    from agent.engine.locate import Rider

    serve(page, FORM)
    said = Said()
    r = runner(page, [], said)
    told: list[bool] = []
    js, arg = r.overlay.banner_js("Step 1/1 — Acting at once")
    r.find.ride(Rider(js, arg, covering(r), told.append))
    with driver_calls() as sent:
        r.guard_origin()
    assert told == [False] and len(sent) == 1
    assert banner(page) == "Step 1/1 — Acting at once"
    with driver_calls() as sent:
        r.guard_origin()  # told once: nothing more
    assert sent == [] and told == [False]


TWO_FACTORS = {
    "id": "verify",
    "caption": "Security verification",
    "wait_codes": {
        "dialog": [{"css": ".dlg"}, {"css": "div:has(> h3)"}],
        "factors": {
            "totp": {"text": "Verify with authenticator app"},
            "sms": {"text": "Verify with phone number"},
        },
        "boxes": [{"css": "input[autocomplete='one-time-code']"}, {"placeholder": "Code"}],
        "submit": [{"text": "Confirm", "exact": True}, {"css": "button"}],
        "done": {"text": "API key created", "exact": True},
    },
}
VERIFY = f"""{STYLE}<div class=dlg><h3 id=t>Verify with authenticator app</h3>
<input autocomplete="one-time-code" id=c><button id=b>Confirm</button></div>
<script>window.codes = []; document.querySelector('#b').onclick = () => {{
  const t = document.querySelector('#t'), c = document.querySelector('#c');
  window.codes.push(c.value); c.value = '';
  setTimeout(() => {{ if (window.codes.length === 1) t.textContent = 'Verify with phone number';
    else document.querySelector('.dlg').outerHTML = '<h2>API key created</h2>'; }}, 50); }};
</script>"""


def test_the_verification_looks_at_its_result_and_its_factor_in_one_call(
    page: Page, monkeypatch: pytest.MonkeyPatch
):
    """Before: a look for the result and another for the factor at each turn of the loop,
    and one more for the result after the last code (which the look that saw the last
    factor's step end had seen): 20 calls for two codes here, then 17. 18 since the click is
    a guarded mouse click (agent.engine.press): the click and its guard's read. 17 since the
    look that sees a factor's step end also asks whether the next factor shows (the loop's
    next look, saved). 19 since a code is typed as the agent types (agent.engine.keyboard):
    the first box focused by page script in a call of its own, then the keys (Playwright's
    typing, one call, focused it in its utility world, built for that in the document). 17
    since a click's guard is read only when its effect does not show at once
    (agent.engine.pressing.waited): here the next factor's step shows, a read fewer each."""
    from agent.engine.human import CodeSources

    monkeypatch.setenv("TEST_TOTP", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    serve(page, VERIFY)
    r = Runner(
        page, announced_flow([TWO_FACTORS]).model_copy(update={"interruptions": []}),
        Vars({}), BASE, [BASE],
        Options(pace=0, step_timeout=5, human_timeout=5, drift_to_human=False,
                codes=CodeSources(totp_secret_env="TEST_TOTP", sms_cmd="echo 654321")),
        Said(), lambda *a: None,
    )  # fmt: skip
    with driver_calls() as sent:
        r.run()
    codes = page.evaluate("window.codes")
    assert len(codes) == 2 and codes[1] == "654321" and len(codes[0]) == 6
    assert r.out.factors == ["totp", "sms"]
    assert len(sent) <= 17, sent
    assert "evaluateExpression" not in sent[: sent.index("waitForSelector")], sent  # no guard read
    assert sent.count("keyboardType") == 2 and "type" not in sent, sent
    assert sent.count("mouseClick") == 2 and "click" not in sent, sent


GO = {
    "id": "go",
    "caption": "Go",
    "click": {
        "target": [{"role": "button", "name": "Go", "exact": True}, {"css": "#go"}],
        "until": [{"text": "Done", "exact": True}, {"css": "p"}],
    },
}
GO_PAGE = f"""{STYLE}<button id=go>Go</button>
<script>document.querySelector('#go').onclick = () =>
  document.body.insertAdjacentHTML('beforeend', '<p>Done</p>');</script>"""


def test_a_click_with_nothing_but_its_result_to_wait_for_looks_once(page: Page):
    """A click whose step knows no refusals (`errors`): the wait that saw its `until` is the
    answer. Before, the same look was made again right after it (open-create and Complete in
    flows/okx.yaml: a call each)."""
    serve(page, GO_PAGE)
    r = runner(page, [GO], Said())
    with driver_calls() as sent:
        r.run()
    assert page.get_by_text("Done").count() == 1
    after = sent[sent.index("waitForSelector") + 1 :]
    assert not {"queryCount", "evalOnSelectorAll"} & set(after), sent
    # Nor is the click's guard read: the wait saw its effect (agent.engine.pressing.waited).
    assert sent[:3] == ["evalOnSelectorAll", "mouseClick", "waitForSelector"], sent


OPENS = {
    "id": "open",
    "caption": "Open",
    "click": {
        "target": [{"role": "button", "name": "Open", "exact": True}, {"css": "#open"}],
        "until": [{"role": "dialog"}, {"css": "[role=dialog]"}],
    },
}
# A dialog comes up over the button as the look arms the click's guard (between the look and
# the click): it takes the press, and it is a dialog, which is what the click waits for.
TAKEN_PAGE = f"""{STYLE}<button id=open>Open</button>
<script>let g = null; Object.defineProperty(window, '__obGuard', {{ configurable: true,
  get: () => g, set: v => {{ g = v; if (v && !document.querySelector('.cover'))
    document.body.insertAdjacentHTML('beforeend', '<div class=cover role=dialog '
      + 'style="position:fixed;inset:0;background:#fff">News</div>'); }} }});
document.querySelector('#open').onclick = () => document.body.insertAdjacentHTML('beforeend',
  '<div role=dialog id=mine>Form</div>');</script>"""


def test_a_dialog_that_took_the_click_is_not_taken_for_its_effect(page: Page):
    """The effect waited for shows (a dialog), but the click never landed: the guard in the
    page says so in the same look (the `ob-landed` engine), and the guard's read refuses the
    click as it did when it came right after it. Without it, the step would pass on a click
    that went nowhere."""
    serve(page, TAKEN_PAGE)
    r = runner(page, [OPENS], Said())
    with pytest.raises(AgentError, match="covered"):
        r.run()
    assert page.locator("#mine").count() == 0  # the button never got the click
