"""landfund behind Debian's PgBouncer in transaction mode, on loopback (deploy/pgbouncer/pgbouncer.ini): PgBouncer
refuses the `options` startup parameter landfund sends when it connects directly; with LANDFUND_DB_POOLER=transaction
the service starts, its reads (coverage, suitability, pages of features, tiles) and writes all succeed under
concurrency with few server connections (no prepared-statement collisions), its sessions run with the settings the
pooler's connect_query gives, and `landfund serve` refuses to start when the pooler gives none."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg
import pytest
from conftest import LiveServer, token_for
from sqlalchemy import make_url
from test_api_tiles import tile_of
from test_api_write import GEOJSON, auth, feature

from bench.tile_cache import free_port
from gis_service.core import bootstrap, pooler
from gis_service.core.config import Settings
from gis_service.stores.maintenance import SessionStore

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


@contextlib.contextmanager
def pgbouncer(server_url: str, dbname: str):
    """PgBouncer in transaction mode with two entries for `dbname`: `pooled` (with landfund's connect_query, as the
    shipped example) and `bare` (without). Run as the cluster's OS user when root (PgBouncer refuses root)."""
    u = make_url(server_url)
    host = u.query.get("host") or u.host or "127.0.0.1"
    host = host if isinstance(host, str) else host[-1]
    qport = u.query.get("port")
    port = u.port or int(qport if isinstance(qport, str) else (qport or ["5432"])[-1])
    listen = free_port()
    work = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    query = pooler.connect_query(Settings())
    (work / "userlist.txt").write_text(f'"{bootstrap.APP}" ""\n"{bootstrap.OWNER}" ""\n', encoding="utf-8")
    (work / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"pooled = host={host} port={port} dbname={dbname} connect_query='{query}'\n"
        f"bare = host={host} port={port} dbname={dbname}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {listen}\nunix_socket_dir =\n"
        "pool_mode = transaction\nauth_type = trust\n"
        f"auth_file = {work / 'userlist.txt'}\nlogfile = {work / 'pgbouncer.log'}\npidfile = {work / 'pgbouncer.pid'}\n"
        "default_pool_size = 3\nmax_client_conn = 200\nserver_reset_query =\n"
        "ignore_startup_parameters = extra_float_digits\n",
        encoding="utf-8",
    )
    cmd = [PGBOUNCER, str(work / "pgbouncer.ini")]
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres" if _exists("postgres") else "nobody")
        for p in (work, *work.iterdir()):
            os.chown(p, user.pw_uid, user.pw_gid)
        cmd = ["runuser", "-u", user.pw_name, "--", *cmd]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", listen), timeout=0.2):
                break
            time.sleep(0.05)
        yield listen
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


def _exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def through(port: int, entry: str, role: str = bootstrap.APP) -> str:
    return f"postgresql+psycopg://{role}@127.0.0.1:{port}/{entry}"


@pytest.fixture
def bouncer(server_url, demo_db):
    with pgbouncer(server_url, make_url(demo_db).database) as port:
        yield port


def test_pgbouncer_refuses_the_options_landfund_sends_directly(bouncer):
    with pytest.raises(psycopg.OperationalError, match="unsupported startup parameter: options"):
        psycopg.connect(f"host=127.0.0.1 port={bouncer} dbname=pooled user={bootstrap.APP}", options="-c jit=off")


def test_the_service_behind_pgbouncer_in_transaction_mode(bouncer, demo_db, tmp_path):
    # the sessions run with the settings the pooler's connect_query gives
    with psycopg.connect(
        f"host=127.0.0.1 port={bouncer} dbname=pooled user={bootstrap.APP}", prepare_threshold=None
    ) as c:
        assert pooler.problems(SessionStore(c).settings(tuple(pooler.expected(Settings()))), Settings()) == []
    server = LiveServer(through(bouncer, "pooled"), tmp_path, db_pooler="transaction")
    admin = token_for(demo_db, "admin")
    try:
        z, x, y = tile_of(103.03, 21.40, 12)
        urls = [
            "/analytics/coverage",
            "/analytics/suitability",
            "/collections/parcels/items?limit=50",
            f"/collections/parcels/tiles/WebMercatorQuad/{z}/{x}/{y}",
            "/parcels",
        ]
        with httpx.Client(base_url=server.base, timeout=30) as c:

            def get(i: int) -> int:
                return c.get(urls[i % len(urls)]).status_code

            # 200 requests over 3 server connections: psycopg would prepare the repeated statements, and they
            # would be missing or collide on the next transaction's server connection
            with ThreadPoolExecutor(16) as pool:
                codes = list(pool.map(get, range(200)))
            assert set(codes) <= {200, 204} and codes.count(200) >= 160, sorted(set(codes))
            # a write and its history, through the pooler too
            r = c.post("/collections/parcels/items", json=feature("PGB-1"), headers=auth(admin, **GEOJSON))
            assert r.status_code == 201, r.text
            history = c.get(f"{r.headers['location'].replace(server.base, '')}/history", headers=auth(admin)).json()
            assert history["entries"][0]["actor"].startswith("admin-")
    finally:
        server.stop()


def test_serve_refuses_a_pooler_that_gives_no_settings(bouncer, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": through(bouncer, "bare"),
        "LANDFUND_DB_POOLER": "transaction",
        "LANDFUND_HOME": str(tmp_path),
    }
    r = subprocess.run(
        [str(Path(os.sys.executable).parent / "landfund"), "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode != 0 and "Traceback" not in r.stderr + r.stdout
    said = r.stderr + r.stdout
    assert "statement_timeout is 0, not 30000" in said and "lock_timeout is 0, not 10000" in said, said[-2000:]
    assert f"connect_query='{pooler.connect_query(Settings())}'" in said
