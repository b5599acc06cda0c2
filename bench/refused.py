"""An import refused in full: the file of N synthetic parcels checked again (`landfund import --dry-run --json`)
against the database that already holds it, so every code is taken and every parcel overlaps itself: 2 × N
problems. Time and peak memory beside a valid import of the same file (bench/results/imports.md).

    .venv/bin/python -m bench.refused --sizes 100000,1000000

The report keeps the first 1,000 problems and counts the others (validation/report.py), and the checks against
the database stream their rows, so memory stays that of a valid import. Writes bench/results/refused.md."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from . import datasets, measure, sizes

RESULTS = Path(__file__).parent / "results" / "refused.md"


def one_size(n: int, log) -> dict:
    url = datasets.db_url(datasets.sized(n, False, log))
    cmd = [sys.executable, "-m", "gis_service.cli.main", "import", str(datasets.parcels_file(n))]
    cmd += ["--keep-status", "--dry-run", "--json"]
    with tempfile.TemporaryDirectory() as tmp:
        wall, rss, _ = measure.run_measured(cmd, {"DATABASE_URL": url}, expect=1, stdout=Path(tmp) / "report.json")
        report = json.loads((Path(tmp) / "report.json").read_text())
    assert report["written"] == 0 and len(report["problems"]) == 1000, report.keys()
    out = {"parcels": n, "problems": report["problems_total"], "seconds": round(wall, 1), "peak_mb": rss}
    log(f"  {out}")
    return out


def markdown(results: list[dict]) -> str:
    lines = [
        "**An import refused in full** (the same file checked again: every code taken, every parcel overlapping "
        "itself; `landfund import --dry-run --json`)",
        "",
        "| parcels | problems | time | peak memory |",
        "|---:|---:|---:|---:|",
    ]
    lines += [f"| {r['parcels']:,} | {r['problems']:,} | {r['seconds']:.1f} s | {r['peak_mb']} MB |" for r in results]
    lines += ["", f"Measured {time.strftime('%Y-%m-%d')} on this machine (`env`)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    sizes.main(__doc__ or "", one_size, markdown, RESULTS)


if __name__ == "__main__":
    main()
