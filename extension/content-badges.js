/* storeaudit overlay: on the store's other pages (home, categories, search), a badge on each
   product card with open findings, and the tooltip listing them. Each badge has its own
   <storeaudit-badge> host with a closed shadow root; the tooltip lives in the page-level layer
   so no card can clip it. Cards that arrive late get theirs as they appear. */
(function () {
  "use strict";
  var O = window.__storeauditOverlay;
  if (!O || O.started) { return; } // already running in this page: the first copy stays in charge
  var h = O.h;
  var adoptStyles = O.adoptStyles;
  var layer = O.layer;
  var state = O.state;
  var ui = O.ui;
  var RESCAN_DELAY_MS = 300;

  var badges = new Map(); // card element -> badge host
  var observer = null;
  var rescanTimer = null;

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
        if (location.href.split("#")[0] !== state.url) { O.refresh(); } // a single-page store moved on
        else { renderBadges(); }
      }, RESCAN_DELAY_MS);
    });
    observer.observe(document.body || document.documentElement, {childList: true, subtree: true});
  }

  function unwatchCards() {
    if (observer) { observer.disconnect(); observer = null; }
  }

  O.renderBadges = renderBadges;
  O.clearBadges = clearBadges;
  O.watchForCards = watchForCards;
  O.unwatchCards = unwatchCards;
})();
