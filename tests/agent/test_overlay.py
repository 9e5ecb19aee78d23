"""The guide-style highlight layer: isolated, click-through, following scroll, surviving navigation."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

from agent.engine.overlay import Overlay
from replica.client import ScriptedClient
from tests.helpers import in_thread

from .test_run_e2e import assert_created


def test_layer_is_isolated_and_never_blocks_a_click(replica, page: Page):
    Overlay.install(page.context)
    page.goto(f"{replica.base_url}/account/login")
    ov = Overlay(page)
    ov.banner("Please log in to OKX in this window", "human")
    email = page.get_by_placeholder("Email")
    ov.mark(email, "email", "1 - Email: yours to type", human=True)
    host = page.locator("onboard-overlay")
    assert host.evaluate("h => getComputedStyle(h).pointerEvents") == "none"
    assert host.evaluate(
        "h => !!window.__onboard && window.__onboard.layer().querySelector('.banner').textContent"
    ) == ("Please log in to OKX in this window")
    # What is under the middle of the highlighted field is the field itself, not the overlay.
    hit = email.evaluate(
        "el => { const r = el.getBoundingClientRect();"
        " return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === el; }"
    )
    assert hit is True
    email.click()  # Playwright refuses to click when another element would receive it
    email.fill("someone@example.com")
    assert email.input_value() == "someone@example.com"
    state = page.evaluate("window.__onboard.state()")
    assert state["marks"] == ["1 - Email: yours to type"]


def test_box_follows_scrolling_and_layer_survives_navigation(replica, page: Page):
    Overlay.install(page.context)
    page.set_viewport_size({"width": 1200, "height": 500})
    page.goto(f"{replica.base_url}/account/login")
    ov = Overlay(page)
    target = page.get_by_text("Sign up").last
    ov.mark(target, "k", "2 - something")

    def gap() -> float:
        return page.evaluate(
            """() => { const box = window.__onboard.layer().querySelector('.box');
                 return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => {
                   const links = [...document.querySelectorAll('a')].filter(a => a.textContent.trim() === 'Sign up');
                   const el = links[links.length - 1];
                   r(box.getBoundingClientRect().top - el.getBoundingClientRect().top); }))); }"""
        )

    before = gap()
    page.mouse.wheel(0, 300)
    page.wait_for_function("window.scrollY > 0")
    assert abs(gap() - before) < 1.5  # the box moved with its element
    page.goto(f"{replica.base_url}/")
    assert page.evaluate("typeof window.__onboard.banner") == "function"
    assert page.locator("onboard-overlay").count() == 1


def test_layer_follows_page_changes_and_is_idle_when_the_page_is_still(replica, page: Page):
    """No frame loop on a still page (one per window ran forever and kept a core busy),
    but a box still follows its element when the page moves it."""
    Overlay.install(page.context)
    page.goto(f"{replica.base_url}/account/login")
    page.evaluate(
        """() => { window.__frames = 0; const raf = window.requestAnimationFrame.bind(window);
             window.requestAnimationFrame = (cb) => { window.__frames++; return raf(cb); }; }"""
    )
    Overlay(page).mark(page.get_by_text("Sign up").last, "k", "2 - something")

    def frames_in(ms: int) -> int:
        return page.evaluate(
            """(ms) => new Promise(r => { const n = window.__frames;
                 setTimeout(() => r(window.__frames - n), ms); })""",
            ms,
        )

    assert frames_in(300) > 0  # just marked: following
    frames_in(1000)  # it follows for a moment after the last change (600 ms)
    assert frames_in(1000) <= 1  # then a still page: no loop (at most a frame in flight)

    def gap() -> float:
        return page.evaluate(
            """() => { const box = window.__onboard.layer()
                   .querySelector('.box');
                 const links = [...document.querySelectorAll('a')]
                   .filter(a => a.textContent.trim() === 'Sign up');
                 return box.getBoundingClientRect().top
                   - links[links.length - 1].getBoundingClientRect().top; }"""
        )

    settled = gap()
    page.evaluate(
        """() => { const d = document.createElement('div'); d.style.height = '137px';
             document.body.prepend(d); }"""
    )
    page.wait_for_function(
        """(want) => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => {
             const box = window.__onboard.layer().querySelector('.box');
             const links = [...document.querySelectorAll('a')]
               .filter(a => a.textContent.trim() === 'Sign up');
             r(Math.abs(box.getBoundingClientRect().top
               - links[links.length - 1].getBoundingClientRect().top - want) < 1.5); })))""",
        arg=settled,
        timeout=3000,
    )
    assert abs(gap() - settled) < 1.5  # moved 137 px down with its element


# A human box's animations, its ring's included: [[property, ...] per animation].
PULSE_JS = """() => [...window.__onboard.layer().querySelector('.box.human')
  .getAnimations({subtree: true})].map((a) => [...new Set(a.effect.getKeyframes()
    .flatMap((k) => Object.keys(k)))].filter((p) => !/^(offset|computedOffset|easing|composite)$/
    .test(p)))"""


def test_a_box_for_the_person_pulses_by_opacity_alone(replica, page: Page):
    """The pulse fades a ring in and out (opacity: the compositor animates it alone). Before:
    a growing box-shadow, repainted by the page on every frame while the box waited."""
    Overlay.install(page.context)
    page.goto(f"{replica.base_url}/account/login")
    Overlay(page).mark(page.get_by_placeholder("Email"), "email", "1 - Email: yours", human=True)
    assert page.evaluate(PULSE_JS) == [["opacity"]]


def test_a_box_in_a_window_nobody_sees_does_not_pulse(replica, page: Page):
    """Headless (`still`): no animation at all, the ring shown as it is at its brightest."""
    Overlay.install(page.context, still=True)
    page.goto(f"{replica.base_url}/account/login")
    Overlay(page).mark(page.get_by_placeholder("Email"), "email", "1 - Email: yours", human=True)
    assert page.evaluate(PULSE_JS) == []
    ring = page.evaluate(
        """() => getComputedStyle(window.__onboard.layer().querySelector('.box.human'),
             '::after').opacity"""
    )
    assert ring == "1"


def test_a_still_layer_runs_no_frame_loop_and_is_laid_out_for_the_shot(
    replica, page: Page, tmp_path
) -> None:
    """Headless: no frame at all for the layer (following serves a person watching), nor a
    paint until looked at; the screenshot lays it out and shows it, box and caption, where the
    element is. Before: a frame loop, and every banner and box drawn as it came."""
    from PIL import Image

    from agent.artifacts import FLUSH_LAYER, RunArtifacts

    Overlay.install(page.context, still=True)
    hidden = 'getComputedStyle(document.querySelector("onboard-overlay")).display'
    page.goto(f"{replica.base_url}/account/login")
    page.evaluate(
        """() => { window.__frames = 0; const raf = window.requestAnimationFrame.bind(window);
             window.requestAnimationFrame = (cb) => { window.__frames++; return raf(cb); }; }"""
    )
    email = page.get_by_placeholder("Email")
    Overlay(page).mark(email, "email", "1 - Email: yours")
    assert page.evaluate(hidden) == "none"  # not looked at yet: not drawn
    page.evaluate("document.body.append(document.createTextNode(' '))")  # and a change
    assert page.evaluate("() => new Promise((r) => setTimeout(() => r(window.__frames), 400))") == 0
    art = RunArtifacts(tmp_path)
    shot = art.screenshot(page, "still")
    assert shot is not None
    box = email.bounding_box()
    assert box is not None
    img = Image.open(shot).convert("RGB")
    # The yellow border, 5 px out from the field on its left (the border is 3 px wide), in
    # the part of the window the shot keeps (around what the layer shows).
    at = art.clips["still"] or {"x": 0, "y": 0}
    x, y = int(box["x"]) - 4 - at["x"], int(box["y"] + box["height"] / 2) - at["y"]
    r, g, b = img.getpixel((x, y))
    assert r > 200 and g > 160 and b < 120, (x, y, (r, g, b))
    caps = page.evaluate(CAPTIONS_JS)
    assert [c["text"] for c in caps] == ["1 - Email: yours"]
    # Shown from the look until its next banner or box: what changes between looks is never
    # painted (the host hidden), and the next look shows it again.
    shown = 'document.querySelector("onboard-overlay").style.display'
    Overlay(page).banner("Step 2/3")
    assert page.evaluate(shown) == "none"
    page.evaluate(FLUSH_LAYER)
    assert page.evaluate(shown) == "block"


def test_a_banner_nobody_would_see_costs_no_call_in_a_still_window(replica, page: Page) -> None:
    """Headless: a banner about to be replaced by a navigation, or the run's last one, is
    kept and not drawn (no call); a wait that comes after draws it. A window a person sees
    is drawn as before."""
    from tests.agent.test_riding import driver_calls

    Overlay.install(page.context)  # as the agent's session does
    page.goto(f"{replica.base_url}/account/login")
    with driver_calls() as sent:
        Overlay(page).banner("Done", unseen=True)  # not still: drawn
    assert sent == ["evaluateExpression"]
    Overlay.install(page.context, still=True)
    still = Overlay(page)
    assert still.still
    with driver_calls() as sent:
        still.banner("Step 1/9 - Open API management", unseen=True)
    assert sent == []
    still.reapply()  # a wait's tick
    assert page.evaluate("window.__onboard.state().banner") == "Step 1/9 - Open API management"


def test_a_headless_session_gets_a_still_layer(replica, settings) -> None:
    from agent.session import SessionSpec, open_session

    def still() -> object:
        with open_session(SessionSpec(headless=True), settings, replica.base_url) as (_c, page):
            page.goto(f"{replica.base_url}/account/login")
            return page.evaluate("window.__onboardStill === true")

    assert in_thread(still) is True  # its own Playwright: not in this test's event loop


def test_a_frame_where_nothing_moved_does_no_hit_test(replica, page: Page):
    """While following (a moment after a change) a frame where no box moved and the page did
    not change measures the boxes only. Before: a hit test per box on every frame."""
    Overlay.install(page.context)
    page.goto(f"{replica.base_url}/account/login")
    page.evaluate(
        """() => { window.__frames = 0; window.__hits = 0;
             const raf = window.requestAnimationFrame.bind(window);
             window.requestAnimationFrame = (cb) => { window.__frames++; return raf(cb); };
             const hit = document.elementFromPoint.bind(document);
             document.elementFromPoint = (x, y) => { window.__hits++; return hit(x, y); }; }"""
    )
    Overlay(page).mark(page.get_by_placeholder("Email"), "email", "1 - Email")
    frames, hits = page.evaluate(
        """() => new Promise((r) => setTimeout(() => r([window.__frames, window.__hits]), 400))"""
    )
    assert frames >= 5, frames  # it was following
    assert 1 <= hits <= 2, (frames, hits)  # the placement after the mark (and one in flight)


def test_a_change_or_a_new_box_is_followed_for_a_few_frames_only(replica, page: Page):
    """A DOM change, or a box drawn, is laid out by the next frame: followed for a few frames,
    not for the 600 ms a scroll or a transition gets (each of the agent's steps draws a box
    and changes the page: a 60 fps loop ran through the whole run)."""
    Overlay.install(page.context)
    page.goto(f"{replica.base_url}/account/login")
    ov = Overlay(page)
    ov.mark(page.get_by_placeholder("Email"), "email", "1 - Email")
    count = """() => new Promise((r) => setTimeout(() => {
        let n = 0; const raf = window.requestAnimationFrame.bind(window);
        window.requestAnimationFrame = (cb) => { n++; return raf(cb); };
        CHANGE; setTimeout(() => { window.requestAnimationFrame = raf; r(n); }, 500); }, 1000))"""
    dom = page.evaluate(
        count.replace("CHANGE", 'document.body.append(document.createTextNode(" "))')
    )
    assert 1 <= dom <= 8, dom
    page.evaluate(  # settled, then counting frames from now
        """() => new Promise((r) => setTimeout(() => { window.__n = 0;
             const raf = window.requestAnimationFrame.bind(window);
             window.requestAnimationFrame = (cb) => { window.__n++; return raf(cb); }; r(); },
             1000))"""
    )
    ov.mark(page.get_by_placeholder("Password"), "password", "2 - Password")
    drawn = page.evaluate("() => new Promise((r) => setTimeout(() => r(window.__n), 500))")
    assert 1 <= drawn <= 8, drawn


class Observer(ScriptedClient):
    """A client who, before clicking Submit all, looks at what the agent highlighted."""

    seen: Any = None

    def _submit(self, page: Page) -> None:
        if self.seen is None:
            self.seen = page.evaluate("window.__onboard.state()")
        super()._submit(page)


def test_guided_run_highlights_every_filled_field(replica, settings, run_agent):
    acct = replica.world.accounts["client@replica.test"]
    observer = Observer.for_seed(replica.base_url, acct, typing_delay_ms=0)
    result = run_agent(stand_in=observer)
    assert_created(replica, settings, result)
    captions = observer.seen["marks"]
    for expected in ("API key name: filled by the agent", "IP allowlist: filled by the agent",
                     "Passphrase: filled by the agent", "Permissions: exactly Read + Trade: set by the agent",
                     "Submit all: your turn"):  # fmt: skip
        assert any(c.endswith(expected) for c in captions), (expected, captions)
    assert all(c.split(" - ")[0].isdigit() for c in captions)  # numbered like the guide
    assert 'Click "Submit all"' in observer.seen["banner"]


CAPTIONS_JS = """() => [...window.__onboard.layer().querySelectorAll('.cap')]
  .filter((c) => getComputedStyle(c).display !== 'none')
  .map((c) => { const r = c.getBoundingClientRect();
                return {text: c.textContent, x: r.x, y: r.y, width: r.width, height: r.height}; })"""
IPS = ["203.0.113.7", "2001:db8::7", "198.51.100.23", "192.0.2.200"]


def overlap(a: dict[str, float], b: dict[str, float]) -> float:
    w = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
    h = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
    return max(0.0, w) * max(0.0, h)


def test_captions_leave_every_filled_value_and_label_visible(run_agent, monkeypatch):
    """In the `form-filled` state (the screenshot's moment), no caption covers an IP chip, a
    filled value, or a field's label: read from their boxes, as the screenshot shows them."""
    from agent.artifacts import FLUSH_LAYER, RunArtifacts
    from tests.replica.test_ui_common import field, okui

    seen: dict[str, Any] = {}
    real = RunArtifacts.screenshot

    def spy(self: RunArtifacts, page: Page, name: str, extra_masks: Any = None) -> Any:
        if name == "form-filled":
            values = {
                **{f"IP chip {ip}": field(page, "IP address allowlist").get_by_text(ip, exact=True)
                   for ip in IPS},
                "API key name": field(page, "API key name").locator("input"),
                "Account": field(page, "Account").get_by_text("Main account"),
                "Used for": page.get_by_text("API trading", exact=True),
                "Read": field(page, "Permissions").get_by_text("Read", exact=True),
                "Trade": field(page, "Permissions").get_by_text("Trade", exact=True),
                "Passphrase": field(page, "Passphrase").locator("input"),
                **{f"label {t}": field(page, t).locator(okui("form-item-label"))
                   for t in ("API key name", "Account", "IP address allowlist", "Permissions",
                             "Passphrase")},
            }  # fmt: skip
            seen["values"] = {k: loc.bounding_box() for k, loc in values.items()}
            page.evaluate(FLUSH_LAYER)  # as the shot lays out the (headless, still) layer
            seen["captions"] = page.evaluate(CAPTIONS_JS)
        return real(self, page, name, extra_masks)

    monkeypatch.setattr(RunArtifacts, "screenshot", spy)
    result = run_agent(auto=True, auto_submit=True, ips=IPS)
    assert result["status"] == "ok", result
    caps, values = seen["captions"], seen["values"]
    assert all(values.values()), [k for k, v in values.items() if not v]  # all on screen
    texts = [c["text"] for c in caps]
    for want in ("API key name", "IP allowlist", "Permissions", "Passphrase"):
        assert any(want in t for t in texts), (want, texts)
    covered = [(c["text"], k) for c in caps for k, v in values.items() if v and overlap(c, v) > 0]
    assert covered == []
    # Nor one caption on another, and every caption inside the window.
    assert not [(a["text"], b["text"]) for i, a in enumerate(caps) for b in caps[i + 1 :]
                if overlap(a, b) > 0]  # fmt: skip
    assert all(c["x"] >= 0 and c["x"] + c["width"] <= 1920 and c["y"] >= 0 for c in caps)
