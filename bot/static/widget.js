/*
 * 东莞12345在线服务 web chat widget.
 *
 * Embed on any page with one tag:
 *   <script src="https://<front door>/widget.js" defer></script>
 * Optional settings on that tag (see readConfig; a bad value falls back to
 * the default, with a warning in the browser console):
 *   data-title="东莞市民服务"   the header's title (at most 40 characters)
 *   data-color="#0b57a4"       the main colour, #rgb or #rrggbb; a colour too
 *                              light for white text on it (contrast < 4.5:1)
 *                              falls back to the default blue
 *   data-position="right"      right | left: the corner of launcher and panel
 *   data-lang="zh-CN"          zh-CN | en | yue: the language of the fixed
 *                              texts (the STRINGS table; answers stay Chinese)
 *   data-auto-open             open the panel once per tab when the page
 *                              loads (not on small screens, not after the
 *                              citizen closed it in this tab)
 * Sizes are in rem: the widget grows with the host page's root font size
 * (适老化 large-text modes) and with browser zoom.
 * The front door's origin is taken from this script's own src. The widget
 * lives in a Shadow DOM, so it neither takes nor gives CSS to the host page.
 * Optional hooks on the host page: an element with data-dg12345-ask="问题"
 * opens the widget and asks that question; data-dg12345-open just opens it.
 * Script API: window.DG12345Chat.open(), .close(), .ask(text).
 *
 * Only the session token (and messages not yet acknowledged by the server)
 * are kept in localStorage; the conversation itself always comes from the
 * server's transcript over the WebSocket (see channels/webchat/_channel.py).
 *
 * "结束会话" ends the session on the server (the token stops working on every
 * replica) and clears the widget and its storage, for shared devices. The
 * server also ends a session after hours without a message; the widget then
 * clears itself the same way, and a new question starts a new session.
 * When the server refuses (too many windows, too many requests) the widget
 * shows its Chinese message and waits before trying again, never in a loop.
 */
(function () {
  "use strict";

  if (window.DG12345Chat) return; // embedded twice

  var script = document.currentScript || findOwnScript();
  var ORIGIN = new URL(script ? script.src : "/widget.js", location.href).origin;
  var WS_ORIGIN = ORIGIN.replace(/^http/, "ws");

  var KEY_TOKEN = "dg12345.webchat.token";
  var KEY_OUTBOX = "dg12345.webchat.outbox";
  var KEY_OPEN = "dg12345.webchat.open"; // sessionStorage: this tab had the panel open
  var KEY_ACTIVE = "dg12345.webchat.active"; // sessionStorage: this tab has chatted
  var KEY_CLOSED = "dg12345.webchat.closed"; // sessionStorage: closed here (no auto-open again)
  var MAX_CHARS = 2000;
  var TYPING_TIMEOUT_MS = 15000;
  var MAX_BACKOFF_MS = 15000;
  var PING_EVERY_MS = 25000;
  var PONG_TIMEOUT_MS = 10000;
  var RETRY_LATER_MS = 2000;
  var STABLE_MS = 5000; // a socket open this long resets the reconnect backoff
  var TOO_MANY_RETRY_MS = 60000; // close 4029: too many windows for this session or address
  var RATE_LIMITED_RETRY_MS = 30000; // close 1008, or 429 without Retry-After
  var CLOSE_SESSION_ENDED = 4001;
  var CLOSE_TOO_MANY = 4029;
  var CLOSE_RATE_LIMITED = 1008;
  var SVG_NS = "http://www.w3.org/2000/svg";
  var URL_RE = /https?:\/\/[^\s<>"'\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]+/g;
  var ICONS = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0-3 1.5 1.5 0 0 0 0 3zm5 0a1.5 1.5 0 1 0 0-3 1.5 1.5 0 0 0 0 3zm5 0a1.5 1.5 0 1 0 0-3 1.5 1.5 0 0 0 0 3z",
    headset: "M12 2a9 9 0 0 0-9 9v6a3 3 0 0 0 3 3h2v-8H5v-1a7 7 0 0 1 14 0v1h-3v8h2.5a1 1 0 0 1-1 1H13v2h4.5a3 3 0 0 0 3-3V11a9 9 0 0 0-8.5-9z",
    close: "M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 6.4 17.6 5 12 10.6z",
    // thumbs up / down (drawn, so they show where no emoji font is installed)
    up: "M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6C6.2 8 6 8.5 6 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z",
    down: "M22 3h-4v12h4V3zM2 14a2 2 0 0 0 2 2h6.3l-1 4.6v.3c0 .4.2.8.4 1.1l1.1 1 6.6-6.6c.4-.4.6-.9.6-1.4V5a2 2 0 0 0-2-2H7c-.8 0-1.5.5-1.8 1.2l-3 7.1c-.1.2-.2.5-.2.7v2z",
  };
  // The emergency notice (GET /public/emergency, bot/emergency/web.py): asked
  // when the page loads, when the panel opens, and every minute.
  var EMERGENCY_POLL_MS = 60000;

  // ---- fixed texts ------------------------------------------------------------
  // Every text the widget shows or reads out is here, per language, and only
  // here (tests/channels/webchat/test_widget_texts.py fails on a fixed text
  // elsewhere in this file). zh-CN is complete; another language may leave a
  // key out and then shows the zh-CN text. "{name}" marks a value put in by
  // t(). Texts that come from the server (answers, its error messages) stay
  // as the server sends them; the starters send their zh-CN question
  // ("ask"), which is what the assistant understands.
  // <strings>
  var STRINGS = {
    "zh-CN": {
      title: "东莞12345在线服务",
      launcher: "在线咨询",
      launcherLabel: "在线咨询，打开东莞12345在线服务对话窗口",
      launcherUnread: "在线咨询，您有{count}条新消息",
      footer: "东莞市12345政务服务便民热线 · 智能助手24小时在线",
      servedByBot: "智能助手为您服务",
      servedByAgent: "人工客服 {name} 为您服务",
      end: "结束会话",
      endHint: "结束本次会话并清除本设备上的对话记录",
      close: "关闭对话窗口",
      emergency: "应急通知",
      drill: "应急演练",
      confirmGroup: "确认结束会话",
      confirmText: "结束后，本设备上的对话记录将被清除，且无法再查看。确定结束本次会话吗？",
      confirmYes: "确定结束",
      confirmNo: "取消",
      log: "对话记录",
      scroll: "对话记录，可用方向键滚动",
      typing: "对方正在输入",
      agentTyping: "客服正在输入…",
      startersGroup: "常用服务",
      starters: [
        { label: "办事指南", ask: "办事指南" },
        { label: "我要投诉", ask: "我要投诉" },
        { label: "查询工单进度", ask: "查询工单进度" },
        { label: "转人工客服", ask: "转人工客服" },
      ],
      welcome: "您好！欢迎使用东莞12345在线服务。我是智能助手，可以为您解答政策咨询、提供办事指南，也可以受理投诉、求助和建议。请问有什么可以帮您？",
      emergencyNote: "温馨提示：如遇紧急情况，请直接拨打110、119、120。",
      input: "输入您的问题",
      placeholder: "请输入您的问题，按回车发送",
      send: "发送",
      sendLabel: "发送消息",
      me: "我",
      agent: "人工客服 {name}",
      system: "系统消息",
      bot: "智能助手",
      said: "{who}说：",
      image: "图片消息",
      imageOpen: "查看大图",
      imageFailed: "图片加载失败，点击查看",
      quickReplies: "快捷回复",
      helpful: "有帮助",
      notHelpful: "没帮助",
      feedbackAsk: "这个回答有帮助吗？",
      feedbackOffline: "网络未连接，请稍后再评价",
      feedbackAlready: "您已评价过这个回答",
      feedbackDown: "感谢反馈，我们会改进这个回答",
      feedbackThanks: "感谢您的反馈",
      feedbackFailed: "评价未能提交，请稍后再试",
      sent: "已发送",
      sending: "发送中…",
      sendFailed: "发送失败：{reason}",
      error: "出错了，请稍后再试",
      tooLong: "消息过长，请控制在{max}字以内。",
      connecting: "连接中…",
      ended: "会话已结束，本设备上的对话记录已清除。如需继续咨询，请直接输入问题。",
      tooMany: "您打开的对话窗口过多，请关闭其他窗口后稍后再试。",
      rateLimited: "发送太频繁，请稍后再试",
      serverError: "系统繁忙，您的消息将稍后自动重发。",
    },
    en: {
      title: "Dongguan 12345 Online Service",
      launcher: "Chat with us",
      launcherLabel: "Chat with us: open the Dongguan 12345 online service",
      launcherUnread: "Chat with us: {count} new messages",
      footer: "Dongguan 12345 government service hotline · assistant online 24 hours",
      servedByBot: "The assistant is serving you",
      servedByAgent: "Agent {name} is serving you",
      end: "End chat",
      endHint: "End this chat and clear it from this device",
      close: "Close the chat window",
      emergency: "Emergency notice",
      drill: "Emergency drill",
      confirmGroup: "Confirm ending the chat",
      confirmText: "Ending the chat clears it from this device for good. End this chat?",
      confirmYes: "End chat",
      confirmNo: "Cancel",
      log: "Conversation",
      scroll: "Conversation, scroll with the arrow keys",
      typing: "The other side is typing",
      agentTyping: "The agent is typing…",
      startersGroup: "Frequent services",
      starters: [
        { label: "Service guides", ask: "办事指南" },
        { label: "Make a complaint", ask: "我要投诉" },
        { label: "Check a case", ask: "查询工单进度" },
        { label: "Talk to an agent", ask: "转人工客服" },
      ],
      welcome: "Hello! Welcome to the Dongguan 12345 online service. The assistant answers questions on policies and procedures and takes complaints, requests for help and suggestions. How can we help you?",
      emergencyNote: "In an emergency, call 110, 119 or 120 directly.",
      input: "Type your question",
      placeholder: "Type here, Enter to send",
      send: "Send",
      sendLabel: "Send the message",
      me: "Me",
      agent: "Agent {name}",
      system: "System message",
      bot: "Assistant",
      said: "{who} said: ",
      image: "Image",
      imageOpen: "Open the full image",
      imageFailed: "The image did not load; open it here",
      quickReplies: "Quick replies",
      helpful: "Helpful",
      notHelpful: "Not helpful",
      feedbackAsk: "Was this answer helpful?",
      feedbackOffline: "Not connected; please rate again later",
      feedbackAlready: "You have rated this answer already",
      feedbackDown: "Thank you, we will improve this answer",
      feedbackThanks: "Thank you for your feedback",
      feedbackFailed: "The rating was not sent; please try again later",
      sent: "Sent",
      sending: "Sending…",
      sendFailed: "Not sent: {reason}",
      error: "Something went wrong; please try again later",
      tooLong: "The message is too long: at most {max} characters.",
      connecting: "Connecting…",
      ended: "The chat has ended and is cleared from this device. Type a question to start again.",
      tooMany: "Too many chat windows are open. Close the others and try again later.",
      rateLimited: "Too many messages; please wait a moment",
      serverError: "The system is busy; your message will be sent again shortly.",
    },
    yue: {
      title: "东莞12345网上服务",
      launcher: "网上咨询",
      launcherLabel: "网上咨询，打开东莞12345网上服务对话窗口",
      launcherUnread: "网上咨询，你有{count}条新信息",
      footer: "东莞市12345政务服务便民热线 · 智能助手24小时喺度",
      servedByBot: "智能助手为你服务紧",
      servedByAgent: "人工客服 {name} 为你服务紧",
      end: "结束对话",
      endHint: "结束今次对话，同埋清除呢部机上面嘅对话记录",
      close: "关闭对话窗口",
      confirmText: "结束之后，呢部机上面嘅对话记录会清除，唔可以再睇返。确定结束今次对话？",
      confirmYes: "确定结束",
      agentTyping: "客服打紧字…",
      starters: [
        { label: "办事指南", ask: "办事指南" },
        { label: "我要投诉", ask: "我要投诉" },
        { label: "查工单进度", ask: "查询工单进度" },
        { label: "搵人工客服", ask: "转人工客服" },
      ],
      welcome: "你好！欢迎使用东莞12345网上服务。我系智能助手，可以解答政策问题、提供办事指南，亦可以受理投诉、求助同建议。有咩可以帮到你？",
      emergencyNote: "温馨提示：如果有紧急情况，请直接打110、119、120。",
      input: "输入你嘅问题",
      placeholder: "请输入你嘅问题，撳回车发送",
      me: "我",
      said: "{who}话：",
      helpful: "有帮助",
      notHelpful: "冇帮助",
      feedbackAsk: "呢个答案有冇帮到你？",
      feedbackThanks: "多谢你嘅意见",
      connecting: "连接紧…",
      ended: "对话已经结束，呢部机上面嘅记录已经清除。如果仲想问嘢，直接输入问题就得。",
    },
  };
  // </strings>
  var LANGS = { "zh-cn": "zh-CN", zh: "zh-CN", "zh-hans": "zh-CN", en: "en", yue: "yue", "zh-yue": "yue" };

  var DEFAULT_COLOR = "#0b57a4";
  var CONFIG = readConfig(script);
  var TYPING_SEND_EVERY_MS = 3000; // the citizen's typing signal, at most this often
  var AGENT_TYPING_SHOWN_MS = 6000; // "客服正在输入…" without a new signal goes away

  var ui = {};
  var state = {
    token: load(localStorage, KEY_TOKEN),
    sessionId: null,
    ws: null,
    generation: 0,
    connecting: false,
    attempt: 0,
    reconnectTimer: null,
    openedAt: 0,
    epoch: 0, // bumped when the session is cleared: late answers of the old one are dropped
    idle: true, // no session wanted right now (nothing to show as connecting)
    pingTimer: null,
    pongTimer: null,
    typingTimer: null,
    typingSentAt: 0, // when the citizen's last typing signal went out (0: none is on)
    lastSeq: null,
    lastOutSeq: -1,
    outbox: loadOutbox(),
    bySeq: new Map(),
    byId: new Map(),
    unread: 0,
    loadedAt: Date.now(),
  };

  // ---- configuration from the script tag --------------------------------------

  /**
   * The embedding page's settings, from this script tag's data- attributes:
   * data-title (the header's title, at most 40 characters), data-color (the
   * main colour, #rgb or #rrggbb, dark enough for white text on it: contrast
   * 4.5:1 at least), data-position (right | left), data-lang (zh-CN | en |
   * yue: the language of the fixed texts) and data-auto-open (open the panel
   * once per tab when the page loads; not on small screens). A bad value is
   * no error: the default is used and the browser console says why.
   */
  function readConfig(tag) {
    function attr(name) {
      var value = tag ? tag.getAttribute("data-" + name) : null;
      return value === null ? null : String(value).trim();
    }
    function fallback(name, value, used) {
      if (window.console) console.warn("dg12345 widget: data-" + name + "=" + JSON.stringify(value) +
        " is not valid, using " + JSON.stringify(used));
      return used;
    }
    var langValue = attr("lang");
    var lang = langValue === null ? "zh-CN" : LANGS[langValue.toLowerCase()] ||
      fallback("lang", langValue, "zh-CN");
    var colorValue = attr("color");
    var color = colorValue === null ? DEFAULT_COLOR : readableColor(colorValue) ||
      fallback("color", colorValue, DEFAULT_COLOR);
    var positionValue = attr("position");
    var position = positionValue === null ? "right"
      : /^(left|right)$/i.test(positionValue) ? positionValue.toLowerCase()
      : fallback("position", positionValue, "right");
    var titleValue = attr("title");
    var title = titleValue === null ? null
      : titleValue && titleValue.length <= 40 ? titleValue
      : fallback("title", titleValue, null);
    var autoValue = attr("auto-open");
    return {
      lang: lang,
      color: color,
      position: position,
      title: title,
      autoOpen: autoValue !== null && !/^(false|0|no|off)$/i.test(autoValue),
    };
  }

  /** ``value`` as #rrggbb when it is a hex colour white text is readable on, else null. */
  function readableColor(value) {
    var m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(value);
    if (!m) return null;
    var hex = m[1].length === 3 ? m[1].replace(/(.)/g, "$1$1") : m[1];
    var rgb = [0, 2, 4].map(function (i) { return parseInt(hex.slice(i, i + 2), 16); });
    var lum = rgb.map(function (c) {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var luminance = 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2];
    return 1.05 / (luminance + 0.05) >= 4.5 ? "#" + hex.toLowerCase() : null;
  }

  /** The same colour, darker (hover). */
  function darker(color) {
    return "#" + [1, 3, 5].map(function (i) {
      return (Math.round(parseInt(color.slice(i, i + 2), 16) * 0.8) + 256).toString(16).slice(1);
    }).join("");
  }

  /** The fixed text ``key`` in the configured language, with ``values`` put in. */
  function t(key, values) {
    var table = STRINGS[CONFIG.lang];
    var text = table && table[key] !== undefined ? table[key] : STRINGS["zh-CN"][key];
    if (!values) return text;
    return text.replace(/\{(\w+)\}/g, function (all, name) {
      return values[name] === undefined ? all : String(values[name]);
    });
  }

  // ---- small helpers -------------------------------------------------------

  function findOwnScript() {
    var all = document.querySelectorAll("script[src]");
    for (var i = all.length - 1; i >= 0; i--) {
      if (/\/widget\.js(\?|$)/.test(all[i].src)) return all[i];
    }
    return null;
  }

  function load(storage, key) {
    try { return storage.getItem(key); } catch (e) { return null; }
  }

  function save(storage, key, value) {
    try {
      if (value === null) storage.removeItem(key); else storage.setItem(key, value);
    } catch (e) { /* storage disabled: the widget still works for this page view */ }
  }

  function loadOutbox() {
    try {
      var items = JSON.parse(load(localStorage, KEY_OUTBOX) || "[]");
      return Array.isArray(items) ? items.filter(function (m) { return m && m.id; }) : [];
    } catch (e) { return []; }
  }

  function saveOutbox() {
    var items = state.outbox.map(function (m) {
      return { id: m.id, text: m.text, payload: m.payload, title: m.title, at: m.at };
    });
    save(localStorage, KEY_OUTBOX, items.length ? JSON.stringify(items) : null);
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return (b + 256).toString(16).slice(1);
    }).join("");
  }

  /** Build an element; text goes through textContent only, never innerHTML. */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function icon(name) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", ICONS[name]);
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  function safeUrl(value) {
    try {
      var url = new URL(value);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) { return null; }
  }

  function hhmm(date) {
    function pad(n) { return (n < 10 ? "0" : "") + n; }
    return pad(date.getHours()) + ":" + pad(date.getMinutes());
  }

  function senderLabel(direction, sender) {
    if (direction === "in") return t("me");
    if (sender && sender.indexOf("agent:") === 0) return t("agent", { name: sender.slice(6) });
    if (sender === "system") return t("system");
    return t("bot");
  }

  // ---- building the widget ---------------------------------------------------

  function build() {
    var host = el("div", { id: "dg12345-webchat", hidden: true, lang: CONFIG.lang,
      "data-position": CONFIG.position });
    host.style.setProperty("--dgc-primary", CONFIG.color);
    host.style.setProperty("--dgc-primary-dark", darker(CONFIG.color));
    var root = host.attachShadow({ mode: "open" });
    var css = el("link", { rel: "stylesheet", href: ORIGIN + "/widget.css" });
    css.addEventListener("load", function () { host.hidden = false; });
    css.addEventListener("error", function () { host.hidden = false; });
    root.appendChild(css);

    ui.badge = el("span", { class: "dgc-badge", hidden: true, "aria-hidden": "true" });
    ui.launcher = el("button", {
      type: "button", class: "dgc-launcher", "aria-label": t("launcherLabel"),
      "aria-expanded": "false", "aria-controls": "dgc-panel",
    }, [icon("chat"), el("span", { text: t("launcher") }), ui.badge]);
    ui.launcher.addEventListener("click", function () { open(); });

    ui.panel = el("section", {
      id: "dgc-panel", class: "dgc-panel", role: "dialog", "aria-modal": "false",
      "aria-labelledby": "dgc-title", "aria-describedby": "dgc-subtitle", hidden: true,
    }, [buildHeader(), buildBanner(), buildStatus(), buildScroll(), buildComposer(),
        el("div", { class: "dgc-footer", text: t("footer") })]);
    ui.panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); close(); }
    });

    root.appendChild(ui.launcher);
    root.appendChild(ui.panel);
    document.body.appendChild(host);
  }

  function buildHeader() {
    ui.subtitle = el("p", { id: "dgc-subtitle", class: "dgc-subtitle", text: t("servedByBot") });
    ui.end = el("button", { type: "button", class: "dgc-end", text: t("end"),
      title: t("endHint"), hidden: true });
    ui.end.addEventListener("click", askToEnd);
    ui.close = el("button", { type: "button", class: "dgc-close", "aria-label": t("close") },
      [icon("close")]);
    ui.close.addEventListener("click", close);
    return el("header", { class: "dgc-header" }, [
      el("div", { class: "dgc-logo", "aria-hidden": "true" }, [icon("headset")]),
      el("div", { class: "dgc-heading" }, [
        el("h2", { id: "dgc-title", class: "dgc-title", text: CONFIG.title || t("title") }), ui.subtitle,
      ]),
      ui.end,
      ui.close,
    ]);
  }

  function buildBanner() {
    ui.bannerLabel = el("strong", { class: "dgc-banner-label" });
    ui.bannerText = el("span", { class: "dgc-banner-text" });
    ui.banner = el("div", { class: "dgc-banner", role: "region", "aria-label": t("emergency"), hidden: true },
      [ui.bannerLabel, ui.bannerText]);
    return ui.banner;
  }

  /** Show or hide the emergency banner from the front door's public state. */
  function renderEmergency(data) {
    var on = !!(data && data.active && data.notice);
    ui.banner.hidden = !on;
    ui.banner.classList.toggle("dgc-banner--drill", on && !!data.drill);
    ui.bannerLabel.textContent = on ? t(data.drill ? "drill" : "emergency") : "";
    ui.bannerText.textContent = on ? String(data.notice) : "";
    ui.launcher.classList.toggle("dgc-launcher--alert", on);
  }

  function checkEmergency() {
    fetch(ORIGIN + "/public/emergency", { mode: "cors", credentials: "omit", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) renderEmergency(data); })
      .catch(function () { /* offline: keep what is shown */ });
  }

  function buildStatus() {
    ui.status = el("div", { class: "dgc-status", role: "status", hidden: true });
    var yes = el("button", { type: "button", class: "dgc-confirm-yes", text: t("confirmYes") });
    var no = el("button", { type: "button", class: "dgc-confirm-no", text: t("confirmNo") });
    yes.addEventListener("click", endSession);
    no.addEventListener("click", function () { ui.confirm.hidden = true; ui.end.focus(); });
    ui.confirm = el("div", { class: "dgc-confirm", role: "group", "aria-label": t("confirmGroup"),
      hidden: true }, [
      el("p", { text: t("confirmText") }),
      el("div", { class: "dgc-confirm-actions" }, [yes, no]),
    ]);
    return el("div", {}, [ui.status, ui.confirm]);
  }

  function buildScroll() {
    ui.log = el("div", {
      class: "dgc-log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
      "aria-label": t("log"),
    }, [buildIntro()]);
    ui.typingLabel = el("span", { class: "dgc-typing-label" });
    ui.typing = el("div", { class: "dgc-typing", role: "status", "aria-label": t("typing"), hidden: true },
      [el("span", { class: "dgc-dot" }), el("span", { class: "dgc-dot" }), el("span", { class: "dgc-dot" }),
        ui.typingLabel]);
    ui.scroll = el("div", { class: "dgc-scroll", tabindex: "0", "aria-label": t("scroll") },
      [ui.log, ui.typing]);
    return ui.scroll;
  }

  function buildIntro() {
    var chips = el("div", { class: "dgc-buttons", role: "group", "aria-label": t("startersGroup") },
      t("starters").map(function (starter) {
        var chip = el("button", { type: "button", class: "dgc-choice", text: starter.label });
        chip.addEventListener("click", function () { ask(starter.ask); });
        return chip;
      }));
    return el("div", { class: "dgc-intro" }, [
      el("p", { text: t("welcome") }),
      chips,
      el("p", { class: "dgc-note", text: t("emergencyNote") }),
    ]);
  }

  function buildComposer() {
    ui.input = el("textarea", {
      class: "dgc-input", rows: "1", maxlength: String(MAX_CHARS),
      "aria-label": t("input"), placeholder: t("placeholder"),
    });
    ui.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        submitInput();
      }
    });
    ui.input.addEventListener("input", function () { autoGrow(); signalTyping(); });
    var send = el("button", { type: "submit", class: "dgc-send", "aria-label": t("sendLabel"), text: t("send") });
    var form = el("form", { class: "dgc-composer", "aria-label": t("sendLabel") }, [ui.input, send]);
    form.addEventListener("submit", function (event) { event.preventDefault(); submitInput(); });
    return form;
  }

  /** The box grows with its text up to 7.5rem (in the host page's root font size). */
  function autoGrow() {
    var rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
    ui.input.style.height = "auto";
    ui.input.style.height = Math.min(ui.input.scrollHeight + 2, 7.5 * rem) + "px";
  }

  // ---- open / close ------------------------------------------------------------

  /** Open the panel; ``auto`` (data-auto-open): no focus taken, no new session made. */
  function open(auto) {
    auto = auto === true;
    ui.panel.hidden = false;
    ui.launcher.hidden = true;
    ui.launcher.setAttribute("aria-expanded", "true");
    state.unread = 0;
    renderBadge();
    save(sessionStorage, KEY_OPEN, "1");
    checkEmergency();
    if (!auto || state.token) connect();
    scrollToEnd(true);
    if (!auto) ui.input.focus();
  }

  function close() {
    ui.panel.hidden = true;
    ui.launcher.hidden = false;
    ui.launcher.setAttribute("aria-expanded", "false");
    save(sessionStorage, KEY_OPEN, null);
    save(sessionStorage, KEY_CLOSED, "1");
    ui.launcher.focus();
  }

  function renderBadge() {
    ui.badge.hidden = state.unread === 0;
    ui.badge.textContent = state.unread > 99 ? "99+" : String(state.unread);
    ui.launcher.setAttribute("aria-label", state.unread
      ? t("launcherUnread", { count: state.unread }) : t("launcherLabel"));
  }

  // ---- rendering messages ----------------------------------------------------------

  function renderText(text) {
    var bubble = el("div", { class: "dgc-bubble" });
    var last = 0;
    String(text).replace(URL_RE, function (match, offset) {
      var href = safeUrl(match);
      bubble.appendChild(document.createTextNode(text.slice(last, offset)));
      bubble.appendChild(href
        ? el("a", { href: href, target: "_blank", rel: "noopener noreferrer nofollow", text: match })
        : document.createTextNode(match));
      last = offset + match.length;
      return match;
    });
    bubble.appendChild(document.createTextNode(text.slice(last)));
    return bubble;
  }

  function renderImage(src) {
    var href = src ? safeUrl(src) : null;
    if (!href) return null;
    var img = el("img", { src: href, alt: t("image"), loading: "lazy" });
    var link = el("a", { class: "dgc-image", href: href, target: "_blank", rel: "noopener noreferrer",
      "aria-label": t("imageOpen") }, [img]);
    img.addEventListener("error", function () {
      link.textContent = t("imageFailed");
      link.removeAttribute("aria-label");
    });
    return link;
  }

  function renderButtons(buttons) {
    if (!buttons || !buttons.length) return null;
    return el("div", { class: "dgc-buttons", role: "group", "aria-label": t("quickReplies") },
      buttons.map(function (b) {
        var href = safeUrl(b.payload);
        if (href) {
          return el("a", { class: "dgc-choice", href: href, target: "_blank",
            rel: "noopener noreferrer", text: b.title });
        }
        var button = el("button", { type: "button", class: "dgc-choice", text: b.title });
        button.addEventListener("click", function () { choose(b); });
        return button;
      }));
  }

  function renderMessage(m) {
    var when = new Date(m.at || Date.now());
    if (isNaN(when.getTime())) when = new Date();
    var role = m.direction === "in" ? "in" : "out";
    var kind = m.sender === "system" ? " dgc-msg--system" : "";
    var node = el("div", { class: "dgc-msg dgc-msg--" + role + kind });
    var who = senderLabel(m.direction, m.sender);
    node.appendChild(el("span", { class: "dgc-sr-only", text: t("said", { who: who }) }));
    if (m.text) node.appendChild(renderText(m.text));
    var image = renderImage(m.image);
    if (image) node.appendChild(image);
    var buttons = renderButtons(m.buttons);
    if (buttons) node.appendChild(buttons);
    if (m.direction === "out" && m.faq && typeof m.seq === "number") {
      node.appendChild(renderFeedback(m.seq));
    }
    var status = el("span", { class: "dgc-state" });
    node.appendChild(el("div", { class: "dgc-meta" }, [
      el("span", { text: who, "aria-hidden": "true" }),
      el("time", { datetime: when.toISOString(), text: hhmm(when) }),
      status,
    ]));
    node.dgcState = status;
    if (m.seq !== undefined && m.seq !== null) node.setAttribute("data-seq", String(m.seq));
    return node;
  }

  /** 有帮助/没帮助 under an FAQ answer: one vote per answer, sent as a feedback frame. */
  function renderFeedback(seq) {
    var thanks = el("span", { class: "dgc-feedback-note", role: "status" });
    var up = el("button", { type: "button", class: "dgc-vote", "aria-label": t("helpful"),
      title: t("helpful"), "aria-pressed": "false", "data-vote": "up" }, [icon("up")]);
    var down = el("button", { type: "button", class: "dgc-vote", "aria-label": t("notHelpful"),
      title: t("notHelpful"), "aria-pressed": "false", "data-vote": "down" }, [icon("down")]);
    var bar = el("div", { class: "dgc-feedback", role: "group", "aria-label": t("feedbackAsk") }, [
      el("span", { class: "dgc-feedback-ask", text: t("feedbackAsk") }), up, down, thanks,
    ]);
    [up, down].forEach(function (button) {
      button.addEventListener("click", function () { vote(bar, seq, button.getAttribute("data-vote")); });
    });
    bar.dgcNote = thanks;
    return bar;
  }

  function feedbackBar(seq) {
    var node = state.bySeq.get(seq);
    return node ? node.querySelector(".dgc-feedback") : null;
  }

  function setVoting(bar, disabled) {
    Array.prototype.forEach.call(bar.querySelectorAll(".dgc-vote"), function (b) { b.disabled = disabled; });
  }

  function vote(bar, seq, choice) {
    var ws = state.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      bar.dgcNote.textContent = t("feedbackOffline");
      return;
    }
    setVoting(bar, true);
    bar.querySelector('[data-vote="' + choice + '"]').setAttribute("aria-pressed", "true");
    ws.send(JSON.stringify({ type: "feedback", seq: seq, vote: choice }));
  }

  function onFeedback(frame) {
    var bar = feedbackBar(frame.seq);
    if (!bar) return;
    if (frame.status === "recorded" || frame.status === "already") {
      setVoting(bar, true);
      bar.classList.add("dgc-feedback--done");
      bar.dgcNote.textContent = t(frame.status === "already" ? "feedbackAlready"
        : frame.vote === "down" ? "feedbackDown" : "feedbackThanks");
    } else if (frame.status === "not_an_answer") {
      bar.remove();
    } else {
      setVoting(bar, false);
      bar.querySelector('[data-vote="' + frame.vote + '"]').setAttribute("aria-pressed", "false");
      bar.dgcNote.textContent = t("feedbackFailed");
    }
  }

  /** Place a node by seq; pending (unsequenced) bubbles stay at the end. */
  function insertBySeq(node, seq) {
    var items = ui.log.querySelectorAll(".dgc-msg");
    for (var i = 0; i < items.length; i++) {
      var other = items[i].getAttribute("data-seq");
      if (items[i] !== node && (other === null || Number(other) > seq)) {
        ui.log.insertBefore(node, items[i]);
        return;
      }
    }
    ui.log.appendChild(node);
  }

  function setBubbleState(node, text, failed) {
    if (!node) return;
    node.dgcState.textContent = text;
    node.dgcState.className = "dgc-state" + (failed ? " dgc-state--failed" : "");
  }

  function nearEnd() {
    var s = ui.scroll;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
  }

  function scrollToEnd(force) {
    if (force || nearEnd()) {
      requestAnimationFrame(function () { ui.scroll.scrollTop = ui.scroll.scrollHeight; });
    }
  }

  // ---- server frames ------------------------------------------------------------------

  function onFrame(frame) {
    if (!frame || typeof frame !== "object") return;
    if (frame.type === "message") onMessage(frame);
    else if (frame.type === "ack") onAck(frame);
    else if (frame.type === "typing") setTyping(frame.on, frame.by === "agent");
    else if (frame.type === "error") onError(frame);
    else if (frame.type === "pong") clearTimeout(state.pongTimer);
    else if (frame.type === "feedback") onFeedback(frame);
  }

  function onMessage(m) {
    if (typeof m.seq !== "number" || state.bySeq.has(m.seq)) return;
    var stick = nearEnd();
    var node = m.direction === "in" && m.id ? state.byId.get(m.id) : null;
    if (node) {
      node.setAttribute("data-seq", String(m.seq));
      setBubbleState(node, "", false);
    } else {
      node = renderMessage(m);
      if (m.id) state.byId.set(m.id, node);
    }
    insertBySeq(node, m.seq);
    state.bySeq.set(m.seq, node);
    state.lastSeq = state.lastSeq === null ? m.seq : Math.max(state.lastSeq, m.seq);
    if (m.direction === "out") onReply(m);
    if (stick) scrollToEnd(true);
  }

  function onReply(m) {
    setTyping(false);
    if (m.seq > state.lastOutSeq && m.sender !== "system") {
      state.lastOutSeq = m.seq;
      var agent = m.sender && m.sender.indexOf("agent:") === 0;
      ui.subtitle.textContent = agent ? t("servedByAgent", { name: m.sender.slice(6) }) : t("servedByBot");
    }
    if (ui.panel.hidden && Date.parse(m.at) > state.loadedAt - 5000) {
      state.unread += 1;
      renderBadge();
    }
  }

  function onAck(frame) {
    var index = state.outbox.findIndex(function (m) { return m.id === frame.id; });
    if (index >= 0) {
      state.outbox.splice(index, 1);
      saveOutbox();
    }
    var node = state.byId.get(frame.id);
    if (node && !node.hasAttribute("data-seq")) setBubbleState(node, t("sent"), false);
    if (frame.status === "to_agent" || frame.status === "duplicate") setTyping(false);
  }

  function onError(frame) {
    if (frame.code === "session_ended") return; // the close that follows clears the widget
    var pending = frame.id && state.outbox.find(function (m) { return m.id === frame.id; });
    if (!pending) { notice(serverText(frame), true); return; }
    if (frame.code === "rate_limited" || frame.code === "server_error") {
      pending.sentOn = null; // send again a little later; nothing is lost
      notice(serverText(frame), true);
      setTimeout(flush, RETRY_LATER_MS);
      return;
    }
    state.outbox.splice(state.outbox.indexOf(pending), 1);
    saveOutbox();
    setTyping(false);
    setBubbleState(state.byId.get(frame.id), t("sendFailed", { reason: serverText(frame) }), true);
    if (pending.text && !ui.input.value) { ui.input.value = pending.text; autoGrow(); }
  }

  /** The dots while the assistant works on a reply; with "客服正在输入…" while an agent types. */
  function setTyping(on, byAgent) {
    clearTimeout(state.typingTimer);
    var agent = !!(on && byAgent);
    ui.typing.hidden = !on;
    ui.typing.classList.toggle("dgc-typing--agent", agent);
    ui.typingLabel.textContent = agent ? t("agentTyping") : "";
    if (on) {
      state.typingTimer = setTimeout(function () { setTyping(false); },
        agent ? AGENT_TYPING_SHOWN_MS : TYPING_TIMEOUT_MS);
      scrollToEnd(false);
    }
  }

  /**
   * Tell the server whether the citizen is typing: "on" at most every
   * TYPING_SEND_EVERY_MS while the box has text, "off" once when it empties.
   * The server passes it on only to an agent holding the chat (never to the
   * assistant, never into the transcript). A sent message needs no "off".
   */
  function signalTyping() {
    var ws = state.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    var typing = ui.input.value.trim() !== "";
    var now = Date.now();
    if (typing ? now - state.typingSentAt < TYPING_SEND_EVERY_MS : !state.typingSentAt) return;
    state.typingSentAt = typing ? now : 0;
    ws.send(JSON.stringify({ type: "typing", on: typing }));
  }

  var SERVER_CODES = { rate_limited: "rateLimited", server_error: "serverError", too_long: "tooLong",
    too_large: "tooLong" };
  /** An error frame's text: the server's own (Chinese), or the table's in another language. */
  function serverText(frame) {
    var key = SERVER_CODES[frame.code];
    if (key && (CONFIG.lang !== "zh-CN" || !frame.message)) return t(key, { max: MAX_CHARS });
    return frame.message || t("error");
  }

  var noticeTimer = null;
  var stickyNotice = false;
  /** A status line; ``sticky`` keeps it until the next connection attempt. */
  function notice(text, isError, sticky) {
    clearTimeout(noticeTimer);
    ui.status.textContent = text;
    ui.status.className = "dgc-status" + (isError ? " dgc-status--error" : "");
    ui.status.hidden = false;
    stickyNotice = !!sticky;
    if (!sticky) noticeTimer = setTimeout(renderConnection, 4000);
  }

  function renderConnection() {
    if (stickyNotice) return;
    var online = state.ws && state.ws.readyState === WebSocket.OPEN;
    ui.status.className = "dgc-status";
    ui.status.textContent = online || state.idle ? "" : t("connecting");
    ui.status.hidden = online || state.idle;
  }

  function renderEnd() {
    ui.end.hidden = !state.token;
    if (!state.token) ui.confirm.hidden = true;
  }

  // ---- sending --------------------------------------------------------------------------

  function submitInput() {
    var text = ui.input.value.trim();
    if (!text) { ui.input.focus(); return; }
    if (text.length > MAX_CHARS) { notice(t("tooLong", { max: MAX_CHARS }), true); return; }
    ui.input.value = "";
    state.typingSentAt = 0; // the message itself ends the typing on the agent's screen
    autoGrow();
    enqueue({ id: newId(), text: text });
  }

  function ask(text) {
    if (ui.panel.hidden) open();
    enqueue({ id: newId(), text: String(text).slice(0, MAX_CHARS) });
  }

  function choose(button) {
    enqueue({ id: newId(), payload: button.payload, title: button.title });
  }

  function enqueue(m) {
    save(sessionStorage, KEY_ACTIVE, "1");
    m.at = new Date().toISOString();
    state.outbox.push(m);
    saveOutbox();
    showPending(m);
    setTyping(true);
    connect();
    flush();
  }

  function showPending(m) {
    if (state.byId.has(m.id)) return;
    var node = renderMessage({ direction: "in", sender: "citizen", text: m.text || m.title, at: m.at });
    setBubbleState(node, t("sending"), false);
    state.byId.set(m.id, node);
    ui.log.appendChild(node);
    scrollToEnd(true);
  }

  function flush() {
    var ws = state.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    state.outbox.forEach(function (m) {
      if (m.sentOn === state.generation) return;
      m.sentOn = state.generation;
      var frame = { type: "message", id: m.id };
      if (m.payload) { frame.payload = m.payload; frame.title = m.title; } else frame.text = m.text;
      ws.send(JSON.stringify(frame));
    });
  }

  // ---- connection ---------------------------------------------------------------------------

  function connect() {
    if (state.connecting || state.ws) return;
    state.connecting = true;
    state.idle = false;
    stickyNotice = false;
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = null;
    renderConnection();
    var epoch = state.epoch;
    startSession(epoch).then(function () {
      if (epoch === state.epoch) openSocket();
    }, function (error) {
      if (epoch !== state.epoch) return;
      state.connecting = false;
      if (error && error.status === 429) {
        // Too many new sessions from this address: say so, wait as the server asks.
        notice(CONFIG.lang === "zh-CN" && error.message || t("rateLimited"), true, true);
        scheduleReconnect(Math.max(error.retryAfter * 1000 || RATE_LIMITED_RETRY_MS, 5000));
        return;
      }
      scheduleReconnect();
    });
  }

  function startSession(epoch) {
    var hadToken = !!state.token;
    return fetch(ORIGIN + "/webchat/session", {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(state.token ? { token: state.token } : {}),
    }).then(function (response) {
      if (response.status === 429) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          var error = new Error("session 429");
          error.status = 429;
          error.message = body && body.message;
          error.retryAfter = Number(response.headers.get("Retry-After")) || 0;
          throw error;
        });
      }
      if (!response.ok) throw new Error("session " + response.status);
      return response.json();
    }).then(function (data) {
      if (epoch !== state.epoch) return; // the session was ended meanwhile
      if (hadToken && data.session_id !== tokenSession()) dropEarlierOutbox();
      if (state.sessionId && data.session_id !== state.sessionId) resetTranscript();
      state.sessionId = data.session_id;
      state.token = data.token;
      save(localStorage, KEY_TOKEN, data.token);
      renderEnd();
    });
  }

  function openSocket() {
    var url = WS_ORIGIN + "/webchat/ws?token=" + encodeURIComponent(state.token);
    if (state.lastSeq !== null) url += "&after_seq=" + state.lastSeq;
    var ws = new WebSocket(url);
    state.ws = ws;
    state.generation += 1;
    ws.addEventListener("open", function () {
      state.connecting = false;
      state.openedAt = Date.now();
      renderConnection();
      flush();
      startPing(ws);
    });
    ws.addEventListener("message", function (event) {
      try { onFrame(JSON.parse(event.data)); } catch (e) { /* ignore a malformed frame */ }
    });
    ws.addEventListener("close", function (event) {
      if (state.ws !== ws) return;
      state.ws = null;
      state.connecting = false;
      stopPing();
      // Only a socket that stayed open a while resets the backoff: a server
      // that accepts and closes at once must not cause a tight reconnect loop.
      if (state.openedAt && Date.now() - state.openedAt >= STABLE_MS) state.attempt = 0;
      state.openedAt = 0;
      if (event.code === CLOSE_SESSION_ENDED) { sessionEnded(); return; }
      if (event.code === CLOSE_TOO_MANY) {
        notice(t("tooMany"), true, true);
        scheduleReconnect(TOO_MANY_RETRY_MS);
        return;
      }
      if (event.code === CLOSE_RATE_LIMITED) {
        notice(t("rateLimited"), true, true);
        scheduleReconnect(RATE_LIMITED_RETRY_MS);
        return;
      }
      renderConnection();
      scheduleReconnect();
    });
  }

  /** Try again later: exponential backoff with jitter, or at least ``minimum`` ms. */
  function scheduleReconnect(minimum) {
    clearTimeout(state.reconnectTimer);
    var delay = Math.min(1000 * Math.pow(2, state.attempt), MAX_BACKOFF_MS);
    delay = Math.round(delay * (0.75 + Math.random() * 0.5));
    if (minimum) delay = Math.max(delay, Math.round(minimum * (1 + Math.random() * 0.2)));
    state.attempt += 1;
    state.reconnectTimer = setTimeout(connect, delay);
  }

  function reconnectNow() {
    if (!state.sessionId || state.ws || state.connecting || stickyNotice) return;
    state.attempt = 0;
    connect();
  }

  function startPing(ws) {
    stopPing();
    state.pingTimer = setInterval(function () {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.send(JSON.stringify({ type: "ping" }));
      clearTimeout(state.pongTimer);
      state.pongTimer = setTimeout(function () { ws.close(); }, PONG_TIMEOUT_MS);
    }, PING_EVERY_MS);
  }

  function stopPing() {
    clearInterval(state.pingTimer);
    clearTimeout(state.pongTimer);
  }

  /** The server gave a new session (old token expired): start a clean page. */
  function resetTranscript() {
    state.bySeq.clear();
    state.lastSeq = null;
    state.lastOutSeq = -1;
    Array.prototype.slice.call(ui.log.querySelectorAll(".dgc-msg[data-seq]")).forEach(function (n) {
      n.remove();
    });
  }

  function tokenSession() {
    var parts = String(state.token || "").split(".");
    return parts.length === 4 ? parts[1] : null;
  }

  /**
   * The stored token's session is over (ended, or idle for hours): unsent
   * messages kept from an earlier page view may be another visitor's on a
   * shared device, so they are neither shown nor sent to the new session.
   */
  function dropEarlierOutbox() {
    var earlier = state.outbox.filter(function (m) { return Date.parse(m.at) < state.loadedAt; });
    if (!earlier.length) return;
    earlier.forEach(function (m) {
      var node = state.byId.get(m.id);
      if (node) node.remove();
      state.byId.delete(m.id);
    });
    state.outbox = state.outbox.filter(function (m) { return earlier.indexOf(m) < 0; });
    saveOutbox();
  }

  // ---- ending the session ----------------------------------------------------------------------

  function askToEnd() {
    ui.confirm.hidden = false;
    ui.confirm.querySelector(".dgc-confirm-no").focus();
  }

  /** 结束会话: end it on the server (every replica), then forget it here. */
  function endSession() {
    var token = state.token;
    if (token) {
      fetch(ORIGIN + "/webchat/session/end", {
        method: "POST",
        mode: "cors",
        credentials: "omit",
        keepalive: true,
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ token: token }),
      }).catch(function () { /* offline: the server ends it after hours without activity */ });
    }
    clearSession(true);
    notice(t("ended"), false, true);
    ui.input.focus();
  }

  /** The server ended the session (结束会话 in another tab, or idle too long). */
  function sessionEnded() {
    // Messages typed here and not yet accepted are this visitor's: they go to a new session.
    var keep = state.outbox.slice();
    clearSession(false);
    notice(t("ended"), false, true);
    if (keep.length) {
      state.outbox = keep;
      saveOutbox();
      keep.forEach(function (m) { m.sentOn = null; showPending(m); });
      stickyNotice = false;
      connect();
    }
  }

  /** Forget the session: token, storage, the transcript on screen, timers, the socket. */
  function clearSession(dropOutbox) {
    state.epoch += 1;
    var ws = state.ws;
    state.ws = null;
    state.connecting = false;
    state.idle = true;
    stopPing();
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = null;
    state.attempt = 0;
    if (ws) { try { ws.close(1000, "ended"); } catch (e) { /* already closed */ } }
    state.token = null;
    state.sessionId = null;
    save(localStorage, KEY_TOKEN, null);
    state.outbox = [];
    if (dropOutbox) saveOutbox();
    save(sessionStorage, KEY_ACTIVE, null);
    state.bySeq.clear();
    state.byId.clear();
    state.lastSeq = null;
    state.lastOutSeq = -1;
    state.unread = 0;
    renderBadge();
    Array.prototype.slice.call(ui.log.querySelectorAll(".dgc-msg")).forEach(function (n) {
      n.remove();
    });
    setTyping(false);
    ui.subtitle.textContent = t("servedByBot");
    ui.input.value = "";
    autoGrow();
    renderEnd();
  }

  // ---- start ------------------------------------------------------------------------------------

  function onHostClick(event) {
    var target = event.target.closest && event.target.closest("[data-dg12345-ask],[data-dg12345-open]");
    if (!target) return;
    event.preventDefault();
    var question = target.getAttribute("data-dg12345-ask");
    if (question) ask(question); else open();
  }

  function start() {
    build();
    document.addEventListener("click", onHostClick);
    window.addEventListener("online", reconnectNow);
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) reconnectNow();
    });
    state.outbox.forEach(showPending);
    renderEnd();
    checkEmergency();
    setInterval(checkEmergency, EMERGENCY_POLL_MS);
    // A returning visitor connects when opening the panel; a tab that is
    // mid-conversation reconnects at once so replies raise the unread badge.
    if (state.outbox.length || load(sessionStorage, KEY_ACTIVE)) connect();
    if (load(sessionStorage, KEY_OPEN)) open();
    else if (CONFIG.autoOpen && !load(sessionStorage, KEY_CLOSED) &&
      !window.matchMedia("(max-width: 30em)").matches) open(true);
  }

  window.DG12345Chat = { open: function () { open(); }, close: function () { close(); }, ask: ask };
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
