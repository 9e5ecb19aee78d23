"""The page as a person saw it, serialized in the page without touching it: input values,
checked states and open dialogs written into attributes, stylesheets inlined, scripts and
the agent's own overlay dropped, QR-like images replaced by a grey box (they may encode a
secret). Taken in memory; only `Recorder.write` puts anything on disk, redacted."""

from __future__ import annotations

from agent.artifacts import COVER_ATTR

# Runs in the page: a serialized copy of the DOM as displayed, without touching the page.
SNAPSHOT_JS = r"""
(opts) => {
  const liveRoot = document.documentElement;
  const live = [liveRoot, ...liveRoot.querySelectorAll('*')];
  const root = liveRoot.cloneNode(true);
  const copy = [root, ...root.querySelectorAll('*')];
  const notes = [];
  if (live.length !== copy.length) notes.push('clone differs from the page');
  const drop = [];
  const qrLike = (el) => {
    const tag = el.tagName.toLowerCase();
    if (!['svg', 'img', 'canvas'].includes(tag)) return false;
    const hint = ((el.getAttribute('class') || '') + ' ' + (el.getAttribute('alt') || '') + ' ' +
      (el.getAttribute('aria-label') || '') + ' ' + (el.id || '') + ' ' +
      ((el.parentElement && el.parentElement.getAttribute('class')) || '')).toLowerCase();
    if (/(^|[^a-z])qr/.test(hint)) return true;
    const r = el.getBoundingClientRect();
    if (r.width < 64 || Math.abs(r.width - r.height) > 8) return false;
    if (tag === 'canvas') return true;
    if (tag === 'img') return (el.getAttribute('src') || '').startsWith('data:') || /qr/i.test(el.src);
    const shapes = el.querySelectorAll('rect, path, use').length;
    let dlen = 0;
    for (const p of el.querySelectorAll('path')) dlen += (p.getAttribute('d') || '').length;
    return shapes >= 20 || dlen > 600;
  };
  const sheetText = (sheet) => {
    try { return Array.from(sheet.cssRules).map((r) => r.cssText).join('\n'); }
    catch (e) { return null; }
  };
  for (let i = 0; i < live.length && i < copy.length; i++) {
    const l = live[i], c = copy[i];
    const tag = l.tagName.toLowerCase();
    if (tag === 'onboard-overlay' || tag === 'script' || tag === 'noscript' || tag === 'base'
        || l.hasAttribute('COVER_ATTR')) {  // a screenshot's cover (agent/artifacts.py)
      drop.push(c); continue;
    }
    for (const a of Array.from(c.attributes)) {
      if (/^on/i.test(a.name)) c.removeAttribute(a.name);
      else if (/^\s*javascript:/i.test(a.value)) c.setAttribute(a.name, '#');
    }
    if (tag === 'link') {
      const rel = (l.getAttribute('rel') || '').toLowerCase();
      if (rel.includes('stylesheet') && l.sheet) {
        const text = sheetText(l.sheet);
        if (text === null) { notes.push('cross-origin stylesheet not inlined: ' + l.href); drop.push(c); continue; }
        const st = document.createElement('style');
        st.setAttribute('data-onboard-inlined', l.getAttribute('href') || '');
        st.textContent = text;
        c.replaceWith(st);
      } else drop.push(c);
      continue;
    }
    if (tag === 'style' && l.sheet) {
      const text = sheetText(l.sheet);
      if (text !== null) c.textContent = text;
      continue;
    }
    if (tag === 'iframe' || tag === 'frame') { c.removeAttribute('src'); c.removeAttribute('srcdoc'); }
    if (qrLike(l)) {
      const r = l.getBoundingClientRect();
      const box = document.createElement('div');
      box.setAttribute('data-onboard-redacted', 'qr');
      box.setAttribute('style', `display:inline-block;width:${Math.round(r.width)}px;height:${Math.round(r.height)}px;` +
        'background:#e6e6e6;border:1px dashed #888');
      c.replaceWith(box);
      continue;
    }
    if (tag === 'input') {
      const type = (l.getAttribute('type') || 'text').toLowerCase();
      if (type === 'checkbox' || type === 'radio') {
        if (l.checked) c.setAttribute('checked', ''); else c.removeAttribute('checked');
      } else if (type === 'password') {
        c.setAttribute('value', l.value ? opts.passphrase : '');
      } else if ((l.getAttribute('autocomplete') || '') === 'one-time-code') {
        c.setAttribute('value', '');
      } else if (type !== 'file') {
        c.setAttribute('value', l.value);
      }
      if (l.disabled) c.setAttribute('disabled', ''); else c.removeAttribute('disabled');
    } else if (tag === 'textarea') {
      c.textContent = l.value;
    } else if (tag === 'select') {
      const lo = l.options, co = c.options;
      for (let k = 0; k < lo.length && k < co.length; k++) {
        if (lo[k].selected) co[k].setAttribute('selected', ''); else co[k].removeAttribute('selected');
      }
    } else if (tag === 'dialog') {
      if (l.open) c.setAttribute('open', ''); else c.removeAttribute('open');
    } else if (tag === 'details') {
      if (l.open) c.setAttribute('open', ''); else c.removeAttribute('open');
    }
    if (l.shadowRoot) notes.push('shadow root not captured under <' + tag + '>');
  }
  for (const d of drop) d.remove();
  const head = root.querySelector('head');
  for (const sheet of (document.adoptedStyleSheets || [])) {
    const text = sheetText(sheet);
    if (text !== null && head) {
      const st = document.createElement('style');
      st.setAttribute('data-onboard-inlined', 'adopted');
      st.textContent = text;
      head.appendChild(st);
    }
  }
  return {
    html: '<!DOCTYPE html>\n' + root.outerHTML,
    title: document.title,
    url: location.href,
    locale: document.documentElement.lang || navigator.language || '',
    viewport: {width: innerWidth, height: innerHeight},
    notes,
  };
}
""".replace("COVER_ATTR", COVER_ATTR)
