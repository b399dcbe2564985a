"use strict";
/* Supervisors' audit log: newest first, filtered by action, user and dates,
   paged by the last id shown (GET /console/api/audit). Text from the server
   is only ever set with textContent. */
(function () {
  var PAGE_SIZE = 50;
  var DETAIL_NAMES = {
    from: "原角色", to: "新角色", from_department: "原部门", to_department: "新部门",
    role: "角色", department: "部门", reason: "原因", by: "修改方式"
  };
  var VALUE_NAMES = {
    agent: "客服坐席", supervisor: "班长/质检", department: "承办部门",
    unknown_user: "用户名不存在", self: "本人修改", other: "他人重置"
  };
  var state = { me: null, pages: [], names: {} };

  var $ = ConsoleCommon.$;

  var el = ConsoleCommon.el;


  function fmt(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return iso; }
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " +
      two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
  }

  function actorName(actor) {
    if (actor === "system") { return "系统"; }
    if (actor === "cli") { return "命令行"; }
    if (actor === "anonymous") { return "未知用户"; }
    return actor;
  }

  function detailText(detail) {
    var parts = [];
    Object.keys(detail || {}).forEach(function (key) {
      var value = detail[key];
      if (value === null || value === undefined || value === "") { return; }
      if (typeof value === "object") { value = JSON.stringify(value); }
      parts.push((DETAIL_NAMES[key] || key) + "：" + (VALUE_NAMES[value] || value));
    });
    return parts.join("；");
  }

  function api(path, body) {
    return ConsoleCommon.api(path, body, state.me ? state.me.csrf_token : "");
  }


  function query(beforeId) {
    var form = $("au-filters");
    var params = new URLSearchParams();
    ["action", "actor", "since", "until"].forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value) { params.set(name, value); }
    });
    params.set("limit", String(PAGE_SIZE));
    if (beforeId) { params.set("before_id", String(beforeId)); }
    return "/console/api/audit?" + params.toString();
  }

  function row(item) {
    var tr = el("tr");
    tr.dataset.id = String(item.id);
    tr.appendChild(el("td", "au-at", fmt(item.at)));
    tr.appendChild(el("td", null, actorName(item.actor)));
    var failed = /_failed$/.test(item.action);
    tr.appendChild(el("td", failed ? "au-failed" : null, item.action_name));
    tr.appendChild(el("td", null, item.target || "—"));
    tr.appendChild(el("td", null, item.client_address || "—"));
    tr.appendChild(el("td", "au-detail", detailText(item.detail) || "—"));
    return tr;
  }

  function load(beforeId) {
    $("au-summary").textContent = "加载中…";
    return api(query(beforeId)).then(function (result) {
      if (result.status !== 200) {
        $("au-summary").textContent = (result.body && result.body.message) || "加载失败";
        return;
      }
      var body = result.body;
      fillActions(body.actions);
      var rows = $("au-rows");
      rows.textContent = "";
      body.items.forEach(function (item) { rows.appendChild(row(item)); });
      $("au-empty").hidden = body.items.length > 0;
      state.next = body.next_before_id;
      $("au-next").disabled = !state.next;
      $("au-first").disabled = !beforeId;
      $("au-page").textContent = "第 " + (state.pages.length + 1) + " 页";
      $("au-summary").textContent = body.items.length ? "共显示 " + body.items.length + " 条记录（最新在前）" : "";
    }).catch(function () {
      $("au-summary").textContent = "网络异常，请稍后重试";
    });
  }

  function fillActions(actions) {
    var select = $("f-action");
    if (select.options.length > 1 || !actions) { return; }
    Object.keys(actions).forEach(function (key) {
      var option = el("option", null, actions[key]);
      option.value = key;
      select.appendChild(option);
    });
  }

  function bind() {
    $("au-filters").addEventListener("submit", function (event) {
      event.preventDefault();
      state.pages = [];
      load(null);
    });
    $("au-reset").addEventListener("click", function () {
      $("au-filters").reset();
      state.pages = [];
      load(null);
    });
    $("au-next").addEventListener("click", function () {
      if (!state.next) { return; }
      state.pages.push(state.next);
      load(state.next);
    });
    $("au-first").addEventListener("click", function () {
      state.pages = [];
      load(null);
    });
    $("au-logout").addEventListener("click", function () {
      api("/console/logout", {}).finally(function () {
        window.location.assign("/console/login");
      });
    });
  }

  api("/console/api/me").then(function (result) {
    state.me = result.body;
    $("au-user-name").textContent = state.me.display_name;
    bind();
    return load(null);
  }).catch(function () {
    $("au-summary").textContent = "加载失败，请刷新页面";
  });
})();
