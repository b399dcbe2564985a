"use strict";
/* Account page: change one's own password (every other session ends); for
   supervisors also the console users: create, change role, reset password,
   deactivate (each ends that user's sessions and is audited).
   Text from the server is only ever set with textContent. */
(function () {
  var ROLE_NAMES = { agent: "客服坐席", supervisor: "班长/质检", department: "承办部门" };
  var state = { me: null };

  var $ = ConsoleCommon.$;

  var el = ConsoleCommon.el;


  function api(path, body) {
    return ConsoleCommon.api(path, body, state.me ? state.me.csrf_token : "");
  }


  function say(id, text, ok) {
    var box = $(id);
    box.textContent = text;
    box.hidden = !text;
    box.style.color = ok ? "#1a7f37" : "";
  }

  function changePassword(event) {
    event.preventDefault();
    var current = $("ac-current").value, fresh = $("ac-new").value;
    if (!current || !fresh) { say("ac-password-msg", "请输入当前密码和新密码"); return; }
    if (fresh !== $("ac-again").value) { say("ac-password-msg", "两次输入的新密码不一致"); return; }
    api("/console/api/me/password", { current_password: current, new_password: fresh }).then(function (r) {
      if (r.status === 200) {
        state.me.csrf_token = r.body.csrf_token;
        $("ac-password").reset();
        say("ac-password-msg", "密码已修改，其他设备上的登录已失效", true);
      } else {
        say("ac-password-msg", r.body.message || "修改失败，请重试");
      }
    }).catch(function () { say("ac-password-msg", "网络异常，请稍后重试"); });
  }

  function userAction(user, path, body, done) {
    api("/console/api/users/" + encodeURIComponent(user.username) + path, body).then(function (r) {
      if (r.status === 200) {
        say("ac-users-msg", done, true);
        if (user.username === state.me.username) { window.location.assign("/console/login"); return; }
        loadUsers();
      } else {
        say("ac-users-msg", r.body.message || "操作失败，请重试");
      }
    }).catch(function () { say("ac-users-msg", "网络异常，请稍后重试"); });
  }

  function userRow(user) {
    var tr = el("tr");
    tr.dataset.username = user.username;
    tr.appendChild(el("td", null, user.username));
    tr.appendChild(el("td", null, user.display_name));
    tr.appendChild(el("td", null, ROLE_NAMES[user.role] || user.role));
    tr.appendChild(el("td", null, user.department || "—"));
    var ops = el("td");
    var box = el("div", "au-ops");
    var role = el("select");
    role.setAttribute("aria-label", "新角色");
    Object.keys(ROLE_NAMES).forEach(function (key) {
      var option = el("option", null, ROLE_NAMES[key]);
      option.value = key;
      option.selected = key === user.role;
      role.appendChild(option);
    });
    var roleBtn = el("button", "tk-btn", "变更角色");
    roleBtn.type = "button";
    roleBtn.addEventListener("click", function () {
      var body = { role: role.value };
      if (role.value === "department") {
        var dept = window.prompt("请输入承办部门代码（见 data/routing.yml）", user.department || "");
        if (!dept) { return; }
        body.department = dept.trim();
      }
      userAction(user, "/role", body, "已变更 " + user.username + " 的角色");
    });
    var resetBtn = el("button", "tk-btn", "重置密码");
    resetBtn.type = "button";
    resetBtn.addEventListener("click", function () {
      var password = window.prompt("请输入 " + user.username + " 的新密码（至少 10 位，含字母和数字）");
      if (!password) { return; }
      userAction(user, "/password", { password: password }, "已重置 " + user.username + " 的密码");
    });
    var offBtn = el("button", "tk-btn tk-btn-danger", "停用");
    offBtn.type = "button";
    offBtn.addEventListener("click", function () {
      if (!window.confirm("确定停用 " + user.username + " 吗？其登录将立即失效。")) { return; }
      userAction(user, "/active", { active: false }, "已停用 " + user.username);
    });
    [role, roleBtn, resetBtn, offBtn].forEach(function (node) { box.appendChild(node); });
    ops.appendChild(box);
    tr.appendChild(ops);
    return tr;
  }

  function loadUsers() {
    return api("/console/api/users").then(function (r) {
      var rows = $("ac-rows");
      rows.textContent = "";
      (r.body.items || []).forEach(function (user) { rows.appendChild(userRow(user)); });
    });
  }

  function createUser(event) {
    event.preventDefault();
    var form = $("ac-create");
    var body = {};
    ["username", "display_name", "role", "department", "password"].forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value) { body[name] = value; }
    });
    api("/console/api/users", body).then(function (r) {
      if (r.status === 201) {
        form.reset();
        say("ac-users-msg", "已新建用户 " + r.body.user.username, true);
        loadUsers();
      } else {
        say("ac-users-msg", r.body.message || "新建失败，请重试");
      }
    }).catch(function () { say("ac-users-msg", "网络异常，请稍后重试"); });
  }

  api("/console/api/me").then(function (r) {
    state.me = r.body;
    $("ac-user-name").textContent = state.me.display_name;
    $("ac-user-role").textContent = ROLE_NAMES[state.me.role] || state.me.role;
    $("ac-desk-link").hidden = state.me.role === "department";
    $("ac-dashboard-link").hidden = state.me.role !== "supervisor" && state.me.role !== "department";
    $("ac-password").addEventListener("submit", changePassword);
    $("ac-logout").addEventListener("click", function () {
      api("/console/logout", {}).finally(function () { window.location.assign("/console/login"); });
    });
    if (state.me.role === "supervisor") {
      $("ac-audit-link").hidden = false;
      $("ac-knowledge-link").hidden = false;
      $("ac-users").hidden = false;
      $("ac-create").addEventListener("submit", createUser);
      return loadUsers();
    }
    return null;
  });
})();
