/* landfund's HTML pages: small maps of a collection's extent, a page of features or one feature, drawn from
 * data the page carries as JSON (never as script). */
(function () {
  "use strict";
  function json(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  function start() {
    var el = document.getElementById("map");
    if (!el || !window.L) { return; }
    var map = L.map(el);
    var bbox = el.dataset.bbox ? JSON.parse(el.dataset.bbox) : null;
    var data = json("features") || json("feature");
    if (data) {
      var layer = L.geoJSON(data, { pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 5 }); } }).addTo(map);
      if (layer.getBounds().isValid()) { map.fitBounds(layer.getBounds(), { maxZoom: 17 }); return; }
    }
    if (bbox) {
      map.fitBounds([[bbox[1], bbox[0]], [bbox[3], bbox[2]]]);
      L.rectangle([[bbox[1], bbox[0]], [bbox[3], bbox[2]]], { color: "#1565c0", weight: 1, fill: false }).addTo(map);
      return;
    }
    map.setView([21.7, 103.0], 8);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
