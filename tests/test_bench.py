"""The benchmark harness runs end to end from a clean clone (tiny size, short rounds), and compares like with
like: the three contenders return the same page, and every measurement in the report is real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
from conftest import TEST_HOME, TEST_PORT, admin, db_url

from gis_service.core.db import libpq_dsn
from gis_service.core.embedded import Cluster

ROOT = Path(__file__).resolve().parent.parent
N = 1500


def test_benchmark_runs_and_compares_like_with_like(server_url, tmp_path):
    # over TCP, as tipg connects only that way (the test cluster listens on loopback with a password)
    tcp = server_url if os.environ.get("DATABASE_URL") else Cluster(TEST_HOME, TEST_PORT, db_name="postgres").tcp_url()
    env = {**os.environ, "DATABASE_URL": tcp}

    def bench(module: str, *args: str, timeout: int = 1800) -> None:
        r = subprocess.run(
            [sys.executable, "-m", module, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
        )
        assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]

    def row_of(path: Path) -> str:
        return next(line for line in path.read_text().splitlines() if line.startswith(f"| {N:,} |"))

    try:
        bench(
            "bench.run",
            *("--sizes", str(N), "--levels", "1,2", "--seconds", "0.5", "--rounds", "2"),
            *("--import-size", str(N), "--out", str(tmp_path)),
        )
        report = json.loads((tmp_path / "report.json").read_text())
        e = report["sizes"][str(N)]
        # the same page from landfund, tipg and the raw SQL: same features, same count matched
        same = e["same_page"]
        assert same["identical"] and same["features"][0] > 0 and len(set(same["features"])) == 1
        assert len(set(same["numberMatched"])) == 1
        for level in ("1", "2"):
            for contender in ("landfund", "tipg", "raw SQL"):
                cell = e["pages"][level][contender]
                assert cell["n"] > 0 and cell["errors"] == 0 and 0 < cell["p50_ms"] <= cell["p95_ms"]
        for z in ("10", "14"):
            assert all(
                e["tiles"][z]["1"][c]["n"] > 0 and e["tiles"][z]["1"][c]["errors"] == 0
                for c in ("landfund", "tipg", "raw SQL")
            )
        assert e["suitability_sites"] > 0 and e["suitability_s"] > 0
        assert e["planner_map_bytes"] > 10_000 and e["investor_map_bytes"] > 10_000
        assert e["naive_map"]["seconds"] > 0 and e["naive_map"]["bytes"] > 100 * N  # every parcel, inline
        imp = report["import"]
        assert imp["landfund import"]["seconds"] > 0 and imp["ogr2ogr"]["seconds"] > 0
        assert imp["landfund import"]["peak_mb"] > 0 and imp["ogr2ogr"]["peak_mb"] > 0
        with psycopg.connect(libpq_dsn(db_url(server_url, f"landfund_bench_{N}"))) as c:
            assert c.execute("SELECT count(*) FROM parcels WHERE code LIKE 'SYN-%%'").fetchone()[0] == N
        md = (tmp_path / "report.md").read_text()
        for heading in (
            "**Feature pages**",
            "**Vector tiles**",
            "**Maps and suitability**",
            "**Import**",
            "**Targets**",
        ):
            assert heading in md
        assert f"| {N:,} | 1 |" in md
        # the stored measures against a live search, on the same database: the same ranking
        bench("bench.measures", "--sizes", str(N), "--out", str(tmp_path / "measures.md"), timeout=900)
        row = row_of(tmp_path / "measures.md")
        assert "| yes |" in row and "0.000 s" not in row
        # the import against ogr2ogr: both measured, with the floor
        bench("bench.imports", "--sizes", str(N), "--rounds", "1", "--out", str(tmp_path / "imports.md"), timeout=900)
        cells = [c.strip() for c in row_of(tmp_path / "imports.md").strip("|").split("|")]
        assert len(cells) == 6 and all(float(c.split()[0].rstrip("×")) > 0 for c in cells[1:])
        assert "Floor: importing 1,500 parcels peaks at" in (tmp_path / "imports.md").read_text()
    finally:
        with admin(server_url) as c:
            for name in (f"landfund_bench_{N}", "landfund_bench_base", "landfund_bench_import"):
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
