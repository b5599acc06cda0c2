"""Read a file into canonical columns with geometry in EPSG:4326 (pyogrio for every format).

Formats: GeoJSON, Shapefile (plain or zipped), GeoPackage, CSV with a WKT column (or lon/lat columns
for point layers), GeoParquet. Columns are matched to catalogue fields by name, Shapefile name or
alias (ignoring case and diacritics), or by an explicit mapping (--map SRC=FIELD or a mapping file).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import shapely
import yaml
from pyproj import CRS

from .. import crs as crsmod
from ..catalogue import LayerDef, fold
from ..core.errors import LandfundError

GEOM_NAMES = "WKT,wkt,geometry,geom,the_geom,Geometry,GEOMETRY,hinh_hoc"
X_NAMES = "lon,lng,longitude,x,kinh_do,kinhdo"
Y_NAMES = "lat,latitude,y,vi_do,vido"


class SourceError(LandfundError):
    pass


@dataclass
class Source:
    source_crs: CRS | None = None
    warnings: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    expected: int | None = None  # the feature count the file states, when it states one
    rows: int = 0  # rows read
    # the whole file (read_source only): canonical field names; 'geometry' holds shapely geometries in EPSG:4326
    frame: pd.DataFrame | None = None


def parse_mapping(items: list[str] | None) -> dict[str, str]:
    """'so_to=map_sheet_no,so_thua=parcel_no' (repeatable) → {'so_to': 'map_sheet_no', …}."""
    mapping: dict[str, str] = {}
    for item in items or []:
        for pair in item.split(","):
            if not pair.strip():
                continue
            if "=" not in pair:
                raise SourceError(f"--map takes SOURCE=FIELD pairs, got {pair!r}")
            src, dst = (p.strip() for p in pair.split("=", 1))
            if not src or not dst:
                raise SourceError(f"--map takes SOURCE=FIELD pairs, got {pair!r}")
            mapping[src] = dst
    return mapping


def read_mapping_file(path: Path) -> dict[str, str]:
    """A YAML or JSON object {source column: field}."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SourceError(f"cannot read mapping file {path}: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise SourceError(f"mapping file {path} must hold an object of 'source column: field' pairs")
    return data


def _pick_layer(path: Path, wanted: str | None, layer: LayerDef) -> str | None:
    try:
        layers = [name for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise SourceError(f"cannot open {path}: {exc}") from exc
    if wanted:
        if wanted not in layers:
            raise SourceError(f"{path} has no layer {wanted!r}; it has: {', '.join(layers)}")
        return wanted
    if len(layers) <= 1:
        return layers[0] if layers else None
    if layer.id in layers:
        return layer.id
    raise SourceError(f"{path} holds several layers ({', '.join(layers)}); choose one with --source-layer")


BATCH_ROWS = 20_000  # rows read, checked and staged at a time: memory stays flat however large the file


@dataclass
class _Raw:
    columns: list[str]
    crs: CRS | None
    has_geometry: bool
    batches: Iterator[pd.DataFrame]  # source column names; 'geometry' holds shapely geometries
    expected: int | None = None  # the feature count the file states, when it states one


def _open_kwargs(path: Path, layer: LayerDef, source_layer: str | None) -> dict:
    if path.suffix.lower() != ".csv":
        return {"layer": _pick_layer(path, source_layer, layer)}
    kw = {"GEOM_POSSIBLE_NAMES": GEOM_NAMES, "KEEP_GEOM_COLUMNS": "NO", "AUTODETECT_TYPE": "NO"}
    if layer.geometry_type == "Point":
        kw.update(X_POSSIBLE_NAMES=X_NAMES, Y_POSSIBLE_NAMES=Y_NAMES)
    return kw


def _arrow_frames(reader, geometry_name: str | None, path: Path) -> Iterator[pd.DataFrame]:
    try:
        for batch in reader:
            frame = pa.Table.from_batches([batch]).to_pandas()
            if geometry_name is not None:
                frame["geometry"] = shapely.from_wkb(frame.pop(geometry_name).to_numpy(), on_invalid="ignore")
            yield frame
    except (pa.ArrowException, OSError, RuntimeError) as exc:  # a file that breaks off part-way
        raise SourceError(f"cannot read {path}: {exc}") from exc


@contextmanager
def _open(path: Path, layer: LayerDef, source_layer: str | None, batch_size: int) -> Iterator[_Raw]:
    if not path.exists():
        raise SourceError(f"no such file: {path}")
    if path.suffix.lower() == ".parquet":  # GeoParquet is read whole (geopandas), then checked in batches
        import geopandas as gpd

        try:
            frame = gpd.read_parquet(path) if layer.spatial else pd.read_parquet(path)
        except Exception as exc:
            raise SourceError(f"cannot read {path} as GeoParquet: {exc}") from exc
        crs = CRS.from_user_input(frame.crs) if getattr(frame, "crs", None) is not None else None
        parts = (pd.DataFrame(frame.iloc[i : i + batch_size]) for i in range(0, len(frame), batch_size))
        yield _Raw([c for c in frame.columns if c != "geometry"], crs, "geometry" in frame.columns, parts, len(frame))
        return
    kw = _open_kwargs(path, layer, source_layer)
    try:
        expected = pyogrio.read_info(path, **kw)["features"]
        opened = pyogrio.open_arrow(
            path, read_geometry=layer.spatial, use_pyarrow=True, batch_size=batch_size, force_2d=False, **kw
        )
        meta, reader = opened.__enter__()
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise SourceError(f"cannot read {path}: {exc}") from exc
    try:
        has_geometry = layer.spatial and meta["geometry_type"] is not None
        geometry_name = (meta["geometry_name"] or "wkb_geometry") if has_geometry else None
        crs = CRS.from_user_input(meta["crs"]) if meta["crs"] else None
        frames = _arrow_frames(reader, geometry_name, path)
        yield _Raw(list(meta["fields"]), crs, has_geometry, frames, expected if expected >= 0 else None)
    finally:
        opened.__exit__(None, None, None)


def _map_columns(columns: list[str], layer: LayerDef, explicit: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    fields = {a.name for a in layer.input_attributes}
    computed = {fold(a.name) for a in layer.attributes if a.computed} | {
        fold(a.shapefile_name) for a in layer.attributes if a.computed
    }
    lookup = layer.column_lookup()
    by_fold = {fold(c): c for c in columns}
    mapping: dict[str, str] = {}
    for src, dst in explicit.items():
        if dst not in fields:
            raise SourceError(
                f"--map {src}={dst}: {dst!r} is not a field of layer {layer.id}; fields: {', '.join(sorted(fields))}"
            )
        actual = src if src in columns else by_fold.get(fold(src))
        if actual is None:
            raise SourceError(f"--map {src}={dst}: the file has no column {src!r}; it has: {', '.join(columns)}")
        mapping[actual] = dst
    ignored = []
    for col in columns:
        if col in mapping or col == "geometry":
            continue
        found = lookup.get(fold(col))
        if found is not None:
            mapping[col] = found
        elif fold(col) not in computed and fold(col) not in ("id", "fid", "ogc_fid"):
            ignored.append(col)
    targets: dict[str, list[str]] = {}
    for src, dst in mapping.items():
        targets.setdefault(dst, []).append(src)
    clashes = {dst: srcs for dst, srcs in targets.items() if len(srcs) > 1}
    explicit_targets = set(explicit.values())
    for dst, srcs in clashes.items():
        if dst in explicit_targets:  # the explicit mapping wins
            for src in srcs:
                if explicit.get(src) != dst and src in mapping and fold(src) not in {fold(k) for k in explicit}:
                    del mapping[src]
                    ignored.append(src)
        else:
            raise SourceError(
                f"columns {', '.join(repr(s) for s in srcs)} all match field {dst!r}; say which one with --map {srcs[0]}={dst}"
            )
    return mapping, ignored


def _source_crs(
    file_crs: CRS | None, crs_option: str | None, swap: bool, warnings: list[str], cadastral: str | None
) -> CRS:
    crs, more = crsmod.resolve(file_crs, crs_option, cadastral)
    warnings += more
    if swap:
        warnings.append("x and y were swapped (--swap-xy)")
    return crs


def _geometry(geoms: np.ndarray, crs: CRS, swap: bool) -> np.ndarray:
    """One batch's geometries checked against `crs` (axes, area of use) and reprojected to EPSG:4326."""
    if swap:
        geoms = crsmod.swap_xy(geoms)
    verdict = crsmod.check_axes(geoms, crs)
    if verdict.verdict == "swapped":
        raise crsmod.CRSProblem(
            f"the coordinates only make sense in {crsmod.label(crs)} with x and y swapped "
            f"(x spans {verdict.bounds[0]:,.2f}–{verdict.bounds[2]:,.2f}, y {verdict.bounds[1]:,.2f}–{verdict.bounds[3]:,.2f}): "
            "the file probably stores northing in X, as Vietnamese survey tables often do. "
            "Re-run with --swap-xy to swap them."
        )
    if verdict.verdict == "outside":
        hint = ""
        if crs.is_geographic and (abs(verdict.bounds[0]) > 180 or abs(verdict.bounds[3]) > 90):
            hint = " They look like projected metres, not longitude/latitude (GeoJSON files always claim EPSG:4326)."
        raise crsmod.CRSProblem(
            f"the coordinates (x {verdict.bounds[0]:,.2f}–{verdict.bounds[2]:,.2f}, y {verdict.bounds[1]:,.2f}–"
            f"{verdict.bounds[3]:,.2f}) are outside the area where {crsmod.label(crs)} is used.{hint} "
            "Say which CRS they are in with --crs, for example --crs EPSG:9205 for VN-2000 / TM-3 103-00."
        )
    return crsmod.to_wgs84(geoms, crs)


@contextmanager
def open_source(
    path: Path | str,
    layer: LayerDef,
    *,
    crs: str | None = None,
    mapping: dict[str, str] | None = None,
    swap_xy: bool = False,
    source_layer: str | None = None,
    batch_size: int = BATCH_ROWS,
    cadastral: str | None = None,
) -> Iterator[tuple[Source, Iterator[pd.DataFrame]]]:
    """The file as (Source, canonical frames of at most `batch_size` rows): read, mapped, checked and reprojected
    one batch at a time, so memory does not grow with the file. `Source.rows` counts the rows read so far; a file
    without any raises SourceError once read through. `cadastral`: the province's VN-2000 zone, which a file
    without a CRS is told to name."""
    path = Path(path)
    with _open(path, layer, source_layer, batch_size) as raw:
        warnings: list[str] = []
        colmap, ignored = _map_columns(raw.columns, layer, mapping or {})
        if ignored:
            warnings.append(f"columns not imported (no matching field; use --map SOURCE=FIELD): {', '.join(ignored)}")
        source = Source(warnings=warnings, mapping=colmap, expected=raw.expected)
        if layer.spatial:
            if not raw.has_geometry:
                raise SourceError(f"{path} has no geometry column (for CSV, a WKT column named one of: {GEOM_NAMES})")
            source.source_crs = _source_crs(raw.crs, crs, swap_xy, warnings, cadastral)

        def frames() -> Iterator[pd.DataFrame]:
            for part in raw.batches:
                frame = pd.DataFrame({dst: part[src].reset_index(drop=True) for src, dst in colmap.items()})
                if source.source_crs is not None:
                    geoms = np.asarray(part["geometry"].to_numpy(), dtype=object)
                    frame["geometry"] = _geometry(geoms, source.source_crs, swap_xy)
                source.rows += len(frame)
                yield frame
            if source.rows == 0:
                raise SourceError(f"{path} has no features")

        yield source, frames()


def read_source(path: Path | str, layer: LayerDef, **kw) -> Source:
    """The whole file at once (`open_source`'s batches joined): for files that are small by nature, such as
    boundaries; imports stream instead."""
    with open_source(path, layer, **kw) as (source, frames):
        source.frame = pd.concat(list(frames), ignore_index=True)
    return source


def frame_from_features(features: list[dict], layer: LayerDef) -> pd.DataFrame:
    """GeoJSON features (already in EPSG:4326) → the same canonical frame an import produces."""
    props = [dict(f.get("properties") or {}) for f in features]
    frame = pd.DataFrame(props, index=range(len(features)), dtype=object)
    for a in layer.input_attributes:  # a feature states every field: an absent one is empty, not unmapped
        if a.name not in frame.columns:
            frame[a.name] = None
    if layer.spatial:
        frame["geometry"] = [
            shapely.from_geojson(json.dumps(f["geometry"])) if f.get("geometry") else None for f in features
        ]
    return frame
