"""One question, one call (agent.engine.locate): every candidate of a look is counted in the
same round trip whatever the order they are tried in, the read-back before submit asks for
every field together, and an address typed into an allowlist is checked for a refusal in
the call that reads the chips.

Driver calls are counted as bench/counted.py counts them (tests/agent/test_riding.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Error as PWError
from playwright.sync_api import Page

from agent.engine.context import Vars
from agent.engine.flow import Loc
from agent.engine.locate import Look, Resolver, Then
from agent.engine.runner import Options, Runner
from agent.engine.verbs.fill import VALUE
from agent.exitcodes import AgentError, Exit
from tests.agent.test_handover import BASE, STYLE, Said, serve
from tests.agent.test_page_drift import announced_flow
from tests.agent.test_riding import FORM, NAME, driver_calls

# Every page here as the agent's session has it: its page scripts installed (pagelib).
pytestmark = pytest.mark.usefixtures("agent_scripts")

GO = [Loc(role="button", name="Go", exact=True), Loc(text="Go", exact=True)]


def test_a_look_whose_first_candidate_misses_is_one_call(page: Page):
    """No ARIA: the role candidate finds nothing and the text one finds the element. Before,
    each candidate was a call of its own (two here)."""
    page.set_content("<div>Go</div><span>Stop</span>")
    find = Resolver(page, Vars(), 1)
    with driver_calls() as sent:
        got = find.one(GO, "the go control")
    assert sent == ["evalOnSelectorAll"]
    assert got.evaluate("e => e.tagName") == "DIV"


def test_candidates_keep_their_order(page: Page):
    """The first candidate with exactly one match wins, though every one is counted; one
    with several matches is passed over, never guessed from."""
    page.set_content("<button>Go</button><p class=go>Go</p>")
    find = Resolver(page, Vars(), 1)
    assert find.one(GO, "go").evaluate("e => e.tagName") == "BUTTON"
    para = [Loc(css="p.go"), Loc(role="button", name="Go")]
    assert find.one(para, "go").evaluate("e => e.tagName") == "P"
    several = [Loc(text="Go", exact=True), Loc(role="button", name="Go")]  # text: 2 matches
    assert find.one(several, "go").evaluate("e => e.tagName") == "BUTTON"


def test_a_refusal_counts_every_candidate(page: Page):
    page.set_content("<p>Go</p><p>Go</p>")
    with pytest.raises(AgentError) as err:
        Resolver(page, Vars(), 0.2).one(GO, "the go control")
    assert "role='button' name='Go' -> 0 match(es); text='Go' -> 2 match(es)" in err.value.message


FIELDS = "<label>Name <input id=n value=abc></label><label>City <input id=c value=Oslo></label>"
NAME_LOOK = Look([Loc(label="Name", exact=True), Loc(field="Name")], editable=True, then=VALUE)
CITY_LOOK = Look([Loc(label="City", exact=True), Loc(field="City")], editable=True, then=VALUE)


def test_questions_asked_ahead_are_answered_from_one_call(page: Page):
    page.set_content(FIELDS)
    find = Resolver(page, Vars(), 1)
    with driver_calls() as sent:
        find.ahead([NAME_LOOK, CITY_LOOK])
        name = find.answer(NAME_LOOK, "the name")
        got_name = find.then
        city = find.answer(CITY_LOOK, "the city")
        got_city = find.then
    assert sent == ["evalOnSelectorAll"]
    assert (got_name, got_city) == ("abc", "Oslo")
    assert name.evaluate("e => e.id") == "n" and city.evaluate("e => e.id") == "c"
    with driver_calls() as sent:  # an answer is taken once: asked again, the page answers
        find.answer(NAME_LOOK, "the name")
    assert sent == ["evalOnSelectorAll"]


def test_an_answer_asked_ahead_is_dropped_once_the_page_is_acted_on(page: Page):
    """Every action passes the origin check first (Context.guard_origin): what was read
    ahead no longer holds then."""
    serve(page, FORM)
    r = Runner(page, announced_flow([NAME]), Vars({}), BASE, [BASE], Options(step_timeout=2),
               Said(), lambda *a: None)  # fmt: skip
    name = Look([Loc(label="Name", exact=True)], editable=True, then=VALUE)
    r.find.ahead([name])
    r.guard_origin()
    page.locator("#name").fill("changed")
    with driver_calls() as sent:
        r.find.answer(name, "the name")
    assert sent == ["evalOnSelectorAll"]
    assert r.find.then == "changed"


def test_a_question_whose_script_fails_spoils_no_other(page: Page):
    page.set_content(FIELDS)
    find = Resolver(page, Vars(), 1)
    broken = Look(NAME_LOOK.cands, editable=True, then=Then("throw new Error('no')", {}))
    find.ahead([broken, CITY_LOOK])
    with driver_calls() as sent:
        find.answer(CITY_LOOK, "the city")
    assert sent == [] and find.then == "Oslo"
    with pytest.raises(PWError, match="no"):  # asked on its own, it fails as it always did
        find.answer(broken, "the name")


IPS = {
    "id": "ips",
    "caption": "IP allowlist",
    "audit": "ips",
    "fill_chips": {
        "input": [{"placeholder": "Enter IP address"}, {"field": "IP allowlist"}],
        "label": "IP allowlist",
        "values": "{ips}",
        "confirm": "enter",
        "errors": [{"text": "/^Invalid IP address/"}],
    },
}
# A chip per address entered; 203.0.113.9 is refused with a message, as OKX refuses one.
ALLOWLIST = f"""{STYLE}<div><label>IP allowlist</label><div id=chips></div>
<input id=ip placeholder="Enter IP address"><div id=err></div></div>
<script>ip.addEventListener('keydown', (e) => {{ if (e.key !== 'Enter') return;
  if (ip.value === '203.0.113.9') {{ err.textContent = 'Invalid IP address: ' + ip.value; return; }}
  const c = document.createElement('span'); c.textContent = ip.value + ' \\u00d7';
  chips.append(c); ip.value = ''; }});</script>"""


@pytest.mark.parametrize("ip", ["203.0.113.7", "203.0.113.9"])
def test_an_address_entered_is_read_back_and_checked_for_a_refusal_in_one_call(page: Page, ip: str):
    serve(page, ALLOWLIST)
    r = Runner(page, announced_flow([IPS]), Vars({"ips": [ip]}), BASE, [BASE],
               Options(step_timeout=2, drift_to_human=False), Said(), lambda *a: None)  # fmt: skip
    with driver_calls() as sent:
        if ip.endswith(".9"):
            with pytest.raises(AgentError) as err:
                r.run()
            assert err.value.code == Exit.EXCHANGE_REFUSED
            assert f"the exchange refused {ip}: Invalid IP address: {ip}" in err.value.message
            return
        r.run()
    assert page.locator("#chips").inner_text().split() == [ip, "×"]
    # found (with the chips already there, and focused), typed, focused again and confirmed,
    # then one call for both the chips and any refusal (before: a count for the refusal and
    # a read of the chips, and a count and a read for the chips before typing)
    after = sent[sent.index("keyboardPress") + 1 :]
    assert after[:1] == ["evalOnSelectorAll"] and "queryCount" not in sent, sent
    assert sent.index("keyboardInsertText") == 1, sent
