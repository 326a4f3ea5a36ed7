/* storeaudit overlay: runs only on the store origins the user configured (the service worker
   registers it for those and nothing else).

   Everything it shows lives in closed shadow roots on its own host elements: the store's CSS
   cannot reach in, its CSS cannot leak out, and the store's scripts cannot read or click it.
   Every piece of text that came from the store (titles, messages quoting titles, prices) is
   put in with textContent / createTextNode, never innerHTML, and with its direction overrides
   shown rather than obeyed (StoreAudit.plain).

   It never sees the API token: it asks the service worker by message. */
(function () {
  "use strict";
  if (window.__storeauditOverlay) { return; } // isolated world: invisible to the page
  window.__storeauditOverlay = true;

  var SA = self.StoreAudit;
  var SVG_NS = "http://www.w3.org/2000/svg";
  var RESCAN_DELAY_MS = 300;
  var POLL_MS = 700;
  var SPOT_CHECK_LIMIT_MS = 120000;

  var state = {url: null, overlay: null, identity: null, collapsed: false, status: null};
  var ui = {host: null, root: null, panel: null, tooltip: null, notice: null};
  var badges = new Map(); // card element -> badge host
  var observer = null;
  var rescanTimer = null;

  // ---------------------------------------------------------------- messaging

  function send(message) {
    return new Promise(function (resolve) {
      try {
        chrome.runtime.sendMessage(message, function (answer) {
          if (chrome.runtime.lastError || !answer) {
            resolve({ok: false, error: {kind: "unreachable", message: "extension not answering"}});
          } else {
            resolve(answer);
          }
        });
      } catch (e) { // the extension was reloaded or removed under this page
        resolve({ok: false, error: {kind: "unreachable", message: String(e)}});
      }
    });
  }

  // ---------------------------------------------------------------- DOM helpers (no innerHTML)

  /** h("div", {class: "x", text: "y", title: "z"}, [child, "text"]) */
  function h(tag, props, children) {
    var node = document.createElement(tag);
    props = props || {};
    Object.keys(props).forEach(function (key) {
      var value = props[key];
      if (value === null || value === undefined || value === false) { return; }
      if (key === "text") { node.textContent = SA.plain(value); }
      else if (key === "class") { node.className = value; }
      else if (key.indexOf("on") === 0) { node.addEventListener(key.slice(2), value); }
      else { node.setAttribute(key, String(value)); }
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === false) { return; }
      node.appendChild(typeof child === "string" ? document.createTextNode(SA.plain(child)) : child);
    });
    return node;
  }

  function svg(tag, attrs) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, String(attrs[key])); });
    return node;
  }

  /** Only a person's click counts: the store's own scripts could dispatch synthetic ones. */
  function onTrustedClick(handler) {
    return function (event) {
      if (!event.isTrusted) { return; }
      event.preventDefault();
      event.stopPropagation();
      handler(event);
    };
  }

  var CSS = [
    ":host { all: initial; }",
    "* { box-sizing: border-box; }",
    ".sa { font-family: system-ui, -apple-system, 'Segoe UI', 'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', sans-serif;",
    "  font-size: 13px; line-height: 1.45; color: #1f2933; -webkit-font-smoothing: antialiased; }",
    ".sev { display: inline-block; border-radius: 3px; padding: 0 6px; font-size: 11px; font-weight: 600;",
    "  letter-spacing: .02em; text-transform: uppercase; color: #fff; line-height: 18px; white-space: nowrap; }",
    ".sev-ok { background: #15803d; } .sev-critical { background: #c62828; } .sev-major { background: #b45309; } .sev-minor { background: #6b7280; }",
    ".dot { display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; flex: none; }",
    ".dot-critical { background: #c62828; } .dot-major { background: #d97706; } .dot-minor { background: #9ca3af; } .dot-plain { background: #cbd5e1; width: 5px; height: 5px; }",
    /* panel */
    ".panel { position: fixed; right: 16px; bottom: 16px; width: 380px; max-height: calc(100vh - 32px);",
    "  display: flex; flex-direction: column; background: #fff; border: 1px solid #d5dbe1; border-radius: 10px;",
    "  box-shadow: 0 10px 30px rgba(15, 23, 42, .18), 0 2px 6px rgba(15, 23, 42, .08); overflow: hidden;",
    "  pointer-events: auto; }",
    ".head { display: flex; align-items: center; gap: 8px; padding: 9px 10px 9px 12px; background: #1e293b; color: #f8fafc; }",
    ".brand { font-weight: 700; letter-spacing: .01em; font-size: 13px; }",
    ".brand small { font-weight: 400; color: #94a3b8; margin-left: 6px; font-size: 11px; }",
    ".chips { display: flex; gap: 4px; margin-left: auto; }",
    ".toggle { all: unset; cursor: pointer; color: #cbd5e1; font-size: 16px; line-height: 1; padding: 2px 6px; border-radius: 4px; }",
    ".toggle:hover, .toggle:focus-visible { background: #334155; color: #fff; }",
    ".body { overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 12px; }",
    ".collapsed .body { display: none; }",
    ".title { font-weight: 600; font-size: 14px; color: #0f172a; word-break: break-word; }",
    ".sub { color: #64748b; font-size: 12px; margin-top: 2px; }",
    ".section h4 { margin: 0 0 6px; font-size: 11px; text-transform: uppercase; letter-spacing: .06em; color: #64748b; font-weight: 600; }",
    ".finding { border: 1px solid #e2e8f0; border-left-width: 4px; border-radius: 6px; padding: 8px 10px; margin-bottom: 6px; }",
    ".finding.critical { border-left-color: #c62828; background: #fef6f6; }",
    ".finding.major { border-left-color: #d97706; background: #fffaf0; }",
    ".finding.minor { border-left-color: #9ca3af; background: #f8fafc; }",
    ".finding .msg { margin: 4px 0; color: #111827; word-break: break-word; }",
    ".meta { font-size: 12px; color: #475569; }",
    ".meta .overdue { color: #b91c1c; font-weight: 600; }",
    ".meta .rule { font-family: ui-monospace, 'SFMono-Regular', Menlo, monospace; font-size: 11px; color: #64748b; }",
    ".row-actions { display: flex; gap: 6px; margin-top: 6px; flex-wrap: wrap; align-items: center; }",
    ".ack { font-size: 12px; color: #15803d; }",
    ".empty { color: #15803d; font-weight: 500; }",
    "table.values { width: 100%; border-collapse: collapse; font-size: 12.5px; }",
    "table.values th { text-align: left; font-weight: 500; color: #64748b; padding: 3px 8px 3px 0; width: 92px; vertical-align: top; }",
    "table.values td { padding: 3px 0; color: #0f172a; }",
    ".bad { color: #b91c1c; font-weight: 600; } .ok { color: #15803d; } .muted { color: #64748b; }",
    ".spark { display: block; width: 100%; height: 64px; }",
    ".spark-legend { display: flex; justify-content: space-between; gap: 8px; font-size: 11px; color: #64748b; white-space: nowrap; }",
    ".spark-key { font-size: 11px; color: #64748b; margin-top: 2px; } .spark-key i { display: inline-block; width: 14px; border-top: 1px dashed #dc2626; vertical-align: middle; margin-right: 4px; }",
    "button.btn { all: unset; cursor: pointer; font: inherit; font-size: 12px; font-weight: 600; padding: 5px 10px;",
    "  border-radius: 5px; border: 1px solid #cbd5e1; background: #fff; color: #1e293b; white-space: nowrap; }",
    "button.btn:hover, button.btn:focus-visible { background: #f1f5f9; border-color: #94a3b8; }",
    "button.btn.primary { background: #1d4ed8; border-color: #1d4ed8; color: #fff; }",
    "button.btn.primary:hover, button.btn.primary:focus-visible { background: #1e40af; }",
    "button.btn.danger { color: #b91c1c; border-color: #fca5a5; }",
    "button.btn[disabled] { opacity: .6; cursor: default; }",
    ".actions { display: flex; gap: 8px; flex-wrap: wrap; }",
    ".form { display: flex; flex-direction: column; gap: 6px; padding: 8px; border: 1px solid #e2e8f0; border-radius: 6px; background: #f8fafc; }",
    ".form label { font-size: 12px; color: #334155; display: flex; align-items: center; gap: 6px; flex-wrap: wrap; }",
    ".form input { font: inherit; font-size: 12.5px; padding: 4px 6px; border: 1px solid #cbd5e1; border-radius: 4px; background: #fff; color: #0f172a; }",
    ".form input.wide { flex: 1; min-width: 0; }",
    ".form input.num { width: 64px; }",
    ".form-slot:empty, .status-slot:empty { display: none; }",
    ".status { font-size: 12px; padding: 6px 8px; border-radius: 5px; background: #f1f5f9; color: #334155; word-break: break-word; }",
    ".status.error { background: #fef2f2; color: #b91c1c; }",
    ".status.done { background: #f0fdf4; color: #166534; }",
    ".progress { height: 3px; background: #e2e8f0; border-radius: 2px; overflow: hidden; margin-top: 5px; }",
    ".progress span { display: block; height: 100%; width: 30%; background: #1d4ed8; animation: slide 1.1s ease-in-out infinite; }",
    "@keyframes slide { 0% { margin-left: -30%; } 100% { margin-left: 100%; } }",
    ".foot { display: flex; justify-content: space-between; align-items: center; font-size: 12px; color: #475569;",
    "  border-top: 1px solid #e2e8f0; padding: 8px 12px; background: #f8fafc; }",
    ".foot a { color: #1d4ed8; text-decoration: none; font-weight: 600; } .foot a:hover { text-decoration: underline; }",
    ".quota-bar { display: inline-block; width: 60px; height: 6px; background: #e2e8f0; border-radius: 3px; vertical-align: middle; margin: 0 6px; overflow: hidden; }",
    ".quota-bar span { display: block; height: 100%; background: #64748b; }",
    ".quota-bar.met span { background: #16a34a; }",
    /* badge on a product card */
    ".badge { position: absolute; top: 8px; left: 8px; display: inline-flex; align-items: center; gap: 5px;",
    "  padding: 2px 8px 2px 6px; border-radius: 999px; color: #fff; font-size: 12px; font-weight: 700;",
    "  line-height: 18px; box-shadow: 0 1px 3px rgba(0,0,0,.3); pointer-events: auto; cursor: help; white-space: nowrap; }",
    ".badge.critical { background: #c62828; } .badge.major { background: #b45309; } .badge.minor { background: #6b7280; }",
    ".badge .mark { display: inline-block; width: 14px; height: 14px; border-radius: 50%; background: rgba(255,255,255,.25);",
    "  text-align: center; line-height: 14px; font-size: 10px; }",
    ".badge .word { font-weight: 600; font-size: 11px; text-transform: uppercase; letter-spacing: .03em; opacity: .95; }",
    /* tooltip for badges, in the page-level layer so no card can clip it */
    ".tooltip { position: fixed; z-index: 2; max-width: 340px; background: #0f172a; color: #f1f5f9; border-radius: 6px;",
    "  padding: 8px 10px; font-size: 12px; box-shadow: 0 6px 20px rgba(0,0,0,.25); pointer-events: none; }",
    ".tooltip[hidden] { display: none; }",
    ".tooltip .tt-head { font-weight: 700; margin-bottom: 4px; color: #fff; }",
    ".tooltip ul { margin: 0; padding: 0; list-style: none; }",
    ".tooltip li { display: flex; align-items: baseline; margin: 3px 0; word-break: break-word; }",
    ".tooltip .dot { position: relative; top: -1px; }",
    /* the quiet notice when the API is away */
    ".notice { position: fixed; left: 12px; bottom: 12px; display: flex; align-items: center; gap: 8px; padding: 4px 6px 4px 10px;",
    "  background: rgba(30, 41, 59, .88); color: #e2e8f0; border-radius: 999px; font-size: 12px; pointer-events: auto; }",
    ".notice button { all: unset; cursor: pointer; color: #94a3b8; padding: 0 4px; font-size: 14px; line-height: 1; }",
    ".notice button:hover { color: #fff; }"
  ].join("\n");

  var sharedSheet = null;
  function adoptStyles(root) {
    try {
      if (!sharedSheet) { sharedSheet = new CSSStyleSheet(); sharedSheet.replaceSync(CSS); }
      root.adoptedStyleSheets = [sharedSheet];
    } catch (e) { // browsers without constructable sheets in content scripts
      root.appendChild(h("style", {text: CSS}));
    }
  }

  /** The page-level layer: one host element with a closed shadow root, covering nothing. */
  function layer() {
    if (ui.host && ui.host.isConnected) { return ui.root; }
    ui.host = document.createElement("storeaudit-overlay");
    var st = ui.host.style;
    ["all:initial", "position:fixed", "top:0", "left:0", "width:0", "height:0", "z-index:2147483647",
     "display:block", "overflow:visible"].forEach(function (rule) {
      var parts = rule.split(":");
      st.setProperty(parts[0], parts[1], "important");
    });
    ui.root = ui.host.attachShadow({mode: "closed"});
    adoptStyles(ui.root);
    ui.panel = ui.tooltip = ui.notice = null;
    document.documentElement.appendChild(ui.host);
    return ui.root;
  }

  function clearLayer() {
    if (ui.host) { ui.host.remove(); }
    ui.host = ui.root = ui.panel = ui.tooltip = ui.notice = null;
  }

  // ---------------------------------------------------------------- the quiet notice

  function showNotice(text) {
    var root = layer();
    if (ui.notice) { ui.notice.remove(); }
    ui.notice = h("div", {class: "sa notice", role: "status"}, [
      h("span", {text: "storeaudit: " + text}),
      h("button", {title: "Hide", "aria-label": "Hide", text: "×",
                   onclick: onTrustedClick(function () { ui.notice.remove(); ui.notice = null; })})
    ]);
    root.appendChild(ui.notice);
  }

  function hideNotice() {
    if (ui.notice) { ui.notice.remove(); ui.notice = null; }
  }

  // ---------------------------------------------------------------- badges on product cards

  function cardIndex(cards) {
    var byPath = new Map();
    var bySku = new Map();
    (cards || []).forEach(function (c) {
      if (c.path) { byPath.set(c.path, c); }
      if (c.sku) { bySku.set(c.sku, c); }
    });
    return {byPath: byPath, bySku: bySku};
  }

  function isOurs(node) {
    return node && node.nodeType === 1 && /^STOREAUDIT-/.test(node.tagName);
  }

  /** Product cards on the page with open findings: an element whose data-sku is one of the
      listings, or the card around a link to a listing's page. */
  function matchCards(index) {
    var found = new Map();
    document.querySelectorAll("[data-sku]").forEach(function (el) {
      var card = index.bySku.get(el.getAttribute("data-sku"));
      if (card && (el.tagName === "A" || el.querySelector("a[href]"))) { found.set(el, card); }
    });
    document.querySelectorAll("a[href]").forEach(function (a) {
      var url;
      try { url = new URL(a.href, location.href); } catch (e) { return; }
      if (url.origin !== location.origin) { return; }
      var card = index.byPath.get(url.pathname);
      if (!card) { return; }
      var el = a.closest("[data-sku]") || a.closest("article, li") || a;
      if (!found.has(el)) { found.set(el, card); }
    });
    return found;
  }

  function makeBadge(card) {
    var host = document.createElement("storeaudit-badge");
    var st = host.style;
    ["all:initial", "display:block", "position:relative", "width:100%", "height:0", "margin:0", "padding:0",
     "border:0", "z-index:2147483000", "pointer-events:none", "overflow:visible"].forEach(function (rule) {
      var parts = rule.split(":");
      st.setProperty(parts[0], parts[1], "important");
    });
    var root = host.attachShadow({mode: "closed"});
    adoptStyles(root);
    var label = card.count + " open finding" + (card.count === 1 ? "" : "s") + ", worst " + card.worst;
    var badge = h("span", {class: "sa badge " + card.worst, tabindex: "0", role: "img", "aria-label": "storeaudit: " + label}, [
      h("span", {class: "mark", text: "!"}),
      h("span", {class: "count", text: String(card.count)}),
      // "2 CRITICAL" would read as two critical findings: say which severity is the worst.
      h("span", {class: "word", text: card.count === 1 ? card.worst : "worst " + card.worst})
    ]);
    var show = function () { showTooltip(badge, card); };
    badge.addEventListener("mouseenter", show);
    badge.addEventListener("focus", show);
    badge.addEventListener("mouseleave", hideTooltip);
    badge.addEventListener("blur", hideTooltip);
    root.appendChild(badge);
    return host;
  }

  function showTooltip(anchor, card) {
    var root = layer();
    if (!ui.tooltip) {
      ui.tooltip = h("div", {class: "sa tooltip", role: "tooltip", hidden: "hidden"});
      root.appendChild(ui.tooltip);
    }
    var tip = ui.tooltip;
    while (tip.firstChild) { tip.removeChild(tip.firstChild); }
    tip.appendChild(h("div", {class: "tt-head"}, [
      "storeaudit · " + card.count + " open finding" + (card.count === 1 ? "" : "s") + " · worst ",
      h("span", {class: "sev sev-" + card.worst, text: card.worst})]));
    var list = h("ul");
    // Each finding with its own severity, worst first (older APIs send only the messages).
    var items = card.findings || card.messages.map(function (m) { return {message: m}; });
    items.forEach(function (f) {
      var dot = f.severity ? "dot dot-" + f.severity : "dot dot-plain";
      list.appendChild(h("li", {}, [h("span", {class: dot}), f.message]));
    });
    tip.appendChild(list);
    tip.removeAttribute("hidden");
    var rect = anchor.getBoundingClientRect();
    var width = Math.min(340, window.innerWidth - 16);
    tip.style.left = Math.max(8, Math.min(rect.left, window.innerWidth - width - 8)) + "px";
    tip.style.top = (rect.bottom + 6) + "px";
    var tipRect = tip.getBoundingClientRect();
    if (tipRect.bottom > window.innerHeight - 8) {
      tip.style.top = Math.max(8, rect.top - tipRect.height - 6) + "px";
    }
  }

  function hideTooltip() {
    if (ui.tooltip) { ui.tooltip.setAttribute("hidden", "hidden"); }
  }

  function renderBadges() {
    if (!state.overlay || state.overlay.page !== "other") { return; }
    var matched = matchCards(cardIndex(state.overlay.cards));
    badges.forEach(function (host, el) {
      if (!matched.has(el) || !el.isConnected) { host.remove(); badges.delete(el); }
    });
    matched.forEach(function (card, el) {
      var host = badges.get(el);
      if (host && host.isConnected && host.parentNode === el) { return; }
      host = makeBadge(card);
      el.insertBefore(host, el.firstChild);
      badges.set(el, host);
    });
  }

  function clearBadges() {
    badges.forEach(function (host) { host.remove(); });
    badges.clear();
  }

  function watchForCards() {
    if (observer) { return; }
    observer = new MutationObserver(function (records) {
      var relevant = records.some(function (r) {
        return Array.prototype.some.call(r.addedNodes, function (n) { return n.nodeType === 1 && !isOurs(n); }) ||
               Array.prototype.some.call(r.removedNodes, function (n) { return n.nodeType === 1 && !isOurs(n); });
      });
      if (!relevant) { return; }
      clearTimeout(rescanTimer);
      rescanTimer = setTimeout(function () {
        if (location.href.split("#")[0] !== state.url) { refresh(); } // a single-page store moved on
        else { renderBadges(); }
      }, RESCAN_DELAY_MS);
    });
    observer.observe(document.body || document.documentElement, {childList: true, subtree: true});
  }

  // ---------------------------------------------------------------- the listing panel

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
        text: "Acknowledge", onclick: onTrustedClick(function (e) { acknowledge(f, e.currentTarget); })}));
    }
    if (isMerchant()) {
      actions.appendChild(h("button", {class: "btn danger", type: "button", "data-action": "waive",
        text: "Waive…", onclick: onTrustedClick(function () { openWaive(f, item); })}));
    }
    var item = h("div", {class: "finding " + f.severity, "data-finding": String(f.id)}, [
      h("div", {}, [h("span", {class: "sev sev-" + f.severity, text: f.severity}), " ",
                    h("span", {class: "meta", text: f.response})]),
      h("div", {class: "msg", text: f.message}),
      meta,
      actions
    ]);
    return item;
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

  function sparkline(history, floor) {
    var points = history.filter(function (s) { return s.price !== null && s.price !== undefined; })
      .map(function (s) { return {t: s.fetched_at, v: Number(s.price)}; });
    if (points.length < 1) { return null; }
    var W = 340, H = 64, PAD = 6;
    var values = points.map(function (p) { return p.v; });
    var floorValue = floor !== null && floor !== undefined ? Number(floor) : null;
    var lo = Math.min.apply(null, floorValue !== null ? values.concat([floorValue]) : values);
    var hi = Math.max.apply(null, floorValue !== null ? values.concat([floorValue]) : values);
    if (hi === lo) { hi = lo + 1; lo = lo - 1; }
    var x = function (i) { return points.length === 1 ? W / 2 : PAD + i * (W - 2 * PAD) / (points.length - 1); };
    var y = function (v) { return PAD + (hi - v) * (H - 2 * PAD) / (hi - lo); };
    var chart = svg("svg", {class: "spark", viewBox: "0 0 " + W + " " + H, preserveAspectRatio: "none", role: "img"});
    var title = svg("title");
    title.textContent = "Price history: " + values.map(function (v) { return SA.money(v); }).join(" → ");
    chart.appendChild(title);
    if (floorValue !== null) {
      chart.appendChild(svg("rect", {x: 0, y: y(floorValue), width: W, height: Math.max(0, H - y(floorValue)), fill: "#fee2e2", opacity: 0.6}));
      chart.appendChild(svg("line", {x1: 0, x2: W, y1: y(floorValue), y2: y(floorValue), stroke: "#dc2626",
                                     "stroke-width": 1, "stroke-dasharray": "4 3", "vector-effect": "non-scaling-stroke"}));
    }
    var line = svg("polyline", {fill: "none", stroke: "#1d4ed8", "stroke-width": 2, "stroke-linejoin": "round",
      "vector-effect": "non-scaling-stroke",
      points: points.map(function (p, i) { return x(i).toFixed(1) + "," + y(p.v).toFixed(1); }).join(" ")});
    chart.appendChild(line);
    points.forEach(function (p, i) {
      var below = floorValue !== null && p.v < floorValue;
      if (below || i === points.length - 1) {
        chart.appendChild(svg("circle", {cx: x(i), cy: y(p.v), r: 3, fill: below ? "#dc2626" : "#1d4ed8"}));
      }
    });
    var legend = h("div", {class: "spark-legend"}, [
      h("span", {text: SA.shortDate(points[0].t)}),
      h("span", {class: "spark-range", text: points.length + " crawls · low " + SA.money(Math.min.apply(null, values)) +
                 " · high " + SA.money(Math.max.apply(null, values))}),
      h("span", {text: SA.shortDate(points[points.length - 1].t)})
    ]);
    var key = floorValue !== null ? h("div", {class: "spark-key"}, [h("i"), "contract floor " + SA.money(floorValue)]) : null;
    return h("div", {}, [chart, legend, key]);
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
                   onclick: onTrustedClick(function (e) { spotCheck(e.currentTarget); })}),
      isMerchant() && (view.listing.sku || current.sku) ? h("button", {class: "btn", type: "button", "data-action": "approve",
        text: "Approve discount…", onclick: onTrustedClick(function () { openApprove(view); })}) : null
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
    await refresh();
  }

  async function acknowledge(f, button) {
    button.disabled = true;
    var answer = await send({type: "acknowledge", id: f.id});
    if (!answer.ok) { button.disabled = false; setStatus("error", actionError(answer)); return; }
    state.status = {kind: "done", text: "Acknowledged #" + f.id + " (" + f.rule_id + ").", progress: false};
    await refresh();
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
    await refresh();
  }

  // ---------------------------------------------------------------- start

  async function refresh() {
    state.url = location.href.split("#")[0];
    var answer = await send({type: "overlay", url: state.url});
    if (!answer.ok) {
      var kind = answer.error && answer.error.kind;
      if (kind === "not-store") { teardown(); return; } // not ours: leave no trace
      clearBadges();
      if (ui.panel) { ui.panel.remove(); ui.panel = null; }
      showNotice(SA.describeError(answer.error));
      return;
    }
    state.overlay = answer.data;
    hideNotice();
    if (state.overlay.page === "listing" && state.overlay.listing) {
      clearBadges();
      if (!state.identity) {
        var who = await send({type: "identity"});
        state.identity = who.ok ? who.data : null;
      }
      renderPanel();
    } else {
      if (ui.panel) { ui.panel.remove(); ui.panel = null; }
      renderBadges();
    }
    watchForCards();
  }

  function teardown() {
    if (observer) { observer.disconnect(); observer = null; }
    clearBadges();
    clearLayer();
  }

  chrome.runtime.onMessage.addListener(function (message, sender) {
    if (sender.id !== chrome.runtime.id || !message) { return; }
    if (message.type === "refresh") { refresh(); }
  });

  chrome.storage.local.get(["panelCollapsed"], function (stored) {
    state.collapsed = !!(stored && stored.panelCollapsed);
    refresh();
  });
})();
