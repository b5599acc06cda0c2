#!/usr/bin/env python3
"""Fetch the pinned front-end assets (Leaflet and plugins, …) from the npm registry into
gis_service/static/vendor/, keeping their licences, and check every hash.

Maps must work on an intranet with no internet, so landfund serves these copies itself; the copies are
committed. This script is how they got there and how to refresh or verify them:

    python scripts/fetch_assets.py            # download, verify the registry's sha512, write files + lock
    python scripts/fetch_assets.py --check    # verify the committed files against assets.lock.json (offline)
    python scripts/fetch_assets.py --tests    # the same for tests/vendor/ (OpenLayers, MapLibre: test clients)

Each package tarball is checked against the registry's published `dist.integrity` (SHA-512); each file
written is recorded with its SHA-256 in gis_service/static/vendor/assets.lock.json.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "gis_service" / "static" / "vendor"
LOCK = VENDOR / "assets.lock.json"
# web-map clients the tests drive in Chromium against the API (never served by landfund)
TEST_VENDOR = ROOT / "tests" / "vendor"
REGISTRY = "https://registry.npmjs.org"

# package, version, files to keep (paths inside the package; a trailing / keeps a folder)
MANIFEST: list[tuple[str, str, list[str]]] = [
    ("leaflet", "1.9.4", ["dist/leaflet.js", "dist/leaflet.css", "dist/images/", "LICENSE"]),
    ("swagger-ui-dist", "5.35.0", ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "LICENSE"]),
    # Folium map plugins (folium would load these from CDNs)
    (
        "leaflet.fullscreen",
        "3.0.0",
        ["Control.FullScreen.js", "Control.FullScreen.css", "icon-fullscreen.svg", "LICENSE"],
    ),
    ("leaflet-measure", "2.1.7", ["dist/leaflet-measure.js", "dist/leaflet-measure.css", "dist/images/", "LICENSE"]),
    (
        "leaflet-minimap",
        "3.6.1",
        ["dist/Control.MiniMap.min.js", "dist/Control.MiniMap.min.css", "dist/images/", "LICENSE.txt"],
    ),
    (
        "leaflet-search",
        "2.9.7",
        ["dist/leaflet-search.min.js", "dist/leaflet-search.min.css", "images/", "license.txt"],
    ),
    # VectorGrid's licence (Beerware) and its bundled dependencies' licences are stated in its README
    ("leaflet.vectorgrid", "1.3.0", ["dist/Leaflet.VectorGrid.bundled.min.js", "README.md"]),
    ("d3", "3.5.17", ["d3.min.js", "LICENSE"]),  # branca's colormap legends
    # drawing and reshaping parcel boundaries in the workspace's forms
    ("@geoman-io/leaflet-geoman-free", "2.20.2", ["dist/leaflet-geoman.min.js", "dist/leaflet-geoman.css", "LICENSE"]),
]

TEST_MANIFEST: list[tuple[str, str, list[str]]] = [
    ("ol", "10.11.0", ["dist/ol.js", "ol.css", "LICENSE.md"]),  # OpenLayers: ol/source/OGCVectorTile
    ("maplibre-gl", "5.24.1", ["dist/maplibre-gl.js", "dist/maplibre-gl.css", "LICENSE.txt"]),  # TileJSON
]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.read()


def fetch(name: str, version: str) -> tuple[bytes, str]:
    meta = json.loads(_get(f"{REGISTRY}/{name}/{version}"))
    tarball, integrity = meta["dist"]["tarball"], meta["dist"]["integrity"]
    data = _get(tarball)
    algo, expected = integrity.split("-", 1)
    digest = base64.b64encode(hashlib.new(algo, data).digest()).decode()
    if digest != expected:
        sys.exit(f"{name}@{version}: tarball {algo} is {digest}, registry says {expected}")
    return data, integrity


def extract(name: str, version: str, data: bytes, keep: list[str], vendor: Path = VENDOR) -> dict[str, str]:
    dest = vendor / f"{name.replace('/', '__')}@{version}"
    written: dict[str, str] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tf:
        for member in tf.getmembers():
            if not member.isfile():
                continue
            rel = member.name.split("/", 1)[1] if "/" in member.name else member.name
            if not any(rel == k or (k.endswith("/") and rel.startswith(k)) for k in keep):
                continue
            content = tf.extractfile(member).read()
            out = dest / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(content)
            written[str(out.relative_to(vendor))] = hashlib.sha256(content).hexdigest()
    missing = [k for k in keep if not any(p.split("/", 1)[1].startswith(k.rstrip("/")) for p in written)]
    if missing:
        sys.exit(f"{name}@{version}: not in the package: {missing}")
    return written


def check(vendor: Path = VENDOR) -> int:
    lock = json.loads((vendor / "assets.lock.json").read_text())
    bad = []
    for pkg in lock["packages"]:
        for rel, sha in pkg["files"].items():
            path = vendor / rel
            if not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != sha:
                bad.append(rel)
    for b in bad:
        print(f"MISMATCH {b}")
    print(f"{sum(len(p['files']) for p in lock['packages'])} files checked, {len(bad)} mismatches")
    return 1 if bad else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="verify committed files against the lock (offline)")
    ap.add_argument("--tests", action="store_true", help="the web-map clients of the tests (tests/vendor/)")
    args = ap.parse_args()
    vendor, manifest = (TEST_VENDOR, TEST_MANIFEST) if args.tests else (VENDOR, MANIFEST)
    if args.check:
        return check(vendor)
    packages = []
    for name, version, keep in manifest:
        data, integrity = fetch(name, version)
        files = extract(name, version, data, keep, vendor)
        packages.append(
            {"name": name, "version": version, "integrity": integrity, "files": dict(sorted(files.items()))}
        )
        print(f"{name}@{version}: {len(files)} files")
    (vendor / "assets.lock.json").write_text(json.dumps({"registry": REGISTRY, "packages": packages}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
