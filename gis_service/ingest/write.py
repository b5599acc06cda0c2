"""Write a validated batch from its stage into the table: one INSERT … SELECT (or UPDATE … FROM)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
from psycopg import sql

from ..catalogue import Catalogue, LayerDef
from ..models import parcels as parcel_model
from ..validation import Options, Report, Staged, ValidationFailed, validate


@dataclass
class WriteResult:
    report: Report
    ids: list[int] = field(default_factory=list)
    written: bool = False


def _generic(staged: Staged, update: bool) -> sql.Composable:
    spec = staged.spec
    stage = sql.Identifier(staged.stage)
    table = sql.Identifier(spec.table)
    if spec.jsonb_properties:
        cols = ["layer", "properties", "geom"]
    else:
        cols = [*spec.columns, *(["geom"] if spec.spatial else [])]
    names = sql.SQL(", ").join(sql.Identifier(c) for c in cols)
    values = sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(c)) for c in cols)
    if update:
        return sql.SQL("UPDATE {t} AS t SET ({n}) = ({v}) FROM {s} s WHERE t.id = s.target_id RETURNING t.id").format(
            t=table, n=names, v=values, s=stage)
    return sql.SQL("INSERT INTO {t} ({n}) SELECT {v} FROM {s} s ORDER BY s.row_no RETURNING id").format(
        t=table, n=names, v=values, s=stage)


def write_staged(conn, staged: Staged, catalogue: Catalogue, *, update: bool = False) -> list[int]:
    with conn.cursor() as cur:
        if staged.spec.table == "parcels":
            q = sql.SQL(parcel_model.UPDATE_SQL if update else parcel_model.INSERT_SQL).format(
                stage=sql.Identifier(staged.stage))
            cur.execute(q, {"province": catalogue.province.code})
        else:
            cur.execute(_generic(staged, update))
        return [r[0] for r in cur.fetchall()]


def write_batch(conn, catalogue: Catalogue, layer: LayerDef, frame: pd.DataFrame, options: Options | None = None,
                *, dry_run: bool = False, update: bool = False, rows=None,
                before_write: Callable[[str], None] | None = None) -> WriteResult:
    """Validate `frame` and, if every row passes and this is not a dry run, write it.

    Raises ValidationFailed when any row fails; the caller's transaction must then be rolled back, and is
    what makes an import all-or-nothing. `before_write(stage)` may veto the staged rows (say, a planner's
    unit scope) by raising."""
    if layer.storage == "parcels":  # one writer per province at a time: the checks see every earlier write
        conn.execute(parcel_model.LOCK_WRITES_SQL, [catalogue.province.code])
    staged = validate(conn, catalogue, layer, frame, options, rows=rows)
    if not staged.report.ok:
        raise ValidationFailed(staged.report)
    if before_write is not None:
        before_write(staged.stage)
    if dry_run:
        return WriteResult(staged.report)
    ids = write_staged(conn, staged, catalogue, update=update)
    return WriteResult(staged.report, ids, written=True)
