// The guide-style highlight layer: yellow boxes with numbered captions and a
// banner. It lives in a shadow root under <html>, ignores the pointer, and
// re-measures on every frame for a moment after anything moves (scroll, resize,
// CSS transition or animation; a DOM change or a new box: its next few frames), so it follows
// scrolling and re-renders. It does not run a frame loop while the page is still: a
// forever-running loop kept a CPU core busy for every open window. Within a
// follow, a frame where no box moved and the page did not change since the last
// placement writes nothing and measures no text (placing the captions walks the
// page's text: done every frame, it was most of the renderer's extra CPU), nor any
// hit test.
// A box for the person (`human`) pulses by fading a ring in and out: opacity, which the
// compositor animates alone (the ring drawn as a growing box-shadow was repainted on every
// frame, most of Chromium's CPU while it waited for the person). In a window nobody sees
// (headless: window.__onboardStill, set by Overlay.install) it does not pulse at all, and
// it runs no frame loop either: it is laid out and shown when looked at (`flush`, which a
// screenshot calls first) and hidden again by its next banner or box, so the steps' banners
// and boxes between two shots are never painted: frame-by-frame following and drawing only
// serve a person watching.
// A caption goes where it covers none of the page's text or controls (the
// values just filled in above all, which the form-filled screenshot exists to
// show): beside the field, else above its label, else left of it or below.
(() => {
  if (window.__onboard) return;
  const YELLOW = "#f0c53a";
  const STILL = !!window.__onboardStill;
  let host, root, bannerEl, layer;
  const marks = new Map(); // key -> {el, box}

  function ensure() {
    if (host && host.isConnected) return;
    host = document.createElement("onboard-overlay");
    host.style.cssText = "all:initial;position:fixed;inset:0;pointer-events:none;z-index:2147483647;" +
      (STILL ? "display:none;" : "");
    // Closed: the agent's own locators (text, css) never find its captions and banner.
    root = host.attachShadow({ mode: "closed" });
    root.innerHTML = `<style>
      *{box-sizing:border-box;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif}
      .banner{position:fixed;top:0;left:50%;transform:translateX(-50%);margin-top:6px;max-width:70vw;
        background:#111;color:#fff;border:3px solid ${YELLOW};border-radius:10px;padding:8px 16px;
        font-size:15px;line-height:1.35;box-shadow:0 4px 18px rgba(0,0,0,.35);pointer-events:none}
      .banner.human{background:${YELLOW};color:#111;font-weight:600}
      .banner.error{background:#b42318;border-color:#b42318}
      .banner:empty{display:none}
      .box{position:fixed;border:3px solid ${YELLOW};border-radius:4px;pointer-events:none;
        box-shadow:0 0 0 2px rgba(240,197,58,.25)}
      .box.human::after{content:"";position:absolute;inset:-3px;border-radius:4px;opacity:0;
        box-shadow:0 0 0 7px rgba(240,197,58,.45);animation:pulse 1.2s ease-in-out infinite}
      .still .box.human::after{animation:none;opacity:1}
      @keyframes pulse{50%{opacity:1}}
      .cap{position:fixed;left:0;top:0;white-space:nowrap;background:${YELLOW};color:#111;
        font-size:12px;font-weight:600;padding:3px 8px;border-radius:4px;pointer-events:none;
        box-shadow:0 1px 4px rgba(0,0,0,.25)}
    </style><div class="layer${STILL ? " still" : ""}"></div><div class="banner"></div>`;
    layer = root.querySelector(".layer");
    bannerEl = root.querySelector(".banner");
    (document.documentElement || document).appendChild(host);
    for (const m of marks.values()) layer.append(m.box, m.cap);
  }

  // Keep following for this long after something that moves things over several frames (a
  // scroll, a CSS transition or animation starting or ending, a resize, a load); after a
  // change to the DOM, or a box drawn or taken off, only for the frames that lay it out (its
  // effects are in the next frame, and a transition it starts wakes the layer again): each
  // of the agent's steps draws a box and changes the page, which kept a 60 fps loop running
  // through a whole run.
  const SETTLE_MS = 600, CHANGE_MS = 50;
  let followUntil = 0, scheduled = false;
  // The page changed since the last placement; the boxes' rectangles last measured; the
  // geometry (rectangles and which are covered) last placed.
  let changed = true, measured = "", placed = "";

  // A still layer's own change (a banner, a box): hidden until the next look, never painted.
  // What a screenshot put on the page for its frames alone (the covers over secrets) goes then
  // too, in that call: none of the run's looks sees it (it is inert to the pointer and holds
  // no text), and taking it off costs no call of its own.
  const afterShot = [];
  function unseen() {
    if (STILL && host && host.style.display !== "none") host.style.display = "none";
    for (const off of afterShot.splice(0)) off();
  }

  function wake(ms = SETTLE_MS) {
    changed = true;
    if (STILL) return; // laid out when looked at (flush), not frame by frame
    followUntil = Math.max(followUntil, performance.now() + (typeof ms === "number" ? ms : SETTLE_MS));
    if (!scheduled) { scheduled = true; requestAnimationFrame(() => place()); }
  }

  const overlap = (a, b) =>
    Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left)) *
    Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top));
  const CONTROL = /^(input|select|textarea|img|svg|canvas|video)$/i;

  // The page's text (each line of each text node) and controls within the band [top, bottom]
  // of the viewport: what a caption must not cover. Subtrees outside the band are skipped.
  function obstacles(top, bottom) {
    const out = [], range = document.createRange();
    const visit = (el) => {
      const r = el.getBoundingClientRect();
      if (r.height && (r.bottom < top || r.top > bottom)) return;
      if (CONTROL.test(el.tagName)) {
        if (r.width && r.height && el.type !== "hidden") out.push(r);
        return;
      }
      for (const c of el.childNodes) {
        if (c.nodeType === 1) visit(c);
        else if (c.nodeType === 3 && c.data.trim()) {
          range.selectNodeContents(c);
          for (const q of range.getClientRects()) if (q.width && q.height) out.push(q);
        }
      }
    };
    if (document.body) visit(document.body);
    return out;
  }

  // Where the caption of box B (its rectangle) goes: the first spot that covers nothing in
  // `obs`, in this order: beside the box on the right (sliding right past a button there),
  // above it (sliding up past the field's label and anything filled above the field), left
  // of it, below it. None free: the spot that covers least.
  function spot(B, w, h, obs) {
    const cands = [];
    for (let x = B.right + 6; x + w <= innerWidth - 2; x += 12) cands.push([x, B.top]);
    for (let y = B.top - h - 2; y >= 0 && y >= B.top - h - 162; y -= 4) cands.push([B.left, y]);
    for (let x = B.left - w - 6; x >= 2; x -= 12) cands.push([x, B.top]);
    for (let y = B.bottom + 2; y + h <= innerHeight && y <= B.bottom + 160; y += 4) cands.push([B.left, y]);
    let best = [B.left, B.top - h - 2], least = Infinity;
    for (const [x, y] of cands) {
      const c = { left: x, top: y, right: x + w, bottom: y + h };
      let cost = 0;
      for (const o of obs) if ((cost += overlap(c, o)) >= least) break;
      if (cost === 0) return [x, y];
      if (cost < least) { least = cost; best = [x, y]; }
    }
    return best;
  }

  // Whether the element is covered (e.g. by a dialog): the guide boxes what you can see.
  function covered(el, r) {
    const cx = Math.min(Math.max(r.left + r.width / 2, 0), innerWidth - 1);
    const cy = Math.min(Math.max(r.top + r.height / 2, 0), innerHeight - 1);
    const top = document.elementFromPoint(cx, cy);
    return !!top && !(top === el || el.contains(top) || top.contains(el) ||
      (el.parentElement && el.parentElement.contains(top)));
  }

  function place(now = false) {
    if (!now) scheduled = false;
    if (host && !host.isConnected && document.documentElement) document.documentElement.appendChild(host);
    const rects = [];
    for (const [key, m] of marks) {
      if (!m.el.isConnected) { m.box.remove(); m.cap.remove(); marks.delete(key); changed = true; continue; }
      rects.push([m, m.el.getBoundingClientRect()]);
    }
    const at = `${innerWidth}x${innerHeight};` +
      rects.map(([, r]) => `${r.left},${r.top},${r.width},${r.height}`).join(";");
    // Nothing moved and the page did not change: nothing got covered or uncovered either, so
    // no hit test (one per box per frame was most of the layer's cost while following).
    if (!changed && at === measured) return follow();
    measured = at;
    const seen = rects.map(([m, r]) => [m, r, (r.width === 0 && r.height === 0) || covered(m.el, r)]);
    const geometry = at + ";" + seen.map(([, , h]) => (h ? 1 : 0)).join("");
    if (!changed && geometry === placed) return follow();
    changed = false;
    placed = geometry;
    const shown = [];
    for (const [m, r, hidden] of seen) {
      m.box.style.display = hidden ? "none" : "block";
      m.box.style.left = `${r.left - 5}px`;
      m.box.style.top = `${r.top - 5}px`;
      m.box.style.width = `${r.width + 10}px`;
      m.box.style.height = `${r.height + 10}px`;
      m.cap.style.display = m.box.style.display;
      if (!hidden) shown.push([m, { left: r.left - 5, top: r.top - 5, right: r.right + 5, bottom: r.bottom + 5 }]);
    }
    if (shown.length) {
      const obs = obstacles(Math.min(...shown.map(([, B]) => B.top)) - 200,
                            Math.max(...shown.map(([, B]) => B.bottom)) + 200);
      obs.push(...shown.map(([, B]) => B)); // no caption across another highlighted field
      for (const [m, B] of shown) {
        const w = m.cap.offsetWidth, h = m.cap.offsetHeight;
        const [x, y] = spot(B, w, h, obs);
        m.cap.style.left = `${x}px`;
        m.cap.style.top = `${y}px`;
        obs.push({ left: x, top: y, right: x + w, bottom: y + h }); // nor across another caption
      }
    }
    follow();
  }

  function follow() {
    if (!STILL && !scheduled && marks.size && performance.now() < followUntil) { scheduled = true; requestAnimationFrame(() => place()); }
  }

  window.__onboard = {
    layer: () => (ensure(), root), // for tests: the closed shadow root
    banner(text, mode) {
      ensure();
      unseen();
      bannerEl.textContent = text || "";
      bannerEl.className = "banner" + (mode ? " " + mode : "");
    },
    mark(el, key, caption, kind, holdMs) {
      ensure();
      unseen();
      const old = marks.get(key);
      if (old) { old.box.remove(); old.cap.remove(); }
      const box = document.createElement("div");
      box.className = "box" + (kind === "human" ? " human" : "");
      const cap = document.createElement("div");
      cap.className = "cap";
      cap.textContent = caption;
      cap.style.display = "none"; // until placed
      layer.append(box, cap);
      marks.set(key, { el, box, cap, until: performance.now() + (holdMs || 0) });
      wake(CHANGE_MS);
    },
    // Taken off by the still layer's next banner or box (see unseen); false where the layer
    // is not still (a person sees the page: the caller takes it off at once).
    untilNext(off) {
      if (!STILL) return false;
      afterShot.push(off);
      return true;
    },
    // The layer laid out now (a screenshot is about to be taken): a still layer is only then.
    flush() {
      if (!host) return;
      if (STILL) host.style.display = "block";
      place(true);
    },
    // What the layer shows, as one rectangle in the window (its boxes and their captions, not
    // the banner): the part of the window a screenshot keeps (agent/artifacts.py). Null when
    // nothing is shown. Read after `flush`.
    extent() {
      let l = Infinity, t = Infinity, r = -Infinity, b = -Infinity;
      for (const m of marks.values()) {
        for (const d of [m.box, m.cap]) {
          if (d.style.display === "none") continue;
          const q = d.getBoundingClientRect();
          if (!q.width || !q.height) continue;
          l = Math.min(l, q.left); t = Math.min(t, q.top); r = Math.max(r, q.right); b = Math.max(b, q.bottom);
        }
      }
      return r > l && b > t ? [l, t, r, b] : null;
    },
    // --pace: the agent waits until every new highlight has been on screen long enough.
    settled() { return [...marks.values()].every((m) => performance.now() >= m.until); },
    unmark(key) { const m = marks.get(key); if (m) { unseen(); m.box.remove(); m.cap.remove(); marks.delete(key); wake(CHANGE_MS); } },
    state() {
      return {
        banner: bannerEl ? bannerEl.textContent : "",
        marks: [...marks.values()].map((m) => m.cap.textContent),
      };
    },
  };
  const start = () => {
    ensure();
    // The page's own changes; the layer's are inside its shadow root, which this does not see.
    new MutationObserver(() => wake(CHANGE_MS)).observe(document, {
      subtree: true, childList: true, attributes: true, characterData: true,
    });
    for (const ev of ["scroll", "resize", "transitionrun", "transitionend", "animationstart", "animationend", "load"])
      addEventListener(ev, wake, { capture: true, passive: true });
    wake();
  };
  if (document.documentElement) start(); else document.addEventListener("DOMContentLoaded", start);
})();
