"""The naive map the planner map is measured against: every published parcel as one folium.GeoJson.

python -m bench.naive_map DATABASE_URL OUT.html      prints "<seconds> <bytes>"
"""

from __future__ import annotations

import sys
import time

import folium
import geopandas as gpd
from sqlalchemy import create_engine


def build(url: str, out: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    engine = create_engine(url)
    frame = gpd.read_postgis(
        "SELECT code, name, status, area_m2, geom FROM parcels WHERE published", engine, geom_col="geom"
    )
    m = folium.Map(location=[21.6, 103.0], zoom_start=9)
    folium.GeoJson(frame, tooltip=folium.GeoJsonTooltip(["code", "name", "status"])).add_to(m)
    m.save(out)
    engine.dispose()
    with open(out, "rb") as fh:
        size = len(fh.read())
    return time.perf_counter() - t0, size


if __name__ == "__main__":
    seconds, size = build(sys.argv[1], sys.argv[2])
    print(f"{seconds:.3f} {size}")
