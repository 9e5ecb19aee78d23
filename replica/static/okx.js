/* Shared helpers of the OKX replica pages: hashed class names, DOM builder, the
 * /priapi fetch wrapper (401 -> login with forward), toasts, okui-select. */
(function () {
  "use strict";
  var HM = window.__h || {};
  function H(name) { return HM[name] || name; }

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
        else n.setAttribute(k, v === true ? "" : v);
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
          throw new ApiError(resp.status, (j && j.msg) || "System error. Please try again later.", j && j.field);
        }
        return j.data;
      });
    }, function () {
      throw new ApiError(0, "Network error. Please try again later.", null);
    });
  }

  function toast(msg, kind) {
    var box = document.querySelector("." + H("toasts"));
    if (!box) { box = el("div", { class: H("toasts") }); document.body.appendChild(box); }
    var t = el("div", { class: "okui-toast" + (kind === "error" ? " okui-toast-error" : ""), role: "alert", text: msg });
    box.appendChild(t);
    setTimeout(function () { t.remove(); }, 4000);
    return t;
  }

  /* A custom single select: `root` is a div.okui-select; options [{value,label}]. */
  function select(root, options, value, onChange, render) {
    var state = { value: value, open: false, drop: null, disabled: false };
    root.setAttribute("aria-haspopup", "listbox");
    root.setAttribute("aria-expanded", "false");
    function close() {
      if (state.drop) { state.drop.remove(); state.drop = null; }
      state.open = false;
      root.setAttribute("aria-expanded", "false");
    }
    function open() {
      if (state.disabled) return;
      var drop = el("div", { class: "okui-select-dropdown", role: "listbox" });
      options.forEach(function (o) {
        var selected = o.value === state.value;
        drop.appendChild(el("div", {
          class: "okui-select-option" + (selected ? " okui-select-option-selected" : ""),
          role: "option", "aria-selected": selected ? "true" : "false",
          onclick: function (ev) {
            ev.stopPropagation();
            close();
            if (o.value !== state.value) { state.value = o.value; render(o); onChange(o.value); }
          }
        }, [o.label]));
      });
      root.appendChild(drop);
      state.drop = drop; state.open = true;
      root.setAttribute("aria-expanded", "true");
    }
    root.addEventListener("click", function () { if (state.open) close(); else open(); });
    document.addEventListener("mousedown", function (ev) { if (state.open && !root.contains(ev.target)) close(); });
    var api_ = {
      get: function () { return state.value; },
      set: function (v) {
        state.value = v;
        var o = options.filter(function (x) { return x.value === v; })[0] || options[0];
        render(o);
      },
      disable: function (d) { state.disabled = d; root.classList.toggle("okui-select-disabled", d); root.setAttribute("aria-disabled", d ? "true" : "false"); },
      close: close
    };
    api_.set(value);
    return api_;
  }

  function accountOptions(subs) {
    return [{ value: "main", label: "Main account" }].concat((subs || []).map(function (s) { return { value: s, label: s }; }));
  }

  document.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest("[data-okx-logout]");
    if (!a) return;
    ev.preventDefault();
    api("POST", "/priapi/v1/user/logout", {}, { auth: false }).catch(function () {}).then(function () {
      location.assign("/account/login");
    });
  });

  window.OKX = { H: H, el: el, icon: icon, api: api, toast: toast, select: select, accountOptions: accountOptions, ApiError: ApiError, toLogin: toLogin };
})();
