/* storeaudit overlay, the entry (loaded last; the parts are content-*.js, see content-core.js).
   Asks the service worker what this page is and shows the panel (a listing) or the badges
   (any other page of the store), the notice if the API is away, nothing if this is not the
   store; and again whenever the worker says the findings changed. */
(function () {
  "use strict";
  var O = window.__storeauditOverlay;
  if (!O || O.started) { return; } // already running in this page: the first copy stays in charge
  var SA = self.StoreAudit;
  var send = O.send;
  var state = O.state;
  var ui = O.ui;
  var showNotice = O.showNotice;
  var hideNotice = O.hideNotice;
  var clearLayer = O.clearLayer;
  var renderPanel = O.renderPanel;
  var renderBadges = O.renderBadges;
  var clearBadges = O.clearBadges;
  var watchForCards = O.watchForCards;
  var unwatchCards = O.unwatchCards;

  async function refresh() {
    state.url = location.href.split("#")[0];
    var answer = await send({type: "overlay", url: state.url});
    if (!answer.ok) {
      var kind = answer.error && answer.error.kind;
      if (kind === "not-store") { teardown(); return; } // not ours: leave no trace
      if (kind === "busy" && !state.retrying) { // asked again once the pause is over
        state.retrying = setTimeout(function () { state.retrying = null; refresh(); }, 5000);
      }
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
      if (state.reportedUrl !== state.url) { // once per page view: what this browser sees
        state.reportedUrl = state.url;
        O.reportView();
      }
    } else {
      if (ui.panel) { ui.panel.remove(); ui.panel = null; }
      renderBadges();
    }
    if (state.overlay.stale) { // the server is busy: its last answer for this page, said so
      showNotice("the storeaudit server is busy: showing its answer from " +
                 SA.shortTime(state.overlay.stale.at));
    }
    watchForCards();
  }

  function teardown() {
    unwatchCards();
    clearBadges();
    clearLayer();
  }

  O.refresh = refresh;
  O.started = true;

  chrome.runtime.onMessage.addListener(function (message, sender) {
    if (sender.id !== chrome.runtime.id || !message) { return; }
    if (message.type === "refresh") { refresh(); }
  });

  chrome.storage.local.get(["panelCollapsed"], function (stored) {
    state.collapsed = !!(stored && stored.panelCollapsed);
    refresh();
  });
})();
