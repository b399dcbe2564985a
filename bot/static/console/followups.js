"use strict";
/* Follow-up page (回访): tickets answered but not rated, the outcome form, the
   ticket's timeline. Data from /console/api/followups and /console/api/tickets;
   changes send X-CSRF-Token. Server text is only ever set with textContent. */
(function () {
  var EVENT_NAMES = {
    created: "受理", assigned: "派发", transferred: "转派", accepted: "签收",
    returned: "退回", replied: "答复", notified: "已告知市民", rated: "市民评价",
    reopened: "重新办理", closed: "办结", note: "备注", escalated: "督办",
    priority_changed: "调整优先级", merged: "合并", followup: "回访"
  };
  var METHOD_NAMES = { call: "电话回访", message: "消息回访" };
  var OUTCOME_NAMES = {
    satisfied: "市民满意", not_satisfied: "市民不满意", unreachable: "无法联系",
    messaged: "已留言，等待答复", reopened: "问题未解决，重新办理"
  };
  var state = { me: null, items: {}, current: null };

  var $ = ConsoleCommon.$;

  var el = ConsoleCommon.el;


  function fmt(iso) {
    if (!iso) { return "—"; }
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return iso; }
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " +
      two(d.getHours()) + ":" + two(d.getMinutes());
  }

  function actorName(actor) {
    if (actor === "citizen") { return "市民"; }
    if (actor === "system") { return "系统"; }
    if (actor === "bot") { return "智能助手"; }
    return actor;
  }

  function api(path, body) {
    return ConsoleCommon.api(path, body, state.me ? state.me.csrf_token : "");
  }


  function row(item, cells) {
    var tr = el("tr");
    tr.tabIndex = 0;
    tr.dataset.number = item.number;
    cells.forEach(function (text) { tr.appendChild(el("td", null, text)); });
    tr.addEventListener("click", function () { open(item.number); });
    tr.addEventListener("keydown", function (e) { if (e.key === "Enter") { open(item.number); } });
    return tr;
  }

  function fillList(items, bodyId, emptyId, cells) {
    var body = $(bodyId);
    body.textContent = "";
    items.forEach(function (item) {
      state.items[item.number] = item;
      body.appendChild(row(item, cells(item)));
    });
    $(emptyId).hidden = items.length > 0;
  }

  function load() {
    return api("/console/api/followups").then(function (result) {
      if (result.status !== 200) { throw new Error(result.body.message || "error"); }
      var data = result.body;
      state.items = {};
      $("fu-summary").textContent = "答复后 " + data.followup_days + " 天仍未评价的工单需回访；回访后 " +
        data.close_days + " 天仍无答复的自动办结。待回访 " + data.due.length + " 张，等待答复 " +
        data.awaiting.length + " 张。";
      fillList(data.due, "fu-due", "fu-due-empty", function (t) {
        return [t.number, t.category_name, t.description, t.department_name, fmt(t.replied_at),
          (t.contact_name || "—") + " " + (t.contact_phone || "")];
      });
      fillList(data.awaiting, "fu-awaiting", "fu-awaiting-empty", function (t) {
        var last = t.attempts[t.attempts.length - 1];
        return [t.number, t.category_name,
          fmt(last.at) + " " + (OUTCOME_NAMES[last.outcome] || last.outcome),
          String(t.attempts.length), fmt(t.close_at),
          (t.contact_name || "—") + " " + (t.contact_phone || "")];
      });
    }).catch(function () { $("fu-summary").textContent = "加载失败，请刷新页面"; });
  }

  function eventDetail(event) {
    var d = event.data || {};
    var parts = [];
    if (d.method) { parts.push(METHOD_NAMES[d.method] || d.method); }
    if (d.outcome) { parts.push(OUTCOME_NAMES[d.outcome] || d.outcome); }
    if (d.rating) { parts.push(d.rating + " 分"); }
    if (d.via === "followup") { parts.push("回访评价"); }
    if (d.reason) { parts.push("说明：" + d.reason); }
    return parts.join(" · ");
  }

  function timeline(ticket) {
    var list = $("d-timeline");
    list.textContent = "";
    ticket.events.slice().reverse().forEach(function (event) {
      var item = el("li", "tk-event tk-event-" + event.kind);
      var head = el("div", "tk-event-head");
      head.appendChild(el("strong", null, EVENT_NAMES[event.kind] || event.kind));
      head.appendChild(el("span", "tk-event-actor", actorName(event.actor)));
      head.appendChild(el("time", null, fmt(event.at)));
      item.appendChild(head);
      var detail = eventDetail(event);
      if (detail) { item.appendChild(el("p", "tk-event-detail", detail)); }
      var text = event.data && (event.data.text || event.data.note);
      if (text) { item.appendChild(el("p", "tk-event-text", text)); }
      list.appendChild(item);
    });
  }

  function show(ticket) {
    state.current = ticket;
    $("fu-placeholder").hidden = true;
    $("fu-ticket").hidden = false;
    $("d-number").textContent = ticket.number;
    $("d-sub").textContent = (ticket.category_name || ticket.category) + " · " +
      ticket.department_name + " · " + ticket.status_name;
    $("d-description").textContent = ticket.description;
    $("d-reply").textContent = ticket.reply || "—";
    $("d-name").textContent = ticket.contact_name || "—";
    $("d-phone").textContent = ticket.contact_phone || "—";
    $("fu-form").hidden = ticket.status !== "replied" || ticket.rating !== null;
    timeline(ticket);
  }

  function open(number) {
    $("fu-error").hidden = true;
    $("fu-done").hidden = true;
    return api("/console/api/tickets/" + encodeURIComponent(number)).then(function (result) {
      if (result.status !== 200) { throw new Error(result.body.message); }
      show(result.body.ticket);
    }).catch(function (err) {
      $("fu-error").textContent = err.message || "加载失败";
      $("fu-error").hidden = false;
    });
  }

  function ratingShown() {
    var outcome = $("fu-outcome").value;
    var shown = outcome === "satisfied" || outcome === "not_satisfied";
    $("fu-rating").hidden = !shown;
    $("fu-rating-label").hidden = !shown;
    if (outcome === "not_satisfied" && Number($("fu-rating").value) > 2) { $("fu-rating").value = "2"; }
    if (outcome === "satisfied" && Number($("fu-rating").value) < 3) { $("fu-rating").value = "5"; }
  }

  function submit(event) {
    event.preventDefault();
    var form = $("fu-form");
    var ticket = state.current;
    if (!ticket) { return; }
    var body = {
      method: form.querySelector("input[name=method]:checked").value,
      outcome: $("fu-outcome").value,
      note: $("fu-note").value.trim() || null,
      version: ticket.version
    };
    if (!$("fu-rating").hidden) { body.rating = Number($("fu-rating").value); }
    $("fu-error").hidden = true;
    api("/console/api/followups/" + encodeURIComponent(ticket.number), body).then(function (result) {
      if (result.status !== 200) {
        $("fu-error").textContent = result.body.message + "（" + result.body.error + "）";
        $("fu-error").hidden = false;
        return;
      }
      $("fu-note").value = "";
      show(result.body.ticket);
      $("fu-done").textContent = "回访结果已保存";
      $("fu-done").hidden = false;
      load();
    });
  }

  function reveal() {
    if (!state.current) { return; }
    api("/console/api/tickets/" + encodeURIComponent(state.current.number) + "/contact", {})
      .then(function (result) {
        if (result.status === 200) {
          $("d-name").textContent = result.body.contact.contact_name || "—";
          $("d-phone").textContent = result.body.contact.contact_phone || "—";
        }
      });
  }

  function bind() {
    $("fu-form").addEventListener("submit", submit);
    $("fu-outcome").addEventListener("change", ratingShown);
    $("d-reveal").addEventListener("click", reveal);
    $("fu-logout").addEventListener("click", function () {
      api("/console/logout", {}).finally(function () { window.location.assign("/console/login"); });
    });
  }

  api("/console/api/me").then(function (result) {
    state.me = result.body;
    $("fu-user-name").textContent = state.me.display_name;
    $("fu-dashboard-link").hidden = state.me.role !== "supervisor";
    bind();
    ratingShown();
    return load();
  }).catch(function () { $("fu-summary").textContent = "加载失败，请刷新页面"; });
})();
