"""Export, then import into an empty database: the same parcels come back, in every format and CRS."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest
import shapely
from conftest import TEMPLATE, clone_database, db_url, drop_database
from pyproj import Transformer

from gis_service.core.db import libpq_dsn
from gis_service.ingest.demo import load_demo
from gis_service.ingest.export import read_layer, write_frame
from gis_service.ingest.load import import_file

TO_VN = Transformer.from_crs(4326, 9205, always_xy=True)
FIELDS = [
    "code",
    "name",
    "admin_unit_code",
    "map_sheet_no",
    "parcel_no",
    "land_use_code",
    "status",
    "fund_source",
    "responsible_level",
    "responsible_agency",
    "clearance_status",
    "max_far",
    "max_density",
    "max_floors",
    "decision_no",
    "decision_date",
    "legal_area_m2",
    "published",
    "internal_notes",
]


def snapshot(conn) -> dict:
    cols = ", ".join(FIELDS)
    rows = conn.execute(f"SELECT {cols}, area_m2, ST_AsBinary(geom) FROM parcels ORDER BY code").fetchall()
    return {r[0]: r for r in rows}


@pytest.fixture
def demo_conn(conn, catalogue, settings):
    load_demo(conn, catalogue, settings)
    return conn


@pytest.mark.parametrize(
    "fmt,name,crs",
    [
        ("geojson", "p.geojson", None),
        ("gpkg", "p.gpkg", None),
        ("gpkg", "p9205.gpkg", "EPSG:9205"),
        ("shp", "p.shp", None),
        ("shp", "p.zip", "EPSG:9205"),
        ("csv", "p.csv", None),
        ("parquet", "p.parquet", None),
        ("geojson", "p9205.geojson", "EPSG:9205"),
    ],
)
def test_export_then_import_into_an_empty_database(
    fmt, name, crs, demo_conn, database, server_url, catalogue, settings, tmp_path
):
    before = snapshot(demo_conn)
    assert len(before) >= 20  # the demo's few dozen parcels
    with psycopg.connect(libpq_dsn(database)) as c:
        frame = read_layer(c, catalogue.layer("parcels"), settings)
    out = write_frame(frame, catalogue.layer("parcels"), tmp_path / name, fmt, crs)

    empty = clone_database(server_url, TEMPLATE)
    try:
        with psycopg.connect(libpq_dsn(db_url(server_url, empty))) as other:
            csv_crs = (crs or "EPSG:4326") if fmt == "csv" else None
            result = import_file(other, catalogue, settings, out, "parcels", crs=csv_crs, keep_status=True)
            assert len(result.ids) == len(before)
            after = snapshot(other)
    finally:
        drop_database(server_url, empty)
    assert after.keys() == before.keys()
    for code, old in before.items():
        new = after[code]
        assert new[: len(FIELDS)] == old[: len(FIELDS)], code
        assert new[len(FIELDS)] == pytest.approx(old[len(FIELDS)], rel=1e-4)  # area_m2
        # geometry: every vertex within a centimetre (7 decimals of a degree, or millimetres in VN-2000)
        assert metres(new[-1], old[-1]) < 0.01, code


def metres(wkb_a, wkb_b) -> float:
    a, b = (
        shapely.transform(shapely.from_wkb(w), lambda c: np.column_stack(TO_VN.transform(c[:, 0], c[:, 1])))
        for w in (wkb_a, wkb_b)
    )
    return a.hausdorff_distance(b)


def test_shapefile_uses_short_names_and_utf8(demo_conn, database, catalogue, settings, tmp_path):
    import pyogrio

    with psycopg.connect(libpq_dsn(database)) as c:
        frame = read_layer(c, catalogue.layer("parcels"), settings)
    out = write_frame(frame, catalogue.layer("parcels"), tmp_path / "p.shp", "shp")
    info = pyogrio.read_info(out)
    assert all(len(f) <= 10 for f in info["fields"])
    assert {"resp_level", "clearance", "land_use", "decis_date"} <= set(info["fields"])
    back = pyogrio.read_dataframe(out)
    assert back["name"].str.contains("Khu nhà ở xã hội").all()
    assert (out.with_suffix(".cpg")).read_text().strip().upper() in ("UTF-8", "UTF8")


def test_export_in_vn2000_has_the_check_point_coordinates(conn, catalogue, settings, database, tmp_path):
    from helpers import CHECK_E, CHECK_N, parcels_vn2000, write

    import_file(conn, catalogue, settings, write(parcels_vn2000(1), tmp_path / "in.gpkg", "gpkg"), "parcels")
    with psycopg.connect(libpq_dsn(database)) as c:
        frame = read_layer(c, catalogue.layer("parcels"), settings)
    out = write_frame(frame, catalogue.layer("parcels"), tmp_path / "out.gpkg", "gpkg", "EPSG:9205")
    import geopandas as gpd

    back = gpd.read_file(out)
    assert back.crs.to_epsg() == 9205
    minx, miny, _, _ = back.geometry.iloc[0].bounds
    assert minx == pytest.approx(CHECK_E, abs=0.005) and miny == pytest.approx(CHECK_N, abs=0.005)


def test_public_export_leaves_out_unpublished_parcels_and_internal_notes(demo_conn, database, catalogue, settings):
    with psycopg.connect(libpq_dsn(database)) as c:
        everything = read_layer(c, catalogue.layer("parcels"), settings)
        public = read_layer(c, catalogue.layer("parcels"), settings, public_only=True)
    assert "internal_notes" in everything.columns and "internal_notes" not in public.columns
    assert len(public) == int(everything["published"].sum()) < len(everything)
