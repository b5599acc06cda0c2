#!/usr/bin/env python3
"""Write layers/sources/vietnam_border.geojson: Vietnam's land territory around Điện Biên, from Natural Earth.

Source: the npm package `world-atlas` 2.0.2 (ISC licence, © 2013-2019 Michael Bostock), its `countries-10m.json`
(TopoJSON of Natural Earth's 1:10m Admin 0 countries, version 4.1.0; Natural Earth is in the public domain). GDAL
reads the TopoJSON; the country named "Vietnam" is cut to a window around the province (the rest of the country is
not needed to draw the demo), and its coordinates are kept as Natural Earth has them.

Usage: python scripts/vietnam_border.py [--out layers/sources/vietnam_border.geojson]
(downloads the package from the npm registry and checks the registry's SHA-512 of it, as scripts/fetch_assets.py)
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import tarfile
import tempfile
from pathlib import Path

import pyogrio
import shapely
from shapely.geometry import box, mapping

WINDOW = (101.5, 20.3, 104.6, 23.2)  # lon/lat: Điện Biên (102.14–103.60 °E, 20.89–22.55 °N) and its neighbours
OUT = Path(__file__).resolve().parent.parent / "layers" / "sources" / "vietnam_border.geojson"
NAME, VERSION, MEMBER = "world-atlas", "2.0.2", "package/countries-10m.json"
PACKAGE = f"{NAME} {VERSION} (npm), countries-10m.json"


def download() -> tuple[bytes, str]:
    """countries-10m.json from the registry's tarball, verified; and the tarball's integrity."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from fetch_assets import fetch

    data, integrity = fetch(NAME, VERSION)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        member = tar.extractfile(MEMBER)
        assert member is not None, MEMBER
        return member.read(), integrity


def extract(topojson: Path, integrity: str) -> dict:
    countries = pyogrio.read_dataframe(topojson, layer="countries")
    vietnam = countries[countries["name"] == "Vietnam"]
    if len(vietnam) != 1:
        raise SystemExit(f"{topojson}: expected one country named Vietnam, found {len(vietnam)}")
    part = shapely.intersection(vietnam.geometry.iloc[0], box(*WINDOW))
    digest = hashlib.sha256(topojson.read_bytes()).hexdigest()
    return {
        "type": "FeatureCollection",
        "name": "vietnam_border",
        "description": (
            "Vietnam's land territory around Điện Biên, from Natural Earth 1:10m Admin 0 countries (public domain), as "
            f"shipped in {PACKAGE} (file sha256 {digest}; package {integrity}); cut to the window {WINDOW}. Written by "
            "scripts/vietnam_border.py."
        ),
        "features": [
            {"type": "Feature", "properties": {"name": "Vietnam", "source": PACKAGE}, "geometry": mapping(part)}
        ],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    data, integrity = download()
    with tempfile.TemporaryDirectory() as tmp:
        topojson = Path(tmp) / "countries-10m.json"
        topojson.write_bytes(data)
        border = extract(topojson, integrity)
    args.out.write_text(json.dumps(border, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
