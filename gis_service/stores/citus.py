"""Citus: the schema distributed by province. What is distributed, what is copied to every node, and in which order,
is read from the database's own catalogue, so a table added later is not forgotten:

- a table with a province_code column is distributed on it, co-located with parcels (a province's parcels, their
  interests, history, documents and decisions sit on one node, and a province's view is a query of one shard);
- every other table is a reference table (a copy on every node: units, reference layers, users, vocabularies);
- the foreign keys from parcels to the tables distributed after it (the accepted interest) wait until both are;
- the history triggers become row-level (Citus runs no statement-level trigger with transition tables);
- the workers get the VN-2000 zones (PostGIS 3.3 lacks EPSG:9205…) and the session settings the service needs.

It is written against Citus 13's documented functions (create_reference_table, create_distributed_table,
run_command_on_workers); this project's CI cannot install Citus, so what it proves here is the preconditions
(`KEYS_WITHOUT_PROVINCE_SQL` finds nothing; the row-level triggers write what the statement-level ones do)."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from ..core.bootstrap import TM3_ZONES, tm3_proj4, tm3_wkt
from .base import Store

COLUMN = "province_code"
ANCHOR = "parcels"
LOCAL = ("alembic_version", "spatial_ref_sys")  # the schema's version (the coordinator's), PostGIS's own table
HISTORY = ("insert", "update", "delete")
WORKER_SETTINGS = {"jit": "off", "max_parallel_workers_per_gather": "0"}  # core.pooler.expected, without timeouts

TABLES_SQL = """
SELECT c.relname, EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = %(column)s
                          AND NOT a.attisdropped)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname
"""

FOREIGN_KEYS_SQL = """
SELECT k.conrelid::regclass::text, k.confrelid::regclass::text, k.conname, pg_get_constraintdef(k.oid)
FROM pg_constraint k
WHERE k.contype = 'f' AND k.conparentid = 0 AND k.connamespace = 'public'::regnamespace ORDER BY 1, 3
"""

# Every unique key of a province's table, and every foreign key to one, that does not hold province_code (on both
# sides, matched): what Citus refuses to distribute. The schema keeps this empty (tests/test_citus_preconditions.py).
KEYS_WITHOUT_PROVINCE_SQL = """
WITH province_tables AS (
    SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = %(column)s))
SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text FROM pg_index i
WHERE i.indisunique AND i.indrelid IN (SELECT oid FROM province_tables)
  AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                  WHERE a.attrelid = i.indrelid AND a.attname = %(column)s AND a.attnum = ANY (i.indkey))
UNION ALL
SELECT k.conrelid::regclass::text, k.conname FROM pg_constraint k
WHERE k.contype = 'f' AND k.conparentid = 0 AND k.confrelid IN (SELECT oid FROM province_tables)
  AND NOT EXISTS (SELECT 1 FROM unnest(k.conkey, k.confkey) AS p(l, r)
                  JOIN pg_attribute la ON la.attrelid = k.conrelid AND la.attnum = p.l
                  JOIN pg_attribute ra ON ra.attrelid = k.confrelid AND ra.attnum = p.r
                  WHERE la.attname = %(column)s AND ra.attname = %(column)s)
ORDER BY 1, 2
"""


@dataclass(frozen=True)
class Step:
    part: str  # reference, cycle, distribute, history, workers
    statement: str


def _ordered(tables: list[str], keys: list[tuple[str, str]]) -> list[str]:
    """`tables` with each one after the tables it references (among `tables`), else alphabetically."""
    done: list[str] = []
    pending = sorted(tables)
    while pending:
        ready = [t for t in pending if all(dst in done or dst == t for src, dst in keys if src == t and dst in tables)]
        if not ready:  # a cycle among them: the caller drops one of its keys first
            raise ValueError(f"foreign keys form a cycle among {', '.join(pending)}")
        done.append(ready[0])
        pending.remove(ready[0])
    return done


class CitusStore(Store):
    def installed(self) -> str | None:
        """The citus extension's version in this database, or None."""
        row = self.one("SELECT extversion FROM pg_extension WHERE extname = 'citus'")
        return row[0] if row else None

    def keys_without_province(self) -> list[tuple[str, str]]:
        """(table, key) of each key that keeps the schema from being distributed by province."""
        return self.all(KEYS_WITHOUT_PROVINCE_SQL, {"column": COLUMN})

    def plan(self) -> list[Step]:
        """The statements that distribute this database, in order; each its own statement (Citus creates a
        reference table per statement)."""
        tables = self.all(TABLES_SQL, {"column": COLUMN})
        distributed = [t for t, has in tables if has]
        reference = [t for t, has in tables if not has and t not in LOCAL]
        fks = self.all(FOREIGN_KEYS_SQL)
        edges = [(src, dst) for src, dst, _name, _def in fks]
        # the anchor's keys to the tables distributed after it wait until both are (the cycle parcels <-> interests)
        waiting = [(s, n, d) for s, dst, n, d in fks if s == ANCHOR and dst in distributed and dst != ANCHOR]
        later = {(s, dst) for s, dst, _n, _d in fks if s == ANCHOR and dst in distributed and dst != ANCHOR}
        steps = [Step("reference", f"SELECT create_reference_table('{t}')") for t in _ordered(reference, edges)]
        steps += [Step("cycle", f'ALTER TABLE {src} DROP CONSTRAINT "{name}"') for src, name, _ in waiting]
        rest = _ordered([t for t in distributed if t != ANCHOR], [e for e in edges if e not in later])
        steps.append(Step("distribute", f"SELECT create_distributed_table('{ANCHOR}', '{COLUMN}')"))
        steps += [
            Step("distribute", f"SELECT create_distributed_table('{t}', '{COLUMN}', colocate_with => '{ANCHOR}')")
            for t in rest
        ]
        steps += [Step("cycle", f'ALTER TABLE {src} ADD CONSTRAINT "{name}" {d}') for src, name, d in waiting]
        steps += self.row_level_history()
        steps += self.worker_steps()
        return steps

    def row_level_history(self) -> list[Step]:
        """The parcels' statement-level triggers (history, measures: migrations 0016 and 0017) as row-level ones,
        and the reference layers' measure triggers dropped (Citus takes no transition table on a reference table
        either; re-measure after changing a reference layer there: SELECT parcel_measures_of(ARRAY(SELECT id FROM
        parcels)))."""
        out = []
        for op in HISTORY:
            out.append(Step("history", f"DROP TRIGGER parcels_history_{op} ON {ANCHOR}"))
            out.append(
                Step(
                    "history",
                    f"CREATE TRIGGER parcels_history_{op} AFTER {op.upper()} ON {ANCHOR} "
                    f"FOR EACH ROW EXECUTE FUNCTION parcels_history_{op}_row()",
                )
            )
        out += [Step("history", f"DROP TRIGGER parcel_measures_{op} ON {ANCHOR}") for op in HISTORY]
        out.append(
            Step(
                "history",
                f"CREATE TRIGGER parcel_measures_row AFTER INSERT OR UPDATE OR DELETE ON {ANCHOR} "
                "FOR EACH ROW EXECUTE FUNCTION parcel_measures_row()",
            )
        )
        out += [
            Step("history", f"DROP TRIGGER parcel_measures_references_{op} ON reference_features") for op in HISTORY
        ]
        return out

    def worker_steps(self) -> list[Step]:
        """What every worker needs and Citus does not carry: the VN-2000 zones, the session settings."""
        name = self.one("SELECT current_database()")[0]
        commands = [
            sql.SQL(
                "INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text) "
                "VALUES ({code}, 'EPSG', {code}, {wkt}, {proj}) ON CONFLICT (srid) DO NOTHING"
            ).format(
                code=sql.Literal(code), wkt=sql.Literal(tm3_wkt(code, lon0, zone)), proj=sql.Literal(tm3_proj4(lon0))
            )
            for code, (lon0, zone) in TM3_ZONES.items()
        ]
        commands += [
            sql.SQL("ALTER DATABASE {} SET {} = {}").format(sql.Identifier(name), sql.Identifier(k), sql.Literal(v))
            for k, v in WORKER_SETTINGS.items()
        ]
        return [
            Step(
                "workers",
                sql.SQL("SELECT run_command_on_workers({})")
                .format(sql.Literal(c.as_string(self.conn)))
                .as_string(self.conn),
            )
            for c in commands
        ]

    def apply(self, steps: list[Step]) -> None:
        """Run `steps`: the schema's in one transaction (all or nothing), then the workers' (each on its own)."""
        with self.conn.transaction():
            for step in steps:
                if step.part != "workers":
                    self.conn.execute(step.statement)
        for step in steps:
            if step.part == "workers":
                self.conn.execute(step.statement)
