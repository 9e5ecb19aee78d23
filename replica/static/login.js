(function () {
  "use strict";
  var stages = document.querySelectorAll("[data-okx-stage]");
  var pw = stages[0], tf = stages[1];
  var inputs = pw.querySelectorAll("input.login-input-input");
  var email = inputs[0], password = inputs[1];
  var code = tf.querySelector("input.login-input-input");
  var pwErr = pw.querySelector("." + OKX.H("login-error")), tfErr = tf.querySelector("." + OKX.H("login-error"));
  var pwBtn = pw.querySelector("button"), tfBtn = tf.querySelector("button");
  var busy = false;

  function show(box, msg) { box.textContent = msg || ""; box.hidden = !msg; }
  function done() { location.assign(window.__forward || "/account/users"); }

  function login(totp) {
    return OKX.api("POST", "/priapi/v1/user/login", { email: email.value, password: password.value, totp: totp }, { auth: false });
  }

  function submitPassword() {
    if (busy) return;
    show(pwErr, "");
    if (!email.value.trim()) { show(pwErr, OKX.t("Enter your email")); return; }
    if (!password.value) { show(pwErr, OKX.t("Enter your password")); return; }
    busy = true; pwBtn.disabled = true;
    OKX.api("POST", "/priapi/v1/user/login/precheck", { email: email.value, password: password.value }, { auth: false })
      .then(function (d) {
        if (d.needTotp) { pw.hidden = true; tf.hidden = false; code.focus(); return null; }
        return login(null).then(done);
      })
      .catch(function (e) { show(pwErr, e.msg); })
      .then(function () { busy = false; pwBtn.disabled = false; });
  }

  function submitCode() {
    if (busy) return;
    show(tfErr, "");
    busy = true; tfBtn.disabled = true;
    login(code.value.trim()).then(done)
      .catch(function (e) { show(tfErr, e.msg); busy = false; tfBtn.disabled = false; });
  }

  pwBtn.addEventListener("click", submitPassword);
  tfBtn.addEventListener("click", submitCode);
  [email, password].forEach(function (i) { i.addEventListener("keydown", function (ev) { if (ev.key === "Enter") submitPassword(); }); });
  code.addEventListener("keydown", function (ev) { if (ev.key === "Enter") submitCode(); });
  document.querySelectorAll("[data-pane-id]").forEach(function (t) {
    t.addEventListener("click", function () {
      if (t.getAttribute("data-pane-id") !== "email") OKX.toast(OKX.t("QR code login is not available in the replica"));
    });
  });
})();
