"""The one validator. File imports and API writes both come through `validate`, so a row the CLI refuses is
refused over HTTP with the same message.

A batch is checked in two passes, and every problem of every row is reported (not just the first):
1. in Python, one batch of rows at a time: attribute types and value lists (catalogue-driven), geometry, the
   initial status, planning limits; each batch is then COPYed into a temporary stage table and dropped;
2. in the database, over the whole stage with set-based SQL: duplicate keys and overlaps within the input, then
   duplicate keys, overlaps with the stored land fund, the province boundary and unknown units.
Nothing is written here; the caller inserts from the stage, or rolls back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from ..catalogue import Catalogue, LayerDef
from ..models import SPECS
from ..models.base import StoreSpec
from ..stores.staging import copy_rows, create_stage, duplicate_keys_in_stage, duplicate_keys_in_table, index_stage
from . import parcels as parcel_rules
from .fields import coerce_attributes
from .geometry import check_geometries
from .report import Problem, Report, ValidationFailed

__all__ = ["Options", "Problem", "Report", "Staged", "ValidationFailed", "validate"]


@dataclass
class Options:
    allow_overlap: bool = False
    overlap_tolerance_m2: float = 1.0
    max_vertices: int = 100_000
    # For replacing stored rows: the id each input row replaces (None for new rows).
    target_ids: list[int | None] | None = None
    # New parcels start as proposed; an import of an existing land fund may keep the statuses it states.
    keep_status: bool = False
    progress: Callable[[str, int | None], Callable[[int], None]] | None = None
    expected: int | None = None  # how many rows the input holds, when known (for the progress bar)


@dataclass
class Staged:
    layer: LayerDef
    spec: StoreSpec
    stage: str
    report: Report
    rows: int = 0
    warnings: list[str] = field(default_factory=list)


def _codes(frame: pd.DataFrame) -> list[str | None]:
    if "code" not in frame.columns:
        return [None] * len(frame)
    return [None if (v is None or (isinstance(v, float) and np.isnan(v))) else str(v).strip() for v in frame["code"]]


def _stage_rows(
    layer: LayerDef, spec: StoreSpec, typed: pd.DataFrame, geoms, keep: np.ndarray, rows: np.ndarray, target_ids
):
    idx = np.flatnonzero(keep)
    row_nos = rows[idx].tolist()
    targets = [target_ids[i] for i in idx] if target_ids is not None else [None] * len(idx)
    ewkb = (
        shapely.to_wkb(geoms[idx], hex=True, include_srid=True, output_dimension=2).tolist() if spec.spatial else None
    )
    if spec.jsonb_properties:
        names = list(typed.columns)
        data = typed.to_numpy(dtype=object)[idx]
        for r, t, values, g in zip(row_nos, targets, data, ewkb or []):
            props = {
                k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in zip(names, values) if v is not None
            }
            yield (r, t, layer.id, layer.role_of(props), props, g)
        return
    columns = [typed[c].to_numpy(dtype=object)[idx].tolist() for c in spec.columns]
    yield from zip(row_nos, targets, *columns, *([ewkb] if spec.spatial else []))


def validate(
    conn,
    catalogue: Catalogue,
    layer: LayerDef,
    frame: pd.DataFrame,
    options: Options | None = None,
    rows: np.ndarray | None = None,
) -> Staged:
    """Check `frame` (canonical column names; geometry in EPSG:4326 in column `geometry`) and stage it.

    `conn` is an open psycopg connection inside the caller's transaction."""
    return validate_batches(conn, catalogue, layer, [(frame, rows)], options)


def _check_batch(
    catalogue: Catalogue,
    layer: LayerDef,
    frame: pd.DataFrame,
    options: Options,
    report: Report,
    rows: np.ndarray,
    targets: list[int | None],
):
    """What one row shows by itself: types, value lists, geometry, the initial status, planning limits. Returns
    (typed attributes, geometries, which rows may be staged)."""
    spec = SPECS[layer.storage]
    n = len(frame)
    codes = _codes(frame)
    typed = coerce_attributes(frame, layer, catalogue, report, rows, codes)
    keep = np.ones(n, dtype=bool)
    geoms: np.ndarray | None = None
    if layer.spatial:
        raw = (
            frame["geometry"].to_numpy(dtype=object) if "geometry" in frame.columns else np.full(n, None, dtype=object)
        )
        raw = np.array([g if isinstance(g, shapely.Geometry) else None for g in raw], dtype=object)
        geoms, keep = check_geometries(raw, layer, report, rows, codes, options.max_vertices)
    if layer.storage == "parcels" and not options.keep_status:
        parcel_rules.new_parcels_start_proposed(
            list(typed["status"]), targets, report, rows, codes, catalogue.workflow.initial
        )
    if layer.storage == "parcels":
        parcel_rules.planning_limits_agree(typed, report, rows, codes)
    for name in spec.key:  # a row without its key cannot be staged meaningfully
        keep &= typed[name].notna().to_numpy()
    return typed, geoms, keep


def validate_batches(
    conn,
    catalogue: Catalogue,
    layer: LayerDef,
    batches: Iterable[tuple[pd.DataFrame, np.ndarray | None]],
    options: Options | None = None,
) -> Staged:
    """Check a whole input arriving as batches of (frame, row numbers or None for the next ones) and stage it.

    Each batch is checked row by row in Python and COPYed into the stage, then dropped: memory stays flat however
    long the input. What concerns the whole input (duplicate keys and overlaps within it, then against what is
    stored) is checked afterwards in SQL on the staged rows."""
    options = options or Options()
    spec = SPECS[layer.storage]
    report = Report()
    stage = f"stage_{layer.id}"
    staged = 0
    with conn.cursor() as cur:
        create_stage(cur, spec, stage)
        advance = options.progress("checking", options.expected) if options.progress else None
        for frame, given_rows in batches:
            n = len(frame)
            rows = np.arange(report.rows + 1, report.rows + n + 1) if given_rows is None else np.asarray(given_rows)
            first = report.rows
            targets: list[int | None] = (
                list(options.target_ids[first : first + n]) if options.target_ids is not None else [None] * n
            )
            report.rows += n
            if n == 0:
                continue
            typed, geoms, keep = _check_batch(catalogue, layer, frame, options, report, rows, targets)
            staged += copy_rows(cur, spec, stage, _stage_rows(layer, spec, typed, geoms, keep, rows, targets))
            if advance is not None:
                advance(n)
        if report.rows == 0:
            report.add(None, None, "the input has no rows")
            return Staged(layer, spec, "", report)
        index_stage(cur, spec, stage, staged)
        label = "/".join(spec.key)
        for row_no, first_row, code, *key in duplicate_keys_in_stage(cur, spec, stage):
            text = "/".join(str(k) for k in key)
            report.add(
                row_no, label, f"duplicate {label} {text!r}: already used by row {first_row} of this input", code
            )
        if layer.storage == "parcels" and not options.allow_overlap:
            parcel_rules.overlaps_within_stage(
                conn, stage, report, options.overlap_tolerance_m2, catalogue.workflow.withdrawn
            )
        for row_no, code, *key in duplicate_keys_in_table(cur, spec, stage):
            text = "/".join(str(k) for k in key)
            report.add(row_no, label, f"{label} {text!r} already exists in the database", code)
        if layer.storage == "parcels":
            parcel_rules.check_against_store(
                conn,
                stage,
                catalogue,
                report,
                allow_overlap=options.allow_overlap,
                tolerance_m2=options.overlap_tolerance_m2,
            )
    return Staged(layer, spec, stage, report, rows=staged)
