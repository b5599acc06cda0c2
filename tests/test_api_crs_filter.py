"""Part 2 (CRS) and Part 3 (queryables, CQL2 filters), checked against SQL run on the same database."""

from __future__ import annotations

import json
from urllib.parse import quote

import psycopg
import pytest
from conftest import api_client
from helpers import CHECK_E, CHECK_LAT, CHECK_LON, CHECK_N, parcels_vn2000, write

from gis_service.core.db import libpq_dsn
from gis_service.ingest.load import import_file


def sql(url, query, params=None):
    with psycopg.connect(libpq_dsn(url)) as c:
        return c.execute(query, params).fetchall()


def ids(api, query: str) -> set[int]:
    r = api.get(f"/collections/parcels/items?limit=10000&{query}")
    assert r.status_code == 200, r.text
    return {f["id"] for f in r.json()["features"]}


@pytest.fixture(scope="module")
def check_point_api(server_url, template_url, tmp_path_factory):
    """A database holding one published parcel whose south-west corner is the province check point."""
    from conftest import TEMPLATE, clone_database, db_url, drop_database

    from gis_service.catalogue import load_catalogue
    from gis_service.core.config import Settings

    name = clone_database(server_url, TEMPLATE, "crs")
    url = db_url(server_url, name)
    tmp = tmp_path_factory.mktemp("crs")
    s = Settings(database_url=url)
    with psycopg.connect(libpq_dsn(url)) as c:
        import_file(
            c,
            load_catalogue(s.layers_dir),
            s,
            write(parcels_vn2000(1, published=True), tmp / "p.gpkg", "gpkg"),
            "parcels",
        )
    with api_client(url, tmp) as client:
        yield client
    drop_database(server_url, name)


def corner(feature) -> tuple[float, float]:
    ring = feature["geometry"]["coordinates"][0][0]
    return min(ring, key=lambda p: p[0] + p[1])


def test_vn2000_output_reproduces_the_check_point(check_point_api):
    r = check_point_api.get("/collections/parcels/items?crs=EPSG:9205")
    assert r.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/9205>"
    x, y = corner(r.json()["features"][0])
    assert x == pytest.approx(CHECK_E, abs=0.002) and y == pytest.approx(CHECK_N, abs=0.002)
    uri = quote("http://www.opengis.net/def/crs/EPSG/0/9205", safe="")
    assert corner(check_point_api.get(f"/collections/parcels/items?crs={uri}").json()["features"][0]) == [x, y]


@pytest.mark.parametrize("code", [9206, 5897, 9210])  # Sơn La 104°00′, Hà Nội 105°00′, TP Hồ Chí Minh 105°45′
def test_every_vn2000_zone_in_and_out(check_point_api, code):
    """Any VN-2000 / TM-3 zone is spoken: the check point comes out where pyproj (EPSG, with the EPSG:6960 shift)
    puts it in that zone, and a bbox in that zone finds it."""
    from pyproj.transformer import TransformerGroup

    national = next(  # EPSG's national VN-2000 to WGS 84 (2), EPSG:6960, as pyproj knows it
        t for t in TransformerGroup(4326, code, always_xy=True).transformers if "VN-2000 to WGS 84 (2)" in t.description
    )
    e, n = national.transform(CHECK_LON, CHECK_LAT)
    r = check_point_api.get(f"/collections/parcels/items?crs=EPSG:{code}")
    assert r.status_code == 200 and r.headers["content-crs"] == f"<http://www.opengis.net/def/crs/EPSG/0/{code}>"
    x, y = corner(r.json()["features"][0])
    assert x == pytest.approx(e, abs=0.002) and y == pytest.approx(n, abs=0.002)
    box = f"{e - 10},{n - 10},{e + 10},{n + 10}"
    found = check_point_api.get(f"/collections/parcels/items?bbox={box}&bbox-crs=EPSG:{code}").json()
    assert found["numberReturned"] == 1
    listed = check_point_api.get("/collections/parcels").json()["crs"]
    assert f"http://www.opengis.net/def/crs/EPSG/0/{code}" in listed


def test_crs84_and_epsg4326_axis_order(check_point_api):
    lon, lat = corner(check_point_api.get("/collections/parcels/items").json()["features"][0])
    assert (lon, lat) == pytest.approx((CHECK_LON, CHECK_LAT), abs=1e-6)
    r = check_point_api.get("/collections/parcels/items?crs=http://www.opengis.net/def/crs/EPSG/0/4326")
    assert r.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4326>"
    ring = r.json()["features"][0]["geometry"]["coordinates"][0][0]
    assert any(p == pytest.approx([CHECK_LAT, CHECK_LON], abs=1e-6) for p in ring)  # latitude first


def test_bbox_in_other_crs(check_point_api):
    assert ids(check_point_api, f"bbox={CHECK_E - 10},{CHECK_N - 10},{CHECK_E + 10},{CHECK_N + 10}&bbox-crs=EPSG:9205")
    assert not ids(
        check_point_api, f"bbox={CHECK_E - 30},{CHECK_N - 30},{CHECK_E - 10},{CHECK_N - 10}&bbox-crs=EPSG:9205"
    )
    lat_first = f"bbox={CHECK_LAT - 1e-4},{CHECK_LON - 1e-4},{CHECK_LAT + 1e-4},{CHECK_LON + 1e-4}"
    assert ids(check_point_api, lat_first + "&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326")
    r = check_point_api.get(f"/collections/parcels/items?{lat_first}")  # the same numbers read as lon,lat
    assert r.status_code == 400 and "latitudes in [-90, 90]" in r.json()["detail"]
    r = check_point_api.get("/collections/parcels/items?crs=EPSG:3857")
    assert r.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/3857>"
    from pyproj import Transformer

    x, y = corner(r.json()["features"][0])
    ex, ey = Transformer.from_crs(4326, 3857, always_xy=True).transform(CHECK_LON, CHECK_LAT)
    assert (x, y) == pytest.approx((ex, ey), abs=0.02)


def test_queryables(api):
    q = api.get("/collections/parcels/queryables")
    assert q.headers["content-type"] == "application/schema+json"
    props = q.json()["properties"]
    assert props["status"]["enum"][0] == "proposed" and props["decision_date"]["format"] == "date"
    assert "ODT" in props["land_use_code"]["enum"] and props["geometry"]["format"] == "geometry-multipolygon"
    assert api.get("/collections/roads/queryables").json()["properties"]["road_class"]["enum"] == [
        "national",
        "provincial",
        "local",
    ]


CASES = [
    ("status = 'programmed'", "status = 'programmed'"),
    ("status <> 'programmed' AND area_m2 > 20000", "status <> 'programmed' AND area_m2 > 20000"),
    ("max_floors < 4 OR max_far >= 3", "max_floors < 4 OR max_far >= 3"),
    ("NOT (status = 'proposed')", "NOT (status = 'proposed')"),
    ("name LIKE 'Khu nhà ở xã hội phường%'", "name LIKE 'Khu nhà ở xã hội phường%'"),
    ("code LIKE 'NOXH-09_-00%'", "code LIKE 'NOXH-09_-00%'"),
    ("status IN ('investor_selected', 'completed')", "status IN ('investor_selected', 'completed')"),
    ("status NOT IN ('investor_selected', 'completed')", "status NOT IN ('investor_selected', 'completed')"),
    ("max_far BETWEEN 2 AND 3", "max_far BETWEEN 2 AND 3"),
    ("legal_area_m2 IS NULL", "legal_area_m2 IS NULL"),
    ("decision_no IS NOT NULL", "decision_no IS NOT NULL"),
    ("CASEI(land_use_code) = CASEI('odt')", "land_use_code = 'ODT'"),
    ("CASEI(name) LIKE CASEI('khu NHÀ Ở%số 1')", "lower(name) LIKE lower('khu NHÀ Ở%số 1')"),
    ("decision_date >= DATE('2025-07-01')", "decision_date >= '2025-07-01'"),
    ("published = true AND est_units > 200", "est_units_expr > 200"),
]


def _expected(demo_ro, where: str, settings_expr: str) -> set[int]:
    where = where.replace("est_units_expr", settings_expr)
    return {r[0] for r in sql(demo_ro, f"SELECT id FROM parcels WHERE published AND ({where})")}


@pytest.mark.parametrize("cql,where", [c for c in CASES if c[1]])
def test_cql2_text_matches_sql(api, demo_ro, cql, where):
    from gis_service.core.config import Settings
    from gis_service.stores.parcels import est_units_sql

    expected = _expected(demo_ro, where, est_units_sql(Settings()))
    got = ids(api, "filter=" + quote(cql))
    assert got == expected
    assert ids(api, "filter-lang=cql2-text&filter=" + quote(cql)) == expected


def test_cql2_json_and_spatial_functions(api, demo_ro):
    poly = {
        "type": "Polygon",
        "coordinates": [[[102.95, 21.3], [103.1, 21.3], [103.1, 21.5], [102.95, 21.5], [102.95, 21.3]]],
    }
    expr = {
        "op": "and",
        "args": [
            {"op": "=", "args": [{"property": "status"}, "call_published"]},
            {"op": "s_intersects", "args": [{"property": "geometry"}, poly]},
        ],
    }
    got = ids(api, "filter-lang=cql2-json&filter=" + quote(json.dumps(expr)))
    expected = {
        r[0]
        for r in sql(
            demo_ro,
            "SELECT id FROM parcels WHERE published AND status = 'call_published' AND "
            "ST_Intersects(geom, ST_GeomFromGeoJSON(%s))",
            [json.dumps(poly)],
        )
    }
    assert got == expected and expected
    wkt = "POLYGON((102.95 21.3, 103.1 21.3, 103.1 21.5, 102.95 21.5, 102.95 21.3))"
    within = ids(api, "filter=" + quote(f"S_WITHIN(geometry, {wkt})"))
    assert (
        within
        == {
            r[0]
            for r in sql(
                demo_ro, "SELECT id FROM parcels WHERE published AND ST_Within(geom, ST_GeomFromText(%s, 4326))", [wkt]
            )
        }
        and within
    )
    assert ids(api, "filter=" + quote("S_INTERSECTS(geometry, BBOX(102.95, 21.3, 103.1, 21.5))")) == ids(
        api, "bbox=102.95,21.3,103.1,21.5"
    )
    hazards = ids(api, "filter=" + quote("S_INTERSECTS(geometry, POINT(103.02 21.35))"))
    assert hazards == {
        r[0]
        for r in sql(
            demo_ro,
            "SELECT id FROM parcels WHERE published AND ST_Intersects(geom, "
            "ST_SetSRID(ST_MakePoint(103.02, 21.35), 4326))",
        )
    }


def test_filter_crs(check_point_api):
    box = (
        f"POLYGON(({CHECK_E - 5} {CHECK_N - 5}, {CHECK_E + 5} {CHECK_N - 5}, {CHECK_E + 5} {CHECK_N + 5}, "
        f"{CHECK_E - 5} {CHECK_N + 5}, {CHECK_E - 5} {CHECK_N - 5}))"
    )
    assert ids(check_point_api, "filter-crs=EPSG:9205&filter=" + quote(f"S_INTERSECTS(geometry, {box})"))


@pytest.mark.parametrize(
    "cql,lang,detail",
    [
        ("status = ", None, "malformed cql2-text"),
        ("colour = 'red'", None, "unknown property 'colour'"),
        ("max_far = 'high'", None, "cannot compare a number property"),
        ("max_far LIKE '2%'", None, "LIKE needs a string property"),
        ("max_far = max_density / 25", None, "arithmetic is not supported"),
        ("UPPER(name) = 'X'", None, "function UPPER is not supported"),
        ("status = 'x'", "sql", "unsupported 'sql'"),
        ("{not json", "cql2-json", "malformed cql2-json"),
        ("S_INTERSECTS(geometry, POLYGON((103 21, 104 21, 103 22, 104 22, 103 21)))", None, "not valid"),
        ("internal_notes LIKE '%ông%'", None, "unknown property 'internal_notes'"),  # hidden from the public
        ("T_BEFORE(decision_date, TIMESTAMP('2024-01-01T00:00:00Z'))", None, "malformed cql2-text"),
    ],
)
def test_bad_filters_are_400(api, cql, lang, detail):
    query = "filter=" + quote(cql) + (f"&filter-lang={lang}" if lang else "")
    r = api.get(f"/collections/parcels/items?{query}")
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json", r.text
    assert detail in r.json()["detail"]


def test_filters_are_parameterised(api, demo_ro):
    before = sql(demo_ro, "SELECT count(*) FROM parcels")[0][0]
    for attack in ["code = 'x'' OR ''1''=''1'", "code = 'x''; DROP TABLE parcels; --'", "code = 'a\\' OR 1=1 --'"]:
        r = api.get("/collections/parcels/items?filter=" + quote(attack))
        assert r.status_code in (200, 400)
        if r.status_code == 200:
            assert r.json()["numberMatched"] == 0
    r = api.get("/collections/parcels/items?code=" + quote("x' OR '1'='1"))
    assert r.json()["numberMatched"] == 0
    assert sql(demo_ro, "SELECT count(*) FROM parcels")[0][0] == before
