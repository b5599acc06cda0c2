"""landfund against tipg, raw PostGIS, ogr2ogr and a naive folium map, on the same databases, in one run.

    .venv/bin/python -m bench.run                      10k, 100k and 1M parcels (builds them the first time)
    .venv/bin/python -m bench.run --sizes 10000 --seconds 3 --levels 1,8

Writes bench/results/report.md (the table the README shows) and bench/results/report.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import morecantile
import psycopg

from gis_service.core.db import libpq_dsn

from . import contenders as ct
from . import datasets, measure

RESULTS = Path(__file__).resolve().parent / "results"
WEB = morecantile.tms.get("WebMercatorQuad")


def workload(url: str, n_pages: int = 40) -> dict:
    """Bounding boxes that hold about 1,500 published parcels around real parcels, and the z10/z14 tiles there."""
    with psycopg.connect(libpq_dsn(url)) as c:
        published = c.execute("SELECT count(*) FROM parcels WHERE published").fetchone()[0]
        x0, y0, x1, y1 = c.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            "(SELECT ST_Extent(geom) e FROM admin_units WHERE level = 'province') s"
        ).fetchone()
        centres = c.execute(
            "SELECT ST_X(pos), ST_Y(pos) FROM parcels WHERE published AND code LIKE 'SYN-%%' "
            "ORDER BY md5(id::text) LIMIT %s",
            [n_pages],
        ).fetchall()
    density = published / ((x1 - x0) * (y1 - y0) * 0.6)  # the province fills about 60 % of its box
    half = min(0.5, math.sqrt(1500 / density)) / 2
    bboxes = [(x - half, y - half, x + half, y + half) for x, y in centres]
    tiles = {z: sorted({(t.z, t.x, t.y) for t in (WEB.tile(x, y, z) for x, y in centres)})[:n_pages] for z in (10, 14)}
    return {"bboxes": bboxes, "tiles": tiles, "published": published, "bbox_side_deg": round(2 * half, 4)}


def same_page_check(lf: ct.Service, tg: ct.Service, dsn: str, bbox) -> dict:
    """The three contenders must return the same features for the same page, or the race means nothing."""
    ours = httpx.get(lf.base + ct.landfund_page(bbox), timeout=60).json()
    theirs = httpx.get(tg.base + ct.tipg_page(bbox), timeout=60).json()
    with psycopg.connect(dsn) as c:
        raw = json.loads(c.execute(*ct.raw_page(bbox)).fetchone()[0])
    ids = [sorted(int(f["id"]) for f in doc["features"]) for doc in (ours, theirs)]
    ids.append(sorted(int(f["properties"]["id"]) for f in raw["features"]))
    return {
        "features": [len(i) for i in ids],
        "identical": ids[0] == ids[1] == ids[2],
        "numberMatched": [ours.get("numberMatched"), theirs.get("numberMatched"), raw.get("numberMatched")],
    }


def features_and_tiles(url: str, work: dict, levels: list[int], seconds: float, rounds: int, log) -> dict:
    dsn = libpq_dsn(url)
    lf, tg = ct.landfund(url), ct.tipg(url)
    try:
        check = same_page_check(lf, tg, dsn, work["bboxes"][0])
        log(f"  same page: {check}")
        pages = measure.ab(
            {
                "landfund": measure.http(lf.base, [ct.landfund_page(b) for b in work["bboxes"]]),
                "tipg": measure.http(tg.base, [ct.tipg_page(b) for b in work["bboxes"]]),
                "raw SQL": measure.sql(dsn, [ct.raw_page(b) for b in work["bboxes"]]),
            },
            levels,
            seconds,
            rounds,
            log,
        )
        tiles = {}
        for z, tile_list in work["tiles"].items():
            log(f" tiles z{z} ({len(tile_list)} tiles)")
            tiles[z] = measure.ab(
                {
                    "landfund": measure.http(lf.base, [ct.landfund_tile(*t) for t in tile_list]),
                    "tipg": measure.http(tg.base, [ct.tipg_tile(*t) for t in tile_list]),
                    "raw SQL": measure.sql(dsn, [ct.raw_tile(*t) for t in tile_list]),
                },
                [lv for lv in levels if lv <= 8] or levels[:1],
                seconds,
                rounds,
                log,
            )
        app = {}
        app["suitability_s"], r = measure.timed(
            lambda: httpx.get(lf.base + "/analytics/suitability?limit=50", timeout=300)
        )
        app["suitability_sites"] = r.json()["count"]
        app["planner_map_s"], r = measure.timed(lambda: httpx.get(lf.base + "/maps/planner", timeout=300))
        app["planner_map_bytes"] = len(r.content)
        app["investor_map_s"], r = measure.timed(lambda: httpx.get(lf.base + "/maps/investor", timeout=300))
        app["investor_map_bytes"] = len(r.content)
        log(
            f"  suitability {app['suitability_s']:.3f} s; planner map {app['planner_map_s']:.3f} s, "
            f"{app['planner_map_bytes']:,} bytes; investor map {app['investor_map_s']:.3f} s, "
            f"{app['investor_map_bytes']:,} bytes"
        )
        return {"same_page": check, "pages": pages, "tiles": tiles, **app}
    finally:
        lf.stop()
        tg.stop()


def naive_map(url: str, timeout: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        try:
            out = subprocess.run(
                [sys.executable, "-m", "bench.naive_map", url, str(Path(tmp) / "naive.html")],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=True,
                cwd=Path(__file__).resolve().parent.parent,
            ).stdout.split()
        except subprocess.TimeoutExpired:
            return {"seconds": None, "bytes": None, "note": f"did not finish in {timeout:.0f} s"}
    return {"seconds": float(out[0]), "bytes": int(out[1])}


def import_vs_ogr2ogr(n: int, rounds: int, log) -> dict:
    """n parcels from GeoPackage: `landfund import` (validator, history, indexes) against `ogr2ogr -f PostgreSQL`
    (reprojected to EPSG:4326 into a new table), each into a fresh copy of the base database, A B A B."""
    path = datasets.parcels_file(n)
    template = datasets.base()
    results: dict[str, list] = {"landfund import": [], "ogr2ogr": []}
    for r in range(rounds):
        for name in ["landfund import", "ogr2ogr"] if r % 2 == 0 else ["ogr2ogr", "landfund import"]:
            url = datasets.clone(template, "landfund_bench_import")
            if name == "ogr2ogr":
                p = psycopg.conninfo.conninfo_to_dict(libpq_dsn(url))
                pg = "PG:" + " ".join(f"{k}={v}" for k, v in p.items() if k != "password")
                cmd = [
                    "ogr2ogr",
                    "-f",
                    "PostgreSQL",
                    pg,
                    str(path),
                    "parcels",
                    "-nln",
                    "ogr_parcels",
                    "-t_srs",
                    "EPSG:4326",
                    "-nlt",
                    "MULTIPOLYGON",
                    "-lco",
                    "GEOMETRY_NAME=geom",
                ]
                env = {"PGPASSWORD": p.get("password", "")}
            else:
                cmd = [sys.executable, "-m", "gis_service.cli.main", "import", str(path), "--keep-status"]
                env = {"DATABASE_URL": url}
            wall, rss, _ = measure.run_measured(cmd, env)
            results[name].append((wall, rss))
            log(f"  {name}: {wall:.2f} s, peak {rss} MB")
    datasets.drop("landfund_bench_import")
    return {k: {"seconds": round(min(w for w, _ in v), 2), "peak_mb": max(m for _, m in v)} for k, v in results.items()}


def machine(url: str) -> dict:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
    with psycopg.connect(libpq_dsn(url)) as c:
        pg = c.execute("SHOW server_version").fetchone()[0]
        postgis = c.execute("SELECT postgis_lib_version()").fetchone()[0]
    gdal = subprocess.run(["ogr2ogr", "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": mem,
        "postgresql": pg,
        "postgis": postgis,
        "python": platform.python_version(),
        "gdal": gdal,
        "tipg": ct.TIPG_VERSION,
        "date": time.strftime("%Y-%m-%d"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--levels", default="1,8,32", help="concurrent clients")
    ap.add_argument("--seconds", type=float, default=5.0, help="per contender, per round, per level")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--import-size", type=int, default=100_000)
    ap.add_argument("--skip", default="", help="comma-separated: pages, import, naive")
    ap.add_argument("--naive-timeout", type=float, default=600)
    ap.add_argument("--rebuild", action="store_true", help="rebuild the benchmark databases")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    levels = [int(x) for x in args.levels.split(",") if x]
    skip = set(args.skip.split(","))
    log = lambda *a: print(*a, flush=True)  # noqa: E731
    report: dict = {
        "machine": machine(datasets.db_url(datasets.base(args.rebuild))),
        "sizes": {},
        "settings": {"levels": levels, "seconds": args.seconds, "rounds": args.rounds},
    }
    for n in sizes:
        log(f"== {n:,} parcels")
        t0 = time.perf_counter()
        name = datasets.sized(n, args.rebuild, log)
        url = datasets.db_url(name)
        entry: dict = {"build_s": round(time.perf_counter() - t0, 1)}
        work = workload(url)
        entry["published"], entry["bbox_side_deg"] = work["published"], work["bbox_side_deg"]
        if "pages" not in skip:
            entry.update(features_and_tiles(url, work, levels, args.seconds, args.rounds, log))
        if "naive" not in skip:
            entry["naive_map"] = naive_map(url, args.naive_timeout)
            log(f"  naive folium map: {entry['naive_map']}")
        report["sizes"][str(n)] = entry
    if "import" not in skip:
        log(f"== import of {args.import_size:,} parcels")
        report["import"] = {"size": args.import_size, **import_vs_ogr2ogr(args.import_size, args.rounds, log)}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2, default=str))
    from .report import markdown

    text = markdown(report)
    (args.out / "report.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
