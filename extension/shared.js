/* storeaudit: small helpers shared by the service worker, the content script, the popup and
   the options page. Plain script (no modules): it defines one global, StoreAudit. */
(function (root) {
  "use strict";

  var SEVERITIES = ["critical", "major", "minor"];
  var SEVERITY_LABEL = {critical: "Critical", major: "Major", minor: "Minor"};
  var DEFAULTS = {apiBase: "http://127.0.0.1:8600", token: "", storeOrigins: []};

  /** "http://127.0.0.1:8765/some/page" -> "http://127.0.0.1:8765"; null if not http(s). */
  function originOf(text) {
    try {
      var url = new URL(String(text).trim());
      if (url.protocol !== "http:" && url.protocol !== "https:") { return null; }
      if (url.username || url.password) { return null; }
      return url.origin;
    } catch (e) {
      return null;
    }
  }

  /** The host-permission / content-script match pattern for one origin ("https://shop.example/*"). */
  function patternFor(origin) {
    return origin + "/*";
  }

  /** The same pattern without the port, for browsers whose match patterns take no port. */
  function portlessPatternFor(origin) {
    var url = new URL(origin);
    return url.protocol + "//" + url.hostname + "/*";
  }

  // Direction overrides, embeddings and isolates (U+202A-U+202E, U+2066-U+2069). In a store's
  // title one can reverse how the rest of a line reads ("¥199" shown as "991¥"), so they are
  // shown as what they are. Marks (U+200E/U+200F) and zero-width characters stay: they reorder
  // nothing beyond themselves.
  var BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;

  /** Text from the store (or quoting it) as it is to be shown: as text, controls made visible. */
  function plain(text) {
    return String(text).replace(BIDI_CONTROLS, function (c) {
      return "[U+" + c.charCodeAt(0).toString(16).toUpperCase() + "]";
    });
  }

  function severityRank(severity) {
    var i = SEVERITIES.indexOf(severity);
    return i < 0 ? SEVERITIES.length : i;
  }

  function worst(severities) {
    var best = null;
    severities.forEach(function (s) {
      if (best === null || severityRank(s) < severityRank(best)) { best = s; }
    });
    return best;
  }

  /** "¥1,299.00" for a decimal string or number (the API sends decimals as strings). */
  function money(value, currency) {
    if (value === null || value === undefined || value === "") { return "—"; }
    var n = Number(value);
    if (!isFinite(n)) { return String(value); }
    var symbol = (!currency || currency === "CNY") ? "¥" : currency + " ";
    return symbol + n.toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});
  }

  /** How long until (or since) an ISO time, in words: "in 3 h", "overdue by 2 d". */
  function relativeDeadline(iso, now) {
    if (!iso) { return null; }
    var when = new Date(iso);
    if (isNaN(when.getTime())) { return null; }
    var ms = when.getTime() - (now || Date.now());
    var overdue = ms < 0;
    var abs = Math.abs(ms);
    var text;
    if (abs < 3600e3) { text = Math.max(1, Math.round(abs / 60e3)) + " min"; }
    else if (abs < 48 * 3600e3) { text = Math.round(abs / 3600e3) + " h"; }
    else { text = Math.round(abs / 86400e3) + " d"; }
    return {overdue: overdue, text: overdue ? "overdue by " + text : "in " + text};
  }

  /** "25 Nov 14:05" in the browser's time zone. */
  function shortTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return String(iso); }
    return d.toLocaleString("en-GB", {day: "numeric", month: "short", hour: "2-digit", minute: "2-digit"});
  }

  /** "25 Nov" in the browser's time zone. */
  function shortDate(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return String(iso); }
    return d.toLocaleDateString("en-GB", {day: "numeric", month: "short"});
  }

  /** What an API failure means for a person (kind is set by the service worker). */
  function describeError(error) {
    if (!error) { return "unknown error"; }
    switch (error.kind) {
      case "unreachable": return "API unreachable";
      case "cors": return "the API refuses this extension (CORS)";
      case "unauthorized": return "the token was refused (401)";
      case "forbidden": return "this token's role may not do that (403)";
      case "not-configured": return "not set up yet: open the extension's options";
      case "not-store": return "this page is not on the configured store";
      case "busy": return "the storeaudit server is busy: asking again in a moment";
      default: return error.message || ("HTTP " + error.status);
    }
  }

  root.StoreAudit = {
    SEVERITIES: SEVERITIES,
    SEVERITY_LABEL: SEVERITY_LABEL,
    DEFAULTS: DEFAULTS,
    CONTENT_SCRIPT_ID: "storeaudit-overlay",
    originOf: originOf,
    plain: plain,
    patternFor: patternFor,
    portlessPatternFor: portlessPatternFor,
    severityRank: severityRank,
    worst: worst,
    money: money,
    relativeDeadline: relativeDeadline,
    shortTime: shortTime,
    shortDate: shortDate,
    describeError: describeError
  };
})(typeof self !== "undefined" ? self : this);
