"""The command line of a bench that measures at several sizes (--sizes 100000,1000000) and writes a Markdown
table to bench/results/."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def main(doc: str, one_size: Callable[[int, Callable], dict], markdown: Callable[[list[dict]], str], out: Path) -> None:
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--out", type=Path, default=out)
    args = ap.parse_args()
    log = lambda *a: print(*a, flush=True)  # noqa: E731
    results = []
    for n in [int(s) for s in args.sizes.split(",") if s]:
        log(f"== {n:,} parcels")
        results.append(one_size(n, log))
    text = markdown(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
