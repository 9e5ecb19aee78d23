/* Shared helpers of the OKX replica pages: hashed class names, DOM builder, the
 * /priapi fetch wrapper (401 -> login with forward), toasts, translations, and the
 * okui widgets (select + popup at the end of <body>, dialog at the end of <body>).
 *
 * DOM modes (window.__dom): "known" writes no role and no aria-* attribute at all
 * (okx.com's public markup shows none); "aria" writes them; "covered" lays a
 * transparent layer over every select box; "prefixed" is done by the server,
 * which rewrites every okui- class token in what it serves. */
(function () {
  "use strict";
  var HM = window.__h || {};
  var DOM = window.__dom || "known";
  var ARIA = DOM === "aria";
  var STRINGS = window.__t || {};
  function H(name) { return HM[name] || name; }

  /* The page's text in the page's language; {0}, {1} filled from the arguments. */
  function t(text) {
    var s = Object.prototype.hasOwnProperty.call(STRINGS, text) ? STRINGS[text] : text;
    for (var i = 1; i < arguments.length; i++) s = s.split("{" + (i - 1) + "}").join(String(arguments[i]));
    return s;
  }

  function isAria(name) { return name === "role" || name.slice(0, 5) === "aria-"; }

  /* The one setter for role/aria-* attributes: a no-op unless the page is in aria mode.
   * value null/undefined/false removes the attribute. */
  function attr(node, name, value) {
    if (isAria(name) && !ARIA) return;
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
  function select(root, cfg) {
    var multiple = !!cfg.multiple;
    var st = { value: cfg.value, disabled: !!cfg.disabled, popup: null };
    root = root || el("div");
    root.classList.add("okui-select");
    if (multiple) root.classList.add("okui-select-multiple");
    attr(root, "aria-haspopup", "listbox");
    attr(root, "aria-expanded", "false");
    if (ARIA) root.tabIndex = 0;
    var content = el("div", { class: multiple ? "okui-select-tags" : "value" });
    var inner = el("div", { class: "okui-input-box auto-size okui-select-inner-box" }, [
      cfg.prefix ? el("span", { class: cfg.prefixClass || "", text: cfg.prefix }) : null,
      content,
      el("div", { class: "okui-input-suffix okui-select-arrow" }, [icon("chevron")])
    ]);
    var box = el("div", { class: "okui-select-value-box" }, [
      inner,
      DOM === "covered" ? el("div", { class: "okui-select-cover" }) : null
    ]);
    root.replaceChildren(box);

    function optionOf(v) { return cfg.options.filter(function (o) { return o.value === v; })[0]; }
    function isOn(v) { return multiple ? st.value.indexOf(v) >= 0 : st.value === v; }

    function renderValue() {
      if (!multiple) {
        var o = optionOf(st.value);
        content.className = "value" + (o ? "" : " placeholder");
        content.textContent = o ? o.label : (cfg.placeholder || "");
        return;
      }
      var tags = cfg.options.filter(function (o) { return isOn(o.value); }).map(function (o) {
        if (o.fixed) return el("span", { class: "okui-select-selection-item okui-select-selection-item-disabled", text: o.label });
        return el("span", { class: "okui-select-selection-item" }, [
          el("span", { text: o.label }),
          el("span", { class: "okui-select-selection-item-remove", onclick: function (ev) {
            ev.stopPropagation();
            toggle(o);
          } }, [icon("close")])
        ]);
      });
      content.replaceChildren.apply(content, tags);
    }

    function renderItems() {
      if (!st.popup) return;
      var items = cfg.options.map(function (o) {
        var on = isOn(o.value);
        return el("div", {
          class: "okui-select-item okui-select-item-border-box" + (on ? " okui-select-item-selected" : "") + (o.fixed ? " okui-select-item-disabled" : ""),
          role: "option", "aria-selected": on ? "true" : "false", "aria-disabled": o.fixed ? "true" : null,
          onclick: function (ev) { ev.stopPropagation(); choose(o); }
        }, [o.label, on ? el("span", { class: "okui-select-item-check" }, [icon("tick")]) : null]);
      });
      st.popup.replaceChildren.apply(st.popup, items);
    }

    function place() {
      if (!st.popup) return;
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
      document.body.appendChild(st.popup);
      renderItems();
      place();
      attr(root, "aria-expanded", "true");
      openSelects.push(api_);
    }

    function close() {
      if (st.popup) { st.popup.remove(); st.popup = null; }
      attr(root, "aria-expanded", "false");
      openSelects = openSelects.filter(function (s) { return s !== api_; });
    }

    root.addEventListener("click", function () { if (st.popup) close(); else open(); });
    document.addEventListener("mousedown", function (ev) {
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
    return [{ value: "main", label: t("Main account") }].concat((subs || []).map(function (s) { return { value: s, label: s }; }));
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
    var title = el("div", { class: "okui-dialog-title" + (cfg.titleClass ? " " + cfg.titleClass : ""), text: cfg.title });
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
    var wrap = el("div", { class: "okui-transition-fade okui-dialog okui-dialog-float" }, [win]);
    document.body.appendChild(wrap);
    return wrap;
  }
  function button(text, kind, attrs) {
    var a = { type: "button", class: "okui-btn btn-sm " + (kind || "btn-fill-primary"), text: text };
    Object.keys(attrs || {}).forEach(function (k) { a[k] = attrs[k]; });
    return el("button", a);
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
    ApiError: ApiError, toLogin: toLogin
  };
})();
