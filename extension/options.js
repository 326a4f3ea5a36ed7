/* The options page: API address, token and store origins; Save asks for host access to exactly
   those origins (in the click, as the browser requires) and registers the overlay for the store. */
"use strict";
(function () {
  var SA = self.StoreAudit;
  var form = document.getElementById("settings");
  var fields = {apiBase: form.elements.apiBase, token: form.elements.token, storeOrigins: form.elements.storeOrigins};
  var saveStatus = document.getElementById("saveStatus");
  var testStatus = document.getElementById("testStatus");
  var isFirefox = typeof browser !== "undefined" && !!(browser.runtime && browser.runtime.getBrowserInfo);

  document.getElementById("origin").textContent = location.origin;
  document.getElementById("serveHint").textContent = "storeaudit serve --extension-origin " + location.origin;

  function show(el, kind, text) {
    el.hidden = false;
    el.className = "status " + kind;
    el.textContent = text;
  }

  function read() {
    var apiBase = fields.apiBase.value.trim().replace(/\/+$/, "") || SA.DEFAULTS.apiBase;
    var lines = fields.storeOrigins.value.split(/[\s,]+/).filter(Boolean);
    var origins = [];
    var bad = [];
    lines.forEach(function (line) {
      var origin = SA.originOf(/^https?:\/\//i.test(line) ? line : "https://" + line);
      if (origin) { if (origins.indexOf(origin) < 0) { origins.push(origin); } } else { bad.push(line); }
    });
    return {apiBase: apiBase, token: fields.token.value.trim(), storeOrigins: origins, bad: bad};
  }

  function problems(s) {
    var out = [];
    if (!SA.originOf(s.apiBase)) { out.push("The API address must be an http(s) URL, e.g. http://127.0.0.1:8600."); }
    if (s.bad.length) { out.push("Not a store address: " + s.bad.join(", ") + "."); }
    if (!s.storeOrigins.length) { out.push("Enter the store's address (e.g. https://shop.example.com)."); }
    if (!s.token) { out.push("Enter a token."); }
    return out;
  }

  chrome.storage.local.get(["settings"], function (stored) {
    var s = Object.assign({}, SA.DEFAULTS, stored.settings || {});
    fields.apiBase.value = s.apiBase;
    fields.token.value = s.token;
    fields.storeOrigins.value = (s.storeOrigins || []).join("\n");
  });

  document.getElementById("showToken").addEventListener("click", function (e) {
    var hidden = fields.token.type === "password";
    fields.token.type = hidden ? "text" : "password";
    e.currentTarget.textContent = hidden ? "Hide" : "Show";
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var s = read();
    var wrong = problems(s);
    if (wrong.length) { show(saveStatus, "error", wrong.join(" ")); return; }
    var pattern = isFirefox ? SA.portlessPatternFor : SA.patternFor; // Firefox patterns take no port
    var wanted = s.storeOrigins.concat([SA.originOf(s.apiBase)]);
    var origins = wanted.map(pattern).filter(function (p, i, all) { return all.indexOf(p) === i; });
    // Must be called straight from the click: the browser shows its prompt only for a user action.
    chrome.permissions.request({origins: origins}).catch(function (e) {
      show(saveStatus, "error", "The browser refused the request: " + e.message);
      return false;
    }).then(function (granted) {
      var settings = {apiBase: s.apiBase, token: s.token, storeOrigins: s.storeOrigins};
      return chrome.storage.local.set({settings: settings}).then(function () {
        return chrome.runtime.sendMessage({type: "applySettings"});
      }).then(function (answer) {
        if (!answer || !answer.ok) { show(saveStatus, "error", "Saved, but the overlay could not be set up: " + SA.describeError(answer && answer.error)); return; }
        var result = answer.data;
        if (result.missing.length) {
          show(saveStatus, "error", "Saved, but access to " + result.missing.join(", ") +
               " was not granted, so the overlay stays off there. Save again and allow it.");
        } else {
          show(saveStatus, "ok", "Saved. The overlay is on for " + result.active.join(", ") +
               " (reload open store tabs)." + (granted ? "" : " Access to the API was not granted: it must allow " +
               location.origin + " (CORS)."));
        }
      });
    });
  });

  document.getElementById("test").addEventListener("click", function () {
    var s = read();
    show(testStatus, "", "Testing…");
    chrome.runtime.sendMessage({type: "testConnection", settings: {apiBase: s.apiBase, token: s.token, storeOrigins: s.storeOrigins}})
      .then(function (answer) {
        var r = answer && answer.ok ? answer.data : {ok: false, message: SA.describeError(answer && answer.error)};
        if (!r.ok) { show(testStatus, "error", r.message); return; }
        var who = r.identity ? "as " + r.identity.role + (r.identity.name ? " (" + r.identity.name + ")" : "") : "";
        var counts = SA.SEVERITIES.map(function (sev) { return (r.openCounts[sev] || 0) + " " + sev; }).join(", ");
        show(testStatus, "ok", "Connected" + (who ? " " + who : "") + (r.identity && r.identity.store ? " to " + r.identity.store : "") +
             ". Open findings: " + counts + ". Titles this week: " + r.quota.changed + " / " + r.quota.quota + ".");
      });
  });
})();
