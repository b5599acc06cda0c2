"""File → validator → PostGIS, in one transaction: all rows or none."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from ..catalogue import Catalogue
from ..core.config import Settings
from ..models import SPECS
from ..stores.history import HistoryStore
from ..stores.maintenance import MaintenanceStore
from ..validation import Options, Report
from .read import BATCH_ROWS, Source, open_source
from .write import write_batches


@dataclass
class ImportResult:
    layer: str
    rows: int
    report: Report
    source: Source
    ids: list[int] = field(default_factory=list)
    dry_run: bool = False

    @property
    def warnings(self) -> list[str]:
        return [*self.source.warnings, *self.report.warnings]


def validation_options(settings: Settings, layer=None, **kw) -> Options:
    """The validator's options from settings: a layer's own vertex limit (catalogue) or LANDFUND_MAX_VERTICES."""
    limit = (layer.max_vertices if layer is not None and layer.max_vertices else None) or settings.max_vertices
    return Options(max_vertices=limit, overlap_tolerance_m2=settings.overlap_tolerance_m2, **kw)


def load_file(
    conn: psycopg.Connection,
    catalogue: Catalogue,
    settings: Settings,
    path: Path | str,
    layer_id: str,
    *,
    crs: str | None = None,
    mapping: dict[str, str] | None = None,
    swap_xy: bool = False,
    source_layer: str | None = None,
    dry_run: bool = False,
    allow_overlap: bool = False,
    keep_status: bool = False,
    progress=None,
    before_write=None,
    batch_size: int = BATCH_ROWS,
) -> ImportResult:
    """Read, validate and (unless `dry_run`) write one file inside the caller's transaction.

    The file is read, checked and staged `batch_size` rows at a time (memory stays flat); what concerns the whole
    file is checked in the stage. Raises SourceError, CRSProblem or ValidationFailed; the caller rolls back.
    `before_write(stage)` may veto the staged rows (a planner's unit scope)."""
    layer = catalogue.layer(layer_id)
    options = validation_options(
        settings, layer, allow_overlap=allow_overlap, keep_status=keep_status, progress=progress
    )
    history = HistoryStore(conn)
    if history.actor() is None:
        why = f"import of {Path(path).name}"
        if keep_status and layer.storage == "parcels":
            why += ", with the statuses the file states (--keep-status)"
        history.set_actor(f"import:{getpass.getuser()}", why)
    read = open_source(
        path,
        layer,
        crs=crs,
        mapping=mapping,
        swap_xy=swap_xy,
        source_layer=source_layer,
        batch_size=batch_size,
        cadastral=catalogue.province.cadastral_crs,
    )
    with read as (source, frames):
        options.expected = source.expected
        batches = ((frame, None) for frame in frames)
        result = write_batches(conn, catalogue, layer, batches, options, dry_run=dry_run, before_write=before_write)
    if len(result.ids) > 10_000:  # a big load changes the table's statistics: refresh them for the planner
        MaintenanceStore(conn).analyze(SPECS[layer.storage].table)
    return ImportResult(layer.id, source.rows, result.report, source, result.ids, dry_run)


def import_file(conn: psycopg.Connection, *args, dry_run: bool = False, **kw) -> ImportResult:
    """`load_file` in a transaction of its own: every row is written, or none (a dry run writes none)."""
    with conn.transaction() as tx:
        result = load_file(conn, *args, dry_run=dry_run, **kw)
        if dry_run:  # undo the staging too; psycopg swallows its own Rollback
            raise psycopg.Rollback(tx)
    return result
