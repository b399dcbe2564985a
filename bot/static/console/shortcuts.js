"use strict";
/* Keyboard shortcuts of the agents' desk (loaded before console.js). One table
   drives both the keys and the help sheet ("?" opens it), so the sheet always
   says what the keys do. Single keys never fire while the agent types in a
   field, in a dialog, with an input method composing, or with Ctrl/Alt/⌘
   held (the browser's own shortcuts stay); the send and close combos work in
   the reply box too. */
window.ConsoleShortcuts = (function () {
  /* keys: what the sheet shows; match(e): whether a key event is this one;
     combo: also fires while typing. Actions are named; console.js supplies them. */
  function plain(key) {
    return function (e) { return !e.ctrlKey && !e.metaKey && !e.altKey && e.key === key; };
  }
  function letter(code) {
    return function (e) { return !e.ctrlKey && !e.metaKey && !e.altKey && !e.shiftKey && e.code === code; };
  }
  var TABLE = [
    { action: "nextUnread", keys: ["N"], text: "打开下一个待处理会话（未读优先，其次排队最久的市民）", match: letter("KeyN") },
    { action: "next", keys: ["J"], text: "列表中的下一个会话", match: letter("KeyJ") },
    { action: "previous", keys: ["K"], text: "列表中的上一个会话", match: letter("KeyK") },
    { action: "claim", keys: ["C"], text: "接入当前排队的市民", match: letter("KeyC") },
    { action: "reply", keys: ["R"], text: "光标移到回复框", match: letter("KeyR") },
    { action: "canned", keys: ["/"], text: "搜索常用语", match: plain("/") },
    { action: "send", keys: ["Ctrl", "Enter"], text: "发送回复（Mac 用 ⌘ + Enter；在回复框中直接按 Enter 也可发送）", combo: true,
      match: function (e) { return (e.ctrlKey || e.metaKey) && !e.altKey && e.key === "Enter"; } },
    { action: "close", keys: ["Ctrl", "Alt", "E"], text: "结束当前会话（会再次确认）", combo: true,
      match: function (e) { return e.ctrlKey && e.altKey && !e.metaKey && e.code === "KeyE"; } },
    { action: "tabQueue", keys: ["1"], text: "切换到“排队”列表", match: plain("1") },
    { action: "tabMine", keys: ["2"], text: "切换到“我的会话”列表", match: plain("2") },
    { action: "tabLive", keys: ["3"], text: "切换到“全部会话”列表（班长）", match: plain("3") },
    { action: "mute", keys: ["M"], text: "开启或关闭提示音", match: letter("KeyM") },
    { action: "help", keys: ["?"], text: "打开本快捷键说明", match: function (e) {
      return !e.ctrlKey && !e.metaKey && !e.altKey && (e.key === "?" || e.key === "？");
    } },
    { action: "leave", keys: ["Esc"], text: "离开输入框（之后可使用单键快捷键）；关闭对话框", combo: true,
      match: function (e) { return e.key === "Escape" && typing(e.target); } }
  ];

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }
  function inDialog(target) {
    return !!document.querySelector("dialog[open]") || !!(target && target.closest && target.closest("dialog"));
  }

  function renderSheet(list) {
    list.replaceChildren();
    TABLE.forEach(function (row) {
      var tr = document.createElement("tr");
      var keys = document.createElement("td");
      row.keys.forEach(function (k, i) {
        if (i) keys.appendChild(document.createTextNode(" + "));
        var kbd = document.createElement("kbd");
        kbd.textContent = k;
        keys.appendChild(kbd);
      });
      var what = document.createElement("td");
      what.textContent = row.text;
      tr.appendChild(keys);
      tr.appendChild(what);
      list.appendChild(tr);
    });
  }

  /* actions: {name: function (event)}; a missing name is skipped. */
  function install(actions) {
    var sheet = document.getElementById("shortcuts-list");
    if (sheet) renderSheet(sheet);
    document.addEventListener("keydown", function (e) {
      if (e.isComposing || e.keyCode === 229 || e.defaultPrevented) return;
      var inField = typing(e.target);
      var dialogOpen = inDialog(e.target);
      for (var i = 0; i < TABLE.length; i += 1) {
        var row = TABLE[i];
        if (!row.match(e)) continue;
        if (row.action === "leave") {
          if (!dialogOpen) { e.target.blur(); e.preventDefault(); }
          return;
        }
        if (dialogOpen || (inField && !row.combo)) return;
        var run = actions[row.action];
        if (!run) return;
        e.preventDefault();
        run(e);
        return;
      }
    });
  }

  return { install: install, table: TABLE };
})();
