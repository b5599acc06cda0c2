"""The contenders: landfund and tipg served by uvicorn on loopback, and raw SQL straight to PostGIS.

tipg lives in a virtual environment of its own (bench/.venv-tipg, made on first use with
`pip install tipg==1.6.1 uvicorn[standard]`), because its FastAPI and pydantic pins are not landfund's. Both
services run on uvicorn with uvloop and httptools.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

HERE = Path(__file__).resolve().parent
TIPG_VENV = HERE / ".venv-tipg"
TIPG_VERSION = "1.6.1"

# The public parcel fields both services return (landfund adds its computed area_m2 and est_units).
PUBLIC = [
    "code",
    "name",
    "admin_unit_code",
    "map_sheet_no",
    "parcel_no",
    "land_use_code",
    "status",
    "fund_source",
    "responsible_level",
    "responsible_agency",
    "clearance_status",
    "max_far",
    "max_density",
    "max_floors",
    "decision_no",
    "decision_date",
    "legal_area_m2",
    "published",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """A uvicorn process on a free loopback port, its output in a log file."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], ready_path: str = "/"):
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(tempfile.gettempdir()) / f"landfund-bench-{name}.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - held open while the server runs
        self.proc = subprocess.Popen(
            [*cmd, "--port", str(self.port)],
            env={**os.environ, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=tempfile.gettempdir(),
        )
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(self.base + ready_path, timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start: {self.log_path.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)

    def pid_tree_rss_kb(self) -> int:
        return int(Path(f"/proc/{self.proc.pid}/status").read_text().split("VmRSS:")[1].split()[0])

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def landfund(url: str, workers: int = 1) -> Service:
    return Service(
        "landfund",
        [sys.executable, "-m", "gis_service.cli.main", "serve", "--workers", str(workers)],
        {"DATABASE_URL": url, "LANDFUND_DATABASE_READ_URL": ""},
        "/health",
    )


def _tipg_python() -> Path:
    python = TIPG_VENV / "bin" / "python"
    if not (TIPG_VENV / f".tipg-{TIPG_VERSION}").exists():
        if not python.exists():
            venv.create(TIPG_VENV, with_pip=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                f"tipg=={TIPG_VERSION}",
                "uvicorn[standard]",
            ],
            check=True,
        )
        (TIPG_VENV / f".tipg-{TIPG_VERSION}").touch()
    return python


def tipg(url: str, workers: int = 1) -> Service:
    """tipg over the same parcels table (its id as key, geom as geometry, at most 10,000 per page). tipg stops
    a tile at 10,000 features by default; here it gets every feature, as landfund and the raw SQL do."""
    if not make_url(url).host:
        raise SystemExit(
            "tipg connects over TCP only: give DATABASE_URL with a host (postgresql://user:pw@host:port/db)"
        )
    libpq = make_url(url).set(drivername="postgresql").render_as_string(False)
    env = {
        "DATABASE_URL": libpq,
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": '["public.parcels"]',
        "TIPG_DB_FUNCTIONS": "[]",
        "TIPG_TABLE_CONFIG__public_parcels__PK": "id",
        "TIPG_TABLE_CONFIG__public_parcels__GEOMCOL": "geom",
        "TIPG_MAX_FEATURES_PER_QUERY": "10000",
        "TIPG_MAX_FEATURES_PER_TILE": "10000000",
    }
    return Service(
        "tipg",
        [str(_tipg_python()), "-m", "uvicorn", "tipg.main:app", "--workers", str(workers)],
        env,
        "/collections/public.parcels",
    )


# -- what each contender is asked ----------------------------------------------------------------------------


def landfund_page(bbox) -> str:
    return "/collections/parcels/items?bbox={:.6f},{:.6f},{:.6f},{:.6f}&limit=1000".format(*bbox)


def tipg_page(bbox) -> str:
    return (
        "/collections/public.parcels/items?bbox={:.6f},{:.6f},{:.6f},{:.6f}&limit=1000&published=true"
        "&sortby=id&properties=".format(*bbox)
        + ",".join(PUBLIC)
    )


RAW_PAGE = f"""
WITH page AS (
    SELECT id, {", ".join(PUBLIC)}, geom FROM parcels
    WHERE published AND geom && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326)
      AND ST_Intersects(geom, ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326))
    ORDER BY id LIMIT 1000)
SELECT json_build_object(
    'type', 'FeatureCollection',
    'numberMatched', (SELECT count(*) FROM parcels WHERE published
                      AND geom && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326)
                      AND ST_Intersects(geom, ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326))),
    'features', coalesce((SELECT json_agg(ST_AsGeoJSON(page.*, 'geom', 6)::json ORDER BY id) FROM page), '[]'))::text
"""


def raw_page(bbox) -> tuple[str, dict]:
    return RAW_PAGE, dict(zip(("x0", "y0", "x1", "y1"), bbox))


def landfund_tile(z: int, x: int, y: int) -> str:
    return f"/collections/parcels/tiles/WebMercatorQuad/{z}/{x}/{y}?properties=code,status"


def tipg_tile(z: int, x: int, y: int) -> str:
    return f"/collections/public.parcels/tiles/WebMercatorQuad/{z}/{x}/{y}?published=true&properties=code,status"


RAW_TILE = """
WITH b AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS e)
SELECT ST_AsMVT(t, 'parcels', 4096, 'geom') FROM (
    SELECT p.id, p.code, p.status, ST_AsMVTGeom(ST_Transform(p.geom, 3857), b.e, 4096, 64, true) AS geom
    FROM parcels p, b
    WHERE p.published AND p.geom && ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => 64.0 / 4096), 4326)
) t
"""


def raw_tile(z: int, x: int, y: int) -> tuple[str, dict]:
    return RAW_TILE, {"z": z, "x": x, "y": y}
