"""The one validator. File imports and API writes both come through `validate`, so a row the CLI refuses is
refused over HTTP with the same message.

A batch is checked in two passes, and every problem of every row is reported (not just the first):
1. in Python: attribute types and value lists (catalogue-driven), geometry, duplicates and overlaps
   within the batch;
2. against the database: the batch is staged in a temporary table, then checked with set-based SQL
   for duplicate keys, overlaps with the stored land fund, the province boundary and unknown units.
Nothing is written here; the caller inserts from the stage, or rolls back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from ..catalogue import Catalogue, LayerDef
from ..models import SPECS
from ..models.base import StoreSpec
from ..stores.staging import copy_rows, create_stage, duplicate_keys_in_table
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
    progress: Callable[[str, int], Callable[[int], None]] | None = None


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


def _duplicates_in_batch(typed: pd.DataFrame, key: tuple[str, ...], report: Report, rows: np.ndarray, codes) -> None:
    if not key or typed.empty:
        return
    keys = typed[list(key)].astype(str)
    present = typed[list(key)].notna().all(axis=1)
    dup = keys.duplicated(keep=False) & present
    if not dup.any():
        return
    first: dict[tuple, int] = {}
    for pos in np.flatnonzero(dup.to_numpy()):
        k = tuple(keys.iloc[pos])
        label = "/".join(key)
        if k in first:
            report.add(
                int(rows[pos]),
                label,
                f"duplicate {label} {'/'.join(k)!r}: already used by row {first[k]} of this input",
                codes[pos],
            )
        else:
            first[k] = int(rows[pos])


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
    options = options or Options()
    spec = SPECS[layer.storage]
    n = len(frame)
    rows = np.arange(1, n + 1) if rows is None else np.asarray(rows)
    report = Report(rows=n)
    codes = _codes(frame)
    if n == 0:
        report.add(None, None, "the input has no rows")
        return Staged(layer, spec, "", report)

    typed = coerce_attributes(frame, layer, catalogue, report, rows, codes)
    keep = np.ones(n, dtype=bool)
    geoms: np.ndarray | None = None
    if layer.spatial:
        raw = (
            frame["geometry"].to_numpy(dtype=object) if "geometry" in frame.columns else np.full(n, None, dtype=object)
        )
        raw = np.array([g if isinstance(g, shapely.Geometry) else None for g in raw], dtype=object)
        geoms, keep = check_geometries(raw, layer, report, rows, codes, options.max_vertices)
    _duplicates_in_batch(typed, spec.key, report, rows, codes)
    if layer.storage == "parcels" and not options.keep_status:
        targets = options.target_ids or [None] * n
        parcel_rules.new_parcels_start_proposed(
            list(typed["status"]), targets, report, rows, codes, catalogue.workflow.initial
        )
    if layer.storage == "parcels":
        parcel_rules.planning_limits_agree(typed, report, rows, codes)
    if layer.storage == "parcels" and not options.allow_overlap and geoms is not None:
        parcel_rules.overlaps_within_batch(
            geoms,
            keep,
            list(typed["status"]),
            report,
            rows,
            codes,
            options.overlap_tolerance_m2,
            catalogue.workflow.withdrawn,
        )
    for name in spec.key:  # a row without its key cannot be staged meaningfully
        keep &= typed[name].notna().to_numpy()

    stage = f"stage_{layer.id}"
    code_of = dict(zip(rows.tolist(), codes))
    with conn.cursor() as cur:
        create_stage(cur, spec, stage)
        advance = options.progress("staging", int(keep.sum())) if options.progress else None
        staged = copy_rows(
            cur, spec, stage, _stage_rows(layer, spec, typed, geoms, keep, rows, options.target_ids), advance
        )
        for row_no, *key in duplicate_keys_in_table(cur, spec, stage):
            label = "/".join(spec.key)
            report.add(
                row_no,
                label,
                f"{label} {'/'.join(str(k) for k in key)!r} already exists in the database",
                code_of.get(row_no),
            )
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
