/* storeaudit overlay: the page-level layer (one <storeaudit-overlay> host with a closed shadow
   root, holding the panel, the badges' tooltip and the notice) and the quiet notice shown when
   the API cannot be reached. */
(function () {
  "use strict";
  var O = window.__storeauditOverlay;
  if (!O || O.started) { return; } // already running in this page: the first copy stays in charge
  var h = O.h;
  var onTrustedClick = O.onTrustedClick;
  var adoptStyles = O.adoptStyles;
  var ui = O.ui;

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

  O.layer = layer;
  O.clearLayer = clearLayer;
  O.showNotice = showNotice;
  O.hideNotice = hideNotice;
})();
