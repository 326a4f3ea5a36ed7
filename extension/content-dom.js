/* storeaudit overlay: building its DOM. Every string goes in as text (textContent /
   createTextNode, through StoreAudit.plain), never as markup: store titles can be hostile. */
(function () {
  "use strict";
  var O = window.__storeauditOverlay;
  if (!O || O.started) { return; } // already running in this page: the first copy stays in charge
  var SA = self.StoreAudit;
  var SVG_NS = "http://www.w3.org/2000/svg";

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

  O.h = h;
  O.svg = svg;
  O.onTrustedClick = onTrustedClick;
})();
