"use strict";
/* Helpers shared by the console's pages (loaded before each page's own script):
   element lookup and creation (server text only ever set with textContent) and
   the JSON API call with the session's CSRF token. */
window.ConsoleCommon = (function () {
  function $(id) { return document.getElementById(id); }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  /* GET (no body) or POST (JSON body, with the CSRF token) a console API.
     Resolves to {status, body}; body is null when the answer is not JSON (a
     proxy's error page). Signed out (401): to the sign-in page. */
  function api(path, body, csrfToken) {
    var init = { credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (body !== undefined) {
      init.method = "POST";
      init.headers["Content-Type"] = "application/json";
      init.headers["X-CSRF-Token"] = csrfToken || "";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (resp) {
      if (resp.status === 401) {
        window.location.assign("/console/login");
        throw new Error("signed out");
      }
      return resp.json().then(
        function (data) { return { status: resp.status, body: data }; },
        function () { return { status: resp.status, body: null }; }
      );
    });
  }

  return { $: $, el: el, api: api };
})();
