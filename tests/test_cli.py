"""The `landfund` command line: help, import/export/demo exit codes and messages, and `serve`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from helpers import count, parcels_vn2000, write
from typer.testing import CliRunner

from gis_service.cli.main import app

runner = CliRunner()


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["db"],
        ["import"],
        ["export"],
        ["demo"],
        ["serve"],
        ["db", "start"],
        ["db", "stop"],
        ["db", "status"],
        ["db", "upgrade"],
    ],
)
def test_every_command_has_help(args):
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0
    assert "Usage: landfund" in result.output
    assert len(result.output) > 300


def test_import_export_round_trip_through_the_cli(env, tmp_path):
    path = write(parcels_vn2000(3, vietnamese_columns=True), tmp_path / "in.gpkg", "gpkg")
    r = runner.invoke(app, ["import", str(path), "--dry-run"])
    assert r.exit_code == 0, r.output
    assert "Dry run: all 3 row(s)" in r.output and count(env, "parcels") == 0
    r = runner.invoke(app, ["import", str(path), "--layer", "parcels"])
    assert r.exit_code == 0, r.output
    assert "Imported 3 row(s)" in r.output and "EPSG:9205" in r.output
    out = tmp_path / "out.geojson"
    r = runner.invoke(app, ["export", str(out), "--crs", "EPSG:9205"])
    assert r.exit_code == 0, r.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert len(data["features"]) == 3 and "9205" in json.dumps(data.get("crs"))
    r = runner.invoke(app, ["export", str(tmp_path / "out.xyz")])
    assert r.exit_code == 1 and "cannot tell the format" in r.output


def test_a_bad_file_exits_non_zero_and_names_the_rows(env, tmp_path):
    gdf = parcels_vn2000(3, land_use_code=["ODT", "QQQ", "ODT"])
    path = write(gdf, tmp_path / "bad.gpkg", "gpkg")
    r = runner.invoke(app, ["import", str(path)])
    assert r.exit_code == 1
    assert "nothing was written" in r.output
    assert "row 2, code T-002: land_use_code: unknown land-use code 'QQQ'" in r.output
    assert count(env, "parcels") == 0
    r = runner.invoke(app, ["import", str(path), "--json"])
    assert r.exit_code == 1
    report = json.loads(r.stdout[: r.stdout.rindex("}") + 1])
    assert report["written"] == 0 and report["problems"][0]["row"] == 2


def test_a_file_of_very_many_bad_rows_lists_the_first_and_counts_the_rest(env, tmp_path):
    gdf = parcels_vn2000(1200, side=10.0, gap=12.0, land_use_code="QQQ", max_floors="{{ 7*7 }} <script>")
    path = write(gdf, tmp_path / "bad.gpkg", "gpkg")
    r = runner.invoke(app, ["import", str(path)])
    assert r.exit_code == 1 and "2400 problem(s) in 1200 of 1200 row(s); nothing was written" in r.output
    assert "row 100, code T-100: land_use_code: unknown land-use code 'QQQ'" in r.output
    assert "… and 2,200 more problems (1,100 land_use_code, 1,100 max_floors)" in r.output  # 200 lines listed
    r = runner.invoke(app, ["import", str(path), "--json"])
    assert r.exit_code == 1
    report = json.loads(r.stdout[: r.stdout.rindex("}") + 1])
    assert report["written"] == 0 and len(report["problems"]) == 1000 and report["problems_total"] == 2400
    omitted = {o["field"]: o for o in report["problems_omitted"]}
    assert {f: o["count"] for f, o in omitted.items()} == {"land_use_code": 700, "max_floors": 700}
    assert omitted["max_floors"]["example"]["row"] == 501 and "<script>" in omitted["max_floors"]["example"]["message"]
    assert count(env, "parcels") == 0


def test_missing_file_and_missing_crs_are_clear(env, tmp_path):
    r = runner.invoke(app, ["import", str(tmp_path / "nope.geojson")])
    assert r.exit_code == 1 and "no such file" in r.output
    path = write(parcels_vn2000(1), tmp_path / "nocrs.csv", "csv")
    r = runner.invoke(app, ["import", str(path)])
    assert r.exit_code == 1 and "--crs EPSG:9205" in r.output
    r = runner.invoke(app, ["import", str(path), "--crs", "EPSG:99999999"])
    assert r.exit_code == 1 and "unknown CRS" in r.output


def test_demo_twice(env):
    r = runner.invoke(app, ["demo"])
    assert r.exit_code == 0 and "Điện Biên demo loaded" in r.output
    n = count(env, "parcels")
    r = runner.invoke(app, ["demo"])
    assert r.exit_code == 0 and "already holds data" in r.output
    assert count(env, "parcels") == n


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_health_and_openapi(env, tmp_path):
    port = free_port()
    exe = Path(sys.executable).parent / "landfund"
    proc = subprocess.Popen(
        [str(exe), "serve", "--port", str(port)],
        env={**os.environ},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body = None
        for _ in range(100):
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                body = r.json()
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert body is not None, "server did not come up"
        assert r.status_code == 200
        assert body["database"]["reachable"] is True
        assert body["database"]["postgis_version"].startswith("3.")
        assert httpx.get(f"http://127.0.0.1:{port}/api.html").status_code == 200
    finally:
        proc.terminate()
        out = proc.communicate(timeout=20)[0]
    assert f"landfund is serving at http://127.0.0.1:{port}/" in out


def test_serve_refuses_an_unmigrated_database(server_url, tmp_path, monkeypatch):
    from conftest import admin, db_url, drop_database

    from gis_service.core.config import get_settings

    drop_database(server_url, "cli_unmigrated")
    with admin(server_url) as c:
        c.execute('CREATE DATABASE "cli_unmigrated"')
    try:
        monkeypatch.setenv("DATABASE_URL", db_url(server_url, "cli_unmigrated"))
        get_settings.cache_clear()
        r = runner.invoke(app, ["serve", "--port", str(free_port())])
        assert r.exit_code == 1 and "landfund db upgrade" in r.output
    finally:
        get_settings.cache_clear()
        drop_database(server_url, "cli_unmigrated")


def test_passwd_reads_standard_input_and_refuses_a_short_one(env):
    """`landfund users passwd NAME`: the first admin or planner gets a password to sign in with (README)."""
    from conftest import sign_in

    landfund = str(Path(sys.executable).parent / "landfund")
    cli_env = {**os.environ, "LANDFUND_HOME": os.environ["LANDFUND_HOME"]}

    def run(*a, stdin=None):
        return subprocess.run(
            [landfund, *a],
            env=cli_env,
            capture_output=True,
            text=True,
            input=stdin,
            timeout=120,
        )

    assert run("users", "add", "truong-phong", "--role", "admin").returncode == 0
    short = run("users", "passwd", "truong-phong", stdin="ngan\n")
    assert short.returncode == 1 and "12 characters" in short.stderr + short.stdout and "Traceback" not in short.stderr
    ok = run("users", "passwd", "truong-phong", stdin="một mật khẩu đủ dài\n")
    assert ok.returncode == 0 and "/login" in ok.stdout
    unknown = run("users", "passwd", "khong-co-ai", stdin="một mật khẩu đủ dài\n")
    assert unknown.returncode == 1 and "no user 'khong-co-ai'" in unknown.stderr + unknown.stdout
    from conftest import api_client

    with api_client(env, Path(os.environ["LANDFUND_HOME"])) as client:
        assert sign_in(client, "truong-phong", "một mật khẩu đủ dài").status_code == 303


def test_demo_accounts_once_with_their_passwords_kept_for_the_owner_only(env):
    r = runner.invoke(app, ["demo", "--accounts"])
    assert r.exit_code == 0 and "sxd-quyhoach" in r.output and "dbp-quyhoach" in r.output
    path = Path(os.environ["LANDFUND_HOME"]) / "demo-accounts.txt"
    assert path.stat().st_mode & 0o777 == 0o600
    accounts = [line.split("\t") for line in path.read_text().splitlines() if not line.startswith("#")]
    assert {a[0] for a in accounts} == {"admin", "sxd-quyhoach", "dbp-quyhoach", "nhadautu"}
    again = runner.invoke(app, ["demo", "--accounts"])  # safe to run twice: the same accounts and passwords
    said = again.output.replace("\n", "")  # the console wraps long lines
    assert again.exit_code == 0 and str(path) in said and "already holds data" in said
    assert [line.split("\t") for line in path.read_text().splitlines() if not line.startswith("#")] == accounts
    from conftest import api_client, sign_in

    with api_client(env, Path(os.environ["LANDFUND_HOME"])) as client:
        name, password = accounts[2][0], accounts[2][1]
        assert sign_in(client, name, password).status_code == 303
