"use strict";
(function () {
  var form = document.getElementById("login-form");
  var errorBox = document.getElementById("login-error");
  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = false;
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var username = form.username.value.trim();
    var password = form.password.value;
    if (!username || !password) {
      showError("请输入用户名和密码");
      return;
    }
    var button = form.querySelector("button");
    button.disabled = true;
    button.textContent = "正在登录…";
    fetch("/console/login", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: username, password: password })
    }).then(function (resp) {
      return resp.json().then(function (body) { return { ok: resp.ok, body: body }; });
    }).then(function (result) {
      if (result.ok) {
        window.location.assign(result.body.redirect || "/console/");
        return;
      }
      showError(result.body.message || "登录失败，请重试");
      form.password.value = "";
      form.password.focus();
    }).catch(function () {
      showError("网络异常，请稍后重试");
    }).finally(function () {
      button.disabled = false;
      button.textContent = "登录";
    });
  });
})();
