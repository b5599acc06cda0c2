"""`landfund import` against `ogr2ogr -f PostgreSQL` at N parcels: wall time and peak memory, A B then B A.

    .venv/bin/python -m bench.imports --sizes 100000,1000000

Each import starts from a fresh copy of the base database (the demo alone) and reads bench.datasets' GeoPackage of
N synthetic parcels in VN-2000 (EPSG:9205); the figure is the best of the rounds. The floor is the peak memory of the
same command on the smallest file (what the process holds whatever the file: Python, GDAL, the libraries), so the
growth with the file shows apart from it. Writes bench/results/imports.md."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from .run import import_vs_ogr2ogr

RESULTS = Path(__file__).parent / "results" / "imports.md"
FLOOR = 1500


def markdown(results: list[dict], floor: dict) -> str:
    lines = [
        "**Import against ogr2ogr** (best of the rounds; `landfund import --keep-status`: every check of the "
        "validator, units by location, history, parcel measures, indexes; ogr2ogr: reprojected to EPSG:4326 into a "
        "new table)",
        "",
        "| parcels | `landfund import` | ogr2ogr | ratio | landfund peak | ogr2ogr peak |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lf, og = r["landfund import"], r["ogr2ogr"]
        lines.append(
            f"| {r['size']:,} | {lf['seconds']:.1f} s | {og['seconds']:.1f} s | {lf['seconds'] / og['seconds']:.2f}× "
            f"| {lf['peak_mb']} MB | {og['peak_mb']} MB |"
        )
    lines += [
        "",
        f"Floor: importing {FLOOR:,} parcels peaks at {floor['landfund import']['peak_mb']} MB "
        f"(ogr2ogr {floor['ogr2ogr']['peak_mb']} MB). Measured {time.strftime('%Y-%m-%d')} on this machine (`env`).",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    log = lambda *a: print(*a, flush=True)  # noqa: E731
    log(f"== floor: {FLOOR:,} parcels")
    floor = import_vs_ogr2ogr(FLOOR, 1, log)
    results = []
    for n in [int(s) for s in args.sizes.split(",") if s]:
        log(f"== {n:,} parcels")
        results.append({"size": n, **import_vs_ogr2ogr(n, args.rounds, log)})
    text = markdown(results, floor)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
