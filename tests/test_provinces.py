"""Two provinces in one database: a second province's units, parcels, demand and programmes are added beside
Điện Biên's, and nothing of them appears in Điện Biên's views (coverage, bottlenecks, suitability, the dashboard,
the maps); the feature collection stays national."""

from __future__ import annotations

import io
import re

import openpyxl
import psycopg
from conftest import api_client, token_for

from gis_service.core.db import libpq_dsn

# a second province, far enough north not to touch Điện Biên's outline (a test's province, not Lai Châu's shape)
OTHER = "12"
AREA = "ST_Multi(ST_MakeEnvelope(102.0, 22.65, 104.5, 24.0, 4326))"


def sql(url, q, params=None):
    with psycopg.connect(libpq_dsn(url), autocommit=True) as c:
        cur = c.execute(q, params)
        return cur.fetchall() if cur.description else None


def add_second_province(url: str) -> int:
    sql(
        url,
        f"""INSERT INTO admin_units (code, name, level, unit_type, parent_code, valid_from, boundary_note, geom) VALUES
            ('{OTHER}', 'Tỉnh thử nghiệm', 'province', 'tỉnh', NULL, '2004-01-01', 'test', {AREA}),
            ('03999', 'Xã thử nghiệm', 'commune', 'xã', '{OTHER}', '2025-07-01', 'test', {AREA})""",
    )
    sql(
        url,
        "INSERT INTO demand (admin_unit_code, year, eligible_group, households) VALUES ('03999', 2026, 'all', 9000)",
    )
    sql(
        url,
        "INSERT INTO programmes (admin_unit_code, year, programme, households, funding_vnd) "
        f"VALUES ('{OTHER}', 2024, 'Chương trình của tỉnh khác', 777, 7770000000)",
    )
    # every Điện Biên parcel again, moved into the other province, in the same stages
    return sql(
        url,
        "INSERT INTO parcels (code, name, province_code, admin_unit_code, status, fund_source, published, max_far, "
        "max_density, max_floors, decision_no, decision_date, clearance_status, approved_units, geom) "
        f"SELECT code || '-X', name, '{OTHER}', '03999', status, fund_source, published, max_far, max_density, "
        "max_floors, decision_no, decision_date, clearance_status, approved_units, ST_Translate(geom, 0, 1.5) "
        "FROM parcels WHERE province_code = '11' RETURNING id",
    ).__len__()


def views(url: str, home) -> dict:
    """What Điện Biên's views say, for the public and for a provincial planner."""
    planner = {"Authorization": f"Bearer {token_for(url, 'planner', '11')}"}
    out: dict = {}
    with api_client(url, home) as c:
        out["coverage"] = c.get("/analytics/coverage?as_of=2026-11-01").json()
        out["coverage_planner"] = c.get("/analytics/coverage?as_of=2026-11-01", headers=planner).json()
        out["suitability"] = [s["code"] for s in c.get("/analytics/suitability?limit=500").json()["sites"]]
        b = c.get("/analytics/bottlenecks?as_of=2026-11-01", headers=planner).json()
        out["bottlenecks"] = sorted((f["code"], f["kind"]) for f in b["findings"])
        wb = openpyxl.load_workbook(io.BytesIO(c.get("/dashboard?as_of=2026-11-01&f=xlsx", headers=planner).content))
        # every sheet but the last (who viewed it, and when)
        out["dashboard"] = [[[cell.value for cell in row] for row in ws.iter_rows()] for ws in wb.worksheets[:-1]]
        investor_map = c.get("/maps/investor").text
        out["investor_map"] = sorted(set(re.findall(r"NOXH-[\w-]+", investor_map)))
        planner_map = c.get("/maps/planner", headers=planner).text
        out["planner_map"] = sorted(set(re.findall(r"NOXH-[\w-]+", planner_map)))
    for key in ("coverage", "coverage_planner"):
        out[key].pop("generated_at", None)
    return out


def test_a_second_province_never_appears_in_dien_bien_s_views(demo_db, tmp_path):
    national = sql(demo_db, "SELECT count(*) FROM parcels WHERE published")[0][0]
    before = views(demo_db, tmp_path / "a")
    assert before["suitability"] and before["bottlenecks"] and before["investor_map"]
    added = add_second_province(demo_db)
    assert added >= 20
    after = views(demo_db, tmp_path / "b")
    for key in before:
        assert after[key] == before[key], key
    assert not any(code.endswith("-X") for code in after["investor_map"] + after["planner_map"] + after["suitability"])
    # the feature collection stays national: the other province's published parcels are in it
    with api_client(demo_db, tmp_path / "c") as c:
        items = c.get("/collections/parcels/items?limit=1").json()
    assert (
        items["numberMatched"]
        == national + sql(demo_db, f"SELECT count(*) FROM parcels WHERE published AND province_code = '{OTHER}'")[0][0]
    )


def test_a_view_of_the_other_province_is_asked_for_by_its_code(demo_db, tmp_path):
    add_second_province(demo_db)
    planner = {"Authorization": f"Bearer {token_for(demo_db, 'planner', '11')}"}
    admin = {"Authorization": f"Bearer {token_for(demo_db, 'admin')}"}
    other_sites = sql(
        demo_db,
        f"SELECT count(*) FROM parcels WHERE province_code = '{OTHER}' AND published AND status = 'call_published'",
    )[0][0]
    assert other_sites > 0
    with api_client(demo_db, tmp_path) as c:
        cov = c.get(f"/analytics/coverage?as_of=2026-11-01&province={OTHER}").json()
        assert [u["code"] for u in cov["units"]] == ["03999"]
        assert cov["units"][0]["households"] == 9000 and cov["units"][0]["parcels"] > 0
        sites = [s["code"] for s in c.get(f"/analytics/suitability?limit=500&province={OTHER}").json()["sites"]]
        assert len(sites) == other_sites and all(code.endswith("-X") for code in sites)
        own = [s["code"] for s in c.get("/analytics/suitability?limit=500&province=11").json()["sites"]]
        assert own and not any(code.endswith("-X") for code in own)
        b = c.get(f"/analytics/bottlenecks?as_of=2026-11-01&province={OTHER}", headers=admin).json()
        assert b["findings"] and all(f["code"].endswith("-X") for f in b["findings"])
        # a province this database does not hold, a malformed code, a planner of another province
        r = c.get("/analytics/coverage?province=99")
        assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
        assert "99" in r.json()["detail"] and "11" in r.json()["detail"]
        assert c.get("/analytics/coverage?province=%7B%7B1%7D%7D%3Cscript%3E").status_code == 400
        r = c.get(f"/analytics/bottlenecks?as_of=2026-11-01&province={OTHER}", headers=planner)
        assert r.status_code == 403 and "11" in r.json()["detail"]
