"""Builders for test data: parcels in VN-2000 (EPSG:9205) or WGS 84, written in any supported format."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import psycopg
import pyogrio
from pyproj import Geod, Transformer
from shapely.geometry import Polygon, box

from gis_service.core.db import libpq_dsn

# ../shared/domain/dien-bien.md: 21.386 °N, 103.023 °E is E 502,188.696, N 2,365,683.612 in EPSG:9205.
CHECK_LON, CHECK_LAT = 103.023, 21.386
CHECK_E, CHECK_N = 502188.696, 2365683.612
VN2000 = "EPSG:9205"
GEOD = Geod(ellps="WGS84")
TO_LL = Transformer.from_crs(VN2000, "EPSG:4326", always_xy=True)


def count(conn_or_url, table: str, where: str = "TRUE") -> int:
    if isinstance(conn_or_url, str):
        with psycopg.connect(libpq_dsn(conn_or_url)) as c:
            return c.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0]
    return conn_or_url.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0]


def square(e: float, n: float, side: float) -> Polygon:
    """A square in EPSG:9205 whose south-west corner is (e, n)."""
    return box(e, n, e + side, n + side)


def parcels_vn2000(
    n: int = 3,
    *,
    e0: float = CHECK_E,
    n0: float = CHECK_N,
    side: float = 80.0,
    gap: float = 150.0,
    prefix: str = "T",
    vietnamese_columns: bool = False,
    **extra,
) -> gpd.GeoDataFrame:
    """`n` square parcels in a row starting at the check point, in EPSG:9205."""
    rows = []
    for i in range(n):
        rows.append(
            {
                "code": f"{prefix}-{i + 1:03d}",
                "name": f"Khu thử nghiệm {i + 1}",
                "land_use_code": "ODT",
                "map_sheet_no": str(10 + i),
                "parcel_no": str(100 + i),
                "status": "proposed",
                **{k: (v[i] if isinstance(v, list) else v) for k, v in extra.items()},
                "geometry": square(e0 + i * gap, n0, side),
            }
        )
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=VN2000)
    if vietnamese_columns:
        gdf = gdf.rename(
            columns={
                "code": "ma_khu_dat",
                "map_sheet_no": "so_to",
                "parcel_no": "so_thua",
                "land_use_code": "loai_dat",
                "name": "ten_khu_dat",
            }
        )
    return gdf


def write(gdf: gpd.GeoDataFrame, path: Path, fmt: str) -> Path:
    """Write with pyogrio in a real GIS format; for CSV, a WKT column and no CRS."""
    path = Path(path)
    if fmt == "geojson":
        pyogrio.write_dataframe(gdf, path, driver="GeoJSON")
    elif fmt == "gpkg":
        pyogrio.write_dataframe(gdf, path, driver="GPKG", layer="parcels")
    elif fmt == "shp":
        pyogrio.write_dataframe(gdf, path, driver="ESRI Shapefile", encoding="UTF-8")
    elif fmt == "shpzip":
        import zipfile

        folder = path.parent / (path.stem + "_parts")
        folder.mkdir()
        shp = folder / (path.stem + ".shp")
        pyogrio.write_dataframe(gdf, shp, driver="ESRI Shapefile", encoding="UTF-8")
        with zipfile.ZipFile(path, "w") as zf:
            for part in folder.iterdir():
                zf.write(part, part.name)
    elif fmt == "csv":
        pyogrio.write_dataframe(gdf, path, driver="CSV", GEOMETRY="AS_WKT")
    elif fmt == "parquet":
        gdf.to_parquet(path)
    else:
        raise ValueError(fmt)
    return path


def geodesic_area(poly_lonlat) -> float:
    return abs(GEOD.geometry_area_perimeter(poly_lonlat)[0])


def discard_cluster(cluster) -> None:
    """Stop a test's own cluster and remove its data where it lives outside the test's home (as root:
    /var/lib/landfund/clusters/…), so test runs leave no clusters behind."""
    import shutil

    cluster.stop()
    if not str(cluster.root).startswith(str(cluster.home)):
        shutil.rmtree(cluster.root, ignore_errors=True)


def seeded_cluster(home: Path, parcels: int):
    """A started embedded cluster of a test's own (so it can be stopped, restarted or replicated), migrated,
    holding `parcels` published synthetic parcels."""
    import socket

    from bench.synthetic import parcels as synthetic_parcels
    from bench.synthetic import write as write_synthetic
    from gis_service.catalogue import load_catalogue
    from gis_service.core.config import Settings
    from gis_service.core.db import make_engine
    from gis_service.core.embedded import Cluster
    from gis_service.ingest.load import import_file
    from gis_service.schema import upgrade

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cluster = Cluster(home, port)
    cluster.start()
    url = cluster.url()
    upgrade(make_engine(cluster.url(role="landfund_owner")))
    settings = Settings(database_url=url, home=home)
    path = write_synthetic(synthetic_parcels(parcels, nulls=False).assign(published=True), home / "seed.gpkg")
    with psycopg.connect(libpq_dsn(url)) as conn:
        import_file(conn, load_catalogue(settings.layers_dir), settings, path, "parcels", keep_status=True)
    return cluster
