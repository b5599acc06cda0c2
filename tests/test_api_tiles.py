"""Vector tiles (OGC API – Tiles): decoded with mapbox-vector-tile and checked against PostGIS."""

from __future__ import annotations

import mapbox_vector_tile
import morecantile
import psycopg
import pytest
from conftest import token_for

from gis_service.core.db import libpq_dsn

TMS = morecantile.tms.get("WebMercatorQuad")


def in_tile(url: str, z: int, x: int, y: int, where: str = "published", buffer: int = 0) -> set[int]:
    """Parcels meeting the tile (or the tile grown by `buffer` of its 4096 pixels, as MVT tiles are)."""
    b = TMS.xy_bounds(morecantile.Tile(x, y, z))
    pad = (b.right - b.left) * buffer / 4096
    with psycopg.connect(libpq_dsn(url)) as c:
        rows = c.execute(
            f"SELECT id FROM parcels WHERE {where} AND ST_Intersects(ST_Transform(geom, 3857), "
            "ST_MakeEnvelope(%s, %s, %s, %s, 3857))",
            [b.left - pad, b.bottom - pad, b.right + pad, b.top + pad],
        ).fetchall()
    return {r[0] for r in rows}


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    t = TMS.tile(lon, lat, z)
    return z, t.x, t.y


def decode(content: bytes) -> dict:
    return mapbox_vector_tile.decode(content)


def test_tile_matrix_sets_and_tilesets(api):
    body = api.get("/tileMatrixSets").json()
    assert body["tileMatrixSets"][0]["id"] == "WebMercatorQuad"
    tms = api.get("/tileMatrixSets/WebMercatorQuad").json()
    assert tms["id"] == "WebMercatorQuad" and len(tms["tileMatrices"]) >= 20
    ts = api.get("/collections/parcels/tiles/WebMercatorQuad").json()
    template = next(link for link in ts["links"] if link["rel"] == "item")
    assert template["templated"] and template["href"].endswith("/{tileMatrix}/{tileCol}/{tileRow}")
    assert template["type"] == "application/vnd.mapbox-vector-tile"
    tj = api.get("/collections/parcels/tiles/WebMercatorQuad/tilejson.json").json()
    assert tj["tilejson"] == "3.0.0" and tj["tiles"][0].endswith("/{z}/{x}/{y}")
    assert tj["vector_layers"][0]["id"] == "parcels" and "internal_notes" not in tj["vector_layers"][0]["fields"]
    assert api.get("/collections/parcels/tiles/WorldCRS84Quad").status_code == 404


@pytest.mark.parametrize("z", [14, 12, 9, 6])
def test_every_parcel_in_the_tile_is_in_the_tile(api, demo_ro, z):
    """At every zoom: simplified, and collapsed parcels become points, but none is dropped."""
    zz, x, y = tile_of(103.03, 21.40, z)  # Điện Biên Phủ
    expected = in_tile(demo_ro, zz, x, y)
    assert expected
    r = api.get(f"/collections/parcels/tiles/WebMercatorQuad/{zz}/{x}/{y}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    layer = decode(r.content)["parcels"]
    assert layer["extent"] == 4096
    ids = {f["id"] for f in layer["features"]}
    assert expected <= ids <= in_tile(demo_ro, zz, x, y, buffer=64)  # the tile, plus its 64-pixel buffer
    props = layer["features"][0]["properties"]
    assert {"code", "status", "area_m2", "est_units"} <= set(props) and "internal_notes" not in props
    kinds = {f["geometry"]["type"] for f in layer["features"]}
    assert kinds <= {"Polygon", "MultiPolygon", "Point"}
    if z <= 6:
        assert "Point" in kinds  # 1-ha parcels are below a pixel at z6: kept as points


def test_planners_see_unpublished_parcels_in_tiles(demo_ro, api):
    z, x, y = tile_of(103.03, 21.40, 10)
    token = token_for(demo_ro, "planner", "11")
    r = api.get(f"/collections/parcels/tiles/WebMercatorQuad/{z}/{x}/{y}", headers={"Authorization": f"Bearer {token}"})
    ids = {f["id"] for f in decode(r.content)["parcels"]["features"]}
    everything = in_tile(demo_ro, z, x, y, "TRUE")
    assert everything <= ids <= in_tile(demo_ro, z, x, y, "TRUE", buffer=64)
    assert len(everything) > len(in_tile(demo_ro, z, x, y))
    assert r.headers["cache-control"].startswith("private")


def test_reference_layers_tile_too(api):
    z, x, y = tile_of(103.03, 21.40, 9)
    for layer in ("roads", "facilities", "admin_units", "hazard_zones"):
        r = api.get(f"/collections/{layer}/tiles/WebMercatorQuad/{z}/{x}/{y}")
        assert r.status_code == 200 and decode(r.content)[layer]["features"], layer


def test_caching_headers_and_not_modified(api):
    z, x, y = tile_of(103.03, 21.40, 12)
    r = api.get(f"/collections/parcels/tiles/WebMercatorQuad/{z}/{x}/{y}")
    assert r.headers["cache-control"] == "public, max-age=60" and r.headers["etag"]
    again = api.get(
        f"/collections/parcels/tiles/WebMercatorQuad/{z}/{x}/{y}", headers={"If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""
    other = api.get(f"/collections/parcels/tiles/WebMercatorQuad/{z}/{x}/{y}", headers={"If-None-Match": '"nope"'})
    assert other.status_code == 200


def test_empty_and_invalid_tiles(api):
    assert api.get("/collections/parcels/tiles/WebMercatorQuad/10/0/0").status_code == 204
    for path in ("3/8/1", "3/1/8", "25/0/0", "-1/0/0"):
        r = api.get(f"/collections/parcels/tiles/WebMercatorQuad/{path}")
        assert r.status_code in (404, 400) and r.headers["content-type"] == "application/problem+json", path
    assert api.get("/collections/parcels/tiles/WebMercatorQuad/a/b/c").status_code == 400
