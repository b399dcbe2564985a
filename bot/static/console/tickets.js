"use strict";
/* Ticket console: list with filters, details, timeline and actions.
   Data comes from /console/api/tickets*; every change sends X-CSRF-Token and
   the version the page showed, so a ticket changed by someone else is not
   overwritten. Text from the server is only ever set with textContent. */
(function () {
  var PAGE_SIZE = 20;
  var ROLE_NAMES = { agent: "客服坐席", supervisor: "班长/质检", department: "承办部门" };
  var CHANNEL_NAMES = { webchat: "网页咨询", wechat: "微信公众号", telegram: "Telegram", rest: "接口" };
  var EVENT_NAMES = {
    created: "受理", assigned: "派发", transferred: "转派", accepted: "签收",
    returned: "退回", replied: "答复", notified: "已告知市民", rated: "市民评价",
    reopened: "重新办理", closed: "办结", note: "备注", escalated: "督办",
    priority_changed: "调整优先级", merged: "合并", followup: "回访",
    extended: "延期", told: "已告知市民进展", not_told: "进展未送达，请电话告知"
  };
  var VIA_NAMES = { message: "消息", template: "模板消息" };
  var FOLLOWUP_NAMES = {
    call: "电话回访", message: "消息回访", satisfied: "市民满意", not_satisfied: "市民不满意",
    unreachable: "无法联系", messaged: "已留言，等待答复", reopened: "问题未解决，重新办理"
  };
  var RATING_NAMES = ["", "非常不满意", "不满意", "基本满意", "满意", "非常满意"];
  var OPEN = ["new", "assigned", "reopened"];

  var state = { me: null, meta: null, offset: 0, total: 0, current: null, names: {} };

  function $(id) { return document.getElementById(id); }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function fmt(iso) {
    if (!iso) { return "—"; }
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return iso; }
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " +
      two(d.getHours()) + ":" + two(d.getMinutes());
  }

  function shortDate(iso) {
    var full = fmt(iso);
    return full.length > 5 ? full.slice(5) : full;  // "12-04 23:59" in the list
  }

  // names: the display names of the console users on this ticket's timeline
  function actorName(actor, names) {
    if (actor === "citizen") { return "市民"; }
    if (actor === "system") { return "系统"; }
    if (actor === "bot") { return "智能助手"; }
    if (actor.indexOf("api:") === 0) { return "工单系统（" + actor.slice(4) + "）"; }
    return (names && names[actor]) || actor;
  }

  function api(path, options) {
    options = options || {};
    var init = { credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (options.body !== undefined) {
      init.method = "POST";
      init.headers["Content-Type"] = "application/json";
      init.headers["X-CSRF-Token"] = state.me ? state.me.csrf_token : "";
      init.body = JSON.stringify(options.body);
    }
    return fetch(path, init).then(function (resp) {
      if (resp.status === 401) {
        window.location.assign("/console/login");
        throw new Error("signed out");
      }
      return resp.json().then(function (body) { return { status: resp.status, body: body }; });
    });
  }

  function fill(select, items, keepFirst) {
    while (select.options.length > (keepFirst ? 1 : 0)) { select.remove(select.options.length - 1); }
    items.forEach(function (item) {
      var option = el("option", null, item.name);
      option.value = item.key;
      select.appendChild(option);
    });
  }

  function can(action) { return state.meta.actions.indexOf(action) >= 0; }

  // --- list -----------------------------------------------------------------
  function query() {
    var form = $("tk-filters");
    var params = new URLSearchParams();
    ["q", "status", "department", "category", "town", "priority"].forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value) { params.set(name, value); }
    });
    var flag = form.querySelector("input[name=flag]:checked").value;
    if (flag) { params.set("flag", flag); }
    params.set("limit", String(PAGE_SIZE));
    params.set("offset", String(state.offset));
    return params.toString();
  }

  function badge(text, kind) { return el("span", "tk-badge tk-badge-" + kind, text); }

  function deadlineCell(ticket) {
    var cell = el("td", "tk-deadline");
    var when = el("span", null, shortDate(ticket.deadline));
    when.title = fmt(ticket.deadline);
    cell.appendChild(when);
    var marks = el("div", "tk-marks");
    if (ticket.flags.overdue) { marks.appendChild(badge("超期", "danger")); }
    else if (ticket.flags.due_soon) { marks.appendChild(badge("临期", "warn")); }
    if (ticket.flags.escalated) { marks.appendChild(badge("督办", "danger-outline")); }
    if (marks.childNodes.length) { cell.appendChild(marks); }
    return cell;
  }

  function row(ticket) {
    var tr = el("tr");
    tr.tabIndex = 0;
    tr.dataset.number = ticket.number;
    if (ticket.flags.overdue) { tr.classList.add("is-overdue"); }
    else if (ticket.flags.due_soon) { tr.classList.add("is-due-soon"); }
    if (state.current && state.current.number === ticket.number) { tr.classList.add("is-selected"); }
    tr.appendChild(el("td", "tk-number", ticket.number));
    var kind = el("td", "tk-kind", ticket.category_name);
    kind.appendChild(el("small", null, ticket.type_name));
    tr.appendChild(kind);
    tr.appendChild(el("td", "tk-desc-cell", ticket.description));
    tr.appendChild(el("td", "tk-dept-cell", ticket.department_name + (ticket.town_name ? "（" + ticket.town_name + "）" : "")));
    var status = el("td");
    status.appendChild(badge(ticket.status_name, "status-" + ticket.status));
    if (ticket.needs_review) { status.appendChild(badge("待人工确认分类", "warn")); }
    tr.appendChild(status);
    tr.appendChild(el("td", "tk-prio-" + ticket.priority, state.names.priority[ticket.priority]));
    tr.appendChild(deadlineCell(ticket));
    tr.addEventListener("click", function () { openTicket(ticket.number); });
    tr.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { openTicket(ticket.number); }
    });
    return tr;
  }

  function loadList() {
    return api("/console/api/tickets?" + query()).then(function (result) {
      var rows = $("tk-rows");
      rows.textContent = "";
      if (result.status !== 200) {
        $("tk-summary").textContent = result.body.message || "查询失败";
        return;
      }
      var page = result.body;
      state.total = page.total;
      page.items.forEach(function (ticket) { rows.appendChild(row(ticket)); });
      $("tk-empty").hidden = page.items.length > 0;
      var overdue = page.items.filter(function (t) { return t.flags.overdue; }).length;
      $("tk-summary").textContent = "共 " + page.total + " 张工单" +
        (overdue ? "，本页 " + overdue + " 张已超期" : "");
      var pages = Math.max(1, Math.ceil(page.total / PAGE_SIZE));
      $("tk-page").textContent = "第 " + (Math.floor(state.offset / PAGE_SIZE) + 1) + " / " + pages + " 页";
      $("tk-prev").disabled = state.offset === 0;
      $("tk-next").disabled = state.offset + PAGE_SIZE >= page.total;
    });
  }

  // --- one ticket -------------------------------------------------------------
  function accepted(ticket) {
    for (var i = ticket.events.length - 1; i >= 0; i--) {
      var kind = ticket.events[i].kind;
      if (kind === "accepted") { return true; }
      if (kind === "assigned" || kind === "transferred") { return false; }
    }
    return false;
  }

  function allowed(action, ticket) {
    if (!can(action)) { return false; }
    var open = OPEN.indexOf(ticket.status) >= 0;
    switch (action) {
      case "reply": return ticket.status === "assigned";
      case "accept": return ticket.status === "assigned" && !accepted(ticket);
      case "return": return ticket.status === "assigned";
      case "extend": return ticket.status === "assigned";
      case "assign": return open;
      case "note": return true;
      default: return ticket.status !== "closed";
    }
  }

  function eventDetail(event) {
    var d = event.data || {};
    var parts = [];
    if (d.department_name) { parts.push("→ " + d.department_name); }
    if (d.deadline && event.kind !== "escalated") { parts.push("期限 " + fmt(d.deadline)); }
    if (d.to) { parts.push(state.names.priority[d.from] + " → " + state.names.priority[d.to]); }
    if (d.method) { parts.push(FOLLOWUP_NAMES[d.method]); }
    if (d.outcome) { parts.push(FOLLOWUP_NAMES[d.outcome] || d.outcome); }
    if (d.rating) { parts.push(d.rating + " 分（" + RATING_NAMES[d.rating] + "）"); }
    if (d.via === "followup") { parts.push("回访评价"); }
    if (d.into) { parts.push("并入 " + d.into); }
    if (d.channel && (event.kind === "notified" || event.kind === "told" || event.kind === "not_told")) {
      parts.push(CHANNEL_NAMES[d.channel] || d.channel);
    }
    if (d.about) { parts.push("事项：" + (EVENT_NAMES[d.about] || d.about)); }
    if (d.via && VIA_NAMES[d.via]) { parts.push(VIA_NAMES[d.via]); }
    if (d.days) { parts.push("延长 " + d.days + " 个工作日"); }
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
      head.appendChild(el("span", "tk-event-actor", actorName(event.actor, ticket.actor_names)));
      head.appendChild(el("time", null, fmt(event.at)));
      item.appendChild(head);
      var detail = eventDetail(event);
      if (detail) { item.appendChild(el("p", "tk-event-detail", detail)); }
      var text = event.data && (event.data.text || event.data.note);
      if (text) { item.appendChild(el("p", "tk-event-text", text)); }
      list.appendChild(item);
    });
  }

  function badges(ticket) {
    var box = $("d-badges");
    box.textContent = "";
    box.appendChild(badge(ticket.status_name, "status-" + ticket.status));
    if (ticket.flags.overdue) { box.appendChild(badge("已超期", "danger")); }
    else if (ticket.flags.due_soon) { box.appendChild(badge("24小时内到期", "warn")); }
    if (ticket.flags.escalated) { box.appendChild(badge("已督办", "danger-outline")); }
    if (ticket.needs_review) { box.appendChild(badge("待人工确认分类", "warn")); }
  }

  function show(ticket) {
    state.current = ticket;
    $("tk-placeholder").hidden = true;
    $("tk-ticket").hidden = false;
    $("d-number").textContent = "工单 " + ticket.number;
    $("d-sub").textContent = ticket.type_name + " · " + ticket.category_name;
    badges(ticket);
    $("d-description").textContent = ticket.description;
    $("d-location").textContent = ticket.location || "—";
    $("d-town").textContent = ticket.town_name || "未识别";
    $("d-confidence").textContent = ticket.category_confidence == null ? "—"
      : Math.round(ticket.category_confidence * 100) + "%" +
        (ticket.needs_review ? "（低于阈值，已转分拨中心人工确认）" : "");
    $("d-occurred").textContent = ticket.occurred_at || "—";
    $("d-channel").textContent = CHANNEL_NAMES[ticket.channel] || ticket.channel;
    $("d-created").textContent = fmt(ticket.created_at);
    $("d-name").textContent = ticket.anonymous ? "匿名" : (ticket.contact_name || "未留");
    $("d-phone").textContent = ticket.contact_phone || "未留";
    $("d-id").textContent = ticket.id_number || "未留";
    $("d-reveal").hidden = ticket.anonymous || !ticket.contact_phone;
    $("d-department").textContent = ticket.department_name;
    $("d-deadline").textContent = fmt(ticket.deadline);
    $("d-priority").textContent = state.names.priority[ticket.priority];
    $("d-notified").textContent = ticket.reply ? (ticket.notified ? "已告知" : "未送达，请电话告知") : "—";
    $("d-rating").textContent = ticket.rating ? ticket.rating + " 分（" + RATING_NAMES[ticket.rating] + "）" : "—";
    $("d-reply-box").hidden = !ticket.reply;
    $("d-reply").textContent = ticket.reply || "";
    var comments = $("d-comments");
    comments.textContent = "";
    ticket.citizen_comments.forEach(function (c) { comments.appendChild(el("li", null, c)); });
    $("d-comments-box").hidden = ticket.citizen_comments.length === 0;
    var any = false;
    document.querySelectorAll(".tk-action").forEach(function (form) {
      form.hidden = !allowed(form.dataset.action, ticket);
      any = any || !form.hidden;
    });
    $("d-actions").hidden = !any;
    $("d-error").hidden = true;
    timeline(ticket);
    document.querySelectorAll("#tk-rows tr").forEach(function (tr) {
      tr.classList.toggle("is-selected", tr.dataset.number === ticket.number);
    });
  }

  function openTicket(number) {
    return api("/console/api/tickets/" + encodeURIComponent(number)).then(function (result) {
      if (result.status === 200) {
        $("d-notice").hidden = true;
        show(result.body.ticket);
      } else {
        $("tk-ticket").hidden = true;
        $("tk-placeholder").hidden = false;
        $("tk-placeholder").textContent = result.body.message || "工单不存在";
      }
    });
  }

  function submitAction(form) {
    var ticket = state.current;
    var body = { version: ticket.version };
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name && field.value.trim()) { body[field.name] = field.value.trim(); }
    });
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    api("/console/api/tickets/" + encodeURIComponent(ticket.number) + "/" + form.dataset.action,
      { body: body }).then(function (result) {
      if (result.status === 200) {
        form.reset();
        show(result.body.ticket);
        var notice = $("d-notice");
        notice.hidden = false;
        notice.textContent = form.dataset.action === "reply"
          ? (result.body.notified ? "办理结果已提交，并已告知市民。" : "办理结果已提交，但未能送达市民，请电话告知。")
          : "操作成功。";
        return loadList();
      }
      var error = $("d-error");
      error.hidden = false;
      error.textContent = (result.body.message || "操作失败") +
        (result.status === 400 && result.body.error ? "（" + result.body.error + "）" : "");
      if (result.status === 404) { return loadList(); }
      return null;
    }).catch(function () {
      $("d-error").hidden = false;
      $("d-error").textContent = "网络异常，请稍后重试";
    }).finally(function () { button.disabled = false; });
  }

  // --- start ------------------------------------------------------------------
  function setUp(me, meta) {
    state.me = me;
    state.meta = meta;
    state.names.priority = {};
    meta.priorities.forEach(function (p) { state.names.priority[p.key] = p.name; });
    $("tk-user-name").textContent = me.display_name;
    $("tk-user-role").textContent = ROLE_NAMES[me.role] || me.role;
    $("tk-desk-link").hidden = me.role === "department";
    $("tk-followups-link").hidden = me.role === "department";
    $("tk-dashboard-link").hidden = me.role !== "supervisor" && me.role !== "department";
    fill($("f-status"), meta.statuses, true);
    fill($("f-department"), meta.departments, true);
    fill($("f-category"), meta.categories, true);
    fill($("f-town"), meta.towns, true);
    fill($("f-priority"), meta.priorities, true);
    fill($("a-department"), meta.assignable, false);
    fill($("a-priority"), meta.priorities, false);
    if (me.role === "department") {
      $("f-department").hidden = true;
      var dept = meta.departments.filter(function (d) { return d.key === me.department; })[0];
      if (dept) { $("tk-user-role").textContent = dept.name; }
    }
  }

  function bind() {
    // The full number is an explicit, audited action (contact_viewed).
    $("d-reveal").addEventListener("click", function () {
      var ticket = state.current;
      if (!ticket) { return; }
      api("/console/api/tickets/" + encodeURIComponent(ticket.number) + "/contact", { body: {} })
        .then(function (result) {
          if (result.status !== 200) { return; }
          var c = result.body.contact;
          $("d-name").textContent = c.contact_name || "未留";
          $("d-phone").textContent = c.contact_phone || "未留";
          $("d-id").textContent = c.id_number || "未留";
          $("d-reveal").hidden = true;
        });
    });
    $("tk-filters").addEventListener("submit", function (event) {
      event.preventDefault();
      state.offset = 0;
      loadList();
    });
    $("tk-reset").addEventListener("click", function () {
      $("tk-filters").reset();
      state.offset = 0;
      loadList();
    });
    $("tk-prev").addEventListener("click", function () {
      state.offset = Math.max(0, state.offset - PAGE_SIZE);
      loadList();
    });
    $("tk-next").addEventListener("click", function () {
      state.offset += PAGE_SIZE;
      loadList();
    });
    document.querySelectorAll(".tk-action").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        submitAction(form);
      });
    });
    $("tk-logout").addEventListener("click", function () {
      api("/console/logout", { body: {} }).finally(function () {
        window.location.assign("/console/login");
      });
    });
  }

  Promise.all([api("/console/api/me"), api("/console/api/ticket-meta")]).then(function (results) {
    setUp(results[0].body, results[1].body);
    bind();
    connectLive();
    var wanted = new URLSearchParams(window.location.search).get("ticket");
    return loadList().then(function () { if (wanted) { return openTicket(wanted); } return null; });
  }).catch(function () {
    $("tk-summary").textContent = "加载失败，请刷新页面";
  });
  window.setInterval(function () { if (state.meta) { loadList(); } }, 60000);

  // --- live: the console socket tells of tickets created or changed in this
  // user's scope; the list (and the open ticket, unless an action is being
  // typed) reloads at once.
  var live = { ws: null, retry: 0, due: null };
  function typing() {
    return Array.prototype.some.call(document.querySelectorAll(".tk-action textarea, .tk-action input"),
      function (field) { return field.type !== "hidden" && field.value.trim() !== ""; });
  }
  function onTickets(changes) {
    clearTimeout(live.due);
    live.due = setTimeout(function () { if (state.meta) { loadList(); } }, 150);
    var current = state.current && changes.some(function (c) { return c.number === state.current.number; });
    if (current && !typing()) { openTicket(state.current.number); }
  }
  function connectLive() {
    if (!state.me) { return; }
    var proto = window.location.protocol === "https:" ? "wss:" : "ws:";
    var ws = new WebSocket(proto + "//" + window.location.host + "/console/ws?view=tickets&csrf=" +
      encodeURIComponent(state.me.csrf_token));
    live.ws = ws;
    ws.onopen = function () { live.retry = 0; document.body.dataset.live = "on"; };
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame.type === "tickets" && Array.isArray(frame.changes)) { onTickets(frame.changes); }
      else if (frame.type === "error" && frame.code === "session_ended") { window.location.reload(); }
    };
    ws.onclose = function () {
      document.body.dataset.live = "off";
      live.retry = Math.min(live.retry + 1, 6);
      setTimeout(connectLive, 500 * Math.pow(2, live.retry - 1));
    };
  }
  window.setInterval(function () {
    if (live.ws && live.ws.readyState === 1) { live.ws.send(JSON.stringify({ type: "ping" })); }
  }, 25000);
})();
