"""The history functions build a change's {field: [old, new]} as JSON text, parsed once, instead of one jsonb array
per field nested into one jsonb object and stripped of its NULLs.

The same entries, byte for byte (to_json writes each value as jsonb_build_array does: strings escaped, numbers
from their shortest exact text, dates in ISO 8601, booleans, NaN as a string), in a third of the time: 31 fields
of 100,000 imported parcels took 4.5 s in the insert trigger (a jsonb value built, copied and freed per field and
row), now 1.5 s. Statement- and row-level (Citus) functions alike.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08
"""

from alembic import op

from gis_service.migrations import revision_module

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_m0014 = revision_module("0014_procedure_stages.py")
_m0016 = revision_module("0016_province_keys.py")
FIELDS = _m0014.FIELDS + _m0014.ADDED


def _json(side: str | None, field: str) -> str:
    """A side's value as JSON text ('null' for NULL or a missing side)."""
    return f"coalesce(to_json({side}.{field})::text, 'null')" if side else "'null'"


def changes_as_text(fields, old: str | None, new: str | None) -> str:
    """jsonb {field: [old, new]} of the fields whose value differs, written as text: concat_ws skips the fields
    that did not change (their CASE is NULL)."""
    assert len(fields) < 100  # concat_ws takes at most 100 arguments
    parts = []
    for f in fields:
        o = f"{old}.{f}" if old else "NULL"
        n = f"{new}.{f}" if new else "NULL"
        pair = f"""'"{f}":[' || {_json(old, f)} || ',' || {_json(new, f)} || ']'"""
        parts.append(f"CASE WHEN {o} IS DISTINCT FROM {n} THEN {pair} END")
    return "('{' || concat_ws(',', " + ", ".join(parts) + ") || '}')::jsonb"


def upgrade() -> None:
    op.execute(_m0014.history_functions(FIELDS, changes_as_text))
    op.execute(_m0016.row_history_functions(FIELDS, changes_as_text))


def downgrade() -> None:
    op.execute(_m0014.history_functions(FIELDS))
    op.execute(_m0016.row_history_functions(FIELDS))
