"""The site sheet: one parcel in its neighbourhood with edge lengths, vertex coordinates in VN-2000, the nearest
facilities and road, and the parcel's facts, printable on A4 like a cadastral extract (trích lục)."""

from __future__ import annotations

import html
from datetime import date

import folium
import orjson
from branca.element import Element

from ..core.errors import NotFound
from ..models.parcels import est_units_sql
from ..security import visible_fields
from .i18n import field_label, number, value_labels
from .legend import HtmlBlock

PRINT_CSS = """
<style>
.lf-sheet { font: 12px/1.45 "DejaVu Sans", Arial, sans-serif; padding: 8px 16px; }
.lf-sheet h2 { font-size: 15px; margin: 10px 0 4px; }
.lf-sheet table { border-collapse: collapse; width: 100%; margin-bottom: 8px; }
.lf-sheet th, .lf-sheet td { border: 1px solid #999; padding: 2px 6px; text-align: left; }
.lf-sheet td.num { text-align: right; font-variant-numeric: tabular-nums; }
.lf-cols { display: flex; gap: 16px; } .lf-cols > div { flex: 1; }
.lf-edge { background: rgba(255,255,255,.85); border: 1px solid #c62828; border-radius: 3px; padding: 0 3px;
           font: 11px "DejaVu Sans", Arial, sans-serif; white-space: nowrap; }
@page { size: A4 portrait; margin: 12mm; }
@media print {
  html, body { height: auto !important; }
  .leaflet-control-container .leaflet-top, .lf-noprint { display: none !important; }
  .folium-map { height: 120mm !important; page-break-inside: avoid; }
  .lf-sheet { padding: 0; } .lf-sheet table { page-break-inside: avoid; }
}
</style>
"""

PARCEL_SQL = """
SELECT p.id, ST_AsGeoJSON(p.geom, 7), p.area_m2, {units} AS est_units, {fields}
FROM parcels p WHERE p.id = %(id)s {visible}
"""

EDGES_SQL = """
SELECT row_number() OVER () AS n, ST_Length(s.geom::geography) AS len,
       ST_X(ST_LineInterpolatePoint(s.geom, 0.5)), ST_Y(ST_LineInterpolatePoint(s.geom, 0.5))
FROM parcels p, LATERAL ST_Dump(p.geom) part, LATERAL ST_DumpSegments(ST_ExteriorRing(part.geom)) s
WHERE p.id = %(id)s
"""

VERTICES_SQL = """
SELECT row_number() OVER () AS n, ST_Y(v) AS northing, ST_X(v) AS easting, ST_X(g), ST_Y(g)
FROM (SELECT (dp).geom AS g, ST_Transform((dp).geom, 9205) AS v, (dp).path AS path
      FROM (SELECT ST_DumpPoints(ST_ExteriorRing(part.geom)) dp FROM parcels, LATERAL ST_Dump(geom) part
            WHERE id = %(id)s) d) s
WHERE path[array_length(path, 1)] > 1  -- the ring's closing point repeats its first
"""

PREVIOUS_SQL = """
SELECT ST_AsGeoJSON(old_geom, 7), at FROM parcel_history
WHERE parcel_id = %(id)s AND action IN ('update', 'transition') AND geometry_changed ORDER BY at DESC, id DESC LIMIT 1
"""

NEIGHBOURS_SQL = """
SELECT p.id, p.code, p.status, ST_AsGeoJSON(p.geom, 6) FROM parcels p, parcels me
WHERE me.id = %(id)s AND p.id <> me.id AND ST_DWithin(p.geom::geography, me.geom::geography, %(r)s) {visible}
"""

NEAREST_FACILITY_SQL = """
SELECT f.properties->>'name', ST_Distance(f.geom::geography, me.geom::geography),
       ST_AsGeoJSON(ST_ShortestLine(me.geom, f.geom), 6), ST_Y(f.geom), ST_X(f.geom)
FROM parcels me, LATERAL (SELECT geom, properties FROM reference_features
    WHERE layer = 'facilities' AND properties->>'kind' = %(kind)s ORDER BY geom <-> me.geom LIMIT 1) f
WHERE me.id = %(id)s
"""

NEAREST_ROAD_SQL = """
SELECT coalesce(r.properties->>'ref', r.properties->>'name'), ST_Distance(r.geom::geography, me.geom::geography),
       ST_AsGeoJSON(ST_ShortestLine(me.geom, r.geom), 6)
FROM parcels me, LATERAL (SELECT geom, properties FROM reference_features WHERE layer = 'roads'
                          ORDER BY geom <-> me.geom LIMIT 1) r
WHERE me.id = %(id)s
"""


def _visible(builder) -> str:
    return "" if builder.ctx.principal.privileged else "AND p.published"


def parcel_layer(builder, spec) -> None:
    ctx = builder.ctx
    layer_def = ctx.catalogue.layer(spec.collection)
    allowed = set(visible_fields(ctx.principal, ctx.ls(spec.collection)))
    stored = [f for f in spec.fields if f in allowed and f not in ("area_m2", "est_units", "area_ha")]
    q = PARCEL_SQL.format(units=est_units_sql(ctx.settings, "p"), fields=", ".join(f"p.{f}" for f in stored),
                          visible=_visible(builder))
    row = ctx.conn.execute(q, {"id": ctx.parcel_id}).fetchone()
    if row is None:
        raise NotFound(f"no parcel {ctx.parcel_id}")
    fid, geom, area, est = row[:4]
    props = dict(zip(stored, row[4:]))
    props.update(area_m2=round(area, 1), area_ha=round(area / 1e4, 4), est_units=est)
    builder.site_props = props
    style = {"color": spec.style.get("color", "#c62828"), "weight": spec.style.get("weight", 3),
             "fillOpacity": spec.style.get("fill_opacity", 0.25)}
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "id": fid, "geometry": orjson.loads(geom),
                                                     "properties": {"code": props.get("code")}}]}
    folium.GeoJson(fc, name=props.get("code") or str(fid), style_function=lambda f: style).add_to(builder.m)
    builder._extend(fc)
    previous = ctx.conn.execute(PREVIOUS_SQL, {"id": fid}).fetchone()
    if previous is not None:  # the boundary before the last change of geometry
        folium.GeoJson(orjson.loads(previous[0]), name=builder.w("previous_geometry"),
                       style_function=lambda f: {"color": "#6a1b9a", "weight": 2, "dashArray": "6 4", "fill": False},
                       tooltip=f"{builder.w('previous_geometry')} ({previous[1]:%d/%m/%Y})").add_to(builder.m)
    edges = ctx.conn.execute(EDGES_SQL, {"id": fid}).fetchall()
    for n, length, x, y in edges:
        folium.Marker([y, x], icon=folium.DivIcon(html=f'<span class="lf-edge">{number(length, builder.lang, 2)} m</span>',
                                                  icon_size=(1, 1), class_name="lf-edge-label")).add_to(builder.m)
    vertices = ctx.conn.execute(VERTICES_SQL, {"id": fid}).fetchall()
    builder.fig.header.add_child(Element(PRINT_CSS))
    HtmlBlock(_tables(builder, layer_def, props, edges, vertices)).add_to(builder.m)


def neighbours_layer(builder, spec) -> None:
    ctx = builder.ctx
    rows = ctx.conn.execute(NEIGHBOURS_SQL.format(visible=_visible(builder)), {"id": ctx.parcel_id, "r": spec.radius_m})
    features = [{"type": "Feature", "id": r[0], "geometry": orjson.loads(r[3]), "properties": {"code": r[1], "status": r[2]}}
                for r in rows]
    if not features:
        return
    style = {"color": spec.style.get("color", "#546e7a"), "weight": spec.style.get("weight", 1),
             "fillOpacity": spec.style.get("fill_opacity", 0.15)}
    folium.GeoJson({"type": "FeatureCollection", "features": features},
                   name="Khu đất lân cận" if builder.lang == "vi" else "Neighbouring parcels",
                   style_function=lambda f: style, tooltip=folium.GeoJsonTooltip(fields=["code"], labels=False)
                   ).add_to(builder.m)


def nearest_layer(builder, spec) -> None:
    ctx = builder.ctx
    kinds = ctx.catalogue.layer("facilities").attribute("kind").values or {}
    found = []
    for kind in spec.facilities:
        row = ctx.conn.execute(NEAREST_FACILITY_SQL, {"id": ctx.parcel_id, "kind": kind}).fetchone()
        if row:
            name, dist, line, lat, lon = row
            found.append((kinds[kind].label(builder.lang) if kind in kinds else kind, name, dist, line))
            folium.CircleMarker([lat, lon], radius=6, color=kinds[kind].color if kind in kinds else "#333", fill=True,
                                fill_opacity=0.9, tooltip=html.escape(name or kind)).add_to(builder.m)
    if spec.roads:
        row = ctx.conn.execute(NEAREST_ROAD_SQL, {"id": ctx.parcel_id}).fetchone()
        if row:
            found.append((builder.w("road"), row[0], row[1], row[2]))
    for _, name, dist, line in found:
        folium.GeoJson(orjson.loads(line), style_function=lambda f: {"color": "#37474f", "weight": 1.5, "dashArray": "5 4"},
                       tooltip=f"{html.escape(name or '')}: {number(dist, builder.lang, 0)} m").add_to(builder.m)
    HtmlBlock(_nearest_table(builder, found)).add_to(builder.m)


def _tables(builder, layer_def, props, edges, vertices) -> str:
    lang, ctx = builder.lang, builder.ctx
    values = value_labels(layer_def, ctx.catalogue, lang)
    rows = []
    for f, v in props.items():
        if f in values and v in values[f]:
            shown = values[f][v]
        elif isinstance(v, float):
            shown = number(v, lang, 4 if f == "area_ha" else 2)
        elif isinstance(v, int) and not isinstance(v, bool):
            shown = number(v, lang, 0)
        elif isinstance(v, date):
            shown = v.strftime("%d/%m/%Y") if lang == "vi" else v.isoformat()
        else:
            shown = "—" if v is None else str(v)
        rows.append(f"<tr><th>{html.escape(field_label(f, layer_def, builder.words, lang))}</th>"
                    f"<td>{html.escape(shown)}</td></tr>")
    edge_rows = "".join(f'<tr><td>{n}</td><td class="num">{number(length, lang, 2)}</td></tr>' for n, length, _, _ in edges)
    vertex_rows = "".join(f'<tr><td>{n}</td><td class="num">{number(north, lang, 3)}</td>'
                          f'<td class="num">{number(east, lang, 3)}</td></tr>' for n, north, east, _, _ in vertices)
    today = date.today()
    printed = today.strftime("%d/%m/%Y") if lang == "vi" else today.isoformat()
    return f"""
<div class="lf-sheet">
  <h2>{html.escape(builder.w("attributes_title"))}: {html.escape(str(props.get("code", "")))}</h2>
  <table class="lf-attributes">{''.join(rows)}</table>
  <div class="lf-cols">
    <div><h2>{html.escape(builder.w("edge"))}</h2>
      <table class="lf-edges"><tr><th>#</th><th>{html.escape(builder.w("length_m"))}</th></tr>{edge_rows}</table></div>
    <div><h2>{html.escape(builder.w("vertices_title"))}</h2>
      <table class="lf-vertices"><tr><th>{html.escape(builder.w("vertex"))}</th><th>X (m)</th><th>Y (m)</th></tr>{vertex_rows}</table>
      <small>X: {"tọa độ Bắc (northing)" if lang == "vi" else "northing"}; Y: {"tọa độ Đông (easting)" if lang == "vi" else "easting"}</small></div>
  </div>
  <p><small>{html.escape(builder.w("printed"))}: {printed}</small></p>
</div>"""


def _nearest_table(builder, found) -> str:
    rows = "".join(f'<tr><td>{html.escape(kind)}</td><td>{html.escape(name or "")}</td>'
                   f'<td class="num">{number(dist, builder.lang, 0)}</td></tr>' for kind, name, dist, _ in found)
    return (f'<div class="lf-sheet"><h2>{html.escape(builder.w("nearest_title"))}</h2><table class="lf-nearest">'
            f'<tr><th></th><th></th><th>{html.escape(builder.w("distance_m"))}</th></tr>{rows}</table></div>')
