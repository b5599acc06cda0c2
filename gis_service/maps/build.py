"""Render a map definition: folium builds the frame, the content goes to the page as one JSON document.

`MapBuilder` turns `maps/<name>.yaml` and the data it names into a spec (layers with their features or tile
sources, styles, tooltip and popup fields with their labels, legends, controls, words), which maps.js
draws. No value from the data, the catalogue or the YAML is ever part of a template (see maps/assets.py)."""

from __future__ import annotations

import folium
from markupsafe import Markup

from ..core.errors import LandfundError
from ..core.vocabulary import LANGS
from ..i18n import FORMATS, field_label, value_labels
from . import data, layers, site
from .assets import FEATURE_ASSETS, MAP_CSS, MAP_JS, OfflineFigure, fragment
from .definition import LayerSpec, MapDef, strings
from .legend import Boot

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
        self.coverage_fc: dict | None = None  # the coverage layer's units, reused by the programme circles

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
            KINDS[spec.kind](self, spec)
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

    def add(self, spec: LayerSpec, name: str, **entry) -> dict:
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

    def extend(self, fc: dict) -> None:
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


# What draws each `kind` of layer a map definition names.
KINDS = {
    "coverage": layers.coverage,
    "parcels": layers.parcels,
    "sites": layers.sites,
    "reference": layers.reference,
    "programmes": layers.programmes,
    "parcel": site.parcel_layer,
    "neighbours": site.neighbours_layer,
    "nearest": site.nearest_layer,
}


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
