"""The embedded cluster: created on first start, stopped, restarted with its data kept; clear errors."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from gis_service.core import pgserver
from gis_service.core.db import libpq_dsn
from gis_service.core.embedded import Cluster, ClusterError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(tmp_path / "home", free_port())
    yield c
    c.stop()
    if not str(c.root).startswith(str(tmp_path)):
        shutil.rmtree(c.root, ignore_errors=True)


def test_start_stop_restart_keeps_data(cluster):
    assert not cluster.running()
    assert cluster.start() is True
    assert cluster.start() is False  # already running: nothing to do
    with psycopg.connect(libpq_dsn(cluster.url()), autocommit=True) as c:
        # the cluster bootstraps itself: PostGIS, the VN-2000 zones, the database owned by landfund_owner
        assert c.execute("SELECT count(*) FROM spatial_ref_sys WHERE srid BETWEEN 9205 AND 9218").fetchone()[0] == 14
        assert (
            c.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'landfund'").fetchone()[0]
            == "landfund_owner"
        )
        assert c.execute(
            "SELECT rolname, rolsuper FROM pg_roles WHERE rolname LIKE 'landfund_%' ORDER BY 1"
        ).fetchall() == [("landfund_app", False), ("landfund_owner", False)]
        c.execute("CREATE TABLE kept (v text)")
        c.execute("INSERT INTO kept VALUES ('Mường Thanh')")
        assert c.execute("SELECT postgis_lib_version()").fetchone()[0].startswith("3.")
    assert cluster.stop() is True
    assert not cluster.running()
    assert cluster.stop() is False
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(libpq_dsn(cluster.url()), connect_timeout=3)
    assert cluster.start() is True
    with psycopg.connect(libpq_dsn(cluster.url())) as c:
        assert c.execute("SELECT v FROM kept").fetchall() == [("Mường Thanh",)]
    # TCP on 127.0.0.1 needs the generated password
    with psycopg.connect(cluster.tcp_url()) as c:
        assert c.execute("SELECT current_user").fetchone()[0] == "landfund"
    with psycopg.connect(cluster.tcp_url(role="landfund_app")) as c:  # each role has its own password
        assert c.execute("SELECT current_user, usesuper FROM pg_user WHERE usename = current_user").fetchone() == (
            "landfund_app",
            False,
        )
    assert cluster.role_password("landfund_app") != cluster.password()
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(f"postgresql://landfund:wrong@127.0.0.1:{cluster.port}/landfund", connect_timeout=3)
    assert oct(cluster.password_file.stat().st_mode & 0o777) == "0o600"


def test_the_cluster_never_runs_as_root(cluster):
    """initdb refuses root: as root, the cluster runs as an unprivileged user (postgres); otherwise as you."""
    cluster.start()
    pid = int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
    uid = os.stat(f"/proc/{pid}").st_uid
    assert uid != 0
    expected = cluster.user.pw_name if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    assert pwd.getpwuid(uid).pw_name == expected


def test_a_busy_port_is_refused_clearly(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        c = Cluster(tmp_path / "busy", port)
        try:
            with pytest.raises(ClusterError, match=f"port {port} .* already in use .*LANDFUND_DB_PORT"):
                c.start()
        finally:
            if not str(c.root).startswith(str(tmp_path)):
                shutil.rmtree(c.root, ignore_errors=True)


def test_a_new_port_applies_to_an_existing_cluster(tmp_path):
    """What the busy-port message advises works: the same cluster, started with another LANDFUND_DB_PORT,
    listens there (initdb wrote the first port into postgresql.conf)."""
    home = tmp_path / "moved"
    first = Cluster(home, free_port())
    second = Cluster(home, free_port())
    try:
        first.start()
        first.stop()
        assert second.start() is True
        with psycopg.connect(second.tcp_url(), connect_timeout=5) as c:
            assert c.execute("SHOW port").fetchone()[0] == str(second.port)
        with psycopg.connect(libpq_dsn(second.url()), connect_timeout=5) as c:  # and its socket
            assert c.execute("SELECT 1").fetchone() == (1,)
    finally:
        second.stop()
        if not str(second.root).startswith(str(tmp_path)):
            shutil.rmtree(second.root, ignore_errors=True)


def test_a_home_made_again_at_the_same_path_gets_a_cluster_of_its_own(tmp_path):
    """As root the data may live outside the home (/var/lib/landfund/clusters/…). A home deleted and made again at
    the same path (a reinstall, a test run reusing a temporary path) must start empty, not adopt the cluster the
    old home left there with its data."""
    home = tmp_path / "home"
    old = Cluster(home, free_port())
    roots = [old.root]
    try:
        old.start()
        with psycopg.connect(libpq_dsn(old.url("postgres")), autocommit=True) as c:
            c.execute("CREATE TABLE left_behind (x int)")
        old.stop()
        shutil.rmtree(home)
        new = Cluster(home, free_port())
        roots.append(new.root)
        new.start()
        with psycopg.connect(libpq_dsn(new.url("postgres")), autocommit=True) as c:
            assert c.execute("SELECT to_regclass('left_behind')").fetchone() == (None,)
        new.stop()
        assert Cluster(home, free_port()).root == new.root  # and it keeps it from then on
    finally:
        for r in roots:
            if not str(r).startswith(str(tmp_path)):
                shutil.rmtree(r, ignore_errors=True)


def test_missing_postgresql_names_the_packages(tmp_path, monkeypatch):
    monkeypatch.setattr(pgserver, "_candidate_bindirs", lambda: [tmp_path / "nothing-here"])
    pgserver.find_binaries.cache_clear()
    try:
        with pytest.raises(ClusterError, match="apt-get install postgresql postgresql-15-postgis-3"):
            pgserver.find_binaries()
    finally:
        pgserver.find_binaries.cache_clear()


def test_missing_postgis_names_the_package(tmp_path, monkeypatch):
    real = pgserver.find_binaries()
    fake = tmp_path / "bin"
    fake.mkdir()
    for exe in ("initdb", "pg_ctl", "postgres"):
        (fake / exe).symlink_to(real.bindir / exe)
    share = tmp_path / "share"
    (share / "extension").mkdir(parents=True)
    (fake / "pg_config").write_text(f"#!/bin/sh\necho {share}\n")
    (fake / "pg_config").chmod(0o755)
    monkeypatch.setattr(pgserver, "_candidate_bindirs", lambda: [fake])
    pgserver.find_binaries.cache_clear()
    try:
        with pytest.raises(ClusterError, match=f"apt-get install postgresql-{real.major}-postgis-3"):
            pgserver.find_binaries()
    finally:
        pgserver.find_binaries.cache_clear()


def _cli(args, env_extra, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(env_extra)
    exe = Path(sys.executable).parent / "landfund"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=180)


def test_cli_db_start_status_stop(tmp_path):
    home = tmp_path / "clihome"
    env = {"LANDFUND_HOME": str(home), "LANDFUND_DB_PORT": str(free_port())}
    try:
        r = _cli(["db", "status"], env, tmp_path)
        assert r.returncode == 1 and "running: False" in r.stdout
        r = _cli(["db", "start"], env, tmp_path)
        assert r.returncode == 0, r.stderr
        assert "Started embedded PostGIS" in r.stdout
        r = _cli(["db", "upgrade"], env, tmp_path)
        assert r.returncode == 0 and "Schema at revision" in r.stdout, r.stderr
        r = _cli(["db", "status", "--json"], env, tmp_path)
        assert r.returncode == 0 and '"running": true' in r.stdout
        r = _cli(["db", "stop"], env, tmp_path)
        assert r.returncode == 0 and "Stopped." in r.stdout
    finally:
        _cli(["db", "stop"], env, tmp_path)
        c = Cluster(home, int(env["LANDFUND_DB_PORT"]))
        if not str(c.root).startswith(str(tmp_path)):
            shutil.rmtree(c.root, ignore_errors=True)


def test_cli_never_starts_a_cluster_when_database_url_is_set(tmp_path):
    r = _cli(["db", "start"], {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}, tmp_path)
    assert r.returncode == 1
    assert "DATABASE_URL is set" in r.stderr
    assert not (tmp_path / ".landfund").exists()
