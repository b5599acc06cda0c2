"""What Citus needs, proved on plain PostgreSQL (Citus cannot be installed from the registries CI reaches): the
history's actor and reason travel as `SET LOCAL` statements (Citus sends those to the workers; it drops what
set_config() set), and every request of Điện Biên's views reads one partition of parcels, its own, when a second
province has its own partition beside it (the plans are the server's own, logged by auto_explain)."""

from __future__ import annotations

import re

import psycopg
from conftest import TEST_HOME, TEST_PORT, admin, api_client, app_url, token_for
from sqlalchemy.engine import make_url
from test_provinces import OTHER, add_second_province, sql, views

from gis_service.core.db import libpq_dsn
from gis_service.core.embedded import Cluster
from gis_service.stores.citus import TABLES_SQL, CitusStore
from gis_service.stores.history import HistoryStore

HOSTILE = "o'brien {{ x }} {# <script>\"; DROP TABLE parcels; --"


def test_the_history_actor_is_set_by_set_local_statements(demo_db):
    with psycopg.connect(libpq_dsn(app_url(demo_db))) as c:
        pid = c.info.backend_pid
        HistoryStore(c).set_actor(HOSTILE, "lý do {{ }}")
        with admin(demo_db) as watcher:
            state, last = watcher.execute("SELECT state, query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
        assert state == "idle in transaction"
        assert last.startswith("SET LOCAL") and "landfund" in last and "reason" in last, last
        assert HistoryStore(c).actor() == HOSTILE
        c.execute("UPDATE parcels SET name = name || ' ' WHERE id = (SELECT min(id) FROM parcels)")
        actor, reason = c.execute("SELECT actor, reason FROM parcel_history ORDER BY id DESC LIMIT 1").fetchone()
        assert (actor, reason) == (HOSTILE, "lý do {{ }}")
        c.rollback()
        assert HistoryStore(c).actor() is None  # local to the transaction


def test_each_view_of_dien_bien_reads_only_its_own_partition(demo_db, tmp_path):
    add_second_province(demo_db)
    assert sql(demo_db, f"SELECT parcels_add_province('{OTHER}')")[0][0] == f"parcels_p{OTHER}"
    assert sql(demo_db, f"SELECT count(*) FROM parcels_p{OTHER}")[0][0] >= 20
    name = make_url(demo_db).database
    with admin(demo_db) as c:
        c.execute(f"ALTER DATABASE \"{name}\" SET session_preload_libraries = 'auto_explain'")
        c.execute(f'ALTER DATABASE "{name}" SET auto_explain.log_min_duration = 0')
        c.execute(f'ALTER DATABASE "{name}" SET auto_explain.log_nested_statements = on')
    token_for(demo_db, "planner", "11")
    log = Cluster(TEST_HOME, TEST_PORT, db_name="postgres").log_file
    start = log.stat().st_size
    seen = views(demo_db, tmp_path)
    assert seen["suitability"] and seen["bottlenecks"] and seen["investor_map"]
    with open(log, errors="replace") as fh:
        fh.seek(start)
        plans = fh.read()
    assert plans.count("Query Text:") > 20
    assert "parcels_p11" in plans
    # the other province's partition (and the default one) is never scanned by Điện Biên's views
    assert f"parcels_p{OTHER}" not in plans
    assert "parcels_default" not in plans


# -- the keys and the distribution ------------------------------------------------------------------------------

DISTRIBUTED = {"parcels", "interests", "parcel_history", "documents", "decisions", "parcel_measures"}


def test_every_key_of_a_province_s_tables_holds_province_code(demo_db):
    with admin(demo_db) as c:
        assert CitusStore(c).keys_without_province() == []
        # the check is not vacuous: a key without the province, on a table with it, and a key to such a table
        with c.transaction(force_rollback=True):
            c.execute("CREATE TABLE t_keyless (id bigint PRIMARY KEY, province_code text, UNIQUE (province_code))")
            c.execute("CREATE TABLE t_pointer (id bigint PRIMARY KEY, parcel_ref bigint REFERENCES t_keyless (id))")
            assert CitusStore(c).keys_without_province() == [
                ("t_keyless", "t_keyless_pkey"),
                ("t_pointer", "t_pointer_parcel_ref_fkey"),
            ]


def test_the_distribution_plan_follows_the_schema(demo_db):
    with admin(demo_db) as c:
        steps = CitusStore(c).plan()
        tables = {r[0] for r in c.execute(TABLES_SQL, {"column": "province_code"}).fetchall()}
    text = [s.statement for s in steps]
    distributed = [re.search(r"create_distributed_table\('(\w+)'", t)[1] for t in text if "create_distributed" in t]
    reference = [re.search(r"create_reference_table\('(\w+)'", t)[1] for t in text if "create_reference" in t]
    assert set(distributed) == DISTRIBUTED and distributed[0] == "parcels"
    assert all("colocate_with => 'parcels'" in t for t in text if "create_distributed" in t and "'parcels'," not in t)
    assert set(reference) == tables - DISTRIBUTED - {"alembic_version", "spatial_ref_sys"}
    assert "users" in reference and "admin_units" in reference
    assert reference.index("users") < reference.index("api_tokens")  # a table after the ones it references
    assert distributed.index("documents") < distributed.index("decisions")
    # the cycle parcels <-> interests: the parcel's key to its accepted interest waits until both are distributed
    drop = text.index('ALTER TABLE parcels DROP CONSTRAINT "fk_parcels_investor_interest_id_interests"')
    add = next(i for i, t in enumerate(text) if t.startswith('ALTER TABLE parcels ADD CONSTRAINT "fk_parcels_inv'))
    assert drop < text.index("SELECT create_distributed_table('parcels', 'province_code')")
    assert add > next(i for i, t in enumerate(text) if "create_distributed_table('interests'" in t)
    assert "(investor_interest_id, province_code) REFERENCES interests(id, province_code)" in text[add]
    # row-level history, and the workers' zones and settings
    assert sum("FOR EACH ROW EXECUTE FUNCTION parcels_history_" in t for t in text) == 3
    assert sum("FOR EACH ROW EXECUTE FUNCTION parcel_measures_row()" in t for t in text) == 1
    workers = [t for t in text if t.startswith("SELECT run_command_on_workers(")]
    assert any("9205" in t and "spatial_ref_sys" in t for t in workers)
    assert any("jit" in t for t in workers) and any("max_parallel_workers_per_gather" in t for t in workers)


def _row_level(url: str) -> dict[str, bool]:
    with admin(url) as c:
        rows = c.execute(
            "SELECT tgname, (tgtype & 1) = 1 FROM pg_trigger WHERE tgrelid = 'parcels'::regclass "
            "AND (tgname LIKE 'parcels_history_%%' OR tgname LIKE 'parcel_measures_%%') ORDER BY 1"
        ).fetchall()
    return dict(rows)


def test_landfund_db_distribute_refuses_on_plain_postgresql(env):
    from typer.testing import CliRunner

    from gis_service.cli.main import app

    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    before = _row_level(env)
    assert before and not any(before.values())  # statement-level here
    r = runner.invoke(app, ["db", "distribute"])
    assert r.exit_code == 1 and "citus" in r.output and "Nothing was changed" in r.output
    assert "Traceback" not in r.output
    assert _row_level(env) == before
    r = runner.invoke(app, ["db", "distribute", "--print"])
    assert r.exit_code == 0 and "SELECT create_distributed_table('parcels', 'province_code');" in r.output
    assert _row_level(env) == before


def _measures(c, fid: int) -> list[tuple]:
    return c.execute(
        "SELECT road_m, town_m, school_m, health_m, hazards FROM parcel_measures WHERE parcel_id = %s", [fid]
    ).fetchall()


def _writes(c, code: str, reason: str) -> list[tuple]:
    """Insert, edit, move, transition and delete a parcel (a copy of the first one, as `code`), in one transaction
    as a request would (the actor is SET LOCAL); its history."""
    with c.transaction():
        HistoryStore(c).set_actor("kiểm thử {{ x }}", reason)
        fid = c.execute(
            "INSERT INTO parcels (code, name, province_code, admin_unit_code, status, fund_source, max_far, "
            "max_floors, decision_no, internal_notes, geom) SELECT %s, name, province_code, admin_unit_code, "
            "'proposed', fund_source, max_far, max_floors, decision_no, %s, geom FROM parcels ORDER BY id LIMIT 1 "
            "RETURNING id",
            [code, HOSTILE],
        ).fetchone()[0]
        c.execute(
            "UPDATE parcels SET name = %s, max_far = 2.5, published = NOT published WHERE id = %s", [HOSTILE, fid]
        )
        c.execute("UPDATE parcels SET name = name WHERE id = %s", [fid])  # no change: no entry
        c.execute("UPDATE parcels SET geom = ST_Multi(ST_Translate(geom, 0.0001, 0)) WHERE id = %s", [fid])
        assert not _measures(c, fid)  # a proposal is not ranked: not measured
        c.execute(
            "UPDATE parcels SET status = 'programmed', decision_no = '12/QĐ-UBND', decision_date = '2026-11-02' "
            "WHERE id = %s",
            [fid],
        )
        for stage in ("plan_approved", "call_published"):  # in the call for investors: measured where it lies
            c.execute("UPDATE parcels SET status = %s WHERE id = %s", [stage, fid])
        live = c.execute(
            "SELECT n.road_m, n.town_m, n.school_m, n.health_m, intersecting_hazards(p.geom) FROM parcels p "
            "CROSS JOIN LATERAL nearest_references_m(p.geom) n WHERE p.id = %s",
            [fid],
        ).fetchone()
        assert _measures(c, fid) == [live] and live[0] is not None
        c.execute("DELETE FROM parcels WHERE id = %s", [fid])
    assert not _measures(c, fid)
    return c.execute(
        "SELECT action, actor, reason, old_status, new_status, changes, geometry_changed, old_geom IS NOT NULL, "
        "decision_no, decision_date, province_code FROM parcel_history WHERE parcel_id = %s ORDER BY id",
        [fid],
    ).fetchall()


def test_row_level_history_writes_what_statement_level_history_writes(demo_db):
    with admin(demo_db) as c:
        statement_level = _writes(c, "NOXH-ROW-A", "thử")
        store = CitusStore(c)
        with c.transaction():
            store.apply(store.row_level_history())
        assert all(_row_level(demo_db).values())
        row_level = _writes(c, "NOXH-ROW-A", "thử")
    assert [r[0] for r in statement_level] == ["insert", "update", "update", *["transition"] * 3, "delete"]
    assert row_level == statement_level


def test_row_locks_name_the_province(api_rw, tmp_path):
    """Citus locks a row only in a query of one shard: every FOR UPDATE the service sends (an edit, a transition,
    an investor's selection) names the province, as the server's statement log shows."""
    from test_api_write import auth
    from test_workflows import JSON, move, new_parcel, offer

    db = api_rw.db
    name = make_url(db).database
    with admin(db) as c:
        c.execute(f"ALTER DATABASE \"{name}\" SET log_statement = 'all'")
    admin_token = token_for(db, "admin")
    investor = token_for(db, "investor")
    log = Cluster(TEST_HOME, TEST_PORT, db_name="postgres").log_file
    start = log.stat().st_size
    with api_client(db, tmp_path) as client:  # new connections: they log every statement
        loc, tag = new_parcel(client, admin_token, code="LOCK-1")
        for step in ("programmed", "plan_approved", "call_published"):
            tag = move(client, admin_token, loc, tag, step).headers["etag"]
        pid = int(loc.rsplit("/", 1)[1])
        r = client.post("/interests", json={"parcel_id": pid, **offer("L")}, headers=auth(investor, **JSON))
        assert r.status_code == 201, r.text
        r = client.post(
            f"/interests/{r.json()['id']}/accept",
            json={
                "reason": "tốt",
                "decision_no": "9/QĐ-UBND",
                "decision_date": "2026-11-30",
                "selection_method": "bidding",
            },
            headers=auth(admin_token, **JSON),
        )
        assert r.status_code in (200, 204), r.text
    with admin(db) as c:
        c.execute(f'ALTER DATABASE "{name}" RESET log_statement')
    with open(log, errors="replace") as fh:
        fh.seek(start)
        text = fh.read()
    statements = re.split(r"\n(?=\S.*?(?:LOG|ERROR|DETAIL|STATEMENT):)", text)
    locks = [s for s in statements if "FOR UPDATE" in s or "FOR SHARE" in s]
    assert len(locks) >= 5, text[-3000:]
    for s in locks:
        assert "province_code" in s, s
