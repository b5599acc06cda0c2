"""Desktop GIS as first-class clients (GDAL 3.6 through ogrinfo/ogr2ogr on a live server, and the HTTP they
speak): typed numbers, HTTP Basic sign-in, OPTIONS/Allow and HEAD, filters pushed to the server through the
per-collection OpenAPI paths, GDAL's date form, PAGE_SIZE above the maximum, `.pbf` tile URLs, CORS settings."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from conftest import PASSWORD, api_client, token_for, user_for
from fastapi.testclient import TestClient

from gis_service.core.db import libpq_dsn


def db(url: str, query: str) -> list:
    with psycopg.connect(libpq_dsn(url)) as c:
        return c.execute(query).fetchall()


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, env=env)


def basic(name: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{secret}".encode()).decode()}


class IntMarker(int):
    pass


def test_numbers_are_written_as_decimals_and_survive_geopackage(api, live, demo_ro, tmp_path):
    """A whole-valued `number` is written 50.0, so QGIS and GDAL type the field Real from the first page; a
    37.5 beyond that page survives a round trip to GeoPackage."""
    raw = api.get("/collections/parcels/items?limit=500&properties=max_far,max_density,max_floors,area_m2").text
    doc = json.loads(raw, parse_int=lambda s: IntMarker(int(s)))
    numbers = ("max_far", "max_density", "area_m2")
    seen = 0
    for f in doc["features"]:
        for k in numbers:
            v = f["properties"].get(k)
            if v is not None:
                assert not isinstance(v, IntMarker), (k, v)  # never 50, always 50.0
                seen += 1
        if f["properties"].get("max_floors") is not None:
            assert isinstance(f["properties"]["max_floors"], IntMarker)  # an integer field stays an integer
    published = db(demo_ro, "SELECT count(*) FROM parcels WHERE published")[0][0]
    assert seen == 3 * published and '"max_density" : 50.0' in raw.replace('": ', '" : ')
    out = tmp_path / "p.gpkg"
    r = run("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{live.base}", "parcels", "-oo", "PAGE_SIZE=5")
    assert r.returncode == 0, r.stderr
    info = run("ogrinfo", "-so", str(out), "parcels").stdout
    assert "max_density: Real" in info and "max_far: Real" in info and "max_floors: Integer" in info
    got = run(
        "ogrinfo",
        "-q",
        str(out),
        "-sql",
        "SELECT count(*) FROM parcels WHERE max_density <> CAST(max_density AS INTEGER)",
    ).stdout
    fractional = db(demo_ro, "SELECT count(*) FROM parcels WHERE published AND max_density::numeric % 1 <> 0")[0][0]
    first_page = db(
        demo_ro,
        "SELECT count(*) FROM (SELECT max_density FROM parcels WHERE published ORDER BY id LIMIT 5) p "
        "WHERE max_density::numeric % 1 <> 0",
    )[0][0]
    assert fractional > first_page  # a 37.5 beyond GDAL's first page of 5
    assert f"= {fractional}" in got.replace("(Integer) ", "").replace("(Integer64) ", "")


def test_http_basic_with_a_password_or_a_token(demo_ro, tmp_path):
    planner = user_for(demo_ro, "planner", "11")
    token = token_for(demo_ro, "planner", "11")
    token_user = db(
        demo_ro,
        "SELECT u.name FROM users u JOIN api_tokens t ON t.user_id = u.id ORDER BY t.id DESC LIMIT 1",
    )[0][0]
    everything = db(demo_ro, "SELECT count(*) FROM parcels")[0][0]
    published = db(demo_ro, "SELECT count(*) FROM parcels WHERE published")[0][0]
    with api_client(demo_ro, tmp_path) as client:
        url = "/collections/parcels/items?limit=1"
        assert client.get(url).json()["numberMatched"] == published
        assert client.get(url, headers=basic(planner, PASSWORD)).json()["numberMatched"] == everything
        assert client.get(url, headers=basic(token_user, token)).json()["numberMatched"] == everything
        for bad in (basic(planner, "not the password"), basic("nobody", PASSWORD), basic(planner + "x", token)):
            r = client.get(url, headers=bad)
            assert r.status_code == 401 and "Basic" in r.headers["www-authenticate"]
            assert r.headers["content-type"].startswith("application/problem+json")
        r = client.get(url, headers={"Authorization": "Basic !!!"})
        assert r.status_code == 401 and "base64" in r.json()["detail"]
    # from another machine over plain HTTP the password would travel in clear: refused unless the admin allows it
    from conftest import app_url

    from gis_service.api.app import create_app
    from gis_service.core.config import Settings

    for allowed in (False, True):
        app = create_app(Settings(database_url=app_url(demo_ro), home=tmp_path, basic_auth_over_http=allowed))
        with TestClient(app, client=("10.20.30.40", 5000)) as remote:
            r = remote.get(url, headers=basic(planner, PASSWORD))
            if allowed:
                assert r.status_code == 200 and r.json()["numberMatched"] == everything
            else:
                assert r.status_code == 401 and "HTTPS" in r.json()["detail"]
                assert (
                    remote.get(url, headers=basic(planner, PASSWORD) | {"X-Forwarded-Proto": "http"}).status_code == 401
                )


def test_gdal_signs_in_with_basic(live, demo_ro):
    planner = user_for(demo_ro, "planner", "11")
    everything = db(demo_ro, "SELECT count(*) FROM parcels")[0][0]
    env = {**os.environ, "GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": f"{planner}:{PASSWORD}"}
    out = run("ogrinfo", "-ro", "-so", f"OAPIF:{live.base}", "parcels", env=env)
    assert out.returncode == 0, out.stderr
    assert f"Feature Count: {everything}" in out.stdout


def test_options_say_which_methods_a_path_has_and_head_answers_like_get(api):
    """QGIS 3.32+ enables editing from `Allow` on the items (POST) and on one item (PUT, PATCH, DELETE)."""
    r = api.options("/collections/parcels/items")
    assert r.status_code == 204 and r.headers["allow"] == "GET, HEAD, POST, OPTIONS"
    r = api.options("/collections/parcels/items/1")
    assert r.status_code == 204 and r.headers["allow"] == "GET, HEAD, PUT, PATCH, DELETE, OPTIONS"
    assert api.options("/collections").headers["allow"] == "GET, HEAD, OPTIONS"
    assert api.options("/no/such/path").status_code == 404
    for path in ("/", "/collections/parcels/items?limit=3", "/collections/parcels", "/api", "/conformance"):
        get, head = (
            api.get(path, headers={"Accept": "application/json"}),
            api.head(path, headers={"Accept": "application/json"}),
        )
        assert head.status_code == get.status_code == 200, path
        assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"], path
        assert head.headers.get("content-length") == str(len(get.content)), path


def test_vsicurl_uses_head(live):
    """GDAL's /vsicurl/ asks HEAD first (the size), then GET."""
    r = run(
        "ogrinfo",
        "-ro",
        "-al",
        "-so",
        f"/vsicurl/{live.base}/collections/parcels/items?limit=5&f=json",
        env={**os.environ, "CPL_CURL_VERBOSE": "YES"},
    )
    assert r.returncode == 0 and "Feature Count: 5" in r.stdout, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith(("> HEAD", "> GET", "< HTTP"))]
    assert lines[0].startswith("> HEAD /collections/parcels/items") and lines[1].startswith("< HTTP/1.1 200"), lines


def test_gdal_pushes_where_to_the_server(live, demo_ro):
    out = run(
        "ogr2ogr",
        "--debug",
        "on",
        "-f",
        "GeoJSON",
        "/vsistdout/",
        f"OAPIF:{live.base}",
        "parcels",
        "-where",
        "status = 'programmed'",
    )
    assert out.returncode == 0, out.stderr
    fetched = [line for line in out.stderr.splitlines() if "Fetch(" in line and "/items?" in line]
    assert any("status=programmed" in line for line in fetched), fetched
    got = json.loads(out.stdout)["features"]
    assert len(got) == db(demo_ro, "SELECT count(*) FROM parcels WHERE published AND status = 'programmed'")[0][0]


def test_openapi_has_an_items_path_per_collection(api):
    from openapi_spec_validator import validate

    doc = api.get("/api").json()
    validate(doc)
    for coll in ("parcels", "roads", "facilities", "hazard_zones", "admin_units"):
        op = doc["paths"][f"/collections/{coll}/items"]["get"]
        names = {p["name"] for p in op["parameters"]}
        assert "collectionId" not in names and {"limit", "bbox", "filter"} <= names
    parcels = {p["name"]: p for p in doc["paths"]["/collections/parcels/items"]["get"]["parameters"]}
    assert parcels["status"]["schema"]["enum"][0] == "proposed" and parcels["max_density"]["schema"]["type"] == "number"
    assert "internal_notes" not in parcels  # what the public may not see is not a parameter either
    assert parcels["filter-lang"]["schema"]["enum"] == ["cql2-text", "cql2-json"]


def test_gdal_date_form_and_page_size_above_the_maximum(api, live, demo_ro):
    r = api.get("/collections/parcels/items?datetime=2024-01-01T%2F..&limit=1")
    assert r.status_code == 200
    since = db(demo_ro, "SELECT count(*) FROM parcels WHERE published AND decision_date >= '2024-01-01'")[0][0]
    assert r.json()["numberMatched"] == since
    r = api.get("/collections/parcels/items?limit=20000&skipGeometry=true")
    assert r.status_code == 200 and r.json()["landfund:limit"] == {"asked": 20000, "used": 10000}
    assert "10000" in r.headers["x-landfund-limit"]
    out = run("ogrinfo", "-ro", "-al", "-so", "-oo", "PAGE_SIZE=20000", f"OAPIF:{live.base}", "parcels")
    published = db(demo_ro, "SELECT count(*) FROM parcels WHERE published")[0][0]
    assert out.returncode == 0 and f"Feature Count: {published}" in out.stdout, out.stderr


def test_gdal_reads_a_pbf_tile_url_and_the_tileset_says_points(api, live):
    out = run("ogrinfo", "-ro", "-so", f"MVT:{live.base}/collections/parcels/tiles/WebMercatorQuad/10/805/449.pbf")
    assert out.returncode == 0 and "parcels" in out.stdout, out.stderr
    assert api.get("/collections/parcels/tiles/WebMercatorQuad/10/805/449.mvt").status_code in (200, 204)
    assert api.get("/collections/parcels/tiles/WebMercatorQuad/10/805/449.png").status_code == 404
    tileset = api.get("/collections/parcels/tiles/WebMercatorQuad").json()
    assert tileset["layers"][0]["geometryType"] == "polygons and points"
    assert api.get("/collections/roads/tiles/WebMercatorQuad").json()["layers"][0]["geometryType"] == "lines"
    tj = api.get("/collections/parcels/tiles/WebMercatorQuad/tilejson.json").json()
    assert tj["vector_layers"][0]["geometry_type"] == "polygon and point"


@pytest.mark.parametrize(
    "value,ok",
    [
        ("*", True),
        ("https://gis.dienbien.gov.vn, http://localhost:8080", True),
        ('["http://a.b"]', True),
        ("ftp://x/y", False),
        ("[not json", False),
    ],
)
def test_cors_origins_as_a_list_or_star(value, ok, tmp_path):
    cli = str(Path(sys.executable).parent / "landfund")
    env = {**os.environ, "LANDFUND_CORS_ORIGINS": value, "LANDFUND_HOME": str(tmp_path)}
    r = run(cli, "serve", "--help", env=env)
    assert r.returncode == 0 and "CORS" in r.stdout
    r = run(cli, "users", "list", env=env)
    assert "Traceback" not in r.stderr
    if not ok:
        assert r.returncode != 0 and "LANDFUND_CORS_ORIGINS" in r.stderr


def test_part5_schema_and_the_feature_schema_gdal_reads(api, live, demo_ro):
    """OGC API - Features Part 5: /schema lists each property in order with its role, linked by the OGC schema
    rel and declared in /conformance; GDAL 3.6 reads the GeoJSON-Feature schema its "describedBy" link names."""
    conf = api.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/schemas" in conf
    links = {
        (x["rel"], x["href"].split("/collections/parcels")[-1]) for x in api.get("/collections/parcels").json()["links"]
    }
    assert ("http://www.opengis.net/def/rel/ogc/1.0/schema", "/schema") in links
    assert ("describedBy", "/schema/geojson") in links
    r = api.get("/collections/parcels/schema")
    assert r.headers["content-type"] == "application/schema+json"
    props = r.json()["properties"]
    assert props["geometry"] == {
        "title": "Geometry / Hình học",
        "format": "geometry-multipolygon",
        "x-ogc-role": "primary-geometry",
        "x-ogc-propertySeq": 1,
    }
    assert props["max_density"]["type"] == "number" and props["decision_date"]["format"] == "date"
    assert props["area_m2"]["readOnly"] is True and "readOnly" not in props["name"]
    seqs = [p["x-ogc-propertySeq"] for p in props.values()]
    assert seqs == list(range(1, len(props) + 1))
    assert "internal_notes" not in props  # the public does not learn that internal fields exist
    planner = api.get(
        "/collections/parcels/schema", headers={"Authorization": "Bearer " + token_for(demo_ro, "planner", "11")}
    ).json()["properties"]
    assert "internal_notes" in planner
    out = run("ogrinfo", "--debug", "on", "-ro", "-so", f"OAPIF:{live.base}", "parcels")
    assert "Fetch(" + live.base + "/collections/parcels/schema/geojson)" in out.stderr
    assert "OAPIF: Using JSON schema" in out.stderr, out.stderr[-2000:]
    assert "decision_date: Date" in out.stdout and "max_floors: Integer" in out.stdout
