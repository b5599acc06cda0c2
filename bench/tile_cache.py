"""The tile cache of deploy/nginx/landfund-cache.conf (Debian's nginx) in front of a running landfund: vector tiles
fetched through it the first time (a miss: landfund renders the tile) and again (a hit: nginx answers from its
cache), anonymous, and signed in (always passed to landfund).

    landfund serve --port 8111 &
    .venv/bin/python -m bench.tile_cache --upstream 127.0.0.1:8111 [--zoom 14] [--tiles 60] [--token TOKEN]

Writes bench/results/tile_cache.json. `start` is also what tests/test_tile_cache.py runs nginx with."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import morecantile

REPO = Path(__file__).resolve().parent.parent
CONF = REPO / "deploy" / "nginx" / "landfund-cache.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def start(upstream_port: int, workdir: Path) -> Iterator[str]:
    """nginx with the shipped configuration, its upstream and listen port pointed at this machine's own; yields
    its base URL."""
    port = free_port()
    conf = CONF.read_text(encoding="utf-8")
    conf = conf.replace("/var/cache/nginx/landfund", str(workdir / "cache"))
    conf = conf.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};")
    conf = conf.replace("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{port};")
    if f":{upstream_port};" not in conf or f":{port};" not in conf:
        raise RuntimeError(f"{CONF} no longer has the upstream and listen lines this harness replaces")
    temp = " ".join(f"{k}_temp_path {workdir / k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    main = workdir / "nginx.conf"
    main.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")  # the workers write the cache under a private directory
        + f"pid {workdir / 'nginx.pid'};\nerror_log {workdir / 'error.log'};\nworker_processes 1;\nevents {{}}\n"
        + f"http {{\naccess_log {workdir / 'access.log'};\n{temp}\n{conf}\n}}\n",
        encoding="utf-8",
    )
    check = subprocess.run([NGINX, "-t", "-p", str(workdir), "-c", str(main)], capture_output=True, text=True)
    if check.returncode:
        raise RuntimeError(check.stderr)
    proc = subprocess.Popen([NGINX, "-p", str(workdir), "-c", str(main), "-g", "daemon off;"])
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            with contextlib.suppress(httpx.TransportError):
                httpx.get(base + "/health", timeout=1)
                break
            time.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _ms(client: httpx.Client, url: str, headers: dict | None = None) -> tuple[float, str]:
    t = time.perf_counter()
    r = client.get(url, headers=headers)
    r.raise_for_status()
    return (time.perf_counter() - t) * 1000, r.headers.get("x-cache-status", "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--upstream", default="127.0.0.1:8111", help="where landfund serves (host:port)")
    ap.add_argument("--zoom", type=int, default=14)
    ap.add_argument("--tiles", type=int, default=60, help="distinct tiles around Điện Biên Phủ")
    ap.add_argument("--token", help="a planner's token: its tiles are measured too (never cached)")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "tile_cache.json")
    args = ap.parse_args()
    tms = morecantile.tms.get("WebMercatorQuad")
    centre = tms.tile(103.03, 21.39, args.zoom)
    side = max(1, round(args.tiles**0.5))
    urls = [
        f"/collections/parcels/tiles/WebMercatorQuad/{args.zoom}/{centre.x + i - side // 2}/{centre.y + j - side // 2}"
        for i in range(side)
        for j in range(side)
    ]
    port = int(args.upstream.rsplit(":", 1)[1])
    with tempfile.TemporaryDirectory() as tmp, start(port, Path(tmp)) as base, httpx.Client(base_url=base) as c:
        direct = httpx.Client(base_url=f"http://{args.upstream}")
        landfund = [_ms(direct, u)[0] for u in urls]
        miss = [_ms(c, u) for u in urls]
        hit = [_ms(c, u) for u in urls for _ in range(3)]
        signed = [_ms(c, u, {"Authorization": f"Bearer {args.token}"}) for u in urls] if args.token else []
    result = {
        "tiles": len(urls),
        "zoom": args.zoom,
        "landfund_direct_ms": statistics.median(landfund),
        "miss_ms": statistics.median(m for m, _ in miss),
        "hit_ms": statistics.median(h for h, _ in hit),
        "statuses": sorted({s for _, s in miss}) + sorted({s for _, s in hit}),
        **(
            {
                "signed_in_ms": statistics.median(m for m, _ in signed),
                "signed_in_statuses": sorted({s for _, s in signed}),
            }
            if signed
            else {}
        ),
    }
    result["hit_speedup"] = round(result["miss_ms"] / result["hit_ms"], 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
