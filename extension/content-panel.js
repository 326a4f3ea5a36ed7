/* storeaudit overlay: the panel on a listing's page, in the page-level layer. Its open
   findings worst first, the agreed values next to the current ones, the price history, the
   week's title quota, and the buttons (what they do is in content-actions.js). */
(function () {
  "use strict";
  var O = window.__storeauditOverlay;
  if (!O || O.started) { return; } // already running in this page: the first copy stays in charge
  var SA = self.StoreAudit;
  var h = O.h;
  var onTrustedClick = O.onTrustedClick;
  var layer = O.layer;
  var hideNotice = O.hideNotice;
  var sparkline = O.sparkline;
  var state = O.state;
  var ui = O.ui;

  function countChips(findings) {
    var counts = {};
    findings.forEach(function (f) { counts[f.severity] = (counts[f.severity] || 0) + 1; });
    return SA.SEVERITIES.filter(function (s) { return counts[s]; }).map(function (s) {
      return h("span", {class: "sev sev-" + s, text: counts[s] + " " + s});
    });
  }

  function findingView(f) {
    var deadline = SA.relativeDeadline(f.deadline);
    var meta = h("div", {class: "meta"}, [
      h("span", {class: "rule", text: f.rule_id}),
      deadline ? " · deadline " : null,
      deadline ? h("span", {class: deadline.overdue ? "overdue" : "", text: SA.shortTime(f.deadline) + " (" + deadline.text + ")"}) : null
    ]);
    var actions = h("div", {class: "row-actions"});
    if (f.status === "acknowledged") {
      actions.appendChild(h("span", {class: "ack",
        text: "✓ Acknowledged" + (f.acknowledged_by ? " by " + f.acknowledged_by : "")}));
    } else {
      actions.appendChild(h("button", {class: "btn", type: "button", "data-action": "acknowledge",
        text: "Acknowledge", onclick: onTrustedClick(function (e) { O.acknowledge(f, e.currentTarget); })}));
    }
    if (isMerchant()) {
      actions.appendChild(h("button", {class: "btn danger", type: "button", "data-action": "waive",
        text: "Waive…", onclick: onTrustedClick(function () { O.openWaive(f, item); })}));
    }
    var item = h("div", {class: "finding " + f.severity, "data-finding": String(f.id)}, [
      h("div", {}, [h("span", {class: "sev sev-" + f.severity, text: f.severity}), " ",
                    h("span", {class: "meta", text: f.response})]),
      h("div", {class: "msg", text: f.message}),
      changedLines(f),
      meta,
      actions
    ]);
    return item;
  }

  // What had changed on the listing when the finding was first seen (its evidence), as text:
  // "price ¥299.00 → ¥199.00 (15 Nov, 02:00 → 16 Nov, 02:00)".
  function changedLines(f) {
    var changed = f.evidence && Array.isArray(f.evidence.changed) ? f.evidence.changed : [];
    if (!changed.length) return null;
    var cur = f.evidence.currency;
    function show(field, v) {
      if (v === null || v === undefined) return "—";
      if (field === "price" || field === "list_price") return SA.money(v, cur);
      if (Array.isArray(v)) return v.length + " images";
      return String(v);
    }
    return h("div", {class: "changed"}, changed.slice(0, 5).map(function (c) {
      var field = String(c.field || "?");
      var when = c.before_at && c.after_at
        ? " (" + SA.shortTime(c.before_at) + " → " + SA.shortTime(c.after_at) + ")" : "";
      return h("div", {text: field.replace(/_/g, " ") + " " + show(field, c.before) + " → " +
                             show(field, c.after) + when});
    }));
  }

  function valuesTable(view) {
    var current = view.listing.current || {};
    var rows = [];
    var price = current.price !== null && current.price !== undefined ? Number(current.price) : null;
    var floor = view.floor !== null && view.floor !== undefined ? Number(view.floor) : null;
    var ref = view.reference_price !== null && view.reference_price !== undefined ? Number(view.reference_price) : null;
    var cur = current.currency;
    // The contract may apply the floor to some listings only (e.g. promoted ones): call the
    // price bad only when the below-floor rule flagged it.
    var flagged = view.findings.some(function (f) { return f.rule_id === "prices.below_floor"; });
    var under = price !== null && floor !== null && price < floor;
    var priceCell = [h("span", {class: under && flagged ? "bad" : "", text: SA.money(current.price, cur)})];
    if (floor !== null) {
      priceCell.push(h("span", {class: "muted", text: "  floor " + SA.money(view.floor, cur)}));
      if (price !== null) {
        priceCell.push(under && flagged ? h("span", {class: "bad", text: "  ✗ under"})
          : under ? h("span", {class: "muted", text: "  (under it, not flagged)"})
          : h("span", {class: "ok", text: "  ✓"}));
      }
    }
    rows.push(["Price", priceCell]);
    if (ref !== null) {
      var cell = [h("span", {text: SA.money(view.reference_price, cur)})];
      if (price !== null && ref > 0) {
        var off = Math.round((1 - price / ref) * 1000) / 10;
        cell.push(h("span", {class: off > 0 ? "muted" : "ok", text: off > 0 ? "  now " + off + "% under" : "  no discount"}));
      }
      rows.push(["Reference", cell]);
    }
    if (current.list_price) { rows.push(["List price", [SA.money(current.list_price, cur)]]); }
    var days = view.days_since_title_change;
    rows.push(["Title change", [days === null || days === undefined ? h("span", {class: "muted", text: "not seen changing yet"})
      : (days === 0 ? "today" : days + (days === 1 ? " day ago" : " days ago"))]]);
    var stock = [];
    var available = current.availability ? String(current.availability).replace(/^https?:\/\/schema\.org\//, "") : null;
    var words = {InStock: "in stock", OutOfStock: "out of stock", SoldOut: "sold out", LimitedAvailability: "limited",
                 PreOrder: "pre-order", BackOrder: "back-order", Discontinued: "discontinued"};
    var out = current.stock_count === 0 || available === "OutOfStock" || available === "SoldOut";
    stock.push(h("span", {class: out ? "bad" : "", text: (current.stock_count !== null && current.stock_count !== undefined)
      ? current.stock_count + " in stock" : (words[available] || available || "unknown")}));
    if (current.promoted) { stock.push(h("span", {class: "muted", text: " · promoted"})); }
    rows.push(["Stock", stock]);
    var table = h("table", {class: "values"});
    rows.forEach(function (row) {
      table.appendChild(h("tr", {}, [h("th", {text: row[0]}), h("td", {}, row[1])]));
    });
    return table;
  }

  function quotaFoot(overlay) {
    var q = overlay.quota;
    var pct = q.quota > 0 ? Math.min(100, Math.round(100 * q.changed / q.quota)) : 100;
    var bar = h("span", {class: "quota-bar" + (q.met ? " met" : "")}, [h("span")]);
    bar.firstChild.style.width = pct + "%";
    var dash = SA.originOf(overlay.dashboard_url)  // http(s) only
      ? h("a", {href: overlay.dashboard_url, target: "_blank", rel: "noopener noreferrer", text: "Dashboard ↗"}) : null;
    return h("div", {class: "foot"}, [
      h("span", {}, ["Titles this week", bar, q.changed + " / " + q.quota]),
      dash
    ]);
  }

  function isMerchant() {
    return !state.identity || state.identity.role === "merchant"; // unknown: offer, the API decides
  }

  function setStatus(kind, text, progress) {
    state.status = {kind: kind, text: text, progress: !!progress};
    var box = ui.panel && ui.panel.querySelector(".status-slot");
    if (!box) { return; }
    while (box.firstChild) { box.removeChild(box.firstChild); }
    if (!text) { return; }
    var node = h("div", {class: "status " + (kind || ""), role: "status", "aria-live": "polite", text: text});
    if (progress) { node.appendChild(h("div", {class: "progress"}, [h("span")])); }
    box.appendChild(node);
  }

  function renderPanel() {
    var overlay = state.overlay;
    var view = overlay.listing;
    var root = layer();
    hideNotice();
    var findings = view.findings.slice().sort(function (a, b) { return SA.severityRank(a.severity) - SA.severityRank(b.severity); });
    var current = view.listing.current || {};
    var toggle = h("button", {class: "toggle", type: "button", "aria-label": state.collapsed ? "Expand" : "Collapse",
      text: state.collapsed ? "▴" : "▾", onclick: onTrustedClick(function () {
        state.collapsed = !state.collapsed;
        try { chrome.storage.local.set({panelCollapsed: state.collapsed}); } catch (e) { /* gone */ }
        renderPanel();
      })});
    var head = h("div", {class: "head"}, [
      h("span", {class: "brand", text: "storeaudit"}, [h("small", {text: "contract check"})]),
      h("span", {class: "chips"}, findings.length ? countChips(findings) : [h("span", {class: "sev sev-ok", text: "OK"})]),
      toggle
    ]);
    var listSection = h("div", {class: "section"}, [h("h4", {text: "Open findings (" + findings.length + ")"})]);
    if (findings.length) { findings.forEach(function (f) { listSection.appendChild(findingView(f)); }); }
    else { listSection.appendChild(h("div", {class: "empty", text: "✓ No open findings on this listing."})); }
    var chart = sparkline(view.history, view.floor);
    var buttons = h("div", {class: "actions"}, [
      h("button", {class: "btn primary", type: "button", "data-action": "spot-check", text: "Spot-check now",
                   onclick: onTrustedClick(function (e) { O.spotCheck(e.currentTarget); })}),
      isMerchant() && (view.listing.sku || current.sku) ? h("button", {class: "btn", type: "button", "data-action": "approve",
        text: "Approve discount…", onclick: onTrustedClick(function () { O.openApprove(view); })}) : null
    ]);
    var body = h("div", {class: "body"}, [
      h("div", {}, [
        h("div", {class: "title", text: current.title || view.listing.url}),
        h("div", {class: "sub", text: "SKU " + (view.listing.sku || "—") + " · last crawled " +
                   (current.fetched_at ? SA.shortTime(current.fetched_at) : "never")})
      ]),
      listSection,
      h("div", {class: "section"}, [h("h4", {text: "Agreed vs now"}), valuesTable(view)]),
      chart ? h("div", {class: "section"}, [h("h4", {text: "Price history"}), chart]) : null,
      buttons,
      h("div", {class: "form-slot"}),
      h("div", {class: "status-slot"})
    ]);
    var panel = h("section", {class: "sa panel" + (state.collapsed ? " collapsed" : ""), "aria-label": "storeaudit findings for this listing"},
                  [head, body, state.collapsed ? null : quotaFoot(overlay)]);
    if (ui.panel) { ui.panel.replaceWith(panel); } else { root.appendChild(panel); }
    ui.panel = panel;
    if (state.status) { setStatus(state.status.kind, state.status.text, state.status.progress); }
  }

  O.renderPanel = renderPanel;
  O.setStatus = setStatus;
})();
