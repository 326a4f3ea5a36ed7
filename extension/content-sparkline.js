/* storeaudit overlay: the listing's price over the recent crawls, with the contract floor
   dashed. Built with createElementNS, node by node, like everything else: no markup strings. */
(function () {
  "use strict";
  var O = window.__storeauditOverlay;
  if (!O || O.started) { return; } // already running in this page: the first copy stays in charge
  var SA = self.StoreAudit;
  var h = O.h;
  var svg = O.svg;

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

  O.sparkline = sparkline;
})();
