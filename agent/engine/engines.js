// Finding things the way a person does, with no ARIA: Playwright selector engines.
//
// Exchanges' web apps are not known to give their selects, options or dialogs any role, so a page
// is read by what shows: the text of a label and the box beside it, the list that
// appeared under a box one just clicked, the floating window around a title. Each
// engine takes a JSON body (`ob-field={"label": "Permissions"}`) and returns elements,
// so the result is an ordinary Playwright locator (counted, filtered, clicked).
// They run in the page's main world, where Playwright also evaluates a locator's
// script (an isolated-world engine would keep a second, empty snapshot there).
//
// Text matching everywhere: the rendered text (innerText, so hidden tooltips do not
// count), whitespace collapsed, case ignored; "/re/flags" is a regular expression.
const OB = (() => {
  const norm = (s) => (s || "").replace(/\s+/g, " ").trim();

  // test(renderedText); pre(textContent) is a cheap first look that never says no wrongly:
  // it asks whether the words are in the raw text, spaces and case aside (the rendered text
  // is the raw text with its spaces changed, some of it hidden, some of it upper-cased).
  const squash = (raw) => raw.replace(/\s+/g, "").toLowerCase();
  function matcher(spec) {
    const m = /^\/(.*)\/([a-z]*)$/s.exec(spec || "");
    if (m) {
      const re = new RegExp(m[1], m[2]);
      const words = literals(m[1]);
      return {
        test: (t) => re.test(t),
        pre: words ? (raw) => { const r = squash(raw); return words.some((w) => r.includes(w)); } : () => true,
      };
    }
    const want = norm(spec).toLowerCase();
    const bare = want.replace(/ /g, "");
    return { test: (t) => t.toLowerCase() === want, pre: (raw) => squash(raw).includes(bare) };
  }

  // The words every match of a pattern holds, one string per alternative (squashed, as `pre`
  // compares): for a pattern of plain words, spaces (\s, +, *) and anchors, with `|` between
  // alternatives; null for any other pattern (no first look: each element is tested). A
  // dialog's title as a pattern (`/^Verify with /i`), looked for while the codes are entered,
  // walked every text of the page on every look before.
  function literals(src) {
    const out = [""];
    for (let i = 0; i < src.length; i++) {
      const c = src[i], next = src[i + 1] || "";
      if (c === "|") out.push("");
      else if ((c === "^" && (i === 0 || src[i - 1] === "|")) || (c === "$" && (next === "" || next === "|"))) continue;
      else if (c === "\\" && next === "s") i += /[+*]/.test(src[i + 2] || "") ? 2 : 1;
      else if (c === "\\" && /[^\w\s]/.test(next)) { out[out.length - 1] += next; i++; }
      else if (/\s/.test(c)) { if (/[+*]/.test(next)) i++; }
      else if (c === "\\" || /[.()[\]{}?*+^$]/.test(c) || /[?*+{]/.test(next)) return null;
      else out[out.length - 1] += c;
    }
    return out.every((w) => w) ? out.map((w) => w.toLowerCase()) : null;
  }

  // The element's own words, without its children's (a label with a "(?)" icon in it).
  const ownText = (e) =>
    norm([...e.childNodes].filter((n) => n.nodeType === 3).map((n) => n.nodeValue).join(" "));

  function visible(e) {
    if (!e || !e.isConnected) return false;
    const r = e.getBoundingClientRect();
    if (r.width <= 0 || r.height <= 0) return false;
    return e.checkVisibility ? e.checkVisibility({ visibilityProperty: true }) : true;
  }

  const ours = (e) => !!(e.closest && e.closest("onboard-overlay"));

  // The deepest visible elements whose rendered text matches: a text split over several
  // elements ("API key <b>name</b>") is found at the element that holds all of it.
  // A word written in its own inline element inside a longer phrase ("account" of "Main
  // account", split into one element per word) is not that word on its own.
  function inPhrase(e) {
    const own = norm(e.innerText).toLowerCase();
    if (!/^(inline|contents)$/.test(getComputedStyle(e).display)) return false;
    const rest = pieces(boxOf(e.firstChild || e)).map((p) => p.toLowerCase()).find((p) => p.includes(own));
    return !!rest && /[\p{L}\p{N}]/u.test(rest.replace(own, ""));
  }

  function byText(root, spec) {
    const { test, pre } = matcher(spec);
    const out = new Set();
    const scope = root.nodeType === 9 ? root.body || root.documentElement : root;
    // Words nowhere in the scope's text: no element to look for (most looks are for what
    // is not there yet, an error or a dialog: one string test, not a walk of every text).
    if (!scope || !pre(scope.textContent)) return [];
    const walk = document.createTreeWalker(scope, NodeFilter.SHOW_TEXT);
    const seen = new Set();
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      if (!n.nodeValue.trim()) continue;
      let e = n.parentElement;
      for (let up = 0; e && up < 4; up++, e = e.parentElement) {
        if (seen.has(e)) break;
        seen.add(e);
        const raw = e.textContent;
        if (raw.length > 400) break;
        if (pre(raw) && (test(norm(e.innerText)) || test(ownText(e))) && visible(e) && !ours(e)) {
          if (!inPhrase(e)) out.add(e);
          break;
        }
        if (!scope.contains(e.parentElement) || e === scope) break;
      }
    }
    // Keep the deepest: drop any match that contains another match.
    const all = [...out];
    return all.filter((e) => !all.some((o) => o !== e && e.contains(o)));
  }

  const TEXT_INPUT = /^(text|search|email|tel|url|password|number|)$/;
  function isEditable(e) {
    if (e.matches("textarea, [contenteditable=''], [contenteditable='true']")) return true;
    if (e.matches("input")) return TEXT_INPUT.test((e.getAttribute("type") || "").toLowerCase());
    return ["textbox", "searchbox"].includes(e.getAttribute("role"));
  }

  const cursor = (e) => (e ? getComputedStyle(e).cursor : "");
  const CLICKY = new Set(["pointer", "not-allowed"]);
  // Something one can act on: a form control, an element that says it is one, or the
  // outermost element under a hand (or "not allowed") cursor — the look of a control.
  function isControl(e) {
    if (e.matches("input:not([type=hidden]), textarea, select, button, [contenteditable='true']"))
      return true;
    const role = e.getAttribute("role");
    if (role && /^(button|combobox|listbox|textbox|searchbox|checkbox|radio|switch|spinbutton)$/.test(role))
      return true;
    const ti = e.getAttribute("tabindex");
    if (ti !== null && !ti.startsWith("-")) return true;
    const c = cursor(e);
    return CLICKY.has(c) && cursor(e.parentElement) !== c;
  }

  const SHOWN = "input:not([type=hidden]), textarea, select, img, svg, canvas";
  function hasContent(e) {
    if (!visible(e)) return false;
    if (e.matches(SHOWN) || norm(e.innerText)) return true;
    if ([...e.querySelectorAll(SHOWN)].some(visible)) return true;
    const s = getComputedStyle(e);
    const bg = s.backgroundColor;
    return (bg && bg !== "transparent" && !/rgba\(.*,\s*0\)$/.test(bg)) || parseFloat(s.borderTopWidth) > 0;
  }

  const FORM_CONTROL =
    "input:not([type=hidden]), textarea, select, button, [role=checkbox], [role=radio], [role=switch], [role=combobox]";
  // The label's own line: it and the ancestors no taller than it (a "(?)" icon beside it).
  function rowOf(label) {
    const h = label.getBoundingClientRect().height;
    let row = label;
    for (let up = 0; up < 3; up++) {
      const p = row.parentElement;
      if (!p || p === document.body) break;
      if (p.getBoundingClientRect().height > h * 1.6 + 4) break;
      // Not past a control of its own: a row of ticks no taller than the label (checkboxes
      // side by side) is the field, not part of the label's line.
      if ([...p.querySelectorAll("*")].some((x) => !label.contains(x) && x !== label && (isEditable(x) || x.matches(FORM_CONTROL))))
        break;
      row = p;
    }
    return row;
  }

  const descendants = (e) => [e, ...e.querySelectorAll("*")];

  // The control of a form field, found from its visible label, as a person finds it:
  // the label's own control (a label wrapping its input, a checkbox beside its text, a
  // pill "Account: Main account" one clicks), else the box next to the label's line in
  // the nearest ancestor that shows anything besides it (form item, or the form itself
  // when labels and controls are siblings): the box after it, or, when the label comes
  // last, the one just before it.
  const TICK = "input[type=checkbox], input[type=radio], [role=checkbox], [role=radio], [role=switch]";
  function controlFor(label, editable, tick) {
    const inside = descendants(label).filter((x) => x !== label && visible(x));
    if (tick) {
      // A checkbox or radio: the one beside the words. Climbing from the label, the first
      // ancestor holding any: its only one, else (ticks in a row) the one just before the
      // words, or just after when none comes before.
      const lh = label.getBoundingClientRect().height;
      let a = label;
      for (let up = 0; a && up < 4; up++, a = a.parentElement) {
        if (up && a.getBoundingClientRect().height > lh * 3 + 10) break;
        const ts = descendants(a).filter((x) => x.matches(TICK) && visible(x));
        if (!ts.length) {
          // The box just before the words (or just after), as a sibling of their element.
          for (const b of [a.previousElementSibling, a.nextElementSibling]) {
            if (!b || b.getBoundingClientRect().height > lh * 3 + 10) continue; // a box, not a block
            const t = descendants(b).find((x) => x.matches(TICK) && visible(x));
            if (t) return t;
          }
          continue;
        }
        if (ts.length === 1) return ts[0];
        const pos = (x) => label.compareDocumentPosition(x);
        const before = ts.filter((x) => pos(x) & Node.DOCUMENT_POSITION_PRECEDING);
        return before.length ? before[before.length - 1] : ts[0];
      }
      return null;
    }
    if (editable) {
      const own = inside.find(isEditable);
      if (own) return own;
    } else {
      const own = inside.find((x) => x.matches("input:not([type=hidden]), textarea, select"));
      if (own) return own;
      const lh = label.getBoundingClientRect().height;
      let a = label;
      for (let up = 0; a && up < 3; up++, a = a.parentElement) {
        if (a.getBoundingClientRect().height > lh * 3 + 10) break;
        if (isControl(a) && norm(a.innerText).length > norm(label.innerText).length) return a;
      }
    }
    const row = rowOf(label);
    // A block on the label's own line with nothing to type in or read (a "(?)" icon beside
    // words wrapped deeper than rowOf climbs) is part of the label, not the field after it.
    // A small box on that line holding a field or a value is still the field.
    const lr = label.getBoundingClientRect();
    const onLine = (b) => {
      const r = b.getBoundingClientRect();
      if (r.height > lr.height * 1.6 + 4 || r.top >= lr.bottom || r.bottom <= lr.top) return false;
      return editable ? !descendants(b).some((x) => isEditable(x) && visible(x)) : !norm(b.innerText);
    };
    const pick = (block) =>
      editable
        ? descendants(block).find((x) => isEditable(x) && visible(x)) || null
        : descendants(block).find((x) => visible(x) && isControl(x)) || block;
    let branch = row;
    for (let a = row.parentElement; a && a !== document.documentElement; branch = a, a = a.parentElement) {
      const kids = [...a.children].filter((k) => !ours(k));
      const at = kids.indexOf(branch);
      const after = kids.slice(at + 1).filter((k) => hasContent(k) && !onLine(k));
      const before = kids.slice(0, at).filter((k) => hasContent(k) && !onLine(k));
      if (!after.length && !before.length) continue;
      if (!after.length) return pick(before[before.length - 1]);
      if (!editable) return pick(after[0]);
      for (const block of after.slice(0, 3)) {
        const f = pick(block);
        if (f) return f;
      }
      return null;
    }
    return null;
  }

  // What a control shows, piece by piece (each text and each field value, as a person
  // reads a select's value or its tags): its own, else that of the nearest ancestor that
  // shows something (a value box around an empty input) — never past the label's line,
  // whose words are left out.
  // Texts drawn side by side in one line of one box, closer than about half a letter, are one
  // piece: a word a page writes in several inline elements ("Main a" + "ccount") reads as
  // one, words split apart read as one phrase, while two tags or two flex items stay two.
  function boxOf(t) {
    let a = t.parentElement;
    while (a && a.parentElement && /^(inline|contents)$/.test(getComputedStyle(a).display)) a = a.parentElement;
    return a;
  }
  function pieces(e, skip) {
    const out = [];
    let last = null; // the previous text's box, while it may continue
    let owner = null; // the box the previous text is laid out in
    let spaced = false; // the previous text ended in whitespace
    const walk = document.createTreeWalker(e, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
    for (let n = walk.currentNode; n; n = walk.nextNode()) {
      if (n.nodeType === 3) {
        const t = norm(n.nodeValue);
        if (skip && skip.some((l) => l.contains(n))) {
          last = null; // a label's words: never part of what the control shows
          continue;
        }
        if (!t) spaced = spaced || n.nodeValue.length > 0; // a space written on its own
        if (!t || !n.parentElement || !visible(n.parentElement) || ours(n.parentElement)) continue;
        const range = document.createRange();
        range.selectNodeContents(n);
        const rs = [...range.getClientRects()].filter((r) => r.width > 0);
        const first = rs[0], end = rs[rs.length - 1];
        const em = parseFloat(getComputedStyle(n.parentElement).fontSize) || 14;
        const gap = last && first ? first.left - last.right : Infinity;
        const here = boxOf(n);
        const sameLine = last && first && here === owner && first.top < last.bottom && first.bottom > last.top;
        owner = here;
        if (sameLine && gap > -1 && gap < em * 0.5) {
          const sep = gap > 1 || spaced || /^\s/.test(n.nodeValue) ? " " : "";
          out[out.length - 1] += sep + t;
        } else out.push(t);
        last = end || null;
        spaced = /\s$/.test(n.nodeValue);
      } else if (n.matches("input:not([type=password]):not([type=hidden]), textarea") && visible(n)) {
        if (norm(n.value)) out.push(norm(n.value));
        last = null;
      }
    }
    return out;
  }
  function shown(el, labelSpec) {
    const test = labelSpec ? matcher(labelSpec).test : null;
    let e = el;
    for (let up = 0; e && up < 5; up++, e = e.parentElement) {
      const labels = labelSpec ? byText(e, labelSpec) : [];
      const got = pieces(e, labels).filter((p) => !(test && test(p)));
      // Reaching the label's own line ends the climb: an empty box shows nothing.
      if (got.length || labels.length) return got;
    }
    return [];
  }

  // The floating window around a title: role=dialog when the page says so, else the
  // nearest ancestor with its own background inside a fixed layer (the dimmed overlay).
  function windowOf(title) {
    const explicit = title.closest("[role=dialog], [role=alertdialog], [aria-modal=true]");
    if (explicit) return explicit;
    const chain = [];
    for (let e = title; e && e !== document.body; e = e.parentElement) chain.push(e);
    const fixedAt = chain.findIndex((e) => getComputedStyle(e).position === "fixed");
    if (fixedAt < 0) return null;
    for (let i = 0; i <= fixedAt; i++) {
      const e = chain[i];
      if (e === title) continue;
      const s = getComputedStyle(e);
      const bg = s.backgroundColor;
      const solid = bg && bg !== "transparent" && !/rgba\(.*,\s*0(\.0+)?\)$/.test(bg);
      const r = e.getBoundingClientRect();
      const small = r.width < window.innerWidth * 0.95 || r.height < window.innerHeight * 0.95;
      if (solid && small) return e;
    }
    return chain[fixedAt];
  }

  // The state a select is in before it opens: what was visible, and where its box is.
  // An option is what became visible after the click and lies outside the box.
  // (Kept on the window, read at query time: each engine is its own closure.)
  function snap(root) {
    const seen = new WeakSet();
    for (const e of document.body.querySelectorAll("*")) if (visible(e)) seen.add(e);
    const r = root.getBoundingClientRect();
    window.__onboardSnap = {
      seen,
      rect: { top: r.top + scrollY, bottom: r.bottom + scrollY, left: r.left + scrollX, right: r.right + scrollX },
    };
    return [];
  }

  function positioned(e) {
    for (let a = e; a && a !== document.body; a = a.parentElement) {
      const p = getComputedStyle(a).position;
      if (p === "absolute" || p === "fixed") return true;
    }
    return false;
  }

  // What appeared since the snap and lies outside the box (not the box's own tags).
  function fresh(found) {
    const snapped = window.__onboardSnap || {};
    const r = snapped.rect;
    if (snapped.seen) found = found.filter((e) => !snapped.seen.has(e));
    if (r) {
      found = found.filter((e) => {
        const b = e.getBoundingClientRect();
        const cy = (b.top + b.bottom) / 2 + scrollY;
        return cy < r.top || cy > r.bottom; // the list, not the box's own tags
      });
    }
    return found;
  }

  // Where a list opens: floating (absolute or fixed), or in the flow under or over the box,
  // overlapping it sideways (not, say, a tile elsewhere on the page just redrawn).
  function nearBox(e) {
    const r = (window.__onboardSnap || {}).rect;
    if (!r) return true;
    const b = e.getBoundingClientRect();
    const left = b.left + scrollX, right = b.right + scrollX, top = b.top + scrollY;
    return right > r.left && left < r.right && Math.abs(top - r.bottom) < 600;
  }

  function popup(root, spec) {
    const found = fresh(byText(root.nodeType === 9 ? document : root, spec));
    // A list floats; one that does not is taken only where a list opens.
    const floating = found.filter(positioned);
    if (floating.length || !(window.__onboardSnap || {}).rect) return floating.length ? floating : found;
    return found.filter(nearBox);
  }

  // Every visible element of the list that opened (for a role or css option candidate, which
  // must not match the box's own tags, even when a page gives those role=option too).
  function freshAll(root) {
    // What was visible at the snap is no option: not measured (the page's every element was).
    const { seen } = window.__onboardSnap || {};
    const all = [...(root.nodeType === 9 ? document.body : root).querySelectorAll("*")];
    const unseen = seen ? all.filter((e) => !seen.has(e)) : all;
    return fresh(unseen.filter(visible)).filter((e) => positioned(e) || nearBox(e));
  }

  // -- chips (an IP allowlist's entered addresses) -------------------------------
  const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
  function isIp(t) {
    if (IPV4.test(t)) return true;
    if (t.indexOf(":") < 0 || /[^0-9a-f:.]/i.test(t)) return false;
    try {
      new URL("http://[" + t + "]/");
      return true;
    } catch (e) {
      return false;
    }
  }
  // The one address a text holds when the rest is only a close glyph or spacing
  // ("1.2.3.4 ×", "2001:db8::7 x"), else null.
  function ipOf(text) {
    const toks = norm(text).match(/[0-9A-Fa-f:.]+/g) || [];
    const ips = toks.filter(isIp);
    if (ips.length !== 1) return null;
    const rest = norm(text).replace(ips[0], "").replace(/[\s\u00d7\u2715\u2716\u2573xX\u2a2f\u00b7|,;]/g, "");
    return /[\p{L}\p{N}]/u.test(rest) ? null : ips[0];
  }
  // Chips under root: the outermost element around each address that shows nothing but it
  // (and its close control); with close, that chip's close control (none when absent).
  function chips(root, close) {
    const out = [];
    const texts = [...root.querySelectorAll("*")].filter(
      (e) => !e.matches("input, textarea") && visible(e) && ipOf(e.innerText)
    );
    const deepest = texts.filter((e) => !texts.some((o) => o !== e && e.contains(o)));
    for (const t of deepest) {
      const ip = ipOf(t.innerText);
      let chip = t;
      while (chip.parentElement && chip.parentElement !== root && ipOf(chip.parentElement.innerText) === ip) {
        if (chip.parentElement.querySelector("input, textarea")) break;
        chip = chip.parentElement;
      }
      if (!close) {
        out.push(chip);
        continue;
      }
      // Its other parts: what does not hold the address (an icon, a glyph in its own element).
      const parts = descendants(chip).filter(
        (x) => x !== chip && !x.contains(t) && !norm(x.innerText).includes(ip) && visible(x)
      );
      const ctl = parts.find(isControl) || parts.filter((x) => !parts.some((o) => o !== x && o.contains(x))).pop();
      if (ctl) out.push(ctl);
    }
    return out;
  }
  // The field's area: the nearest ancestor of a control that also holds its label's text.
  function area(el, labelSpec) {
    let a = el.parentElement;
    for (let up = 0; a && a !== document.body && up < 8; up++, a = a.parentElement) {
      if (byText(a, labelSpec).length) return a;
    }
    return null;
  }

  // Checkboxes (and radios) in an area, each with the words beside it: a permission list
  // drawn as ticks. [{text, checked, disabled}] in page order.
  function ticks(area) {
    return [...area.querySelectorAll(TICK)].filter(visible).map((t) => {
      let words = "";
      const lab = t.closest("label");
      if (lab) words = norm(lab.innerText);
      for (let a = t.parentElement, up = 0; !words && a && a !== area && up < 3; up++, a = a.parentElement) {
        words = norm(a.innerText);
        if (!words && a.nextElementSibling) words = norm(a.nextElementSibling.innerText);
      }
      const on = t.matches("input") ? t.checked : t.getAttribute("aria-checked") === "true";
      return { text: words, checked: on, disabled: t.matches(":disabled") };
    });
  }

  const parse = (body) => {
    try {
      return JSON.parse(body);
    } catch (e) {
      return { text: body };
    }
  };

  return {
    engines: {
      "ob-field": {
        queryAll(root, body) {
          const a = parse(body);
          const out = new Set();
          for (const l of byText(root.nodeType === 9 ? document : root, a.label)) {
            const c = controlFor(l, !!a.editable, !!a.tick);
            if (c && visible(c)) out.add(c);
          }
          return [...out];
        },
      },
      "ob-popup": { queryAll: (root, body) => popup(root, parse(body).text) },
      "ob-fresh": { queryAll: (root) => freshAll(root) },
      "ob-chips": { queryAll: (root, body) => chips(root.nodeType === 9 ? document.body : root, !!parse(body).close) },
      "ob-area": {
        queryAll(root, body) {
          const a = root.nodeType === 9 ? null : area(root, parse(body).label);
          return a ? [a] : [];
        },
      },
      "ob-snap": { queryAll: (root) => snap(root.nodeType === 9 ? document.body : root) },
      // The element itself: a look ending in it runs in the page's main world, where the
      // agent's own calls run, so a document whose every look is the agent's never builds
      // Playwright's second (utility) world (agent/engine/locate.py, Resolver.union).
      "ob-self": { queryAll: (root) => (root.nodeType === 1 ? [root] : []) },
      // The document's root while the agent's last guarded click (agent/engine/press.py's
      // guard) has landed, or no guard is left (a new document: the click led on). A wait for
      // a click's effect made inside it sees the effect only when the click landed, so the
      // guard needs no read of its own then (agent/engine/pressing.py, waited).
      "ob-landed": {
        queryAll(root) {
          const g = window.__obGuard;
          return root.nodeType === 9 && (!g || g.state === "passed") ? [document.documentElement] : [];
        },
      },
      // Which of a look's candidates an element matched: each candidate's locator ends in
      // `ob-tag={"n": call, "i": its index}`, which passes the element through and notes the
      // index, so one call over all the candidates (their union) counts each of them
      // (agent/engine/locate.py, Resolver.one). The notes hold for one call: `n` changes.
      "ob-tag": {
        queryAll(root, body) {
          if (root.nodeType !== 1) return [];
          const a = parse(body);
          let t = window.__obTag;
          if (!t || t.n !== a.n) t = window.__obTag = { n: a.n, m: new WeakMap() };
          const seen = t.m.get(root) || [];
          if (!seen.includes(a.i)) seen.push(a.i);
          t.m.set(root, seen);
          return [root];
        },
      },
      "ob-dialog": {
        queryAll(root, body) {
          const out = new Set();
          for (const t of byText(document, parse(body).title)) {
            const w = windowOf(t);
            if (w && visible(w) && (root.nodeType === 9 || root.contains(w))) out.add(w);
          }
          return [...out];
        },
      },
    },
    shown,
    ipOf,
    ticks,
  };
})();
