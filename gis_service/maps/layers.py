"""One builder per layer kind of a map definition (coverage, parcels, sites, reference layers, programme
circles): each reads its data through maps/data.py and adds its entry to the map's spec with `MapBuilder.add`.
The site sheet's own kinds (the parcel, its neighbours, the nearest facilities) are in maps/site.py."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import NUMERIC

from ..analytics import suitability
from ..i18n import number
from . import data, tiles
from .definition import LayerSpec
from .legend import category_colors, class_items

if TYPE_CHECKING:
    from .build import MapBuilder


GEOMETRY = {"Point": "point", "LineString": "line", "MultiPolygon": "polygon"}


def _collection(spec: LayerSpec) -> str:
    """The collection of a layer that has one (maps/check.py makes sure it does, when the service starts)."""
    assert spec.collection is not None, f"layer {spec.id} names no collection"
    return spec.collection


def category_style(b: MapBuilder, spec: LayerSpec, layer_id: str) -> tuple[dict, dict | None]:
    """Style by a categorical field: the map's `style` over the catalogue's `style:` block; colours
    from the field's values. Returns (style, legend items source)."""
    layer_def = b.ctx.catalogue.layer(layer_id)
    style = {**layer_def.style, **spec.style}
    by = style.get("by")
    colors: dict[str, str] = {}
    labels: dict[str, str] = {}
    if by:
        values = layer_def.attribute(by).values or {}
        colors = category_colors(values)
        labels = {k: v.label(b.lang) for k, v in values.items()}
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
            "title": layer_def.attribute(by).title(b.lang)
            if spec.kind != "parcels"
            else b.w("legend_status")
            if by == "status"
            else layer_def.attribute(by).title(b.lang),
            "items": [[colors[k], labels[k]] for k in colors],
            "layer_title": layer_def.title(b.lang),
        }
    return out, legend


# -- layers --------------------------------------------------------------------------------------
def coverage(b: MapBuilder, spec: LayerSpec) -> None:
    fc, _ = data.coverage_collection(b.ctx)
    colors, breaks = spec.colors or [], spec.breaks or []
    items = [*class_items(colors, breaks, b.lang), ["#bdbdbd", b.w("no_demand")]]
    b.add(
        spec,
        spec.title(b.lang) if spec.title else "",
        data=fc,
        pane="coverage",
        geometry="polygon",
        classes={"field": "coverage_ratio", "colors": colors, "breaks": breaks, "missing": "#bdbdbd"},
        style={"stroke": "#37474f", "weight": 1.2, "fill_opacity": 0.55},
        legend={"title": spec.title(b.lang) if spec.title else "", "items": items},
    )
    if not b.ctx.filters.admin_unit or not b.spec["bounds"]:
        b.extend(fc)
    b.coverage_fc = fc


def parcels(b: MapBuilder, spec: LayerSpec) -> None:
    ctx = b.ctx
    ls = ctx.ls(_collection(spec))
    where = data.parcel_where(ctx, ls)
    n = data.count(ctx, ls, where)
    style, legend = category_style(b, spec, _collection(spec))
    name = spec.title(b.lang) if spec.title else ctx.catalogue.layer(_collection(spec)).title(b.lang)
    entry = b.add(
        spec,
        name,
        pane="parcels",
        geometry="polygon",
        style=style,
        legend=legend,
        search_fields=["code", "name", "map_sheet_no", "parcel_no", "admin_unit_code"],
    )
    if tiles.too_many(ctx, n):
        b.features.add("tiles")
        entry["tiles"] = tiles.tile_source(ctx, _collection(spec), data.tile_filters(ctx))
        b.spec["bounds"] = data.unit_bounds(ctx) or b.spec["bounds"]
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
        b.map_notes.append(b.w("no_features"))
    b.extend(fc)


def sites(b: MapBuilder, spec: LayerSpec) -> None:
    ctx = b.ctx
    cap = ctx.settings.map_inline_max_features
    asked = ctx.filters.suitability
    req = dataclasses.replace(asked) if asked is not None else suitability.Request()
    req.admin_unit = ctx.filters.admin_unit or req.admin_unit
    req.province = req.province or ctx.province_code
    req.limit, req.published_only = cap + 1, not ctx.principal.privileged
    ranked = suitability.rank(ctx.conn, ctx.settings, req)
    ls = ctx.ls(_collection(spec))
    where = data.parcel_where(ctx, ls, [ctx.catalogue.workflow.roles.call])
    if len(ranked) > cap:  # sites are inline (their score is not in the tiles): the best-ranked ones
        total, ranked = suitability.count_candidates(ctx.conn, req, ctx.settings), ranked[:cap]
        b.map_notes.append(b.w("top_sites").format(shown=number(cap, b.lang, 0), total=number(total, b.lang, 0)))
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
            "title": b.w("legend_score"),
            "items": class_items(colors, breaks, b.lang, scale=100, suffix="%", decimals=0)[::-1],
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
    b.add(
        spec,
        spec.title(b.lang) if spec.title else "",
        data=fc,
        pane="parcels",
        geometry="polygon",
        classes={"field": "score", "colors": colors, "breaks": breaks, "missing": "#bdbdbd"},
        style=style,
        legend=legend,
        markers={"name": b.w("site_locations"), "data": points, "pane": "markers"},
        search_fields=["code", "name", "map_sheet_no", "parcel_no", "admin_unit_code"],
    )
    if not fc["features"]:
        b.map_notes.append(b.w("no_sites"))
    b.extend(fc)


def reference(b: MapBuilder, spec: LayerSpec) -> None:
    ctx = b.ctx
    layer_def = ctx.catalogue.layer(_collection(spec))
    ls = ctx.ls(_collection(spec))
    style, legend = category_style(b, spec, _collection(spec))
    entry = b.add(
        spec,
        spec.title(b.lang) if spec.title else layer_def.title(b.lang),
        pane="reference",
        geometry=style["geometry"],
        style=style,
        legend=legend,
    )
    if tiles.too_many(ctx, data.count(ctx, ls, [ls.where])):
        b.features.add("tiles")
        entry["tiles"] = tiles.tile_source(ctx, _collection(spec))
        return
    entry["data"] = data.feature_collection(ctx, ls, [ls.where], [a.name for a in layer_def.public_attributes])


def programmes(b: MapBuilder, spec: LayerSpec) -> None:
    # the coverage layer's units and figures, when the map has one (computing them again doubled the time
    # of a planner map over a million parcels)
    fc = b.coverage_fc or data.coverage_collection(b.ctx)[0]
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
    b.add(
        spec,
        spec.title(b.lang) if spec.title else "",
        data=points,
        pane="markers",
        geometry="point",
        legend={
            "title": spec.title(b.lang) if spec.title else "",
            "items": [[spec.color or "#6a3d9a", b.w("programme_circle")]],
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
