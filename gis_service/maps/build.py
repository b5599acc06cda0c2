"""Render a map definition: folium builds the frame, the content goes to the page as one JSON document.

`MapBuilder` turns `maps/<name>.yaml` and the data it names into a spec (layers with their features or tile
sources, styles, tooltip and popup fields with their labels, legends, controls, words), which maps.js
draws. No value from the data, the catalogue or the YAML is ever part of a template (see maps/assets.py)."""

from __future__ import annotations

import dataclasses

import folium
from markupsafe import Markup
from sqlalchemy import func
from sqlalchemy.dialects.postgresql import NUMERIC

from ..analytics import suitability
from ..core.errors import LandfundError
from ..core.vocabulary import LANGS
from ..i18n import FORMATS, field_label, number, value_labels
from . import data, site, tiles
from .assets import FEATURE_ASSETS, MAP_CSS, MAP_JS, OfflineFigure, fragment
from .definition import LayerSpec, MapDef, strings
from .legend import Boot, category_colors, class_items

OSM = ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "© OpenStreetMap contributors")
OSM_COPYRIGHT = "https://www.openstreetmap.org/copyright"
DEFAULT_VIEW = ([21.7, 103.0], 8)


def basemap(settings, name: str) -> dict | None:
    """The basemap the settings choose (LANDFUND_MAP_BASEMAP): OpenStreetMap, an intranet tile server, or none."""
    choice = settings.map_basemap.strip()
    if choice.lower() == "none":
        return None
    if choice.lower() == "osm":
        return {"url": OSM[0], "attribution": OSM[1], "attribution_url": OSM_COPYRIGHT, "name": name}
    return {
        "url": choice,
        "attribution": settings.map_basemap_attribution or choice,
        "attribution_url": None,
        "name": name,
    }


GEOMETRY = {"Point": "point", "LineString": "line", "MultiPolygon": "polygon"}
# Panes (z-index) so that sites and parcels are always drawn, and clicked, above reference layers and the
# choropleth: overlays 400, reference layers 420, parcels 450, site markers 460.
PANES = {"coverage": 400, "reference": 420, "parcels": 450, "markers": 460}
WORDS = (
    "no_hazard",
    "vnd_billion",
    "search",
    "not_found",
    "layers",
    "fullscreen",
    "fullscreen_exit",
    "measure",
    "measure_length",
    "measure_area",
    "measure_finish",
    "measure_clear",
    "measure_hint",
    "minimap_show",
    "minimap_hide",
    "basemap",
    "basemap_offline",
    "no_features",
    "hazard_here",
    "search_results",
    "zoom_in",
    "zoom_out",
    "legend_toggle",
    "offline_context",
    "offline_base",
)


def _collection(spec: LayerSpec) -> str:
    """The collection of a layer that has one (maps/check.py makes sure it does, when the service starts)."""
    assert spec.collection is not None, f"layer {spec.id} names no collection"
    return spec.collection


class MapBuilder:
    def __init__(self, ctx: data.Context, mapdef: MapDef):
        self.ctx = ctx
        self.mapdef = mapdef
        self.lang = ctx.lang
        self.words = strings(ctx.settings.maps_dir)
        self.features: set[str] = set()  # map features whose assets the page needs (tiles, minimap, …)
        self.spec: dict = {
            "id": mapdef.id,
            "lang": self.lang,
            "layers": [],
            "bounds": None,
            "notes": [],
            "controls": list(mapdef.controls),
            "search": None,
            "focus": None,
            "labels": [],
        }
        self.map_notes: list[str] = []  # shown under the title

    def w(self, key: str) -> str:
        return self.words[key](self.lang)

    # -- the frame ---------------------------------------------------------------------------------
    def build(self) -> OfflineFigure:
        title = self.mapdef.title(self.lang)
        self.fig = OfflineFigure(
            self.ctx.asset_base, title=title, lang=self.lang, nonce=self.ctx.nonce, map_id=self.mapdef.id
        )
        if self.ctx.nav:
            self.fig.nav = Markup(self.ctx.nav)  # rendered by pages.render with autoescape: no data as source
        self.m = folium.Map(
            location=DEFAULT_VIEW[0],
            zoom_start=DEFAULT_VIEW[1],
            tiles=None,
            prefer_canvas=True,
            height=self.mapdef.view.get("height", "100%"),
        )
        self.fig.add_child(self.m)
        self.spec["basemap"] = self._basemap()
        self.spec["units"] = data.unit_names(self.ctx)
        for spec in self.mapdef.layers:
            getattr(self, f"_layer_{spec.kind}")(spec)
        if self.spec["bounds"] is None:  # nothing matched: show the unit asked for, else the province
            self.spec["bounds"] = data.unit_bounds(self.ctx)
        if "fullscreen" in self.mapdef.controls:
            self.features.add("fullscreen")
        if "minimap" in self.mapdef.controls and self.spec["basemap"]:
            self.features.add("minimap")
        self._search()
        if self.mapdef.id != "site":  # a site sheet is one parcel: the offline context of a province is not its scale
            self.spec["context"] = data.context_collection(self.ctx)
        self.spec["words"] = {k: self.w(k) for k in WORDS}
        self.spec["title"] = self._title()
        js, css = list(MAP_JS), list(MAP_CSS)
        for feature in sorted(self.features):
            more_js, more_css = FEATURE_ASSETS[feature]
            js += [(n, n) for n in more_js]
            css += [(n, n) for n in more_css]
        self.m.default_js = [*js, ("landfund_js", "landfund_js")]
        self.m.default_css = css
        Boot().add_to(self.m)
        self.fig.spec = self.spec
        return self.fig

    def _basemap(self) -> dict | None:
        return basemap(self.ctx.settings, self.w("basemap"))

    def _title(self) -> dict:
        sub = self.mapdef.description(self.lang) if self.mapdef.description else ""
        if self.ctx.filters.as_of:
            sub += f" · {self.w('as_of')}: {self.ctx.filters.as_of.strftime('%d/%m/%Y' if self.lang == 'vi' else '%Y-%m-%d')}"
        notes = [self.w("schematic")] if data.province_note_needed(self.ctx) else []
        block = {"title": self.mapdef.title(self.lang), "sub": sub, "notes": notes + self.map_notes}
        self.fig.after += fragment("title.html", lang=self.lang, **block)
        return block

    def _search(self) -> None:
        searchable = [s for s in self.mapdef.layers if s.search]
        if not searchable or "search" not in self.mapdef.controls:
            return
        spec = searchable[0]
        entry = next((la for la in self.spec["layers"] if la["id"] == spec.id), None)
        if entry is None:
            return
        api = None
        if entry.get("tiles") and self.ctx.api_base is not None:
            api = f"{self.ctx.api_base}/collections/{spec.collection}/items"
        self.spec["search"] = {"layer": spec.id, "api": api, "bind": entry["bind"]}

    # -- specs for the browser -----------------------------------------------------------------------
    def js_spec(self, spec: LayerSpec) -> dict:
        """What maps.js needs to write a layer's tooltips and popups: fields, their labels and formats,
        value labels and links."""
        layer = self.ctx.catalogue.layers.get(_collection(spec)) if spec.collection else None
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
            if f == "admin_unit_code":
                fmt = {"kind": "unit"}
            formats[f] = fmt
        links = []
        if self.ctx.api_base is not None:
            templates = {
                "api_item": f"{self.ctx.api_base}/collections/{spec.collection}/items/{{id}}?f=html",
                "site_sheet": f"{self.ctx.api_base}/maps/parcels/{{id}}?lang={self.lang}",
                "interest": f"{self.ctx.api_base}/interests/new?parcel={{id}}&lang={self.lang}",
            }
            links = [{"label": self.w(k), "href": templates[k]} for k in spec.links]
        return {
            "lang": self.lang,
            "tooltip": spec.tooltip,
            "popup": spec.popup,
            "highlight": spec.highlight,
            "labels": {f: field_label(f, layer, self.words, self.lang) for f in fields},
            "values": value_labels(layer, self.ctx.catalogue, self.lang),
            "formats": formats,
            "links": links,
        }

    def _add(self, spec: LayerSpec, name: str, **entry) -> dict:
        layer = {
            "id": spec.id,
            "kind": spec.kind,
            "name": name,
            "show": spec.show,
            "data": None,
            "tiles": None,
            "legend": None,
            "bind": self.js_spec(spec),
            **entry,
        }
        self.spec["layers"].append(layer)
        return layer

    def _extend(self, fc: dict) -> None:
        import orjson
        import shapely

        geoms = [shapely.from_geojson(orjson.dumps(f["geometry"])) for f in fc["features"] if f.get("geometry")]
        if geoms:
            x0, y0, x1, y1 = shapely.total_bounds(geoms)
            b = self.spec["bounds"]
            self.spec["bounds"] = (
                [[y0, x0], [y1, x1]]
                if not b
                else [[min(b[0][0], y0), min(b[0][1], x0)], [max(b[1][0], y1), max(b[1][1], x1)]]
            )

    def _category_style(self, spec: LayerSpec, layer_id: str) -> tuple[dict, dict | None]:
        """Style by a categorical field: the map's `style` over the catalogue's `style:` block; colours
        from the field's values. Returns (style, legend items source)."""
        layer_def = self.ctx.catalogue.layer(layer_id)
        style = {**layer_def.style, **spec.style}
        by = style.get("by")
        colors: dict[str, str] = {}
        labels: dict[str, str] = {}
        if by:
            values = layer_def.attribute(by).values or {}
            colors = category_colors(values)
            labels = {k: v.label(self.lang) for k, v in values.items()}
        out = {
            "by": by,
            "colors": colors,
            "default_color": style.get("color", "#607d8b"),
            "stroke": style.get("stroke"),
            "weight": style.get("weight", 2),
            "fill_opacity": style.get("fill_opacity", 0.3),
            "radius": style.get("radius", 4),
            "dash": style.get("dash"),
            "geometry": GEOMETRY.get(layer_def.geometry_type, "polygon"),
        }
        legend = None
        if spec.legend and by:
            legend = {
                "title": layer_def.attribute(by).title(self.lang)
                if spec.kind != "parcels"
                else self.w("legend_status")
                if by == "status"
                else layer_def.attribute(by).title(self.lang),
                "items": [[colors[k], labels[k]] for k in colors],
                "layer_title": layer_def.title(self.lang),
            }
        return out, legend

    # -- layers --------------------------------------------------------------------------------------
    def _layer_coverage(self, spec: LayerSpec) -> None:
        fc, _ = data.coverage_collection(self.ctx)
        colors, breaks = spec.colors or [], spec.breaks or []
        items = [*class_items(colors, breaks, self.lang), ["#bdbdbd", self.w("no_demand")]]
        self._add(
            spec,
            spec.title(self.lang) if spec.title else "",
            data=fc,
            pane="coverage",
            geometry="polygon",
            classes={"field": "coverage_ratio", "colors": colors, "breaks": breaks, "missing": "#bdbdbd"},
            style={"stroke": "#37474f", "weight": 1.2, "fill_opacity": 0.55},
            legend={"title": spec.title(self.lang) if spec.title else "", "items": items},
        )
        if not self.ctx.filters.admin_unit or not self.spec["bounds"]:
            self._extend(fc)
        self.coverage_fc = fc

    def _layer_parcels(self, spec: LayerSpec) -> None:
        ctx = self.ctx
        ls = ctx.ls(_collection(spec))
        where = data.parcel_where(ctx, ls)
        n = data.count(ctx, ls, where)
        style, legend = self._category_style(spec, _collection(spec))
        name = spec.title(self.lang) if spec.title else ctx.catalogue.layer(_collection(spec)).title(self.lang)
        entry = self._add(
            spec,
            name,
            pane="parcels",
            geometry="polygon",
            style=style,
            legend=legend,
            search_fields=["code", "name", "map_sheet_no", "parcel_no", "admin_unit_code"],
        )
        if tiles.too_many(ctx, n):
            self.features.add("tiles")
            entry["tiles"] = tiles.tile_source(ctx, _collection(spec), data.tile_filters(ctx))
            self.spec["bounds"] = data.unit_bounds(ctx) or self.spec["bounds"]
            return
        if n > ctx.settings.map_inline_max_features:
            ctx.notes.append(
                f"{n:,} parcels are inline (above LANDFUND_MAP_INLINE_MAX_FEATURES="
                f"{ctx.settings.map_inline_max_features:,}): the page will be large and slow to open; "
                "with --api-url they load as vector tiles"
            )
        props = list(
            dict.fromkeys(
                [
                    "code",
                    "status",
                    "name",
                    "map_sheet_no",
                    "parcel_no",
                    "admin_unit_code",
                    *([style["by"]] if style["by"] else []),
                    *spec.tooltip,
                    *spec.popup,
                ]
            )
        )
        fc = data.feature_collection(ctx, ls, where, props, {"area_ha": data.area_ha(ls)})
        entry["data"] = fc
        if not fc["features"]:
            self.map_notes.append(self.w("no_features"))
        self._extend(fc)

    def _layer_sites(self, spec: LayerSpec) -> None:
        ctx = self.ctx
        cap = ctx.settings.map_inline_max_features
        asked = ctx.filters.suitability
        req = dataclasses.replace(asked) if asked is not None else suitability.Request()
        req.admin_unit = ctx.filters.admin_unit or req.admin_unit
        req.limit, req.published_only = cap + 1, not ctx.principal.privileged
        ranked = suitability.rank(ctx.conn, ctx.settings, req)
        ls = ctx.ls(_collection(spec))
        where = data.parcel_where(ctx, ls, [ctx.catalogue.workflow.roles.call])
        if len(ranked) > cap:  # sites are inline (their score is not in the tiles): the best-ranked ones
            total, ranked = suitability.count_candidates(ctx.conn, req, ctx.settings), ranked[:cap]
            self.map_notes.append(
                self.w("top_sites").format(shown=number(cap, self.lang, 0), total=number(total, self.lang, 0))
            )
        where.append(ls.table.c.id.in_([r["id"] for r in ranked] or [-1]))
        by_id = {r["id"]: r for r in ranked}
        props = list(
            dict.fromkeys(
                [
                    "code",
                    "name",
                    "map_sheet_no",
                    "parcel_no",
                    "admin_unit_code",
                    *[f for f in spec.tooltip + spec.popup if f in ls.fields],
                ]
            )
        )
        pos = ls.table.c.pos
        fc = data.feature_collection(
            ctx,
            ls,
            where,
            props,
            {
                "area_ha": data.area_ha(ls),
                "_pos": func.json_build_array(
                    func.round(func.ST_X(pos).cast(NUMERIC), 6), func.round(func.ST_Y(pos).cast(NUMERIC), 6)
                ),
            },
        )
        for f in fc["features"]:
            r = by_id.get(f["id"])
            if r is None:
                continue
            f["properties"].update(
                score=r["score"],
                hazards=r["hazards"],
                est_units=r["est_units"],
                **{f"{k}_m": r["criteria"][k]["distance_m"] for k in ("road", "town", "school", "health")},
            )
        colors, breaks = spec.colors or [], spec.breaks or []
        points = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "id": f["id"],
                    "geometry": {"type": "Point", "coordinates": f["properties"].pop("_pos")},
                    "properties": f["properties"],
                }
                for f in fc["features"]
            ],
        }
        legend = (
            {
                "title": self.w("legend_score"),
                "items": class_items(colors, breaks, self.lang, scale=100, suffix="%", decimals=0)[::-1],
            }
            if spec.legend
            else None
        )
        style = {
            **spec.style,
            "stroke": "#263238",
            "weight": spec.style.get("weight", 1.5),
            "fill_opacity": spec.style.get("fill_opacity", 0.75),
        }
        self._add(
            spec,
            spec.title(self.lang) if spec.title else "",
            data=fc,
            pane="parcels",
            geometry="polygon",
            classes={"field": "score", "colors": colors, "breaks": breaks, "missing": "#bdbdbd"},
            style=style,
            legend=legend,
            markers={"name": self.w("site_locations"), "data": points, "pane": "markers"},
            search_fields=["code", "name", "map_sheet_no", "parcel_no", "admin_unit_code"],
        )
        if not fc["features"]:
            self.map_notes.append(self.w("no_sites"))
        self._extend(fc)

    def _layer_reference(self, spec: LayerSpec) -> None:
        ctx = self.ctx
        layer_def = ctx.catalogue.layer(_collection(spec))
        ls = ctx.ls(_collection(spec))
        style, legend = self._category_style(spec, _collection(spec))
        entry = self._add(
            spec,
            spec.title(self.lang) if spec.title else layer_def.title(self.lang),
            pane="reference",
            geometry=style["geometry"],
            style=style,
            legend=legend,
        )
        if tiles.too_many(ctx, data.count(ctx, ls, [ls.where])):
            self.features.add("tiles")
            entry["tiles"] = tiles.tile_source(ctx, _collection(spec))
            return
        entry["data"] = data.feature_collection(ctx, ls, [ls.where], [a.name for a in layer_def.public_attributes])

    def _layer_programmes(self, spec: LayerSpec) -> None:
        # the coverage layer's units and figures, when the map has one (computing them again doubled the time
        # of a planner map over a million parcels)
        fc = getattr(self, "coverage_fc", None) or data.coverage_collection(self.ctx)[0]
        points = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "id": f["id"],
                    "properties": f["properties"],
                    "geometry": {"type": "Point", "coordinates": f["properties"]["point"][::-1]},
                }
                for f in fc["features"]
                if f["properties"].get("programme_households")
            ],
        }
        self._add(
            spec,
            spec.title(self.lang) if spec.title else "",
            data=points,
            pane="markers",
            geometry="point",
            legend={
                "title": spec.title(self.lang) if spec.title else "",
                "items": [[spec.color or "#6a3d9a", self.w("programme_circle")]],
                "round": True,
            }
            if spec.legend
            else None,
            style={
                "default_color": spec.color or "#6a3d9a",
                "radius_by": "programme_households",
                "fill_opacity": 0.5,
                "weight": 1,
            },
        )

    # -- the site sheet ------------------------------------------------------------------------------
    def _layer_parcel(self, spec: LayerSpec) -> None:
        site.parcel_layer(self, spec)

    def _layer_neighbours(self, spec: LayerSpec) -> None:
        site.neighbours_layer(self, spec)

    def _layer_nearest(self, spec: LayerSpec) -> None:
        site.nearest_layer(self, spec)


def check_filters(ctx: data.Context, mapdef: MapDef) -> None:
    """The filters a map was given are ones it takes, with values the catalogue knows."""
    given = {"admin_unit": ctx.filters.admin_unit, "status": ctx.filters.status or None, "as_of": ctx.filters.as_of}
    for name, value in given.items():
        if value is not None and name not in mapdef.filters:
            raise LandfundError(
                f"map {mapdef.id} does not take {name}; it takes: {', '.join(mapdef.filters) or 'none'}"
            )
    known = ctx.catalogue.layer("parcels").attribute("status").values or {}
    bad = [s for s in ctx.filters.status if s not in known]
    if bad:
        raise LandfundError(f"status: unknown {', '.join(map(repr, bad))}; use {', '.join(known)}")
    if ctx.filters.admin_unit and not data.unit_names(ctx).get(ctx.filters.admin_unit):
        raise LandfundError(f"admin_unit: unknown administrative unit {ctx.filters.admin_unit!r}")


def render(ctx: data.Context, mapdef: MapDef) -> tuple[str, OfflineFigure]:
    if ctx.lang not in LANGS:
        raise LandfundError(f"lang: use one of {', '.join(LANGS)}, not {ctx.lang!r}")
    check_filters(ctx, mapdef)
    fig = MapBuilder(ctx, mapdef).build()
    return fig.render(), fig
