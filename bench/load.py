"""A bounded load test on loopback: N clients mixing reads, tiles and writes for a fixed time.

    .venv/bin/python -m bench.load --clients 16 --seconds 60 [--workers 2]

It makes a scratch database on the embedded cluster (`landfund_load`, dropped afterwards), loads the
Điện Biên demo, serves it with `landfund serve` on a free 127.0.0.1 port, and runs the clients:
- readers page through items (bbox, CQL2 filters, sorting), fetch single items and the coverage analytics;
- tile clients fetch vector tiles around Điện Biên Phủ at zoom 10–15;
- writers increment a counter on a few shared parcels by read–modify–write with If-Match, retrying on
  412, and create new parcels; at the end every counter must equal its start plus the writes that
  succeeded (an overwritten write would leave it short) and every 201 must be in the table.

It passes with zero 5xx and zero lost writes, and prints latency percentiles per kind of request (also
written to bench/results/load.json). `--url` points it at a running service instead (loopback only).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import morecantile

HOT_PARCELS = 4  # writers contend on these few parcels, so If-Match conflicts really happen
COUNTER = "legal_area_m2"
START = 1000.0
WEB = morecantile.tms.get("WebMercatorQuad")
CENTRE = (103.02, 21.39)  # Điện Biên Phủ
FILTERS = [
    "status = 'programmed'",
    "land_use_code IN ('ODT','ONT')",
    "max_floors >= 5",
    "S_INTERSECTS(geometry, POLYGON((102.9 21.3, 103.1 21.3, 103.1 21.5, 102.9 21.5, 102.9 21.3)))",
]


@dataclass
class Report:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)
    writes_ok: dict[int, int] = field(default_factory=dict)  # parcel id → successful increments
    conflicts: int = 0
    created: list[int] = field(default_factory=list)
    lost_writes: int | None = None
    missing_creates: int | None = None
    seconds: float = 0.0

    def record(self, kind: str, r: httpx.Response, took: float) -> None:
        self.latencies.setdefault(kind, []).append(took)
        by = self.statuses.setdefault(kind, {})
        by[r.status_code] = by.get(r.status_code, 0) + 1
        if r.status_code >= 500:
            self.server_errors.append(f"{kind} {r.request.method} {r.request.url} → {r.status_code} {r.text[:200]}")

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def summary(self) -> dict:
        kinds = {}
        for kind, values in sorted(self.latencies.items()):
            ms = sorted(v * 1000 for v in values)
            q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
            kinds[kind] = {
                "requests": len(ms),
                "p50_ms": round(q[49], 1),
                "p90_ms": round(q[89], 1),
                "p99_ms": round(q[98], 1),
                "max_ms": round(ms[-1], 1),
                "statuses": {str(k): v for k, v in sorted(self.statuses[kind].items())},
            }
        return {
            "seconds": round(self.seconds, 1),
            "requests": self.requests,
            "throughput_rps": round(self.requests / self.seconds, 1) if self.seconds else None,
            "server_errors": len(self.server_errors),
            "lost_writes": self.lost_writes,
            "missing_creates": self.missing_creates,
            "successful_increments": sum(self.writes_ok.values()),
            "if_match_conflicts": self.conflicts,
            "created": len(self.created),
            "kinds": kinds,
        }

    def markdown(self) -> str:
        s = self.summary()
        lines = [
            f"{s['requests']} requests in {s['seconds']} s ({s['throughput_rps']} req/s); "
            f"5xx: {s['server_errors']}; lost writes: {s['lost_writes']}; missing creates: {s['missing_creates']}; "
            f"increments: {s['successful_increments']} (412 conflicts retried: {s['if_match_conflicts']}); "
            f"created: {s['created']}",
            "",
            "| request | n | p50 ms | p90 ms | p99 ms | max ms | statuses |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for kind, k in s["kinds"].items():
            lines.append(
                f"| {kind} | {k['requests']} | {k['p50_ms']} | {k['p90_ms']} | {k['p99_ms']} | {k['max_ms']} | "
                + ", ".join(f"{c}×{n}" for c, n in k["statuses"].items())
                + " |"
            )
        return "\n".join(lines)


async def _timed(report: Report, kind: str, coro) -> httpx.Response:
    t0 = time.perf_counter()
    r = await coro
    report.record(kind, r, time.perf_counter() - t0)
    return r


async def _reader(c: httpx.AsyncClient, rnd: random.Random, report: Report, stop: float, ids: list[int]) -> None:
    while time.monotonic() < stop:
        pick = rnd.random()
        if pick < 0.35:
            x, y = CENTRE[0] + rnd.uniform(-0.3, 0.3), CENTRE[1] + rnd.uniform(-0.3, 0.3)
            await _timed(
                report,
                "items bbox",
                c.get(
                    f"/collections/parcels/items?bbox={x - 0.1},{y - 0.1},{x + 0.1},{y + 0.1}&limit=50&sortby=-area_m2"
                ),
            )
        elif pick < 0.6:
            await _timed(
                report,
                "items filter",
                c.get("/collections/parcels/items?limit=20&filter=" + quote(rnd.choice(FILTERS))),
            )
        elif pick < 0.9:
            await _timed(report, "item", c.get(f"/collections/parcels/items/{rnd.choice(ids)}"))
        else:
            await _timed(report, "coverage", c.get("/analytics/coverage"))


async def _tiler(c: httpx.AsyncClient, rnd: random.Random, report: Report, stop: float) -> None:
    while time.monotonic() < stop:
        z = rnd.randint(10, 15)
        t = WEB.tile(CENTRE[0] + rnd.uniform(-0.15, 0.15), CENTRE[1] + rnd.uniform(-0.15, 0.15), z)
        await _timed(report, "tile", c.get(f"/collections/parcels/tiles/WebMercatorQuad/{z}/{t.x}/{t.y}"))


async def _writer(
    c: httpx.AsyncClient, rnd: random.Random, report: Report, stop: float, hot: list[int], token: str, me: int
) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    n = 0
    while time.monotonic() < stop:
        if rnd.random() < 0.2:  # a new parcel, in this writer's own strip so creates never overlap
            n += 1
            lon, lat = 103.35 + me * 0.01, 21.55 + n * 0.0012
            ring = [[lon, lat], [lon + 0.0004, lat], [lon + 0.0004, lat + 0.0004], [lon, lat + 0.0004], [lon, lat]]
            body = {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"code": f"LOAD-{me}-{n}", "land_use_code": "ODT", "published": True},
            }
            r = await _timed(
                report,
                "create",
                c.post(
                    "/collections/parcels/items", json=body, headers={**auth, "Content-Type": "application/geo+json"}
                ),
            )
            if r.status_code == 201:
                report.created.append(r.json()["id"])
            continue
        fid = rnd.choice(hot)
        while time.monotonic() < stop:  # read–modify–write until our If-Match wins
            r = await _timed(report, "write: read", c.get(f"/collections/parcels/items/{fid}", headers=auth))
            value = r.json()["properties"][COUNTER]
            r = await _timed(
                report,
                "write: patch",
                c.patch(
                    f"/collections/parcels/items/{fid}",
                    json={"properties": {COUNTER: value + 1}},
                    headers={**auth, "If-Match": r.headers["etag"], "Content-Type": "application/merge-patch+json"},
                ),
            )
            if r.status_code == 204:
                report.writes_ok[fid] = report.writes_ok.get(fid, 0) + 1
                break
            if r.status_code != 412:
                break
            report.conflicts += 1


async def run(
    base: str, token: str, *, clients: int = 12, seconds: float = 30, seed: int = 7, hot_parcels: int = HOT_PARCELS
) -> Report:
    """Drive `clients` concurrent clients (half readers, a quarter tiles, a quarter writers) for `seconds`.

    The database behind `base` must hold published parcels; `hot_parcels` of them get their counter reset."""
    host = urlsplit(base).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"the load test runs on loopback only, not against {host}")
    report = Report()
    # idle connections expire on the client's side (2 s) before uvicorn closes them (5 s): reusing one the server
    # is closing at that moment fails the request with a ReadError, a race of the harness, not of the service
    limits = httpx.Limits(max_connections=clients + 4, max_keepalive_connections=clients + 4, keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as c:
        auth = {"Authorization": f"Bearer {token}"}
        r = await c.get("/collections/parcels/items?limit=200", headers=auth)
        if r.status_code != 200:
            raise SystemExit(f"the service answered {r.status_code}: {r.text[:300]}")
        page = r.json()["features"]
        ids = [f["id"] for f in page if f["properties"]["published"]]
        hot = ids[:hot_parcels]
        for fid in hot:  # a known start for the counters
            r = await c.get(f"/collections/parcels/items/{fid}", headers=auth)
            r = await c.patch(
                f"/collections/parcels/items/{fid}",
                json={"properties": {COUNTER: START}},
                headers={**auth, "If-Match": r.headers["etag"], "Content-Type": "application/merge-patch+json"},
            )
            assert r.status_code == 204, r.text
        writers = max(1, clients // 4)
        tilers = max(1, clients // 4)
        readers = max(1, clients - writers - tilers)
        t0 = time.monotonic()
        stop = t0 + seconds
        tasks = [_reader(c, random.Random(seed * 1000 + i), report, stop, ids) for i in range(readers)]
        tasks += [_tiler(c, random.Random(seed * 2000 + i), report, stop) for i in range(tilers)]
        tasks += [_writer(c, random.Random(seed * 3000 + i), report, stop, hot, token, i) for i in range(writers)]
        await asyncio.gather(*tasks)
        report.seconds = time.monotonic() - t0
        lost = 0
        for fid in hot:
            final = (await c.get(f"/collections/parcels/items/{fid}", headers=auth)).json()["properties"][COUNTER]
            lost += int(START + report.writes_ok.get(fid, 0) - final)
        report.lost_writes = lost
        missing = 0
        for fid in report.created:
            missing += (await c.get(f"/collections/parcels/items/{fid}", headers=auth)).status_code != 200
        report.missing_creates = missing
    return report


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _scratch_service(workers: int):
    """The embedded cluster's `landfund_load` database with the demo, served by `landfund serve`."""
    import psycopg
    from sqlalchemy.engine import make_url

    from gis_service.catalogue import load_catalogue
    from gis_service.core.config import Settings
    from gis_service.core.db import database_url, libpq_dsn, make_engine
    from gis_service.ingest.demo import load_demo
    from gis_service.schema import upgrade
    from gis_service.services.users import add_user, issue_token

    settings = Settings()  # DATABASE_URL when set, else the embedded cluster
    server = make_url(database_url(settings, start=True))
    with psycopg.connect(libpq_dsn(server.set(database="postgres").render_as_string(False)), autocommit=True) as c:
        c.execute("DROP DATABASE IF EXISTS landfund_load WITH (FORCE)")
        c.execute("CREATE DATABASE landfund_load")
    url = server.set(database="landfund_load").render_as_string(False)
    upgrade(make_engine(url))
    with psycopg.connect(libpq_dsn(url)) as c:
        load_demo(c, load_catalogue(settings.layers_dir), settings)
        add_user(c, "load-admin", "admin", None)
        token = issue_token(c, "load-admin", days=1)[0]
    port = _free_port()
    log_path = Path(tempfile.gettempdir()) / "landfund-load-serve.log"
    log = open(log_path, "wb")  # noqa: SIM115 - not a pipe: one nobody reads fills up and stalls the server
    proc = subprocess.Popen(
        [sys.executable, "-m", "gis_service.cli.main", "serve", "--port", str(port), "--workers", str(workers)],
        env={**os.environ, "DATABASE_URL": url},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit("landfund serve exited: " + log_path.read_text(errors="replace"))
        time.sleep(0.1)

    def cleanup():
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
        with psycopg.connect(libpq_dsn(server.set(database="postgres").render_as_string(False)), autocommit=True) as c:
            c.execute("DROP DATABASE IF EXISTS landfund_load WITH (FORCE)")

    return base, token, cleanup


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=2, help="uvicorn workers of the scratch service")
    ap.add_argument("--url", help="a running service on loopback (then --token is needed)")
    ap.add_argument("--token", help="an admin token for --url")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "load.json")
    args = ap.parse_args()
    if args.url:
        if not args.token:
            raise SystemExit("--url needs --token (an admin token: landfund users token NAME)")
        base, token, cleanup = args.url.rstrip("/"), args.token, lambda: None
    else:
        base, token, cleanup = _scratch_service(args.workers)
    try:
        report = asyncio.run(run(base, token, clients=args.clients, seconds=args.seconds))
    finally:
        cleanup()
    print(report.markdown())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"clients": args.clients, "workers": args.workers, **report.summary()}, indent=2))
    for line in report.server_errors[:10]:
        print("5xx:", line, file=sys.stderr)
    sys.exit(1 if report.server_errors or report.lost_writes or report.missing_creates else 0)


if __name__ == "__main__":
    main()
