"""Import in every format, in VN-2000 (EPSG:9205) and WGS 84, checked against the province's check point
and against independent geodesic areas."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
import shapely.affinity
from helpers import CHECK_E, CHECK_LAT, CHECK_LON, CHECK_N, TO_LL, count, geodesic_area, parcels_vn2000, write

from gis_service.crs import CRSProblem
from gis_service.ingest.load import import_file
from gis_service.ingest.read import SourceError
from gis_service.validation import ValidationFailed

FORMATS = [
    ("geojson", ".geojson"),
    ("gpkg", ".gpkg"),
    ("shp", ".shp"),
    ("shpzip", ".zip"),
    ("csv", ".csv"),
    ("parquet", ".parquet"),
]


def distance_to_check_point(conn, code: str) -> float:
    """Metres (geodesic) from the nearest vertex of parcel `code` to 21.386 °N, 103.023 °E."""
    return conn.execute(
        """SELECT min(ST_Distance((dp).geom::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography))
           FROM parcels, ST_DumpPoints(geom) dp WHERE code = %s""",
        [CHECK_LON, CHECK_LAT, code],
    ).fetchone()[0]


@pytest.mark.parametrize("fmt,ext", FORMATS)
@pytest.mark.parametrize("crs", ["EPSG:9205", "EPSG:4326"])
def test_import_each_format_and_crs(fmt, ext, crs, conn, catalogue, settings, tmp_path):
    gdf = parcels_vn2000(3)
    if crs == "EPSG:4326":
        gdf = gdf.to_crs(crs)
    path = write(gdf, tmp_path / f"parcels{ext}", fmt)
    result = import_file(conn, catalogue, settings, path, "parcels", crs=crs if fmt == "csv" else None)
    assert len(result.ids) == 3
    assert count(conn, "parcels") == 3
    # The south-west corner of T-001 is the check point: it must land within a centimetre of it.
    assert distance_to_check_point(conn, "T-001") < 0.01
    assert result.source.source_crs.to_epsg() == int(crs.split(":")[1])


# A .prj as desktop tools write it: TM-3 103° on the WGS 84 ellipsoid, no datum name, no TOWGS84.
BARE_TM3_PRJ = (
    'PROJCS["TM3_103",GEOGCS["GCS_unknown",DATUM["D_unknown",SPHEROID["WGS_1984",6378137.0,298.257223563]],'
    'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
    'PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",103.0],'
    'PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]'
)


@pytest.mark.parametrize("side", [60.0, 150.0, 230.0])
def test_area_is_geodesic_and_matches_pyproj(side, conn, catalogue, settings, tmp_path):
    gdf = parcels_vn2000(1, side=side)
    path = write(gdf, tmp_path / "one.gpkg", "gpkg")
    import_file(conn, catalogue, settings, path, "parcels")
    stored = conn.execute("SELECT area_m2 FROM parcels WHERE code = 'T-001'").fetchone()[0]
    lonlat = shapely.transform(gdf.geometry.iloc[0], lambda c: np.column_stack(TO_LL.transform(c[:, 0], c[:, 1])))
    expected = geodesic_area(lonlat)
    assert stored == pytest.approx(expected, rel=1e-3)
    # and it is metres, not degrees: an 80 m square is thousands of m², not 1e-7 square degrees
    assert stored == pytest.approx(side * side, rel=2e-3)


def test_vietnamese_column_names_map_by_themselves(conn, catalogue, settings, tmp_path):
    gdf = parcels_vn2000(2, vietnamese_columns=True)
    gdf = gdf.rename(columns={"so_thua": "Số thửa", "so_to": "SO_TO"})
    path = write(gdf, tmp_path / "vn.gpkg", "gpkg")
    result = import_file(conn, catalogue, settings, path, "parcels")
    assert result.source.mapping == {
        "ma_khu_dat": "code",
        "ten_khu_dat": "name",
        "loai_dat": "land_use_code",
        "SO_TO": "map_sheet_no",
        "Số thửa": "parcel_no",
        "status": "status",
    }
    row = conn.execute("SELECT map_sheet_no, parcel_no, land_use_code FROM parcels WHERE code = 'T-002'").fetchone()
    assert row == ("11", "101", "ODT")


def test_explicit_mapping_renames_other_columns(conn, catalogue, settings, tmp_path):
    gdf = parcels_vn2000(2).rename(columns={"code": "MaKD", "parcel_no": "TH"})
    path = write(gdf, tmp_path / "m.geojson", "geojson")
    with pytest.raises(ValidationFailed, match="required column is missing"):
        import_file(conn, catalogue, settings, path, "parcels")
    result = import_file(conn, catalogue, settings, path, "parcels", mapping={"MaKD": "code", "TH": "parcel_no"})
    assert len(result.ids) == 2
    assert conn.execute("SELECT parcel_no FROM parcels WHERE code = 'T-001'").fetchone()[0] == "100"


def test_mapping_to_an_unknown_field_or_column_is_refused(conn, catalogue, settings, tmp_path):
    path = write(parcels_vn2000(1), tmp_path / "m.gpkg", "gpkg")
    with pytest.raises(SourceError, match="'nope' is not a field of layer parcels"):
        import_file(conn, catalogue, settings, path, "parcels", mapping={"code": "nope"})
    with pytest.raises(SourceError, match="the file has no column 'missing'"):
        import_file(conn, catalogue, settings, path, "parcels", mapping={"missing": "name"})


def test_no_crs_and_no_option_is_refused_with_what_to_pass(conn, catalogue, settings, tmp_path):
    path = write(parcels_vn2000(2), tmp_path / "nocrs.csv", "csv")
    with pytest.raises(CRSProblem, match="--crs EPSG:9205"):
        import_file(conn, catalogue, settings, path, "parcels")
    assert count(conn, "parcels") == 0


def test_geojson_that_claims_wgs84_but_holds_metres(conn, catalogue, settings, tmp_path):
    gdf = parcels_vn2000(2).set_crs("EPSG:4326", allow_override=True)
    path = write(gdf, tmp_path / "lies.geojson", "geojson")
    with pytest.raises(CRSProblem, match="look like projected metres"):
        import_file(conn, catalogue, settings, path, "parcels")
    result = import_file(conn, catalogue, settings, path, "parcels", crs="EPSG:9205")
    assert any("using EPSG:9205" in w for w in result.warnings)
    assert distance_to_check_point(conn, "T-001") < 0.01


def test_swapped_axes_are_detected_and_fixed_on_request(conn, catalogue, settings, tmp_path):
    gdf = parcels_vn2000(3)
    gdf.geometry = shapely.transform(gdf.geometry.values, lambda c: c[:, ::-1])  # northing in X
    path = write(gdf, tmp_path / "swapped.gpkg", "gpkg")
    with pytest.raises(CRSProblem, match="--swap-xy") as exc:
        import_file(conn, catalogue, settings, path, "parcels")
    assert "northing in X" in str(exc.value)
    assert count(conn, "parcels") == 0
    result = import_file(conn, catalogue, settings, path, "parcels", swap_xy=True)
    assert len(result.ids) == 3
    assert distance_to_check_point(conn, "T-001") < 0.01


def test_swapped_lon_lat_is_detected(conn, catalogue, settings, tmp_path):
    gdf = parcels_vn2000(2).to_crs("EPSG:4326")
    gdf.geometry = shapely.transform(gdf.geometry.values, lambda c: c[:, ::-1])
    path = write(gdf, tmp_path / "latlon.geojson", "geojson")
    with pytest.raises(CRSProblem, match="--swap-xy"):
        import_file(conn, catalogue, settings, path, "parcels")


def test_crs_without_datum_shift_uses_the_epsg_shift(conn, catalogue, settings, tmp_path):
    """A bare TM-3 103° definition on the WGS 84 ellipsoid (no TOWGS84) would put parcels ~222 m off."""
    path = write(parcels_vn2000(1), tmp_path / "bare.shp", "shp")
    path.with_suffix(".prj").write_text(BARE_TM3_PRJ)
    result = import_file(conn, catalogue, settings, path, "parcels")
    assert any("EPSG:9205" in w and "shift" in w for w in result.warnings)
    assert distance_to_check_point(conn, "T-001") < 0.01


WGS84_TM3_PRJ = BARE_TM3_PRJ.replace(
    'GEOGCS["GCS_unknown",DATUM["D_unknown"', 'GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984"'
)


def test_a_vn2000_grid_declared_as_wgs84_is_refused_and_nothing_written(conn, catalogue, settings, tmp_path):
    """The same grid with a .prj that names the WGS 84 datum would import 222 m off, silently: it is refused with
    the --crs that reads it right, and --crs EPSG:9205 then puts it on the check point."""
    path = write(parcels_vn2000(1), tmp_path / "wgs.shp", "shp")
    path.with_suffix(".prj").write_text(WGS84_TM3_PRJ)
    with pytest.raises(CRSProblem, match="--crs EPSG:9205"):
        import_file(conn, catalogue, settings, path, "parcels")
    assert count(conn, "parcels") == 0
    import_file(conn, catalogue, settings, path, "parcels", crs="EPSG:9205")
    assert distance_to_check_point(conn, "T-001") < 0.01


def test_dry_run_reports_but_writes_nothing(conn, catalogue, settings, tmp_path):
    path = write(parcels_vn2000(4), tmp_path / "dry.gpkg", "gpkg")
    result = import_file(conn, catalogue, settings, path, "parcels", dry_run=True)
    assert result.rows == 4 and result.report.ok and result.ids == []
    assert count(conn, "parcels") == 0


def test_admin_unit_is_assigned_by_location(conn, catalogue, settings, tmp_path):
    from gis_service.ingest.demo import load_demo

    load_demo(conn, catalogue, settings)
    before = count(conn, "parcels")
    gdf = parcels_vn2000(1, prefix="LOC")
    path = write(gdf, tmp_path / "loc.gpkg", "gpkg")
    import_file(conn, catalogue, settings, path, "parcels")
    got = conn.execute("SELECT admin_unit_code FROM parcels WHERE code = 'LOC-001'").fetchone()[0]
    expected = conn.execute(
        """SELECT code FROM admin_units WHERE level = 'commune' AND valid_to IS NULL
           AND ST_Contains(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326))""",
        [CHECK_LON + 0.0004, CHECK_LAT + 0.0004],
    ).fetchone()[0]
    assert got == expected
    assert count(conn, "parcels") == before + 1


def test_multi_layer_geopackage_needs_a_choice(conn, catalogue, settings, tmp_path):
    import pyogrio

    path = tmp_path / "two.gpkg"
    pyogrio.write_dataframe(parcels_vn2000(1), path, layer="a")
    pyogrio.write_dataframe(parcels_vn2000(1, prefix="B"), path, layer="b", append=False)
    with pytest.raises(SourceError, match="--source-layer"):
        import_file(conn, catalogue, settings, path, "parcels")
    import_file(conn, catalogue, settings, path, "parcels", source_layer="b")
    assert conn.execute("SELECT code FROM parcels").fetchall() == [("B-001",)]


def test_reference_layer_import(conn, catalogue, settings, tmp_path):
    pts = gpd.GeoDataFrame(
        {"name": ["Trường A", "Trạm y tế B"], "kind": ["school", "Cơ sở y tế"]},
        geometry=gpd.points_from_xy([CHECK_E, CHECK_E + 500], [CHECK_N, CHECK_N]),
        crs="EPSG:9205",
    )
    path = write(pts, tmp_path / "f.geojson", "geojson")
    result = import_file(conn, catalogue, settings, path, "facilities")
    assert len(result.ids) == 2
    kinds = conn.execute("SELECT properties->>'kind' FROM reference_features ORDER BY id").fetchall()
    assert kinds == [("school",), ("health",)]  # the Vietnamese label maps to its value


def _problems(conn, catalogue, settings, path, batch_size, **kw):
    with pytest.raises(ValidationFailed) as exc:
        import_file(conn, catalogue, settings, path, "parcels", batch_size=batch_size, **kw)
    return [(p.row, p.field, p.message) for p in exc.value.report.sorted_problems()]


@pytest.mark.parametrize("fmt,ext", [("gpkg", ".gpkg"), ("geojson", ".geojson"), ("csv", ".csv")])
def test_a_file_read_in_batches_is_checked_as_a_whole(fmt, ext, conn, catalogue, settings, tmp_path):
    """Batches of 4 rows: a duplicate code and an overlap whose rows sit in different batches are found, rows keep
    their numbers, and the report is exactly the one of the file read at once; a clean file writes every row."""
    gdf = parcels_vn2000(12)
    gdf.loc[9, "code"] = "T-002"  # row 10 repeats row 2's code (batch 3 against batch 1)
    gdf.loc[10, "geometry"] = shapely.affinity.translate(gdf.geometry[2], 20.0, 0.0)  # row 11 overlaps row 3
    gdf.loc[5, "land_use_code"] = "NOT-A-CODE"  # row 6, a row-level problem in batch 2
    path = write(gdf, tmp_path / f"batches{ext}", fmt)
    crs = "EPSG:9205" if fmt == "csv" else None  # a CSV states no CRS
    batched = _problems(conn, catalogue, settings, path, 4, crs=crs)
    assert batched == _problems(conn, catalogue, settings, path, 10_000, crs=crs)
    rows = {(row, fld) for row, fld, _ in batched}
    assert {(6, "land_use_code"), (10, "code"), (11, "geometry")} <= rows
    assert (10, "code", "duplicate code 'T-002': already used by row 2 of this input") in batched
    overlap = next(m for row, fld, m in batched if (row, fld) == (11, "geometry"))
    shared = shapely.transform(  # 60 m × 80 m, to longitude/latitude
        gdf.geometry[2].intersection(gdf.geometry[10]), lambda c: np.column_stack(TO_LL.transform(c[:, 0], c[:, 1]))
    )
    assert overlap == f"overlaps row 3 (T-003) by {geodesic_area(shared):,.0f} m²"
    assert count(conn, "parcels") == 0

    clean = write(parcels_vn2000(12, prefix="B"), tmp_path / f"clean{ext}", fmt)
    result = import_file(conn, catalogue, settings, clean, "parcels", batch_size=5, crs=crs)
    assert result.rows == 12 and len(result.ids) == 12 and count(conn, "parcels") == 12
    codes = [r[0] for r in conn.execute("SELECT code FROM parcels ORDER BY id").fetchall()]
    assert codes == [f"B-{i:03d}" for i in range(1, 13)]  # written in the file's order


def test_a_missing_column_is_reported_once_however_many_batches(conn, catalogue, settings, tmp_path):
    gdf = parcels_vn2000(9).drop(columns=["code"])
    path = write(gdf, tmp_path / "nocol.gpkg", "gpkg")
    problems = _problems(conn, catalogue, settings, path, 2)
    assert [p for p in problems if "required column is missing" in p[2]] == [
        (None, "code", "required column is missing")
    ]
