/* Shared helpers of the OKX replica pages: hashed class names, DOM builder, the
 * /priapi fetch wrapper (401 -> login with forward), toasts, translations, and the
 * okui widgets (select + popup at the end of <body>, dialog at the end of <body>).
 *
 * DOM modes (window.__dom): "known" writes no role and no aria-* attribute at all
 * (okx.com's public markup shows none); "aria" writes them; "covered" lays a
 * transparent layer over every select box; "prefixed" is done by the server,
 * which rewrites every okui- class token in what it serves.
 *
 * Page mutations (window.__mut, kind -> parameters; see replica/mutations.py) are applied
 * here where the DOM is built: text (case, spacing, split, wrappers), buttons as divs,
 * where a select's list goes and when it fills, layers over selects, ARIA stripped or
 * wrong, decoys. With no mutation every builder writes exactly what it wrote before. */
(function () {
  "use strict";
  var HM = window.__h || {};
  var DOM = window.__dom || "known";
  var ARIA = DOM === "aria";
  var STRINGS = window.__t || {};
  var MUT = window.__mut || {};
  function H(name) { return HM[name] || name; }

  // -- page mutations ---------------------------------------------------------
  function mut(kind) { return MUT[kind] || null; }
  function mutHas(kind, key, value) { var m = MUT[kind]; return !!m && (m[key] || []).indexOf(value) >= 0; }
  var WRONG = (mut("aria-wrong") || {}).bugs || [];
  function wrong(bug) { return WRONG.indexOf(bug) >= 0; }
  /* Which ARIA group an attribute belongs to (aria-strip drops whole groups; the Jinja
   * helper in app.py uses the same grouping, replica/mutations.py aria_group). */
  function ariaGroup(name, value) {
    if (name === "role") {
      if (/^(option|listbox|combobox)$/.test(value)) return "widgets";
      if (/^(dialog|alertdialog)$/.test(value)) return "dialogs";
      if (/^(alert|status|tooltip|region)$/.test(value)) return "alerts";
      return "other";
    }
    if (/^aria-(haspopup|expanded|multiselectable)$/.test(name)) return "widgets";
    if (/^aria-(modal|labelledby)$/.test(name)) return "dialogs";
    if (/^aria-(selected|checked|disabled|current)$/.test(name)) return "states";
    if (/^aria-(label|describedby)$/.test(name)) return "names";
    return "other";
  }
  /* A role/aria-* attribute written whatever the DOM mode: ARIA added wrongly (aria-wrong). */
  function rawAttr(node, name, value) { node.setAttribute(name, value === true ? "" : value); }
  function hash(text) {  // FNV-1a: a short hashed class name, noise like a CSS module's
    var h = 2166136261;
    for (var i = 0; i < text.length; i++) { h ^= text.charCodeAt(i); h = Math.imul(h, 16777619); }
    return (h >>> 0).toString(16).slice(0, 5);
  }
  /* `depth` wrapper elements around node (wrappers mutation), else node itself. */
  function wrapIn(node, what, tag) {
    var w = mut("wrappers");
    if (!w || w.targets.indexOf(what) < 0) return node;
    for (var i = w.depth - 1; i >= 0; i--) {
      var outer = document.createElement(tag || "div");
      outer.className = "index_wrap-" + what + "-" + i + "__" + hash((MUT._salt || "") + what + i);
      outer.appendChild(node);
      node = outer;
    }
    return node;
  }
  function caseOf(s, c) {
    if (c === "upper") return s.toUpperCase();
    if (c === "lower") return s.toLowerCase();
    if (c === "title") return s.split(" ").map(function (w) { return w.charAt(0).toUpperCase() + w.slice(1).toLowerCase(); }).join(" ");
    return s;
  }
  function spaced(s, sp) {
    if (sp === "double") return s.split(" ").join("  ");
    if (sp === "newline") return s.replace(" ", "\n");
    if (sp === "nbsp") return s.split(" ").join("\u00a0");
    if (sp === "pad") return "  " + s + "\n ";
    return s;
  }
  function splitParts(s, how) {
    if (how === "words") return s.split(/(\s+)/).filter(Boolean);
    if (how === "first-letter") return s.length > 1 ? [s.slice(0, 1), s.slice(1)] : [s];
    var core = s.trim(), lead = s.slice(0, s.length - s.replace(/^\s+/, "").length);
    var trail = s.slice(lead.length + core.length), mid = Math.floor(core.length / 2);
    return [lead + core.slice(0, mid), core.slice(mid) + trail].filter(Boolean);
  }
  /* A text as the page writes it for `target` (labels, buttons, titles, options): a text
   * node, or with label-case / split-text / wrappers, the mutated nodes. */
  function txt(s, target) {
    s = String(s);
    var lc = mut("label-case"), st = mut("split-text");
    if (lc && lc.targets.indexOf(target) >= 0) s = spaced(caseOf(s, lc["case"]), lc.space);
    var node;
    if (st && st.targets.indexOf(target) >= 0) {
      // One inline box around the pieces: in a flex label or button they stay one item.
      node = document.createElement("span");
      splitParts(s, st.how).forEach(function (p) { var sp = document.createElement("span"); sp.textContent = p; node.appendChild(sp); });
    } else node = document.createTextNode(s);
    return mutHas("wrappers", "targets", target) ? wrapIn(node, target, "span") : node;
  }
  /* How a decoy is hidden from a person (replica/mutations.py HIDE_CSS). */
  var HIDE = {
    display: "display:none", visibility: "visibility:hidden",
    offscreen: "position:absolute;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden",
    "sr-only": "position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0",
    "zero-size": "display:block;width:0;height:0;padding:0;border:0;overflow:hidden",
    opacity: "opacity:0;position:absolute;pointer-events:none"
  };
  function decoy(item) { return mutHas("decoys", "items", item) ? mut("decoys") : null; }
  /* A decoy control was clicked: reported to the replica (ground truth), nothing else. */
  function decoyClicked(which) {
    fetch("/replica/decoy", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ which: which }) }).catch(function () {});
  }

  /* The page's text in the page's language; {0}, {1} filled from the arguments. */
  function t(text) {
    var s = Object.prototype.hasOwnProperty.call(STRINGS, text) ? STRINGS[text] : text;
    for (var i = 1; i < arguments.length; i++) s = s.split("{" + (i - 1) + "}").join(String(arguments[i]));
    return s;
  }

  function isAria(name) { return name === "role" || name.slice(0, 5) === "aria-"; }

  /* The one setter for role/aria-* attributes: a no-op unless the page is in aria mode.
   * value null/undefined/false removes the attribute. */
  var STRIP = (mut("aria-strip") || {}).groups || [];
  function attr(node, name, value) {
    if (isAria(name) && !ARIA) return;
    if (isAria(name) && STRIP.length && value !== null && value !== undefined && value !== false &&
        STRIP.indexOf(ariaGroup(name, String(value))) >= 0) return;
    if (value === null || value === undefined || value === false) node.removeAttribute(name);
    else node.setAttribute(name, value === true ? "" : value);
  }

  function el(tag, attrs, children) {
    var n = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === undefined || v === null || v === false) return;
        if (k === "class") n.className = v;
        else if (k === "text") n.textContent = v;
        else if (k === "html") n.innerHTML = v;
        else if (k.slice(0, 2) === "on") n.addEventListener(k.slice(2), v);
        else attr(n, k, v);
      });
    }
    (children || []).forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      n.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return n;
  }
  function icon(name) {
    var span = document.createElement("span");
    span.innerHTML = (window.__icons || {})[name] || "";
    return span.firstElementChild;
  }

  function ApiError(status, msg, field) {
    this.status = status; this.msg = msg; this.field = field || null;
  }

  function toLogin() {
    var here = location.pathname + location.search;
    location.assign("/account/login?forward=" + encodeURIComponent(here));
  }

  /* One fetch wrapper for every /priapi call. opts.auth === false: a 401 is a
   * plain error (login calls); otherwise a 401 means the session ended. */
  function api(method, url, body, opts) {
    opts = opts || {};
    var init = { method: method, credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (j) {
        if (resp.status === 401 && opts.auth !== false) {
          toLogin();
          return new Promise(function () {}); // the page is leaving
        }
        if (!resp.ok || (j && j.code && j.code !== "0")) {
          throw new ApiError(resp.status, (j && j.msg) || t("System error. Please try again later."), j && j.field);
        }
        return j.data;
      });
    }, function () {
      throw new ApiError(0, t("Network error. Please try again later."), null);
    });
  }

  function toast(msg, kind) {
    var box = document.querySelector("." + H("toasts"));
    if (!box) { box = el("div", { class: H("toasts") }); document.body.appendChild(box); }
    var n = el("div", { class: "okui-toast" + (kind === "error" ? " okui-toast-error" : ""), role: "alert", text: msg });
    box.appendChild(n);
    setTimeout(function () { n.remove(); }, 4000);
    return n;
  }

  // -- okui-select ------------------------------------------------------------
  /* Turns `root` (a div.okui-select from the template, or a new one) into a select:
   *   div.okui-select[.okui-select-multiple][.okui-select-disabled]
   *     > div.okui-select-value-box
   *       > div.okui-input-box.auto-size.okui-select-inner-box
   *           [prefix] + div.value[.placeholder] (single) | tags (multiple) + chevron
   *       [+ div.okui-select-cover: "covered" mode, takes the pointer]
   * Open, the options are div.okui-select-item in a div.okui-popup appended to <body>.
   * cfg: options [{value, label, fixed}], value (array if multiple), multiple, disabled,
   * prefix (text before the value), placeholder, onChange(value), onOpen(). */
  var openSelects = [];
  var portalRoot = null;
  /* popup-place: where an open list goes (default: last in <body>). */
  function mountPopup(root, popup) {
    var where = (mut("popup-place") || {}).where;
    if (where === "inline") { popup.classList.add("okui-popup-inline"); root.appendChild(popup); return; }
    if (where === "portal") {
      if (!portalRoot || !portalRoot.isConnected) {
        portalRoot = el("div", { class: "okui-portal-root", style: "position:absolute;top:0;left:0;width:100%" });
        document.body.appendChild(portalRoot);
      }
      portalRoot.appendChild(popup);
      return;
    }
    if (where === "start") { document.body.insertBefore(popup, document.body.firstChild); return; }
    document.body.appendChild(popup);
  }
  function select(root, cfg) {
    var multiple = !!cfg.multiple;
    var which = cfg.which || "";
    var st = { value: cfg.value, disabled: !!cfg.disabled, popup: null, loading: false };
    var cov = mut("cover"), late = mut("late") || {};
    var coverInside = DOM === "covered" || (!!cov && cov.where === "inside" && cov.targets.indexOf(which) >= 0);
    var coverLayer = null;
    root = root || el("div");
    root.classList.add("okui-select");
    if (multiple) root.classList.add("okui-select-multiple");
    attr(root, "aria-haspopup", "listbox");
    attr(root, "aria-expanded", "false");
    if (ARIA) root.tabIndex = 0;
    var content = el("div", { class: multiple ? "okui-select-tags" : "value" });
    var inner = el("div", { class: "okui-input-box auto-size okui-select-inner-box" }, [
      cfg.prefix ? el("span", { class: cfg.prefixClass || "" }, [txt(cfg.prefix, "labels")]) : null,
      content,
      el("div", { class: "okui-input-suffix okui-select-arrow" }, [icon("chevron")])
    ]);
    var box = el("div", { class: "okui-select-value-box" }, [
      wrapIn(inner, "controls"),
      coverInside ? el("div", { class: "okui-select-cover" }) : null
    ]);
    root.replaceChildren(box);
    if (wrong("swapped-labels") && which) {
      rawAttr(root, "role", "combobox");
      rawAttr(root, "aria-label", which === "perms" ? "Account" : "Permissions");
    }
    if (cov && cov.where === "sibling" && cov.targets.indexOf(which) >= 0) {
      /* A layer beside the select, laid over it: it takes the pointer and opens the list. */
      var host = root.parentElement;
      if (getComputedStyle(host).position === "static") host.style.position = "relative";
      coverLayer = el("div", { class: "okui-select-cover-layer", onclick: function () { root.click(); } });
      host.appendChild(coverLayer);
      var placeLayer = function () {
        coverLayer.style.left = root.offsetLeft + "px"; coverLayer.style.top = root.offsetTop + "px";
        coverLayer.style.width = root.offsetWidth + "px"; coverLayer.style.height = root.offsetHeight + "px";
      };
      placeLayer();
      if (window.ResizeObserver) new ResizeObserver(placeLayer).observe(root);
      window.addEventListener("resize", placeLayer);
    }

    function label(o, target) { return o.raw ? document.createTextNode(o.label) : txt(o.label, target); }
    function optionOf(v) { return cfg.options.filter(function (o) { return o.value === v; })[0]; }
    function isOn(v) { return multiple ? st.value.indexOf(v) >= 0 : st.value === v; }

    function renderValue() {
      if (!multiple) {
        var o = optionOf(st.value);
        content.className = "value" + (o ? "" : " placeholder");
        if (o) content.replaceChildren(label(o, "options"));
        else content.textContent = cfg.placeholder || "";
        return;
      }
      var tags = cfg.options.filter(function (o) { return isOn(o.value); }).map(function (o) {
        var tag;
        if (o.fixed) tag = el("span", { class: "okui-select-selection-item okui-select-selection-item-disabled" }, [label(o, "options")]);
        if (tag) { if (wrong("tags-as-options")) { rawAttr(tag, "role", "option"); rawAttr(tag, "aria-selected", "true"); } return tag; }
        tag = el("span", { class: "okui-select-selection-item" }, [
          el("span", {}, [label(o, "options")]),
          el("span", { class: "okui-select-selection-item-remove", onclick: function (ev) {
            ev.stopPropagation();
            toggle(o);
          } }, [icon("close")])
        ]);
        if (wrong("tags-as-options")) { rawAttr(tag, "role", "option"); rawAttr(tag, "aria-selected", "true"); }
        return tag;
      });
      content.replaceChildren.apply(content, tags);
    }

    function renderItems() {
      if (!st.popup || st.loading) return;
      var items = cfg.options.map(function (o) {
        var on = isOn(o.value);
        var item = el("div", {
          class: "okui-select-item okui-select-item-border-box" + (on ? " okui-select-item-selected" : "") + (o.fixed ? " okui-select-item-disabled" : ""),
          role: "option", "aria-selected": on ? "true" : "false", "aria-disabled": o.fixed ? "true" : null,
          onclick: function (ev) { ev.stopPropagation(); choose(o); }
        }, [label(o, "options"), on ? el("span", { class: "okui-select-item-check" }, [icon("tick")]) : null]);
        if (wrong("tags-as-options") || wrong("hidden-popup") || wrong("stale-selected")) rawAttr(item, "role", "option");
        if (wrong("stale-selected")) rawAttr(item, "aria-selected", "false");
        return item;
      });
      var note = which === "perms" && decoy("withdraw-help");
      if (note && note.help_where === "list-note") {
        items.push(el("div", { class: "okui-select-note", onclick: function (ev) { ev.stopPropagation(); } },
          [el("b", { text: t("Withdraw") }), " " + t("needs the IP allowlist and one more verification.")]));
      }
      st.popup.replaceChildren.apply(st.popup, items);
    }
    /* late: the list opens first and fills a moment later (empty, a spinner or "Loading..."). */
    function renderLoading() {
      var how = late.loading;
      var shown = how === "text" ? [el("div", { class: "okui-select-loading", text: t("Loading...") })]
        : how === "spinner" ? [el("div", { class: "okui-select-loading" }, [icon("chevron")])] : [];
      st.popup.replaceChildren.apply(st.popup, shown);
    }

    function place() {
      if (!st.popup) return;
      if (st.popup.parentNode === root) return;  // inline: placed by its class
      var r = root.getBoundingClientRect();
      st.popup.style.left = (r.left + window.scrollX) + "px";
      st.popup.style.top = (r.bottom + window.scrollY + 4) + "px";
      st.popup.style.minWidth = r.width + "px";
    }

    function toggle(o) {
      if (o.fixed || st.disabled) return;
      var v = st.value.slice();
      var i = v.indexOf(o.value);
      if (i >= 0) v.splice(i, 1); else v.push(o.value);
      st.value = cfg.options.map(function (x) { return x.value; }).filter(function (x) { return v.indexOf(x) >= 0; });
      renderValue(); renderItems(); place();
      if (cfg.onChange) cfg.onChange(st.value.slice());
    }

    function choose(o) {
      if (multiple) { toggle(o); return; }
      close();
      if (o.value !== st.value) {
        st.value = o.value;
        renderValue();
        if (cfg.onChange) cfg.onChange(o.value);
      }
    }

    function open() {
      if (st.disabled || st.popup) return;
      if (cfg.onOpen) cfg.onOpen();
      st.popup = el("div", {
        class: "okui-popup select-popup-reference",
        role: "listbox", "aria-multiselectable": multiple ? "true" : null
      });
      if (wrong("stale-selected")) rawAttr(st.popup, "role", "listbox");
      if (wrong("hidden-popup")) rawAttr(st.popup, "aria-hidden", "true");
      mountPopup(root, st.popup);
      if (late.list_ms) {
        var mine = st.popup;
        st.loading = true;
        renderLoading();
        setTimeout(function () {
          if (st.popup !== mine) return;
          st.loading = false;
          renderItems();
          place();
        }, late.list_ms);
      } else renderItems();
      place();
      attr(root, "aria-expanded", "true");
      openSelects.push(api_);
    }

    function close() {
      if (st.popup) { st.popup.remove(); st.popup = null; st.loading = false; }
      attr(root, "aria-expanded", "false");
      openSelects = openSelects.filter(function (s) { return s !== api_; });
    }

    root.addEventListener("click", function () { if (st.popup) close(); else open(); });
    document.addEventListener("mousedown", function (ev) {
      if (coverLayer && coverLayer.contains(ev.target)) return;
      if (st.popup && !root.contains(ev.target) && !st.popup.contains(ev.target)) close();
    });
    window.addEventListener("resize", place);

    var api_ = {
      root: root,
      get: function () { return multiple ? st.value.slice() : st.value; },
      set: function (v) { st.value = multiple ? v.slice() : v; renderValue(); renderItems(); place(); },
      disable: function (d) {
        st.disabled = !!d;
        root.classList.toggle("okui-select-disabled", st.disabled);
        attr(root, "aria-disabled", st.disabled ? "true" : null);
        if (st.disabled) close();
      },
      isOpen: function () { return !!st.popup; },
      open: open,
      close: close
    };
    api_.disable(st.disabled);
    renderValue();
    return api_;
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") openSelects.slice().forEach(function (s) { s.close(); });
  });

  function accountOptions(subs) {
    // A sub-account's name is data, never restyled (raw); "Main account" is the page's text.
    return [{ value: "main", label: t("Main account") }].concat((subs || []).map(function (s) { return { value: s, label: s, raw: true }; }));
  }

  // -- okui-dialog ------------------------------------------------------------
  /* One element at the end of <body>: the dimmed overlay
   *   div.okui-transition-fade.okui-dialog.okui-dialog-float
   *     > div.okui-dialog-window.okui-dialog-window-float
   *       > [div.okui-dialog-top-r (x)] + div.okui-dialog-container (title div + content)
   *         + div.okui-dialog-footer-box > div.okui-dialog-btn-box > buttons
   * cfg: title, titleClass, windowClass, onClose (shows the x), before (nodes above the
   * title), content (nodes), buttons, footerClass, bodyClass (wraps content). */
  var dialogSeq = 0;
  function dialog(cfg) {
    var titleId = ARIA ? "okx-dialog-title-" + (++dialogSeq) : null;
    var title = el("div", { class: "okui-dialog-title" + (cfg.titleClass ? " " + cfg.titleClass : "") }, [txt(cfg.title, "titles")]);
    if (titleId) title.id = titleId;
    var container = el("div", { class: "okui-dialog-container" }, (cfg.before || []).concat([title]).concat(
      cfg.bodyClass ? [el("div", { class: cfg.bodyClass }, cfg.content || [])] : (cfg.content || [])
    ));
    var win = el("div", {
      class: "okui-dialog-window okui-dialog-window-float" + (cfg.windowClass ? " " + cfg.windowClass : ""),
      role: "dialog", "aria-modal": "true", "aria-labelledby": titleId
    }, [
      cfg.onClose ? el("div", { class: "okui-dialog-top-r", onclick: cfg.onClose }, [icon("closeLg")]) : null,
      container,
      el("div", { class: "okui-dialog-footer-box" + (cfg.footerClass ? " " + cfg.footerClass : "") }, [
        el("div", { class: "okui-dialog-btn-box" }, cfg.buttons || [])
      ])
    ]);
    var wrap = el("div", { class: "okui-transition-fade okui-dialog okui-dialog-float" }, [wrapIn(win, "dialogs")]);
    if (wrong("dialog-on-overlay")) { rawAttr(wrap, "role", "dialog"); rawAttr(wrap, "aria-labelledby", "okx-dialog-title-missing"); }
    document.body.appendChild(wrap);
    return wrap;
  }
  /* button-div: this button (attrs.which: create, add, submit, verify, complete, copy,
   * dismiss) is a clickable div. */
  function divButton(which) { return !!which && mutHas("button-div", "targets", which); }
  /* Disabled or not, for a <button> or a div shown as one (class + cursor; its `disabled`
   * property is what the page's own code reads). */
  function disable(n, d) {
    d = !!d;
    n.disabled = d;
    if (n.tagName === "BUTTON") return;
    n.classList.toggle("okui-btn-disabled", d);
    attr(n, "aria-disabled", d ? "true" : null);
  }
  function button(text, kind, attrs) {
    var which = (attrs || {}).which, disabled = (attrs || {}).disabled, div = divButton(which);
    var a = div ? { class: "okui-btn btn-sm " + (kind || "btn-fill-primary"), "data-okx-divbtn": which }
      : { type: "button", class: "okui-btn btn-sm " + (kind || "btn-fill-primary") };
    Object.keys(attrs || {}).forEach(function (k) { if (k !== "which" && k !== "disabled") a[k] = attrs[k]; });
    var n = el(div ? "div" : "button", a, [txt(text, "buttons")]);
    if (disabled || div) disable(n, disabled);
    return n;
  }

  document.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest("[data-okx-logout]");
    if (!a) return;
    ev.preventDefault();
    api("POST", "/priapi/v1/user/logout", {}, { auth: false }).catch(function () {}).then(function () {
      location.assign("/account/login");
    });
  });

  window.OKX = {
    H: H, t: t, el: el, attr: attr, aria: ARIA, dom: DOM, icon: icon, api: api, toast: toast,
    select: select, dialog: dialog, button: button, accountOptions: accountOptions,
    ApiError: ApiError, toLogin: toLogin,
    mut: mut, mutHas: mutHas, txt: txt, wrapIn: wrapIn, divButton: divButton, disable: disable,
    decoy: decoy, decoyClicked: decoyClicked, hide: HIDE
  };
})();
