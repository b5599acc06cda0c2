"""Benchmark databases: the Điện Biên demo plus N synthetic parcels and reference layers in proportion.

`landfund_bench_<N>` on the embedded cluster (or the server DATABASE_URL names) is built once through the
real import path (validator, history, everything) and reused while it holds what it should; --rebuild
starts over. `landfund_bench_base` (the demo alone) is the template the import comparison starts from.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import psycopg
import shapely
from sqlalchemy.engine import make_url

from gis_service.catalogue import load_catalogue
from gis_service.core.config import Settings
from gis_service.core.db import database_url, libpq_dsn, make_engine
from gis_service.ingest.demo import load_demo
from gis_service.ingest.load import import_file
from gis_service.schema import upgrade

from . import synthetic

DATA = Path(__file__).resolve().parent / "data"
KINDS = ["school", "health", "admin_centre", "market"]


def server_url() -> str:
    """The `postgres` database of the server the benchmarks use (TCP, so every contender connects alike)."""
    settings = Settings()
    url = make_url(database_url(settings, start=True))
    if not settings.database_url:  # the embedded cluster: over TCP with its password, like any client
        from gis_service.core.embedded import cluster_from_settings

        url = make_url(cluster_from_settings(settings).tcp_url())
    return url.set(database="postgres", drivername="postgresql+psycopg").render_as_string(False)


def db_url(name: str) -> str:
    return make_url(server_url()).set(database=name).render_as_string(False)


def _admin(sql: str) -> None:
    with psycopg.connect(libpq_dsn(server_url()), autocommit=True) as c:
        c.execute(sql)


def exists(name: str) -> bool:
    with psycopg.connect(libpq_dsn(server_url())) as c:
        return c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def clone(template: str, name: str) -> str:
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return db_url(name)


def drop(name: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _upgrade(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()  # a pooled session would keep the database from serving as a template


def base(rebuild: bool = False) -> str:
    """`landfund_bench_base`: migrated, with the demo loaded."""
    name = "landfund_bench_base"
    if exists(name) and not rebuild:
        _upgrade(db_url(name))  # what the comparisons copy runs the schema of today, not of the day it was built
        return name
    drop(name)
    _admin(f'CREATE DATABASE "{name}"')
    url = db_url(name)
    _upgrade(url)
    settings = Settings(database_url=url)
    with psycopg.connect(libpq_dsn(url)) as c:
        load_demo(c, load_catalogue(settings.layers_dir), settings)
    return name


def demo_fingerprint() -> str:
    """A short hash of the demo's units and parcels: the synthetic files are drawn in the demo province and clear of
    its parcels, so a changed demo needs new ones (kept apart, never a stale file)."""
    h = hashlib.sha256()
    for name in ("admin_units.geojson", "parcels.geojson"):
        h.update((Path(__file__).resolve().parent.parent / "layers" / "demo" / name).read_bytes())
    return h.hexdigest()[:12]


def parcels_file(n: int) -> Path:
    path = DATA / demo_fingerprint() / f"parcels_{n}.gpkg"
    if not path.exists():
        synthetic.write(synthetic.parcels(n, province=True), path)
    return path


def reference_files(n: int) -> dict[str, Path]:
    """Facilities (one per 50 parcels), roads (one per 100) and hazard zones (one per 1,000) in the province."""
    rng = np.random.default_rng(n)
    area, _ = synthetic.province_area()
    shapely.prepare(area)
    x0, y0, x1, y1 = area.bounds

    def points(k: int) -> np.ndarray:
        out = []
        while sum(len(o) for o in out) < k:
            p = shapely.points(rng.uniform(x0, x1, 4 * k), rng.uniform(y0, y1, 4 * k))
            out.append(p[shapely.contains(area, p)])
        return np.concatenate(out)[:k]

    files = {}
    k = max(10, n // 50)
    facilities = gpd.GeoDataFrame(
        {"name": [f"Cơ sở {i + 1}" for i in range(k)], "kind": rng.choice(KINDS, k)},
        geometry=points(k),
        crs=synthetic.CRS,
    )
    k = max(5, n // 100)
    starts = points(k)
    ends = shapely.points(
        shapely.get_x(starts) + rng.uniform(-3000, 3000, k), shapely.get_y(starts) + rng.uniform(-3000, 3000, k)
    )
    roads = gpd.GeoDataFrame(
        {"name": [f"Đường {i + 1}" for i in range(k)], "road_class": rng.choice(["provincial", "local"], k)},
        geometry=shapely.intersection(
            shapely.linestrings(
                np.stack(
                    [
                        np.stack([shapely.get_x(starts), shapely.get_y(starts)], 1),
                        np.stack([shapely.get_x(ends), shapely.get_y(ends)], 1),
                    ],
                    1,
                )
            ),
            area,
        ),
        crs=synthetic.CRS,
    )
    roads = roads[~roads.geometry.is_empty & (roads.geometry.geom_type == "LineString")]
    k = max(2, n // 1000)
    hazards = gpd.GeoDataFrame(
        {
            "name": [f"Vùng nguy cơ {i + 1}" for i in range(k)],
            "hazard": rng.choice(["flood", "flash_flood", "landslide"], k),
            "severity": rng.choice(["low", "medium", "high"], k),
        },
        geometry=shapely.multipolygons(shapely.buffer(points(k), rng.uniform(300, 1500, k)).reshape(-1, 1)),
        crs=synthetic.CRS,
    )
    for layer, frame in (("facilities", facilities), ("roads", roads), ("hazard_zones", hazards)):
        path = DATA / demo_fingerprint() / f"{layer}_{n}.gpkg"
        if not path.exists():
            synthetic.write(frame, path)
        files[layer] = path
    return files


def sized(n: int, rebuild: bool = False, log=print) -> str:
    """`landfund_bench_<n>`: the base plus n synthetic parcels and reference layers, loaded by the real import."""
    name = f"landfund_bench_{n}"
    if exists(name) and not rebuild:
        with psycopg.connect(libpq_dsn(db_url(name))) as c:
            if c.execute("SELECT count(*) FROM parcels WHERE code LIKE 'SYN-%%'").fetchone()[0] == n:
                return _same_settings(name)
    url = clone(base(), name)
    settings = Settings(database_url=url)
    catalogue = load_catalogue(settings.layers_dir)
    t0 = time.perf_counter()
    with psycopg.connect(libpq_dsn(url)) as c:
        import_file(c, catalogue, settings, parcels_file(n), "parcels", keep_status=True)
        for layer, path in reference_files(n).items():
            import_file(c, catalogue, settings, path, layer, allow_overlap=True)
    with psycopg.connect(libpq_dsn(url), autocommit=True) as c:
        c.execute("VACUUM ANALYZE")
    log(f"built {name} in {time.perf_counter() - t0:.0f} s")
    return _same_settings(name)


def _same_settings(name: str) -> str:
    """Every contender's sessions get the settings landfund gives its own (no JIT, no parallel workers): a race
    between session settings would say nothing about the services. (And the schema is brought up to date.)"""
    _upgrade(db_url(name))
    _admin(f'ALTER DATABASE "{name}" SET jit = off')
    _admin(f'ALTER DATABASE "{name}" SET max_parallel_workers_per_gather = 0')
    return name
