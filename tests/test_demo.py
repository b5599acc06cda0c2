"""The shipped Điện Biên demo: what it holds, that it loads through the normal import, and that it is safe
to load twice."""

from __future__ import annotations

import json
from datetime import date

import pytest
from helpers import count

from gis_service.ingest.demo import load_demo


@pytest.fixture
def demo(conn, catalogue, settings):
    counts = load_demo(conn, catalogue, settings)
    return counts


def test_counts_match_the_shipped_files(demo, catalogue):
    for layer_id, n in demo.items():
        path = catalogue.layer(layer_id).source_path(catalogue.root)
        if path.suffix == ".geojson":
            expected = len(json.loads(path.read_text(encoding="utf-8"))["features"])
        else:
            expected = len(path.read_text(encoding="utf-8").splitlines()) - 1
        assert n == expected, layer_id
    assert 200 <= demo["parcels"] <= 1000


def test_admin_units_before_and_after_the_reform(conn, demo):
    rows = conn.execute(
        "SELECT level, count(*), min(valid_from)::text, max(valid_to)::text FROM admin_units "
        "GROUP BY level ORDER BY level"
    ).fetchall()
    assert rows == [
        ("commune", 45, "2025-07-01", None),
        ("district", 10, "1900-01-01", "2025-06-30"),
        ("province", 1, "2004-01-01", None),
    ]
    districts = dict(conn.execute("SELECT code, name FROM admin_units WHERE level = 'district'").fetchall())
    assert districts == {
        "094": "Điện Biên Phủ",
        "095": "Mường Lay",
        "096": "Mường Nhé",
        "097": "Mường Chà",
        "098": "Tủa Chùa",
        "099": "Tuần Giáo",
        "100": "Điện Biên",
        "101": "Điện Biên Đông",
        "102": "Mường Ảng",
        "103": "Nậm Pồ",
    }
    wards = conn.execute("SELECT code FROM admin_units WHERE unit_type = 'phường' ORDER BY code").fetchall()
    assert wards == [("03127",), ("03151",), ("03334",)]
    assert count(conn, "admin_units", "unit_type = 'xã'") == 42
    # every unit says its boundary is schematic
    assert count(conn, "admin_units", "boundary_note ILIKE '%schematic, not legal%'") == 56


def test_as_of_a_date(conn, demo):
    from sqlalchemy import select

    from gis_service.models.admin_units import AdminUnit, valid_on

    def units(d: date) -> dict:
        q = select(AdminUnit.level).where(valid_on(d))
        sql = str(q.compile(compile_kwargs={"literal_binds": True}))
        rows = conn.execute(sql).fetchall()
        return {lvl: sum(1 for (r,) in rows if r == lvl) for lvl in ("province", "district", "commune")}

    assert units(date(2025, 6, 30)) == {"province": 1, "district": 10, "commune": 0}
    assert units(date(2025, 7, 1)) == {"province": 1, "district": 0, "commune": 45}


def test_schematic_units_tile_the_province(conn, demo):
    prov, districts, communes = conn.execute(
        """SELECT (SELECT ST_Area(geom::geography) FROM admin_units WHERE level = 'province'),
                  (SELECT sum(ST_Area(geom::geography)) FROM admin_units WHERE level = 'district'),
                  (SELECT sum(ST_Area(geom::geography)) FROM admin_units WHERE level = 'commune')"""
    ).fetchone()
    assert prov / 1e6 == pytest.approx(9540, rel=0.01)  # the published area, about 9,540 km²
    assert districts == pytest.approx(prov, rel=1e-4) and communes == pytest.approx(prov, rel=1e-4)


def test_parcels_are_plausible(conn, demo):
    statuses = {s for (s,) in conn.execute("SELECT DISTINCT status FROM parcels")}
    assert statuses == {
        "proposed",
        "approved",
        "open_for_investment",
        "assigned",
        "under_construction",
        "completed",
        "withdrawn",
    }
    lo, hi = conn.execute("SELECT min(area_m2), max(area_m2) FROM parcels").fetchone()
    assert lo >= 3000 * 0.99 and hi <= 50000 * 1.01  # 0.3–5 ha
    assert count(conn, "parcels", "admin_unit_code IS NULL") == 0
    assert count(conn, "parcels", "admin_unit_code NOT IN (SELECT code FROM admin_units WHERE level = 'commune')") == 0
    # mostly near towns or along roads
    near = count(
        conn,
        "parcels",
        """EXISTS (SELECT 1 FROM reference_features r WHERE r.layer = 'roads'
                                      AND ST_DWithin(r.geom::geography, parcels.geom::geography, 2500))""",
    )
    assert near / demo["parcels"] > 0.7


def test_reported_figures_are_in_the_programmes(conn, demo):
    cumulative = conn.execute(
        "SELECT households, period_start, year FROM programmes WHERE admin_unit_code = '11'"
    ).fetchone()
    assert cumulative == (12000, 2018, 2024)
    households, funding = conn.execute(
        "SELECT sum(households), sum(funding_vnd) FROM programmes WHERE year = 2024 AND period_start IS NULL"
    ).fetchone()
    assert (households, funding) == (1647, 82_735_000_000)
    assert count(conn, "programmes", "note ILIKE '%illustrative%'") == 10


def test_loading_twice_is_safe(conn, demo, catalogue, settings):
    n = count(conn, "parcels")
    assert load_demo(conn, catalogue, settings) is None
    assert count(conn, "parcels") == n
    again = load_demo(conn, catalogue, settings, replace=True)
    assert again == demo and count(conn, "parcels") == n


def test_generator_is_seeded(tmp_path):
    """The shipped files are exactly what the seeded generator writes."""
    import subprocess
    import sys

    from conftest import REPO

    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "generate_demo.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for f in sorted((REPO / "layers" / "demo").glob("*.*")):
        if f.suffix in (".geojson", ".csv"):
            assert (tmp_path / f.name).read_bytes() == f.read_bytes(), f.name
