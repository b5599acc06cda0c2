"""Analytics checked against numbers computed independently in the test: coverage from the shipped demo
files, bottlenecks and suitability on small hand-made layouts where the right answer is obvious."""

from __future__ import annotations

import csv
import io
import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import psycopg
import pytest
import shapely
from conftest import REPO, api_client, token_for
from helpers import CHECK_E, CHECK_N, GEOD, TO_LL, square

from gis_service.core.config import Settings
from gis_service.core.db import libpq_dsn
from gis_service.ingest.write import write_batch
from gis_service.validation import Options

DEMO = REPO / "layers" / "demo"


def lonlat(geom):
    return shapely.transform(geom, lambda c: np.column_stack(TO_LL.transform(c[:, 0], c[:, 1])))


# -- coverage ------------------------------------------------------------------------------------------


def independent_coverage(url: str, as_of: date, level: str, published_only: bool = True) -> dict:
    """Coverage from first principles: shapely attribution, pyproj areas, the demo CSV files. The public
    (these tests call anonymously) is told about published parcels only."""
    s = Settings()
    with psycopg.connect(libpq_dsn(url)) as c:
        units = c.execute(
            "SELECT code, ST_AsBinary(geom) FROM admin_units WHERE level = %s AND valid_from <= %s "
            "AND (valid_to IS NULL OR valid_to >= %s)",
            [level, as_of, as_of],
        ).fetchall()
        parcels = c.execute(
            "SELECT status, max_far, ST_AsBinary(geom), decision_date, created_at::date, approved_units FROM parcels "
            "WHERE published OR NOT %s",
            [published_only],
        ).fetchall()
    shapes = {code: shapely.from_wkb(bytes(w)) for code, w in units}
    out = {code: {"parcels": 0, "est_units": 0, "area_m2": 0.0} for code in shapes}
    share = s.net_residential_ratio * (1 - s.commercial_share)
    for status, far, wkb, decided, recorded, approved in parcels:
        # in the fund on `as_of` once decided or recorded, whichever came first
        if min(d for d in (decided, recorded) if d is not None) > as_of:
            continue
        g = shapely.from_wkb(bytes(wkb))
        spot = g.point_on_surface()
        code = next((k for k, u in shapes.items() if u.intersects(spot)), None)
        if code is None or status in ("withdrawn", "reserve_paid", "reserve_elsewhere"):  # no longer in the fund
            continue
        area = abs(GEOD.geometry_area_perimeter(g)[0])
        out[code]["parcels"] += 1
        out[code]["area_m2"] += area
        # the approved plan's units, else the estimate
        out[code]["est_units"] += (
            approved
            if approved is not None
            else math.floor(area * share * (far or s.default_far) * s.net_floor_ratio / s.avg_unit_m2)
        )
    demand = pd.read_csv(DEMO / "demand.csv", dtype={"admin_unit_code": str})
    for code in out:
        rows = demand[(demand.admin_unit_code == code) & (demand.year <= as_of.year)]
        # the latest year's demand, summed over the eligible groups
        out[code]["households"] = int(rows[rows.year == rows.year.max()].households.sum()) if len(rows) else None
    prog = pd.read_csv(DEMO / "programmes.csv", dtype={"admin_unit_code": str})
    prog = prog[prog.period_start.isna() & (prog.year <= as_of.year)]
    for code in out:
        rows = prog[prog.admin_unit_code == code]
        out[code]["programme_households"] = int(rows.households.sum()) if len(rows) else None
    return out


@pytest.mark.parametrize("as_of,level", [(date(2025, 1, 1), "district"), (date(2026, 6, 1), "commune")])
def test_coverage_matches_an_independent_computation(api, demo_ro, as_of, level):
    body = api.get(f"/analytics/coverage?as_of={as_of}").json()
    assert body["level"] == level and body["as_of"] == as_of.isoformat()
    expected = independent_coverage(demo_ro, as_of, level)
    got = {u["code"]: u for u in body["units"]}
    assert got.keys() == expected.keys()
    for code, e in expected.items():
        g = got[code]
        assert g["parcels"] == e["parcels"], code
        assert g["area_m2"] == pytest.approx(e["area_m2"], rel=1e-6, abs=0.2), code
        assert abs(g["est_units"] - e["est_units"]) <= e["parcels"], code  # floor() per parcel, areas to 1e-6
        assert g["households"] == e["households"], code
        ratio = g["est_units"] / e["households"] if e["households"] else None
        assert g["coverage_ratio"] == (pytest.approx(ratio, abs=1e-4) if ratio is not None else None)
        assert g["short_of_land"] == bool(e["households"] and g["est_units"] < e["households"])
        assert g["programme_households"] == e["programme_households"], code
    totals = body["totals"]
    assert totals["parcels"] == sum(e["parcels"] for e in expected.values())
    assert totals["est_units"] == sum(u["est_units"] for u in body["units"])
    assert totals["units_short_of_land"] == sum(u["short_of_land"] for u in body["units"])
    if level == "district":  # the reported 2024 figures, split by district, add up again
        assert totals["programme_households"] == 1647 and totals["programme_funding_vnd"] == 82_735_000_000


def test_coverage_flags_units_short_of_land_and_speaks_csv(api):
    body = api.get("/analytics/coverage?as_of=2026-06-01&level=commune").json()
    short = [u for u in body["units"] if u["short_of_land"]]
    assert short and all(u["households"] and u["est_units"] < u["households"] for u in short)
    assert all(u["shortfall_units"] == u["households"] - u["est_units"] for u in short)
    r = api.get("/analytics/coverage?as_of=2026-06-01&level=commune&f=csv")
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the diacritics
    # Vietnamese (the default): ';' between fields and decimal commas, as Excel with Vietnamese settings expects
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 45 and {"Mã", "Tỷ lệ đáp ứng", "Thiếu quỹ đất"} <= set(rows[0])
    by_code = {u["code"]: u for u in body["units"]}
    for row in rows:
        u = by_code[row["Mã"]]
        assert row["Thiếu quỹ đất"] == ("có" if u["short_of_land"] else "không")
        assert row["Số căn hộ ước tính"] == str(u["est_units"])
        if u["coverage_ratio"] is not None:
            assert float(row["Tỷ lệ đáp ứng"].replace(",", ".")) == pytest.approx(u["coverage_ratio"], abs=0.005)
    assert any("," in row["Diện tích (ha)"] for row in rows) and not any("." in row["Diện tích (ha)"] for row in rows)
    # English: ',' and decimal points
    en = api.get("/analytics/coverage?as_of=2026-06-01&level=commune&f=csv&lang=en").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(en)))
    assert len(rows) == 45 and {"Code", "Coverage ratio", "Short of land"} <= set(rows[0])
    assert {r["Short of land"] for r in rows} <= {"yes", "no"}
    one = api.get("/analytics/coverage?as_of=2024-06-01&unit=094").json()
    assert [u["code"] for u in one["units"]] == ["094"]
    assert api.get("/analytics/coverage?level=hamlet").status_code == 400


# -- bottlenecks -----------------------------------------------------------------------------------------


def frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, dtype=object)


def put(conn, catalogue, rows):
    with conn.transaction():
        write_batch(conn, catalogue, catalogue.layer("parcels"), frame(rows), Options(keep_status=True))


def parcel(code: str, i: int, **kw) -> dict:
    return {
        "code": code,
        "land_use_code": "ODT",
        "published": True,
        "geometry": lonlat(square(CHECK_E + 200 * i, CHECK_N, 80)),
        **kw,
    }


def test_bottleneck_report(conn, catalogue, database, tmp_path):
    today = date.today()
    ago = lambda d: (today - timedelta(days=d)).isoformat()  # noqa: E731
    sx, ubnd = "Sở Xây dựng tỉnh Điện Biên", "UBND huyện Tuần Giáo"
    put(
        conn,
        catalogue,
        [
            parcel("P1", 1, status="proposed", responsible_level="province", responsible_agency=sx),
            parcel(
                "P2",
                2,
                status="plan_approved",
                decision_date=ago(200),
                clearance_status="not_started",
                responsible_level="province",
                responsible_agency=sx,
            ),
            parcel(
                "P3",
                3,
                status="plan_approved",
                decision_date=ago(100),
                clearance_status="not_started",
                responsible_level="province",
                responsible_agency=sx,
            ),
            parcel(
                "P4",
                4,
                status="call_published",
                decision_date=ago(400),
                clearance_status="cleared",
                responsible_level="province",
                responsible_agency=sx,
            ),
            parcel(
                "P5",
                5,
                status="under_construction",
                decision_date=ago(100),
                clearance_status="cleared",
                responsible_level="district",
                responsible_agency=ubnd,
            ),
            parcel(
                "P6",
                6,
                status="completed",
                decision_date=ago(900),
                responsible_level="district",
                responsible_agency=ubnd,
            ),
            parcel(
                "P7",
                7,
                status="proposed",
                decision_date=ago(500),
                responsible_level="commune",
                responsible_agency="UBND xã Quài Tở",
            ),
        ],
    )
    # P7 is approved today: its time in the stage counts from the transition, not the old decision date
    from gis_service.security import Principal
    from gis_service.services.lifecycle import transition

    with conn.transaction():
        transition(
            conn,
            catalogue.workflow,
            conn.execute("SELECT id FROM parcels WHERE code = 'P7'").fetchone()[0],
            "programmed",
            Principal("admin", name="test"),
            "phê duyệt",
            "proposed",
            "15/QĐ-UBND",
            date.today(),
        )
    with api_client(database, tmp_path) as client:
        token = token_for(database, "admin")
        assert client.get("/analytics/bottlenecks").status_code == 401  # for planners and admins only: sign in
        investor = token_for(database, "investor")
        assert client.get("/analytics/bottlenecks", headers={"Authorization": f"Bearer {investor}"}).status_code == 403
        now = client.get("/analytics/bottlenecks", headers={"Authorization": f"Bearer {token}"}).json()
        later = client.get(
            f"/analytics/bottlenecks?as_of={(today + timedelta(days=400)).isoformat()}",
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        csv_text = client.get("/analytics/bottlenecks?f=csv", headers={"Authorization": f"Bearer {token}"}).text
    found = {(f["code"], f["kind"]) for f in now["findings"]}
    assert found == {
        ("P2", "stage_overdue"),
        ("P2", "clearance_not_started"),
        ("P4", "stage_overdue"),
        ("P5", "district_responsibility"),
    }
    p2 = next(f for f in now["findings"] if f["code"] == "P2" and f["kind"] == "stage_overdue")
    assert p2["days_in_stage"] == 200 and p2["limit_days"] == 180 and p2["in_stage_since"] == ago(200)
    groups = {(g["responsible_level"], g["responsible_agency"]): g for g in now["groups"]}
    assert groups[("province", sx)]["findings"] == 3 and groups[("province", sx)]["parcels"] == ["P2", "P4"]
    assert groups[("district", ubnd)]["by_kind"] == {"district_responsibility": 1}
    assert now["totals"] == {"stage_overdue": 2, "clearance_not_started": 1, "district_responsibility": 1}
    later_found = {(f["code"], f["kind"]) for f in later["findings"]}
    assert ("P1", "stage_overdue") in later_found and ("P7", "stage_overdue") in later_found
    assert ("P3", "clearance_not_started") in later_found and not any(c == "P6" for c, _ in later_found)
    assert csv_text.lstrip("\ufeff").startswith("Vấn đề;Mã;Tên;Giai đoạn")


# -- suitability ---------------------------------------------------------------------------------------


@pytest.fixture
def layout(conn, catalogue, database):
    """A road along N0; an administrative centre, a school and a health station 300 m north of it;
    a high landslide zone in the west. A is next to everything, B 3 km away, C next to everything but in
    the hazard and not cleared, D 9 km away and not cleared."""
    from shapely.geometry import LineString, Point, box

    e0, n0 = CHECK_E, CHECK_N
    ref = [
        ("roads", {"name": "QL thử", "road_class": "national"}, LineString([(e0 - 5000, n0), (e0 + 5000, n0)])),
        ("facilities", {"name": "UBND xã", "kind": "admin_centre"}, Point(e0 + 250, n0 + 300)),
        ("facilities", {"name": "Trường", "kind": "school"}, Point(e0 + 250, n0 + 310)),
        ("facilities", {"name": "Trạm y tế", "kind": "health"}, Point(e0 + 260, n0 + 300)),
        (
            "hazard_zones",
            {"name": "Sạt lở", "hazard": "landslide", "severity": "high"},
            box(e0 - 800, n0 + 20, e0 - 200, n0 + 400),
        ),
    ]
    for layer, props, g in ref:
        with conn.transaction():
            write_batch(
                conn,
                catalogue,
                catalogue.layer(layer),
                frame([{**props, "geometry": lonlat(g)}]),
                Options(keep_status=True),
            )
    sites = [
        ("A", 200, 50, "cleared"),
        ("B", 200, 3000, "cleared"),
        ("C", -700, 50, "not_started"),
        ("D", 200, 9000, "not_started"),
    ]
    put(
        conn,
        catalogue,
        [
            {
                "code": c,
                "status": "call_published",
                "published": True,
                "clearance_status": cl,
                "geometry": lonlat(box(e0 + dx, n0 + dy, e0 + dx + 100, n0 + dy + 100)),
            }
            for c, dx, dy, cl in sites
        ],
    )
    return database


def rank(client, query=""):
    r = client.get(f"/analytics/suitability?{query}")
    assert r.status_code == 200, r.text
    return r.json()["sites"]


def test_suitability_order_and_explanations(layout, tmp_path):
    with api_client(layout, tmp_path) as client:
        sites = rank(client)
        assert [s["code"] for s in sites] == ["A", "B", "C", "D"]
        a, b, c, d = sites
        assert a["score"] == pytest.approx(1.0) and a["criteria"]["road"]["distance_m"] == pytest.approx(50, rel=0.01)
        assert b["criteria"]["road"]["distance_m"] == pytest.approx(3000, rel=0.01)
        assert b["criteria"]["road"]["score"] == pytest.approx(
            (5000 - b["criteria"]["road"]["distance_m"]) / 4800, abs=1e-3
        )
        assert c["hazards"] == [{"hazard": "landslide", "severity": "high", "name": "Sạt lở"}]
        assert c["hazard_penalty"] == pytest.approx(0.3)
        for s in sites:  # each score is the sum of its explained parts
            parts = sum(v["contribution"] for v in s["criteria"].values()) - s["hazard_penalty"]
            assert s["score"] == pytest.approx(max(0.0, parts), abs=2e-4)
        assert d["criteria"]["clearance"] == {
            "weight": 0.15,
            "score": 0.0,
            "contribution": 0.0,
            "distance_m": None,
            "value": "not_started",
        }
        assert a["area_ha"] == pytest.approx(1.0, rel=0.01) and a["criteria"]["area"]["score"] == 1.0
        # the request's weights and filters
        assert [s["code"] for s in rank(client, "hazards=exclude")] == ["A", "B", "D"]
        only_clearance = rank(client, "w_road=0&w_town=0&w_school=0&w_health=0&w_area=0&w_clearance=1&hazards=ignore")
        assert [s["score"] for s in only_clearance] == [1.0, 1.0, 0.0, 0.0]
        assert [s["code"] for s in rank(client, "limit=2")] == ["A", "B"]
        assert client.get("/analytics/suitability?w_road=-1").status_code == 400
        assert (
            client.get(
                "/analytics/suitability?w_road=0&w_town=0&w_school=0&w_health=0&w_area=0&w_clearance=0"
            ).status_code
            == 400
        )
        text = client.get("/analytics/suitability?f=csv").content.decode("utf-8-sig")
        assert text.splitlines()[1].startswith("1;A;") and text.splitlines()[0].startswith("Hạng;Mã;")
        text = client.get("/analytics/suitability?f=csv&lang=en").content.decode("utf-8-sig")
        assert text.splitlines()[1].startswith("1,A,") and text.splitlines()[0].startswith("Rank,Code,")


def test_suitability_uses_index_searches_not_a_cross_join(layout):
    """Per parcel, the nearest road and facilities come from KNN searches on the partial GiST indexes (the
    plans of the statements nested in nearest_references_m, as auto_explain logs them when the parcels are
    measured), never a cross join; the measuring may run in parallel workers; and the ranking reads the
    measures kept in parcel_measures, searching nothing again."""
    from gis_service.analytics.suitability import Request
    from gis_service.stores.analytics import ranking_sql

    sql, params = ranking_sql(Request(), Settings())
    with psycopg.connect(libpq_dsn(layout), autocommit=True) as c:
        logged: list[str] = []
        c.add_notice_handler(lambda d: logged.append(d.message_primary or ""))
        c.execute("LOAD 'auto_explain'")
        for name, value in (
            ("auto_explain.log_min_duration", "0"),
            ("auto_explain.log_nested_statements", "on"),
            ("auto_explain.log_level", "notice"),
            ("enable_seqscan", "off"),
        ):
            c.execute("SELECT set_config(%s, %s, false)", [name, value])  # tiny tables: show the index path
        c.execute("SELECT parcel_measures_of(ARRAY(SELECT id FROM parcels))")  # what the triggers run
        for name in ("auto_explain.log_min_duration", "enable_seqscan"):
            c.execute("SELECT set_config(%s, %s, false)", [name, "-1" if "duration" in name else "on"])
        assert len(c.execute(sql, params).fetchall()) == 4
        top = "\n".join(r[0] for r in c.execute("EXPLAIN " + sql, params))
        # the per-parcel work may run in parallel workers (on a fund big enough for the planner to want them):
        # the functions it calls are parallel safe
        safety = dict(
            c.execute(
                "SELECT proname, proparallel FROM pg_proc WHERE proname IN "
                "('nearest_references_m', 'intersecting_hazards')"
            ).fetchall()
        )
    nested = "\n".join(m for m in logged if "nearest_references_m" not in m.split("\n", 1)[0] or "Index Scan" in m)
    for index in ("role_road", "role_admin_centre", "role_school", "role_health"):
        assert f"Index Scan using ix_reference_features_{index} " in nested, index
    assert nested.count("Order By: (geom <-> $") >= 4 and "Seq Scan on reference_features" not in nested
    assert "Function Scan on nearest_references_m" in nested  # one KNN call per parcel, not a join of all pairs
    # the ranking reads parcel_measures; the live search runs only for a parcel without a stored row (gated)
    assert "parcel_measures" in top and "reference_features" not in top
    lines = top.splitlines()
    live = [i for i, line in enumerate(lines) if "Function Scan on nearest_references_m" in line]
    assert live and all("One-Time Filter: (n.parcel_id IS NULL)" in lines[i - 1] for i in live), top
    assert safety == {"nearest_references_m": "s", "intersecting_hazards": "s"}
