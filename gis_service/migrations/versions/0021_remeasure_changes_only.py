"""A change of reference features writes only the stored measures it alters.

Loading or editing a reference layer re-measured every parcel within reach of the change (migration 0017) and
rewrote its row whether or not its nearest feature had changed: a change of 2,203 facilities at 100,000 parcels
rewrote 43,386 rows to alter a few hundred, and the bench's parcel_measures grew to 22 times its size (352 MB for
142,104 rows of ~114 bytes) as reference layers were loaded, which every ranking then scans. Each role's parcels
within reach are now measured once, into a CTE, and only the rows whose value differs are updated; measured_at
is when a row's values last changed.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08
"""

from alembic import op

from gis_service.migrations import revision_module

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_m0017 = revision_module("0017_parcel_measures.py")


def _write_changes(column: str, value: str, touched: str) -> str:
    """Measure `column` (its value: `value`, over parcels p) of the stored rows whose parcel `touched` selects, and
    update only those whose value differs."""
    return f"""
                WITH measured AS MATERIALIZED (
                    SELECT m.parcel_id, m.province_code, m.{column} AS was, {value} AS fresh
                    FROM parcel_measures m JOIN parcels p ON p.id = m.parcel_id AND p.province_code = m.province_code
                    WHERE {touched})
                UPDATE parcel_measures m SET {column} = d.fresh, measured_at = now()
                FROM measured d
                WHERE m.parcel_id = d.parcel_id AND m.province_code = d.province_code AND d.was IS DISTINCT FROM d.fresh;"""


def _per_role() -> str:
    """0017's body (the same parcels re-measured, role by role), writing only what changes."""
    parts = []
    for column, role in _m0017.ROLES.items():
        touched = (
            "reach IS NULL OR EXISTS (SELECT 1 FROM unnest(roles, geoms) AS c(role, geom) "
            f"WHERE c.role = '{role}' AND {_m0017.NEAR})"
        )
        parts.append(f"""
            IF '{role}' = ANY(roles) THEN
                SELECT max({column}) INTO reach FROM parcel_measures;{
            _write_changes(column, _m0017._nearest(column, "p.geom"), touched)
        }
            END IF;""")
    touched = (
        "EXISTS (SELECT 1 FROM unnest(roles, geoms) AS c(role, geom) "
        "WHERE c.role = 'hazard' AND ST_Intersects(c.geom, p.geom))"
    )
    parts.append(f"""
            IF 'hazard' = ANY(roles) THEN{_write_changes("hazards", "intersecting_hazards(p.geom)", touched)}
            END IF;""")
    return "".join(parts)


def _function(body: str) -> str:
    return f"""
        CREATE OR REPLACE FUNCTION parcel_measures_remeasure(roles text[], geoms geometry[]) RETURNS void
        LANGUAGE plpgsql AS $$
        DECLARE reach double precision;
        BEGIN {body}
        END $$;"""


def upgrade() -> None:
    op.execute(_function(_per_role()))


def downgrade() -> None:
    op.execute(_function(_m0017._per_role()))
