/* storeaudit overlay: what the panel's buttons do. Each is one message to the service worker
   (which holds the token): acknowledge, waive (with a reason asked for in the panel), approve a
   discount (up to N % until a date) and spot-check (started once, then polled, so no message
   outlives the worker's idle limit). The panel is redrawn from the API afterwards. */
(function () {
  "use strict";
  var O = window.__storeauditOverlay;
  if (!O || O.started) { return; } // already running in this page: the first copy stays in charge
  var SA = self.StoreAudit;
  var h = O.h;
  var onTrustedClick = O.onTrustedClick;
  var send = O.send;
  var setStatus = O.setStatus;
  var state = O.state;
  var ui = O.ui;
  var POLL_MS = 700;
  var SPOT_CHECK_LIMIT_MS = 120000;

  function formSlot() {
    var slot = ui.panel.querySelector(".form-slot");
    while (slot.firstChild) { slot.removeChild(slot.firstChild); }
    return slot;
  }

  function openWaive(f) {
    var slot = formSlot();
    var reason = h("input", {class: "wide", type: "text", maxlength: "2000", placeholder: "e.g. clearance agreed by phone on 3 Nov",
                             "aria-label": "Reason for waiving"});
    var form = h("div", {class: "form", "data-form": "waive"}, [
      h("label", {text: "Waive finding #" + f.id + ": why is it acceptable?"}),
      reason,
      h("div", {class: "row-actions"}, [
        h("button", {class: "btn danger", type: "button", "data-action": "confirm-waive", text: "Waive finding",
          onclick: onTrustedClick(function () {
            var text = reason.value.trim();
            if (!text) { setStatus("error", "A reason is needed to waive a finding."); reason.focus(); return; }
            act({type: "waive", id: f.id, reason: text}, "Waived #" + f.id + ".");
          })}),
        h("button", {class: "btn", type: "button", text: "Cancel", onclick: onTrustedClick(function () { formSlot(); })})
      ])
    ]);
    slot.appendChild(form);
    reason.focus();
  }

  function openApprove(view) {
    var slot = formSlot();
    var current = view.listing.current || {};
    var ref = Number(view.reference_price);
    var price = Number(current.price);
    var suggested = ref > 0 && price > 0 && price < ref ? Math.min(95, Math.ceil((1 - price / ref) * 100)) : 30;
    var until = new Date(Date.now() + 7 * 86400e3);
    var pct = h("input", {class: "num", type: "number", min: "1", max: "95", step: "1", value: String(suggested), "aria-label": "Maximum discount in percent"});
    var date = h("input", {type: "date", value: until.toISOString().slice(0, 10), "aria-label": "Valid until"});
    var sku = view.listing.sku || current.sku;
    slot.appendChild(h("div", {class: "form", "data-form": "approve"}, [
      h("label", {}, ["Allow " + sku + " up to", pct, "% under the reference price"]),
      h("label", {}, ["until the end of", date]),
      h("div", {class: "row-actions"}, [
        h("button", {class: "btn primary", type: "button", "data-action": "confirm-approve", text: "Record approval",
          onclick: onTrustedClick(function () {
            var p = Number(pct.value);
            if (!(p >= 1 && p <= 95) || !date.value) { setStatus("error", "Give a discount between 1 and 95 % and a date."); return; }
            act({type: "approve", sku: sku, max_discount: (p / 100).toFixed(2), until: endOfDay(date.value)},
                "Approval recorded: " + sku + " may be up to " + p + "% under the reference until " + date.value +
                ". Its discount finding resolves at the next audit or spot-check.");
          })}),
        h("button", {class: "btn", type: "button", text: "Cancel", onclick: onTrustedClick(function () { formSlot(); })})
      ])
    ]));
  }

  /** "2026-12-01" -> "2026-12-01T23:59:59+08:00" in the browser's zone. */
  function endOfDay(day) {
    var local = new Date(day + "T23:59:59");
    var offset = -local.getTimezoneOffset();
    var sign = offset >= 0 ? "+" : "-";
    var abs = Math.abs(offset);
    return day + "T23:59:59" + sign + String(Math.floor(abs / 60)).padStart(2, "0") + ":" + String(abs % 60).padStart(2, "0");
  }

  function actionError(answer) {
    var e = answer.error || {};
    if (e.kind === "forbidden") { return "Your token's role may not do this: " + (e.message || "403"); }
    return "Could not do it: " + (e.kind === "conflict" || e.kind === "invalid" ? e.message : SA.describeError(e));
  }

  async function act(message, doneText) {
    setStatus("", "Working…", true);
    var answer = await send(message);
    if (!answer.ok) { setStatus("error", actionError(answer)); return; }
    state.status = {kind: "done", text: doneText, progress: false};
    await O.refresh();
  }

  async function acknowledge(f, button) {
    button.disabled = true;
    var answer = await send({type: "acknowledge", id: f.id});
    if (!answer.ok) { button.disabled = false; setStatus("error", actionError(answer)); return; }
    state.status = {kind: "done", text: "Acknowledged #" + f.id + " (" + f.rule_id + ").", progress: false};
    await O.refresh();
  }

  async function spotCheck(button) {
    button.disabled = true;
    var started = Date.now();
    setStatus("", "Spot-check: asking storeaudit to crawl this page now…", true);
    var answer = await send({type: "spotCheck", url: location.href});
    if (!answer.ok) {
      button.disabled = false;
      setStatus("error", "Spot-check refused: " + (answer.error.message || SA.describeError(answer.error)));
      return;
    }
    var id = answer.data.run.id;
    var result = answer.data;
    while (result.run.status === "running") {
      if (Date.now() - started > SPOT_CHECK_LIMIT_MS) {
        button.disabled = false;
        setStatus("error", "Spot-check #" + id + " is taking long; see the dashboard for its result.");
        return;
      }
      setStatus("", "Spot-check #" + id + " running… " + Math.round((Date.now() - started) / 1000) + " s", true);
      await new Promise(function (r) { setTimeout(r, POLL_MS); });
      var poll = await send({type: "spotCheckStatus", id: id});
      if (!poll.ok) { button.disabled = false; setStatus("error", "Spot-check #" + id + ": " + SA.describeError(poll.error)); return; }
      result = poll.data;
    }
    var open = result.findings.filter(function (f) { return f.status === "open" || f.status === "acknowledged"; });
    var text;
    if (result.run.status !== "complete") {
      text = "Spot-check #" + id + " " + result.run.status + (result.run.error ? ": " + result.run.error : "") + ".";
      state.status = {kind: "error", text: text, progress: false};
    } else {
      var worstSev = SA.worst(open.map(function (f) { return f.severity; }));
      text = "Spot-check #" + id + " complete (" + Math.round((Date.now() - started) / 1000) + " s): " +
        (open.length ? open.length + " open finding" + (open.length === 1 ? "" : "s") + ", worst " + worstSev
                     : "no open findings") + " on this page.";
      state.status = {kind: "done", text: text, progress: false};
    }
    await O.refresh();
  }

  O.openWaive = openWaive;
  O.openApprove = openApprove;
  O.acknowledge = acknowledge;
  O.spotCheck = spotCheck;
})();
