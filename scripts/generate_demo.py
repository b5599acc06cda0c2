#!/usr/bin/env python3
"""Generate the Điện Biên demo data in layers/demo/ (seeded, so every run writes the same files).

Boundaries are SCHEMATIC, NOT LEGAL BOUNDARIES: a hand-drawn province outline, kept inside Vietnam's
national border (Natural Earth, layers/sources/vietnam_border.geojson) and scaled to the published area, split
into a power diagram (weighted Voronoi) around the former district seats whose weights are fitted to the
published district areas; communes and wards are Voronoi cells inside their former district, and the 129 former
communes (until 30 June 2025) cells inside the unit each became, the former districts then redrawn as the union
of their former communes.
Parcels, roads, facilities and hazard zones are plausible, not surveyed. Demand splits and the district
split of the 2024 programme figures are illustrative; the province totals are the reported ones.
Facts come from ../shared/domain/dien-bien.md.

Usage: python scripts/generate_demo.py [--out layers/demo] [--seed 11]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo_geo import SCHEMATIC, district_cells, province_outline, write_geojson
from demo_parts import (
    admin_features,
    facilities,
    former_communes,
    hazards,
    parcels,
    place_in_former_communes,
    roads,
    tables,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "layers" / "demo")
    ap.add_argument("--parcels", type=int, default=320)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    prov = province_outline()
    units = admin_features(prov, district_cells(prov), rng)
    formers = former_communes(units, args.seed + 1)
    write_geojson(out / "admin_units.geojson", [u["feature"] for u in units + formers], SCHEMATIC)
    road_feats, road_lines = roads(units, prov, rng)
    write_geojson(out / "roads.geojson", road_feats, "Schematic main roads (demo)")
    communes = [u for u in units if u["level"] == "commune"]
    write_geojson(out / "facilities.geojson", facilities(communes, rng), "Illustrative facility positions (demo)")
    hazard_feats, hazard_polys = hazards(prov)
    write_geojson(
        out / "hazard_zones.geojson", hazard_feats, "Illustrative hazard zones, not an official zoning map (demo)"
    )
    parcel_feats = parcels(args.parcels, prov, units, road_lines, hazard_polys, rng)
    place_in_former_communes(parcel_feats, formers)
    write_geojson(out / "parcels.geojson", parcel_feats, "Plausible, not surveyed, social-housing land reserves (demo)")
    tables(out, units)
    print(f"wrote demo data to {out}")


if __name__ == "__main__":
    main()
