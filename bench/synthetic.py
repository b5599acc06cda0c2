"""Synthetic land-fund parcels at any scale, for benchmarks and fault tests.

Parcels are squares on a regular grid in VN-2000 / TM-3 103-00 (EPSG:9205), the CRS of Điện Biên's
cadastral files: spread over the whole (demo) province and clear of the demo's own parcels, so they load
beside the demo through the real validator; or, for tests that need no boundary, on one compact grid.
Attributes follow the catalogue's code lists and a fixed seed, so the
same N always gives the same file.

    python -m bench.synthetic 100000 bench/data/parcels_100k.gpkg
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

CRS = "EPSG:9205"
ORIGIN_E, ORIGIN_N = 520_000.0, 2_330_000.0  # south-west corner of the grid (Điện Biên Đông side)
SIDE, PITCH = 40.0, 60.0  # a 40 m square every 60 m: 1 million parcels fit in 60 × 60 km
STATUSES = [
    "proposed",
    "programmed",
    "plan_approved",
    "call_published",
    "investor_selected",
    "under_construction",
    "completed",
]
LAND_USE = ["ODT", "ONT", "TMD", "SKC", "CLN"]
LEVELS = ["province", "district", "commune"]


def _grid(n: int, origin: tuple[float, float], pitch: float) -> tuple[np.ndarray, np.ndarray]:
    cols = max(1, math.ceil(math.sqrt(n)))
    i = np.arange(n)
    return origin[0] + (i % cols) * pitch, origin[1] + (i // cols) * pitch


def _inside(n: int, area, avoid, rng) -> tuple[np.ndarray, np.ndarray, float]:
    """South-west corners of `n` squares on a regular grid inside `area`, clear of `avoid`."""
    pitch = math.sqrt(area.area / n) * 0.9
    shapely.prepare(area)
    if avoid is not None:
        shapely.prepare(avoid)
    while True:
        x0, y0, x1, y1 = area.bounds
        xs, ys = np.meshgrid(np.arange(x0, x1, pitch), np.arange(y0, y1, pitch))
        xs, ys = xs.ravel(), ys.ravel()
        side = min(SIDE, pitch * 0.6)
        cells = shapely.box(xs, ys, xs + side, ys + side)
        ok = shapely.contains(area, cells)
        if avoid is not None:
            ok &= ~shapely.intersects(avoid, cells)
        if ok.sum() >= n:
            keep = np.flatnonzero(ok)
            keep = np.sort(rng.choice(keep, n, replace=False))
            return xs[keep], ys[keep], side
        pitch *= 0.85


def province_area() -> tuple[object, object]:
    """Điện Biên's (demo) boundary and the demo parcels buffered by 200 m, both in EPSG:9205."""
    root = Path(__file__).resolve().parent.parent / "layers" / "demo"
    units = gpd.read_file(root / "admin_units.geojson").to_crs(CRS)
    province = units[units["level"] == "province"].geometry.union_all().buffer(-500)
    demo = gpd.read_file(root / "parcels.geojson").to_crs(CRS).geometry.buffer(200).union_all()
    return province, demo


def parcels(
    n: int,
    *,
    seed: int = 2025,
    prefix: str = "SYN",
    origin: tuple[float, float] = (ORIGIN_E, ORIGIN_N),
    nulls: bool = True,
    province: bool = False,
) -> gpd.GeoDataFrame:
    """`n` non-overlapping square parcels in EPSG:9205 with plausible attributes: on one compact grid, or
    (`province`) spread over the whole demo province, clear of the demo's own parcels."""
    rng = np.random.default_rng(seed)
    if province:
        area, avoid = province_area()
        x0, y0, side = _inside(n, area, avoid, rng)
    else:
        x0, y0 = _grid(n, origin, PITCH)
        side = SIDE
    i = np.arange(n)
    geoms = shapely.multipolygons(shapely.box(x0, y0, x0 + side, y0 + side).reshape(-1, 1))
    far = np.round(rng.uniform(0.8, 3.5, n), 1)
    legal = np.round(side * side * rng.uniform(0.98, 1.02, n), 1)
    if nulls:  # real registers have gaps: about a third without a legal area, a tenth without FAR
        legal = np.where(rng.random(n) < 0.33, np.nan, legal)
        far = np.where(rng.random(n) < 0.1, np.nan, far)
    days = rng.integers(0, 8 * 365, n)
    frame = gpd.GeoDataFrame(
        {
            "code": np.char.add(f"{prefix}-", np.char.zfill(i.astype(str), 7)),
            "name": np.char.add("Khu nhà ở xã hội tổng hợp số ", (i + 1).astype(str)),
            "map_sheet_no": (1 + i // 500).astype(str),
            "parcel_no": (1 + i % 500).astype(str),
            "land_use_code": rng.choice(LAND_USE, n),
            "status": rng.choice(STATUSES, n),
            "responsible_level": rng.choice(LEVELS, n),
            "max_far": far,
            "max_floors": rng.integers(3, 16, n),
            "decision_date": np.datetime64("2018-01-01") + days.astype("timedelta64[D]"),
            "legal_area_m2": legal,
            "published": rng.random(n) < 0.7,
        },
        geometry=geoms,
        crs=CRS,
    )
    return frame


def write(frame: gpd.GeoDataFrame, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    if path.suffix == ".parquet":
        frame.to_parquet(path)
    else:
        pyogrio.write_dataframe(frame, path, layer="parcels", use_arrow=True)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, help="number of parcels")
    ap.add_argument("out", type=Path, help="output file (.gpkg, .geojson, .fgb, .shp or .parquet)")
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--grid", action="store_true", help="one compact grid instead of spread over the province")
    args = ap.parse_args()
    write(parcels(args.n, seed=args.seed, province=not args.grid), args.out)
    print(f"wrote {args.n} parcels to {args.out}")


if __name__ == "__main__":
    main()
