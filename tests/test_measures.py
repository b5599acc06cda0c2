"""The distances to roads, centres, schools and health facilities, and the hazards, of each parcel a ranking can
rank (those in the call for investors) are kept in parcel_measures (migrations 0017, 0018) and stay equal to a live
search of the reference layers as parcels and reference features are added, moved and removed, and as parcels enter
and leave the call; the ranking reads them."""

from __future__ import annotations

import psycopg
from conftest import api_client

from gis_service.core.db import libpq_dsn

RANKED = "p.status IN (SELECT id FROM statuses WHERE ranked)"
LIVE = f"""
SELECT p.id, n.road_m, n.town_m, n.school_m, n.health_m, intersecting_hazards(p.geom)
FROM parcels p CROSS JOIN LATERAL nearest_references_m(p.geom) n WHERE {RANKED} ORDER BY p.id
"""
STORED = f"""
SELECT p.id, m.road_m, m.town_m, m.school_m, m.health_m, m.hazards
FROM parcels p LEFT JOIN parcel_measures m ON m.parcel_id = p.id AND m.province_code = p.province_code
WHERE {RANKED} ORDER BY p.id
"""


def _same(c) -> list[tuple]:
    live, stored = c.execute(LIVE).fetchall(), c.execute(STORED).fetchall()
    assert stored == live
    assert c.execute("SELECT count(*) FROM parcel_measures").fetchone()[0] == len(live)  # no other parcel's
    return stored


def _school_beside(c, x: float, y: float, name: str) -> int:
    """A school opened about 30 m east of (x, y); its id."""
    return c.execute(
        "INSERT INTO reference_features (layer, role, properties, geom) VALUES ('facilities', 'facility:school', "
        "jsonb_build_object('kind', 'school', 'name', %s::text), ST_SetSRID(ST_MakePoint(%s + 0.0003, %s), 4326)) "
        "RETURNING id",
        [name, x, y],
    ).fetchone()[0]


def test_measures_stay_equal_to_a_live_search(demo_db, tmp_path):
    with psycopg.connect(libpq_dsn(demo_db), autocommit=True) as c:
        assert c.execute("SELECT array_agg(id) FROM statuses WHERE ranked").fetchone()[0] == ["call_published"]
        before = {r[0]: r for r in _same(c)}
        assert len(before) >= 3 and all(r[1] is not None and r[3] is not None for r in before.values())
        pid, x, y = c.execute(
            "SELECT id, ST_X(pos), ST_Y(pos) FROM parcels WHERE status = 'call_published' AND published ORDER BY id "
            "LIMIT 1"
        ).fetchone()
        # a school opens 30 m from the site: its distance drops; it moves away; it closes
        school = _school_beside(c, x, y, "Trường {{ x }} <script>")
        after = {r[0]: r for r in _same(c)}
        assert after[pid][3] < 100 < before[pid][3]
        c.execute("UPDATE reference_features SET geom = ST_Translate(geom, 0.5, 0) WHERE id = %s", [school])
        _same(c)
        c.execute("DELETE FROM reference_features WHERE id = %s", [school])
        assert {r[0]: r for r in _same(c)} == before
        # a hazard zone over the site, then gone; a road's role changed
        zone = c.execute(
            "INSERT INTO reference_features (layer, role, properties, geom) VALUES ('hazard_zones', 'hazard', "
            '\'{"hazard": "landslide", "severity": "high", "name": "Sạt lở"}\', '
            "ST_Buffer(ST_SetSRID(ST_MakePoint(%s, %s), 4326), 0.01)) RETURNING id",
            [x, y],
        ).fetchone()[0]
        assert {r[0]: r for r in _same(c)}[pid][5][0]["hazard"] == "landslide"
        c.execute("DELETE FROM reference_features WHERE id = %s", [zone])
        road = c.execute("SELECT min(id) FROM reference_features WHERE role = 'road'").fetchone()[0]
        c.execute("UPDATE reference_features SET role = NULL WHERE id = %s", [road])
        _same(c)
        c.execute("UPDATE reference_features SET role = 'road' WHERE id = %s", [road])
        assert {r[0]: r for r in _same(c)} == before
        # parcels: one moved, one added, one removed
        c.execute("UPDATE parcels SET geom = ST_Multi(ST_Translate(geom, 0.02, 0.01)) WHERE id = %s", [pid])
        c.execute("UPDATE parcels SET name = name || ' mới' WHERE id <> %s", [pid])  # no move: nothing to measure
        new = c.execute(
            "INSERT INTO parcels (code, province_code, geom) SELECT 'MEASURE-1', '11', ST_Translate(geom, 0.03, 0) "
            "FROM parcels WHERE id = %s RETURNING id",
            [pid],
        ).fetchone()[0]
        c.execute("DELETE FROM parcels WHERE id = %s", [new])
        moved = {r[0]: r for r in _same(c)}
        assert moved[pid] != before[pid]
        # a parcel that enters the call is measured, one that leaves it is not any more
        other = c.execute("SELECT id FROM parcels WHERE status = 'plan_approved' ORDER BY id LIMIT 1").fetchone()[0]
        c.execute("UPDATE parcels SET status = 'call_published' WHERE id = %s", [other])
        assert other in {r[0] for r in _same(c)}
        c.execute("UPDATE parcels SET status = 'investor_selected' WHERE id = %s", [other])
        assert other not in {r[0] for r in _same(c)}
        c.execute("UPDATE parcels SET geom = ST_Multi(ST_Translate(geom, -0.02, -0.01)) WHERE id = %s", [pid])
        _same(c)
    # the ranking reads them: a school next to the site shows in its explanation
    with psycopg.connect(libpq_dsn(demo_db), autocommit=True) as c:
        _school_beside(c, x, y, "Trường mới")
        near = c.execute("SELECT school_m FROM parcel_measures WHERE parcel_id = %s", [pid]).fetchone()[0]
    with api_client(demo_db, tmp_path) as client:
        sites = client.get("/analytics/suitability?limit=500").json()["sites"]
    site = next(s for s in sites if s["id"] == pid)
    assert abs(site["criteria"]["school"]["distance_m"] - near) < 1, site["criteria"]["school"]


def test_a_parcel_without_stored_measures_is_ranked_on_a_live_search(demo_db, tmp_path):
    """Parcels outside the call (a planner's statuses, one site's dossier) have no stored measures, and a stored row
    may be missing (a bulk load with triggers off): the ranking measures those live instead of leaving them out."""
    from gis_service.analytics import suitability as su
    from gis_service.core.config import Settings

    settings = Settings(database_url=demo_db, home=tmp_path / "home")
    with psycopg.connect(libpq_dsn(demo_db), autocommit=True) as c:
        live = {
            r[0]: r[1:]
            for r in c.execute(
                "SELECT p.id, n.road_m, n.town_m, n.school_m, n.health_m FROM parcels p "
                "CROSS JOIN LATERAL nearest_references_m(p.geom) n ORDER BY p.id"
            )
        }
        approved = [r[0] for r in c.execute("SELECT id FROM parcels WHERE status = 'plan_approved' ORDER BY id")]
        in_call = c.execute("SELECT min(parcel_id) FROM parcel_measures").fetchone()[0]
        assert approved and in_call and not set(approved) & {in_call}
        c.execute("DELETE FROM parcel_measures WHERE parcel_id = %s", [in_call])
        try:
            for statuses, ids in ((("plan_approved",), approved), (None, [in_call])):
                req = su.Request(statuses=statuses, published_only=False, limit=None)
                ranked = {s["id"]: s for s in su.rank(c, settings, req)}
                assert set(ids) <= set(ranked)
                for pid in ids:
                    got = tuple(ranked[pid]["criteria"][k]["distance_m"] for k in ("road", "town", "school", "health"))
                    assert got == tuple(None if v is None else round(v, 1) for v in live[pid])
        finally:
            c.execute("SELECT parcel_measures_sync()")
        assert c.execute("SELECT count(*) FROM parcel_measures WHERE parcel_id = %s", [in_call]).fetchone()[0] == 1


def test_a_reference_change_writes_only_the_measures_it_alters(demo_db):
    """A school opened at the end of a row of sites re-measures every site within reach of it (migration 0017) but writes only
    the rows whose nearest school it changes (0021): the table does not grow with every reference edit."""
    with psycopg.connect(libpq_dsn(demo_db)) as c:
        pid, x, y = c.execute(
            "SELECT id, ST_X(pos), ST_Y(pos) FROM parcels WHERE status = 'call_published' AND published ORDER BY id "
            "LIMIT 1"
        ).fetchone()
        # twelve more sites in the call, 300 m apart eastwards from the first
        c.execute(
            "INSERT INTO parcels (code, province_code, status, published, geom) SELECT 'REACH-' || i, '11', "
            "'call_published', true, ST_Translate(geom, 0.003 * i, 0.0005) FROM parcels, generate_series(1, 12) i "
            "WHERE id = %s",
            [pid],
        )
        c.commit()
        before = {r[0]: r for r in _same(c)}
        reach = c.execute("SELECT max(school_m) FROM parcel_measures").fetchone()[0]
        sx, sy = x + 0.039, y + 0.0005  # the school: 300 m east of the last of them
        within = c.execute(
            "SELECT count(*) FROM parcel_measures m JOIN parcels p ON p.id = m.parcel_id "
            "WHERE ST_DWithin(p.geom::geography, ST_SetSRID(ST_MakePoint(%s + 0.0003, %s), 4326)::geography, %s)",
            [sx, sy, reach],
        ).fetchone()[0]
        assert within >= 10  # the change reaches most of them...
        _school_beside(c, sx, sy, "Trường mới")
        after = {r[0]: r for r in _same(c)}
        changed = [i for i in after if after[i] != before[i]]
        assert 0 < len(changed) < within and pid not in changed  # ...and is the nearest school of some
        written = c.execute(
            "SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'parcel_measures'"
        ).fetchone()[0]
        assert written == len(changed)
        c.rollback()
