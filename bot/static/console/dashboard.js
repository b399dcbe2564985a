"use strict";
/* The supervisors' dashboard (GET /console/dashboard).

   今日实时 (supervisors): GET /console/api/wallboard every 10 s, the time of
   the last good read shown; a failed read keeps the last figures and says so.
   时段分析 (supervisors and department users): GET /console/api/figures with
   the form's query (the server scopes a department user to its own
   department); one chart per city figure over the periods, each with its
   table one click away ("查看表格"), top questions, complaint categories and
   the low ratings with the citizens' comments; CSV / Excel links carry the
   same query. 404 from the figures API: "统计数据暂不可用".
   Below: the scheduled reports (a department user: its own) and, for
   supervisors, the backups' status (bot/ops; "尚无" while there is none).
   Text from the server is only ever set with textContent. */
(function () {
  var REFRESH_MS = 10000;
  var ROLE_NAMES = { agent: "客服坐席", supervisor: "班长/质检", department: "承办部门" };
  var CHANNEL_NAMES = { wechat: "微信", webchat: "网页", telegram: "Telegram", rest: "接口" };
  var SOURCE_NAMES = { assistant: "智能助手", agent: "人工坐席", ticket: "工单办理" };
  var PERIOD_NAMES = { daily: "日报", weekly: "周报", monthly: "月报" };
  var GROUP_NAMES = { day: "日", week: "周", month: "月" };
  /* Names used when the document has no "labels" (docs/figures.md keys). */
  var FIGURE_NAMES = {
    message_answered_5s_rate: "消息5秒应答率",
    handoff_answered_20s_rate: "人工20秒接通率",
    handoff_answered_60s_rate: "人工60秒接通率",
    handoff_abandoned_rate: "放弃率",
    resolved_by_assistant_rate: "智能助手解决率",
    resolved_by_agent_rate: "人工解决率",
    ticket_closed_not_reopened_rate: "工单办结率(未重办)",
    ticket_on_time_rate: "按时办结率",
    satisfaction_assistant_rate: "智能助手满意率",
    satisfaction_agent_rate: "人工服务满意率",
    satisfaction_ticket_rate: "工单办理满意率",
    online_success_rate: "网上办理成功率",
    containment_rate: "自助率(无人工介入)"
  };
  var CHARTS = [
    { id: "answer", title: "接通率",
      keys: ["message_answered_5s_rate", "handoff_answered_20s_rate", "handoff_answered_60s_rate"] },
    { id: "resolve", title: "问题解决率",
      keys: ["resolved_by_assistant_rate", "resolved_by_agent_rate",
             "ticket_closed_not_reopened_rate", "ticket_on_time_rate"] },
    { id: "satisfaction", title: "满意度",
      keys: ["satisfaction_assistant_rate", "satisfaction_agent_rate", "satisfaction_ticket_rate"] },
    { id: "online", title: "网上业务办理成功率", keys: ["online_success_rate"] }
  ];
  var TILES = ["message_answered_5s_rate", "handoff_answered_20s_rate", "resolved_by_assistant_rate",
               "ticket_closed_not_reopened_rate", "satisfaction_ticket_rate", "online_success_rate"];
  /* High contrast on white, told apart by dash pattern too (projector, colour blindness). */
  var COLORS = ["#0b3d91", "#b3261e", "#1b6e35", "#6a1b9a"];
  var DASHES = [[], [10, 5], [3, 4], [14, 4, 3, 4]];
  var POINTS = ["circle", "rect", "triangle", "rectRot"];

  var state = { me: null, names: { department: {}, category: {} }, charts: {}, live: null,
                timer: null, doc: null };

  var $ = ConsoleCommon.$;

  var el = ConsoleCommon.el;


  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  function two(n) { return (n < 10 ? "0" : "") + n; }

  function clock(d) { return two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds()); }

  function isoDay(d) { return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()); }

  function when(iso) {
    var d = new Date(iso);
    return isNaN(d.getTime()) ? String(iso || "") : isoDay(d) + " " + two(d.getHours()) + ":" + two(d.getMinutes());
  }

  function pct(value) {
    return value === null || value === undefined ? "—" : (value * 100).toFixed(1) + "%";
  }

  function fraction(figure) {
    if (!figure) { return "—"; }
    if (figure.applicable === false) { return "不适用"; }
    var text = pct(figure.value);
    if (figure.denominator !== undefined) { text += "（" + figure.numerator + "/" + figure.denominator + "）"; }
    return text;
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) { return "无人排队"; }
    if (seconds < 60) { return seconds + "秒"; }
    var m = Math.floor(seconds / 60);
    if (m < 60) { return m + "分" + two(seconds % 60) + "秒"; }
    return Math.floor(m / 60) + "小时" + two(m % 60) + "分";
  }

  function figureName(key) {
    var labels = state.doc && state.doc.labels;
    return (labels && labels[key]) || FIGURE_NAMES[key] || key;
  }

  function api(path, body) {
    return ConsoleCommon.api(path, body, state.me ? state.me.csrf_token : "");
  }


  /* --- charts with their tables -------------------------------------------- */
  function chartDefaults() {
    if (!window.Chart) { return; }
    window.Chart.defaults.font.size = 18;
    window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    window.Chart.defaults.color = "#111";
    window.Chart.defaults.borderColor = "#c7ced8";
    window.Chart.defaults.animation = false;
  }

  /* A card: title, a canvas (aria-hidden: the table says the same), and
     "查看表格" toggling an accessible table built by fillTable. */
  function card(container, id, title) {
    clear(container);
    container.appendChild(el("h2", null, title));
    var wrap = el("div", "db-chart");
    var canvas = el("canvas");
    canvas.id = "chart-" + id;
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", title + "（图表，详细数据见表格）");
    wrap.appendChild(canvas);
    container.appendChild(wrap);
    var toggle = el("button", "tk-btn db-btn db-toggle", "查看表格");
    toggle.type = "button";
    toggle.id = "toggle-" + id;
    toggle.setAttribute("aria-expanded", "false");
    toggle.setAttribute("aria-controls", "table-" + id);
    var tableWrap = el("div", "db-table-wrap");
    tableWrap.id = "table-" + id;
    tableWrap.hidden = true;
    toggle.addEventListener("click", function () {
      var open = tableWrap.hidden;
      tableWrap.hidden = !open;
      toggle.textContent = open ? "隐藏表格" : "查看表格";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
    container.appendChild(toggle);
    container.appendChild(tableWrap);
    return { canvas: canvas, tableWrap: tableWrap };
  }

  function fillTable(tableWrap, caption, headers, rows) {
    clear(tableWrap);
    var table = el("table", "tk-table db-table");
    table.appendChild(el("caption", null, caption));
    var head = el("thead");
    var tr = el("tr");
    headers.forEach(function (h) {
      var th = el("th", null, h);
      th.scope = "col";
      tr.appendChild(th);
    });
    head.appendChild(tr);
    table.appendChild(head);
    var body = el("tbody");
    rows.forEach(function (row) {
      var line = el("tr");
      row.forEach(function (cell, i) {
        var node = el(i === 0 ? "th" : "td", null, cell);
        if (i === 0) { node.scope = "row"; }
        line.appendChild(node);
      });
      body.appendChild(line);
    });
    table.appendChild(body);
    tableWrap.appendChild(table);
  }

  function draw(id, canvas, config) {
    if (state.charts[id]) { state.charts[id].destroy(); delete state.charts[id]; }
    if (!window.Chart) { return; }
    state.charts[id] = new window.Chart(canvas, config);
  }

  function percentAxis() {
    return { min: 0, max: 100, ticks: { callback: function (v) { return v + "%"; } } };
  }

  /* --- 今日实时 ------------------------------------------------------------ */
  function renderLive(board) {
    $("wb-queue").textContent = board.queue.length + " 人";
    $("wb-longest").textContent = duration(board.queue.longest_wait_seconds);
    $("wb-agents").textContent = board.agents.online + " 人";
    $("wb-agents-away").textContent = board.agents.away ? "暂离 " + board.agents.away + " 人" : "";
    $("wb-answer").textContent = pct(board.answer_rate.value);
    $("wb-answer-note").textContent = board.answer_rate.numerator + "/" + board.answer_rate.denominator +
      " 条" + (board.answer_rate.pending ? "，" + board.answer_rate.pending + " 条待回复" : "");
    $("wb-handoff").textContent = pct(board.handoffs.value);
    $("wb-handoff-note").textContent = board.handoffs.numerator + "/" + board.handoffs.denominator +
      " 次" + (board.handoffs.pending ? "，" + board.handoffs.pending + " 次等待中" : "");
    $("wb-messages").textContent = board.messages_today + " 条";
    var hours = board.messages_per_hour;
    var labels = hours.map(function (h) { return h.hour + "时"; });
    var citizen = hours.map(function (h) { return h.citizen; });
    var replies = hours.map(function (h) { return h.replies; });
    if (!state.live) {
      state.live = card($("card-hourly"), "hourly", "今日每小时消息量");
    }
    fillTable(state.live.tableWrap, "今日每小时消息量（" + board.day + "）", ["时段", "群众消息", "回复"],
      hours.map(function (h) { return [two(h.hour) + ":00-" + two(h.hour) + ":59", h.citizen, h.replies]; }));
    var chart = state.charts.hourly;
    if (chart) {
      chart.data.datasets[0].data = citizen;
      chart.data.datasets[1].data = replies;
      chart.update("none");
      return;
    }
    draw("hourly", state.live.canvas, {
      type: "bar",
      data: { labels: labels, datasets: [
        { label: "群众消息", data: citizen, backgroundColor: COLORS[0] },
        { label: "回复", data: replies, backgroundColor: "#8fa9d6" }
      ] },
      options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }

  function refreshLive() {
    window.clearTimeout(state.timer);
    return api("/console/api/wallboard").then(function (r) {
      if (r.status !== 200) { throw new Error(String(r.status)); }
      renderLive(r.body);
      $("live-updated").textContent = "更新于 " + clock(new Date()) + "（每 10 秒自动刷新）";
      $("live-error").hidden = true;
    }).catch(function () {
      var error = $("live-error");
      error.textContent = "刷新失败，10 秒后重试；显示的是上次成功读取的数据。";
      error.hidden = false;
    }).finally(function () {
      state.timer = window.setTimeout(refreshLive, REFRESH_MS);
    });
  }

  /* --- 时段分析 ------------------------------------------------------------ */
  function query() {
    var form = $("period-form");
    var params = new URLSearchParams();
    ["since", "until", "group", "channel", "category", "department", "town"].forEach(function (name) {
      var field = form.elements[name];
      if (field && field.value && !(name === "department" && state.me.role === "department")) {
        params.set(name, field.value);
      }
    });
    return params.toString();
  }

  function updateExports() {
    var q = query();
    $("export-csv").href = "/console/api/figures.csv?" + q;
    $("export-xlsx").href = "/console/api/figures.xlsx?" + q;
  }

  function message(text, kind) {
    var node = $("period-message");
    node.textContent = text || "";
    node.className = "db-message" + (kind ? " db-message-" + kind : "");
  }

  function renderTiles(doc) {
    var box = $("period-tiles");
    clear(box);
    TILES.forEach(function (key) {
      var figure = doc.figures[key];
      if (!figure) { return; }
      var tile = el("div", "db-tile");
      tile.appendChild(el("span", "db-tile-label", figureName(key)));
      tile.appendChild(el("span", "db-tile-value", figure.applicable === false ? "不适用" : pct(figure.value)));
      var note = figure.applicable === false ? "本范围不统计此项" :
        figure.numerator + "/" + figure.denominator;
      if (key === "online_success_rate" && figure.coverage !== undefined && figure.applicable !== false) {
        note += "，回答覆盖率 " + pct(figure.coverage);
      }
      tile.appendChild(el("span", "db-tile-note", note));
      box.appendChild(tile);
    });
  }

  function renderSeriesCharts(doc) {
    var grid = $("period-charts");
    clear(grid);
    var periods = doc.series.map(function (s) { return s.period; });
    CHARTS.forEach(function (spec) {
      var keys = spec.keys.filter(function (k) { return doc.figures[k] && doc.figures[k].applicable !== false; });
      var box = el("div", "db-card");
      box.id = "card-" + spec.id;
      grid.appendChild(box);
      var parts = card(box, spec.id, spec.title + "（按" + GROUP_NAMES[doc.group || "day"] + "）");
      if (!keys.length) {
        box.insertBefore(el("p", "db-note", "当前统计范围不适用此项指标。"), parts.canvas.parentNode);
        parts.canvas.parentNode.hidden = true;
        box.querySelector(".db-toggle").hidden = true;
        return;
      }
      fillTable(parts.tableWrap, spec.title, ["时段"].concat(keys.map(figureName)),
        doc.series.map(function (s) {
          return [s.period].concat(keys.map(function (k) { return fraction(s.figures[k]); }));
        }));
      draw(spec.id, parts.canvas, {
        type: "line",
        data: { labels: periods, datasets: keys.map(function (k, i) {
          return {
            label: figureName(k),
            data: doc.series.map(function (s) {
              var f = s.figures[k];
              return f && f.value !== null && f.value !== undefined ? Math.round(f.value * 1000) / 10 : null;
            }),
            borderColor: COLORS[i % COLORS.length], backgroundColor: COLORS[i % COLORS.length],
            borderDash: DASHES[i % DASHES.length], borderWidth: 3, spanGaps: false,
            pointStyle: POINTS[i % POINTS.length], pointRadius: 6
          };
        }) },
        options: { maintainAspectRatio: false, scales: { y: percentAxis() },
                   plugins: { legend: { labels: { usePointStyle: true } }, tooltip: { callbacks: { label: function (c) {
                     return c.dataset.label + "：" + (c.parsed.y === null ? "无数据" : c.parsed.y + "%");
                   } } } } }
      });
    });
  }

  function trend(row) {
    if (row.change === undefined || row.change === null) { return "—"; }
    var sign = row.change > 0 ? "+" : "";
    var rate = row.change_rate === null || row.change_rate === undefined ? "" :
      "（" + sign + (row.change_rate * 100).toFixed(0) + "%）";
    return sign + row.change + rate;
  }

  function renderRanking(containerId, id, title, rows, nameHeader) {
    var box = $(containerId);
    var parts = card(box, id, title);
    var top = rows.slice(0, 10);
    if (!rows.length) {
      box.insertBefore(el("p", "db-note", "本时段尚无数据。"), parts.canvas.parentNode);
      parts.canvas.parentNode.hidden = true;
    }
    fillTable(parts.tableWrap, title, ["排名", nameHeader, "次数", "上一时段", "变化"],
      rows.map(function (r, i) { return [i + 1, r.label || r.key, r.count, r.previous, trend(r)]; }));
    if (!rows.length) { return; }
    draw(id, parts.canvas, {
      type: "bar",
      data: { labels: top.map(function (r) { return r.label || r.key; }),
              datasets: [{ label: "次数", data: top.map(function (r) { return r.count; }),
                           backgroundColor: COLORS[0] }] },
      options: { indexAxis: "y", maintainAspectRatio: false, plugins: { legend: { display: false } },
                 scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }

  function name(kind, key) { return (key && state.names[kind][key]) || key || "未指定"; }

  function renderLowRatings(rows) {
    var box = $("low-ratings-body");
    clear(box);
    if (!rows.length) {
      box.appendChild(el("p", "db-note", "本时段没有低分评价。"));
      return;
    }
    var groups = {};
    var order = [];
    rows.forEach(function (r) {
      var k = (r.department || "") + "|" + (r.category || "");
      if (!groups[k]) { groups[k] = { department: r.department, category: r.category, items: [] }; order.push(k); }
      groups[k].items.push(r);
    });
    order.sort(function (a, b) { return groups[b].items.length - groups[a].items.length; });
    var table = el("table", "tk-table db-table");
    table.id = "low-ratings-table";
    table.appendChild(el("caption", null, "低分评价（" + rows.length + " 条）"));
    var head = el("tr");
    ["承办部门", "诉求类别", "低分条数", "平均评分", "群众留言"].forEach(function (h) {
      var th = el("th", null, h);
      th.scope = "col";
      head.appendChild(th);
    });
    var thead = el("thead");
    thead.appendChild(head);
    table.appendChild(thead);
    var body = el("tbody");
    order.forEach(function (k) {
      var g = groups[k];
      var sum = g.items.reduce(function (s, r) { return s + (r.rating || 0); }, 0);
      var tr = el("tr");
      var th = el("th", null, name("department", g.department));
      th.scope = "row";
      tr.appendChild(th);
      tr.appendChild(el("td", null, name("category", g.category)));
      tr.appendChild(el("td", null, g.items.length));
      tr.appendChild(el("td", null, (sum / g.items.length).toFixed(1) + " 分"));
      var cell = el("td");
      var list = el("ul", "db-comments");
      g.items.forEach(function (r) {
        var li = el("li");
        li.appendChild(el("span", "db-rating", r.rating + " 分"));
        li.appendChild(el("span", "db-comment", r.comment ? "“" + r.comment + "”" : "（未留言）"));
        var ref = r.ticket_number ? "工单 " + r.ticket_number : (r.conversation_id || "");
        var meta = [SOURCE_NAMES[r.source] || "", ref, r.at ? when(r.at) : ""].filter(Boolean).join(" · ");
        li.appendChild(el("small", null, meta));
        list.appendChild(li);
      });
      cell.appendChild(list);
      tr.appendChild(cell);
      body.appendChild(tr);
    });
    table.appendChild(body);
    var wrap = el("div", "db-table-wrap");
    wrap.appendChild(table);
    box.appendChild(wrap);
  }

  function fillTowns(doc) {
    var select = $("f-town");
    var chosen = select.value;
    var towns = (doc.breakdowns && doc.breakdowns.town) || [];
    var known = {};
    Array.prototype.forEach.call(select.options, function (o) { known[o.value] = true; });
    towns.forEach(function (t) {
      if (!known[t.key]) {
        var option = el("option", null, t.label || t.key);
        option.value = t.key;
        select.appendChild(option);
      }
    });
    select.value = chosen;
  }

  function renderPeriod(doc) {
    state.doc = doc;
    var tables = doc.tables || {};
    var scope = doc.scope && doc.scope.department ?
      "仅统计本部门（" + name("department", doc.scope.department) + "）的工单相关指标" : "全市热线";
    $("period-scope").textContent = scope + "；" + doc.since + " 至 " + doc.until +
      "；统计时间 " + when(doc.generated_at) + (doc.drills_excluded ? "；不含应急演练数据" : "");
    renderTiles(doc);
    renderSeriesCharts(doc);
    renderRanking("card-top-questions", "top-questions", "热点问题", tables.top_questions || [], "问题");
    renderRanking("card-complaints", "complaints", "投诉类别", tables.complaint_categories || [], "类别");
    renderLowRatings(tables.low_ratings || []);
    fillTowns(doc);
    $("period-content").hidden = false;
  }

  function loadPeriod() {
    updateExports();
    message("正在统计…");
    return api("/console/api/figures?" + query()).then(function (r) {
      if (r.status === 200 && r.body && r.body.figures) {
        message("");
        renderPeriod(r.body);
        return;
      }
      $("period-content").hidden = true;
      if (r.status === 404) {
        message("统计数据暂不可用：统计服务尚未启用，请稍后再试或联系管理员。", "warn");
      } else if (r.status === 403) {
        message("您没有权限查看统计数据。", "warn");
      } else {
        message((r.body && r.body.message) || "统计失败，请稍后重试。", "error");
      }
    }).catch(function (err) {
      if (err && err.message === "signed out") { return; }
      $("period-content").hidden = true;
      message("统计数据暂不可用：无法连接服务器，请稍后重试。", "error");
    });
  }

  /* --- 定期报表与备份 ------------------------------------------------------ */
  function none(box, text) {
    clear(box);
    box.appendChild(el("p", "db-note", text));
  }

  function loadReports() {
    var box = $("reports-body");
    return api("/console/api/scheduled-reports").then(function (r) {
      var items = r.status === 200 && r.body ? (Array.isArray(r.body) ? r.body : r.body.items || []) : [];
      if (!items.length) { none(box, "尚无定期报表。"); return; }
      clear(box);
      var list = el("ul", "db-reports");
      items.slice(0, 12).forEach(function (item) {
        var li = el("li");
        li.appendChild(el("strong", null, PERIOD_NAMES[item.period] || item.period));
        li.appendChild(el("span", "db-report-scope", item.department ? name("department", item.department) : "全市"));
        li.appendChild(el("span", null, " " + item.since + " 至 " + item.until + " "));
        (item.formats || []).forEach(function (fmt) {
          var a = el("a", "db-link", fmt === "xlsx" ? "Excel" : fmt.toUpperCase());
          a.href = "/console/api/scheduled-reports/" + encodeURIComponent(item.id) + "." + fmt;
          a.setAttribute("download", "");
          li.appendChild(a);
        });
        li.appendChild(el("small", null, "生成于 " + when(item.created_at)));
        list.appendChild(li);
      });
      box.appendChild(list);
    }).catch(function () { none(box, "尚无定期报表。"); });
  }

  function statusLine(label, ok, text) {
    var p = el("p", "db-status " + (ok ? "is-ok" : "is-bad"));
    p.appendChild(el("strong", null, label + "：" + (ok ? "成功" : "失败")));
    p.appendChild(el("span", null, " " + text));
    return p;
  }

  function backupText(b) {
    var size = typeof b.bytes === "number" ? "，" + (b.bytes / 1048576).toFixed(1) + " MB" : "";
    return when(b.at) + (b.file ? "，" + b.file : "") + size + (b.error ? "，原因：" + b.error : "");
  }

  function loadBackups() {
    var box = $("backups-body");
    return api("/console/api/ops/backups").then(function (r) {
      if (r.status !== 200 || !r.body) { none(box, "尚无备份记录。"); return; }
      clear(box);
      var b = r.body.last_backup;
      var c = r.body.last_check;
      if (b) {
        box.appendChild(statusLine("最近一次备份", b.ok, backupText(b)));
        var good = r.body.last_good_backup;
        if (!b.ok) {
          box.appendChild(good ? statusLine("最近一次成功备份", true, backupText(good)) :
            el("p", "db-note", "尚无成功的备份。"));
        }
      } else {
        box.appendChild(el("p", "db-note", "尚无备份记录。"));
      }
      if (c) {
        box.appendChild(statusLine("最近一次恢复校验", c.ok, when(c.at) + (c.detail ? "，" + c.detail : "")));
      } else {
        box.appendChild(el("p", "db-note", "尚无恢复校验记录。"));
      }
    }).catch(function () { none(box, "尚无备份记录。"); });
  }

  /* --- page ---------------------------------------------------------------- */
  function showTab(which) {
    ["live", "period"].forEach(function (id) {
      var tab = $("tab-" + id);
      var on = id === which;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
      $(id).hidden = !on;
    });
    Object.keys(state.charts).forEach(function (k) { state.charts[k].resize(); });
  }

  function fillSelect(select, items) {
    items.forEach(function (item) {
      var option = el("option", null, item.name);
      option.value = item.key;
      select.appendChild(option);
    });
  }

  function start(me, meta) {
    state.me = me;
    $("db-user-name").textContent = me.display_name;
    $("db-user-role").textContent = ROLE_NAMES[me.role] || me.role;
    (meta.departments || []).forEach(function (d) { state.names.department[d.key] = d.name; });
    (meta.categories || []).forEach(function (c) { state.names.category[c.key] = c.name; });
    fillSelect($("f-category"), meta.categories || []);
    fillSelect($("f-department"), meta.assignable || meta.departments || []);
    var today = new Date();
    var weekAgo = new Date(today.getTime() - 6 * 86400000);
    $("f-since").value = isoDay(weekAgo);
    $("f-until").value = isoDay(today);
    chartDefaults();
    var supervisor = me.role === "supervisor";
    $("db-desk-link").hidden = me.role === "department";
    $("db-audit-link").hidden = !supervisor;
    $("db-followups-link").hidden = !supervisor;  // bot/ops: agents and supervisors
    $("db-knowledge-link").hidden = !supervisor;
    if (me.role === "department") {
      $("f-department-label").hidden = true;
      if (me.department) { $("db-user-role").textContent = name("department", me.department); }
    }
    if (supervisor) {
      $("tab-live").hidden = false;
      $("tab-live").addEventListener("click", function () { showTab("live"); });
      showTab(window.location.hash === "#period" ? "period" : "live");
      refreshLive();
      loadBackups();
    } else {
      showTab("period");
      $("backups-card").hidden = true;  // supervisors only; a department sees its own reports
    }
    $("ops").hidden = false;
    loadReports();
    $("tab-period").addEventListener("click", function () { showTab("period"); });
    $("period-form").addEventListener("submit", function (event) {
      event.preventDefault();
      loadPeriod();
    });
    $("period-form").addEventListener("change", updateExports);
    loadPeriod();
    document.addEventListener("visibilitychange", function () {
      if (supervisor && document.visibilityState === "visible") { refreshLive(); }
    });
    $("db-logout").addEventListener("click", function () {
      api("/console/logout", {}).finally(function () { window.location.assign("/console/login"); });
    });
  }

  Promise.all([api("/console/api/me"), api("/console/api/ticket-meta")]).then(function (results) {
    start(results[0].body, results[1].status === 200 ? results[1].body : {});
  });
})();
