(function () {
  "use strict";
  var H = OKX.H, el = OKX.el;
  var PAGE = window.__page || { subaccounts: [] };
  var PERM_TEXT = { read_only: "Read", trade: "Trade", withdraw: "Withdraw" };
  var USED_TEXT = { api_trading: "API trading", third_party: "Linking third-party app" };
  var box = document.querySelector("[data-okx-keys]");
  var pill = document.querySelector(".okui-select." + H("pill-select"));
  var options = OKX.accountOptions(PAGE.subaccounts);
  var params = new URLSearchParams(location.search);
  var current = params.get("account") || "main";
  if (!options.some(function (o) { return o.value === current; })) current = "main";

  var sel = OKX.select(pill, options, current, function (v) {
    current = v;
    var p = new URLSearchParams(location.search);
    if (v === "main") p.delete("account"); else p.set("account", v);
    var q = p.toString();
    history.replaceState(null, "", location.pathname + (q ? "?" + q : ""));
    load();
  }, function (o) { pill.querySelector(".okui-select-value").textContent = o.label; });

  function createButton(disabled) {
    return el("button", {
      type: "button", class: "okui-btn okui-btn-fill-highlight", disabled: disabled,
      onclick: function () {
        location.assign("/account/my-api/create" + (current !== "main" ? "?account=" + encodeURIComponent(current) : ""));
      }
    }, [OKX.icon("plus"), PAGE.fr ? "Créer une clé API" : PAGE.renamed ? "New API key" : "Create API key"]);
  }

  function field(label, value, extra) {
    return el("div", {}, [
      el("div", { class: H("kv-label"), text: label }),
      el("div", { class: H("kv-value") }, [el("span", { text: value }), extra || null])
    ]);
  }

  function renderEmpty() {
    var img = document.querySelector("template[data-okx-empty-img]").content.cloneNode(true);
    box.replaceChildren(el("div", { class: H("empty") }, [
      img,
      el("div", { class: H("empty-title"), text: PAGE.fr ? "Aucune clé API" : "No API keys yet" }),
      el("p", { class: H("empty-text"), text: "Create your first API key to automate trades, retrieve market data, and connect with third-party trading tools. Each main and sub-account can have up to 50 active keys." }),
      createButton(false)
    ]));
  }

  function renderList(keys, limit) {
    var full = keys.length >= limit;
    var head = el("div", { class: H("list-head") }, [
      el("div", { class: H("count") }, ["API keys ", el("b", { text: keys.length + "/" + limit })]),
      createButton(full)
    ]);
    var nodes = [head];
    if (full) nodes.push(el("div", { class: H("limit-note"), text: "You've reached the limit of " + limit + " API keys for this account." }));
    keys.forEach(function (k) {
      nodes.push(el("div", { class: H("key-card") }, [
        el("div", { class: H("key-top") }, [
          el("div", { class: H("key-name"), text: k.label }),
          el("div", { class: H("key-actions") }, [
            el("button", { type: "button", class: H("text-btn"), text: "Edit", onclick: function () { OKX.toast("Editing is not available in the replica"); } }),
            el("button", { type: "button", class: H("text-btn"), text: "Delete", onclick: function () { confirmDelete(k); } })
          ])
        ]),
        el("div", { class: H("key-grid") }, [
          field("API key", k.apiKey),
          field("Permissions", k.perms.map(function (p) { return PERM_TEXT[p] || p; }).join(", ")),
          field("IP address allowlist", k.ips.length ? k.ips.join(", ") : "None"),
          field("Used for", USED_TEXT[k.usedFor] || k.usedFor),
          field("Created", k.createdAt)
        ])
      ]));
    });
    box.replaceChildren.apply(box, nodes);
  }

  function confirmDelete(k) {
    var wrap;
    function close() { wrap.remove(); document.removeEventListener("keydown", onKey); }
    function onKey(ev) { if (ev.key === "Escape") close(); }
    var confirmBtn = el("button", { type: "button", class: "okui-btn okui-btn-fill-primary", text: "Confirm", onclick: function () {
      confirmBtn.disabled = true;
      OKX.api("POST", "/priapi/v5/account/api-keys/delete", { apiKey: k.apiKey })
        .then(function () { close(); OKX.toast("API key deleted"); load(); })
        .catch(function (e) { confirmBtn.disabled = false; OKX.toast(e.msg, "error"); });
    } });
    var title = el("div", { class: H("dlg-title"), id: "okx-dialog-title", text: "Delete API key?" });
    wrap = el("div", { class: "okui-transition-fade" }, [
      el("div", { class: "okui-dialog" }, [
        el("div", { class: "okui-dialog-float" }, [
          el("div", { class: "okui-dialog-window", role: "dialog", "aria-modal": "true", "aria-labelledby": "okx-dialog-title" }, [
            el("div", { class: "okui-dialog-top-r", onclick: close }, [OKX.icon("closeLg")]),
            el("div", { class: "okui-dialog-container" }, [
              title,
              el("p", { class: H("dlg-desc"), text: "\u201c" + k.label + "\u201d will stop working immediately. This can't be undone." })
            ]),
            el("div", { class: "okui-dialog-btn-box" }, [
              el("button", { type: "button", class: "okui-btn okui-dialog-cancel", text: "Cancel", onclick: close }),
              confirmBtn
            ])
          ])
        ])
      ])
    ]);
    document.body.appendChild(wrap);
    document.addEventListener("keydown", onKey);
  }

  var seq = 0;
  function load() {
    var mine = ++seq;
    box.replaceChildren(el("div", { class: H("loading"), text: "Loading..." }));
    OKX.api("GET", "/priapi/v5/account/api-keys?account=" + encodeURIComponent(current))
      .then(function (d) {
        if (mine !== seq) return;
        if (!d.keys.length) renderEmpty(); else renderList(d.keys, d.limit || 50);
      })
      .catch(function (e) {
        if (mine !== seq) return;
        box.replaceChildren(el("div", { class: H("loading"), text: e.msg }));
      });
  }
  sel.set(current);
  load();
})();
