"""The site sheet: one parcel in its neighbourhood with edge lengths, vertex coordinates in VN-2000, the nearest
facilities and road, hazards and the parcel's facts, printable on one A4 page like a cadastral extract
(trích lục).

Its work is bounded whatever the parcel holds: the table and the map's labels show at most
`SHEET_VERTICES` vertices (a boundary with more is simplified, within a tolerance the sheet states), the
drawn outline at most `DRAW_VERTICES`, and at most `MAX_NEIGHBOURS` neighbours."""

from __future__ import annotations

from datetime import date

import orjson

from ..core.errors import NotFound
from ..crs import zone_label
from ..i18n import day, field_label, number, shown, value_labels
from ..security import visible_fields
from ..stores.history import HistoryStore
from ..stores.parcels import ParcelStore
from ..stores.provinces import ProvinceStore
from ..stores.reference import ReferenceStore
from .assets import fragment

SHEET_VERTICES = 60  # a table that fits the page beside the map, and labels that stay legible
DRAW_VERTICES = 2000  # far more than a screen shows at any zoom of one parcel
MAX_NEIGHBOURS = 200
# Simplification tolerances tried, in metres: the first that brings the boundary under the limit is used.
TOLERANCES_M = (0.0, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 25.0)
M_PER_DEG = 111_320.0


def _public_only(builder) -> bool:
    return not builder.ctx.principal.privileged


def simplified_boundary(conn, fid: int, limit: int) -> tuple[float, str, int]:
    return ParcelStore(conn).simplified(fid, limit, TOLERANCES_M, M_PER_DEG)


def _fc(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}


def parcel_layer(builder, spec) -> None:
    ctx = builder.ctx
    layer_def = ctx.catalogue.layer(spec.collection)
    allowed = set(visible_fields(ctx.principal, ctx.ls(spec.collection)))
    stored = [f for f in spec.fields if f in allowed and f not in ("area_m2", "est_units", "area_ha")]
    parcels = ParcelStore(ctx.conn)
    row = parcels.sheet(ctx.parcel_id, stored, ctx.settings, _public_only(builder))
    if row is None:
        raise NotFound(f"no parcel {ctx.parcel_id}")
    fid, area, est, npoints, hazards = row[:5]
    props = dict(zip(stored, row[5:]))
    props.update(area_m2=round(area, 1), area_ha=round(area / 1e4, 4), est_units=est)
    builder.site_props = props
    _, drawn, _ = simplified_boundary(ctx.conn, fid, DRAW_VERTICES)
    tolerance, table_geom, table_points = simplified_boundary(ctx.conn, fid, SHEET_VERTICES)
    edges = parcels.edges(table_geom)
    srid = ProvinceStore(ctx.conn).of_parcel(ctx.catalogue, fid).cadastral_srid  # the parcel's own VN-2000 zone
    vertices = parcels.vertices(table_geom, srid)
    style = {
        "stroke": spec.style.get("color", "#c62828"),
        "weight": spec.style.get("weight", 3),
        "fill_opacity": spec.style.get("fill_opacity", 0.25),
        "default_color": spec.style.get("color", "#c62828"),
    }
    fc = _fc(
        [{"type": "Feature", "id": fid, "geometry": orjson.loads(drawn), "properties": {"code": props.get("code")}}]
    )
    builder.spec["layers"].append(
        {
            "id": spec.id,
            "kind": "parcel",
            "name": str(props.get("code") or fid),
            "show": True,
            "data": fc,
            "tiles": None,
            "legend": None,
            "pane": "parcels",
            "geometry": "polygon",
            "style": style,
            "bind": None,
        }
    )
    builder.extend(fc)
    previous = HistoryStore(ctx.conn).previous_geometry(fid, 0.5 / M_PER_DEG)
    if previous is not None:  # the boundary before the last change of geometry
        when = previous[1].strftime("%d/%m/%Y") if builder.lang == "vi" else previous[1].date().isoformat()
        builder.spec["layers"].append(
            {
                "id": "previous",
                "kind": "previous",
                "name": builder.w("previous_geometry"),
                "show": True,
                "data": _fc(
                    [
                        {
                            "type": "Feature",
                            "geometry": orjson.loads(previous[0]),
                            "properties": {"label": f"{builder.w('previous_geometry')} ({when})"},
                        }
                    ]
                ),
                "tiles": None,
                "legend": None,
                "pane": "parcels",
                "geometry": "line",
                "bind": None,
                "style": {"default_color": "#6a1b9a", "weight": 2, "dash": "6 4", "fill": False},
            }
        )
    builder.spec["labels"] += [
        {"kind": "edge", "lat": y, "lon": x, "text": f"{number(length, builder.lang, 2)} m"}
        for _, length, x, y in edges
    ]
    builder.spec["labels"] += [
        {"kind": "vertex", "lat": lat, "lon": lon, "text": str(n)} for n, _, _, lon, lat in vertices
    ]
    builder.spec["focus"] = "parcel"
    builder.fig.after += _tables(
        builder, layer_def, props, edges, vertices, hazards or [], npoints, table_points, tolerance, srid
    )


def neighbours_layer(builder, spec) -> None:
    ctx = builder.ctx
    rows = ParcelStore(ctx.conn).neighbours(
        ctx.parcel_id, spec.radius_m, _public_only(builder), MAX_NEIGHBOURS, M_PER_DEG
    )
    features = [
        {"type": "Feature", "id": r[0], "geometry": orjson.loads(r[3]), "properties": {"code": r[1], "status": r[2]}}
        for r in rows
    ]
    if not features:
        return
    builder.spec["layers"].append(
        {
            "id": spec.id,
            "kind": "neighbours",
            "name": builder.w("neighbours"),
            "show": True,
            "data": _fc(features),
            "tiles": None,
            "legend": None,
            "pane": "reference",
            "geometry": "polygon",
            "style": {
                "stroke": spec.style.get("color", "#546e7a"),
                "default_color": spec.style.get("color", "#546e7a"),
                "weight": spec.style.get("weight", 1),
                "fill_opacity": spec.style.get("fill_opacity", 0.15),
            },
            "bind": {
                "tooltip": ["code"],
                "popup": [],
                "labels": {"code": ""},
                "values": {},
                "formats": {},
                "links": [],
                "lang": builder.lang,
                "plain": True,
            },
        }
    )


def nearest_layer(builder, spec) -> None:
    ctx = builder.ctx
    kinds: dict = {}
    for facilities in ctx.catalogue.with_role("facility"):
        kinds.update(facilities.attribute(facilities.role_by or "").values or {})
    found = []
    points = []
    for kind in spec.facilities:
        row = ReferenceStore(ctx.conn).nearest_facility(ctx.parcel_id, kind)
        if row:
            name, dist, line, lat, lon = row
            label = kinds[kind].label(builder.lang) if kind in kinds else kind
            found.append((label, name, dist, line))
            points.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": {
                        "label": f"{label}: {name or ''}",
                        "color": kinds[kind].color if kind in kinds and kinds[kind].color else "#333",
                    },
                }
            )
    if spec.roads:
        row = ReferenceStore(ctx.conn).nearest_road(ctx.parcel_id)
        if row:
            found.append((builder.w("road"), row[0], row[1], row[2]))
    lines = [
        {
            "type": "Feature",
            "geometry": orjson.loads(line),
            "properties": {"label": f"{kind}: {name or ''}, {number(dist, builder.lang, 0)} m"},
        }
        for kind, name, dist, line in found
    ]
    builder.spec["layers"].append(
        {
            "id": spec.id,
            "kind": "nearest",
            "name": builder.w("nearest_title"),
            "show": True,
            "data": _fc(lines + points),
            "tiles": None,
            "legend": None,
            "pane": "markers",
            "geometry": "mixed",
            "style": {"default_color": "#37474f", "weight": 1.5, "dash": "5 4", "radius": 6},
            "bind": None,
        }
    )
    builder.fig.after += fragment(
        "site_nearest.html",
        title=builder.w("nearest_title"),
        distance=builder.w("distance_m"),
        rows=[(kind, name or "", number(dist, builder.lang, 0)) for kind, name, dist, _ in found],
    )


def _tables(builder, layer_def, props, edges, vertices, hazards, npoints, table_points, tolerance, srid):
    lang, ctx = builder.lang, builder.ctx
    values = value_labels(layer_def, ctx.catalogue, lang)
    units = builder.spec.get("units") or {}
    rows = [
        (field_label(f, layer_def, builder.words, lang), shown(f, v, lang, values, units, 4 if f == "area_ha" else 2))
        for f, v in props.items()
    ]
    hazard_values: dict = {}
    for hazard_layer in ctx.catalogue.with_role("hazard"):
        for k, v in value_labels(hazard_layer, ctx.catalogue, lang).items():
            hazard_values.setdefault(k, v)
    hazard_rows = [
        f"{hazard_values.get('hazard', {}).get(h.get('hazard'), h.get('hazard'))} "
        f"({hazard_values.get('severity', {}).get(h.get('severity'), h.get('severity'))})"
        + (f": {h['name']}" if h.get("name") else "")
        for h in hazards
    ]
    simplified = None
    if tolerance and tolerance > 0:
        simplified = builder.w("vertices_simplified").format(
            total=number(npoints, lang, 0), shown=number(table_points, lang, 0), tolerance=number(tolerance, lang, 2)
        )
    return fragment(
        "site_sheet.html",
        w={
            k: builder.w(k).replace("{zone}", zone_label(srid, builder.lang))
            for k in (
                "attributes_title",
                "edge",
                "length_m",
                "vertices_title",
                "vertex",
                "printed",
                "hazards",
                "no_hazard",
                "northing",
                "easting",
            )
        },
        code=str(props.get("code", "")),
        rows=rows,
        hazards=hazard_rows,
        simplified=simplified,
        edges=[(n, number(length, lang, 2)) for n, length, _, _ in edges],
        vertices=[(n, number(north, lang, 3), number(east, lang, 3)) for n, north, east, _, _ in vertices],
        printed=day(date.today(), lang),
    )
