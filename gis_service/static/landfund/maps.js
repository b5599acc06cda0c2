/* landfund map helpers: tooltips and popups rendered from feature properties, in Vietnamese or English,
 * the same way for inline GeoJSON and for vector tiles; number formats by language; search by code
 * through the API; and the Leaflet ≥ 1.8 fix for Leaflet.VectorGrid 1.3.0. No network access. */
(function () {
  "use strict";

  // Leaflet.VectorGrid 1.3.0 calls L.DomEvent.fakeStop on click, which Leaflet 1.8 removed: every click
  // on a tile threw a TypeError. Stop the click here instead, so the map does not also see it (its
  // preclick would close the popup the click just opened).
  if (window.L && L.DomEvent && !L.DomEvent.fakeStop) {
    L.DomEvent.fakeStop = function (e) { L.DomEvent.stopPropagation(e); return true; };
  }

  var LF = (window.LF = window.LF || {});

  LF.escape = function (s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  };

  LF.number = function (v, lang, decimals) {
    var d = decimals === undefined ? 2 : decimals;
    return new Intl.NumberFormat(lang === "en" ? "en-US" : "vi-VN", { maximumFractionDigits: d }).format(v);
  };

  LF.value = function (field, v, spec) {
    if (v === null || v === undefined || v === "") { return "—"; }
    var fmt = (spec.formats || {})[field] || {};
    if (spec.values && spec.values[field] && spec.values[field][v] !== undefined) { return LF.escape(spec.values[field][v]); }
    if (fmt.kind === "hazards") {
      if (!v.length) { return LF.escape(spec.words.no_hazard); }
      return v.map(function (h) { return LF.escape((spec.values.hazard || {})[h.hazard] || h.hazard) +
        " (" + LF.escape((spec.values.severity || {})[h.severity] || h.severity) + ")"; }).join("<br>");
    }
    if (fmt.kind === "date" && /^\d{4}-\d{2}-\d{2}$/.test(v)) {
      var p = v.split("-");
      return spec.lang === "en" ? v : p[2] + "/" + p[1] + "/" + p[0];
    }
    if (fmt.kind === "billion") { return LF.number(v / 1e9, spec.lang, 3) + " " + LF.escape(spec.words.vnd_billion); }
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
    var html = "<div class=\"lf-popup\"><h4>" + LF.escape(props.code || props.name || "") + "</h4>" +
      LF.table(props, spec.popup, spec);
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
    return spec.tooltip.map(function (f) {
      return "<b>" + LF.escape(spec.labels[f] || f) + ":</b> " + LF.value(f, props[f], spec);
    }).join("<br>");
  };

  // Inline GeoJSON layers: folium's on_each_feature calls this.
  LF.bind = function (spec) {
    return function (feature, layer) {
      var props = Object.assign({ id: feature.id }, feature.properties);
      if (spec.tooltip && spec.tooltip.length) { layer.bindTooltip(LF.tooltipHtml(props, spec), { sticky: true }); }
      if (spec.popup && spec.popup.length) { layer.bindPopup(LF.popupHtml(props, spec), { maxWidth: 420 }); }
      LF.index = LF.index || {};
      if (props.code) { LF.index[props.code] = layer; }
    };
  };

  // Vector tiles: popups, tooltips and highlight from the tile's feature properties.
  // Tiles carry the stored fields only: derive the ones maps show.
  LF.derive = function (props) {
    if (props.area_ha === undefined && typeof props.area_m2 === "number") { props.area_ha = props.area_m2 / 10000; }
    return props;
  };

  LF.bindTiles = function (map, grid, spec) {
    var highlighted = null;
    var tip = L.tooltip({ sticky: true });
    grid.on("click", function (e) {
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
  };

  // Vector tiles carry the feature id as the MVT id, not as a property: copy it across for popups' links.
  LF.tileFeatureId = function (f) { f.properties.id = f.id; return f.id; };

  // Vector-tile styles by a property, from the map definition's colours: lines in that colour, points as
  // circles of it, polygons filled with it.
  LF.tileStyle = function (spec) {
    return function (props) {
      var c = (spec.colors || {})[props[spec.by]] || spec.default_color || "#3388ff";
      if (spec.geometry === "line") { return { weight: spec.weight || 2, color: c, opacity: 0.9, fill: false }; }
      if (spec.geometry === "point") {
        return { radius: spec.radius || 4, weight: 1, color: c, fill: true, fillColor: c, fillOpacity: 0.8 };
      }
      return { weight: spec.weight || 1, color: "#333", fill: true, fillColor: c, fillOpacity: spec.fill_opacity || 0.6,
               radius: spec.radius || 4 };
    };
  };

  // Search by parcel code through the API (vector-tile maps have no features in the page to search).
  LF.apiSearch = function (map, url, spec) {
    var Search = L.Control.extend({
      options: { position: "topleft" },
      onAdd: function () {
        var box = L.DomUtil.create("div", "leaflet-bar lf-search");
        var input = L.DomUtil.create("input", "", box);
        input.placeholder = spec.words.search;
        input.setAttribute("aria-label", spec.words.search);
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.on(input, "keydown", function (ev) {
          if (ev.key !== "Enter") { return; }
          fetch(url + "?limit=1&code=" + encodeURIComponent(input.value.trim()), { headers: { Accept: "application/geo+json" } })
            .then(function (r) { return r.json(); })
            .then(function (fc) {
              if (!fc.features || !fc.features.length) { input.classList.add("lf-miss"); return; }
              input.classList.remove("lf-miss");
              var f = fc.features[0];
              var layer = L.geoJSON(f);
              map.fitBounds(layer.getBounds(), { maxZoom: 17 });
              var props = Object.assign({ id: f.id }, f.properties);
              L.popup({ maxWidth: 420 }).setLatLng(layer.getBounds().getCenter()).setContent(LF.popupHtml(props, spec)).openOn(map);
            });
        });
        return box;
      }
    });
    map.addControl(new Search());
  };
})();
