"""Faults: the database restarting under a running service, an import killed midway, backup and restore."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import morecantile
import psycopg
import pytest
from conftest import LiveServer, app_url, token_for
from helpers import CHECK_N, count, discard_cluster, seeded_cluster
from test_api_write import GEOJSON, auth, feature

from bench.synthetic import parcels as synthetic_parcels
from bench.synthetic import write as write_synthetic
from gis_service.core.db import IDLE_PING_SECONDS, libpq_dsn

READS = ("/collections/parcels/items?limit=5", "/collections/parcels/items/1", "/analytics/coverage", "/maps/investor")


@pytest.fixture
def own_cluster(tmp_path):
    """A cluster of this test's own, so it can be stopped and started under a running service."""
    cluster = seeded_cluster(tmp_path / "home", 40)
    yield cluster
    discard_cluster(cluster)


def tile_path() -> str:
    t = morecantile.tms.get("WebMercatorQuad").tile(103.2, 21.07, 12)
    return f"/collections/parcels/tiles/WebMercatorQuad/12/{t.x}/{t.y}"


def test_database_restart_while_serving(own_cluster, tmp_path):
    url = own_cluster.url()
    token = token_for(url, "admin")
    server = LiveServer(url, tmp_path / "srv", db_timeout_seconds=2)
    client = httpx.Client(base_url=server.base, timeout=30)
    spot = iter(range(0, 10_000, 500))

    def post(code):
        return client.post(
            "/collections/parcels/items", json=feature(code, n=CHECK_N + next(spot)), headers=auth(token, **GEOJSON)
        )

    try:
        for path in (*READS, tile_path(), "/health"):
            assert client.get(path).status_code == 200, path
        assert post("UP-1").status_code == 201

        own_cluster.stop()
        for attempt in ("first", "again"):  # the pools must not wedge: every request fails fast, every time
            for path in (*READS, tile_path(), "/collections/parcels/items?f=fgb", "/collections/parcels/items?f=csv"):
                t0 = time.monotonic()
                r = client.get(path)
                took = time.monotonic() - t0
                assert r.status_code == 503, (attempt, path, r.status_code, r.text[:200])
                assert r.headers["content-type"] == "application/problem+json" and r.headers["retry-after"]
                assert "not reachable" in r.json()["detail"] and took < 6, (path, took)
            t0 = time.monotonic()
            r = post("DOWN-1")
            assert r.status_code == 503 and time.monotonic() - t0 < 6, r.text[:200]
            health = client.get("/health")
            assert health.status_code == 503 and health.json()["database"]["reachable"] is False

        own_cluster.start()  # the same service, not restarted, recovers by itself
        deadline = time.monotonic() + 30
        while client.get("/health").status_code != 200:
            assert time.monotonic() < deadline, "did not recover within 30 s"
            time.sleep(0.5)
        for path in (*READS, tile_path()):
            assert client.get(path).status_code == 200, path
        assert post("UP-2").status_code == 201
        assert count(url, "parcels", "code IN ('UP-1', 'UP-2')") == 2 and count(url, "parcels", "code = 'DOWN-1'") == 0

        # a restart nobody saw (no request while the database was down): pooled connections are dead, yet the
        # first requests afterwards are answered, because a connection idle for a while is checked before use
        for path in (*READS, tile_path()):  # fill the read pool with several connections
            client.get(path)
        own_cluster.stop()
        own_cluster.start()
        time.sleep(IDLE_PING_SECONDS + 0.2)
        for path in (*READS, tile_path(), "/health"):
            assert client.get(path).status_code == 200, path
        for _ in range(3):  # fill the write pool too, then restart again: the first writes are answered as well
            client.get("/maps/investor")
        own_cluster.stop()
        own_cluster.start()
        time.sleep(IDLE_PING_SECONDS + 0.2)
        for code in ("UP-3", "UP-4"):
            t0 = time.monotonic()
            r = post(code)
            assert r.status_code == 201 and time.monotonic() - t0 < 2, (r.status_code, r.text[:200])
    finally:
        client.close()
        server.stop()


def _backend_doing(conn: psycopg.Connection, pattern: str) -> int | None:
    row = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND backend_type = 'client backend' AND state = 'active' AND query ILIKE %s",
        [pattern],
    ).fetchone()
    return row[0] if row else None


@pytest.mark.parametrize("phase", ['COPY "stage_parcels"%', "%INSERT INTO parcels %"])
def test_an_import_killed_midway_leaves_nothing(database, tmp_path, phase):
    path = write_synthetic(synthetic_parcels(60_000), tmp_path / "big.gpkg")
    env = {**os.environ, "DATABASE_URL": app_url(database), "LANDFUND_HOME": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gis_service.cli.main", "import", str(path), "--keep-status"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    with psycopg.connect(libpq_dsn(database), autocommit=True) as watch:
        deadline = time.monotonic() + 120
        while _backend_doing(watch, phase) is None:
            assert proc.poll() is None, "the import ended before the phase to interrupt: " + proc.stdout.read().decode()
            assert time.monotonic() < deadline
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        deadline = time.monotonic() + 30  # the server notices the lost client and rolls its transaction back
        while _backend_doing(watch, "%") is not None:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    assert count(database, "parcels") == 0 and count(database, "parcel_history") == 0
    with psycopg.connect(libpq_dsn(database)) as c:  # no staging table survives, no lock is held
        assert (
            c.execute(
                "SELECT count(*) FROM pg_class WHERE relname LIKE 'stage%%' AND relpersistence <> 't'"
            ).fetchone()[0]
            == 0
        )
        assert (
            c.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                "WHERE d.datname = current_database() AND l.pid <> pg_backend_pid()"
            ).fetchone()[0]
            == 0
        )
    small = write_synthetic(synthetic_parcels(25), tmp_path / "small.gpkg")
    r = subprocess.run(
        [sys.executable, "-m", "gis_service.cli.main", "import", str(small), "--keep-status"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert count(database, "parcels") == 25


def test_backup_and_restore_round_trip_every_table(demo_db, tmp_path, server_url):
    from conftest import db_url, drop_database

    env = {**os.environ, "DATABASE_URL": demo_db, "LANDFUND_HOME": str(tmp_path)}
    cli = [sys.executable, "-m", "gis_service.cli.main"]
    token_for(demo_db, "planner", "11")  # users and tokens are data too
    with psycopg.connect(libpq_dsn(demo_db)) as c:
        c.execute("SELECT set_config('landfund.actor', 'test:backup', false)")
        c.execute(
            "UPDATE parcels SET status = 'programmed' WHERE id = (SELECT min(id) FROM parcels WHERE status = 'proposed')"
        )
    tables = _tables(demo_db)
    before = {t: _digest(demo_db, t) for t in tables}
    assert {"parcels", "admin_units", "reference_features", "parcel_history", "users", "api_tokens"} <= set(tables)
    assert all(before[t][0] > 0 for t in ("parcels", "admin_units", "reference_features", "parcel_history", "users"))

    dump = tmp_path / "landfund.dump"
    r = subprocess.run([*cli, "db", "backup", str(dump)], env=env, capture_output=True, text=True)
    assert r.returncode == 0 and dump.stat().st_size > 10_000, r.stdout + r.stderr
    assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format

    # restore into a different, empty database: every table comes back row for row
    target_name = f"restored_{os.getpid()}"
    drop_database(server_url, target_name)
    with psycopg.connect(libpq_dsn(server_url), autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{target_name}"')
    target = db_url(server_url, target_name)
    try:
        r = subprocess.run(
            [*cli, "db", "restore", str(dump)], env={**env, "DATABASE_URL": target}, capture_output=True, text=True
        )
        assert r.returncode == 1 and "--yes" in r.stdout + r.stderr  # it replaces data: asks first
        r = subprocess.run(
            [*cli, "db", "restore", str(dump), "--yes"],
            env={**env, "DATABASE_URL": target},
            capture_output=True,
            text=True,
        )
        assert r.returncode == 0, r.stdout + r.stderr
        assert _tables(target) == tables
        for t in tables:
            assert _digest(target, t) == before[t], t
        # and the restored database works: triggers still record history, the CRS is still known
        with psycopg.connect(libpq_dsn(target)) as c:
            c.execute("SELECT set_config('landfund.actor', 'test:restored', false)")
            c.execute("UPDATE parcels SET name = name || ' (khôi phục)' WHERE id = (SELECT min(id) FROM parcels)")
            assert c.execute("SELECT count(*) FROM parcel_history WHERE actor = 'test:restored'").fetchone()[0] == 1
            assert c.execute("SELECT count(*) FROM spatial_ref_sys WHERE srid = 9205").fetchone()[0] == 1
        # restoring over a database with data replaces it, in one transaction
        r = subprocess.run(
            [*cli, "db", "restore", str(dump), "--yes"],
            env={**env, "DATABASE_URL": target},
            capture_output=True,
            text=True,
        )
        assert r.returncode == 0, r.stdout + r.stderr
        assert _digest(target, "parcels") == before["parcels"]
        # a file that is not a backup is refused with a message, and nothing changes
        bogus = tmp_path / "bogus.dump"
        bogus.write_text("not a dump")
        r = subprocess.run(
            [*cli, "db", "restore", str(bogus), "--yes"],
            env={**env, "DATABASE_URL": target},
            capture_output=True,
            text=True,
        )
        assert r.returncode == 1 and "Traceback" not in r.stderr and "error" in (r.stdout + r.stderr).lower()
        assert _digest(target, "parcels") == before["parcels"]
        # a backup cut short (its table of contents intact, its data not) fails midway: rolled back, all of it
        cut = tmp_path / "cut.dump"
        cut.write_bytes(dump.read_bytes()[: dump.stat().st_size // 2])
        r = subprocess.run(
            [*cli, "db", "restore", str(cut), "--yes"],
            env={**env, "DATABASE_URL": target},
            capture_output=True,
            text=True,
        )
        assert r.returncode == 1 and "nothing was changed" in r.stdout + r.stderr
        assert _tables(target) == tables and all(_digest(target, t) == before[t] for t in tables)
    finally:
        drop_database(server_url, target_name)


def _tables(url: str) -> list[str]:
    with psycopg.connect(libpq_dsn(url)) as c:
        return [
            r[0]
            for r in c.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'spatial_ref_sys' ORDER BY 1"
            )
        ]


def _digest(url: str, table: str) -> tuple[int, str]:
    """Row count and an order-independent hash of every row's full text."""
    with psycopg.connect(libpq_dsn(url)) as c:
        return c.execute(
            f"SELECT count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), '') FROM \"{table}\" t"
        ).fetchone()
