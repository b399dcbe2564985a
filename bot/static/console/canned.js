"use strict";
/* The supervisors' canned replies page: list and search, create, edit, delete.
   Server text is only ever set with textContent. */
(function () {
  var $ = ConsoleCommon.$;
  var el = ConsoleCommon.el;
  var state = { me: null, items: [], editing: null };
  var API = "/console/api/canned";

  function api(path, body, method) {
    if (!method) { return ConsoleCommon.api(path, body, state.me ? state.me.csrf_token : ""); }
    var init = {
      method: method, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": state.me.csrf_token }
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (resp) {
      if (resp.status === 401) { window.location.assign("/console/login"); }
      return resp.json().then(
        function (data) { return { status: resp.status, body: data }; },
        function () { return { status: resp.status, body: null }; }
      );
    });
  }

  function toast(text) {
    var node = $("cn-toast");
    node.textContent = text;
    node.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { node.hidden = true; }, 3000);
  }

  function fmt(iso) {
    var d = new Date(iso);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " +
      two(d.getHours()) + ":" + two(d.getMinutes());
  }

  function load() {
    var q = $("cn-search").value.trim();
    return api(API + (q ? "?q=" + encodeURIComponent(q) : "")).then(function (r) {
      if (r.status !== 200 || !r.body) { toast("常用语加载失败，请刷新重试"); return; }
      state.items = r.body.items;
      render();
    });
  }

  function render() {
    var list = $("cn-list");
    list.replaceChildren();
    $("cn-count").textContent = "共 " + state.items.length + " 条";
    if (!state.items.length) {
      list.appendChild(el("li", "cn-muted", $("cn-search").value.trim() ? "没有匹配的常用语" : "还没有常用语"));
    }
    state.items.forEach(function (item) {
      var li = el("li", "cn-item" + (state.editing === item.id ? " is-current" : ""));
      li.dataset.id = String(item.id);
      var head = el("div", "cn-item-head");
      head.appendChild(el("span", "cn-item-title", item.title));
      var buttons = el("div", "cn-item-buttons");
      var edit = el("button", "tk-btn cn-edit", "编辑");
      edit.type = "button";
      edit.addEventListener("click", function () { startEdit(item); });
      var del = el("button", "tk-btn tk-btn-danger cn-delete", "删除");
      del.type = "button";
      del.addEventListener("click", function () { remove(item); });
      buttons.appendChild(edit);
      buttons.appendChild(del);
      head.appendChild(buttons);
      li.appendChild(head);
      li.appendChild(el("p", "cn-item-text", item.text));
      li.appendChild(el("p", "cn-item-meta", "最后修改：" + (item.updated_by_name || item.updated_by) + " · " + fmt(item.updated_at)));
      list.appendChild(li);
    });
  }

  function startEdit(item) {
    state.editing = item.id;
    $("cn-form-title").textContent = "编辑常用语：" + item.title;
    $("cn-title").value = item.title;
    $("cn-text").value = item.text;
    $("cn-cancel").hidden = false;
    $("cn-error").hidden = true;
    render();
    $("cn-title").focus();
  }

  function resetForm() {
    state.editing = null;
    $("cn-form-title").textContent = "新增常用语";
    $("cn-title").value = "";
    $("cn-text").value = "";
    $("cn-cancel").hidden = true;
    $("cn-error").hidden = true;
    render();
  }

  function save(event) {
    event.preventDefault();
    var body = { title: $("cn-title").value, text: $("cn-text").value };
    var done = state.editing
      ? api(API + "/" + state.editing, body, "PUT")
      : api(API, body);
    $("cn-save").disabled = true;
    done.then(function (r) {
      $("cn-save").disabled = false;
      if (r.status !== 200 && r.status !== 201) {
        $("cn-error").textContent = (r.body && r.body.message) || "保存失败，请重试";
        $("cn-error").hidden = false;
        return;
      }
      toast(state.editing ? "已保存修改" : "已新增常用语");
      resetForm();
      load();
    }, function () {
      $("cn-save").disabled = false;
      $("cn-error").textContent = "网络异常，请稍后重试";
      $("cn-error").hidden = false;
    });
  }

  function remove(item) {
    if (!window.confirm("确定删除常用语“" + item.title + "”吗？删除后所有坐席都不再看到它。")) { return; }
    api(API + "/" + item.id, undefined, "DELETE").then(function (r) {
      if (r.status !== 200) { toast((r.body && r.body.message) || "删除失败，请重试"); }
      else { toast("已删除"); }
      if (state.editing === item.id) { resetForm(); }
      load();
    });
  }

  function start() {
    var timer = null;
    $("cn-search").addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(load, 200);
    });
    $("cn-form").addEventListener("submit", save);
    $("cn-cancel").addEventListener("click", resetForm);
    $("cn-logout").addEventListener("click", function () {
      api("/console/logout", {}).finally(function () { window.location.assign("/console/login"); });
    });
    api("/console/api/me").then(function (r) {
      if (r.status !== 200 || !r.body) { return; }
      state.me = r.body;
      $("cn-user-name").textContent = state.me.display_name;
      load();
    });
  }
  start();
})();
