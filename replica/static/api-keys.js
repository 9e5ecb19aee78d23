/* "API keys": the "Account:" switcher, the key list or its empty state, Delete. */
(function () {
  "use strict";
  var H = OKX.H, el = OKX.el, t = OKX.t;
  var PAGE = window.__page || { subaccounts: [] };
  var PERM_TEXT = { read_only: "Read", trade: "Trade", withdraw: "Withdraw" };
  var USED_TEXT = { api_trading: "API trading", third_party: "Linking third-party app" };
  var box = document.querySelector("[data-okx-keys]");
  var pill = document.querySelector(".okui-select." + H("pill-select"));
  var options = OKX.accountOptions(PAGE.subaccounts);
  var params = new URLSearchParams(location.search);
  var current = params.get("account") || "main";
  if (!options.some(function (o) { return o.value === current; })) current = "main";

  OKX.select(pill, {
    which: "pill", options: options, value: current, prefix: t("Account:"), prefixClass: H("pill-label"),
    onChange: function (v) {
      current = v;
      var p = new URLSearchParams(location.search);
      if (v === "main") p.delete("account"); else p.set("account", v);
      var q = p.toString();
      history.replaceState(null, "", location.pathname + (q ? "?" + q : ""));
      load();
    }
  });

  function createButton(disabled) {
    var div = OKX.divButton("create");  // button-div mutation
    var b = el(div ? "div" : "button", {
      type: div ? null : "button", "data-okx-divbtn": div ? "create" : null,
      class: "okui-btn btn-fill-highlight", disabled: div ? null : disabled,
      onclick: function () {
        if (b.disabled) return;
        location.assign("/account/my-api/create" + (current !== "main" ? "?account=" + encodeURIComponent(current) : ""));
      }
    }, [OKX.icon("plus"), OKX.txt(t(PAGE.renamed ? "New API key" : "Create API key"), "buttons")]);
    if (div) OKX.disable(b, disabled);
    return b;
  }

  /* `secret`: a credential; the test-only `marked` scenario draws it in the marker colour. */
  function field(label, value, extra, secret) {
    var mark = secret && window.__mark ? "color:" + window.__mark : null;
    return el("div", {}, [
      el("div", { class: H("kv-label") }, [OKX.txt(label, "labels")]),
      el("div", { class: H("kv-value") }, [el("span", { text: value, style: mark }), extra || null])
    ]);
  }

  function renderEmpty() {
    var img = document.querySelector("template[data-okx-empty-img]").content.cloneNode(true);
    box.replaceChildren(el("div", { class: H("empty") }, [
      img,
      el("div", { class: H("empty-title"), text: t("No API keys yet") }),
      el("p", { class: H("empty-text"), text: t("Create your first API key to automate trades, retrieve market data, and connect with third-party trading tools. Each main and sub-account can have up to 50 active keys.") }),
      createButton(false)
    ]));
  }

  function renderList(keys, limit) {
    var full = keys.length >= limit;
    var head = el("div", { class: H("list-head") }, [
      el("div", { class: H("count") }, [t("API keys") + " ", el("b", { text: keys.length + "/" + limit })]),
      createButton(full)
    ]);
    var nodes = [head];
    if (full) nodes.push(el("div", { class: H("limit-note"), text: t("You've reached the limit of {0} API keys for this account.", limit) }));
    keys.forEach(function (k) {
      nodes.push(el("div", { class: H("key-card") }, [
        el("div", { class: H("key-top") }, [
          el("div", { class: H("key-name"), text: k.label }),
          el("div", { class: H("key-actions") }, [
            el("button", { type: "button", class: H("text-btn"), text: t("Edit"), onclick: function () { OKX.toast(t("Editing is not available in the replica")); } }),
            el("button", { type: "button", class: H("text-btn"), text: t("Delete"), onclick: function () { confirmDelete(k); } })
          ])
        ]),
        el("div", { class: H("key-grid") }, [
          field(t("API key"), k.apiKey, null, true),
          field(t("Permissions"), k.perms.map(function (p) { return t(PERM_TEXT[p] || p); }).join(", ")),
          field(t("IP address allowlist"), k.ips.length ? k.ips.join(", ") : t("None")),
          field(t("Used for"), t(USED_TEXT[k.usedFor] || k.usedFor)),
          field(t("Created"), k.createdAt)
        ])
      ]));
    });
    box.replaceChildren.apply(box, nodes);
  }

  function confirmDelete(k) {
    var wrap;
    function close() { wrap.remove(); document.removeEventListener("keydown", onKey); }
    function onKey(ev) { if (ev.key === "Escape") close(); }
    var confirmBtn = OKX.button(t("Confirm"), "btn-fill-primary", { onclick: function () {
      if (confirmBtn.disabled) return;
      OKX.disable(confirmBtn, true);
      OKX.api("POST", "/priapi/v5/account/api-keys/delete", { apiKey: k.apiKey })
        .then(function () { close(); OKX.toast(t("API key deleted")); load(); })
        .catch(function (e) { OKX.disable(confirmBtn, false); OKX.toast(e.msg, "error"); });
    } });
    wrap = OKX.dialog({
      title: t("Delete API key?"), titleClass: H("dlg-title"), onClose: close,
      content: [el("p", { class: H("dlg-desc"), text: t("\u201c{0}\u201d will stop working immediately. This can't be undone.", k.label) })],
      buttons: [OKX.button(t("Cancel"), "btn-outline-primary okui-dialog-cancel", { onclick: close }), confirmBtn]
    });
    document.addEventListener("keydown", onKey);
  }

  var seq = 0;
  function load() {
    var mine = ++seq;
    box.replaceChildren(el("div", { class: H("loading"), text: t("Loading...") }));
    var late = (OKX.mut("late") || {}).keys_ms;  // late mutation: the list comes a moment later
    OKX.api("GET", "/priapi/v5/account/api-keys?account=" + encodeURIComponent(current))
      .then(function (d) { return late ? new Promise(function (r) { setTimeout(function () { r(d); }, late); }) : d; })
      .then(function (d) {
        if (mine !== seq) return;
        if (!d.keys.length) renderEmpty(); else renderList(d.keys, d.limit || 50);
      })
      .catch(function (e) {
        if (mine !== seq) return;
        box.replaceChildren(el("div", { class: H("loading"), text: e.msg }));
      });
  }
  load();
})();
