"use strict";
/* The agents' desk calls for attention (loaded before console.js): a new
   citizen in the queue, or a citizen's new message in a conversation that is
   not on screen, counts as unread for that conversation. Unread counts show
   in the lists and, summed, in the tab title ("(3) 在线坐席工作台 · 东莞12345");
   each new one plays the chime (unless this agent muted it: remembered per
   agent in localStorage) and shows a desktop notification when the agent
   allowed them (asked only on a click, as browsers require). A notification
   names the channel and the conversation, never what the citizen wrote. */
window.ConsoleAttention = (function () {
  var SOUND_URL = "/console/static/chime.wav";
  var SOUND_GAP_MS = 1500;  // a burst of arrivals rings once
  var MUTE_KEY = "dg12345.console.muted.";
  var A = {
    userId: null, unread: {}, baseTitle: "", audio: null, lastSound: 0,
    onChange: function () {}, onOpen: function () {}
  };

  function $(id) { return document.getElementById(id); }

  function total() {
    return Object.keys(A.unread).reduce(function (sum, cid) { return sum + A.unread[cid]; }, 0);
  }
  function showTitle() {
    var n = total();
    document.title = n > 0 ? "(" + (n > 99 ? "99+" : n) + ") " + A.baseTitle : A.baseTitle;
  }
  function changed() { showTitle(); A.onChange(); }

  // ---------- sound ----------
  function muted() {
    try { return window.localStorage.getItem(MUTE_KEY + A.userId) === "1"; } catch (e) { return false; }
  }
  function setMuted(on) {
    try {
      if (on) window.localStorage.setItem(MUTE_KEY + A.userId, "1");
      else window.localStorage.removeItem(MUTE_KEY + A.userId);
    } catch (e) { /* storage off (private mode): the switch lasts for this page */ }
    A.mutedNow = on;
    showMute();
  }
  function isMuted() { return A.mutedNow; }
  function showMute() {
    var button = $("btn-mute");
    if (!button) return;
    button.textContent = A.mutedNow ? "提示音：关" : "提示音：开";
    button.classList.toggle("is-muted", A.mutedNow);  // the label says the state (no aria-pressed)
    button.title = A.mutedNow ? "点击开启新消息提示音（快捷键 M）" : "点击关闭新消息提示音（快捷键 M）";
  }
  function ring() {
    if (A.mutedNow) return;
    var at = Date.now();
    if (at - A.lastSound < SOUND_GAP_MS) return;
    A.lastSound = at;
    if (!A.audio) A.audio = new Audio(SOUND_URL);
    A.audio.currentTime = 0;
    var played = A.audio.play();
    // Browsers refuse sound before the page's first click: the title and the
    // badges still tell, so a refusal is not an error.
    if (played && played.catch) played.catch(function () {});
  }

  // ---------- desktop notifications ----------
  function notifications() { return "Notification" in window; }
  function showNotifyButton() {
    var button = $("btn-notify");
    if (!button) return;
    button.hidden = !notifications() || window.Notification.permission !== "default";
  }
  function askPermission() {
    if (!notifications()) return;
    var asked = window.Notification.requestPermission(showNotifyButton);
    if (asked && asked.then) asked.then(showNotifyButton);
  }
  function notify(cid, title, body) {
    if (!notifications() || window.Notification.permission !== "granted") return;
    try {
      var note = new window.Notification(title, { body: body, tag: "dg12345-" + cid });
      note.onclick = function () {
        window.focus();
        A.onOpen(cid);
        note.close();
      };
    } catch (e) { /* a browser that only notifies from a service worker: title and sound tell */ }
  }

  // ---------- unread ----------
  /* Something new in conversation ``cid`` for this agent: count it, ring, notify. */
  function bump(cid, title, body) {
    A.unread[cid] = (A.unread[cid] || 0) + 1;
    changed();
    ring();
    notify(cid, title, body);
  }
  function clear(cid) {
    if (!A.unread[cid]) return;
    delete A.unread[cid];
    changed();
  }
  /* Forget counts of conversations no longer this agent's concern (claimed by
     a colleague, closed): ``keep(cid)`` says which stay. */
  function prune(keep) {
    var dropped = false;
    Object.keys(A.unread).forEach(function (cid) {
      if (!keep(cid)) { delete A.unread[cid]; dropped = true; }
    });
    if (dropped) changed();
  }
  function count(cid) { return A.unread[cid] || 0; }
  function first(order) {
    for (var i = 0; i < order.length; i += 1) { if (A.unread[order[i]]) return order[i]; }
    return null;
  }

  function init(opts) {
    A.userId = opts.userId;
    A.onChange = opts.onChange || A.onChange;
    A.onOpen = opts.onOpen || A.onOpen;
    A.baseTitle = document.title;
    A.mutedNow = muted();
    showMute();
    showNotifyButton();
    var mute = $("btn-mute");
    if (mute) { mute.hidden = false; mute.addEventListener("click", function () { setMuted(!A.mutedNow); }); }
    var ask = $("btn-notify");
    if (ask) ask.addEventListener("click", askPermission);
  }

  return {
    init: init, bump: bump, clear: clear, prune: prune, count: count, total: total, first: first,
    isMuted: isMuted, setMuted: setMuted
  };
})();
