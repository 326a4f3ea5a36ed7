/* 猜你喜欢: cards arrive after the page has loaded, as on real stores.
   Titles are untrusted text: built with textContent only, never innerHTML. */
(function () {
  "use strict";
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function card(item) {
    var art = el("article", "product-card");
    art.setAttribute("data-sku", item.sku);
    var a = el("a");
    a.href = item.url;
    var box = el("div", "card-img");
    var img = el("img");
    img.src = item.image; img.alt = item.title; img.width = 240; img.height = 240;
    box.appendChild(img);
    a.appendChild(box);
    a.appendChild(el("h3", "card-title", item.title));
    var meta = el("div", "card-meta");
    meta.appendChild(el("span", "card-price", item.price));
    meta.appendChild(el("span", "card-sales", "月销 " + item.sales));
    a.appendChild(meta);
    var tags = el("div", "card-tags");
    if (item.promoted) { tags.appendChild(el("span", "badge badge-promoted", "推广")); }
    tags.appendChild(el("span", "tag", "猜你喜欢"));
    a.appendChild(tags);
    art.appendChild(a);
    return art;
  }
  function load() {
    var section = document.getElementById("guess-you-like");
    if (!section) { return; }
    var grid = section.querySelector("[data-guess-grid]");
    fetch(section.getAttribute("data-src"), {headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        while (grid.firstChild) { grid.removeChild(grid.firstChild); }
        data.items.forEach(function (item) { grid.appendChild(card(item)); });
        section.setAttribute("data-loaded", "1");
      })
      .catch(function () { section.setAttribute("data-loaded", "error"); });
  }
  window.addEventListener("load", function () { setTimeout(load, 300); });
})();
