"""OGC API – Features Part 1 behaviours over the demo data, each asserted against the database."""

from __future__ import annotations

import csv
import io
import json

import psycopg
import pytest
from conftest import token_for
from openapi_spec_validator import validate as validate_openapi

from gis_service.core.db import libpq_dsn

PUBLISHED = "published"


def sql(url: str, query: str, params=None):
    with psycopg.connect(libpq_dsn(url)) as c:
        return c.execute(query, params or []).fetchall()


def test_landing_page_links(api):
    r = api.get("/")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    rels = {link["rel"]: link for link in r.json()["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert rels["data"]["href"].endswith("/collections")


def test_openapi_is_valid_3_0_with_its_media_type(api):
    r = api.get("/api")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"
    doc = r.json()
    assert doc["openapi"].startswith("3.0.")
    validate_openapi(doc)  # raises on any 3.1-only construct
    assert "/collections/{collectionId}/items" in doc["paths"]
    assert "nullable" in json.dumps(doc) and '"type": "null"' not in json.dumps(doc)
    assert api.get("/api.html").status_code == 200


def test_conformance_lists_what_is_implemented(api):
    classes = api.get("/conformance").json()["conformsTo"]
    for c in (
        "ogcapi-features-1/1.0/conf/core",
        "ogcapi-features-1/1.0/conf/geojson",
        "ogcapi-features-1/1.0/conf/oas30",
        "ogcapi-features-2/1.0/conf/crs",
        "ogcapi-features-3/1.0/conf/filter",
        "cql2/1.0/conf/cql2-text",
        "ogcapi-features-4/1.0/conf/create-replace-delete",
    ):
        assert any(x.endswith(c) for x in classes), c
    assert not any("temporal-functions" in x or "arithmetic" in x for x in classes)


def test_every_catalogue_layer_is_a_collection(api, demo_ro):
    body = api.get("/collections").json()
    ids = {c["id"] for c in body["collections"]}
    assert ids == {"parcels", "admin_units", "roads", "facilities", "hazard_zones"}
    for c in body["collections"]:
        assert len(c["extent"]["spatial"]["bbox"][0]) == 4
        assert "http://www.opengis.net/def/crs/EPSG/0/9205" in c["crs"]
        assert c["storageCrs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
        rels = {link["rel"] for link in c["links"]}
        assert {"items", "http://www.opengis.net/def/rel/ogc/1.0/queryables"} <= rels
    roads = next(c for c in body["collections"] if c["id"] == "roads")
    xmin, ymin, xmax, ymax = sql(
        demo_ro,
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
        "(SELECT ST_Extent(geom) e FROM reference_features WHERE layer = 'roads') s",
    )[0]
    assert roads["extent"]["spatial"]["bbox"][0] == pytest.approx([xmin, ymin, xmax, ymax], abs=1e-6)
    units = api.get("/collections/admin_units").json()
    assert units["extent"]["temporal"]["interval"] == [["1900-01-01", None]]


def test_items_page_counts_and_links(api, demo_ro):
    published = sql(demo_ro, "SELECT count(*) FROM parcels WHERE published")[0][0]
    r = api.get("/collections/parcels/items")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    body = r.json()
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == published and body["numberReturned"] == 10 == len(body["features"])
    assert body["timeStamp"].endswith("Z")
    rels = {link["rel"]: link["href"] for link in body["links"]}
    assert "next" in rels and "prev" not in rels and "offset=10" in rels["next"]
    seen = []
    url = "/collections/parcels/items?limit=37"
    while url:
        page = api.get(url).json()
        seen += [f["id"] for f in page["features"]]
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        url = nxt[0].replace("http://testserver", "") if nxt else None
    expected = [r[0] for r in sql(demo_ro, "SELECT id FROM parcels WHERE published ORDER BY id")]
    assert seen == expected
    last = api.get(f"/collections/parcels/items?limit=37&offset={published - 5}").json()
    assert last["numberReturned"] == 5 and any(link["rel"] == "prev" for link in last["links"])


def test_public_view_hides_unpublished_parcels_and_internal_notes(api):
    body = api.get("/collections/parcels/items?limit=10000").json()
    assert all(f["properties"]["published"] for f in body["features"])
    assert all("internal_notes" not in f["properties"] for f in body["features"])
    assert "internal_notes" not in api.get("/collections/parcels/queryables").json()["properties"]


@pytest.mark.parametrize(
    "query,detail",
    [
        ("limit=abc", "limit"),
        ("limit=0", "limit"),
        ("limit=2147483648", "limit"),
        ("limit=2.5", "limit"),
        ("offset=-1", "offset"),
        ("offset=99999999999", "offset"),
        ("colour=red", "unknown query parameter 'colour'"),
        ("f=xml", "unknown format"),
        ("bbox=1,2,3", "needs 4 or 6 numbers"),
        ("bbox=a,b,c,d", "not a comma-separated list"),
        ("bbox=104,22,103,21", "lower corner must come first"),
        ("bbox=100,21,200,22", "longitudes must lie"),
        ("bbox=nan,1,2,3", "finite"),
        ("crs=EPSG:32648", "unsupported CRS"),
        ("bbox-crs=EPSG:2154&bbox=1,2,3,4", "unsupported CRS"),
        ("sortby=nope", "sortby: unknown property"),
        ("properties=code,secret", "properties: unknown"),
        ("datetime=yesterday", "not an RFC 3339"),
        ("datetime=2025-02-30", "not a valid date"),
        ("status=maybe", "is not one of"),
        ("max_floors=three", "not a whole number"),
    ],
)
def test_bad_parameters_are_400_problems(api, query, detail):
    r = api.get(f"/collections/parcels/items?{query}")
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == 400 and body["title"] and detail in body["detail"]


def test_unknown_collection_and_feature_are_404_problems(api):
    for path in (
        "/collections/nope",
        "/collections/nope/items",
        "/collections/parcels/items/999999",
        "/collections/parcels/items/abc",
    ):
        r = api.get(path)
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json", path


def test_property_filters_and_bbox(api, demo_ro):
    body = api.get("/collections/parcels/items?status=programmed&limit=10000").json()
    expected = sql(demo_ro, "SELECT count(*) FROM parcels WHERE published AND status = 'programmed'")[0][0]
    assert body["numberMatched"] == expected == len(body["features"]) > 0
    box = (102.9, 21.3, 103.1, 21.5)
    body = api.get("/collections/parcels/items?bbox=" + ",".join(map(str, box)) + "&limit=10000").json()
    expected = {
        r[0]
        for r in sql(
            demo_ro,
            "SELECT id FROM parcels WHERE published AND ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))",
            box,
        )
    }
    assert {f["id"] for f in body["features"]} == expected and expected
    body6 = api.get("/collections/parcels/items?bbox=102.9,21.3,0,103.1,21.5,100&limit=10000").json()
    assert body6["numberMatched"] == len(expected)


def test_datetime_selects_units_in_force(api):
    before = api.get("/collections/admin_units/items?datetime=2025-06-30&limit=1000&properties=level").json()
    after = api.get("/collections/admin_units/items?datetime=2025-07-01&limit=100&properties=level").json()
    count = lambda b, lvl: sum(1 for f in b["features"] if f["properties"]["level"] == lvl)  # noqa: E731
    assert (count(before, "district"), count(before, "commune")) == (10, 129)  # the former communes too
    assert (count(after, "district"), count(after, "commune")) == (0, 45)
    span = api.get("/collections/admin_units/items?datetime=2025-06-01/..&limit=100").json()
    assert span["numberMatched"] == 185  # both periods' units and the province
    decided = api.get("/collections/parcels/items?datetime=2024-01-01/2024-12-31&limit=10000").json()
    assert all(f["properties"]["decision_date"].startswith("2024") for f in decided["features"])


def test_sortby_and_properties(api):
    body = api.get("/collections/parcels/items?sortby=-area_m2&properties=code,area_m2&limit=50").json()
    areas = [f["properties"]["area_m2"] for f in body["features"]]
    assert areas == sorted(areas, reverse=True)
    assert all(set(f["properties"]) == {"code", "area_m2"} for f in body["features"])
    body = api.get("/collections/parcels/items?sortby=+code&limit=20&skipGeometry=true").json()
    codes = [f["properties"]["code"] for f in body["features"]]
    assert codes == sorted(codes) and all(f["geometry"] is None for f in body["features"])


def test_coordinates_have_six_decimals(api):
    text = api.get("/collections/parcels/items?limit=5").text
    import re

    numbers = re.findall(r"\[(-?\d+\.\d+),(-?\d+\.\d+)\]", text)
    assert numbers and max(len(x.split(".")[1]) for pair in numbers for x in pair) <= 6


def test_single_feature_with_links_and_etag(api, demo_ro):
    fid = sql(demo_ro, "SELECT id FROM parcels WHERE published ORDER BY id LIMIT 1")[0][0]
    r = api.get(f"/collections/parcels/items/{fid}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    f = r.json()
    assert f["id"] == fid and f["type"] == "Feature"
    assert {link["rel"] for link in f["links"]} >= {"self", "collection"}
    assert r.headers["etag"].startswith('W/"p')  # the public's tag follows what the public sees
    planner = token_for(demo_ro, "planner", "11")
    assert (
        api.get(f"/collections/parcels/items/{fid}", headers={"Authorization": f"Bearer {planner}"}).headers["etag"]
        == 'W/"v1"'
    )  # writers' tag: the version they send back in If-Match
    assert r.headers["content-crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    hidden = sql(demo_ro, "SELECT id FROM parcels WHERE NOT published LIMIT 1")[0][0]
    assert api.get(f"/collections/parcels/items/{hidden}").status_code == 404  # not 403: it does not exist for you


def test_html_pages_use_the_served_leaflet(api):
    for path in (
        "/?f=html",
        "/collections?f=html",
        "/collections/parcels?f=html",
        "/collections/parcels/items?f=html",
        "/collections/roads/items?f=html&limit=3",
    ):
        r = api.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), path
        assert "/static/vendor/leaflet@1.9.4/dist/leaflet.js" in r.text
        assert "unpkg.com" not in r.text and "cdn." not in r.text
    r = api.get("/collections/parcels/items", headers={"Accept": "text/html,application/xhtml+xml"})
    assert r.headers["content-type"].startswith("text/html")
    assert api.get("/static/vendor/leaflet@1.9.4/dist/leaflet.js").status_code == 200


def test_csv_output(api, demo_ro):
    r = api.get("/collections/parcels/items?f=csv&limit=10000")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == sql(demo_ro, "SELECT count(*) FROM parcels WHERE published")[0][0]
    assert rows[0]["wkt"].startswith("MULTIPOLYGON") and "Khu nhà ở xã hội" in rows[0]["name"]


def test_bulk_geojson_seq_and_flatgeobuf(api, demo_ro, tmp_path):
    total = sql(demo_ro, "SELECT count(*) FROM parcels WHERE published")[0][0]
    r = api.get("/collections/parcels/items?f=geojsonseq")
    assert r.headers["content-type"] == "application/geo+json-seq"
    records = [json.loads(x) for x in r.content.split(b"\x1e") if x.strip()]
    assert len(records) == total and all(x["type"] == "Feature" for x in records)
    r = api.get("/collections/parcels/items?f=fgb")
    assert r.headers["content-type"] == "application/flatgeobuf" and r.content[:3] == b"fgb"
    path = tmp_path / "parcels.fgb"
    path.write_bytes(r.content)
    import pyogrio

    info = pyogrio.read_info(path)
    assert info["features"] == total and info["crs"] == "EPSG:4326"
    # every value survives, NULLs included (PostGIS 3.3.2's own writer shifted the columns after a NULL)
    frame = pyogrio.read_dataframe(path).set_index("id")
    by_id = {x["id"]: x["properties"] for x in records}
    assert frame["approved_units"].isna().any() and frame["approved_units"].notna().any()
    for fid, row in frame.iterrows():
        want = by_id[fid]
        for name in (
            "code",
            "name",
            "status",
            "max_floors",
            "est_units",
            "approved_units",
            "legal_area_m2",
            "published",
        ):
            got = row[name]
            assert (want[name] is None and (got is None or got != got)) or got == want[name], (fid, name)
        assert str(row["decision_date"])[:10] == (want["decision_date"] or "None")[:10]
    r = api.get("/collections/parcels/items?f=fgb&crs=EPSG:9205")
    path.write_bytes(r.content)
    assert pyogrio.read_info(path)["crs"] == "EPSG:9205"
    r = api.get("/collections/parcels/items?f=fgb&code=NO-SUCH-PARCEL")  # nothing matched: still a valid file
    path.write_bytes(r.content)
    assert r.status_code == 200 and len(pyogrio.read_dataframe(path)) == 0
