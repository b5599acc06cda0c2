"""The shipped Điện Biên demo: what it holds, that it loads through the normal import, and that it is safe
to load twice."""

from __future__ import annotations

import json
from datetime import date

import pytest
from helpers import CHECK_E, CHECK_N, count

from gis_service.ingest.demo import load_demo
from gis_service.stores.parcels import est_units_sql


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
    assert 20 <= demo["parcels"] <= 40  # a few dozen parcels, as in the province's programme


def test_admin_units_before_and_after_the_reform(conn, demo):
    rows = conn.execute(
        "SELECT level, count(*), min(valid_from)::text, max(valid_to)::text FROM admin_units "
        "GROUP BY level, valid_to IS NULL ORDER BY level, valid_to IS NULL"
    ).fetchall()
    assert rows == [
        ("commune", 129, "1900-01-01", "2025-06-30"),  # the communes, wards and townships before the reform
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
    wards = conn.execute(
        "SELECT code FROM admin_units WHERE unit_type = 'phường' AND valid_to IS NULL ORDER BY code"
    ).fetchall()
    assert wards == [("03127",), ("03151",), ("03334",)]
    assert count(conn, "admin_units", "unit_type = 'xã' AND valid_to IS NULL") == 42
    before = dict(
        conn.execute(
            "SELECT unit_type, count(*) FROM admin_units WHERE level = 'commune' AND valid_to = '2025-06-30' GROUP BY 1"
        ).fetchall()
    )
    assert before == {"phường": 9, "thị trấn": 5, "xã": 115}  # as the merge table lists them
    # every unit says its boundary is schematic
    assert count(conn, "admin_units", "boundary_note ILIKE '%schematic, not legal%'") == 185


def test_as_of_a_date(conn, demo):
    from sqlalchemy import select

    from gis_service.models.admin_units import AdminUnit, valid_on

    def units(d: date) -> dict:
        q = select(AdminUnit.level).where(valid_on(d))
        sql = str(q.compile(compile_kwargs={"literal_binds": True}))
        rows = conn.execute(sql).fetchall()
        return {lvl: sum(1 for (r,) in rows if r == lvl) for lvl in ("province", "district", "commune")}

    assert units(date(2025, 6, 30)) == {"province": 1, "district": 10, "commune": 129}
    assert units(date(2025, 7, 1)) == {"province": 1, "district": 0, "commune": 45}


def test_schematic_units_tile_the_province(conn, demo):
    prov, districts, communes, former = conn.execute(
        """SELECT (SELECT ST_Area(geom::geography) FROM admin_units WHERE level = 'province'),
                  (SELECT sum(ST_Area(geom::geography)) FROM admin_units WHERE level = 'district'),
                  (SELECT sum(ST_Area(geom::geography)) FROM admin_units WHERE level = 'commune' AND valid_to IS NULL),
                  (SELECT sum(ST_Area(geom::geography)) FROM admin_units WHERE level = 'commune' AND valid_to IS NOT NULL)"""
    ).fetchone()
    assert prov / 1e6 == pytest.approx(9540, rel=0.01)  # the published area, about 9,540 km²
    for total in (districts, communes, former):  # each period's units cover the province once
        assert total == pytest.approx(prov, rel=1e-4)


def test_parcels_are_plausible(conn, demo, catalogue):
    statuses = {s for (s,) in conn.execute("SELECT DISTINCT status FROM parcels")}
    # every stage of the procedure holds a site, and the 20 % reserve's own way out too
    assert statuses == set(catalogue.workflow.order) - {"reserve_elsewhere"}
    lo, hi = conn.execute("SELECT min(area_m2), max(area_m2) FROM parcels").fetchone()
    assert lo >= 3000 * 0.99 and hi <= 40000 * 1.01  # 0.3–4 ha
    assert count(conn, "parcels", "admin_unit_code IS NULL") == 0
    assert count(conn, "parcels", "admin_unit_code NOT IN (SELECT code FROM admin_units WHERE level = 'commune')") == 0
    # mostly in and around Điện Biên Phủ and the former district towns: within 2.5 km of a road
    near = count(
        conn,
        "parcels",
        """EXISTS (SELECT 1 FROM reference_features r WHERE r.layer = 'roads'
                                      AND ST_DWithin(r.geom::geography, parcels.geom::geography, 2500))""",
    )
    assert near / demo["parcels"] > 0.7
    # planning limits that can be built: FAR at most density × floors
    assert count(conn, "parcels", "max_far > max_density / 100.0 * max_floors + 1e-9") == 0
    # each stage's record is there: the plan's units from plan_approved on, the investor from its selection on,
    # a cleared site with households and cost from allocation on, the tenure at handover
    order = catalogue.workflow.main_line()[1:]
    for status, units, investor, cleared, tenure in conn.execute(
        "SELECT status, approved_units, investor_name, clearance_status = 'cleared' AND clearance_households IS NOT NULL "
        "AND clearance_cost_vnd IS NOT NULL, tenure FROM parcels WHERE status = ANY(%s)",
        [order],
    ):
        at = order.index(status)
        assert (units is not None) == (at >= 1) and (investor is not None) == (at >= 3), status
        assert cleared == (at >= 5) and (tenure is not None) == (status == "completed"), status
    # the 20 % reserve only where it applies: the wards of Điện Biên Phủ (an urban area of class III)
    assert count(conn, "parcels", "fund_source = 'commercial_reserve'") >= 1
    assert (
        count(conn, "parcels", "fund_source = 'commercial_reserve' AND admin_unit_code NOT IN ('03127', '03334')") == 0
    )


def test_the_demo_is_at_the_province_programme_scale(conn, demo, settings):
    """About 12 sites of nearly 30 ha for about 3,890 units (Sở Xây dựng, as the press reported), mainly urban:
    the sites past the proposal (not withdrawn, not replaced by a payment), their area, and their units: the approved
    plan's where it exists, otherwise area × net residential ratio × (1 − commercial share) × FAR × net floor ratio
    ÷ unit size, computed here from the settings."""
    rows = conn.execute(
        "SELECT area_m2, approved_units, coalesce(max_far, %s), admin_unit_code FROM parcels "
        "WHERE status NOT IN ('proposed', 'withdrawn', 'reserve_paid', 'reserve_elsewhere')",
        [settings.default_far],
    ).fetchall()
    s = settings
    units = [
        u
        if u is not None
        else int(a * s.net_residential_ratio * (1 - s.commercial_share) * far * s.net_floor_ratio / s.avg_unit_m2)
        for a, u, far, _ in rows
    ]
    hectares = sum(r[0] for r in rows) / 1e4
    assert 12 <= len(rows) <= 13 and 27 <= hectares <= 32 and 3600 <= sum(units) <= 4300
    assert 100 <= sum(units) / hectares <= 160  # the province's ~130 units per hectare, not 254
    urban = sum(r[0] for r in rows if r[3] in ("03127", "03334", "03151", "03328")) / 1e4
    assert urban / hectares > 0.6  # mainly in Điện Biên Phủ, Mường Lay and beside the city
    # the estimate for a site with no plan yet stays near the province's density
    est = conn.execute(
        f"SELECT {est_units_sql(s, 'p')} / (p.area_m2 / 1e4) "
        "FROM parcels p WHERE p.approved_units IS NULL AND p.status = 'programmed'"
    ).fetchall()
    assert est and all(90 <= e <= 180 for (e,) in est)


def test_demand_is_by_eligible_group_and_mainly_urban(conn, demo):
    groups = {g for (g,) in conn.execute("SELECT DISTINCT eligible_group FROM demand")}
    assert groups == {
        "civil_servants",
        "armed_forces",
        "low_income_urban",
        "urban_poor",
        "workers",
        "revolutionary_merit",
        "land_recovered",
    }
    total, urban = conn.execute(
        "SELECT sum(households), sum(households) FILTER (WHERE admin_unit_code IN ('03127', '03334', '03151')) "
        "FROM demand WHERE year = 2026"
    ).fetchone()
    assert 3000 <= total <= 8000 and urban / total > 0.5
    # workers are few: no industrial park is planned
    workers = conn.execute("SELECT sum(households) FROM demand WHERE year = 2026 AND eligible_group = 'workers'")
    assert workers.fetchone()[0] / total < 0.1


def test_reported_figures_are_in_the_programmes(conn, demo):
    cumulative = conn.execute(
        "SELECT households, period_start, year FROM programmes WHERE admin_unit_code = '11'"
    ).fetchone()
    assert cumulative == (12000, 2018, 2024)
    households, funding = conn.execute(
        "SELECT sum(households), sum(funding_vnd) FROM programmes WHERE year = 2024 AND period_start IS NULL"
    ).fetchone()
    assert (households, funding) == (1647 + 572 + 315, 82_735_000_000 + 21_000_000_000 + 15_750_000_000)
    poverty = conn.execute(
        "SELECT sum(households), sum(funding_vnd) FROM programmes WHERE year = 2024 AND programme LIKE '%Giảm nghèo%'"
    ).fetchone()
    assert poverty == (1647, 82_735_000_000)
    merit = conn.execute("SELECT households, funding_vnd FROM programmes WHERE programme LIKE '%người có công%'")
    assert merit.fetchone() == (572, 21_000_000_000)
    front = conn.execute("SELECT households, funding_vnd FROM programmes WHERE programme LIKE '%Vì người nghèo%'")
    assert front.fetchone() == (311 + 4, 15_750_000_000)
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


def test_a_unit_from_a_schematic_boundary_is_said_so(conn, demo, catalogue, settings, tmp_path):
    """The import report warns that the units (and "inside the province") came from schematic boundaries; a
    province's legal boundaries carry no such note and the warning goes."""
    from helpers import parcels_vn2000, write

    from gis_service.ingest.load import import_file

    path = write(parcels_vn2000(2, e0=CHECK_E + 5000, n0=CHECK_N + 5000, prefix="SCH"), tmp_path / "two.gpkg", "gpkg")
    result = import_file(conn, catalogue, settings, path, "parcels")
    assert any("2 parcel(s) were given their administrative unit" in w and "schematic" in w for w in result.warnings)
    conn.execute("UPDATE admin_units SET boundary_note = 'Hồ sơ địa giới hành chính 2025 (legal)'")
    path = write(parcels_vn2000(1, e0=CHECK_E + 5600, n0=CHECK_N + 5000, prefix="LEG"), tmp_path / "one.gpkg", "gpkg")
    assert not any("schematic" in w for w in import_file(conn, catalogue, settings, path, "parcels").warnings)


def test_nothing_of_the_demo_lies_outside_vietnam(conn, demo):
    """Every unit, parcel, road, facility and hazard zone lies on Vietnam's side of the national border (Natural
    Earth 1:10m, layers/sources/vietnam_border.geojson), and the schematic province keeps its published area."""
    from pathlib import Path

    border = (Path(__file__).resolve().parent.parent / "layers" / "sources" / "vietnam_border.geojson").read_text()
    outside = conn.execute(
        # the files keep coordinates to 1e-7° (about 1 cm): the border is widened by about a metre for that rounding
        """WITH vn AS (SELECT ST_Buffer(ST_SetSRID(ST_GeomFromGeoJSON(%s::jsonb -> 'features' -> 0 ->> 'geometry'), 4326),
                                       0.00001) AS g)
           SELECT kind, code FROM (
               SELECT 'unit' AS kind, code, geom FROM admin_units
               UNION ALL SELECT 'parcel', code, geom FROM parcels
               UNION ALL SELECT layer, properties ->> 'name', geom FROM reference_features) f, vn
           WHERE ST_Area(ST_Difference(f.geom, vn.g)::geography) > 1
              OR ST_Length(ST_Difference(f.geom, vn.g)::geography) > 1
              OR (GeometryType(f.geom) = 'POINT' AND NOT ST_Intersects(f.geom, vn.g))""",
        [border],
    ).fetchall()
    assert outside == []
    assert conn.execute("SELECT count(*) FROM reference_features").fetchone()[0] > 100
    km2 = conn.execute(
        "SELECT ST_Area(geom::geography) / 1e6 FROM admin_units WHERE level = 'province' AND valid_to IS NULL"
    ).fetchone()[0]
    assert abs(km2 - 9539.93) / 9539.93 < 0.001  # the official 9,539.93 km²
