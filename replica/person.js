// How a person finds things on a page: by what they can see. Used by the scripted client
// (replica/person.py) to do what the agent's handover asks, on any mutated replica page.
// Seen means: on the page, at least 2x2 px, not hidden, transparent or clipped away, not
// the agent's own overlay. Text is read case- and whitespace-blind, as eyes read it.
(() => {
  const norm = (s) => (s || "").replace(/\s+/g, " ").trim().toLowerCase();

  function seen(e) {
    if (!e || !e.isConnected || e.closest("onboard-overlay")) return false;
    const r = e.getBoundingClientRect();
    if (r.width < 2 || r.height < 2) return false;
    if (r.right + scrollX <= 0 || r.bottom + scrollY <= 0) return false;
    for (let a = e; a && a.nodeType === 1; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.display === "none" || s.visibility === "hidden" || parseFloat(s.opacity) === 0) return false;
      if (/rect\(0(px)?,? 0(px)?,? 0(px)?,? 0(px)?\)/.test(s.clip)) return false;
      const ar = a.getBoundingClientRect();
      if (a !== e && s.overflow === "hidden" && (ar.width < 2 || ar.height < 2)) return false;
    }
    return true;
  }

  // The deepest seen elements whose whole text is `text`.
  function byText(text, root) {
    const want = norm(text);
    const all = [...(root || document.body).querySelectorAll("*")].filter(
      (e) => !/^(SCRIPT|STYLE|TEMPLATE)$/.test(e.tagName) && norm(e.innerText) === want && seen(e)
    );
    return all.filter((e) => !all.some((o) => o !== e && e.contains(o)));
  }

  const editable = (e) =>
    e.matches("input:not([type=checkbox]):not([type=radio]):not([type=hidden]), textarea") &&
    !e.disabled && !e.readOnly && seen(e);

  // The label a person means: its text, outside dialogs' and lists' own copies if possible.
  function label(text) {
    return byText(text)[0] || null;
  }

  // The field under (or beside) a label: the first seen, enabled text field after it in the
  // nearest block that holds one.
  function fieldFor(text) {
    const l = label(text);
    if (!l) return null;
    for (let a = l.parentElement, up = 0; a && up < 6; a = a.parentElement, up++) {
      const after = [...a.querySelectorAll("input, textarea")].filter(
        (x) => editable(x) && l.compareDocumentPosition(x) & Node.DOCUMENT_POSITION_FOLLOWING
      );
      if (after.length) return after[0];
    }
    return null;
  }

  const pointer = (e) => getComputedStyle(e).cursor === "pointer";

  // The select box a label names: the first seen element under a pointer cursor after it.
  function boxFor(text) {
    const l = label(text);
    if (!l) return null;
    if (pointer(l) && norm(l.closest("*").innerText) !== norm(text)) return l;
    for (let a = l.parentElement, up = 0; a && up < 6; a = a.parentElement, up++) {
      if (pointer(a) && norm(a.innerText).length > norm(text).length) return a;  // a pill
      const after = [...a.querySelectorAll("*")].filter(
        (x) => seen(x) && pointer(x) && !(pointer(x.parentElement) && a.contains(x.parentElement) && x.parentElement !== a)
          && l.compareDocumentPosition(x) & Node.DOCUMENT_POSITION_FOLLOWING
      );
      if (after.length) return after[0];
    }
    return null;
  }

  function centre(e) {
    e.scrollIntoView({ block: "center", inline: "center", behavior: "instant" });
    const r = e.getBoundingClientRect();
    return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
  }

  // What a person clicks for "click X": the seen element showing X, the most button-like.
  function clickable(text) {
    const found = byText(text);
    const score = (e) => {
      for (let a = e, up = 0; a && up < 4; a = a.parentElement, up++) {
        if (a.matches("button, [role=button], a[href]") || pointer(a)) return up;
      }
      return 9;
    };
    found.sort((a, b) => score(a) - score(b));
    return found.length && score(found[0]) < 9 ? found[0] : null;
  }

  // What already shows X before the list is opened (the same word in the page's header,
  // a menu): not an option of that list, however near it is.
  function before(texts) {
    window.__personBefore = new Set(texts.flatMap((t) => byText(t)));
    return window.__personBefore.size;
  }

  // The option a person clicks in the list that opened under `box`: X, not shown before it
  // opened (the box's own tags were; a list drawn inside the box was not), nearest to it.
  function option(box, text) {
    const old = window.__personBefore || new Set();
    const b = box.getBoundingClientRect();
    const dist = (e) => {
      const r = e.getBoundingClientRect();
      return Math.hypot((r.left + r.right - b.left - b.right) / 2, (r.top + r.bottom - b.top - b.bottom) / 2);
    };
    const found = byText(text).filter((e) => !old.has(e) && dist(e) < 600);
    found.sort((x, y) => dist(x) - dist(y));
    return found[0] || null;
  }

  // The words a select's box shows (its value or tags).
  function shows(box) {
    return [...box.querySelectorAll("*")]
      .filter((e) => seen(e) && e.children.length === 0 && norm(e.innerText))
      .map((e) => norm(e.innerText))
      .concat(box.children.length === 0 ? [norm(box.innerText)] : []);
  }

  const IP = /^[0-9a-f:.]+$/i;
  function chips() {
    const out = new Set();
    for (const e of document.body.querySelectorAll("*")) {
      if (e.matches("input, textarea") || !seen(e)) continue;
      const t = (e.innerText || "").replace(/[×✕✖x]/g, " ").trim();
      if (t && IP.test(t) && /[.:]/.test(t) && e.children.length <= 2) out.add(t.toLowerCase());
    }
    return [...out];
  }

  window.__person = { seen, byText, fieldFor, boxFor, centre, clickable, before, option, shows, chips, label };
})();
