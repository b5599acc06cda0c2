"""Ranking every open site, and the investor map, at N parcels: from the distances kept in parcel_measures
(migration 0017) against the same ranking searching the reference layers for each parcel, as it did before.

    .venv/bin/python -m bench.measures --sizes 100000,1000000

Each figure is the median of 3 runs; the databases are bench.datasets' (the demo plus N synthetic parcels and their
reference layers, loaded by the real import). Writes bench/results/measures.md."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import psycopg

from gis_service.analytics.suitability import Request
from gis_service.api.params import MAX_LIMIT as API_MAX  # the largest page of ranked sites the API answers
from gis_service.core.config import Settings
from gis_service.core.db import libpq_dsn
from gis_service.stores.analytics import AnalyticsStore, ranking_sql

from . import contenders as ct
from . import datasets, measure, sizes

RESULTS = Path(__file__).parent / "results" / "measures.md"
STORED_JOIN = "LEFT JOIN parcel_measures n ON n.parcel_id = p.id AND n.province_code = p.province_code"
NO_STORED = "LEFT JOIN parcel_measures n ON FALSE"  # every parcel then takes the ranking's live search


def rankings(url: str) -> tuple[str, str, dict]:
    """The ranking of every open site (no limit), as the service runs it and as it ran before (live search: the
    same query, with no stored measure found, so that each parcel goes through its live fallback)."""
    stored, params = ranking_sql(Request(limit=None), Settings(database_url=url))
    assert STORED_JOIN in stored and "nearest_references_m(p.geom)" in stored
    return stored, stored.replace(STORED_JOIN, NO_STORED), params


def run_sql(dsn: str, query: str, params: dict, settings: Settings) -> list:
    """The query as the service runs a ranking (AnalyticsStore.run_ranking): its parallel workers
    (LANDFUND_ANALYTICS_PARALLEL_WORKERS) and its sort memory (LANDFUND_ANALYTICS_WORK_MEM_MB)."""
    with psycopg.connect(dsn) as c:
        return AnalyticsStore(c).run_ranking(query, params, settings)[1]


def one_size(n: int, log) -> dict:
    name = datasets.sized(n, False, log)
    url = datasets.db_url(name)
    dsn = libpq_dsn(url)
    stored, live, params = rankings(url)
    settings = Settings(database_url=url)
    out: dict = {"parcels": n, "workers": settings.analytics_parallel_workers}
    out["stored_s"], rows_stored = measure.timed(lambda: run_sql(dsn, stored, params, settings))
    out["live_s"], rows_live = measure.timed(lambda: run_sql(dsn, live, params, settings))
    out["sites"] = len(rows_stored)
    out["identical"] = rows_stored == rows_live
    lf = ct.landfund(url)
    try:
        out["api_s"], _ = measure.timed(lambda: httpx.get(lf.base + "/analytics/suitability?limit=50", timeout=600))
        out["api_max_s"], r = measure.timed(
            lambda: httpx.get(lf.base + f"/analytics/suitability?limit={API_MAX}", timeout=600)
        )
        out["api_max_sites"] = r.json()["count"]
        out["map_s"], r = measure.timed(lambda: httpx.get(lf.base + "/maps/investor", timeout=600))
        out["map_status"] = r.status_code
    finally:
        lf.stop()
    with psycopg.connect(dsn) as c:
        out["measures"] = c.execute("SELECT count(*) FROM parcel_measures").fetchone()[0]
    log(f"  {out}")
    return out


def markdown(results: list[dict]) -> str:
    lines = [
        "**Ranking every open site from stored measures** (median of 3; parcel_measures, migration 0017; both "
        "rankings as the service runs them: its parallel workers and sort memory for analytics)",
        "",
        "| parcels | open sites | ranking, stored | ranking, live search | live ÷ stored | same ranking "
        f"| `/analytics/suitability?limit=50` | `…?limit={API_MAX}` (the API's maximum) | `/maps/investor` |",
        "|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['parcels']:,} | {r['sites']:,} | {r['stored_s']:.3f} s | {r['live_s']:.3f} s | "
            f"{r['live_s'] / r['stored_s']:.1f}× | {'yes' if r['identical'] else 'NO'} | {r['api_s']:.3f} s | "
            f"{r['api_max_s']:.3f} s ({r['api_max_sites']:,} sites) | {r['map_s']:.3f} s |"
        )
    lines += [
        "",
        "Both rankings return every open site to Python (bench only: a request gets at most the API's maximum). Every "
        "request ranks all open sites; the API then explains its best `limit`, the investor map shows its best.",
    ]
    lines += ["", f"Measured {time.strftime('%Y-%m-%d')} on this machine (`env`)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    sizes.main(__doc__ or "", one_size, markdown, RESULTS)


if __name__ == "__main__":
    main()
