"""Beyond one machine: reads from a streaming replica (DATABASE_READ_URL), several stateless workers."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from conftest import LiveServer, token_for
from helpers import discard_cluster, seeded_cluster
from test_api_write import GEOJSON, auth, feature
from test_embedded import free_port

from bench.load import run as load_run
from gis_service.core.db import libpq_dsn
from gis_service.core.embedded import Cluster


@pytest.fixture
def primary_and_replica(tmp_path):
    primary = seeded_cluster(tmp_path / "primary", 30)
    replica = Cluster(tmp_path / "replica", free_port())
    replica.init_standby(primary)
    replica.start()
    yield primary, replica
    discard_cluster(replica)
    discard_cluster(primary)


def _api_sessions(url: str) -> int:
    with psycopg.connect(libpq_dsn(url), autocommit=True) as c:
        return c.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'landfund-api'").fetchone()[0]


def test_reads_go_to_the_replica_and_writes_to_the_primary(primary_and_replica, tmp_path):
    primary, replica = primary_and_replica
    with psycopg.connect(libpq_dsn(replica.url()), autocommit=True) as c:
        assert c.execute("SELECT pg_is_in_recovery()").fetchone()[0] is True
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            c.execute("UPDATE parcels SET name = 'x'")
    token = token_for(primary.url(), "admin")
    server = LiveServer(primary.url(), tmp_path / "srv", database_read_url=replica.url())
    try:
        c = httpx.Client(base_url=server.base, timeout=30)
        health = c.get("/health").json()
        assert health["status"] == "ok" and health["database"]["reads_from_replica"] is True
        assert c.get("/collections/parcels/items?limit=100").json()["numberMatched"] == 30
        assert _api_sessions(replica.url()) >= 1  # the page came from the replica

        r = c.post("/collections/parcels/items", json=feature("REPLICA-1"), headers=auth(token, **GEOJSON))
        assert r.status_code == 201, r.text  # written on the primary (the replica refuses writes) …
        assert r.json()["properties"]["code"] == "REPLICA-1"  # … and read back there, not from a lagging replica
        assert _api_sessions(primary.url()) >= 1
        fid = r.json()["id"]
        deadline = time.monotonic() + 30  # streaming replication brings it to the replica
        while c.get(f"/collections/parcels/items/{fid}").status_code != 200:
            assert time.monotonic() < deadline, "the write never reached the replica"
            time.sleep(0.2)
        etag = c.get(f"/collections/parcels/items/{fid}", headers=auth(token)).headers["etag"]
        r = c.patch(
            f"/collections/parcels/items/{fid}",
            json={"properties": {"name": "Khu sao chép"}},
            headers=auth(token, **{"If-Match": etag, "Content-Type": "application/merge-patch+json"}),
        )
        assert r.status_code == 204, r.text
        c.close()
    finally:
        server.stop()


def test_several_workers_share_nothing_but_the_database(demo_db, tmp_path):
    """`landfund serve` with LANDFUND_WORKERS=2: two processes answer, and concurrent read-modify-write
    through both loses nothing (ETags and tokens live in the database, not in a worker)."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": demo_db,
        "LANDFUND_HOME": str(tmp_path),
        "LANDFUND_WORKERS": "2",
        "LANDFUND_PORT": str(port),
    }
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - a pipe nobody reads would fill up and stall the server
    proc = subprocess.Popen(
        [sys.executable, "-m", "gis_service.cli.main", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        workers = _children(proc.pid)
        assert len(workers) == 2, workers
        before = {w: _cpu_seconds(w) for w in workers}
        report = asyncio.run(load_run(base, token_for(demo_db, "admin"), clients=8, seconds=5, hot_parcels=1))
        assert report.server_errors == [] and report.lost_writes == 0 and report.missing_creates == 0
        assert sum(report.writes_ok.values()) > 5 and report.conflicts > 0
        busy = {w: _cpu_seconds(w) - before[w] for w in workers}
        assert all(t > 0.2 for t in busy.values()), busy  # both workers served the load
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(x) for x in (task / "children").read_text().split()]
    return [
        p
        for p in found
        if "python" in Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")
        and b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()
    ]
