"""Real GIS clients against a live server: GDAL's OAPIF driver (ogrinfo, ogr2ogr) and OWSLib."""

from __future__ import annotations

import json
import subprocess

import psycopg
import pyogrio
import pytest

from gis_service.core.db import libpq_dsn


def db(url: str, query: str) -> list:
    with psycopg.connect(libpq_dsn(url)) as c:
        return c.execute(query).fetchall()


def gdal(*args: str) -> str:
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_ogrinfo_lists_every_collection(live):
    out = gdal("ogrinfo", "-ro", "-q", f"OAPIF:{live.base}")
    for name in ("parcels", "admin_units", "roads", "facilities", "hazard_zones"):
        assert f": {name} (" in out


def test_gdal_reads_every_parcel_across_pages(live, demo_ro, tmp_path):
    published = db(demo_ro, "SELECT count(*) FROM parcels WHERE published")[0][0]
    matched = json.loads(
        subprocess.run(
            ["curl", "-s", f"{live.base}/collections/parcels/items?limit=1"], capture_output=True, text=True
        ).stdout
    )["numberMatched"]
    out = tmp_path / "parcels.gpkg"
    # PAGE_SIZE=50 makes GDAL follow `next` links through several pages
    gdal("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{live.base}", "parcels", "-oo", "PAGE_SIZE=50")
    info = pyogrio.read_info(out)
    assert info["features"] == matched == published
    frame = pyogrio.read_dataframe(out)
    codes = sorted(frame["code"])
    assert codes == sorted(r[0] for r in db(demo_ro, "SELECT code FROM parcels WHERE published"))
    assert "Khu nhà ở xã hội" in frame["name"].iloc[0]
    summary = gdal("ogrinfo", "-ro", "-so", f"OAPIF:{live.base}", "parcels")
    assert f"Feature Count: {published}" in summary
    # field types come from the collection's JSON Schema (describedBy), not from guessing the first page
    for line in ("max_density: Real", "max_floors: Integer", "decision_date: Date", "published: Integer(Boolean)"):
        assert line in summary


def test_gdal_bbox_and_attribute_filters(live, demo_ro, tmp_path):
    box = (102.95, 21.3, 103.1, 21.5)
    expected = {
        r[0]
        for r in db(
            demo_ro,
            "SELECT code FROM parcels WHERE published AND "
            f"ST_Intersects(geom, ST_MakeEnvelope({','.join(map(str, box))}, 4326))",
        )
    }
    out = tmp_path / "bbox.gpkg"
    gdal("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{live.base}", "parcels", "-spat", *map(str, box))
    assert set(pyogrio.read_dataframe(out)["code"]) == expected and expected
    expected = {
        r[0]
        for r in db(demo_ro, "SELECT code FROM parcels WHERE published AND status = 'programmed' AND max_floors >= 5")
    }
    out = tmp_path / "where.gpkg"
    gdal(
        "ogr2ogr",
        "-f",
        "GPKG",
        str(out),
        f"OAPIF:{live.base}",
        "parcels",
        "-where",
        "status = 'programmed' AND max_floors >= 5",
    )
    assert set(pyogrio.read_dataframe(out)["code"]) == expected and expected


def test_gdal_reads_vn2000_from_the_api(live, demo_ro, tmp_path):
    """GDAL 3.6's OAPIF driver has no CRS option yet (3.7 adds it); the FlatGeobuf download carries the CRS."""
    path = tmp_path / "roads.fgb"
    subprocess.run(
        ["curl", "-s", "-o", str(path), f"{live.base}/collections/roads/items?f=fgb&crs=EPSG:9205"], check=True
    )
    out = gdal("ogrinfo", "-ro", "-so", "-al", str(path))
    assert 'ID["EPSG",9205]' in out and "VN-2000 / TM-3 103-00" in out
    xmin, ymin, xmax, ymax = pyogrio.read_info(path)["total_bounds"]
    assert 350_000 < xmin < xmax < 650_000 and 2_300_000 < ymin < ymax < 2_500_000


def test_owslib_features_client(live, demo_ro):
    from owslib.ogcapi.features import Features

    api = Features(live.base)
    assert {c["id"] for c in api.collections()["collections"]} >= {"parcels", "roads"}
    assert api.conformance()["conformsTo"]
    parcels = api.collection("parcels")
    assert parcels["storageCrs"].endswith("CRS84")
    items = api.collection_items("parcels", limit=25, status="programmed")
    expected = db(demo_ro, "SELECT count(*) FROM parcels WHERE published AND status = 'programmed'")[0][0]
    assert items["numberMatched"] == expected and items["numberReturned"] == min(25, expected)
    one = api.collection_item("parcels", str(items["features"][0]["id"]))
    assert one["properties"]["status"] == "programmed"
    q = api.collection_queryables("parcels")
    assert "land_use_code" in q["properties"]
    found = api.collection_items("parcels", bbox=[102.95, 21.3, 103.1, 21.5], limit=1000)
    assert found["numberMatched"] == len(found["features"]) > 0


@pytest.mark.parametrize("fmt", ["fgb", "geojsonseq"])
def test_gdal_reads_the_bulk_downloads(live, demo_ro, tmp_path, fmt):
    path = tmp_path / f"all.{'fgb' if fmt == 'fgb' else 'geojsonl'}"
    subprocess.run(["curl", "-s", "-o", str(path), f"{live.base}/collections/parcels/items?f={fmt}"], check=True)
    out = gdal("ogrinfo", "-ro", "-so", "-al", str(path))
    published = db(demo_ro, "SELECT count(*) FROM parcels WHERE published")[0][0]
    assert f"Feature Count: {published}" in out
