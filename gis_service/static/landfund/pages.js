/* landfund's pages: the small maps of the OGC views, a parcel's map (with its earlier boundaries), and the editor
 * that draws or reshapes a boundary (Leaflet-Geoman) into the form's hidden `geometry` field. Everything the
 * maps show comes from JSON blocks the page carries (never from script the server writes). */
(function () {
  "use strict";
  var BLUE = "#1565c0", RED = "#c62828", GREY = "#607d8b";
  // Leaflet-Geoman has no Vietnamese: the words its tools show, for the boundary editor
  var VI_GEOMAN = {
    tooltips: {
      firstVertex: "Bấm để đặt đỉnh đầu tiên", continueLine: "Bấm để vẽ tiếp",
      finishPoly: "Bấm vào đỉnh đầu tiên để kết thúc", finishRect: "Bấm để kết thúc"
    },
    actions: { finish: "Xong", cancel: "Hủy", removeLastVertex: "Xóa đỉnh vừa vẽ" },
    buttonTitles: {
      drawPolyButton: "Vẽ ranh giới (đa giác)", drawRectButton: "Vẽ hình chữ nhật", editButton: "Chỉnh sửa đỉnh",
      dragButton: "Di chuyển ranh giới", cutButton: "Cắt bớt một phần", deleteButton: "Xóa ranh giới"
    }
  };

  function json(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function baseLayer(map) {
    var b = json("page-basemap");
    if (b && b.url) {
      L.tileLayer(b.url, { maxZoom: 19, attribution: b.attribution }).addTo(map);
    }
  }

  function fit(map, layer, fallback) {
    if (layer && layer.getLayers().length && layer.getBounds().isValid()) {
      map.fitBounds(layer.getBounds(), { maxZoom: 17, padding: [12, 12] });
    } else {
      map.setView(fallback || [21.7, 103.0], 8);
    }
  }

  // -- the OGC HTML views: a collection's extent, a page of features, one feature --------------------------------
  function ogcMap() {
    var el = document.getElementById("map");
    if (!el) { return; }
    var map = L.map(el);
    baseLayer(map);
    var bbox = el.dataset.bbox ? JSON.parse(el.dataset.bbox) : null;
    var data = json("features") || json("feature");
    if (data) {
      var layer = L.geoJSON(data, { pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 5 }); } }).addTo(map);
      if (layer.getBounds().isValid()) { map.fitBounds(layer.getBounds(), { maxZoom: 17 }); return; }
    }
    if (bbox) {
      map.fitBounds([[bbox[1], bbox[0]], [bbox[3], bbox[2]]]);
      L.rectangle([[bbox[1], bbox[0]], [bbox[3], bbox[2]]], { color: BLUE, weight: 1, fill: false }).addTo(map);
      return;
    }
    map.setView([21.7, 103.0], 8);
  }

  // -- a parcel's page ------------------------------------------------------------------------------------------
  function parcelMap() {
    var el = document.getElementById("parcel-map");
    var data = json("parcel-data");
    if (!el || !data) { return; }
    var map = L.map(el);
    baseLayer(map);
    (data.previous || []).forEach(function (p) {
      L.geoJSON(p.geometry, { style: { color: GREY, weight: 2, dashArray: "6 6", fill: false } })
        .bindTooltip(data.labels.previous + " · " + p.at).addTo(map);
    });
    var layer = L.geoJSON(data.parcel, { style: { color: BLUE, weight: 3, fillOpacity: 0.15 } }).addTo(map);
    fit(map, layer);
    window.lfPageMap = map;  // for the browser tests and the console
  }

  // -- the editor -----------------------------------------------------------------------------------------------
  function ringArea(ring) {  // m², on the sphere (good to a fraction of a per cent at this size)
    var R = 6378137, rad = Math.PI / 180, total = 0;
    for (var i = 0; i < ring.length; i++) {
      var a = ring[i], b = ring[(i + 1) % ring.length];
      total += (b[0] - a[0]) * rad * (2 + Math.sin(a[1] * rad) + Math.sin(b[1] * rad));
    }
    return Math.abs(total * R * R / 2);
  }

  function polygonsOf(group) {
    var polys = [];
    group.eachLayer(function (l) {
      if (!l.toGeoJSON) { return; }
      var g = l.toGeoJSON().geometry;
      if (g.type === "Polygon") { polys.push(g.coordinates); }
      if (g.type === "MultiPolygon") { polys = polys.concat(g.coordinates); }
    });
    return polys;
  }

  function editorMap() {
    var el = document.getElementById("editor-map");
    var data = json("editor-data");
    if (!el || !data || !window.L) { return; }
    var en = data.lang === "en";
    var field = document.getElementById("geometry");
    var changed = document.getElementById("geometry_changed");
    var areaOut = document.getElementById("drawn-area");
    var map = L.map(el);
    baseLayer(map);
    var others = L.layerGroup().addTo(map);   // the land fund around: outlines, not editable
    var drawn = L.featureGroup().addTo(map);  // the boundary being edited
    (data.overlaps || []).forEach(function (o) {
      L.geoJSON(o.geometry, { pmIgnore: true, style: { color: RED, weight: 3, dashArray: "4 4", fillOpacity: 0.25 } })
        .bindTooltip(data.labels.overlap + ": " + o.code, { permanent: true }).addTo(map);
    });
    if (data.geometry) {
      L.geoJSON(data.geometry, { style: { color: BLUE, weight: 3 } }).eachLayer(function (l) { drawn.addLayer(l); });
    }

    function write() {
      var polys = polygonsOf(drawn);
      field.value = polys.length ? JSON.stringify({ type: "MultiPolygon", coordinates: polys }) : "";
      changed.value = "1";
      show(polys);
    }
    function show(polys) {
      var m2 = 0;
      polys.forEach(function (p) { m2 += ringArea(p[0]); for (var i = 1; i < p.length; i++) { m2 -= ringArea(p[i]); } });
      areaOut.textContent = polys.length ? ((en ? "Area about " : "Diện tích khoảng ") +
        (m2 / 10000).toLocaleString(en ? "en" : "vi", { maximumFractionDigits: 2 }) + " ha") : "";
    }
    function watch(layer) {
      layer.on("pm:edit pm:dragend pm:cut pm:rotateend", write);
    }
    drawn.eachLayer(watch);
    show(polygonsOf(drawn));

    if (map.pm) {
      if (en) { map.pm.setLang("en"); } else { map.pm.setLang("vi", VI_GEOMAN, "en"); }
      map.pm.addControls({
        position: "topleft", drawMarker: false, drawCircleMarker: false, drawPolyline: false, drawCircle: false,
        drawText: false, drawRectangle: true, drawPolygon: true, editMode: true, dragMode: true, cutPolygon: true,
        removalMode: true, rotateMode: false
      });
      map.pm.setGlobalOptions({ layerGroup: drawn, allowSelfIntersection: false, snappable: true });
      map.on("pm:create", function (e) { drawn.addLayer(e.layer); watch(e.layer); write(); });
      map.on("pm:remove", function (e) { drawn.removeLayer(e.layer); write(); });
    }

    function nearby() {  // the other parcels in view, to draw against (what the viewer may see, via the API)
      if (map.getZoom() < 13) { others.clearLayers(); return; }
      var b = map.getBounds();
      var url = "/collections/parcels/items?f=json&limit=300&properties=code&bbox=" +
        [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); }).join(",");
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (fc) {
          if (!fc) { return; }
          others.clearLayers();
          L.geoJSON(fc, { pmIgnore: true, interactive: true, style: { color: GREY, weight: 1, fillOpacity: 0.05 } })
            .eachLayer(function (l) {
              var p = l.feature && l.feature.properties;
              if (p && p.code) { l.bindTooltip(p.code); }
              others.addLayer(l);
            });
        })
        .catch(function () { /* the outlines are a help, not a need */ });
    }
    map.on("moveend", nearby);
    window.lfPageMap = map;  // for the browser tests and the console
    if (drawn.getLayers().length) {
      fit(map, drawn);
    } else if (data.bounds) {  // a new parcel: the planner's unit (or the province)
      map.fitBounds(data.bounds);
    } else {
      map.setView([21.39, 103.02], 12);
    }
  }

  function start() {
    if (!window.L) { return; }
    ogcMap();
    parcelMap();
    editorMap();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
