/* landfund maps: everything on a map is drawn here from the page's JSON document (#lf-map-spec), which the
 * server writes as data, never as script or template. Every value that reaches the page's HTML goes
 * through LF.escape. Tooltips and popups are rendered from feature properties in Vietnamese or English,
 * the same way for inline GeoJSON and for vector tiles; number formats follow the language; search looks
 * in the page (or asks the API for tiled layers); the measuring tool is landfund's own (geodesic lengths
 * and areas, no eval). No network access but the service's own and the configured basemap. */
(function () {
  "use strict";

  // Leaflet.VectorGrid 1.3.0 calls L.DomEvent.fakeStop on click, which Leaflet 1.8 removed: every click
  // on a tile threw a TypeError. Stop the click here instead, so the map does not also see it (its
  // preclick would close the popup the click just opened).
  if (window.L && L.DomEvent && !L.DomEvent.fakeStop) {
    L.DomEvent.fakeStop = function (e) { L.DomEvent.stopPropagation(e); return true; };
  }

  var LF = (window.LF = window.LF || {});
  var PANES = { context: 380, coverage: 400, reference: 420, context_labels: 430, parcels: 450, markers: 460 };

  LF.escape = function (s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  };

  LF.fold = function (s) {
    return String(s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "d")
      .toLowerCase().trim();
  };

  LF.number = function (v, lang, decimals) {
    var d = decimals === undefined ? 2 : decimals;
    return new Intl.NumberFormat(lang === "en" ? "en-US" : "vi-VN", { maximumFractionDigits: d }).format(v);
  };

  LF.value = function (field, v, spec) {
    if (v === null || v === undefined || v === "") { return "—"; }
    var fmt = (spec.formats || {})[field] || {};
    var values = spec.values || {};
    if (values[field] && values[field][v] !== undefined) { return LF.escape(values[field][v]); }
    if (fmt.kind === "unit") {
      var name = (LF.units || {})[v];
      return name ? LF.escape(name) + " <small>(" + LF.escape(v) + ")</small>" : LF.escape(v);
    }
    if (fmt.kind === "hazards") {
      if (!v.length) { return LF.escape(LF.words.no_hazard); }
      return v.map(function (h) { return LF.escape((values.hazard || {})[h.hazard] || h.hazard) +
        " (" + LF.escape((values.severity || {})[h.severity] || h.severity) + ")"; }).join("<br>");
    }
    if (fmt.kind === "date" && /^\d{4}-\d{2}-\d{2}$/.test(v)) {
      var p = v.split("-");
      return spec.lang === "en" ? LF.escape(v) : p[2] + "/" + p[1] + "/" + p[0];
    }
    if (fmt.kind === "billion") { return LF.number(v / 1e9, spec.lang, 3) + " " + LF.escape(LF.words.vnd_billion); }
    if (fmt.kind === "percent") { return LF.number(v * 100, spec.lang, 0) + "%"; }
    if (typeof v === "number") {
      var text = LF.number(v, spec.lang, fmt.decimals);
      return fmt.unit ? text + " " + LF.escape(fmt.unit) : text;
    }
    if (typeof v === "boolean") { return v ? "✓" : "✗"; }
    return LF.escape(v);
  };

  LF.table = function (props, fields, spec) {
    var rows = fields.map(function (f) {
      return "<tr><th>" + LF.escape(spec.labels[f] || f) + "</th><td>" + LF.value(f, props[f], spec) + "</td></tr>";
    });
    return '<table class="lf-table">' + rows.join("") + "</table>";
  };

  LF.popupHtml = function (props, spec) {
    var html = "<div class=\"lf-popup\"><h4>" + LF.escape(props.code || props.name || "") + "</h4>";
    if (props.hazards && props.hazards.length) {
      html += '<p class="lf-hazard-warning">⚠ ' + LF.escape(LF.words.hazard_here) + "</p>";
    }
    html += LF.table(props, spec.popup, spec);
    var links = (spec.links || []).map(function (l) {
      var id = props[l.key || "id"];
      if (id === undefined || id === null) { return ""; }
      return '<a target="_blank" href="' + LF.escape(l.href.replace("{id}", encodeURIComponent(id))) + '">' +
        LF.escape(l.label) + "</a>";
    }).filter(Boolean);
    if (links.length) { html += '<p class="lf-links">' + links.join(" · ") + "</p>"; }
    return html + "</div>";
  };

  LF.tooltipHtml = function (props, spec) {
    if (spec.plain) { return spec.tooltip.map(function (f) { return LF.escape(props[f] === undefined ? "" : props[f]); }).join(" "); }
    return spec.tooltip.map(function (f) {
      return "<b>" + LF.escape(spec.labels[f] || f) + ":</b> " + LF.value(f, props[f], spec);
    }).join("<br>");
  };

  // -- styles ------------------------------------------------------------------------------------------
  function classColor(value, classes) {
    if (value === null || value === undefined) { return classes.missing || "#bdbdbd"; }
    for (var i = 0; i < classes.breaks.length - 1; i++) {
      if (value < classes.breaks[i + 1]) { return classes.colors[Math.min(i, classes.colors.length - 1)]; }
    }
    return classes.colors[classes.colors.length - 1];
  }

  LF.colorOf = function (entry, props) {
    var st = entry.style || {};
    if (entry.classes) { return classColor(props[entry.classes.field], entry.classes); }
    if (props.color) { return props.color; }
    if (st.by) { return (st.colors || {})[props[st.by]] || st.default_color || "#607d8b"; }
    return st.default_color || "#3388ff";
  };

  var KINDS = { Point: "point", MultiPoint: "point", LineString: "line", MultiLineString: "line" };

  // A layer's style for one feature; `kind` is the feature's geometry (point, line or polygon).
  LF.styleFor = function (entry) {
    var st = entry.style || {};
    return function (props, kind) {
      props = props || {};
      kind = kind || entry.geometry;
      var c = LF.colorOf(entry, props);
      if (kind === "line") {
        return { color: c, weight: st.weight || 2, opacity: 0.9, fill: false, dashArray: st.dash || null };
      }
      if (kind === "point") {
        var r = st.radius || 4;
        if (st.radius_by && typeof props[st.radius_by] === "number") { r = 4 + Math.sqrt(props[st.radius_by]); }
        return { radius: r, weight: st.weight || 1, color: st.stroke || "#263238", fill: true, fillColor: c,
                 fillOpacity: st.fill_opacity === undefined ? 0.8 : st.fill_opacity };
      }
      return { color: st.stroke || c, weight: st.weight === undefined ? 1 : st.weight, fill: st.fill !== false,
               fillColor: c, fillOpacity: st.fill_opacity === undefined ? 0.6 : st.fill_opacity,
               dashArray: st.dash || null };
    };
  };

  LF.featureKind = function (feature) {
    return (feature && feature.geometry && KINDS[feature.geometry.type]) || "polygon";
  };

  // Vector-tile styles (VectorGrid calls them with the feature's properties and its dimension: 1 point,
  // 2 line, 3 polygon). Low zooms send small parcels as points: they get the parcel's colour as a dot.
  LF.tileStyle = function (entry) {
    var style = LF.styleFor(entry);
    return function (props, zoom, dimension) {
      return style(props, dimension === 1 ? "point" : dimension === 2 ? "line" : "polygon");
    };
  };

  // Vector tiles carry the feature id as the MVT id, not as a property: copy it across for popups' links.
  LF.tileFeatureId = function (f) { f.properties.id = f.id; return f.id; };
  // Tiles carry the stored fields only: derive the ones maps show.
  LF.derive = function (props) {
    if (props.area_ha === undefined && typeof props.area_m2 === "number") { props.area_ha = props.area_m2 / 10000; }
    return props;
  };

  // -- binding tooltips, popups and highlight ----------------------------------------------------------
  LF.index = [];

  function bindInline(entry, feature, layer) {
    var spec = entry.bind;
    var props = Object.assign({ id: feature.id }, feature.properties);
    if (feature.properties && feature.properties.label && !spec) {
      layer.bindTooltip(LF.escape(feature.properties.label), { sticky: true });
    }
    if (!spec) { return; }
    if (spec.tooltip && spec.tooltip.length) { layer.bindTooltip(LF.tooltipHtml(props, spec), { sticky: true }); }
    if (spec.popup && spec.popup.length) { layer.bindPopup(LF.popupHtml(props, spec), { maxWidth: 420 }); }
    if (spec.highlight && layer.setStyle) {
      var style = LF.styleFor(entry)(feature.properties, LF.featureKind(feature));
      layer.on("mouseover", function () { layer.setStyle({ weight: 4, color: "#000" }); });
      layer.on("mouseout", function () { layer.setStyle({ weight: style.weight, color: style.color }); });
    }
    if (entry.search_fields && layer.getBounds) { LF.index.push({ props: props, layer: layer, entry: entry }); }
  }

  function bindTiles(map, grid, entry) {
    var spec = entry.bind || {};
    var highlighted = null;
    var tip = L.tooltip({ sticky: true });
    grid.on("click", function (e) {
      if (!spec.popup || !spec.popup.length) { return; }
      var props = LF.derive(e.layer.properties);
      L.popup({ maxWidth: 420 }).setLatLng(e.latlng).setContent(LF.popupHtml(props, spec)).openOn(map);
    });
    grid.on("mouseover", function (e) {
      var props = LF.derive(e.layer.properties);
      if (spec.tooltip && spec.tooltip.length) { tip.setLatLng(e.latlng).setContent(LF.tooltipHtml(props, spec)).addTo(map); }
      if (!spec.highlight) { return; }
      if (highlighted !== null) { grid.resetFeatureStyle(highlighted); }
      highlighted = props.id;
      grid.setFeatureStyle(highlighted, { weight: 4, color: "#000", fill: true, fillOpacity: 0.7 });
    });
    grid.on("mouseout", function () {
      tip.remove();
      if (highlighted !== null) { grid.resetFeatureStyle(highlighted); highlighted = null; }
    });
  }

  // -- layers --------------------------------------------------------------------------------------------
  function pane(map, name) {
    var id = "lf_" + name;
    if (!map.getPane(id)) { map.createPane(id).style.zIndex = String(PANES[name] || 400); }
    return id;
  }

  // Inline layers all draw on the map's one canvas (one canvas per pane would take each other's clicks), in the
  // order of their level: the choropleth, reference layers, parcels, site markers (see LF.restack).
  function geojsonLayer(map, entry, data, level) {
    var style = LF.styleFor(entry);
    var layer = L.geoJSON(data, {
      style: function (f) { return style(f.properties, LF.featureKind(f)); },
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, style(f.properties, "point")); },
      onEachFeature: function (f, layer) { bindInline(entry, f, layer); }
    });
    layer.lfLevel = PANES[level] || 400;
    return layer;
  }

  // Redraw inline layers bottom to top by level, so a layer switched on again never covers the sites.
  LF.restack = function (map, layers) {
    layers.slice().sort(function (a, b) { return a.lfLevel - b.lfLevel; }).forEach(function (l) {
      if (map.hasLayer(l) && l.bringToFront) { l.bringToFront(); }
    });
  };

  function makeLayer(map, entry) {
    if (entry.tiles) {
      var paneName = pane(map, entry.pane || "reference");
      var styles = {};
      styles[entry.tiles.layer] = LF.tileStyle(entry);
      var grid = L.vectorGrid.protobuf(entry.tiles.url, { vectorTileLayerStyles: styles, interactive: true,
        maxNativeZoom: 22, getFeatureId: LF.tileFeatureId, pane: paneName });
      bindTiles(map, grid, entry);
      return grid;
    }
    return geojsonLayer(map, entry, entry.data || { type: "FeatureCollection", features: [] }, entry.pane || "reference");
  }

  // -- legends -------------------------------------------------------------------------------------------
  // One legend per layer, shown while its layer is on. On a phone each starts folded to its title (a tap
  // opens it), so legends never cover the map.
  function legendControl(map, entry, key, small) {
    var legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "lf-legend" + (small ? " lf-folded" : ""));
      div.setAttribute("data-legend", key);
      div.setAttribute("data-layer", entry.id);
      var kind = entry.legend.round ? "lf-round" : entry.geometry === "line" ? "lf-line" : "";
      var rows = entry.legend.items.map(function (it) {
        return '<div><i class="' + kind + '" style="background:' + LF.escape(it[0]) + '"></i>' + LF.escape(it[1]) + "</div>";
      }).join("");
      var title = entry.legend.layer_title && entry.legend.layer_title !== entry.legend.title
        ? LF.escape(entry.legend.layer_title) + ": " + LF.escape(entry.legend.title) : LF.escape(entry.legend.title);
      div.innerHTML = '<h4><button type="button" class="lf-legend-toggle" aria-expanded="' + (!small) + '" title="' +
        LF.escape(LF.words.legend_toggle) + '">' + title + '</button></h4><div class="lf-legend-rows">' + rows + "</div>";
      L.DomEvent.disableClickPropagation(div);
      var button = div.querySelector("button");
      L.DomEvent.on(button, "click", function () {
        var folded = div.classList.toggle("lf-folded");
        button.setAttribute("aria-expanded", String(!folded));
      });
      return div;
    };
    return legend;
  }

  // The stand-in basemap: the province's outline and the units in force, named, from the service's own data.
  function contextLayer(map, fc) {
    var group = L.geoJSON(fc, {
      pane: pane(map, "context"),
      interactive: false,
      style: function (f) {
        return f.properties.level === "province" ? { color: "#37474f", weight: 2.5, fill: true, fillColor: "#fbfaf5", fillOpacity: 1 }
          : { color: "#78909c", weight: 1, dashArray: "4 3", fill: false };
      }
    });
    fc.features.forEach(function (f) {
      if (f.properties.level === "province") { return; }
      L.marker(f.properties.point, { interactive: false, keyboard: false, pane: pane(map, "context_labels"),
        icon: L.divIcon({ className: "lf-context-label", html: "<span>" + LF.escape(f.properties.name) + "</span>", iconSize: [1, 1] })
      }).addTo(group);
    });
    return group;
  }

  // -- controls ------------------------------------------------------------------------------------------
  function geodesicArea(latlngs) {
    var d2r = Math.PI / 180, R = 6378137, area = 0, n = latlngs.length;
    if (n < 3) { return 0; }
    for (var i = 0; i < n; i++) {
      var p1 = latlngs[i], p2 = latlngs[(i + 1) % n];
      area += ((p2.lng - p1.lng) * d2r) * (2 + Math.sin(p1.lat * d2r) + Math.sin(p2.lat * d2r));
    }
    return Math.abs(area * R * R / 2);
  }
  LF.geodesicArea = geodesicArea;

  function measureControl(map, lang) {
    var W = LF.words;
    var Measure = L.Control.extend({
      options: { position: "topleft" },
      onAdd: function () {
        var box = L.DomUtil.create("div", "leaflet-bar lf-measure leaflet-control-measure");
        var button = L.DomUtil.create("a", "lf-measure-toggle", box);
        button.href = "#";
        button.title = W.measure;
        button.setAttribute("role", "button");
        button.setAttribute("aria-label", W.measure);
        button.innerHTML = '<svg viewBox="0 0 20 20" width="18" height="18" aria-hidden="true"><path d="M2 14 14 2l4 4L6 18z" ' +
          'fill="none" stroke="#333" stroke-width="1.6"/><path d="M5 11l2 2M8 8l2 2M11 5l2 2" stroke="#333" stroke-width="1.4"/></svg>';
        var panel = L.DomUtil.create("div", "lf-measure-panel", box);
        panel.hidden = true;
        var points = [], line = null, shape = null, active = false;
        function fmtLength(m) { return m >= 1000 ? LF.number(m / 1000, lang, 3) + " km" : LF.number(m, lang, 1) + " m"; }
        function fmtArea(a) { return a >= 10000 ? LF.number(a / 10000, lang, 4) + " ha" : LF.number(a, lang, 1) + " m²"; }
        function draw() {
          var length = 0;
          for (var i = 1; i < points.length; i++) { length += map.distance(points[i - 1], points[i]); }
          if (line) { line.setLatLngs(points); } else { line = L.polyline(points, { color: "#d81b60", weight: 2, interactive: false }).addTo(map); }
          if (points.length >= 3) {
            if (shape) { shape.setLatLngs(points); } else { shape = L.polygon(points, { color: "#d81b60", weight: 1, fillOpacity: 0.15, interactive: false }).addTo(map); }
          }
          panel.innerHTML = "<div>" + LF.escape(W.measure_hint) + "</div><div><b>" + LF.escape(W.measure_length) + ":</b> <span class=\"lf-measure-length\">" +
            fmtLength(length) + "</span></div>" + (points.length >= 3 ? "<div><b>" + LF.escape(W.measure_area) +
            ":</b> <span class=\"lf-measure-area\">" + fmtArea(geodesicArea(points)) + "</span></div>" : "") +
            '<div><a href="#" class="lf-measure-clear">' + LF.escape(W.measure_clear) + "</a> · " +
            '<a href="#" class="lf-measure-finish">' + LF.escape(W.measure_finish) + "</a></div>";
        }
        function clear() {
          points = [];
          if (line) { map.removeLayer(line); line = null; }
          if (shape) { map.removeLayer(shape); shape = null; }
          draw();
        }
        function stop() {
          active = false;
          map.off("click", add);
          map.doubleClickZoom.enable();
          L.DomUtil.removeClass(box, "lf-active");
          map.getContainer().style.cursor = "";
        }
        function add(e) { if (!active) { return; } map.closePopup(); points.push(e.latlng); draw(); }
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.on(button, "click", function (ev) {
          L.DomEvent.preventDefault(ev);
          if (active) { stop(); panel.hidden = true; clear(); return; }
          active = true;
          panel.hidden = false;
          L.DomUtil.addClass(box, "lf-active");
          map.doubleClickZoom.disable();
          map.getContainer().style.cursor = "crosshair";
          map.on("click", add);
          clear();
        });
        map.on("dblclick", function () { if (active) { stop(); } });
        L.DomEvent.on(panel, "click", function (ev) {
          var t = ev.target;
          if (t.classList.contains("lf-measure-clear")) { L.DomEvent.preventDefault(ev); clear(); }
          if (t.classList.contains("lf-measure-finish")) { L.DomEvent.preventDefault(ev); stop(); }
        });
        return box;
      }
    });
    map.addControl(new Measure());
  }

  function searchMatches(q, props) {
    var f = LF.fold(q);
    if (!f) { return false; }
    var sheet = f.match(/^(?:to\s*)?(\d+[a-z]?)\s*(?:[\/\-,]|\s+thua\s*|\s+)\s*(\d+[a-z]?)$/);
    if (sheet && String(props.map_sheet_no) === sheet[1] && String(props.parcel_no) === sheet[2]) { return true; }
    var unit = (LF.units || {})[props.admin_unit_code];
    return [props.code, props.name, unit].some(function (v) { return v && LF.fold(v).indexOf(f) >= 0; });
  }

  function cqlString(s) { return "'" + String(s).replace(/'/g, "''") + "'"; }

  function searchControl(map, search) {
    var W = LF.words;
    var Search = L.Control.extend({
      options: { position: "topleft" },
      onAdd: function () {
        var box = L.DomUtil.create("div", "leaflet-bar lf-search");
        var input = L.DomUtil.create("input", "", box);
        input.type = "search";
        input.placeholder = W.search;
        input.setAttribute("aria-label", W.search);
        var list = L.DomUtil.create("ul", "lf-search-results", box);
        list.setAttribute("aria-label", W.search_results);
        var found = [];
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        function show(items) {
          found = items;
          input.classList.toggle("lf-miss", input.value.trim() !== "" && !items.length);
          list.innerHTML = items.slice(0, 8).map(function (it, i) {
            var p = it.props, unit = (LF.units || {})[p.admin_unit_code];
            return '<li><a href="#" data-i="' + i + '">' + LF.escape(p.code || "") + "</a> " +
              LF.escape(p.name || "") + (unit ? " <small>" + LF.escape(unit) + "</small>" : "") + "</li>";
          }).join("");
          if (input.value.trim() !== "" && !items.length) { list.innerHTML = "<li class=\"lf-none\">" + LF.escape(W.not_found) + "</li>"; }
        }
        function pick(it) {
          list.innerHTML = "";
          if (it.layer) {
            map.fitBounds(it.layer.getBounds(), { maxZoom: 17, animate: false });
            if (it.layer.getPopup()) { it.layer.openPopup(); }
            return;
          }
          var g = L.geoJSON(it.feature);
          map.fitBounds(g.getBounds(), { maxZoom: 17, animate: false });
          L.popup({ maxWidth: 420 }).setLatLng(g.getBounds().getCenter())
            .setContent(LF.popupHtml(it.props, search.bind)).openOn(map);
        }
        function query(q, then) {
          if (!search.api) {
            then(LF.index.filter(function (it) { return searchMatches(q, it.props); }));
            return;
          }
          var f = q.trim(), m = LF.fold(f).match(/^(\d+[a-z]?)\s*[\/\-]\s*(\d+[a-z]?)$/), filter;
          if (m) { filter = "map_sheet_no = " + cqlString(m[1]) + " AND parcel_no = " + cqlString(m[2]); }
          else {
            var like = cqlString("%" + f.replace(/[%_\\]/g, "\\$&") + "%");
            filter = "CASEI(code) LIKE CASEI(" + like + ") OR CASEI(name) LIKE CASEI(" + like + ")";
          }
          fetch(search.api + "?limit=8&filter=" + encodeURIComponent(filter), { headers: { Accept: "application/geo+json" },
                credentials: "same-origin" })
            .then(function (r) { return r.ok ? r.json() : { features: [] }; })
            .then(function (fc) {
              then((fc.features || []).map(function (f) { return { props: Object.assign({ id: f.id }, f.properties), feature: f }; }));
            });
        }
        var timer = null;
        L.DomEvent.on(input, "input", function () {
          clearTimeout(timer);
          var q = input.value;
          if (!q.trim()) { show([]); return; }
          timer = setTimeout(function () { query(q, show); }, search.api ? 250 : 60);
        });
        L.DomEvent.on(input, "keydown", function (ev) {
          if (ev.key !== "Enter") { return; }
          L.DomEvent.preventDefault(ev);
          query(input.value, function (items) { show(items); if (items.length) { pick(items[0]); } });
        });
        L.DomEvent.on(list, "click", function (ev) {
          var a = ev.target.closest("a[data-i]");
          if (!a) { return; }
          L.DomEvent.preventDefault(ev);
          pick(found[parseInt(a.getAttribute("data-i"), 10)]);
        });
        return box;
      }
    });
    map.addControl(new Search());
  }

  function basemapLayer(map, spec, words, offline) {
    var b = spec.basemap;
    var attribution = b.attribution_url ? '<a href="' + LF.escape(b.attribution_url) + '">' + LF.escape(b.attribution) + "</a>"
      : LF.escape(b.attribution);
    var layer = L.tileLayer(b.url, { attribution: attribution, maxZoom: 19 });
    var loaded = 0, failed = 0, told = false;
    layer.on("tileload", function () { loaded++; });
    layer.on("tileerror", function () {
      failed++;
      if (told || loaded || failed < 2) { return; }
      told = true;
      map.getContainer().classList.add("lf-nobase");
      if (offline) { offline(); }
      var title = document.querySelector(".lf-title");
      if (title) {
        var note = document.createElement("small");
        note.className = "lf-basemap-offline";
        note.textContent = words.basemap_offline + (offline ? " " + words.offline_context : "");
        title.appendChild(note);
        if (LF.placeControls) { LF.placeControls(); }
      }
    });
    return layer;
  }

  LF.render = function (map) {
    var spec = JSON.parse(document.getElementById("lf-map-spec").textContent);
    LF.spec = spec;
    LF.words = spec.words || {};
    LF.units = spec.units || {};
    var small = window.matchMedia && window.matchMedia("(max-width: 700px)").matches;
    if (small) { document.body.classList.add("lf-small"); }
    var bases = {}, overlays = {}, legends = [], inline = [];
    var base = null, context = spec.context ? contextLayer(map, spec.context) : null;
    var showContext = function () {
      if (!context || map.hasLayer(context)) { return; }
      context.addTo(map);
      map.getContainer().setAttribute("data-basemap", "context");
    };
    if (spec.basemap) {
      base = basemapLayer(map, spec, LF.words, context ? showContext : null).addTo(map);
      bases[spec.basemap.name] = base;
    } else {
      map.getContainer().classList.add("lf-nobase");
      showContext();
    }
    if (context) { bases[LF.escape(LF.words.offline_base)] = context; }
    spec.layers.forEach(function (entry) {
      var layer = makeLayer(map, entry);
      if (!entry.tiles) { inline.push(layer); }
      if (entry.show) { layer.addTo(map); }
      if (entry.name) { overlays[LF.escape(entry.name)] = layer; }
      if (entry.legend) {
        var key = entry.classes ? (entry.classes.field === "coverage_ratio" ? "coverage" : entry.classes.field)
          : (entry.style && entry.style.by) || entry.id;
        var legend = legendControl(map, entry, key, small);
        legends.push({ layer: layer, control: legend });
        if (entry.show) { legend.addTo(map); }
      }
      if (entry.markers) {
        var markerEntry = Object.assign({}, entry, { geometry: "point", style: Object.assign({}, entry.style, { fill_opacity: 0.9, radius: 6, weight: 1 }),
          search_fields: null });
        var markers = geojsonLayer(map, markerEntry, entry.markers.data, entry.markers.pane);
        inline.push(markers);
        if (entry.show) { markers.addTo(map); }
        overlays[LF.escape(entry.markers.name)] = markers;
      }
    });
    LF.restack(map, inline);
    // Legends never climb under the layer list: when they would, the upper ones fold to their titles.
    var fitLegends = function () {
      var corner = map._controlCorners.bottomright, above = map._controlCorners.topright;  // not the minimap's
      if (!corner) { return; }
      var limit = above ? above.getBoundingClientRect().bottom + 8 : map.getContainer().getBoundingClientRect().top + 8;
      // a bottom corner has no height of its own: its first (highest) control says where it starts
      var highest = function () { return corner.firstChild ? corner.firstChild.getBoundingClientRect().top : Infinity; };
      var open = Array.prototype.slice.call(corner.querySelectorAll(".lf-legend:not(.lf-folded)"));
      while (open.length && highest() < limit) {
        var top = open.shift();
        top.classList.add("lf-folded");
        top.querySelector("button").setAttribute("aria-expanded", "false");
      }
    };
    map.on("overlayadd", function (e) {
      legends.forEach(function (l) { if (l.layer === e.layer) { l.control.addTo(map); } });
      LF.restack(map, inline);
      fitLegends();
    });
    map.on("overlayremove", function (e) { legends.forEach(function (l) { if (l.layer === e.layer) { l.control.remove(); } }); });
    (spec.labels || []).forEach(function (label) {
      var cls = label.kind === "vertex" ? "lf-vertex" : "lf-edge";
      L.marker([label.lat, label.lon], { interactive: false, keyboard: false, pane: pane(map, "markers"),
        icon: L.divIcon({ className: cls + "-label", html: '<span class="' + cls + '">' + LF.escape(label.text) + "</span>",
                          iconSize: [1, 1] }) }).addTo(map);
    });
    if (map.zoomControl) {  // Leaflet's own buttons say "Zoom in" in English
      var zc = map.zoomControl.getContainer();
      [["in", LF.words.zoom_in], ["out", LF.words.zoom_out]].forEach(function (z) {
        var a = zc && zc.querySelector(".leaflet-control-zoom-" + z[0]);
        if (a) { a.title = z[1]; a.setAttribute("aria-label", z[1]); }
      });
    }
    var controls = spec.controls || [];
    if (controls.indexOf("search") >= 0 && spec.search) { searchControl(map, spec.search); }
    if (controls.indexOf("fullscreen") >= 0 && L.control.fullscreen) {
      L.control.fullscreen({ position: "topleft", title: LF.words.fullscreen, titleCancel: LF.words.fullscreen_exit }).addTo(map);
    }
    if (controls.indexOf("measure") >= 0) { measureControl(map, spec.lang); }
    if (controls.indexOf("minimap") >= 0 && spec.basemap && L.Control.MiniMap && !small) {
      new L.Control.MiniMap(L.tileLayer(spec.basemap.url, { maxZoom: 19 }), { toggleDisplay: true, position: "bottomleft",
        strings: { hideText: LF.words.minimap_hide, showText: LF.words.minimap_show } }).addTo(map);
    }
    if (controls.indexOf("scale") >= 0) { L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map); }
    if (controls.indexOf("layers") >= 0) {
      L.control.layers(bases, overlays, { collapsed: small, position: "topright" }).addTo(map);
    }
    var title = document.querySelector(".lf-title");
    if (title && title.parentNode !== map.getContainer()) {
      map.getContainer().appendChild(title);  // inside the map, under the site's navigation bar
      L.DomEvent.disableClickPropagation(title);
    }
    var left = map.getContainer().querySelector(".leaflet-top.leaflet-left");
    LF.placeControls = function () {  // the title sits above the left-hand controls, never on them
      if (!title || !left) { return; }
      left.style.marginTop = (title.offsetTop + title.offsetHeight) + "px";
      left.style.top = "0";
    };
    LF.placeControls();
    fitLegends();
    if (spec.bounds) {
      map.fitBounds(spec.bounds, { maxZoom: spec.focus === "parcel" ? 18 : 13, animate: false });
    }
    LF.map = map;
  };
})();
