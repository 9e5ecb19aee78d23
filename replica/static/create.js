/* "Create API keys": drafts, the form, Submit all, security verification, created modal. */
(function () {
  "use strict";
  var H = OKX.H, el = OKX.el, t = OKX.t;
  var PAGE = window.__page || { subaccounts: [] };
  var MAX_IPS = 20;
  var PERM_TEXT = { read_only: "Read", trade: "Trade", withdraw: "Withdraw" };
  var USED_TEXT = { api_trading: "API trading", third_party: "Linking third-party app" };
  var PERM_OPTIONS = [
    { value: "read_only", label: t("Read"), fixed: true },
    { value: "trade", label: t("Trade") },
    { value: "withdraw", label: t("Withdraw") }
  ];
  var MUT_ORDER = (OKX.mut("reorder") || {}).perm_options;
  if (MUT_ORDER) {  // reorder mutation: the list offers them in another order
    PERM_OPTIONS.sort(function (a, b) { return MUT_ORDER.indexOf(a.value) - MUT_ORDER.indexOf(b.value); });
  }
  var LATE = OKX.mut("late") || {};
  var CHIP = OKX.mut("chip-close");
  var RULES = {
    length: function (p) { return p.length >= 8 && p.length <= 32; },
    lower: function (p) { return /[a-z]/.test(p); },
    upper: function (p) { return /[A-Z]/.test(p); },
    number: function (p) { return /[0-9]/.test(p); },
    special: function (p) { return /[^A-Za-z0-9\s]/.test(p); }
  };

  /* The account comes from the key list's "Account:" switcher (?account=NAME): the form
   * shows it, greyed out, and every draft gets it. `account-selectable`: each draft picks. */
  var accountOptions = OKX.accountOptions(PAGE.subaccounts);
  var qAccount = new URLSearchParams(location.search).get("account") || "main";
  if (!accountOptions.some(function (o) { return o.value === qAccount; })) qAccount = "main";

  function newDraft() {
    return {
      label: "", account: qAccount, usedFor: "api_trading", ips: [], ipText: "",
      perms: PAGE.withdrawPreselected ? ["read_only", "withdraw"] : ["read_only"],
      passphrase: "", errors: {}
    };
  }
  var drafts = [newDraft()];
  var cur = 0;
  function D() { return drafts[cur]; }

  // -- elements ------------------------------------------------------------
  var tilesBox = document.querySelector("[data-okx-drafts]");
  // Looked up once: the `late` mutation takes the items out of the page for a moment.
  var ITEMS = {};
  ["label", "account", "usedFor", "ips", "perms", "passphrase"].forEach(function (f) {
    ITEMS[f] = document.querySelector('[data-okx-field="' + f + '"]');
  });
  function item(f) { return ITEMS[f]; }
  var nameInput = item("label").querySelector("input");
  var accountBox = item("account").querySelector(".okui-select");
  var radios = item("usedFor").querySelectorAll("input[type=radio]");
  var tagsBox = item("ips").querySelector("[data-okx-tags]");
  var ipInput = item("ips").querySelector("input");
  var ipConfirm = item("ips").querySelector(".okui-input-suffix span");
  var permBox = item("perms").querySelector(".okui-select") || item("perms").querySelector(".okui-checkbox-group");
  var passInput = item("passphrase").querySelector("input");
  var eye = item("passphrase").querySelector("." + H("eye"));
  var rules = item("passphrase").querySelectorAll("li[data-rule]");
  var submitBtn = document.querySelector("[data-okx-submit]");
  var addBtn = document.querySelector("[data-okx-add]");

  // -- errors under fields -------------------------------------------------
  function renderErrors() {
    ["label", "account", "usedFor", "ips", "perms", "passphrase"].forEach(function (f) {
      var node = item(f);
      var ctl = node.querySelector(".okui-form-item-control");
      ctl.querySelectorAll(".okui-form-item-explain").forEach(function (old) { old.remove(); });
      var msg = D().errors[f];
      var box = ctl.querySelector(".okui-input-box:not(.okui-select-inner-box)");
      if (box) box.classList.toggle("okui-input-error", !!msg);
      if (!msg) return;
      var explain = el("div", { class: "okui-form-item-explain", role: "alert", text: msg });
      var anchor = f === "perms" ? permBox : f === "account" ? accountBox : (box || ctl.lastElementChild);
      anchor.insertAdjacentElement("afterend", explain);
    });
  }
  function setError(f, msg) { D().errors[f] = msg; renderErrors(); }
  function clearError(f) { if (D().errors[f]) { delete D().errors[f]; renderErrors(); } }

  // -- drafts tiles --------------------------------------------------------
  function accountLabel(v) { return v === "main" ? t("Main account") : v; }
  function renderTiles() {
    var nodes = drafts.map(function (d, i) {
      var name = d.label.trim();
      return el("div", {
        class: H("draft-tile") + (i === cur ? " " + H("draft-active") : ""),
        onclick: function () { select(i); }
      }, [
        el("div", { class: H("draft-name") + (name ? "" : " " + H("draft-untitled")), text: name || t("Untitled") }),
        el("span", { class: H("draft-tag"), text: accountLabel(d.account) }),
        drafts.length > 1 ? el("span", { class: H("draft-x"), onclick: function (ev) { ev.stopPropagation(); removeDraft(i); } }, [OKX.icon("close")]) : null
      ]);
    });
    tilesBox.replaceChildren.apply(tilesBox, nodes);
  }
  function select(i) {
    if (i === cur) return;
    D().ipText = ipInput.value;
    cur = i;
    loadForm();
  }
  function removeDraft(i) {
    if (drafts.length < 2) return;
    D().ipText = ipInput.value;
    drafts.splice(i, 1);
    if (cur > i || cur >= drafts.length) cur = Math.max(0, cur - 1);
    loadForm();
  }

  // -- form <-> draft --------------------------------------------------------
  var accountSel = OKX.select(accountBox, {
    which: "account", options: accountOptions, value: D().account,
    disabled: !PAGE.accountSelectable || accountOptions.length < 2,
    onChange: function (v) { D().account = v; clearError("account"); renderTiles(); }
  });

  function loadForm() {
    var d = D();
    nameInput.value = d.label;
    accountSel.close();
    accountSel.set(d.account);
    radios.forEach(function (r) { r.checked = r.value === d.usedFor; });
    renderRadios();
    ipInput.value = d.ipText || "";
    renderTags();
    renderPerms();
    passInput.value = d.passphrase;
    renderRules();
    renderErrors();
    renderTiles();
  }

  nameInput.addEventListener("input", function () { D().label = nameInput.value; clearError("label"); renderTiles(); });

  function renderRadios() {
    radios.forEach(function (r) { r.parentNode.classList.toggle("okui-radio-checked", r.checked); });
  }
  radios.forEach(function (r) {
    r.addEventListener("change", function () { if (r.checked) D().usedFor = r.value; renderRadios(); });
  });

  // -- IP allowlist ----------------------------------------------------------
  function ipv4(s) {
    return /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(s);
  }
  function normIp(s) {
    if (ipv4(s)) return s;
    if (s.indexOf(":") < 0 || /[^0-9A-Fa-f:.]/.test(s)) return null;
    try {
      var host = new URL("http://[" + s + "]/").hostname;
      return host.slice(1, -1);
    } catch (e) { return null; }
  }
  function removeTag(i) { D().ips.splice(i, 1); clearError("ips"); renderTags(); }
  /* chip-close mutation: the close control as a bare SVG, a text glyph, or none. */
  function closeControl(i) {
    if (!CHIP) return el("span", { class: "okui-tag-close", onclick: function () { removeTag(i); } }, [OKX.icon("close")]);
    if (CHIP.mode === "absent") return null;
    if (CHIP.mode === "glyph") return el("span", { class: "okui-tag-glyph", text: CHIP.glyph, onclick: function () { removeTag(i); } });
    var svg = OKX.icon("close");
    svg.classList.add("okui-tag-close");
    svg.style.cursor = "pointer";
    svg.addEventListener("click", function () { removeTag(i); });
    return svg;
  }
  function renderTags() {
    var nodes = D().ips.map(function (ip, i) {
      var parts = [el("span", { text: ip }), closeControl(i)];
      if (CHIP && CHIP.side === "before") parts.reverse();
      return el("div", { class: "okui-tag" }, parts);
    });
    tagsBox.replaceChildren.apply(tagsBox, nodes);
  }
  /* Turn tokens into chips; stops at the first refusal (kept in the input). */
  function addTokens(tokens) {
    var d = D();
    for (var i = 0; i < tokens.length; i++) {
      var tok = tokens[i];
      var n = normIp(tok);
      var msg = null;
      if (n === null) msg = t("Invalid IP address: {0}", tok);
      else if (d.ips.some(function (x) { return normIp(x) === n; })) msg = t("This IP address has already been added");
      else if (d.ips.length >= MAX_IPS) msg = t("You can add up to {0} IP addresses", MAX_IPS);
      if (msg) { renderTags(); setError("ips", msg); return tokens.slice(i); }
      d.ips.push(tok);
    }
    renderTags();
    return [];
  }
  function splitIps(s) { return s.split(/[\s,]+/).filter(Boolean); }
  function commitAll() {
    var rest = addTokens(splitIps(ipInput.value));
    ipInput.value = rest.join(" ");
    D().ipText = ipInput.value;
    return rest.length === 0;
  }
  ipInput.addEventListener("input", function () {
    clearError("ips");
    var v = ipInput.value;
    if (/[\s,]/.test(v)) {
      var endsWithSep = /[\s,]$/.test(v);
      var tokens = splitIps(v);
      var tail = endsWithSep ? null : tokens.pop();
      var rest = addTokens(tokens);
      if (tail !== null) rest.push(tail);
      ipInput.value = rest.join(" ");
    }
    D().ipText = ipInput.value;
  });
  ipInput.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") { ev.preventDefault(); commitAll(); }
    // With no close control on the chips, Backspace in the empty input removes the last one.
    if (ev.key === "Backspace" && CHIP && CHIP.mode === "absent" && !ipInput.value && D().ips.length) removeTag(D().ips.length - 1);
  });
  ipConfirm.addEventListener("click", function () { commitAll(); });

  // -- permissions -------------------------------------------------------------
  var permSel = null;
  if (PAGE.permCheckboxes) {  // scenario perm-checkboxes
    permBox.querySelectorAll("input[type=checkbox]").forEach(function (c) {
      c.addEventListener("change", function () {
        if (c.value === "read_only") return;
        var d = D();
        var on = d.perms.filter(function (p) { return p !== c.value; });
        if (c.checked) on.push(c.value);
        d.perms = PERM_OPTIONS.map(function (o) { return o.value; }).filter(function (v) { return on.indexOf(v) >= 0; });
        clearError("perms");
      });
    });
  } else {
    permSel = OKX.select(permBox, {
      which: "perms", multiple: true, options: PERM_OPTIONS, value: D().perms,
      onOpen: function () {
        if (PAGE.dropIpOnPerms && D().ips.length) { D().ips.pop(); renderTags(); }  // scenario ip-chip-dropped
      },
      onChange: function (v) { D().perms = v; clearError("perms"); }
    });
  }
  function renderPerms() {
    var d = D();
    if (permSel) { permSel.close(); permSel.set(d.perms); return; }
    permBox.querySelectorAll("input[type=checkbox]").forEach(function (c) {
      c.checked = d.perms.indexOf(c.value) >= 0;
    });
  }

  // -- passphrase --------------------------------------------------------------
  function rulesOk(p) { return Object.keys(RULES).every(function (k) { return RULES[k](p); }); }
  function renderRules() {
    var p = passInput.value;
    rules.forEach(function (li) {
      var ok = RULES[li.getAttribute("data-rule")](p);
      li.classList.toggle("okui-checklist-item-done", ok);
      OKX.attr(li, "aria-checked", ok ? "true" : "false");
    });
  }
  passInput.addEventListener("input", function () { D().passphrase = passInput.value; clearError("passphrase"); renderRules(); });
  function renderEye() {
    var shown = passInput.type === "text";
    eye.innerHTML = shown ? PAGE.eyeOpen : PAGE.eye;
    OKX.attr(eye, "aria-label", t(shown ? "Hide passphrase" : "Show passphrase"));
  }
  function toggleEye() { passInput.type = passInput.type === "password" ? "text" : "password"; renderEye(); }
  eye.addEventListener("click", toggleEye);
  eye.addEventListener("keydown", function (ev) { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); toggleEye(); } });
  renderEye();

  // -- add / submit ------------------------------------------------------------
  addBtn.addEventListener("click", function () {
    D().ipText = ipInput.value;
    drafts.push(newDraft());
    cur = drafts.length - 1;
    loadForm();
    nameInput.focus();
  });

  function checkDraft(i) {
    var save = cur;
    cur = i;
    var d = D();
    var errs = {};
    if (d.ipText && d.ipText.trim()) {
      var rest = addTokens(splitIps(d.ipText));
      d.ipText = rest.join(" ");
      if (rest.length) errs.ips = d.errors.ips;
    }
    if (!d.label.trim()) errs.label = t("Enter an API key name");
    if (!rulesOk(d.passphrase)) errs.passphrase = t("Your passphrase doesn't meet the requirements");
    d.errors = errs;
    cur = save;
    return Object.keys(errs).length === 0;
  }

  var busy = false;
  submitBtn.addEventListener("click", function () {
    if (busy) return;
    D().ipText = ipInput.value;
    var bad = -1;
    [cur].concat(drafts.map(function (_, i) { return i; })).forEach(function (i) {
      if (!checkDraft(i) && bad < 0) bad = i;
    });
    if (bad >= 0) { cur = bad; loadForm(); return; }
    loadForm();
    var payload = drafts.map(function (d) {
      return { label: d.label.trim(), account: d.account, usedFor: d.usedFor, ips: d.ips.slice(), perms: d.perms.slice(), passphrase: d.passphrase };
    });
    var body = { drafts: payload };
    var decoys = document.querySelectorAll("[data-okx-decoy]");
    if (decoys.length) {  // decoys mutation: what they hold, for the replica's ground truth
      body.decoys = {};
      decoys.forEach(function (d) { body.decoys[d.getAttribute("data-okx-decoy")] = d.value || ""; });
    }
    busy = true; OKX.disable(submitBtn, true);
    OKX.api("POST", "/priapi/v5/account/api-keys/submit", body)
      .then(function (data) {
        if (LATE.verify_ms) setTimeout(function () { openVerify(data.challengeId, data.steps); }, LATE.verify_ms);
        else openVerify(data.challengeId, data.steps);
      })
      .catch(function (e) {
        if (!e.field) { OKX.toast(e.msg, "error"); return; }
        var m = /["\u00ab]\s?([^"\u00bb]+?)\s?["\u00bb]/.exec(e.msg || "");
        if (m) {
          var idx = drafts.findIndex(function (d) { return d.label.trim() === m[1]; });
          if (idx >= 0 && idx !== cur) { cur = idx; loadForm(); }
        }
        var f = e.field === "password" || e.field === "code" ? null : e.field;
        if (f && item(f)) setError(f, e.msg); else OKX.toast(e.msg, "error");
      })
      .then(function () { busy = false; OKX.disable(submitBtn, false); });
  });

  // -- security verification ----------------------------------------------------
  var TEXT = {
    totp: { title: "Verify with authenticator app", desc: function () { return t("Enter the 6-digit code from your authenticator app."); } },
    sms: { title: "Verify with phone number", desc: function (x) { return t("Check the text we've sent to {0}", x); } },
    email: { title: "Verify with email", desc: function (x) { return t("We've sent a 6-digit code to {0}. It's valid for 10 minutes and may be in your spam folder.", x); } }
  };

  function openVerify(challengeId, steps) {
    var idx = 0, timer = null, wrap = null, closed = false;
    function stopTimer() { if (timer) { clearInterval(timer); timer = null; } }
    function close() {
      closed = true; stopTimer();
      if (wrap) wrap.remove();
      OKX.api("POST", "/priapi/v5/account/api-keys/cancel", { challengeId: challengeId }).catch(function () {});
    }
    function render() {
      stopTimer();
      if (wrap) wrap.remove();
      var step = steps[idx], last = idx === steps.length - 1;
      var boxes = [];
      for (var i = 0; i < 6; i++) {
        boxes.push(el("input", { class: H("pin-inner-input"), type: "text", maxlength: "1", inputmode: "numeric", autocomplete: "one-time-code" }));
      }
      var err = el("div", { class: H("pin-error"), role: "alert", hidden: true });
      var btn = OKX.button(t(last ? "Confirm" : "Continue"), "btn-fill-primary", { disabled: true, which: "verify" });
      var fake = OKX.decoy("hidden-confirm");
      var decoyBtn = fake ? OKX.button(t("Confirm"), "btn-fill-primary", {
        which: "verify", style: OKX.hide[fake.hide], onclick: function () { OKX.decoyClicked("hidden-confirm"); }
      }) : null;
      var resend = step.factor === "totp" ? null : el("div", { class: H("resend") });
      var sending = false, wasFull = false;
      function code() { return boxes.map(function (b) { return b.value; }).join(""); }
      /* The button follows the boxes; `codes-autosubmit`: a sixth digit submits by itself. */
      function update() {
        var full = /^\d{6}$/.test(code());
        if (!sending) OKX.disable(btn, !full);
        if (full && !wasFull && PAGE.codesAutosubmit && !sending) { wasFull = full; submit(); return; }
        wasFull = full;
      }
      function fill(from, digits) {
        for (var j = 0; j < digits.length && from + j < 6; j++) boxes[from + j].value = digits[j];
        var next = Math.min(from + digits.length, 5);
        boxes[next].focus();
        update();
      }
      boxes.forEach(function (b, i) {
        b.addEventListener("keydown", function (ev) {
          if (ev.key === "Backspace") {
            if (!b.value && i > 0) { ev.preventDefault(); boxes[i - 1].value = ""; boxes[i - 1].focus(); update(); }
            return;
          }
          if (ev.key === "ArrowLeft" && i > 0) { boxes[i - 1].focus(); return; }
          if (ev.key === "ArrowRight" && i < 5) { boxes[i + 1].focus(); return; }
          if (ev.key === "Enter") { if (!btn.disabled) btn.click(); return; }
          if (/^\d$/.test(ev.key) && !ev.ctrlKey && !ev.metaKey) {
            ev.preventDefault();
            b.value = ev.key;
            if (i < 5) boxes[i + 1].focus();
            update();
          }
        });
        b.addEventListener("input", function () {
          var digits = b.value.replace(/\D/g, "");
          if (digits.length > 1) { b.value = ""; fill(digits.length >= 6 ? 0 : i, digits.slice(0, 6)); return; }
          b.value = digits;
          if (digits && i < 5) boxes[i + 1].focus();
          update();
        });
        b.addEventListener("paste", function (ev) {
          ev.preventDefault();
          var digits = ((ev.clipboardData || window.clipboardData).getData("text") || "").replace(/\D/g, "");
          if (!digits) return;
          if (digits.length >= 6) fill(0, digits.slice(0, 6)); else fill(i, digits);
        });
      });
      function countdown() {
        var left = 60;
        function tick() {
          if (left > 0) {
            resend.className = H("resend");
            resend.textContent = t("Resend ({0}s)", left);
          } else {
            stopTimer();
            resend.className = H("resend") + " " + H("resend-active");
            resend.textContent = t("Resend");
          }
          left -= 1;
        }
        stopTimer();
        tick();
        timer = setInterval(tick, 1000);
      }
      if (resend) {
        resend.addEventListener("click", function () {
          if (timer) return;
          OKX.api("POST", "/priapi/v5/account/api-keys/resend", { challengeId: challengeId, factor: step.factor })
            .then(function () { if (!closed) { OKX.toast(t("Code sent")); countdown(); } })
            .catch(function (e) { OKX.toast(e.msg, "error"); });
        });
        countdown();
      }
      function submit() {
        if (sending || !/^\d{6}$/.test(code())) return;
        sending = true;
        OKX.disable(btn, true);
        err.hidden = true;
        OKX.api("POST", "/priapi/v5/account/api-keys/verify", { challengeId: challengeId, factor: step.factor, code: code() })
          .then(function (d) {
            if (closed) return;
            if (d.keys) {
              stopTimer(); wrap.remove(); wrap = null;
              if (LATE.created_ms) setTimeout(function () { showCreated(d.keys, challengeId); }, LATE.created_ms);
              else showCreated(d.keys, challengeId);
              return;
            }
            idx += 1;
            if (PAGE.redirectMidCodes) {  // scenario: a look-alike takes over between two codes
              location.assign(location.href.replace("//127.0.0.1:", "//localhost:"));
              return;
            }
            render();
          })
          .catch(function (e) {
            sending = false;
            err.textContent = e.msg; err.hidden = false;
            boxes.forEach(function (b) { b.value = ""; });
            boxes[0].focus();
            update();
          });
      }
      btn.addEventListener("click", submit);
      wrap = OKX.dialog({
        onClose: close,
        before: [el("div", { class: H("step"), text: (idx + 1) + " / " + steps.length })],
        title: t(TEXT[step.factor].title), titleClass: H("dlg-title"),
        content: [
          el("p", { class: H("dlg-desc"), text: TEXT[step.factor].desc(step.target) }),
          el("div", { class: H("pin") }, boxes),
          err,
          resend
        ],
        buttons: decoyBtn ? [decoyBtn, btn] : [btn], footerClass: H("verify-btns")
      });
      boxes[0].focus();
    }
    render();
  }

  // -- created ---------------------------------------------------------------
  function copy(text) {
    var done = function () { OKX.toast(t("Copied")); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { OKX.toast(t("Copy failed"), "error"); });
    } else { OKX.toast(t("Copy failed"), "error"); }
  }
  function permsText(perms, tr) {
    return perms.map(function (p) { var s = PERM_TEXT[p] || p; return tr ? t(s) : s; }).join(", ");
  }
  /* What "Copy API key info" puts on the clipboard (English, whatever the page language). */
  function info(k) {
    return [
      "API key name: " + k.label,
      "API key: " + k.apiKey,
      "Secret key: " + k.secretKey,
      "Permissions: " + permsText(k.perms, false),
      "IP address allowlist: " + (k.ips.length ? k.ips.join(", ") : "None")
    ].join("\n");
  }
  /* `secret`: a credential; the test-only `marked` scenario draws it in the marker colour. */
  function kv(label, value, withCopy, masked, secret) {
    var mark = secret && !masked && window.__mark ? "color:" + window.__mark : null;
    return el("div", { class: H("kv") }, [
      el("div", { class: H("kv-label") }, [OKX.txt(label, "labels")]),
      el("div", { class: H("kv-value") }, [
        el("span", { text: masked ? "\u2022".repeat(16) : value, style: mark }),
        withCopy ? el("span", {
          class: H("copy-icon"), role: "button", tabindex: OKX.aria ? "0" : null, "aria-label": t("Copy"),
          onclick: function () { copy(value); }
        }, [OKX.icon("copy")]) : null
      ])
    ]);
  }
  function showCreated(keys, challengeId) {
    var cards = keys.map(function (k) {
      return el("div", { class: H("created-card") }, [
        el("div", { class: H("created-inner") }, [
          keys.length > 1 ? el("div", { class: H("created-name"), text: k.label }) : null,
          el("div", { class: H("qr"), html: k.qrSvg }),
          el("div", { class: H("kv-row") }, [
            kv(t("Used for"), t(USED_TEXT[k.usedFor] || k.usedFor)),
            kv(t("Permissions"), permsText(k.perms, true))
          ]),
          kv(t("IP address allowlist (optional)"), k.ips.length ? k.ips.join(", ") : t("None")),
          kv(t("API key"), k.apiKey, true, false, true),
          kv(t("Secret key"), k.secretKey, true, PAGE.secretMasked, true),
          el(OKX.divButton("copy") ? "div" : "button", {
            type: OKX.divButton("copy") ? null : "button", "data-okx-divbtn": OKX.divButton("copy") ? "copy" : null,
            class: "okui-btn btn-outline-primary " + H("btn-block") + " " + H("copy-info"), onclick: function () { copy(info(k)); }
          }, [OKX.txt(t("Copy API key info"), "buttons")])
        ])
      ]);
    });
    var accounts = keys.map(function (k) { return k.account; });
    var target = accounts.every(function (a) { return a === accounts[0]; }) && accounts[0] !== "main" ? "?account=" + encodeURIComponent(accounts[0]) : "";
    OKX.dialog({
      windowClass: H("created-window"), title: t("API key created"), titleClass: H("created-title"),
      bodyClass: H("created-body"), content: cards, footerClass: H("created-foot"),
      buttons: [OKX.button(t("Complete"), "btn-fill-primary", { which: "complete", onclick: function () {
        var go = function () { location.assign((PAGE.apiPath || "/account/my-api") + target); };
        // Replica only: the click is recorded (/replica/issued) before the list opens.
        fetch("/replica/complete", {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ challengeId: challengeId })
        }).then(go, go);
      } })]
    });
  }

  if (LATE.form_ms) {
    /* late mutation: the form's items come a moment after the page (its data loading). */
    var formBox = item("label").parentNode, parts = Array.prototype.slice.call(formBox.childNodes);
    formBox.replaceChildren();
    setTimeout(function () { formBox.replaceChildren.apply(formBox, parts); loadForm(); }, LATE.form_ms);
  } else loadForm();
})();
