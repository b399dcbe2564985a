"use strict";
/* 东莞12345 在线坐席工作台: live queue, chat with citizens, notes, tickets.
   Attention (unread counts, title, sound, notifications) is attention.js's,
   the keyboard's table shortcuts.js's; this file tells them what happened. */
(function () {
  var HEARTBEAT_MS = 20000;
  var $ = function (id) { return document.getElementById(id); };
  var S = {
    me: null, csrf: "", ws: null, retry: 0, snapshot: null, offset: 0, more: [],
    open: null, detail: null, lastSeq: 0, tab: "queue", live: [], canned: [], groups: [],
    // conversation ids of the queue last seen (null until the first snapshot)
    knownQueue: null,
    // agents' messages on screen by seq (delivery state), the composed message's id
    sent: {}, draftId: null, draftText: "", sending: false
  };

  // ---------- helpers ----------
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function toast(text, kind) {
    var t = el("div", "toast" + (kind ? " toast-" + kind : ""), text);
    $("toasts").appendChild(t);
    setTimeout(function () { t.remove(); }, 4000);
  }
  function api(method, path, body) {
    var opts = { method: method, credentials: "same-origin", headers: {} };
    if (method !== "GET") {
      opts.headers["X-CSRF-Token"] = S.csrf;
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body || {});
    }
    return fetch(path, opts).then(function (resp) {
      if (resp.status === 401) { window.location.assign("/console/login"); }
      return resp.json().catch(function () { return {}; }).then(function (data) {
        return { ok: resp.ok, status: resp.status, body: data };
      });
    });
  }
  function act(path, body, okText) {
    return api("POST", path, body).then(function (r) {
      if (!r.ok) { toast(r.body.message || "操作失败，请重试", "error"); }
      else if (okText) { toast(okText, "ok"); }
      return r;
    }).catch(function () { toast("网络异常，请稍后重试", "error"); return { ok: false, body: {} }; });
  }
  function convPath(cid, action) {
    return "/console/api/conversations/" + encodeURIComponent(cid) + (action ? "/" + action : "");
  }
  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) return seconds + "秒";
    var m = Math.floor(seconds / 60), s = seconds % 60;
    if (m < 60) return m + "分" + (s < 10 ? "0" : "") + s + "秒";
    return Math.floor(m / 60) + "小时" + (m % 60) + "分";
  }
  var INTENTS = {
    greet: "问候", goodbye: "告别", thank: "致谢", affirm: "肯定", deny: "否定", ask_identity: "询问身份",
    consult: "政策咨询", request_service_guide: "办事指南", inform_service_mode: "选择办理方式",
    complain: "投诉", suggest: "建议", inform: "补充信息", edit_complaint: "修改投诉",
    check_ticket: "查询工单", request_human: "要求转人工", emergency: "紧急求助", angry: "情绪激动",
    stop: "中止", rate: "评价", out_of_scope: "超出服务范围", nlu_fallback: "未能理解"
  };
  var SLOT_VALUES = { complaint: "投诉", suggestion: "建议", online: "线上", offline: "线下" };
  function slotText(value) { var v = String(value); return SLOT_VALUES[v] || v; }
  function now() { return Date.now() / 1000 + S.offset; }
  function shortId(cid) { var id = cid.split(":").slice(1).join(":"); return id.slice(-6); }
  function hhmm(iso) { var d = new Date(iso); return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2); }
  function requestId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return "r" + Date.now().toString(16) + Math.random().toString(16).slice(2, 12);
  }

  // ---------- socket ----------
  function connect() {
    var proto = window.location.protocol === "https:" ? "wss:" : "ws:";
    var ws = new WebSocket(proto + "//" + window.location.host + "/console/ws?csrf=" + encodeURIComponent(S.csrf));
    S.ws = ws;
    ws.onopen = function () {
      S.retry = 0;
      setConn(true);
      heartbeat();
      if (S.tab === "live") send({ type: "live", on: true });
      if (S.open) { watch(S.open); loadDetail(); }
    };
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      onFrame(frame);
    };
    ws.onclose = function () {
      setConn(false);
      S.retry = Math.min(S.retry + 1, 6);
      setTimeout(connect, 500 * Math.pow(2, S.retry - 1));
    };
  }
  function setConn(on) {
    var node = $("conn-state");
    node.textContent = on ? "已连接" : "连接中断，正在重连…";
    node.className = "conn " + (on ? "conn--on" : "conn--off");
  }
  function send(frame) { if (S.ws && S.ws.readyState === 1) S.ws.send(JSON.stringify(frame)); }
  function heartbeat() { send({ type: "heartbeat", status: $("my-status").value }); }
  function watch(cid) { send({ type: "watch", conversation_id: cid }); }

  function onFrame(f) {
    if (f.type === "queue") {
      S.snapshot = f;
      S.offset = f.at - Date.now() / 1000;
      if (S.more.length) loadMore(S.more.length, true);
      noticeArrivals(f);
      renderLists();
      renderAgents();
    } else if (f.type === "live") {
      S.live = f.items;
      S.offset = f.at - Date.now() / 1000;
      renderLive();
      tick();
    } else if (f.type === "conversation") {
      if (f.citizen) noticeMessage(f.conversation_id);
      if (f.conversation_id === S.open) {
        if (f.kind === "message") {
          fetchNew();
          setTimeout(fetchNew, 800);  // the assistant's reply is written just after the turn
        } else { loadDetail(); }
      }
    } else if (f.type === "typing") {
      if (f.conversation_id === S.open) citizenTyping(f.on);
    } else if (f.type === "delivery") {
      if (f.conversation_id === S.open) showDelivery(f.seq, f.delivery);
    } else if (f.type === "claimed") {
      if (S.me && f.by_id !== S.me.id && f.conversation_id === S.open) {
        toast("已被 " + f.by + " 接入");
        loadDetail();
      }
    } else if (f.type === "canned") {
      loadCanned();
    } else if (f.type === "notice") {
      toast(f.text, "ok");
      if (f.conversation_id) openConv(f.conversation_id);
    } else if (f.type === "error" && f.code === "session_ended") {
      window.location.reload();  // a new session of this browser carries on; else the sign-in page
    } else if (f.type === "error" && f.code === "unauthorized") {
      window.location.assign("/console/login");
    }
  }

  // ---------- lists ----------
  function convItem(cid, opts) {
    var unread = window.ConsoleAttention.count(cid);
    var li = el("li", "conv" + (cid === S.open ? " is-open" : "") + (opts.urgent ? " is-urgent" : "")
      + (unread ? " has-unread" : ""));
    li.tabIndex = 0;
    li.dataset.cid = cid;
    var top = el("div", "conv-top");
    top.appendChild(el("span", "badge badge-channel", opts.channel));
    top.appendChild(el("span", "conv-name", opts.title));
    if (opts.badge) top.appendChild(el("span", "badge " + (opts.badgeClass || ""), opts.badge));
    if (unread) {
      var dot = el("span", "unread", unread > 99 ? "99+" : String(unread));
      dot.setAttribute("aria-label", unread + " 条未读");
      dot.title = unread + " 条未读";
      top.appendChild(dot);
    }
    if (opts.since) {
      var wait = el("span", "conv-wait", "");
      wait.dataset.since = opts.since;
      top.appendChild(wait);
    }
    li.appendChild(top);
    if (opts.sub) li.appendChild(el("div", "conv-sub", opts.sub));
    li.addEventListener("click", function () { openConv(cid); });
    li.addEventListener("keydown", function (e) { if (e.key === "Enter") openConv(cid); });
    return li;
  }
  function meaningful(texts) {
    var said = texts.filter(function (t) { return t && t.indexOf("/") !== 0; });
    var real = said.filter(function (t) { return t.indexOf("人工") < 0 && t.length > 3; });
    var pick = real.length ? real : said;
    return pick.length ? pick[pick.length - 1] : "";
  }
  function summaryLine(item) {
    var s = item.summary || {};
    var slots = s.slots || {};
    var facts = [slots.complaint_type, slots.complaint_where, slots.service].filter(Boolean).map(slotText);
    var said = meaningful(s.last_messages || []);
    if (!said) {
      said = meaningful((item.tail || []).filter(function (t) { return t.direction === "in"; })
        .map(function (t) { return t.text; }));
    }
    var parts = facts.length ? [facts.join(" · ")] : [item.reason_name];
    if (said) parts.push("“" + said + "”");
    return parts.join("  ");
  }
  // The socket brings the first page of the queue and the total; an agent
  // who wants to see further asks for the next pages over HTTP.
  function queueItems(snap) {
    var seen = {};
    snap.items.forEach(function (i) { seen[i.conversation_id] = true; });
    return snap.items.concat(S.more.filter(function (i) { return !seen[i.conversation_id]; }));
  }
  function loadMore(count, refresh) {
    var first = (S.snapshot && S.snapshot.items.length) || 0;
    var offset = refresh ? first : first + S.more.length;
    var limit = refresh ? count : (S.snapshot && S.snapshot.limit) || 50;
    api("GET", "/console/api/queue?offset=" + offset + "&limit=" + limit).then(function (r) {
      if (!r.ok) return;
      S.more = refresh ? r.body.items : S.more.concat(r.body.items);
      renderLists();
    });
  }
  function renderLists() {
    var snap = S.snapshot || { items: [], active: [], agents: [] };
    var queue = $("list-queue");
    queue.replaceChildren();
    var items = queueItems(snap);
    var total = typeof snap.total === "number" ? snap.total : items.length;
    items.forEach(function (item) {
      queue.appendChild(convItem(item.conversation_id, {
        channel: item.channel_name, title: "市民 " + shortId(item.conversation_id),
        badge: item.group_name ? item.group_name : item.priority !== "normal" ? item.priority_name : "",
        badgeClass: item.group_name ? "badge-group" : "badge-" + item.priority, urgent: item.priority === "urgent",
        since: item.queued_at, sub: summaryLine(item)
      }));
    });
    if (items.length < total) {
      var more = el("li", "conv-more");
      var button = el("button", "btn btn-more", "加载更多（已显示 " + items.length + " 位，共 " + total + " 位）");
      button.type = "button";
      button.id = "btn-queue-more";
      button.addEventListener("click", function () { loadMore(0, false); });
      more.appendChild(button);
      queue.appendChild(more);
    }
    var mine = $("list-mine");
    mine.replaceChildren();
    var held = snap.active.filter(function (a) { return S.me && a.agent_id === S.me.id; });
    held.forEach(function (a) {
      mine.appendChild(convItem(a.conversation_id, {
        channel: a.channel_name, title: "市民 " + shortId(a.conversation_id),
        badge: "服务中", badgeClass: "badge-state-with_agent", since: a.claimed_at,
        sub: summaryLine(a)
      }));
    });
    $("queue-count").textContent = total;
    $("mine-count").textContent = held.length;
    renderLive();
    tick();
  }
  function renderLive() {
    var list = $("list-live");
    list.replaceChildren();
    S.live.forEach(function (c) {
      var li = convItem(c.conversation_id, {
        channel: c.channel_name, title: "市民 " + shortId(c.conversation_id),
        badge: c.state_name, badgeClass: "badge-state-" + c.state,
        sub: c.agent_name ? "坐席：" + c.agent_name + " · " : ""
      });
      var sub = li.querySelector(".conv-sub") || li.appendChild(el("div", "conv-sub", ""));
      sub.appendChild(document.createTextNode("最近消息 "));
      var idle = el("span", "", duration(c.idle_seconds || 0));
      if (c.last_at) idle.dataset.since = c.last_at;
      sub.appendChild(idle);
      sub.appendChild(document.createTextNode("前"));
      list.appendChild(li);
    });
  }
  function renderAgents() {
    var agents = (S.snapshot && S.snapshot.agents) || [];
    var list = $("agent-list");
    list.replaceChildren();
    var online = 0;
    agents.forEach(function (a) {
      if (a.status === "online") online += 1;
      var li = el("li");
      li.appendChild(el("span", "dot dot-" + a.status));
      li.appendChild(el("span", "", a.display_name + (S.me && a.id === S.me.id ? "（我）" : "")));
      li.appendChild(el("span", "muted small", a.status === "online" ? "在线" : "暂离"));
      list.appendChild(li);
    });
    $("online-count").textContent = online + " 人在线";
    var select = $("transfer-to");
    var keep = select.value;
    select.replaceChildren(el("option", "", "转接给…"));
    select.firstChild.value = "";
    // a colleague online ("user:<id>") or an agent group's queue ("group:<key>")
    var people = el("optgroup");
    people.label = "在线同事";
    agents.forEach(function (a) {
      if (S.me && a.id === S.me.id) return;
      var opt = el("option", "", a.display_name + (a.status === "away" ? "（暂离）" : ""));
      opt.value = "user:" + a.id;
      people.appendChild(opt);
    });
    if (people.children.length) select.appendChild(people);
    if (S.groups.length) {
      var desks = el("optgroup");
      desks.label = "坐席组队列";
      S.groups.forEach(function (g) {
        var online = agents.filter(function (a) {
          return g.members.indexOf(a.username) >= 0 && !(S.me && a.id === S.me.id);
        }).length;
        var opt = el("option", "", g.name + (online ? "（" + online + " 人在线）" : "（无人在线）"));
        opt.value = "group:" + g.key;
        opt.disabled = !online;
        desks.appendChild(opt);
      });
      select.appendChild(desks);
    }
    select.value = keep;
  }
  function tick() {
    document.querySelectorAll("[data-since]").forEach(function (node) {
      var secs = now() - parseFloat(node.dataset.since);
      node.textContent = duration(secs);
      if (!node.closest("#list-live")) node.classList.toggle("is-long", secs > 60);
    });
  }
  function setTab(tab) {
    if (tab === "live" && !(S.me && S.me.role === "supervisor")) return;
    if (tab !== S.tab && (tab === "live" || S.tab === "live")) send({ type: "live", on: tab === "live" });
    S.tab = tab;
    document.querySelectorAll(".tab").forEach(function (b) {
      var on = b.dataset.tab === tab;
      b.classList.toggle("is-active", on);
      b.setAttribute("aria-selected", on ? "true" : "false");
    });
    $("list-queue").hidden = tab !== "queue";
    $("list-mine").hidden = tab !== "mine";
    $("list-live").hidden = tab !== "live";
  }

  // ---------- attention ----------
  function inQueue(cid) {
    return !!S.snapshot && queueItems(S.snapshot).some(function (i) { return i.conversation_id === cid; });
  }
  function heldByMe(cid) {
    return !!S.snapshot && !!S.me && S.snapshot.active.some(function (a) {
      return a.conversation_id === cid && a.agent_id === S.me.id;
    });
  }
  function label(cid) {
    var snap = S.snapshot || { items: [], active: [] };
    var item = queueItems(snap).concat(snap.active).filter(function (i) { return i.conversation_id === cid; })[0];
    return (item ? item.channel_name : "") + "市民 " + shortId(cid);
  }
  // A queue snapshot: citizens who were not in the queue last time call for attention.
  function noticeArrivals(snap) {
    var ids = queueItems(snap).map(function (i) { return i.conversation_id; });
    var known = S.knownQueue;
    S.knownQueue = {};
    ids.forEach(function (cid) { S.knownQueue[cid] = true; });
    window.ConsoleAttention.prune(function (cid) { return S.knownQueue[cid] || heldByMe(cid); });
    if (known === null) return;  // the page's first picture: nothing is new
    queueItems(snap).forEach(function (item) {
      var cid = item.conversation_id;
      if (known[cid] || cid === S.open) return;
      var why = item.priority !== "normal" ? item.priority_name + " · " + item.reason_name : item.reason_name;
      window.ConsoleAttention.bump(cid, "新的市民排队", label(cid) + (why ? " · " + why : ""));
    });
  }
  // A citizen wrote: unread unless that conversation is open on a visible page.
  function noticeMessage(cid) {
    if (cid === S.open && !document.hidden) return;
    if (!heldByMe(cid) && !inQueue(cid)) return;
    window.ConsoleAttention.bump(cid, "市民发来新消息", label(cid));
  }

  // ---------- conversation ----------
  function openConv(cid) {
    if (S.typedAt && S.open && S.open !== cid) send({ type: "typing", conversation_id: S.open, on: false });
    S.typedAt = 0;
    citizenTyping(false);
    S.open = cid;
    S.lastSeq = 0;
    window.ConsoleAttention.clear(cid);
    watch(cid);
    document.querySelectorAll(".conv").forEach(function (n) { n.classList.toggle("is-open", n.dataset.cid === cid); });
    loadDetail();
  }
  function loadDetail() {
    var cid = S.open;
    if (!cid) return;
    api("GET", convPath(cid)).then(function (r) {
      if (cid !== S.open) return;
      if (!r.ok) { toast(r.body.message || "无法打开会话", "error"); return; }
      S.detail = r.body;
      renderChat();
    });
  }
  function fetchNew() {
    var cid = S.open;
    api("GET", convPath(cid, "history") + "?after_seq=" + S.lastSeq).then(function (r) {
      if (cid !== S.open || !r.ok) return;
      r.body.entries.forEach(appendEntry);
      scrollDown();
    });
  }
  function who(e) {
    if (e.direction === "in") return "市民";
    if (e.sender === "bot") return "智能助手";
    if (e.sender.indexOf("agent:") === 0) return e.sender.slice(6);
    return "系统";
  }
  function appendEntry(e) {
    if (e.seq <= S.lastSeq) return;
    S.lastSeq = e.seq;
    if (e.direction === "in") citizenTyping(false);
    var kind = e.direction === "in" ? "msg-in" : e.sender === "system" ? "msg-system"
      : e.sender.indexOf("agent:") === 0 ? "msg-out msg-agent" : "msg-out msg-bot";
    var li = el("li", "msg " + kind);
    if (e.sender !== "system") li.appendChild(el("span", "msg-who", who(e) + " · " + hhmm(e.at)));
    li.appendChild(el("div", "bubble", e.text || (e.payload ? "［点击按钮］" : "")));
    if (e.buttons && e.buttons.length) li.appendChild(el("div", "msg-buttons", "按钮：" + e.buttons.join(" / ")));
    $("transcript").appendChild(li);
    if (e.delivery) { S.sent[e.seq] = li; showDelivery(e.seq, e.delivery); }
  }
  // An agent's message: sent, sending or failed and why; a failed one can be sent again.
  function showDelivery(seq, d) {
    var li = S.sent[seq];
    if (!li || !d) return;
    var old = li.querySelector(".msg-delivery");
    if (old) old.remove();
    var line = el("div", "msg-delivery delivery-" + d.state, d.text);
    if (d.state === "failed") {
      var again = el("button", "link-button", "重试");
      again.type = "button";
      again.addEventListener("click", function () { retry(seq, again); });
      line.appendChild(again);
    }
    li.appendChild(line);
  }
  function retry(seq, button) {
    if (button.disabled) return;  // a double click sends once (the server checks too)
    button.disabled = true;
    var cid = S.open;
    act(convPath(cid, "messages/" + seq + "/retry"), {}).then(function (r) {
      button.disabled = false;
      if (r.ok && cid === S.open) showDelivery(seq, r.body.message.delivery);
    });
  }
  function scrollDown() { var t = $("transcript"); t.scrollTop = t.scrollHeight; }
  // "市民正在输入…" under the transcript: on for 6 s after each signal, off with their message.
  function citizenTyping(on) {
    clearTimeout(S.typingTimer);
    $("citizen-typing").hidden = !on;
    if (on) S.typingTimer = setTimeout(function () { $("citizen-typing").hidden = true; }, 6000);
  }
  // The agent's typing, to the citizen: "on" at most every 3 s while the box has text, "off" once.
  function agentTyping() {
    var typing = $("reply").value.trim() !== "";
    var now = Date.now();
    if (!S.open || (typing ? now - (S.typedAt || 0) < 3000 : !S.typedAt)) return;
    S.typedAt = typing ? now : 0;
    send({ type: "typing", conversation_id: S.open, on: typing });
  }
  function renderChat() {
    var d = S.detail;
    $("chat-empty").hidden = true;
    $("chat").hidden = false;
    $("detail-empty").hidden = true;
    $("detail").hidden = false;
    $("chat-title").textContent = d.channel_name + "市民 " + shortId(d.conversation_id);
    var states = { bot: "智能助手服务中", queued: "排队中", with_agent: "人工服务中", closed: "已结束" };
    var meta = states[d.state] || d.state;
    if (d.agent_name && d.state === "with_agent") meta += " · 坐席 " + d.agent_name;
    if (d.reason_name) meta += " · " + d.reason_name;
    if (d.group_name && d.state === "queued") meta += " · 等待" + d.group_name + "接入";
    $("chat-meta").textContent = meta;
    $("transcript").replaceChildren();
    S.sent = {};
    S.lastSeq = 0;
    d.entries.forEach(appendEntry);
    scrollDown();
    renderControls(d);
    renderSummary(d);
    renderNotes(d.notes);
  }
  function renderControls(d) {
    var mine = d.state === "with_agent" && S.me && d.agent_id === S.me.id;
    var supervisor = S.me && S.me.role === "supervisor";
    $("btn-claim").hidden = d.state !== "queued";
    $("btn-takeover").hidden = !((d.state === "bot" || d.state === "closed") || (d.state === "with_agent" && !mine && supervisor));
    $("composer").hidden = !mine;
    $("actions-card").hidden = !(mine || (supervisor && d.state === "with_agent"));
    var hint = "";
    if (d.state === "queued") hint = "市民正在排队，接入后即可回复。";
    else if (d.state === "with_agent" && !mine) hint = "该会话由 " + d.agent_name + " 负责" + (supervisor ? "，您正在旁听。" : "。");
    else if (d.state === "bot") hint = "智能助手正在服务，可点击“接管”转为人工服务。";
    else if (d.state === "closed") hint = "人工服务已结束。";
    $("readonly-hint").textContent = hint;
    $("readonly-hint").hidden = mine || !hint;
  }
  function renderSummary(d) {
    var dl = $("summary");
    dl.replaceChildren();
    var s = d.summary || {};
    var slotNames = { complaint_type: "类型", complaint_what: "事项", complaint_where: "地点", complaint_when: "时间",
      contact_phone: "电话", service: "事项", last_service: "事项", last_ticket_no: "工单号" };
    function row(label, value) {
      if (value === undefined || value === null || value === "") return;
      if (Array.isArray(value) && !value.length) return;
      dl.appendChild(el("dt", "", label));
      var dd = el("dd");
      if (Array.isArray(value)) {
        var ul = el("ul");
        value.forEach(function (v) { ul.appendChild(el("li", "", v)); });
        dd.appendChild(ul);
      } else { dd.textContent = value; }
      dl.appendChild(dd);
    }
    row("渠道", d.channel_name);
    row("原因", d.reason_name);
    if (d.reason_name) row("紧急度", d.priority_name);
    if (d.handoff && d.handoff.queued_at) row("排队", hhmm(d.handoff.queued_at));
    row("意图", s.intent ? (INTENTS[s.intent] || s.intent) : "");
    Object.keys(s.slots || {}).forEach(function (k) { row(slotNames[k] || k, slotText(s.slots[k])); });
    var said = (s.last_messages || []).filter(function (t) { return t && t.indexOf("/") !== 0; });
    if (!said.length) {
      said = d.entries.filter(function (e) { return e.direction === "in" && e.text && e.text.indexOf("/") !== 0; })
        .slice(-3).map(function (e) { return e.text; });
    }
    row("市民说", said);
    if (!dl.children.length) dl.appendChild(el("dd", "muted", "暂无摘要"));
  }
  function renderNotes(notes) {
    var ul = $("notes");
    ul.replaceChildren();
    (notes || []).forEach(function (n) {
      var li = el("li");
      li.appendChild(el("span", "note-meta", n.author + " · " + hhmm(n.created_at)));
      li.appendChild(document.createTextNode(n.text));
      ul.appendChild(li);
    });
  }

  // ---------- actions ----------
  function sendReply(event) {
    event.preventDefault();
    var box = $("reply");
    var text = box.value.trim();
    if (!text || !S.open || S.sending) return;
    // One id per composed message: sending it again after a lost answer is a
    // retry the server recognises, never a second message.
    if (!S.draftId || S.draftText !== text) { S.draftId = requestId(); S.draftText = text; }
    S.sending = true;
    S.typedAt = 0;  // the message itself ends "客服正在输入…"
    box.disabled = true;
    act(convPath(S.open, "messages"), { text: text, request_id: S.draftId }).then(function (r) {
      S.sending = false;
      box.disabled = false;
      if (r.ok) {
        box.value = "";
        S.draftId = null;
        var d = r.body.message && r.body.message.delivery;
        if (d && d.state === "failed") toast(d.text, "error");
        fetchNew();
      }
      box.focus();
    });
  }
  // Canned replies: the search box filters by title or text (a plain substring,
  // case-insensitive); a click (or Enter in the search box) inserts the text at
  // the cursor, where the agent can still edit it before sending.
  function cannedMatches() {
    var q = $("canned-search").value.trim().toLowerCase();
    if (!q) return S.canned;
    return S.canned.filter(function (c) {
      return c.title.toLowerCase().indexOf(q) >= 0 || c.text.toLowerCase().indexOf(q) >= 0;
    });
  }
  function insertCanned(c) {
    var box = $("reply");
    var start = box.selectionStart || 0, end = box.selectionEnd || 0;
    if (document.activeElement !== box && !box.value) { start = 0; end = 0; }
    else if (document.activeElement !== box) { start = end = box.value.length; }
    box.value = box.value.slice(0, start) + c.text + box.value.slice(end);
    box.focus();
    box.selectionStart = box.selectionEnd = start + c.text.length;
  }
  function renderCanned() {
    var box = $("canned");
    box.replaceChildren();
    var found = cannedMatches();
    found.forEach(function (c) {
      var chip = el("button", "chip", c.title);
      chip.type = "button";
      chip.title = c.text;
      chip.addEventListener("click", function () { insertCanned(c); });
      box.appendChild(chip);
    });
    if (!found.length) box.appendChild(el("span", "canned-none", S.canned.length ? "没有匹配的常用语" : "暂无常用语"));
  }
  function loadCanned() {
    api("GET", "/console/api/canned").then(function (c) { if (c.ok) { S.canned = c.body.items; renderCanned(); } });
  }
  function loadGroups() {
    api("GET", "/console/api/groups").then(function (g) { if (g.ok) { S.groups = g.body.items; renderAgents(); } });
  }
  function openTicket() {
    api("GET", convPath(S.open, "ticket-draft")).then(function (r) {
      if (!r.ok) { toast(r.body.message || "无法生成工单草稿", "error"); return; }
      var d = r.body;
      fillSelect($("t-type"), d.types, d.type);
      fillSelect($("t-category"), d.categories, d.category);
      $("t-description").value = d.description || "";
      $("t-location").value = d.location || "";
      $("t-occurred").value = d.occurred_at || "";
      $("t-phone").value = d.contact_phone || "";
      $("t-name").value = "";
      $("t-priority").value = d.priority || "normal";
      $("t-anonymous").checked = false;
      $("ticket-error").hidden = true;
      $("ticket-form").dataset.requestId = requestId();
      $("ticket-dialog").showModal();
    });
  }
  function fillSelect(select, options, value) {
    select.replaceChildren();
    options.forEach(function (o) { var opt = el("option", "", o.name); opt.value = o.key; select.appendChild(opt); });
    select.value = value;
  }
  function submitTicket(event) {
    event.preventDefault();
    var body = {
      request_id: $("ticket-form").dataset.requestId,
      type: $("t-type").value, category: $("t-category").value,
      description: $("t-description").value, location: $("t-location").value,
      occurred_at: $("t-occurred").value, contact_phone: $("t-phone").value,
      contact_name: $("t-name").value, priority: $("t-priority").value,
      anonymous: $("t-anonymous").checked
    };
    api("POST", convPath(S.open, "ticket"), body).then(function (r) {
      if (!r.ok) {
        $("ticket-error").textContent = r.body.message || "提交失败，请重试";
        $("ticket-error").hidden = false;
        return;
      }
      $("ticket-dialog").close();
      toast("工单 " + r.body.number + " 已创建（" + r.body.department_name + "）", "ok");
      loadDetail();
    });
  }

  // ---------- keyboard ----------
  function visibleItems() {
    return Array.prototype.slice.call(document.querySelectorAll("#list-" + S.tab + " .conv"));
  }
  function step(by) {
    var nodes = visibleItems();
    if (!nodes.length) { toast("当前列表没有会话"); return; }
    var at = nodes.findIndex(function (n) { return n.dataset.cid === S.open; });
    var next = at < 0 ? nodes[0] : nodes[Math.min(nodes.length - 1, Math.max(0, at + by))];
    openConv(next.dataset.cid);
    next.scrollIntoView({ block: "nearest" });
  }
  function nextUnread() {
    var snap = S.snapshot || { items: [], active: [] };
    var mine = snap.active.filter(function (a) { return S.me && a.agent_id === S.me.id; })
      .map(function (a) { return a.conversation_id; });
    var queued = queueItems(snap).map(function (i) { return i.conversation_id; });
    var cid = window.ConsoleAttention.first(mine.concat(queued))
      || queued.filter(function (c) { return c !== S.open; })[0];
    if (!cid) { toast("暂无待处理的会话"); return; }
    setTab(mine.indexOf(cid) >= 0 ? "mine" : "queue");
    openConv(cid);
  }
  function composing() { return !$("composer").hidden && !$("chat").hidden; }
  var SHORTCUTS = {
    nextUnread: nextUnread,
    next: function () { step(1); },
    previous: function () { step(-1); },
    claim: function () {
      if (S.open && !$("btn-claim").hidden) $("btn-claim").click();
      else toast("当前没有可接入的排队市民");
    },
    reply: function () {
      if (composing()) $("reply").focus(); else toast("接入会话后才能回复");
    },
    canned: function () {
      if (!composing()) { toast("接入会话后才能使用常用语"); return; }
      $("canned-search").focus();
      $("canned-search").select();
    },
    send: function () {
      if (composing() && $("reply").value.trim()) $("composer").requestSubmit();
    },
    close: function () {
      if (S.open && !$("detail").hidden && !$("actions-card").hidden && S.detail && S.detail.state === "with_agent") {
        $("btn-close").click();
      } else { toast("当前没有可结束的会话"); }
    },
    tabQueue: function () { setTab("queue"); },
    tabMine: function () { setTab("mine"); },
    tabLive: function () {
      if (S.me && S.me.role === "supervisor") setTab("live"); else toast("“全部会话”仅班长可见");
    },
    mute: function () {
      var on = !window.ConsoleAttention.isMuted();
      window.ConsoleAttention.setMuted(on);
      toast(on ? "提示音已关闭" : "提示音已开启", "ok");
    },
    help: function () { if (!$("shortcuts-dialog").open) $("shortcuts-dialog").showModal(); }
  };

  function bind() {
    window.ConsoleShortcuts.install(SHORTCUTS);
    $("btn-shortcuts").addEventListener("click", SHORTCUTS.help);
    $("canned-search").addEventListener("input", renderCanned);
    $("canned-search").addEventListener("keydown", function (e) {
      if (e.key !== "Enter" || e.isComposing) return;
      e.preventDefault();  // Enter takes the first match into the reply box
      var chip = $("canned").querySelector(".chip");
      if (!chip) return;
      chip.click();
      $("canned-search").value = "";
      renderCanned();
    });
    document.querySelectorAll(".tab").forEach(function (b) {
      b.addEventListener("click", function () { setTab(b.dataset.tab); });
    });
    $("list-queue").dataset.empty = "暂无排队的市民";
    $("list-mine").dataset.empty = "您当前没有服务中的会话";
    $("list-live").dataset.empty = "近 30 分钟没有活跃会话";
    $("composer").addEventListener("submit", sendReply);
    $("reply").addEventListener("input", agentTyping);
    $("reply").addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { sendReply(e); }
    });
    $("btn-claim").addEventListener("click", function () {
      act(convPath(S.open, "claim")).then(function (r) { if (r.ok) { setTab("mine"); loadDetail(); } else loadDetail(); });
    });
    $("btn-takeover").addEventListener("click", function () {
      act(convPath(S.open, "takeover"), {}, "已接管会话").then(function () { loadDetail(); });
    });
    $("btn-handback").addEventListener("click", function () {
      if (window.confirm("确定将会话交回智能助手吗？")) act(convPath(S.open, "handback"), {}, "已交回智能助手").then(loadDetail);
    });
    $("btn-close").addEventListener("click", function () {
      if (window.confirm("确定结束本次人工服务吗？市民将收到满意度评价。")) act(convPath(S.open, "close"), {}, "会话已结束").then(loadDetail);
    });
    $("btn-transfer").addEventListener("click", function () {
      var to = $("transfer-to").value;
      if (to.indexOf("group:") === 0) {
        act(convPath(S.open, "transfer"), { group: to.slice(6) }, "已转入坐席组队列").then(loadDetail);
        return;
      }
      var id = parseInt(to.slice(5), 10);
      if (!id) { toast("请选择要转接的坐席或坐席组", "error"); return; }
      act(convPath(S.open, "transfer"), { user_id: id }, "已转接").then(loadDetail);
    });
    $("note-form").addEventListener("submit", function (e) {
      e.preventDefault();
      var text = $("note-text").value.trim();
      if (!text) return;
      act(convPath(S.open, "notes"), { text: text }).then(function (r) { if (r.ok) { $("note-text").value = ""; loadDetail(); } });
    });
    $("btn-ticket").addEventListener("click", openTicket);
    $("ticket-form").addEventListener("submit", submitTicket);
    $("ticket-cancel").addEventListener("click", function () { $("ticket-dialog").close(); });
    $("my-status").addEventListener("change", function () {
      $("my-status").className = "is-" + $("my-status").value;
      heartbeat();
    });
    $("logout").addEventListener("click", function () {
      api("POST", "/console/logout").then(function () { window.location.assign("/console/login"); });
    });
  }

  function start() {
    bind();
    $("my-status").className = "is-online";
    api("GET", "/console/api/me").then(function (r) {
      if (!r.ok) return;
      S.me = r.body;
      S.csrf = r.body.csrf_token;
      if (S.me.role === "department") { window.location.assign("/console/tickets"); return; }
      var roles = { agent: "坐席", supervisor: "班长" };
      $("me").textContent = S.me.display_name + " · " + (roles[S.me.role] || S.me.role);
      $("live-tab").hidden = S.me.role !== "supervisor";
      $("audit-link").hidden = S.me.role !== "supervisor";
      $("knowledge-link").hidden = S.me.role !== "supervisor";
      $("dashboard-link").hidden = S.me.role !== "supervisor";
      window.ConsoleAttention.init({
        userId: S.me.id,
        onChange: renderLists,
        onOpen: function (cid) { setTab(heldByMe(cid) ? "mine" : inQueue(cid) ? "queue" : S.tab); openConv(cid); }
      });
      connect();
      $("canned-link").hidden = S.me.role !== "supervisor";
      loadCanned();
      loadGroups();
    });
    setInterval(tick, 1000);
    setInterval(heartbeat, HEARTBEAT_MS);
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden && S.open) window.ConsoleAttention.clear(S.open);
    });
  }
  start();
})();
