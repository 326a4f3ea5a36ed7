/* The toolbar popup: the store's open findings by severity, the week's title quota, a
   spot-check of the active tab (when it is the store), and the dashboard link. */
"use strict";
(function () {
  var SA = self.StoreAudit;
  var $ = function (id) { return document.getElementById(id); };
  var tab = null;

  $("options").addEventListener("click", function (e) { e.preventDefault(); chrome.runtime.openOptionsPage(); window.close(); });

  function status(kind, text) {
    var el = $("spotStatus");
    el.hidden = !text;
    el.className = "status " + kind;
    el.textContent = text || "";
  }

  function render(answer) {
    if (!answer || !answer.ok) {
      var e = answer && answer.error;
      $("message").textContent = e && e.kind === "not-configured"
        ? "Not set up yet: open Settings to enter the API address, a token and the store's address."
        : "Cannot reach storeaudit: " + SA.describeError(e) + ".";
      $("message").className = "status error";
      return;
    }
    var data = answer.data;
    var overlay = data.overlay;
    $("message").hidden = true;
    $("summary").hidden = false;
    $("store").textContent = data.settings.storeOrigins[0] ? new URL(data.settings.storeOrigins[0]).host : "";
    var list = $("counts");
    while (list.firstChild) { list.removeChild(list.firstChild); }
    SA.SEVERITIES.forEach(function (sev) {
      var li = document.createElement("li");
      li.className = "count count-" + sev + ((overlay.open_counts[sev] || 0) ? "" : " zero");
      var n = document.createElement("b");
      n.textContent = String(overlay.open_counts[sev] || 0);
      var label = document.createElement("span");
      label.textContent = SA.SEVERITY_LABEL[sev];
      li.appendChild(n);
      li.appendChild(label);
      list.appendChild(li);
    });
    var q = overlay.quota;
    $("quotaFill").style.width = (q.quota > 0 ? Math.min(100, Math.round(100 * q.changed / q.quota)) : 100) + "%";
    $("quotaFill").parentNode.className = "quota-bar" + (q.met ? " met" : "");
    $("quotaText").textContent = q.changed + " / " + q.quota + (q.met ? " ✓ met" : "");
    if (SA.originOf(overlay.dashboard_url)) { $("dashboard").href = overlay.dashboard_url; } else { $("dashboard").hidden = true; }
    var button = $("spotCheck");
    button.disabled = !data.isStore;
    button.title = data.isStore ? "" : "Open a page of the store to spot-check it";
  }

  async function spotCheck() {
    var button = $("spotCheck");
    button.disabled = true;
    status("", "Starting…");
    var started = Date.now();
    var answer = await chrome.runtime.sendMessage({type: "spotCheck", url: tab.url});
    if (!answer.ok) { status("error", "Refused: " + (answer.error.message || SA.describeError(answer.error))); button.disabled = false; return; }
    var result = answer.data;
    while (result.run.status === "running" && Date.now() - started < 120000) {
      status("", "Spot-check #" + result.run.id + " running… " + Math.round((Date.now() - started) / 1000) + " s");
      await new Promise(function (r) { setTimeout(r, 700); });
      var poll = await chrome.runtime.sendMessage({type: "spotCheckStatus", id: result.run.id});
      if (!poll.ok) { status("error", SA.describeError(poll.error)); button.disabled = false; return; }
      result = poll.data;
    }
    var open = result.findings.filter(function (f) { return f.status === "open" || f.status === "acknowledged"; });
    status(result.run.status === "complete" ? "ok" : "error", "Spot-check #" + result.run.id + " " + result.run.status + ": " +
           (open.length ? open.length + " open finding(s) on this page." : "no open findings on this page."));
    button.disabled = false;
    chrome.tabs.sendMessage(tab.id, {type: "refresh"}).catch(function () { /* no overlay in that tab */ });
    load();
  }

  function load() {
    chrome.runtime.sendMessage({type: "summary", url: tab && tab.url}).then(render);
  }

  $("spotCheck").addEventListener("click", spotCheck);
  chrome.tabs.query({active: true, currentWindow: true}).then(function (tabs) {
    tab = tabs[0] || null; // tab.url is visible only on sites this extension may access: the store
    load();
  });
})();
