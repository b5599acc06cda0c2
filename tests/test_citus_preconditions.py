"""What Citus needs, proved on plain PostgreSQL (Citus cannot be installed from the registries CI reaches): the
history's actor and reason travel as `SET LOCAL` statements (Citus sends those to the workers; it drops what
set_config() set), and every request of Điện Biên's views reads one partition of parcels, its own, when a second
province has its own partition beside it (the plans are the server's own, logged by auto_explain)."""

from __future__ import annotations

import psycopg
from conftest import TEST_HOME, TEST_PORT, admin, app_url, token_for
from sqlalchemy.engine import make_url
from test_provinces import OTHER, add_second_province, sql, views

from gis_service.core.db import libpq_dsn
from gis_service.core.embedded import Cluster
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
