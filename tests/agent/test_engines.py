"""Finding things without ARIA: the page-reading engines on DOMs of several shapes.

Each page here is written the way okx.com-like apps are (component classes, labels not tied
to inputs, custom selects, floating dialogs), in layouts the replica does not use, so the
engines are tested on markup they were not written against.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from agent.engine import engines
from agent.engine.context import Vars
from agent.engine.engines import shows
from agent.engine.flow import Loc
from agent.engine.locate import to_locator
from agent.engine.press import NotActionable, press
from agent.engine.verbs.fill_chips import shown_ips

STYLE = """<style>
body{font:14px sans-serif;margin:0} .sel{cursor:pointer;border:1px solid #ccc;min-height:32px;
display:flex;align-items:center;position:relative;gap:6px;padding:0 8px}
.dis{cursor:not-allowed;background:#f5f5f5;color:#aaa} .x{cursor:pointer}
.pop{position:absolute;background:#fff;border:1px solid #ddd;z-index:5}
.hdr{position:sticky;top:0;height:30px;background:#000;color:#fff}
.ov{position:fixed;inset:0;background:rgba(0,0,0,.4);display:flex;align-items:center;justify-content:center}
.win{background:#fff;width:300px;padding:10px}
</style>"""

# Form items as wrappers (label block, control block), as the okui library does.
WRAPPED = (
    STYLE
    + """
<div class=hdr><span>Trade</span></div>
<div style="width:520px;padding:20px">
 <div class=item><div class=lab>API key <b>name</b></div><div class=ctl><div><input id=name></div></div></div>
 <div class=item><div class=lab>Account</div><div class=ctl><div class="sel dis" id=acct>
   <div><div class=value>Main account</div></div></div></div></div>
 <div class=item><div class=lab>IP address allowlist (optional)<span style="cursor:help">?
   <span style="display:none">Only requests from these IP addresses</span></span></div>
   <div class=ctl><div class=tags id=tags></div><div><input id=ip placeholder="Enter IP address">
   <span class=x>Confirm</span></div><div>Enter up to 20 IPv4 or IPv6 addresses.</div></div></div>
 <div class=item><div class=lab>Permissions</div><div class=ctl><div class=sel id=perm onclick="openList(this)">
   <span>Read</span><span>Trade<span class=x>×</span></span></div></div></div>
 <div class=item><div class=lab>Passphrase</div><div class=ctl><div><input type=password id=pw>
   <span class=x>eye</span></div></div></div>
 <div class=item><div class=lab>Used for</div><div class=ctl>
   <label id=api-lab><input type=radio name=u id=api>API trading</label>
   <label><input type=radio name=u id=third>Linking third-party app</label></div></div>
</div>
<script>
function openList(box) {
  const r = box.getBoundingClientRect(), p = document.createElement('div');
  p.className = 'pop'; p.style.left = r.left + 'px'; p.style.top = (r.bottom + scrollY + 4) + 'px';
  p.innerHTML = '<div><span>Read</span></div><div><span>Trade</span></div><div><span>Withdraw</span></div>';
  document.body.appendChild(p);
}
function openDialog(title) {
  const o = document.createElement('div'); o.className = 'ov';
  o.innerHTML = '<div><div class=win id=win><div>' + title + '</div><input maxlength=1><button>Confirm</button></div></div>';
  document.body.appendChild(o);
}
</script>"""
)

# Labels and controls as siblings of one form: no wrapper per field.
SIBLINGS = (
    STYLE
    + """<form style="width:400px">
 <span>Key name</span><input id=s-name>
 <span>Account</span><div class=sel id=s-acct><span>Main account</span></div>
 <span>Note</span><input id=s-note>
 <label><input type=checkbox id=s-read checked disabled>Read</label>
 <label><input type=checkbox id=s-trade>Trade</label>
 <span><input type=checkbox id=s-wd></span><span>Withdraw</span>
</form>"""
)

PILL = (
    STYLE
    + """<div style="padding:20px"><div class=sel id=pill style="width:240px"><span>Account:</span>
<span class=value>Main account</span><span>v</span></div></div>"""
)


def field(page: Page, label: str, editable: bool = False, tick: bool = False) -> list[str]:
    loc = to_locator(page, Loc(field=label), Vars(), editable, tick)
    return loc.evaluate_all("els => els.map(e => e.id || e.tagName.toLowerCase())")


def test_field_in_wrapped_form_items(page: Page):
    page.set_content(WRAPPED)
    assert field(page, "API key name", editable=True) == ["name"]  # label text split in two
    assert field(page, "api key  NAME", editable=True) == ["name"]  # case and spacing aside
    assert field(page, "Account") == ["acct"]  # a disabled select: its box
    assert field(page, "IP address allowlist (optional)", editable=True) == ["ip"]
    assert field(page, "Permissions") == ["perm"]
    assert field(page, "Passphrase", editable=True) == ["pw"]
    assert field(page, "API trading", tick=True) == ["api"]
    assert field(page, "Nothing like this") == []


def test_field_when_labels_and_controls_are_siblings(page: Page):
    page.set_content(SIBLINGS)
    assert field(page, "Key name", editable=True) == ["s-name"]
    assert field(page, "Account") == ["s-acct"]
    assert field(page, "Note", editable=True) == ["s-note"]
    assert field(page, "Read", tick=True) == ["s-read"]
    assert field(page, "Trade", tick=True) == ["s-trade"]
    assert field(page, "Withdraw", tick=True) == ["s-wd"]  # the box just before its label


def test_field_whose_label_is_inside_the_control(page: Page):
    page.set_content(PILL)
    assert field(page, "Account:") == ["pill"]
    assert engines.shown(page.locator("#pill"), "Account:") == ["Main account", "v"]


def test_a_tick_field_never_resolves_to_another_kind_of_control(page: Page):
    """A word that is a select's tag is not a checkbox: nothing, rather than the wrong control."""
    page.set_content(WRAPPED)
    assert field(page, "Trade", tick=True) == []


def test_shown_reads_value_and_tags_without_the_label(page: Page):
    page.set_content(WRAPPED)
    assert engines.shown(page.locator("#acct"), "Account") == ["Main account"]
    perm = engines.shown(page.locator("#perm"), "Permissions")
    assert shows(perm, "Read") and shows(perm, "trade") and not shows(perm, "Withdraw")
    assert not shows(["Trader"], "Trade") and shows(["Trade ×"], "Trade")


def test_popup_options_are_what_appeared_after_the_click(page: Page):
    """The box's own tags and the header's "Trade" are not options; the new list's are."""
    page.set_content(WRAPPED)
    box = page.locator("#perm")
    box.locator("ob-snap=open").count()
    box.click()
    for name in ("Read", "Trade", "Withdraw"):
        found = to_locator(page, Loc(text=name, popup=True), Vars())
        assert found.count() == 1, name
        top = found.evaluate("e => e.getBoundingClientRect().top")
        assert top > box.evaluate("e => e.getBoundingClientRect().bottom")


COUNT_JS = """(name) => { window.__calls = 0; const real = NAME;
  NAME = function (...a) { window.__calls++; return real.apply(this, a); }; }"""


def counting(page: Page, name: str) -> None:
    """Count the page's calls of `name` (a function the engines call) from now on."""
    page.evaluate(COUNT_JS.replace("NAME", name), name)


def test_a_look_for_words_not_on_the_page_walks_none_of_its_text(page: Page):
    """Most looks are for what is not there (yet): answered from the page's text at once.
    Before: every text node was walked, and each one's ancestors read, to find nothing."""
    page.set_content(WRAPPED)
    counting(page, "document.createTreeWalker")
    for loc in (Loc(field="Secret key"), Loc(text="Margin", popup=True), Loc(dialog="Verify")):
        assert to_locator(page, loc, Vars()).count() == 0, loc
    assert page.evaluate("window.__calls") == 0
    assert field(page, "Account") == ["acct"]  # words that are there: still found
    assert page.evaluate("window.__calls") > 0


def test_a_pattern_of_plain_words_not_on_the_page_walks_none_of_its_text(page: Page):
    """A pattern of words, spaces, anchors and alternatives has its words looked for in the
    page's text first, as plain words are (a dialog's title while the codes are entered).
    Before: every such look walked every text of the page. A pattern with anything else is
    walked, and found, as before."""
    page.set_content(WRAPPED)
    counting(page, "document.createTreeWalker")
    for title in ("/^Verify with /i", "/Incorrect\\s+code|has expired$/", "/^Verify\\.me$/"):
        assert to_locator(page, Loc(dialog=title), Vars()).count() == 0, title
    assert page.evaluate("window.__calls") == 0
    assert to_locator(page, Loc(dialog="/^Verif(y|ied) with/i"), Vars()).count() == 0
    assert page.evaluate("window.__calls") == 1  # a group: no first look
    # The words there, in another case and spacing (shown upper-cased): still found.
    page.evaluate(
        "openDialog('<span style=\"text-transform:uppercase\">verify   WITH</span> email')"
    )
    for title in ("/^VERIFY WITH email$/", "/^Verify with /i", "/nothing|with email/i"):
        win = to_locator(page, Loc(dialog=title), Vars())
        assert win.evaluate_all("els => els.map(e => e.id)") == ["win"], title


def test_the_list_that_opened_is_found_without_measuring_what_was_there(page: Page):
    """The options of a list that opened: only what appeared since the snap is measured.
    Before: every element of the page was (a layout read each)."""
    page.set_content(WRAPPED)
    box = page.locator("#perm")
    box.locator("ob-snap=open").count()
    box.click()
    counting(page, "Element.prototype.getBoundingClientRect")
    found = to_locator(page, Loc(css="div > span", popup=True), Vars())
    assert found.evaluate_all("els => els.map(e => e.textContent)") == ["Read", "Trade", "Withdraw"]
    appeared = 7  # the list and its three rows and their three words
    assert 0 < page.evaluate("window.__calls") <= 4 * appeared


def test_dialog_is_the_window_around_its_title(page: Page):
    page.set_content(WRAPPED)
    assert to_locator(page, Loc(dialog="/^verify with/i"), Vars()).count() == 0
    page.evaluate("openDialog('Verify with email')")
    win = to_locator(page, Loc(dialog="/^verify with/i"), Vars())
    assert win.evaluate_all("els => els.map(e => e.id)") == ["win"]
    assert win.get_by_role("button", name="Confirm").count() == 1


CHIPS = (
    STYLE
    + """<div id=area><div>IP address allowlist (optional)</div>
<div id=c1><span>203.0.113.7</span><svg width=10 height=10 class=close id=x1><path d="M0 0"/></svg></div>
<div id=c2>2001:0db8:0000:0000:0000:0000:0000:0007 <i id=x2 class=x>×</i></div>
<div id=c3>198.51.100.1 x</div>
<div>Your IP 192.0.2.9 is not allowed</div>
<div><span>Read</span><span class=x>×</span></div>
<input value="192.0.2.10">
<div>Enter up to 20 IPv4 or IPv6 addresses.</div></div>"""
)


def test_chip_reader_reads_addresses_as_a_person_does(page: Page):
    page.set_content(CHIPS)
    area = page.locator("#area")
    # IPv4 with an icon, IPv6 written in full with a glyph, one with a letter x for close;
    # a sentence that mentions an address, a chip with no address, and an input's value: not chips
    assert shown_ips(area) == ["198.51.100.1", "2001:db8::7", "203.0.113.7"]
    assert shown_ips(area, raw=True) == [
        "203.0.113.7",
        "2001:0db8:0000:0000:0000:0000:0000:0007",
        "198.51.100.1",
    ]
    # each chip's own close control; the one with only a letter in its text has none
    close = area.locator("ob-chips=" + engines.body(close=True))
    assert close.evaluate_all("els => els.map(e => e.id)") == ["x1", "x2"]


def test_press_clicks_a_layer_inside_the_widget_and_refuses_a_covered_or_disabled_one(
    page: Page,
):
    page.set_content(
        STYLE
        + """<div style="padding:40px">
<div class=sel id=box onclick="this.dataset.opened = (+(this.dataset.opened || 0) + 1)">
  <div id=inner style="width:200px;height:30px">Main account</div>
  <div id=cover style="position:absolute;inset:0;z-index:1"></div></div>
<button id=off disabled>Off</button>
<button id=under style="margin-top:20px">Under</button>
</div>"""
    )
    said: list[str] = []
    press(page, page.locator("#inner"), "the select", said.append, 2)
    assert page.locator("#box").get_attribute("data-opened") == "1"
    assert said and "takes the pointer" in said[0]
    with pytest.raises(NotActionable, match="is disabled"):
        press(page, page.locator("#off"), "Off", said.append, 2)
    page.evaluate("""() => { const r = document.querySelector('#under').getBoundingClientRect();
      const b = document.createElement('div'); b.textContent = 'We use cookies';
      b.innerHTML += '<button>Accept All</button>';
      b.style.cssText = `position:fixed;left:0;right:0;top:${r.top - 10}px;height:60px;background:#fff`;
      document.body.appendChild(b); }""")
    with pytest.raises(NotActionable, match="covered by another element"):
        press(page, page.locator("#under"), "Under", said.append, 2)
