"use strict";
/* The knowledge editor's page (supervisors): unanswered questions grouped by
   similarity; attach a group to an FAQ, draft a new FAQ, or dismiss it; which
   changes await `make train`. Server text is only ever set with textContent. */
(function () {
  var REASONS = { fallback: "未识别", low_confidence: "把握不足", thumbs_down: "答案没帮助", handoff: "转人工" };
  var ACTIONS = {
    action_handle_fallback: "请市民换个说法", action_answer_faq: "回答了问答",
    action_handoff: "转人工客服", "": "—"
  };
  var KINDS = { attach: "加入问法", draft: "新增问答" };
  var state = { me: null, data: null, current: null };

  var $ = ConsoleCommon.$;

  var el = ConsoleCommon.el;


  function fmt(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return iso || ""; }
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " +
      two(d.getHours()) + ":" + two(d.getMinutes());
  }

  function counts(map, names) {
    return Object.keys(map || {}).map(function (key) {
      return (names[key] || key) + " " + map[key];
    }).join("，");
  }

  function api(path, body) {
    return ConsoleCommon.api(path, body, state.me ? state.me.csrf_token : "");
  }


  function faqTitle(key) {
    var entries = (state.data && state.data.faq.entries) || [];
    for (var i = 0; i < entries.length; i++) {
      if (entries[i].id === key) { return entries[i].question + "（" + key + "）"; }
    }
    return key;
  }

  // ---- training state -------------------------------------------------------------
  function renderTraining(t) {
    var summary = $("kn-training-summary");
    var list = $("kn-awaiting");
    list.textContent = "";
    if (t.up_to_date) {
      summary.textContent = "模型已包含全部修改" + (t.trained ? "（训练于 " + fmt(t.trained.at) + "）" : "");
      summary.className = "kn-training-summary is-ok";
    } else {
      var text = t.awaiting.length + " 项修改待训练：运行 make train 后新问法才会生效";
      if (!t.trained) { text += "（尚未找到训练好的模型）"; }
      else { text += "（当前模型训练于 " + fmt(t.trained.at) + "）"; }
      if (t.other_changes) { text += "；知识库文件另有未经本页面的修改，也需要重新训练"; }
      summary.textContent = text;
      summary.className = "kn-training-summary is-pending";
    }
    t.awaiting.forEach(function (c) {
      var item = el("li", "kn-awaiting-item",
        "待训练 · " + (KINDS[c.kind] || c.kind) + " · " + faqTitle(c.faq_key) + " · " +
        c.actor + " · " + fmt(c.at) + " · " + c.file);
      item.setAttribute("data-faq", c.faq_key);
      list.appendChild(item);
    });
  }

  // ---- groups -----------------------------------------------------------------------
  function renderGroups() {
    var groups = state.data.groups;
    var list = $("kn-groups");
    list.textContent = "";
    groups.forEach(function (g, index) {
      var item = el("li", "kn-group");
      var pick = el("button", "kn-pick");
      pick.type = "button";
      pick.appendChild(el("span", "kn-count", g.count));
      pick.appendChild(el("span", "kn-group-label", g.label));
      pick.appendChild(el("span", "kn-meta",
        counts(g.reasons, REASONS) + " · 首次 " + fmt(g.first_seen) + " · 最近 " + fmt(g.last_seen)));
      var examples = el("ul", "kn-examples");
      g.examples.forEach(function (text) { examples.appendChild(el("li", null, text)); });
      pick.appendChild(examples);
      pick.setAttribute("aria-label", "第" + (index + 1) + "组，共" + g.count + "条：" + g.label);
      pick.addEventListener("click", function () { choose(index); });
      item.appendChild(pick);
      list.appendChild(item);
    });
    $("kn-empty").hidden = groups.length > 0;
    $("kn-summary").textContent = groups.length ?
      "共 " + groups.length + " 组，" + groups.reduce(function (n, g) { return n + g.count; }, 0) + " 条问题" : "";
  }

  function fact(list, name, value) {
    list.appendChild(el("dt", null, name));
    list.appendChild(el("dd", null, value || "—"));
  }

  function choose(index) {
    state.current = index;
    var g = state.data.groups[index];
    Array.prototype.forEach.call($("kn-groups").children, function (li, i) {
      li.classList.toggle("is-current", i === index);
    });
    $("kn-detail").hidden = false;
    $("kn-detail-label").textContent = g.label + "（" + g.count + " 条）";
    var facts = $("kn-detail-facts");
    facts.textContent = "";
    fact(facts, "原因", counts(g.reasons, REASONS));
    fact(facts, "助手的处理", counts(g.actions, ACTIONS));
    fact(facts, "识别为问答", Object.keys(g.faq_keys).map(faqTitle).join("；"));
    fact(facts, "渠道", counts(g.channels, {}));
    fact(facts, "首次出现", fmt(g.first_seen));
    fact(facts, "最近出现", fmt(g.last_seen));
    var box = $("kn-sentences");
    box.textContent = "";
    g.texts.forEach(function (text) {
      var label = el("label");
      var check = document.createElement("input");
      check.type = "checkbox";
      check.checked = true;
      check.value = text;
      label.appendChild(check);
      label.appendChild(document.createTextNode(" " + text));
      box.appendChild(label);
    });
    if (g.suggested_faq) { $("kn-attach-faq").value = g.suggested_faq; }
    $("kn-d-question").value = g.label;
    $("kn-result").textContent = "";
    $("kn-result").className = "kn-result";
  }

  function chosenSentences() {
    return Array.prototype.filter.call($("kn-sentences").querySelectorAll("input"), function (c) {
      return c.checked;
    }).map(function (c) { return c.value; });
  }

  function fillSelects() {
    var faq = $("kn-attach-faq");
    var domainSelect = $("kn-d-domain");
    if (faq.options.length) { return; }
    var domains = state.data.faq.domains;
    Object.keys(domains).forEach(function (key) {
      var group = document.createElement("optgroup");
      group.label = domains[key];
      state.data.faq.entries.forEach(function (e) {
        if (e.domain !== key) { return; }
        var option = el("option", null, e.question + "（" + e.id + "）");
        option.value = e.id;
        group.appendChild(option);
      });
      faq.appendChild(group);
      var option = el("option", null, domains[key]);
      option.value = key;
      domainSelect.appendChild(option);
    });
    var reasons = state.data.dismiss_reasons;
    Object.keys(reasons).forEach(function (key) {
      var option = el("option", null, reasons[key]);
      option.value = key;
      $("kn-dismiss-reason").appendChild(option);
    });
    var today = new Date();
    $("kn-d-updated").value = today.toISOString().slice(0, 10);
  }

  function showResult(result, done) {
    var box = $("kn-result");
    box.textContent = "";
    if (result.status !== 200) {
      box.className = "kn-result is-error";
      box.appendChild(el("p", null, (result.body && result.body.message) || "操作失败"));
      ((result.body && result.body.problems) || []).forEach(function (p) { box.appendChild(el("p", null, p)); });
      return;
    }
    box.className = "kn-result";
    box.appendChild(el("p", null, done));
    var body = result.body;
    if (body.added && body.added.length) { box.appendChild(el("p", null, "已加入问法：" + body.added.join("；"))); }
    (body.skipped || []).forEach(function (s) { box.appendChild(el("p", null, "未加入：" + s.text + "（" + s.why + "）")); });
    if (body.diff) {
      box.appendChild(el("p", null, "文件修改（待审阅）："));
      box.appendChild(el("pre", null, body.diff));
    }
    reload(true);
  }

  // One change at a time: the form's buttons wait for the answer (a second click
  // would act on a group already handled), the result box says it is saving, and
  // a request that never got an answer says so rather than leaving the box empty.
  function send(form, path, body, done) {
    var buttons = form.querySelectorAll("button");
    var box = $("kn-result");
    Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
    box.className = "kn-result";
    box.textContent = "正在保存…";
    return api(path, body).then(function (r) {
      showResult(r, r.status === 200 ? done(r.body) : "");
    }, function () {
      box.className = "kn-result is-error";
      box.textContent = "网络异常，未能确认是否保存成功，请刷新页面查看这组问题是否已处理。";
    }).finally(function () {
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
    });
  }

  function currentIds() {
    return state.data.groups[state.current].ids;
  }

  function bind() {
    $("kn-refresh").addEventListener("click", function () { reload(false); });
    $("kn-attach").addEventListener("submit", function (event) {
      event.preventDefault();
      if (state.current === null) { return; }
      var key = $("kn-attach-faq").value;
      send(event.target, "/console/api/knowledge/attach", { ids: currentIds(), faq_key: key, sentences: chosenSentences() },
        function () { return "已加入问答 " + faqTitle(key) + "，新问法需重新训练后生效。"; });
    });
    $("kn-draft").addEventListener("submit", function (event) {
      event.preventDefault();
      if (state.current === null) { return; }
      var form = event.target;
      var entry = {};
      ["id", "domain", "question", "answer", "department", "source", "updated"].forEach(function (name) {
        entry[name] = form.elements[name].value.trim();
      });
      var extra = form.elements.extra.value.split("\n").map(function (s) { return s.trim(); })
        .filter(function (s) { return s; });
      send(form, "/console/api/knowledge/draft", { ids: currentIds(), entry: entry, sentences: chosenSentences(), extra: extra },
        function () { return "已新增问答 " + entry.id + "，答案即时生效，问法需重新训练后才能被识别。"; });
    });
    $("kn-dismiss").addEventListener("submit", function (event) {
      event.preventDefault();
      if (state.current === null) { return; }
      send(event.target, "/console/api/knowledge/dismiss", { ids: currentIds(), reason: $("kn-dismiss-reason").value },
        function (body) { return "已忽略 " + (body.dismissed || 0) + " 条问题。"; });
    });
    $("kn-logout").addEventListener("click", function () {
      api("/console/logout", {}).finally(function () { window.location.assign("/console/login"); });
    });
  }

  function reload(keepResult) {
    $("kn-summary").textContent = "加载中…";
    return api("/console/api/knowledge").then(function (result) {
      if (result.status !== 200) {
        $("kn-summary").textContent = (result.body && result.body.message) || "加载失败";
        return;
      }
      state.data = result.body;
      state.current = null;
      // A knowledge directory the editor cannot write: said before anyone fills in a form.
      var storage = state.data.storage || { writable: true };
      $("kn-storage").hidden = storage.writable;
      $("kn-storage").textContent = storage.problem || "";
      fillSelects();
      renderTraining(state.data.training);
      renderGroups();
      if (!keepResult) { $("kn-detail").hidden = true; return; }
      // The group just handled is gone: keep the result, ask for the next group.
      $("kn-detail-label").textContent = "请在左侧选择下一组问题";
      $("kn-detail-facts").textContent = "";
      $("kn-sentences").textContent = "";
    }).catch(function () {
      $("kn-summary").textContent = "网络异常，请稍后重试";
    });
  }

  api("/console/api/me").then(function (result) {
    state.me = result.body;
    $("kn-user-name").textContent = state.me.display_name;
    bind();
    return reload(false);
  }).catch(function () {
    $("kn-summary").textContent = "加载失败，请刷新页面";
  });
})();
