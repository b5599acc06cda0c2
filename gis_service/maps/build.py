"""Render a map definition with Folium and branca: layers, legends, controls, language, offline assets."""

from __future__ import annotations

import html
import json

import folium
from branca.element import Element
from folium import plugins
from folium.utilities import JsCode
from sqlalchemy import func
from sqlalchemy.dialects.postgresql import NUMERIC

from ..analytics import suitability
from ..core.errors import LandfundError
from . import data, site, tiles
from .assets import MAP_CSS, MAP_JS, OfflineFigure
from .definition import LayerSpec, MapDef, strings
from .i18n import FORMATS, field_label, number, value_labels
from .legend import CategoryLegend, MetricScale, ScriptBlock, bin_color, step_colormap

OSM = ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
       '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors')
DEFAULT_VIEW = ([21.7, 103.0], 8)


class MapBuilder:
    def __init__(self, ctx: data.Context, mapdef: MapDef):
        self.ctx = ctx
        self.mapdef = mapdef
        self.lang = ctx.lang
        self.words = strings(ctx.settings.maps_dir)
        self.bounds: list[list[float]] = []
        self.geojson_layers: dict[str, folium.GeoJson] = {}
        self.panes: set[str] = set()
        self.map_notes: list[str] = []  # shown under the title

    def w(self, key: str) -> str:
        return self.words[key](self.lang)

    # -- the frame ---------------------------------------------------------------------------------
    def build(self) -> OfflineFigure:
        title = self.mapdef.title(self.lang)
        self.fig = OfflineFigure(self.ctx.asset_base, title=title, lang=self.lang)
        controls = self.mapdef.controls
        self.m = folium.Map(location=DEFAULT_VIEW[0], zoom_start=DEFAULT_VIEW[1], tiles=None, prefer_canvas=True,
                            height=self.mapdef.view.get("height", "100%"))
        self.m.default_js = list(MAP_JS)
        self.m.default_css = list(MAP_CSS)
        self.fig.add_child(self.m)
        self.fig.header.add_child(Element('<meta name="landfund-map" content="' + self.mapdef.id + '">'))
        self.basemap = self._basemap()
        for spec in self.mapdef.layers:
            getattr(self, f"_layer_{spec.kind}")(spec)
        self._controls(controls)
        self._title()
        if self.bounds:
            self.m.fit_bounds(self.bounds, max_zoom=18 if self.ctx.parcel_id else 13)
        return self.fig

    def _basemap(self) -> folium.TileLayer | None:
        choice = self.ctx.settings.map_basemap.strip()
        if choice.lower() == "none":
            self.fig.header.add_child(Element("<style>.leaflet-container { background: #eef2f3; }</style>"))
            return None
        url, attr = OSM if choice.lower() == "osm" else (choice, self.ctx.settings.map_basemap_attribution or choice)
        layer = folium.TileLayer(tiles=url, attr=attr, name="Nền bản đồ" if self.lang == "vi" else "Basemap",
                                 max_zoom=19, overlay=False, control=True)
        layer.add_to(self.m)
        return layer

    def _title(self) -> None:
        sub = self.mapdef.description(self.lang) if self.mapdef.description else ""
        if self.ctx.filters.as_of:
            sub += f" · {self.w('as_of')}: {self.ctx.filters.as_of.isoformat()}"
        notes = [self.w("schematic")] if data.province_note_needed(self.ctx) else []
        notes += self.map_notes
        block = (f'<div class="lf-title" data-lang="{self.lang}">{html.escape(self.mapdef.title(self.lang))}'
                 f"<small>{html.escape(sub)}</small>" + "".join(f"<small>{html.escape(n)}</small>" for n in notes)
                 + "</div>")
        self.fig.html.add_child(Element(block))

    def _controls(self, controls: list[str]) -> None:
        if "scale" in controls:
            MetricScale().add_to(self.m)
        if "fullscreen" in controls:
            plugins.Fullscreen(position="topleft", title="Toàn màn hình" if self.lang == "vi" else "Full screen",
                               title_cancel="Thoát" if self.lang == "vi" else "Exit full screen").add_to(self.m)
        if "measure" in controls:
            plugins.MeasureControl(position="topleft", primary_length_unit="meters", secondary_length_unit="kilometers",
                                   primary_area_unit="hectares", secondary_area_unit="sqmeters").add_to(self.m)
        if "minimap" in controls and self.basemap is not None:
            plugins.MiniMap(tile_layer=folium.TileLayer(tiles=self.basemap.tiles, attr=self.basemap.options.get(
                "attribution", "")), toggle_display=True, position="bottomleft").add_to(self.m)
        if "search" in controls:
            self._search()
        if "layers" in controls:
            folium.LayerControl(collapsed=False, position="topright").add_to(self.m)

    def _search(self) -> None:
        searchable = [s for s in self.mapdef.layers if s.search]
        if not searchable:
            return
        spec = searchable[0]
        layer = self.geojson_layers.get(spec.id)
        if layer is not None:
            plugins.Search(layer=layer, search_label=spec.search, placeholder=self.w("search"), collapsed=False,
                           position="topleft", search_zoom=17).add_to(self.m)
        elif self.ctx.api_base is not None:
            url = f"{self.ctx.api_base}/collections/{spec.collection}/items"
            ScriptBlock(f"LF.apiSearch({self.m.get_name()}, {json.dumps(url)}, "
                        f"{json.dumps(self.js_spec(spec), ensure_ascii=False)});").add_to(self.m)

    # -- specs for the browser -----------------------------------------------------------------------
    def js_spec(self, spec: LayerSpec) -> dict:
        layer = self.ctx.catalogue.layers.get(spec.collection) if spec.collection else None
        if spec.kind in ("coverage", "programmes"):
            layer = self.ctx.catalogue.layers.get("admin_units")
        fields = list(dict.fromkeys([*spec.tooltip, *spec.popup]))
        formats = {}
        for f in fields:
            fmt = dict(FORMATS.get(f, {}))
            if not fmt and layer is not None and f in {a.name for a in layer.attributes}:
                a = layer.attribute(f)
                if a.type in ("number", "integer"):
                    fmt = {"decimals": 2 if a.type == "number" else 0, "unit": a.unit}
                elif a.type == "date":
                    fmt = {"kind": "date"}
            formats[f] = fmt
        links = []
        if self.ctx.api_base is not None:
            templates = {"api_item": f"{self.ctx.api_base}/collections/{spec.collection}/items/{{id}}?f=html",
                         "site_sheet": f"{self.ctx.api_base}/maps/parcels/{{id}}?lang={self.lang}",
                         "interest": f"{self.ctx.api_base}/interests/new?parcel={{id}}&lang={self.lang}"}
            links = [{"label": self.w(k), "href": templates[k]} for k in spec.links]
        return {
            "lang": self.lang, "tooltip": spec.tooltip, "popup": spec.popup, "highlight": spec.highlight,
            "labels": {f: field_label(f, layer, self.words, self.lang) for f in fields},
            "values": value_labels(layer, self.ctx.catalogue, self.lang), "formats": formats, "links": links,
            "words": {k: self.w(k) for k in ("no_hazard", "vnd_billion", "search", "not_found")},
        }

    def _bind(self, spec: LayerSpec) -> JsCode:
        return JsCode(f"LF.bind({json.dumps(self.js_spec(spec), ensure_ascii=False)})")

    def _extend(self, fc: dict) -> None:
        import shapely

        geoms = [shapely.from_geojson(json.dumps(f["geometry"])) for f in fc["features"] if f.get("geometry")]
        if geoms:
            x0, y0, x1, y1 = shapely.total_bounds(geoms)
            self.bounds = [[y0, x0], [y1, x1]] if not self.bounds else [
                [min(self.bounds[0][0], y0), min(self.bounds[0][1], x0)],
                [max(self.bounds[1][0], y1), max(self.bounds[1][1], x1)]]

    # -- layers --------------------------------------------------------------------------------------
    def _layer_coverage(self, spec: LayerSpec) -> None:
        fc, _ = data.coverage_collection(self.ctx)
        colors, breaks = spec.colors, spec.breaks

        def style(f):
            return {"fillColor": bin_color(f["properties"]["coverage_ratio"], colors, breaks), "color": "#37474f",
                    "weight": 1.2, "fillOpacity": 0.55}

        layer = folium.GeoJson(fc, name=spec.title(self.lang), style_function=style, show=spec.show,
                               on_each_feature=self._bind(spec), smooth_factor=0.5,
                               highlight_function=lambda f: {"weight": 3, "color": "#000"})
        layer.add_to(self.m)
        self.geojson_layers[spec.id] = layer
        labels = [number(b, self.lang, 1) for b in breaks[:-1]] + [""]  # the top class is open-ended
        scale = step_colormap(colors, breaks, spec.title(self.lang), labels)
        scale.add_to(self.m)
        if not self.ctx.filters.admin_unit or not self.bounds:
            self._extend(fc)
        self.coverage_fc = fc

    def _parcel_style(self, spec: LayerSpec):
        attr = self.ctx.catalogue.layer(spec.collection).attribute("status")
        colors = {k: v.color or "#3388ff" for k, v in attr.values.items()}
        weight, opacity = spec.style.get("weight", 1), spec.style.get("fill_opacity", 0.6)
        return colors, weight, opacity

    def _layer_parcels(self, spec: LayerSpec) -> None:
        ctx = self.ctx
        ls = ctx.ls(spec.collection)
        where = data.parcel_where(ctx, ls)
        n = data.count(ctx, ls, where)
        colors, weight, opacity = self._parcel_style(spec)
        name = spec.title(self.lang)
        if tiles.too_many(ctx, n):
            self._parcel_tiles(spec, colors, weight, opacity)
        else:
            if n > ctx.settings.map_inline_max_features:
                ctx.notes.append(f"{n:,} parcels are inline (above LANDFUND_MAP_INLINE_MAX_FEATURES={ctx.settings.map_inline_max_features:,}):"
                                 " the page will be large and slow to open; with --api-url they load as vector tiles")
            props = list(dict.fromkeys(["code", "status", *spec.tooltip, *spec.popup]))
            fc = data.feature_collection(ctx, ls, where, props, {"area_ha": data.area_ha(ls)})
            layer = folium.GeoJson(
                fc, name=name, show=spec.show, on_each_feature=self._bind(spec), smooth_factor=0.3,
                style_function=lambda f: {"fillColor": colors.get(f["properties"].get("status"), "#3388ff"),
                                          "color": "#263238", "weight": weight, "fillOpacity": opacity},
                highlight_function=(lambda f: {"weight": 4, "color": "#000"}) if spec.highlight else None)
            layer.add_to(self.m)
            self.geojson_layers[spec.id] = layer
            self._extend(fc)
        if spec.legend:
            attr = self.ctx.catalogue.layer(spec.collection).attribute("status")
            CategoryLegend("status", self.w("legend_status"),
                           [(colors[k], v.label(self.lang)) for k, v in attr.values.items()]).add_to(self.m)

    def _parcel_tiles(self, spec: LayerSpec, colors: dict, weight: float, opacity: float) -> None:
        """Too many parcels to inline: VectorGrid over the API's tiles, with the map's filters."""
        ctx = self.ctx
        params: dict[str, str] = {}
        if len(ctx.filters.status) == 1:
            params["status"] = ctx.filters.status[0]
        elif ctx.filters.status:
            params["filter"] = "status IN (" + ", ".join(f"'{s}'" for s in ctx.filters.status) + ")"
        if ctx.filters.admin_unit:
            params["admin_unit"] = ctx.filters.admin_unit
        style = {"by": "status", "colors": colors, "weight": weight, "fill_opacity": opacity}
        tiles.tile_layer(self, spec, style, params, pane="parcels")
        # the view: the filtered unit, else the province (the extent of a million parcels took 0.4 s)
        where, params = ("code = %s", [ctx.filters.admin_unit]) if ctx.filters.admin_unit else ("level = 'province'", [])
        row = ctx.conn.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                               f"(SELECT ST_Extent(geom) e FROM admin_units WHERE {where}) s", params).fetchone()
        if row[0] is not None:
            self.bounds = [[row[1], row[0]], [row[3], row[2]]]

    def _layer_sites(self, spec: LayerSpec) -> None:
        ctx = self.ctx
        cap = ctx.settings.map_inline_max_features
        req = suitability.Request(admin_unit=ctx.filters.admin_unit, limit=cap + 1,
                                  published_only=not ctx.principal.privileged)
        ranked = suitability.rank(ctx.conn, ctx.settings, req)
        ls = ctx.ls(spec.collection)
        where = data.parcel_where(ctx, ls, ["open_for_investment"])
        if not ctx.principal.privileged:
            where.append(ls.fields["published"].is_(True))
        if len(ranked) > cap:  # sites are inline (their score is not in the tiles): the best-ranked ones
            total, ranked = suitability.count_candidates(ctx.conn, req), ranked[:cap]
            where.append(ls.table.c.id.in_([r["id"] for r in ranked]))
            self.map_notes.append(self.w("top_sites").format(shown=number(cap, self.lang, 0),
                                                             total=number(total, self.lang, 0)))
        by_id = {r["id"]: r for r in ranked}
        props = list(dict.fromkeys(["code", *[f for f in spec.tooltip + spec.popup if f in ls.fields]]))
        pos = ls.table.c.pos
        fc = data.feature_collection(ctx, ls, where, props, {
            "area_ha": data.area_ha(ls), "_pos": func.json_build_array(func.round(func.ST_X(pos).cast(NUMERIC), 6),
                                                                       func.round(func.ST_Y(pos).cast(NUMERIC), 6))})
        for f in fc["features"]:
            r = by_id.get(f["id"])
            if r is None:
                continue
            f["properties"].update(score=r["score"], hazards=r["hazards"], est_units=r["est_units"],
                                   **{f"{k}_m": r["criteria"][k]["distance_m"] for k in ("road", "town", "school", "health")})
        colors, breaks = spec.colors, spec.breaks

        def style(f):
            return {"fillColor": bin_color(f["properties"].get("score"), colors, breaks), "color": "#263238",
                    "weight": 1.5, "fillOpacity": 0.75}

        layer = folium.GeoJson(fc, name=spec.title(self.lang), show=spec.show, on_each_feature=self._bind(spec),
                               style_function=style, highlight_function=lambda f: {"weight": 4, "color": "#000"})
        layer.add_to(self.m)
        self.geojson_layers[spec.id] = layer
        self._extend(fc)
        # Sites are a few hectares: at province scale a marker shows where each one is.
        points = {"type": "FeatureCollection", "features": [
            {**f, "geometry": {"type": "Point", "coordinates": f["properties"].pop("_pos")}} for f in fc["features"]]}
        folium.GeoJson(points, name=self.w("site_locations"), show=spec.show, on_each_feature=self._bind(spec),
                       marker=folium.CircleMarker(radius=6, fill=True, weight=1),
                       style_function=lambda f: {**style(f), "color": "#263238", "fillOpacity": 0.9}).add_to(self.m)
        if spec.legend:
            items = [(colors[i], f"{number(breaks[i] * 100, self.lang, 0)}–{number(min(breaks[i + 1], 1) * 100, self.lang, 0)}%")
                     for i in range(len(colors))]
            CategoryLegend("score", self.w("legend_score"), items[::-1]).add_to(self.m)

    def _layer_reference(self, spec: LayerSpec) -> None:
        ctx = self.ctx
        layer_def = ctx.catalogue.layer(spec.collection)
        ls = ctx.ls(spec.collection)
        by = spec.style.get("by")
        colors = {k: v.color or "#607d8b" for k, v in (layer_def.attribute(by).values or {}).items()} if by else {}
        weight, opacity = spec.style.get("weight", 2), spec.style.get("fill_opacity", 0.3)
        if tiles.too_many(ctx, data.count(ctx, ls, [ls.where])):
            kind = {"Point": "point", "LineString": "line"}.get(layer_def.geometry_type.removeprefix("Multi"), "polygon")
            tiles.tile_layer(self, spec, {"by": by, "colors": colors, "default_color": "#607d8b", "weight": weight,
                                          "fill_opacity": opacity, "geometry": kind, "radius": spec.style.get("radius", 4)},
                             name=layer_def.title(self.lang))
            return
        fc = data.feature_collection(ctx, ls, [ls.where], [a.name for a in layer_def.public_attributes])

        def style(f):
            c = colors.get(f["properties"].get(by), "#607d8b")
            return {"color": c, "fillColor": c, "weight": weight, "fillOpacity": opacity}

        marker = folium.CircleMarker(radius=spec.style.get("radius", 4), fill=True) if layer_def.geometry_type == "Point" else None
        folium.GeoJson(fc, name=layer_def.title(self.lang), show=spec.show, style_function=style, marker=marker,
                       on_each_feature=self._bind(spec)).add_to(self.m)

    def _layer_programmes(self, spec: LayerSpec) -> None:
        # the coverage layer's units and figures, when the map has one (computing them again doubled the time
        # of a planner map over a million parcels)
        fc = getattr(self, "coverage_fc", None) or data.coverage_collection(self.ctx)[0]
        group = folium.FeatureGroup(name=spec.title(self.lang), show=spec.show)
        js = self.js_spec(spec)
        for f in fc["features"]:
            p = f["properties"]
            if not p.get("programme_households"):
                continue
            radius = 4 + (p["programme_households"] ** 0.5)
            marker = folium.CircleMarker(location=p["point"], radius=radius, color=spec.color, fill=True,
                                         fill_opacity=0.5, weight=1)
            tip = "<br>".join(f"<b>{html.escape(js['labels'][k])}:</b> {self._fmt(k, p.get(k))}" for k in spec.tooltip)
            folium.Tooltip(tip).add_to(marker)
            marker.add_to(group)
        group.add_to(self.m)

    def _fmt(self, field: str, v) -> str:
        if v is None:
            return "—"
        fmt = FORMATS.get(field, {})
        if fmt.get("kind") == "billion":
            return f"{number(v / 1e9, self.lang, 3)} {self.w('vnd_billion')}"
        if isinstance(v, (int, float)):
            return number(v, self.lang, fmt.get("decimals", 2))
        return html.escape(str(v))

    # -- the site sheet ------------------------------------------------------------------------------
    def _layer_parcel(self, spec: LayerSpec) -> None:
        site.parcel_layer(self, spec)

    def _layer_neighbours(self, spec: LayerSpec) -> None:
        site.neighbours_layer(self, spec)

    def _layer_nearest(self, spec: LayerSpec) -> None:
        site.nearest_layer(self, spec)


def render(ctx: data.Context, mapdef: MapDef) -> tuple[str, OfflineFigure]:
    if ctx.lang not in ("vi", "en"):
        raise LandfundError(f"lang: use vi or en, not {ctx.lang!r}")
    fig = MapBuilder(ctx, mapdef).build()
    return fig.render(), fig
