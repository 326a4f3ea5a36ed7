/* storeaudit service worker (Firefox: background script).

   Every call to the storeaudit API goes through here: the content script on the store's page
   asks by message, this worker adds the token and fetches. The token therefore never enters
   the store's page, and the API answers only this extension's origin.

   It also keeps the content script registered for exactly the store origins the user
   configured and granted (chrome.scripting.registerContentScripts), so nothing runs on any
   other site. */
"use strict";

if (typeof importScripts === "function" && typeof StoreAudit === "undefined") {
  importScripts("shared.js"); // Chrome's service worker; Firefox lists shared.js in background.scripts
}

var SA = self.StoreAudit;
var REQUEST_TIMEOUT_MS = 15000;

// ------------------------------------------------------------------ settings

async function getSettings() {
  var stored = await chrome.storage.local.get(["settings"]);
  var s = Object.assign({}, SA.DEFAULTS, stored.settings || {});
  s.apiBase = String(s.apiBase || SA.DEFAULTS.apiBase).replace(/\/+$/, "");
  s.storeOrigins = (s.storeOrigins || []).map(SA.originOf).filter(Boolean);
  return s;
}

function isStoreUrl(settings, url) {
  var origin = SA.originOf(url || "");
  return origin !== null && settings.storeOrigins.indexOf(origin) >= 0;
}

// ------------------------------------------------------------------ the API

function ApiError(kind, status, message, retryAfter) {
  this.kind = kind;
  this.status = status || 0;
  this.message = message || "";
  this.retryAfter = retryAfter || 0; // seconds, when the server said (503)
}

/** Was a failed fetch a dead server, or a live one that CORS kept us from reading? */
async function networkFailureKind(apiBase) {
  try {
    await fetch(apiBase + "/healthz", {mode: "no-cors", cache: "no-store"});
    return "cors"; // it answered, but the answer was not ours to read
  } catch (e) {
    return "unreachable";
  }
}

async function apiCall(settings, method, path, body) {
  if (!settings.token) { throw new ApiError("not-configured", 0, "no token set"); }
  var controller = new AbortController();
  var timer = setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS);
  var init = {
    method: method,
    headers: {"Authorization": "Bearer " + settings.token, "Accept": "application/json"},
    cache: "no-store",
    credentials: "omit",
    signal: controller.signal
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  var response;
  try {
    response = await fetch(settings.apiBase + path, init);
  } catch (e) {
    var kind = controller.signal.aborted ? "unreachable" : await networkFailureKind(settings.apiBase);
    throw new ApiError(kind, 0, kind === "cors"
      ? "the API at " + settings.apiBase + " does not allow this extension's origin"
      : "no answer from " + settings.apiBase);
  } finally {
    clearTimeout(timer);
  }
  var data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  if (response.ok) { return data; }
  var detail = data && data.detail;
  if (Array.isArray(detail)) { // FastAPI's validation errors
    detail = detail.map(function (d) { return d.msg; }).join("; ");
  }
  var kinds = {401: "unauthorized", 403: "forbidden", 404: "not-found", 409: "conflict",
               422: "invalid", 429: "rate-limited", 503: "busy"};
  throw new ApiError(kinds[response.status] || "http", response.status,
                     typeof detail === "string" ? detail : "HTTP " + response.status,
                     parseInt(response.headers.get("Retry-After") || "0", 10) || 0);
}

// ------------------------------------------------------------------ the overlay, kept
// The last answer for each page (a few dozen), and a pause after the server said it is busy
// (503): while it lasts the overlay is not asked for, and a page's last answer is shown, said
// to be the last one. Each busy answer in a row doubles the pause, up to a minute.
var KEPT_OVERLAYS = 50;
var keptOverlays = new Map();
var busy = {until: 0, pause: 0};

function keptOverlay(url, error) {
  var kept = keptOverlays.get(url);
  if (!kept) { throw error; }
  return Object.assign({}, kept.data, {stale: {at: kept.at, reason: error.message}});
}

async function overlayFor(settings, url) {
  var busyError = new ApiError("busy", 503, "the storeaudit server is busy");
  if (Date.now() < busy.until) { return keptOverlay(url, busyError); }
  var data;
  try {
    data = await apiCall(settings, "GET", "/api/overlay?url=" + encodeURIComponent(url));
  } catch (e) {
    if (e.kind !== "busy") { throw e; }
    busy.pause = Math.min(60, Math.max(e.retryAfter || 1, busy.pause * 2 || 1));
    busy.until = Date.now() + 1000 * busy.pause;
    return keptOverlay(url, e);
  }
  busy.pause = 0;
  keptOverlays.delete(url);
  keptOverlays.set(url, {data: data, at: new Date().toISOString()});
  if (keptOverlays.size > KEPT_OVERLAYS) { keptOverlays.delete(keptOverlays.keys().next().value); }
  return data;
}

/** Who the token belongs to. There is no whoami endpoint yet: try GET /api/me, else tell the
    merchant from the agency by an empty approval (refused by role with 403 before the body is
    looked at, or by validation with 422: nothing is written either way). */
async function identify(settings) {
  try {
    var me = await apiCall(settings, "GET", "/api/me");
    if (me && me.role) { return {role: me.role, name: me.name || null, store: me.store || null}; }
  } catch (e) {
    if (e.kind !== "not-found") { throw e; }
  }
  try {
    await apiCall(settings, "POST", "/api/approvals", {});
    return {role: "merchant", name: null, store: null};
  } catch (e) {
    if (e.kind === "invalid") { return {role: "merchant", name: null, store: null}; }
    if (e.kind === "forbidden") { return {role: "agency", name: null, store: null}; }
    throw e;
  }
}

async function cachedIdentity(settings) {
  var key = settings.apiBase + " " + await fingerprint(settings.token);
  var stored = await chrome.storage.local.get(["identity"]);
  if (stored.identity && stored.identity.key === key) { return stored.identity.value; }
  var value = await identify(settings);
  await chrome.storage.local.set({identity: {key: key, value: value}});
  return value;
}

async function fingerprint(text) {
  var digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text || ""));
  return Array.from(new Uint8Array(digest).slice(0, 8))
    .map(function (b) { return b.toString(16).padStart(2, "0"); }).join("");
}

// ------------------------------------------------------------------ content script registration

async function hasOrigin(origin) {
  try {
    return await chrome.permissions.contains({origins: [SA.patternFor(origin)]});
  } catch (e) { // match patterns without ports (Firefox)
    return chrome.permissions.contains({origins: [SA.portlessPatternFor(origin)]});
  }
}

/** Give back host access the user granted earlier for addresses no longer configured (a store
    or API address changed). Access the manifest itself grants cannot be given back. */
async function dropStaleHostAccess(settings) {
  var wanted = {};
  settings.storeOrigins.concat([SA.originOf(settings.apiBase)]).filter(Boolean).forEach(function (origin) {
    wanted[SA.patternFor(origin)] = true;
    wanted[SA.portlessPatternFor(origin)] = true;
  });
  var required = chrome.runtime.getManifest().host_permissions || [];
  var granted = (await chrome.permissions.getAll()).origins || [];
  var stale = granted.filter(function (p) { return !wanted[p] && required.indexOf(p) < 0; });
  if (stale.length) {
    try { await chrome.permissions.remove({origins: stale}); } catch (e) { /* keep going: nothing worse than before */ }
  }
}

var syncing = Promise.resolve();

/** Register the overlay for the configured store origins this extension may access, and for
    nothing else. Returns which origins are active and which still lack permission. */
function syncContentScripts() {
  syncing = syncing.catch(function () {}).then(async function () {
    var settings = await getSettings();
    var active = [];
    var missing = [];
    for (var origin of settings.storeOrigins) {
      (await hasOrigin(origin) ? active : missing).push(origin);
    }
    var existing = await chrome.scripting.getRegisteredContentScripts({ids: [SA.CONTENT_SCRIPT_ID]});
    if (existing.length) {
      await chrome.scripting.unregisterContentScripts({ids: [SA.CONTENT_SCRIPT_ID]});
    }
    if (active.length) {
      // The overlay's parts, in load order: each uses the ones before it (content-core.js says
      // what each holds); content.js, the entry, goes last.
      var script = {id: SA.CONTENT_SCRIPT_ID,
                    js: ["shared.js", "content-core.js", "content-dom.js", "content-styles.js", "content-layer.js",
                         "content-badges.js", "content-sparkline.js", "content-panel.js", "content-actions.js",
                         "content-witness.js", "content.js"],
                    runAt: "document_idle", allFrames: false, persistAcrossSessions: true};
      try {
        await chrome.scripting.registerContentScripts([Object.assign({}, script, {
          matches: active.map(SA.patternFor)})]);
      } catch (e) { // no ports in match patterns (Firefox): the overlay still checks the origin
        await chrome.scripting.registerContentScripts([Object.assign({}, script, {
          matches: active.map(SA.portlessPatternFor), persistAcrossSessions: false})]);
      }
    }
    return {active: active, missing: missing};
  });
  return syncing;
}

chrome.runtime.onInstalled.addListener(function () { syncContentScripts(); });
chrome.runtime.onStartup.addListener(function () { syncContentScripts(); });
if (chrome.permissions.onAdded) { chrome.permissions.onAdded.addListener(function () { syncContentScripts(); }); }
if (chrome.permissions.onRemoved) { chrome.permissions.onRemoved.addListener(function () { syncContentScripts(); }); }

// ------------------------------------------------------------------ messages

async function testConnection(candidate) {
  var settings = Object.assign({}, await getSettings(), candidate || {});
  settings.apiBase = String(settings.apiBase || "").replace(/\/+$/, "");
  settings.storeOrigins = (settings.storeOrigins || []).map(SA.originOf).filter(Boolean);
  if (!SA.originOf(settings.apiBase)) {
    return {ok: false, kind: "invalid", message: "The API address is not an http(s) URL."};
  }
  // 1. Is anything there? (no token needed)
  try {
    var health = await fetch(settings.apiBase + "/healthz", {cache: "no-store", credentials: "omit"});
    var body = await health.json().catch(function () { return null; });
    if (!health.ok || !body || body.status !== "ok") {
      return {ok: false, kind: "not-storeaudit",
              message: settings.apiBase + " answers, but it is not a storeaudit API (no /healthz)."};
    }
  } catch (e) {
    var kind = await networkFailureKind(settings.apiBase);
    return {ok: false, kind: kind, message: kind === "cors"
      ? "The API at " + settings.apiBase + " answers but does not allow this extension. Save to grant " +
        "the extension access to it, or start it with --extension-origin " + location.origin + "."
      : "Unreachable: nothing answers at " + settings.apiBase + ". Is `storeaudit serve` running?"};
  }
  if (!settings.token) { return {ok: false, kind: "not-configured", message: "Enter a token."}; }
  // 2. Does the token work? Ask what the overlay would show for the store's home page.
  var store = settings.storeOrigins[0];
  var overlay;
  try {
    overlay = await apiCall(settings, "GET", "/api/overlay?url=" + encodeURIComponent((store || settings.apiBase) + "/"));
  } catch (e) {
    var messages = {
      unauthorized: "Bad token: the API refused it (401). Create one with `storeaudit token create`.",
      forbidden: "Wrong role: this token may not read findings (403).",
      unreachable: "Unreachable: the API stopped answering.",
      cors: "The API does not allow this extension's origin (CORS)."
    };
    return {ok: false, kind: e.kind, message: messages[e.kind] || ("The API answered: " + e.message)};
  }
  var identity = null;
  try { identity = await identify(settings); } catch (e) { identity = null; }
  return {ok: true, identity: identity, openCounts: overlay.open_counts, quota: overlay.quota,
          dashboardUrl: overlay.dashboard_url, store: store || null};
}

/** The options page or the popup (an options page opened in a tab has sender.tab too): the
    sender's URL is one of this extension's own pages, which no content script can claim. */
function fromExtensionPage(sender) {
  return sender.id === chrome.runtime.id &&
    typeof sender.url === "string" && sender.url.indexOf(chrome.runtime.getURL("")) === 0;
}

function senderOrigin(sender) {
  return sender.origin || SA.originOf(sender.url || "");
}

var PAGE_MESSAGES = ["overlay", "identity", "spotCheck", "spotCheckStatus", "acknowledge", "waive", "approve",
                     "observe"];

// The second witness (content-witness.js): one report per page per REPORT_EVERY_MS, however
// often the page is opened; the API limits each token too.
var REPORT_EVERY_MS = 5 * 60 * 1000;
var lastReported = new Map();

function plainText(value, limit) {
  return value === null || value === undefined ? null : String(value).slice(0, limit);
}

async function observe(settings, message) {
  if (!isStoreUrl(settings, message.url)) { throw new ApiError("not-store"); }
  var identity = await cachedIdentity(settings);
  if (!identity || identity.role !== "merchant") { return {skipped: "only the merchant's browser reports"}; }
  var url = String(message.url).split("#")[0];
  var last = lastReported.get(url);
  if (last !== undefined && Date.now() - last < REPORT_EVERY_MS) { return {skipped: "reported lately"}; }
  lastReported.set(url, Date.now());
  return apiCall(settings, "POST", "/api/observations", {
    url: url, title: plainText(message.title, 2000), price: plainText(message.price, 100),
    currency: plainText(message.currency, 10), availability: plainText(message.availability, 200),
    stock: plainText(message.stock, 500),
    promoted: typeof message.promoted === "boolean" ? message.promoted : null});
}

async function handle(message, sender) {
  var settings = await getSettings();
  var trusted = fromExtensionPage(sender);
  if (!trusted) {
    // A content script: only on the configured store, only about its own page.
    if (sender.id !== chrome.runtime.id || !sender.tab) { throw new ApiError("not-store"); }
    if (!isStoreUrl(settings, senderOrigin(sender))) { throw new ApiError("not-store"); }
    if (PAGE_MESSAGES.indexOf(message.type) < 0) { throw new ApiError("invalid", 0, "not allowed from a page"); }
    if (message.url !== undefined && SA.originOf(message.url) !== senderOrigin(sender)) {
      throw new ApiError("not-store");
    }
  }
  switch (message.type) {
    case "overlay":
      if (!isStoreUrl(settings, message.url)) { throw new ApiError("not-store"); }
      return overlayFor(settings, String(message.url).split("#")[0]);
    case "identity":
      return cachedIdentity(settings);
    case "observe":
      return observe(settings, message);
    case "spotCheck":
      // Starts the audit; the caller polls with spotCheckStatus (one short message each time
      // keeps this worker alive, where one long wait here might outlive its idle limit).
      if (!isStoreUrl(settings, message.url)) { throw new ApiError("not-store"); }
      return apiCall(settings, "POST", "/api/spot-checks", {url: String(message.url).split("#")[0]});
    case "spotCheckStatus":
      return apiCall(settings, "GET", "/api/spot-checks/" + encodeURIComponent(Number(message.id)));
    case "acknowledge":
      return apiCall(settings, "POST", "/api/findings/" + encodeURIComponent(Number(message.id)) + "/acknowledge",
                     {note: message.note || null});
    case "waive":
      return apiCall(settings, "POST", "/api/findings/" + encodeURIComponent(Number(message.id)) + "/waive",
                     {reason: String(message.reason || "")});
    case "approve":
      return apiCall(settings, "POST", "/api/approvals", {
        sku: String(message.sku), max_discount: message.max_discount,
        valid_until: message.until, note: message.note || "approved in the storeaudit overlay"});
    case "summary": // the popup: the active tab if it is the store, else the store's home page
      var url = isStoreUrl(settings, message.url) ? message.url
        : (settings.storeOrigins[0] ? settings.storeOrigins[0] + "/" : null);
      if (!url) { throw new ApiError("not-configured"); }
      var overlay = await apiCall(settings, "GET", "/api/overlay?url=" + encodeURIComponent(url.split("#")[0]));
      return {overlay: overlay, isStore: isStoreUrl(settings, message.url), settings: {
        apiBase: settings.apiBase, storeOrigins: settings.storeOrigins}};
    case "testConnection":
      return testConnection(message.settings);
    case "applySettings":
      await chrome.storage.local.remove(["identity"]);
      await dropStaleHostAccess(settings);
      return syncContentScripts();
    default:
      throw new ApiError("invalid", 0, "unknown message " + message.type);
  }
}

chrome.runtime.onMessage.addListener(function (message, sender, sendResponse) {
  if (!message || typeof message.type !== "string") { return false; }
  handle(message, sender).then(
    function (data) { sendResponse({ok: true, data: data}); },
    function (error) {
      var e = error instanceof ApiError ? error : new ApiError("error", 0, String(error && error.message || error));
      sendResponse({ok: false, error: {kind: e.kind, status: e.status, message: e.message}});
    });
  return true; // answered asynchronously
});
