"""Feature queries for the API: one statement per page, GeoJSON built by PostGIS.

A page is one round trip: a capped count of the matches and the page's features already rendered as
GeoJSON text and joined by PostgreSQL, so Python never holds a per-feature object on this path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Text, cast, func, literal, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql import ColumnElement, Select

from ..crs import ApiCRS
from ..stores.features import LayerSQL, json_value

# Counting every match of a huge query would dominate the page; past this many, numberMatched is left
# out (the spec allows that) and an estimate from the planner is given instead.
COUNT_CAP = 100_000


@dataclass
class Selection:
    where: list[ColumnElement] = field(default_factory=list)
    order: list[tuple[ColumnElement, bool]] = field(default_factory=list)  # (expression, descending)
    properties: list[str] = field(default_factory=list)
    limit: int | None = 10
    offset: int = 0
    skip_geometry: bool = False


def out_geometry(ls: LayerSQL, crs: ApiCRS) -> ColumnElement:
    g = ls.geom
    assert g is not None  # only spatial layers are drawn
    if crs.srid != 4326:
        g = func.ST_Transform(g, crs.srid)
    if crs.lat_first:
        g = func.ST_FlipCoordinates(g)
    return g


def properties_json(ls: LayerSQL, names: list[str]) -> ColumnElement:
    args = []
    for name in names:
        args += [literal_column("'" + name.replace("'", "''") + "'"), json_value(ls, name)]
    return func.json_build_object(*args) if args else literal_column("'{}'::json")


def feature_text(ls: LayerSQL, sel: Selection, crs: ApiCRS) -> ColumnElement:
    geom = (
        literal("null")
        if sel.skip_geometry or ls.geom is None
        else func.ST_AsGeoJSON(out_geometry(ls, crs), crs.precision)
    )
    return func.concat(
        '{"type":"Feature","id":',
        ls.id,
        ',"geometry":',
        geom,
        ',"properties":',
        cast(properties_json(ls, sel.properties), Text),
        "}",
    )


def _order(keys) -> list:
    return [k.desc().nulls_last() if desc else k.asc().nulls_last() for k, desc in keys]


def _base(ls: LayerSQL, sel: Selection, *cols) -> Select:
    return select(*cols).select_from(ls.table).where(ls.where, *sel.where)


def page_select(ls: LayerSQL, sel: Selection, crs: ApiCRS, versions: bool = False) -> Select:
    """One row: (matched (capped at COUNT_CAP + 1), returned, features joined by commas in order) and, with
    `versions`, the page's feature ids and entity tags (what a desktop editor read, in the same snapshot)."""
    keys = [expr.label(f"k{i}") for i, (expr, _) in enumerate(sel.order)]
    cols = [feature_text(ls, sel, crs).label("f"), *keys]
    if versions:
        assert ls.etag is not None
        cols += [ls.id.label("fid"), ls.etag.label("etag")]
    ordered = _base(ls, sel, *cols).order_by(*_order(sel.order))
    ordered = ordered.offset(sel.offset)
    if sel.limit is not None:
        ordered = ordered.limit(sel.limit)
    inner = ordered.subquery("page")
    agg_order = _order([(inner.c[f"k{i}"], desc) for i, (_, desc) in enumerate(sel.order)])
    joined = func.string_agg(inner.c.f, aggregate_order_by(literal_column("','"), *agg_order))
    capped = _base(ls, sel, literal_column("1")).limit(COUNT_CAP + 1).subquery("c")
    matched = select(func.count()).select_from(capped).scalar_subquery()
    out = [matched.label("matched"), func.count().label("returned"), joined.label("features")]
    if versions:
        out += [func.array_agg(inner.c.fid).label("fids"), func.array_agg(inner.c.etag).label("etags")]
    return select(*out).select_from(inner)


def estimate_select(ls: LayerSQL, sel: Selection) -> Select:
    return _base(ls, sel, literal_column("1"))


def item_select(ls: LayerSQL, feature_id: int, sel: Selection, crs: ApiCRS, extra_where=()) -> Select:
    assert ls.etag is not None
    return _base(ls, sel, feature_text(ls, sel, crs).label("f"), ls.etag.label("etag")).where(
        ls.id == feature_id, *extra_where
    )


def rows_select(ls: LayerSQL, sel: Selection, crs: ApiCRS, wkt: bool = True) -> Select:
    """Plain columns (for CSV): the selected properties and the geometry as WKT."""
    cols = [ls.id.label("id"), *[ls.fields[n].label(n) for n in sel.properties]]
    if wkt and ls.geom is not None and not sel.skip_geometry:
        cols.append(func.ST_AsText(out_geometry(ls, crs), crs.precision).label("wkt"))
    q = _base(ls, sel, *cols).order_by(*_order(sel.order)).offset(sel.offset)
    return q.limit(sel.limit) if sel.limit is not None else q


def flatgeobuf_select(ls: LayerSQL, sel: Selection, crs: ApiCRS) -> Select:
    """Rows for the FlatGeobuf writer: id, the selected properties in order, geometry as WKB."""
    g = ls.geom if crs.srid == 4326 else func.ST_Transform(ls.geom, crs.srid)
    cols = [ls.fields[n].label(n) for n in sel.properties]
    q = _base(ls, sel, ls.id.label("id"), *cols, func.ST_AsBinary(g).label("geometry"))
    q = q.order_by(*_order(sel.order)).offset(sel.offset)
    return q.limit(sel.limit) if sel.limit is not None else q


def geojsonseq_select(ls: LayerSQL, sel: Selection, crs: ApiCRS) -> Select:
    q = _base(ls, sel, feature_text(ls, sel, crs).label("f")).order_by(*_order(sel.order)).offset(sel.offset)
    return q.limit(sel.limit) if sel.limit is not None else q


def extent_select(ls: LayerSQL) -> Select:
    return (
        select(
            func.ST_XMin(func.ST_Extent(ls.geom)),
            func.ST_YMin(func.ST_Extent(ls.geom)),
            func.ST_XMax(func.ST_Extent(ls.geom)),
            func.ST_YMax(func.ST_Extent(ls.geom)),
        )
        .select_from(ls.table)
        .where(ls.where)
    )
