/* storeaudit overlay: the second witness. On a listing's page, read what this browser shows
   (the title, the price, the stock, the promoted badge) the way the crawler reads a page
   (crawler/extract: JSON-LD first, then microdata, then the contract's CSS selectors, which
   the API hands over as `read_with`) and report the plain strings to the API, which reads them
   with the crawler's own price and stock readers. When the crawler saw something else, it
   looks again at once and `crawl.view_mismatch` says so; the panel then shows the finding.

   Only the merchant's browser reports (the API refuses the agency's), once per page per
   REPORT_EVERY_MS (the service worker keeps count), and only text and a yes/no leave the
   page: never its HTML. */
(function () {
  "use strict";
  var O = window.__storeauditOverlay;
  if (!O || O.started) { return; }
  var MAX_TEXT = 500;
  var POLL_MS = 1000;
  var LOOK_LIMIT_MS = 90000;
  var SETTLE_MS = 5000; // a price the page's script fills in after load is waited for this long

  function clip(text, limit) {
    if (text === null || text === undefined) { return null; }
    var s = String(text).replace(/\s+/g, " ").trim();
    return s ? s.slice(0, limit || MAX_TEXT) : null;
  }

  function asList(value) { return Array.isArray(value) ? value : (value === undefined || value === null ? [] : [value]); }

  function isType(item, name) {
    return asList(item && item["@type"]).some(function (t) { return String(t).replace(/^.*[/#:]/, "") === name; });
  }

  /** Every JSON-LD item on the page, @graph included (broken blocks are skipped). */
  function jsonldItems() {
    var out = [];
    document.querySelectorAll('script[type="application/ld+json"]').forEach(function (script) {
      var data;
      try { data = JSON.parse(script.textContent); } catch (e) { return; }
      (function walk(node, depth) {
        if (!node || typeof node !== "object" || depth > 5) { return; }
        if (Array.isArray(node)) { node.forEach(function (n) { walk(n, depth + 1); }); return; }
        out.push(node);
        if (node["@graph"]) { walk(node["@graph"], depth + 1); }
      })(data, 0);
    });
    return out;
  }

  function fromJsonld() {
    var product = jsonldItems().filter(function (i) { return isType(i, "Product"); })[0];
    if (!product) { return {}; }
    var offer = asList(product.offers).map(function (o) {
      return isType(o, "AggregateOffer") ? Object.assign({price: o.lowPrice}, o) : o;
    })[0] || {};
    var price = offer.price !== undefined ? offer.price
      : (offer.priceSpecification && asList(offer.priceSpecification)[0] || {}).price;
    return {title: clip(product.name), price: price === undefined ? null : clip(price, 100),
            currency: clip(offer.priceCurrency, 10), availability: clip(asList(offer.availability)[0], 200)};
  }

  function fromMicrodata() {
    var scope = document.querySelector('[itemscope][itemtype$="schema.org/Product"]');
    if (!scope) { return {}; }
    function prop(name) {
      var el = scope.querySelector('[itemprop="' + name + '"]');
      if (!el) { return null; }
      return clip(el.getAttribute("content") || el.getAttribute("href") || el.textContent, 200);
    }
    return {title: prop("name"), price: prop("price"), currency: prop("priceCurrency"),
            availability: prop("availability")};
  }

  /** The first element a selector group matches, alternatives tried in the order written
      (as crawler/extract/selectors.py does). */
  function selectFirst(group) {
    if (!group) { return null; }
    var alternatives = String(group).split(",");
    for (var i = 0; i < alternatives.length; i++) {
      try {
        var el = document.querySelector(alternatives[i]);
        if (el) { return el; }
      } catch (e) { /* a selector this browser cannot read: the next */ }
    }
    return null;
  }

  function fromSelectors(rules) {
    function text(group) { var el = selectFirst(group); return el ? clip(el.textContent) : null; }
    var promoted = rules.promoted ? selectFirst(rules.promoted) !== null : null;
    return {title: text(rules.title), price: text(rules.price), stock: text(rules.stock), promoted: promoted};
  }

  /** What this page shows, field by field from the first source that has it. */
  function readListing(rules) {
    var sources = [fromJsonld(), fromMicrodata(), fromSelectors(rules || {})];
    var read = {title: null, price: null, currency: null, availability: null, stock: null, promoted: null};
    Object.keys(read).forEach(function (field) {
      for (var i = 0; i < sources.length; i++) {
        var v = sources[i][field];
        if (v !== null && v !== undefined && v !== "") { read[field] = v; break; }
      }
    });
    return read;
  }

  /** Read once the page has what it shows: a script-filled price or title may come late. */
  async function settledRead(rules) {
    var started = Date.now();
    var read = readListing(rules);
    while ((read.price === null || read.title === null) && Date.now() - started < SETTLE_MS) {
      await new Promise(function (r) { setTimeout(r, 250); });
      read = readListing(rules);
    }
    return read;
  }

  async function waitForLook(runId) {
    var started = Date.now();
    while (Date.now() - started < LOOK_LIMIT_MS) {
      await new Promise(function (r) { setTimeout(r, POLL_MS); });
      var poll = await O.send({type: "spotCheckStatus", id: runId});
      if (!poll.ok || poll.data.run.status !== "running") { return; }
    }
  }

  /** Report this page once the panel is up; when the crawler looks again because of it,
      show the panel again after its look (with whatever it found). */
  async function reportView() {
    var overlay = O.state.overlay;
    if (!overlay || overlay.page !== "listing" || !overlay.read_with) { return; }
    if (!O.state.identity || O.state.identity.role !== "merchant") { return; }
    var values = await settledRead(overlay.read_with);
    var answer = await O.send(Object.assign({type: "observe", url: O.state.url}, values));
    if (answer.ok && answer.data && answer.data.crawler === "started" && answer.data.run_id) {
      await waitForLook(answer.data.run_id);
      await O.refresh();
    }
  }

  O.readListing = readListing;
  O.reportView = reportView;
})();
