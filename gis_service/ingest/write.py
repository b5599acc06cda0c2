"""Write a validated batch from its stage into the table: one INSERT … SELECT (or UPDATE … FROM)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..catalogue import Catalogue, LayerDef
from ..stores.parcels import ParcelStore
from ..stores.staging import write_generic
from ..validation import Options, Report, Staged, ValidationFailed, validate_batches


@dataclass
class WriteResult:
    report: Report
    ids: list[int] = field(default_factory=list)
    written: bool = False


def write_staged(conn, staged: Staged, catalogue: Catalogue, *, update: bool = False) -> list[int]:
    if staged.spec.table == "parcels":
        return ParcelStore(conn).write_staged(staged.stage, catalogue.province.code, update)
    with conn.cursor() as cur:
        return write_generic(cur, staged.spec, staged.stage, update)


def write_batch(
    conn,
    catalogue: Catalogue,
    layer: LayerDef,
    frame: pd.DataFrame,
    options: Options | None = None,
    *,
    dry_run: bool = False,
    update: bool = False,
    rows=None,
    before_write: Callable[[str], None] | None = None,
) -> WriteResult:
    """Validate `frame` and, if every row passes and this is not a dry run, write it (see `write_batches`)."""
    return write_batches(
        conn, catalogue, layer, [(frame, rows)], options, dry_run=dry_run, update=update, before_write=before_write
    )


def write_batches(
    conn,
    catalogue: Catalogue,
    layer: LayerDef,
    batches: Iterable[tuple[pd.DataFrame, Any]],
    options: Options | None = None,
    *,
    dry_run: bool = False,
    update: bool = False,
    before_write: Callable[[str], None] | None = None,
) -> WriteResult:
    """Validate the input's batches (frame, row numbers or None) and, if every row passes and this is not a dry run,
    write them all at once.

    Raises ValidationFailed when any row fails; the caller's transaction must then be rolled back, and is
    what makes an import all-or-nothing. `before_write(stage)` may veto the staged rows (say, a planner's
    unit scope) by raising."""
    if layer.storage == "parcels":  # one writer per province at a time: the checks see every earlier write
        ParcelStore(conn).lock_writes(catalogue.province.code)
    staged = validate_batches(conn, catalogue, layer, batches, options)
    if not staged.report.ok:
        raise ValidationFailed(staged.report)
    if before_write is not None:
        before_write(staged.stage)
    if dry_run:
        return WriteResult(staged.report)
    ids = write_staged(conn, staged, catalogue, update=update)
    return WriteResult(staged.report, ids, written=True)
