"""Mapbox vector tiles built by PostGIS (ST_AsMVT), on the WebMercatorQuad grid from morecantile.

Parcels are simplified at low zooms, never dropped without a trace: a polygon that collapses below the
tile's resolution is drawn as a point at a spot inside it, so every parcel in a tile is in the tile."""

from __future__ import annotations

from functools import lru_cache

import morecantile
from sqlalchemy import Float, Text, bindparam, cast, func, literal, literal_column, select
from sqlalchemy.sql import ColumnElement, Select

from ..stores.features import LayerSQL

EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 24
# Below this zoom, polygons are simplified (half a pixel) before ST_AsMVTGeom snaps them to the tile grid;
# from it on, parcels span few pixels and the snapping alone gives the same tile for less work.
SIMPLIFY_BELOW = 10


@lru_cache(maxsize=1)
def web_mercator() -> morecantile.TileMatrixSet:
    return morecantile.tms.get("WebMercatorQuad")


def valid_tile(z: int, x: int, y: int) -> bool:
    return 0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z


def _tile_value(expr: ColumnElement, type_: str) -> ColumnElement:
    """MVT values are strings, numbers or booleans: dates become ISO text, numerics float."""
    if type_ == "date":
        return cast(expr, Text)
    if type_ == "number":
        return cast(expr, Float)
    return expr


def tile_params(z: int, x: int, y: int) -> dict[str, float]:
    """The bound values of a tile statement: its envelope in EPSG:3857, a search box in EPSG:4326 wide enough
    for the buffer (&& only prunes with the GiST index; ST_AsMVTGeom clips exactly), and the simplification
    tolerance (half a tile pixel)."""
    tms = web_mercator()
    tile = morecantile.Tile(x, y, z)
    b = tms.xy_bounds(tile)
    ll = tms.bounds(tile)
    dlon = (ll.right - ll.left) * BUFFER / EXTENT * 2
    dlat = (ll.top - ll.bottom) * BUFFER / EXTENT * 2
    return {
        "ex0": b.left,
        "ey0": b.bottom,
        "ex1": b.right,
        "ey1": b.top,
        "sx0": ll.left - dlon,
        "sy0": ll.bottom - dlat,
        "sx1": ll.right + dlon,
        "sy1": ll.top + dlat,
        "tolerance": (b.right - b.left) / EXTENT / 2,
    }


def tile_select(ls: LayerSQL, simplify: bool, props: tuple[str, ...], where: list[ColumnElement]) -> Select:
    """The tile statement, with the tile's numbers left as bound parameters (see tile_params), so one
    statement serves every tile of its kind."""
    env = func.ST_MakeEnvelope(bindparam("ex0"), bindparam("ey0"), bindparam("ex1"), bindparam("ey1"), 3857)
    search = func.ST_MakeEnvelope(bindparam("sx0"), bindparam("sy0"), bindparam("sx1"), bindparam("sy1"), 4326)
    merc = func.ST_Transform(ls.geom, 3857)
    if simplify:
        merc = func.ST_Simplify(merc, bindparam("tolerance"), True)
    shape = func.ST_AsMVTGeom(merc, env, EXTENT, BUFFER, True)
    if ls.layer.geometry_type == "MultiPolygon":
        spot = func.ST_AsMVTGeom(func.ST_Transform(func.ST_PointOnSurface(ls.geom), 3857), env, EXTENT, BUFFER, True)
        shape = func.coalesce(shape, spot)  # ST_AsMVTGeom gives NULL for a polygon that collapses
    cols = [shape.label("geom"), ls.id.label("id")]
    cols += [_tile_value(ls.fields[n], ls.layer.attribute(n).type).label(n) for n in props]
    assert ls.geom is not None  # tiles are of spatial layers
    inner = select(*cols).select_from(ls.table).where(ls.where, ls.geom.op("&&")(search), *where).subquery("t")
    # ST_AsMVT skips rows whose geometry is NULL (outside the tile). A WHERE geom IS NOT NULL here would be
    # pushed into the scan and make PostgreSQL compute every ST_AsMVTGeom twice.
    return select(func.ST_AsMVT(literal_column("t"), literal(ls.layer.id), EXTENT, "geom", "id")).select_from(inner)


def tile_statement(
    ls: LayerSQL, z: int, props: tuple[str, ...], where: list[ColumnElement], key: tuple | None
) -> Select:
    """tile_select, built once per `key` (layer, zoom band, properties and who may see what) when the request
    has no filters of its own; building the expression took longer than PostGIS takes for a sparse tile."""
    simplify = z < SIMPLIFY_BELOW
    if key is None:
        return tile_select(ls, simplify, props, where)
    full = ("tile", simplify, props, *key)
    stmt = ls.statements.get(full)
    if stmt is None:
        stmt = ls.statements[full] = tile_select(ls, simplify, props, where)
    return stmt
