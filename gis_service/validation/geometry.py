"""Geometry checks, vectorised with shapely 2: presence, type, finite coordinates, size, validity."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import MultiLineString, MultiPoint, MultiPolygon

from ..catalogue import GEOMETRY_FAMILIES, LayerDef
from .report import Report

PROMOTE = {"MultiPolygon": MultiPolygon, "MultiLineString": MultiLineString, "MultiPoint": MultiPoint}


def check_geometries(
    geoms: np.ndarray, layer: LayerDef, report: Report, rows: np.ndarray, codes: list[str | None], max_vertices: int
) -> tuple[np.ndarray, np.ndarray]:
    """Check geometries in EPSG:4326 and normalise them (2D; polygons promoted to MultiPolygon).

    Returns (geometries, usable) where `usable` marks rows whose geometry passed every check."""
    n = len(geoms)
    allowed = GEOMETRY_FAMILIES[layer.geometry_type]
    usable = np.ones(n, dtype=bool)

    def bad(mask: np.ndarray, message) -> None:
        for i in np.flatnonzero(mask & usable):
            report.add(int(rows[i]), "geometry", message(i) if callable(message) else message, codes[i])
        usable[mask] = False

    missing = shapely.is_missing(geoms)
    bad(missing, "is missing")
    bad(~missing & shapely.is_empty(geoms), "is empty")

    types = np.array([g.geom_type if g is not None else "" for g in geoms], dtype=object)
    wrong = usable & ~np.isin(types, allowed)
    bad(wrong, lambda i: f"is a {types[i]}; layer {layer.id} needs {' or '.join(allowed)}")

    if usable.any():
        coords, index = shapely.get_coordinates(geoms[usable], include_z=False, return_index=True)
        nonfinite = np.zeros(n, dtype=bool)
        bad_idx = np.unique(index[~np.isfinite(coords).all(axis=1)])
        nonfinite[np.flatnonzero(usable)[bad_idx]] = True
        bad(nonfinite, "has NaN or infinite coordinates")

    counts = np.zeros(n, dtype=np.int64)
    counts[usable] = shapely.get_num_coordinates(geoms[usable])
    bad(
        counts > max_vertices,
        lambda i: f"has {counts[i]:,} vertices; at most {max_vertices:,} are allowed in one geometry",
    )

    geoms = geoms.copy()
    has_z = usable & shapely.has_z(geoms)
    if has_z.any():
        geoms[has_z] = shapely.force_2d(geoms[has_z])

    valid = np.ones(n, dtype=bool)
    valid[usable] = shapely.is_valid(geoms[usable])
    bad(~valid, lambda i: f"is not valid: {shapely.is_valid_reason(geoms[i])}")

    target = PROMOTE.get(layer.geometry_type)
    if target is not None:
        single = usable & (types == allowed[0])
        for i in np.flatnonzero(single):
            geoms[i] = target([geoms[i]])
    return geoms, usable
