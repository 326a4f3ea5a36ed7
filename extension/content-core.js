/* storeaudit overlay: runs only on the store origins the user configured (the service worker
   registers it for those and nothing else).

   Everything it shows lives in closed shadow roots on its own host elements: the store's CSS
   cannot reach in, its CSS cannot leak out, and the store's scripts cannot read or click it.
   Every piece of text that came from the store (titles, messages quoting titles, prices) is
   put in with textContent / createTextNode, never innerHTML, and with its direction overrides
   shown rather than obeyed (StoreAudit.plain).

   It never sees the API token: it asks the service worker by message.

   The overlay is one set of plain scripts loaded in order (no build step, no modules); they
   share one object, window.__storeauditOverlay, which lives in the content script's isolated
   world and so is invisible to the page:

     content-core.js       (this file) the shared state; the one way to ask the service worker
     content-dom.js        building DOM from data as text only (no innerHTML), trusted clicks
     content-styles.js     the overlay's CSS, adopted into each closed shadow root
     content-layer.js      the page-level layer (panel, tooltip, notice live here), the notice
     content-badges.js     badges on product cards and their tooltip; late cards
     content-sparkline.js  the price-history chart (SVG built node by node)
     content-panel.js      the panel on a listing's page
     content-actions.js    what the panel's buttons do: acknowledge, waive, approve, spot-check
     content-witness.js    what this browser sees on a listing's page, reported as a second witness
     content.js            the entry: asks what this page is and shows the panel or the badges

   The service worker registers them in this order (background.js, syncContentScripts). */
(function () {
  "use strict";
  // Once per page: if the set is injected again, the first copy stays in charge (the later
  // files stop too, once the entry has marked it started).
  if (window.__storeauditOverlay) { return; } // isolated world: invisible to the page
  var O = window.__storeauditOverlay = {started: false};

  O.state = {url: null, overlay: null, identity: null, collapsed: false, status: null};
  O.ui = {host: null, root: null, panel: null, tooltip: null, notice: null};

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

  O.send = send;
})();
