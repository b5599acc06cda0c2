"""Mapbox vector tiles built by PostGIS (ST_AsMVT), on the WebMercatorQuad grid from morecantile.

Parcels are simplified at low zooms, never dropped without a trace: a polygon that collapses below the
tile's resolution is drawn as a point at a spot inside it, so every parcel in a tile is in the tile."""

from __future__ import annotations

from functools import lru_cache

import morecantile
from sqlalchemy import Float, Text, cast, func, literal, literal_column, select
from sqlalchemy.sql import ColumnElement, Select

from ..models.features import LayerSQL

EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 24


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


def tile_select(ls: LayerSQL, z: int, x: int, y: int, props: list[str], where: list[ColumnElement]) -> Select:
    tms = web_mercator()
    tile = morecantile.Tile(x, y, z)
    b = tms.xy_bounds(tile)
    env = func.ST_MakeEnvelope(b.left, b.bottom, b.right, b.top, 3857)
    ll = tms.bounds(tile)
    # the margin in degrees is generous; && only prunes with the GiST index, ST_AsMVTGeom clips exactly
    dlon = (ll.right - ll.left) * BUFFER / EXTENT * 2
    dlat = (ll.top - ll.bottom) * BUFFER / EXTENT * 2
    search = func.ST_MakeEnvelope(ll.left - dlon, ll.bottom - dlat, ll.right + dlon, ll.top + dlat, 4326)
    merc = func.ST_Transform(ls.geom, 3857)
    resolution = (b.right - b.left) / EXTENT
    if z < 14:
        merc = func.ST_Simplify(merc, resolution / 2, True)
    shape = func.ST_AsMVTGeom(merc, env, EXTENT, BUFFER, True)
    if ls.layer.geometry_type == "MultiPolygon":
        spot = func.ST_AsMVTGeom(func.ST_Transform(func.ST_PointOnSurface(ls.geom), 3857), env, EXTENT, BUFFER, True)
        shape = func.coalesce(shape, spot)  # ST_AsMVTGeom gives NULL for a polygon that collapses
    cols = [shape.label("geom"), ls.id.label("id")]
    cols += [_tile_value(ls.fields[n], ls.layer.attribute(n).type).label(n) for n in props]
    inner = (select(*cols).select_from(ls.table)
             .where(ls.where, ls.geom.op("&&")(search), *where).subquery("t"))
    return (select(func.ST_AsMVT(literal_column("t"), literal(ls.layer.id), EXTENT, "geom", "id"))
            .select_from(inner).where(inner.c.geom.is_not(None)))
