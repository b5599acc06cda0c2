"""Export a layer to GeoJSON, GeoPackage, Shapefile (plain or .zip), CSV (WKT) or GeoParquet.

Field names are the catalogue's, except in Shapefiles, whose 10-character names come from `shp_name`;
an import maps them back, so export → import gives the same parcels."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from .. import crs as crsmod
from ..catalogue import LayerDef
from ..core.errors import LandfundError
from ..stores.features import FeatureStore, LayerSQL, layer_sql
from .formats import FORMATS


def read_layer(
    conn, layer: LayerDef, settings, *, public_only: bool = False, province: str | None = None
) -> pd.DataFrame:
    """All features of `layer` (of province `province` only, when given) as a (Geo)DataFrame in EPSG:4326, ordered
    by id (`conn`: a psycopg connection)."""
    ls = layer_sql(layer, settings)
    attrs = [a for a in layer.attributes if a.public or not public_only]
    where = None
    if province is not None:
        if "province_code" not in ls.table.c:
            raise LandfundError(f"--province: layer {layer.id} is not kept by province; export it whole")
        where = [ls.table.c.province_code == province]
    return frame_of(conn, ls, [a.name for a in attrs], where, public_only=public_only)


def frame_of(
    conn,
    ls: LayerSQL,
    names: list[str],
    where: list | None = None,
    order: list | None = None,
    *,
    public_only: bool = False,
) -> pd.DataFrame:
    """The named fields of the rows matching `where` (in `order`) as a (Geo)DataFrame in EPSG:4326: what a
    filtered list downloads."""
    layer = ls.layer
    attrs = [a for a in layer.attributes if a.name in set(names)]
    columns, rows = FeatureStore(conn).layer_rows(ls, names, public_only, where, order)
    frame = pd.DataFrame(rows, columns=columns)
    for a in attrs:  # keep column types through empty or all-null columns
        if a.type == "date":
            frame[a.name] = pd.to_datetime(frame[a.name])
        elif a.type == "integer":
            frame[a.name] = frame[a.name].astype("Int64")
        elif a.type == "number":
            frame[a.name] = frame[a.name].astype("float64")
        elif a.type == "boolean":
            frame[a.name] = frame[a.name].astype("boolean")
    if ls.geom is None:
        return frame
    geoms = shapely.from_wkb(frame.pop("_wkb").to_numpy(dtype=object))
    return gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4326")


def write_frame(frame: pd.DataFrame, layer: LayerDef, out: Path, fmt: str, crs: str | None = None) -> Path:
    if fmt not in FORMATS:
        raise LandfundError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    spatial = isinstance(frame, gpd.GeoDataFrame)
    precision = 7
    if spatial and crs:
        target = crsmod.parse_crs(crs)
        if not target.equals(crsmod.WGS84, ignore_axis_order=True):
            t = crsmod.transformer(crsmod.WGS84, target)
            frame = frame.copy()
            frame.geometry.values[:] = shapely.transform(
                np.asarray(frame.geometry.values, dtype=object),
                lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])),
            )
            frame = frame.set_crs(target, allow_override=True)
            precision = 3 if target.is_projected else 7
    if out.exists():
        out.unlink() if out.is_file() else shutil.rmtree(out)
    if fmt == "parquet":
        frame.to_parquet(out, index=False)
        return out
    if not spatial and fmt != "csv":
        raise LandfundError(f"layer {layer.id} has no geometry; export it as csv or parquet")
    if fmt in ("geojson", "csv"):  # plain ISO dates, not date-times, in text formats
        frame = frame.copy()
        for a in layer.attributes:
            if a.type == "date" and a.name in frame.columns:
                frame[a.name] = frame[a.name].dt.strftime("%Y-%m-%d").astype(object).where(frame[a.name].notna(), None)
    opts: dict = {}
    if fmt == "geojson":
        opts["COORDINATE_PRECISION"] = precision
    if fmt == "csv" and spatial:
        opts["GEOMETRY"] = "AS_WKT"
    if fmt == "shp":
        frame = frame.rename(columns={a.name: a.shapefile_name for a in layer.attributes})
        if out.suffix.lower() == ".zip":
            return _zipped_shapefile(frame, out)
        opts["encoding"] = "UTF-8"
    pyogrio.write_dataframe(frame, out, driver=FORMATS[fmt], **opts)
    return out


def _zipped_shapefile(frame: gpd.GeoDataFrame, out: Path) -> Path:
    stem = out.name[: -len(".zip")].removesuffix(".shp")
    with tempfile.TemporaryDirectory() as tmp:
        pyogrio.write_dataframe(frame, Path(tmp) / f"{stem}.shp", driver="ESRI Shapefile", encoding="UTF-8")
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for part in sorted(Path(tmp).iterdir()):
                zf.write(part, part.name)
    return out
