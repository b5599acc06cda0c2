"""Staging: a batch is COPYed into a temporary table first, so that checks against stored data are set-based
SQL (and indexed), and the final write is one INSERT … SELECT (or UPDATE … FROM). Never one INSERT per row."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from psycopg import sql
from psycopg.types.json import Jsonb

from ..models.base import StoreSpec
from .base import each

REFERENCE_STAGE = (
    "(row_no integer, target_id bigint, layer text, role varchar(64), properties jsonb, geom geometry(Geometry, 4326))"
)


def stage_columns(spec: StoreSpec) -> list[str]:
    if spec.jsonb_properties:
        return ["row_no", "target_id", "layer", "role", "properties", "geom"]
    return ["row_no", "target_id", *spec.columns, *(["geom"] if spec.spatial else [])]


def create_stage(cur, spec: StoreSpec, name: str) -> None:
    ident = sql.Identifier(name)
    cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(ident))
    if spec.jsonb_properties:
        cur.execute(sql.SQL("CREATE TEMP TABLE {} " + REFERENCE_STAGE + " ON COMMIT DROP").format(ident))
        return
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in stage_columns(spec)[2:])
    cur.execute(
        sql.SQL(
            "CREATE TEMP TABLE {} ON COMMIT DROP AS "
            "SELECT NULL::integer AS row_no, NULL::bigint AS target_id, {} FROM {} WITH NO DATA"
        ).format(ident, cols, sql.Identifier(spec.table))
    )


def copy_rows(cur, spec: StoreSpec, name: str, rows: Iterable[tuple]) -> int:
    """COPY `rows` into stage `name` (one call per batch); how many."""
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in stage_columns(spec))
    n = 0
    with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(name), cols)) as copy:
        for row in rows:
            if spec.jsonb_properties:
                row = (*row[:4], Jsonb(row[4]), row[5])
            copy.write_row(row)
            n += 1
    return n


def index_stage(cur, spec: StoreSpec, name: str, rows: int) -> None:
    """Once every batch is staged: an index on the geometry and statistics, for the whole-input checks."""
    if rows <= 1000:
        return
    if spec.spatial:
        cur.execute(sql.SQL("CREATE INDEX ON {} USING gist (geom)").format(sql.Identifier(name)))
    cur.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(name)))


def _code(spec: StoreSpec, alias: str) -> sql.Composable:
    """A staged row's code (what a problem names it by), NULL for a layer without codes."""
    if spec.jsonb_properties:
        return sql.SQL("{}.properties ->> 'code'").format(sql.Identifier(alias))
    if "code" in spec.columns:
        return sql.SQL("{}.code::text").format(sql.Identifier(alias))
    return sql.SQL("NULL::text")


def duplicate_keys_in_stage(cur, spec: StoreSpec, name: str) -> Iterator[tuple]:
    """(row, first row with the same key, code, *key) of every staged row whose natural key an earlier row of the
    same input already has."""
    if not spec.key:
        return iter(())
    keys = sql.SQL(", ").join(sql.Identifier(c) for c in spec.key)
    q = sql.SQL(
        "SELECT row_no, first_row, row_code, {keys} FROM ("
        "SELECT row_no, {code} AS row_code, {keys}, min(row_no) OVER (PARTITION BY {keys}) AS first_row "
        "FROM {stage} s"
        ") d WHERE row_no <> first_row ORDER BY row_no"
    ).format(keys=keys, code=_code(spec, "s"), stage=sql.Identifier(name))
    return each(cur, q)


def duplicate_keys_in_table(cur, spec: StoreSpec, name: str) -> Iterator[tuple]:
    """(row, code, *key) of staged rows whose natural key is already stored (ignoring the stored version of the row
    itself)."""
    if not spec.key:
        return iter(())
    on = sql.SQL(" AND ").join(  # staged rows always have their key (rows without one are not staged)
        sql.SQL("t.{c} = s.{c}").format(c=sql.Identifier(c)) for c in spec.key
    )
    keys = sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(c)) for c in spec.key)
    q = sql.SQL(
        "SELECT s.row_no, {code}, {keys} FROM {stage} s JOIN {table} t ON {on} "
        "WHERE t.id IS DISTINCT FROM s.target_id ORDER BY s.row_no"
    ).format(code=_code(spec, "s"), keys=keys, stage=sql.Identifier(name), table=sql.Identifier(spec.table), on=on)
    return each(cur, q)


def write_statement(spec: StoreSpec, stage_name: str, update: bool) -> sql.Composable:
    """The generic write of a staged batch into its table (parcels have their own: stores.parcels)."""
    stage = sql.Identifier(stage_name)
    table = sql.Identifier(spec.table)
    if spec.jsonb_properties:
        cols = ["layer", "role", "properties", "geom"]
    else:
        cols = [*spec.columns, *(["geom"] if spec.spatial else [])]
    names = sql.SQL(", ").join(sql.Identifier(c) for c in cols)
    values = sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(c)) for c in cols)
    if update:
        return sql.SQL("UPDATE {t} AS t SET ({n}) = ({v}) FROM {s} s WHERE t.id = s.target_id RETURNING t.id").format(
            t=table, n=names, v=values, s=stage
        )
    return sql.SQL("INSERT INTO {t} ({n}) SELECT {v} FROM {s} s ORDER BY s.row_no RETURNING id").format(
        t=table, n=names, v=values, s=stage
    )


def write_generic(cur, spec: StoreSpec, stage_name: str, update: bool) -> list[int]:
    cur.execute(write_statement(spec, stage_name, update))
    return [r[0] for r in cur.fetchall()]
