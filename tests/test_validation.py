"""Every validation rule, each with its message; the import is all-or-nothing (proved by row counts)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from helpers import CHECK_E, CHECK_N, TO_LL, count, parcels_vn2000, square, write
from shapely.geometry import LineString, Point, Polygon

from gis_service.ingest.load import import_file
from gis_service.ingest.write import write_batch
from gis_service.validation import Options, ValidationFailed


def lonlat(geom):
    import shapely

    return shapely.transform(geom, lambda c: np.column_stack(TO_LL.transform(c[:, 0], c[:, 1])))


def frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, dtype=object)


def problems_of(conn, catalogue, rows, layer="parcels", **options):
    with pytest.raises(ValidationFailed) as exc, conn.transaction():
        write_batch(conn, catalogue, catalogue.layer(layer), frame(rows), Options(**options))
    return exc.value.report.problems


def good(code="A-1", dx=0.0, **kw):
    return {"code": code, "land_use_code": "ODT", "geometry": lonlat(square(CHECK_E + dx, CHECK_N, 50)), **kw}


def test_a_valid_row_is_written(conn, catalogue):
    with conn.transaction():
        result = write_batch(conn, catalogue, catalogue.layer("parcels"), frame([good()]))
    assert result.written and len(result.ids) == 1
    row = conn.execute("SELECT status, fund_source, clearance_status, published, version FROM parcels").fetchone()
    assert row == ("proposed", "standalone_site", "not_started", False, 1)  # the documented defaults


BOW_TIE = Polygon([(103.020, 21.380), (103.021, 21.381), (103.021, 21.380), (103.020, 21.381), (103.020, 21.380)])


@pytest.mark.parametrize(
    "geometry,message",
    [
        (BOW_TIE, "is not valid: Self-intersection"),
        (Polygon(), "is empty"),
        (None, "is missing"),
        (Point(103.02, 21.38), "is a Point; layer parcels needs Polygon or MultiPolygon"),
        (LineString([(103.02, 21.38), (103.03, 21.39)]), "is a LineString"),
        (Polygon([(103.02, 21.38), (math.nan, 21.38), (103.03, 21.39), (103.02, 21.38)]), "NaN or infinite"),
    ],
)
def test_bad_geometry(geometry, message, conn, catalogue):
    probs = problems_of(conn, catalogue, [{"code": "G-1", "geometry": geometry}])
    assert [(p.row, p.field) for p in probs] == [(1, "geometry")]
    assert message in probs[0].message
    assert count(conn, "parcels") == 0


def test_too_many_vertices(conn, catalogue):
    ring = lonlat(Point(CHECK_E, CHECK_N).buffer(40, quad_segs=200))
    probs = problems_of(conn, catalogue, [good(geometry=ring)], max_vertices=500)
    assert "has 801 vertices; at most 500 are allowed" in probs[0].message


def test_outside_the_province_bbox_when_no_boundary_is_loaded(conn, catalogue):
    hanoi = Polygon([(105.80, 21.02), (105.81, 21.02), (105.81, 21.03), (105.80, 21.02)])
    probs = problems_of(conn, catalogue, [good(geometry=hanoi)])
    assert probs[0].message == "lies outside the bounding box of province Điện Biên (11)"


def test_outside_and_across_the_province_boundary(conn, catalogue, settings):
    from gis_service.ingest.demo import load_demo

    load_demo(conn, catalogue, settings)
    n = count(conn, "parcels")
    prov = conn.execute("SELECT ST_AsText(ST_Envelope(geom)) FROM admin_units WHERE level = 'province'").fetchone()
    assert prov
    # a square straddling the schematic outline, and one just beyond it (both inside the bbox)
    edge = conn.execute(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointN(ST_ExteriorRing(ST_GeometryN(geom, 1)), 1) p "
        "FROM admin_units WHERE level = 'province') s"
    ).fetchone()
    x, y = edge
    d = 0.001
    across = Polygon([(x - d, y - d), (x + d, y - d), (x + d, y + d), (x - d, y + d)])
    rows = [good("X-1", geometry=across)]
    probs = problems_of(conn, catalogue, rows)
    assert probs[0].message == "extends beyond the boundary of province Điện Biên (11)"
    assert count(conn, "parcels") == n


def test_duplicate_codes_in_the_file_and_in_the_database(conn, catalogue):
    with conn.transaction():
        write_batch(conn, catalogue, catalogue.layer("parcels"), frame([good("DUP-1")]))
    probs = problems_of(conn, catalogue, [good("NEW-1", dx=200), good("NEW-1", dx=400), good("DUP-1", dx=600)])
    messages = sorted((p.row, p.message) for p in probs)
    assert messages == [
        (2, "duplicate code 'NEW-1': already used by row 1 of this input"),
        (3, "code 'DUP-1' already exists in the database"),
    ]
    assert count(conn, "parcels") == 1


def test_unknown_land_use_code(conn, catalogue):
    probs = problems_of(conn, catalogue, [good(land_use_code="XYZ")])
    assert probs[0].field == "land_use_code"
    assert probs[0].message.startswith("unknown land-use code 'XYZ' (known: BCS, BHK, CLN,")


def test_land_use_codes_come_from_the_catalogue_code_list(catalogue):
    codes = catalogue.codes("land_use")
    assert {"ODT", "ONT", "TMD", "SKC", "DGT", "CLN", "LUC", "BHK"} <= set(codes)
    assert codes["ODT"]["vi"] == "Đất ở tại đô thị"


def test_missing_required_attribute(conn, catalogue):
    probs = problems_of(conn, catalogue, [good(code="  "), good(code=None, dx=200)])
    assert [(p.row, p.field, p.message) for p in probs] == [
        (1, "code", "is required but empty"),
        (2, "code", "is required but empty"),
    ]


def test_missing_required_column(conn, catalogue):
    row = good()
    del row["code"]
    probs = problems_of(conn, catalogue, [row])
    assert probs[0].row is None and "required column is missing" in probs[0].message


def test_overlap_with_a_reserved_parcel_unless_allowed(conn, catalogue):
    with conn.transaction():
        write_batch(conn, catalogue, catalogue.layer("parcels"), frame([good("OLD-1")]))
    shifted = good("NEW-1", dx=25)  # half of a 50 m square overlaps
    probs = problems_of(conn, catalogue, [shifted])
    assert probs[0].message.startswith("overlaps existing parcel OLD-1 by 1,2")
    assert "--allow-overlap" not in probs[0].message and probs[0].kind == "overlap"  # domain words; the CLI adds:
    from gis_service.cli.common import CLI_HINTS
    from gis_service.validation.report import Report

    assert "(use --allow-overlap to accept)" in Report(problems=probs).text(hints=CLI_HINTS)
    with conn.transaction():
        write_batch(conn, catalogue, catalogue.layer("parcels"), frame([shifted]), Options(allow_overlap=True))
    assert count(conn, "parcels") == 2


def test_touching_and_withdrawn_parcels_do_not_count_as_overlap(conn, catalogue):
    with conn.transaction():
        write_batch(
            conn,
            catalogue,
            catalogue.layer("parcels"),
            frame([good("OLD-1"), good("GONE-1", dx=200, status="withdrawn")]),
            Options(keep_status=True),
        )
    with conn.transaction():
        write_batch(
            conn, catalogue, catalogue.layer("parcels"), frame([good("EDGE-1", dx=50), good("ON-GONE", dx=210)])
        )
    assert count(conn, "parcels") == 4


def test_a_new_parcel_starts_as_proposed(conn, catalogue):
    """The workflow cannot be bypassed by creating a parcel in a later stage; an import of an existing land fund
    may keep its statuses, saying so (--keep-status)."""
    probs = problems_of(
        conn, catalogue, [good("S-1", status="completed"), good("S-2", dx=200), good("S-3", dx=400, status="Đề xuất")]
    )
    assert [(p.row, p.field) for p in probs] == [(1, "status")]
    assert "starts as proposed, not completed" in probs[0].message and probs[0].kind == "initial_status"
    with conn.transaction():
        write_batch(
            conn,
            catalogue,
            catalogue.layer("parcels"),
            frame([good("S-1", status="completed")]),
            Options(keep_status=True),
        )
    assert count(conn, "parcels", "status = 'completed'") == 1


def test_overlap_within_the_file(conn, catalogue):
    probs = problems_of(conn, catalogue, [good("A-1"), good("A-2", dx=10)])
    assert [p.row for p in probs] == [2]
    assert probs[0].message.startswith("overlaps row 1 (A-1) by 2,0")


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("status", "maybe", "'maybe' is not one of: proposed, programmed, plan_approved"),
        ("max_far", "abc", "'abc' is not a number"),
        ("max_far", "-1", "-1 is below the minimum 0.1"),
        ("max_floors", "2.5", "'2.5' is not a whole number"),
        ("max_density", "150", "150 is above the maximum 100"),
        ("decision_date", "31/02/2024", "'31/02/2024' is not a date"),
        ("published", "perhaps", "'perhaps' is not true/false"),
        ("responsible_level", "ministry", "'ministry' is not one of: province, district, commune"),
        ("code", "X" * 65, "is 65 characters long; at most 64 are allowed"),
    ],
)
def test_bad_values(field, value, message, conn, catalogue):
    probs = problems_of(conn, catalogue, [good(**{field: value})])
    assert [(p.field, message in p.message) for p in probs] == [(field, True)]


def test_vietnamese_spellings_of_values_are_understood(conn, catalogue):
    row = good(
        status="Đề xuất",
        published="có",
        max_far="2,5",
        decision_date="15/03/2024",
        fund_source="Đất công",
        clearance_status="đang thực hiện",
        land_use_code="odt",
        max_floors=5.0,
    )
    with conn.transaction():
        write_batch(conn, catalogue, catalogue.layer("parcels"), frame([row]))
    got = conn.execute(
        "SELECT status, published, max_far, decision_date::text, fund_source, clearance_status, "
        "land_use_code, max_floors FROM parcels"
    ).fetchone()
    assert got == ("proposed", True, 2.5, "2024-03-15", "public_land", "in_progress", "ODT", 5)


def test_every_bad_row_is_named_and_nothing_is_written(conn, catalogue, settings, tmp_path):
    gdf = parcels_vn2000(
        6,
        land_use_code=["ODT", "XYZ", "ODT", "ODT", "ONT", "ODT"],
        status=["proposed", "proposed", "nonsense", "programmed", "proposed", "proposed"],
    )
    gdf.loc[4, "code"] = "T-001"  # duplicate of row 1
    path = write(gdf, tmp_path / "bad.gpkg", "gpkg")
    with pytest.raises(ValidationFailed) as exc:
        import_file(conn, catalogue, settings, path, "parcels", keep_status=True)
    report = exc.value.report
    assert sorted((p.row, p.field) for p in report.problems) == [(2, "land_use_code"), (3, "status"), (5, "code")]
    assert "3 problem(s) in 3 of 6 row(s); nothing was written" in str(exc.value)
    assert count(conn, "parcels") == 0
    # the same file without its bad rows goes in whole
    path2 = write(gdf.drop(index=[1, 2, 4]), tmp_path / "good.gpkg", "gpkg")
    assert len(import_file(conn, catalogue, settings, path2, "parcels", keep_status=True).ids) == 3
    assert count(conn, "parcels") == 3


def test_a_failure_in_the_database_phase_also_writes_nothing(conn, catalogue, settings, tmp_path):
    path = write(parcels_vn2000(5), tmp_path / "five.gpkg", "gpkg")
    import_file(conn, catalogue, settings, path, "parcels")
    more = parcels_vn2000(5, prefix="U", e0=CHECK_E + 1000)
    more.loc[3, "code"] = "T-002"
    with pytest.raises(ValidationFailed, match="code 'T-002' already exists in the database"):
        import_file(conn, catalogue, settings, write(more, tmp_path / "more.gpkg", "gpkg"), "parcels")
    assert count(conn, "parcels") == 5


def test_demand_rows_are_validated_too(conn, catalogue, tmp_path, settings):
    csv = tmp_path / "demand.csv"
    csv.write_text("ma_dvhc,nam,so_ho\n094,2024,100\n094,2024,120\n095,two thousand,5\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as exc:
        import_file(conn, catalogue, settings, csv, "demand")
    msgs = sorted((p.row, p.message) for p in exc.value.report.problems)
    assert msgs == [
        (2, "duplicate admin_unit_code/year/eligible_group '094/2024/all': already used by row 1 of this input"),
        (3, "'two thousand' is not a whole number"),
    ]
    assert count(conn, "demand") == 0
