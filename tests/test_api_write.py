"""Part 4 writes: POST/GET/PATCH/PUT/DELETE through the import validator, with roles, units and ETags."""

from __future__ import annotations

import psycopg
import pytest
import shapely
from conftest import token_for
from helpers import CHECK_E, CHECK_LAT, CHECK_LON, CHECK_N, TO_LL, count, square
from shapely.geometry import mapping

from gis_service.core.db import libpq_dsn

GEOJSON = {"Content-Type": "application/geo+json"}


def lonlat_square(e: float, n: float, side: float = 40.0) -> dict:
    import numpy as np

    g = shapely.transform(square(e, n, side), lambda c: np.column_stack(TO_LL.transform(c[:, 0], c[:, 1])))
    return mapping(g)


def feature(code: str, e: float = CHECK_E + 3000, n: float = CHECK_N + 3000, **props) -> dict:
    return {
        "type": "Feature",
        "geometry": lonlat_square(e, n),
        "properties": {"code": code, "land_use_code": "ODT", "published": True, **props},
    }


def auth(token: str, **more) -> dict:
    return {"Authorization": f"Bearer {token}", **more}


@pytest.fixture
def admin(api_rw):
    return token_for(api_rw.db, "admin")


def test_anonymous_and_investors_cannot_write(api_rw):
    r = api_rw.post("/collections/parcels/items", json=feature("X-1"), headers=GEOJSON)
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert r.headers["content-type"] == "application/problem+json"
    investor = token_for(api_rw.db, "investor")
    r = api_rw.post("/collections/parcels/items", json=feature("X-1"), headers=auth(investor, **GEOJSON))
    assert r.status_code == 403
    r = api_rw.post("/collections/parcels/items", json=feature("X-1"), headers=auth("lf_not-a-real-token", **GEOJSON))
    assert r.status_code == 401
    assert count(api_rw.db, "parcels", "code = 'X-1'") == 0


def test_round_trip_post_get_patch_put_delete(api_rw, admin):
    r = api_rw.post("/collections/parcels/items", json=feature("RT-1", name="Khu thử"), headers=auth(admin, **GEOJSON))
    assert r.status_code == 201, r.text
    location = r.headers["location"]
    assert location.startswith("http://testserver/collections/parcels/items/")
    tag = r.headers["etag"]
    got = api_rw.get(location, headers=auth(admin))
    assert got.status_code == 200 and got.headers["etag"] == tag == 'W/"v1"'
    props = got.json()["properties"]
    assert (
        props["code"] == "RT-1" and props["status"] == "proposed" and props["area_m2"] == pytest.approx(1600, rel=0.01)
    )
    assert props["admin_unit_code"] is not None  # assigned from the location

    r = api_rw.patch(
        location,
        json={"properties": {"status": "programmed"}},
        headers=auth(admin, **{"Content-Type": "application/merge-patch+json", "If-Match": tag}),
    )
    assert r.status_code == 409 and "transitions" in r.json()["detail"]  # status changes need a reason
    r = api_rw.patch(
        location,
        json={"properties": {"decision_no": "12/QĐ-UBND"}},
        headers=auth(admin, **{"Content-Type": "application/merge-patch+json", "If-Match": tag}),
    )
    assert r.status_code == 204, r.text
    tag2 = r.headers["etag"]
    assert tag2 == 'W/"v2"'
    props = api_rw.get(location, headers=auth(admin)).json()["properties"]
    assert (props["status"], props["decision_no"], props["name"]) == ("proposed", "12/QĐ-UBND", "Khu thử")

    r = api_rw.patch(
        location,
        json={"properties": {"name": None}},
        headers=auth(admin, **{"Content-Type": "application/merge-patch+json", "If-Match": tag2}),
    )
    assert r.status_code == 204
    assert api_rw.get(location, headers=auth(admin)).json()["properties"]["name"] is None  # null removes

    stale = api_rw.put(location, json=feature("RT-1"), headers=auth(admin, **GEOJSON, **{"If-Match": tag}))
    assert stale.status_code == 412
    missing = api_rw.put(location, json=feature("RT-1"), headers=auth(admin, **GEOJSON))
    assert missing.status_code == 428
    current = api_rw.get(location, headers=auth(admin)).headers["etag"]
    r = api_rw.put(
        location, json=feature("RT-1b", max_floors=5), headers=auth(admin, **GEOJSON, **{"If-Match": current})
    )
    assert r.status_code == 204, r.text
    props = api_rw.get(location, headers=auth(admin)).json()["properties"]
    assert (props["code"], props["max_floors"], props["name"]) == ("RT-1b", 5, None)  # PUT replaces all but status

    assert api_rw.delete(location, headers=auth(admin)).status_code == 428
    current = api_rw.get(location, headers=auth(admin)).headers["etag"]
    assert api_rw.delete(location, headers=auth(admin, **{"If-Match": current})).status_code == 204
    assert api_rw.get(location, headers=auth(admin)).status_code == 404


@pytest.mark.parametrize(
    "mutate,detail",
    [
        (
            lambda f: f["geometry"].update(
                coordinates=[[[103.02, 21.38], [103.021, 21.381], [103.021, 21.38], [103.02, 21.381], [103.02, 21.38]]],
                type="Polygon",
            ),
            "is not valid: Self-intersection",
        ),
        (
            lambda f: f.update(
                geometry={
                    "type": "Polygon",
                    "coordinates": [[[105.8, 21.0], [105.81, 21.0], [105.81, 21.01], [105.8, 21.0]]],
                }
            ),
            "lies outside",
        ),
        (lambda f: f["properties"].update(land_use_code="QQQ"), "unknown land-use code 'QQQ'"),
        (lambda f: f["properties"].update(status="maybe"), "is not one of"),
        (lambda f: f["properties"].pop("code"), "is required but empty"),
        (lambda f: f.update(geometry={"type": "Point", "coordinates": [103.02, 21.38]}), "is a Point"),
        (lambda f: f["properties"].update(colour="red"), "unknown properties 'colour'"),
        (lambda f: f.update(type="FeatureCollection"), "must be a GeoJSON Feature"),
    ],
)
def test_invalid_features_are_400_and_nothing_is_written(api_rw, admin, mutate, detail):
    n = count(api_rw.db, "parcels")
    f = feature("BAD-1")
    mutate(f)
    r = api_rw.post("/collections/parcels/items", json=f, headers=auth(admin, **GEOJSON))
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert detail in r.json()["detail"]
    assert count(api_rw.db, "parcels") == n


def test_overlap_and_duplicate_code_are_refused(api_rw, admin):
    with psycopg.connect(libpq_dsn(api_rw.db)) as c:
        code, geom = c.execute(
            "SELECT code, ST_AsGeoJSON(geom) FROM parcels WHERE status <> 'withdrawn' LIMIT 1"
        ).fetchone()
    import json

    r = api_rw.post(
        "/collections/parcels/items",
        json={"type": "Feature", "geometry": json.loads(geom), "properties": {"code": "NEW-OVERLAP"}},
        headers=auth(admin, **GEOJSON),
    )
    assert r.status_code == 400 and f"overlaps existing parcel {code}" in r.json()["detail"]
    r = api_rw.post("/collections/parcels/items", json=feature(code), headers=auth(admin, **GEOJSON))
    assert r.status_code == 400 and "already exists in the database" in r.json()["detail"]
    assert r.json()["problems"][0]["field"] == "code"


def test_request_format_errors(api_rw, admin):
    r = api_rw.post("/collections/parcels/items", content=b"{not json", headers=auth(admin, **GEOJSON))
    assert r.status_code == 400 and "not valid JSON" in r.json()["detail"]
    r = api_rw.post(
        "/collections/parcels/items", content=b"code=1", headers=auth(admin, **{"Content-Type": "text/plain"})
    )
    assert r.status_code == 415
    big = b'{"type":"Feature","properties":{"name":"' + b"x" * 11_000_000 + b'"}}'
    r = api_rw.post("/collections/parcels/items", content=big, headers=auth(admin, **GEOJSON))
    assert r.status_code == 413
    r = api_rw.post(
        "/collections/parcels/items",
        content=b'{"type":"Feature","geometry":{"type":"Point","coordinates":[NaN, 21]},"properties":{"code":"N"}}',
        headers=auth(admin, **GEOJSON),
    )
    assert r.status_code == 400


def test_content_crs_vn2000_input(api_rw, admin):
    from shapely.geometry import box

    f = {
        "type": "Feature",
        "geometry": mapping(box(CHECK_E, CHECK_N, CHECK_E + 30, CHECK_N + 30)),
        "properties": {"code": "VN-IN", "land_use_code": "ODT"},
    }
    r = api_rw.post(
        "/collections/parcels/items",
        json=f,
        headers=auth(admin, **GEOJSON, **{"Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/9205>"}),
    )
    assert r.status_code == 201, r.text
    with psycopg.connect(libpq_dsn(api_rw.db)) as c:
        d = c.execute(
            "SELECT min(ST_Distance((dp).geom::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography)) "
            "FROM parcels, ST_DumpPoints(geom) dp WHERE code = 'VN-IN'",
            [CHECK_LON, CHECK_LAT],
        ).fetchone()[0]
    assert d < 0.01


def test_planner_edits_only_inside_their_unit(api_rw):
    planner = token_for(api_rw.db, "planner", "094")  # the former city of Điện Biên Phủ
    with psycopg.connect(libpq_dsn(api_rw.db)) as c:
        inside = c.execute(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM admin_units WHERE code = '094') s"
        ).fetchone()
        outside_id = c.execute(
            "SELECT p.id FROM parcels p, admin_units a WHERE a.code = '096' "
            "AND ST_Intersects(a.geom, ST_PointOnSurface(p.geom)) LIMIT 1"
        ).fetchone()[0]
    from pyproj import Transformer

    e, n = Transformer.from_crs(4326, 9205, always_xy=True).transform(*inside)
    mine = feature("MINE-1", e=e, n=n)
    r = api_rw.post("/collections/parcels/items", json=mine, headers=auth(planner, **GEOJSON))
    if r.status_code == 400 and "overlaps" in r.text:  # the random spot met a demo parcel: move a little
        mine = feature("MINE-1", e=e + 60, n=n + 60)
        r = api_rw.post("/collections/parcels/items", json=mine, headers=auth(planner, **GEOJSON))
    assert r.status_code == 201, r.text
    r = api_rw.post(
        "/collections/parcels/items",
        json=feature("THEIRS-1", e=CHECK_E - 60000, n=CHECK_N + 80000),
        headers=auth(planner, **GEOJSON),
    )
    assert r.status_code == 403 and "outside your administrative unit 094" in r.json()["detail"]
    tag = api_rw.get(f"/collections/parcels/items/{outside_id}", headers=auth(planner)).headers["etag"]
    r = api_rw.patch(
        f"/collections/parcels/items/{outside_id}",
        json={"properties": {"name": "Của huyện khác"}},
        headers=auth(planner, **{"Content-Type": "application/merge-patch+json", "If-Match": tag}),
    )
    assert r.status_code == 403
    province = token_for(api_rw.db, "planner", "11")
    r = api_rw.patch(
        f"/collections/parcels/items/{outside_id}",
        json={"properties": {"name": "Đổi tên"}},
        headers=auth(province, **{"Content-Type": "application/merge-patch+json", "If-Match": tag}),
    )
    assert r.status_code == 204


def test_admin_can_edit_a_reference_layer(api_rw, admin):
    f = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [103.03, 21.40]},
        "properties": {"name": "Trường mới", "kind": "school"},
    }
    r = api_rw.post("/collections/facilities/items", json=f, headers=auth(admin, **GEOJSON))
    assert r.status_code == 201, r.text
    got = api_rw.get(r.headers["location"])
    assert got.json()["properties"]["kind"] == "school" and got.headers["etag"].startswith('W/"')
    f["properties"]["kind"] = "bakery"
    r = api_rw.post("/collections/facilities/items", json=f, headers=auth(admin, **GEOJSON))
    assert r.status_code == 400 and "is not one of" in r.json()["detail"]
    planner = token_for(api_rw.db, "planner", "11")
    f["properties"]["kind"] = "school"
    assert api_rw.post("/collections/facilities/items", json=f, headers=auth(planner, **GEOJSON)).status_code == 403
