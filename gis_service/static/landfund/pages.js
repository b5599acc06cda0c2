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
    var el = document.getElementById("parcel-map") || document.getElementById("dossier-map");
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
    (data.vertices || []).forEach(function (v) {  // the vertex numbers of the coordinate table (once the map has a view)
      L.circleMarker([v[0], v[1]], { radius: 3, color: "#222", weight: 1, fillOpacity: 1 })
        .bindTooltip(String(v[2]), { permanent: true, direction: "top", className: "lf-vertex-label" }).addTo(map);
    });
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

  // -- the investor portal: ranked sites over the hazard zones, the list beside them -------------------------------
  var GREENS = ["#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c"];
  function scoreColor(s) { return GREENS[Math.max(0, Math.min(4, Math.floor(s * 5)))]; }

  function portalMap() {
    var el = document.getElementById("portal-map");
    var data = json("portal-data");
    if (!el || !data) { return; }
    var map = L.map(el);
    baseLayer(map);
    map.createPane("lfHazards").style.zIndex = 390;  // below the sites, always: every site stays clickable
    map.createPane("lfSites").style.zIndex = 420;
    L.geoJSON(data.hazards, { pane: "lfHazards", interactive: false,
      style: { color: "#6a1b9a", weight: 1, dashArray: "3 3", fillColor: "#6a1b9a", fillOpacity: 0.12 } }).addTo(map);
    var byId = {};
    var sites = L.geoJSON(data.sites, {
      pane: "lfSites",
      style: function (f) { return { color: "#1b3a57", weight: 1.5, fillColor: scoreColor(f.properties.score), fillOpacity: 0.85 }; },
      onEachFeature: function (f, l) {
        byId[f.id] = l;
        var p = f.properties;
        l.bindTooltip("#" + p.rank + " " + p.code + " · " + Math.round(p.score * 100) + "%" + (p.hazards ? " ⚠" : ""));
        l.on("click", function () {
          var item = document.getElementById("site-" + f.id);
          if (item) { item.scrollIntoView({ behavior: "smooth", block: "center" }); item.classList.add("lf-picked");
            setTimeout(function () { item.classList.remove("lf-picked"); }, 1500); }
        });
      }
    }).addTo(map);
    fit(map, sites);
    window.lfPageMap = map;
    document.querySelectorAll(".lf-site").forEach(function (item) {
      item.addEventListener("mouseenter", function () {
        var l = byId[item.dataset.id];
        if (l) { l.setStyle({ weight: 4, color: "#e65100" }); l.bringToFront(); }
      });
      item.addEventListener("mouseleave", function () {
        var l = byId[item.dataset.id];
        if (l) { l.setStyle({ weight: 1.5, color: "#1b3a57" }); }
      });
    });
  }

  function controls() {
    // weights: show the value beside each slider, and rank again a moment after the last change
    var form = document.querySelector("form[data-autosubmit]");
    if (form) {
      var timer = null;
      form.querySelectorAll("input[type=range]").forEach(function (r) {
        var out = form.querySelector("output[for=" + r.id + "]");
        r.addEventListener("input", function () { if (out) { out.textContent = r.value.replace(".", ","); } });
      });
      form.addEventListener("change", function () {
        clearTimeout(timer);
        timer = setTimeout(function () { form.submit(); }, 350);
      });
    }
    // compare: two to four sites
    var compare = document.getElementById("compare");
    if (compare) {
      var picks = document.querySelectorAll(".lf-pick");
      var ids = document.getElementById("compare-ids");
      var button = document.getElementById("compare-button");
      var max = 4;
      var update = function () {
        var chosen = Array.prototype.filter.call(picks, function (p) { return p.checked; });
        picks.forEach(function (p) { p.disabled = !p.checked && chosen.length >= max; });
        ids.value = chosen.map(function (p) { return p.value; }).join(",");
        button.disabled = chosen.length < 2;
      };
      picks.forEach(function (p) { p.addEventListener("change", update); });
      update();
    }
    // a province chooser whose options carry their VN-2000 zone: the CRS field suggests the chosen one's
    document.querySelectorAll("select[data-crs-input]").forEach(function (sel) {
      var input = document.getElementById(sel.getAttribute("data-crs-input"));
      if (!input) { return; }
      sel.addEventListener("change", function () {
        var zone = sel.options[sel.selectedIndex].getAttribute("data-crs");
        if (zone) { input.placeholder = zone; }
      });
    });
  }

  function start() {
    controls();
    if (!window.L) { return; }
    ogcMap();
    parcelMap();
    editorMap();
    portalMap();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
