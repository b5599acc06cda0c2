"""A parcel's boundary from an uploaded file: GeoJSON, a zipped Shapefile, GeoPackage, KML, or a CSV of VN-2000
vertex coordinates as surveyors write them (X = northing, Y = easting, in the province's TM-3 zone).

The result is one (Multi)Polygon in EPSG:4326 for the form's map; the validator checks it like any other
geometry when the form is saved."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from pyproj import CRS
from shapely.geometry import MultiPolygon, Polygon

from .. import crs as crsmod
from ..catalogue import fold
from ..core.errors import LandfundError

SUFFIXES = (".geojson", ".json", ".zip", ".gpkg", ".kml", ".csv")
MAX_BYTES = 5_000_000
X_NAMES = ("x", "toa_do_x", "bac", "northing", "n")
Y_NAMES = ("y", "toa_do_y", "dong", "easting", "e")


class ShapeError(LandfundError):
    pass


def _polygonal(geoms: list) -> shapely.Geometry:
    parts: list[Polygon] = []
    for g in geoms:
        if g is None or g.is_empty:
            continue
        if isinstance(g, Polygon):
            parts.append(g)
        elif isinstance(g, MultiPolygon):
            parts.extend(g.geoms)
        else:
            raise ShapeError(f"the file holds a {g.geom_type}; a parcel's boundary is a polygon")
    if not parts:
        raise ShapeError("the file holds no polygon")
    return MultiPolygon(parts) if len(parts) > 1 else parts[0]


def _vertices_csv(data: bytes, crs: CRS) -> shapely.Geometry:
    text = data.decode("utf-8-sig", errors="replace")
    sample = text[:2000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if len(rows) < 2:
        raise ShapeError("the CSV has no vertices")
    header = [fold(h) for h in rows[0]]
    try:
        xi = next(i for i, h in enumerate(header) if h in X_NAMES)
        yi = next(i for i, h in enumerate(header) if h in Y_NAMES)
    except StopIteration:
        raise ShapeError("the CSV needs columns X and Y (VN-2000: X northing, Y easting)") from None
    points = []
    for n, r in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in r):
            continue
        try:
            x, y = (float(r[i].strip().replace(" ", "").replace(",", ".")) for i in (xi, yi))
        except (ValueError, IndexError):
            raise ShapeError(f"line {n} of the CSV: X and Y must be numbers") from None
        points.append((y, x))  # easting, northing: the surveyor's X is northing
    if len(points) < 3:
        raise ShapeError("a boundary needs at least three vertices")
    poly = Polygon(points)
    verdict = crsmod.check_axes(np.array([poly], dtype=object), crs)
    if verdict.verdict == "swapped":  # this table put easting in X after all
        poly = Polygon([(n, e) for e, n in points])
    elif verdict.verdict == "outside":
        raise ShapeError(f"the coordinates are not in {crsmod.label(crs)}, the province's VN-2000 zone")
    return crsmod.to_wgs84(np.array([poly], dtype=object), crs)[0]


def boundary_from_upload(filename: str, data: bytes, cadastral_crs: str) -> shapely.Geometry:
    """The boundary an uploaded file describes, in EPSG:4326."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in SUFFIXES:
        raise ShapeError(f"{filename or 'the file'}: use GeoJSON, a zipped Shapefile, GeoPackage, KML or CSV")
    if len(data) > MAX_BYTES:
        raise ShapeError(f"the file is larger than {MAX_BYTES:,} bytes")
    if not data:
        raise ShapeError("the file is empty")
    province_crs = crsmod.parse_crs(cadastral_crs)
    if suffix == ".csv":
        return _vertices_csv(data, province_crs)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            frame = pyogrio.read_dataframe(f"/vsizip/{path}" if suffix == ".zip" else path)
        except Exception as exc:  # pyogrio's DataSourceError and friends: the message is the user's
            raise ShapeError(f"cannot read {filename}: {str(exc).splitlines()[0]}") from None
    if len(frame) == 0:
        raise ShapeError(f"{filename} holds no features")
    file_crs = CRS.from_user_input(frame.crs) if frame.crs is not None else None
    crs, _ = crsmod.resolve(file_crs, None if file_crs is not None else cadastral_crs)
    geoms = crsmod.to_wgs84(np.asarray(frame.geometry.values, dtype=object), crs)
    return _polygonal(list(geoms))
