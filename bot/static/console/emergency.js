"use strict";
/* The emergency switch (GET/POST /console/api/emergency): everyone signed in
   sees the state, the history and the reports; supervisors switch. Text from
   the server is only ever set with textContent. */
(function () {
  var state = { me: null, data: null };
  var KIND_NAMES = { faq: "常见问题", guide: "办事指南", ticket: "工单" };
  var OUTCOME_NAMES = {
    sent: "已发送", outside_window: "超出微信48小时窗口", rate_limited: "频率受限",
    blocked: "用户已屏蔽", no_channel: "渠道未启用", error: "发送失败"
  };

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

  function secs(value) {
    if (value === null || value === undefined) { return "—"; }
    return Math.round(value) + " 秒";
  }

  function api(path, body) {
    return ConsoleCommon.api(path, body, state.me ? state.me.csrf_token : "");
  }


  function say(text, error) {
    var node = $("em-message");
    node.textContent = text || "";
    node.classList.toggle("is-error", !!error);
  }

  function faqName(id) {
    var found = (state.data.faq_choices || []).filter(function (c) { return c.id === id; })[0];
    return found ? found.question : id;
  }

  function renderState() {
    var s = state.data.state;
    var node = $("em-state");
    node.classList.toggle("is-on", s.active && !s.drill);
    node.classList.toggle("is-drill", s.active && s.drill);
    node.textContent = s.active ? (s.drill ? "应急演练进行中" : "应急模式已开启") : "应急模式未开启";
    $("em-details").hidden = !s.active;
    if (s.active) {
      $("em-notice").textContent = s.notice;
      $("em-since").textContent = fmt(s.switched_at);
      $("em-by").textContent = s.switched_by;
      $("em-faq").textContent = s.faq.length ? s.faq.map(faqName).join("；") : "无";
      $("em-keywords").textContent = s.keywords.length ? s.keywords.join("、") : "无";
    }
    var can = state.data.can_switch;
    $("em-readonly").hidden = can;
    $("em-off-box").hidden = !(can && s.active);
    $("em-on-box").hidden = !(can && !s.active);
    $("em-window").textContent = String(state.data.broadcast_window_hours);
  }

  function fillFaq() {
    var select = $("em-faq-input");
    if (select.options.length) { return; }
    (state.data.faq_choices || []).forEach(function (choice) {
      var option = el("option", null, "【" + choice.domain + "】" + choice.question);
      option.value = choice.id;
      select.appendChild(option);
    });
  }

  function renderPeriods() {
    var rows = $("em-periods");
    rows.textContent = "";
    (state.data.periods || []).forEach(function (p) {
      var tr = el("tr");
      tr.appendChild(el("td", null, "#" + p.id));
      tr.appendChild(el("td", null, p.drill ? "演练" : "应急"));
      tr.appendChild(el("td", null, fmt(p.started_at)));
      tr.appendChild(el("td", null, p.ended_at ? fmt(p.ended_at) : "进行中"));
      tr.appendChild(el("td", null, p.notice));
      var td = el("td");
      var button = el("button", "tk-btn tk-btn-ghost", "查看报告");
      button.type = "button";
      button.dataset.id = String(p.id);
      button.addEventListener("click", function () { showReport(p.id); });
      td.appendChild(button);
      tr.appendChild(td);
      rows.appendChild(tr);
    });
    $("em-periods-empty").hidden = (state.data.periods || []).length > 0;
  }

  function fact(list, name, value) {
    list.appendChild(el("dt", null, name));
    list.appendChild(el("dd", null, value));
  }

  function showReport(id) {
    return api("/console/api/emergency/report?id=" + encodeURIComponent(id)).then(function (result) {
      if (result.status !== 200) { say(result.body.message || "报告加载失败", true); return; }
      var r = result.body;
      var p = r.period;
      $("em-report").hidden = false;
      $("em-report-title").textContent = (r.drill ? "演练报告" : "应急报告") + " #" + p.id;
      var facts = $("em-report-facts");
      facts.textContent = "";
      fact(facts, "期间", fmt(p.started_at) + " 至 " + (p.ended_at ? fmt(p.ended_at) : "现在（进行中）") +
        "（" + Math.round(p.seconds / 60) + " 分钟）");
      fact(facts, "类型", r.drill ? "演练（数据不计入全市统计）" : "应急");
      fact(facts, "通知", p.notice);
      fact(facts, "市民消息", r.messages.from_citizens + " 条（" + Object.keys(r.messages.by_channel).map(function (c) {
        return c + " " + r.messages.by_channel[c];
      }).join("，") + "）");
      fact(facts, "会话", r.conversations + " 个");
      fact(facts, "未能理解", r.fallbacks + " 次");
      var h = r.handoffs;
      fact(facts, "转人工", h.total + " 次（与事件相关 " + h.incident + "），已接入 " + h.claimed +
        "，放弃 " + h.abandoned + "，仍在等待 " + h.waiting);
      fact(facts, "等待时长", "中位数 " + secs(h.wait_median_seconds) + "，90% " +
        secs(h.wait_p90_seconds) + "，最长 " + secs(h.wait_max_seconds));
      var outcomes = r.broadcast.outcomes;
      fact(facts, "群发通知", r.broadcast.recipients + " 人" + (r.broadcast.recipients ? "（" +
        Object.keys(outcomes).map(function (k) { return (OUTCOME_NAMES[k] || k) + " " + outcomes[k]; }).join("，") + "）" : ""));
      var rows = $("em-topics");
      rows.textContent = "";
      r.topics.forEach(function (t) {
        var tr = el("tr");
        tr.appendChild(el("td", null, KIND_NAMES[t.kind] || t.kind));
        tr.appendChild(el("td", null, t.label));
        tr.appendChild(el("td", null, t.count));
        rows.appendChild(tr);
      });
      $("em-report").scrollIntoView({ block: "nearest" });
      if (!r.topics.length) {
        var empty = el("tr");
        var cell = el("td", null, "无");
        cell.colSpan = 3;
        empty.appendChild(cell);
        rows.appendChild(empty);
      }
    });
  }

  function load() {
    return api("/console/api/emergency").then(function (result) {
      if (result.status !== 200) { say(result.body.message || "加载失败", true); return; }
      state.data = result.body;
      fillFaq();
      renderState();
      renderPeriods();
    });
  }

  function words(text) {
    return text.split(/[\s,，、;；]+/).map(function (w) { return w.trim(); }).filter(Boolean);
  }

  function switchOn(event) {
    event.preventDefault();
    var notice = $("em-notice-input").value.trim();
    if (!notice) { say("请填写应急通知内容", true); $("em-notice-input").focus(); return; }
    var faq = Array.prototype.filter.call($("em-faq-input").options, function (o) { return o.selected; })
      .map(function (o) { return o.value; });
    var body = {
      action: "on", notice: notice, faq: faq, keywords: words($("em-keywords-input").value),
      drill: $("em-drill-input").checked, broadcast: $("em-broadcast-input").checked
    };
    $("em-on").disabled = true;
    api("/console/api/emergency", body).then(function (result) {
      if (result.status !== 200) { say(result.body.message || "开启失败", true); return; }
      say(body.drill ? "应急演练已开启" : "应急模式已开启" + (body.broadcast ? "，正在发送通知" : ""));
      $("em-form").reset();
      return load();
    }).catch(function () { say("网络异常，请稍后重试", true); })
      .finally(function () { $("em-on").disabled = false; });
  }

  function switchOff() {
    if (!window.confirm("确定关闭应急模式吗？关闭后各渠道不再显示应急通知。")) { return; }
    $("em-off").disabled = true;
    api("/console/api/emergency", { action: "off" }).then(function (result) {
      if (result.status !== 200) { say(result.body.message || "关闭失败", true); return; }
      say("应急模式已关闭，可在下方查看本次报告");
      return load().then(function () {
        var latest = (state.data.periods || [])[0];
        if (latest) { return showReport(latest.id); }
      });
    }).catch(function () { say("网络异常，请稍后重试", true); })
      .finally(function () { $("em-off").disabled = false; });
  }

  function bind() {
    $("em-form").addEventListener("submit", switchOn);
    $("em-off").addEventListener("click", switchOff);
    $("em-logout").addEventListener("click", function () {
      api("/console/logout", {}).finally(function () { window.location.assign("/console/login"); });
    });
  }

  api("/console/api/me").then(function (result) {
    state.me = result.body;
    $("em-user-name").textContent = state.me.display_name;
    $("em-desk-link").hidden = state.me.role === "department";
    $("em-followups-link").hidden = state.me.role === "department";
    $("em-audit-link").hidden = state.me.role !== "supervisor";
    $("em-dashboard-link").hidden = state.me.role !== "supervisor" && state.me.role !== "department";
    $("em-knowledge-link").hidden = state.me.role !== "supervisor";
    bind();
    return load();
  }).catch(function () { say("加载失败，请刷新页面", true); });
})();
