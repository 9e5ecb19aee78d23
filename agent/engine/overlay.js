// The guide-style highlight layer: yellow boxes with numbered captions and a
// banner. It lives in a shadow root under <html>, ignores the pointer, and
// re-measures on every frame for a moment after anything moves (scroll, resize,
// DOM change, CSS transition or animation), so it follows scrolling and
// re-renders. It does not run a frame loop while the page is still: a
// forever-running loop kept a CPU core busy for every open window.
(() => {
  if (window.__onboard) return;
  const YELLOW = "#f0c53a";
  let host, root, bannerEl, layer;
  const marks = new Map(); // key -> {el, box}

  function ensure() {
    if (host && host.isConnected) return;
    host = document.createElement("onboard-overlay");
    host.style.cssText = "all:initial;position:fixed;inset:0;pointer-events:none;z-index:2147483647;";
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
      .box.human{animation:pulse 1.2s ease-in-out infinite}
      @keyframes pulse{50%{box-shadow:0 0 0 7px rgba(240,197,58,.45)}}
      .cap{position:absolute;left:-3px;top:-26px;white-space:nowrap;background:${YELLOW};color:#111;
        font-size:12px;font-weight:600;padding:3px 8px;border-radius:4px 4px 4px 0}
    </style><div class="layer"></div><div class="banner"></div>`;
    layer = root.querySelector(".layer");
    bannerEl = root.querySelector(".banner");
    (document.documentElement || document).appendChild(host);
    for (const m of marks.values()) layer.appendChild(m.box);
  }

  const SETTLE_MS = 600; // keep following for this long after the last movement
  let followUntil = 0, scheduled = false;

  function wake() {
    followUntil = performance.now() + SETTLE_MS;
    if (!scheduled) { scheduled = true; requestAnimationFrame(place); }
  }

  function place() {
    scheduled = false;
    if (host && !host.isConnected && document.documentElement) document.documentElement.appendChild(host);
    for (const [key, m] of marks) {
      if (!m.el.isConnected) { m.box.remove(); marks.delete(key); continue; }
      const r = m.el.getBoundingClientRect();
      // Hide boxes whose element is covered (e.g. by a dialog): the guide boxes what you can see.
      const cx = Math.min(Math.max(r.left + r.width / 2, 0), innerWidth - 1);
      const cy = Math.min(Math.max(r.top + r.height / 2, 0), innerHeight - 1);
      const top = document.elementFromPoint(cx, cy);
      const covered = top && !(top === m.el || m.el.contains(top) || top.contains(m.el) ||
        (m.el.parentElement && m.el.parentElement.contains(top)));
      const hidden = (r.width === 0 && r.height === 0) || covered;
      m.box.style.display = hidden ? "none" : "block";
      m.box.style.left = `${r.left - 5}px`;
      m.box.style.top = `${r.top - 5}px`;
      m.box.style.width = `${r.width + 10}px`;
      m.box.style.height = `${r.height + 10}px`;
    }
    if (marks.size && performance.now() < followUntil) { scheduled = true; requestAnimationFrame(place); }
  }

  window.__onboard = {
    layer: () => (ensure(), root), // for tests: the closed shadow root
    banner(text, mode) {
      ensure();
      bannerEl.textContent = text || "";
      bannerEl.className = "banner" + (mode ? " " + mode : "");
    },
    mark(el, key, caption, kind, holdMs) {
      ensure();
      const old = marks.get(key);
      if (old) old.box.remove();
      const box = document.createElement("div");
      box.className = "box" + (kind === "human" ? " human" : "");
      const cap = document.createElement("div");
      cap.className = "cap";
      cap.textContent = caption;
      box.appendChild(cap);
      layer.appendChild(box);
      marks.set(key, { el, box, until: performance.now() + (holdMs || 0) });
      wake();
    },
    // --pace: the agent waits until every new highlight has been on screen long enough.
    settled() { return [...marks.values()].every((m) => performance.now() >= m.until); },
    unmark(key) { const m = marks.get(key); if (m) { m.box.remove(); marks.delete(key); wake(); } },
    state() {
      return {
        banner: bannerEl ? bannerEl.textContent : "",
        marks: [...marks.values()].map((m) => m.box.firstChild.textContent),
      };
    },
  };
  const start = () => {
    ensure();
    // The page's own changes; the layer's are inside its shadow root, which this does not see.
    new MutationObserver(wake).observe(document, {
      subtree: true, childList: true, attributes: true, characterData: true,
    });
    for (const ev of ["scroll", "resize", "transitionrun", "transitionend", "animationstart", "animationend", "load"])
      addEventListener(ev, wake, { capture: true, passive: true });
    wake();
  };
  if (document.documentElement) start(); else document.addEventListener("DOMContentLoaded", start);
})();
