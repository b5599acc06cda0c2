"""History records carry their parcel's province code, so history can live beside its parcels when the
tables are distributed by province (Citus co-locates rows by that key) and be read per province.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# A frozen copy of revision 0006's trigger functions, with the province added (a revision never imports another).
FIELDS = (
    "code",
    "name",
    "province_code",
    "admin_unit_code",
    "map_sheet_no",
    "parcel_no",
    "land_use_code",
    "status",
    "fund_source",
    "responsible_level",
    "responsible_agency",
    "clearance_status",
    "max_far",
    "max_density",
    "max_floors",
    "decision_no",
    "decision_date",
    "legal_area_m2",
    "published",
    "internal_notes",
    "investor_interest_id",
)


def _pairs(old: str | None, new: str | None) -> str:
    """jsonb {field: [old, new]} of the fields whose value differs (a missing side is NULL)."""
    parts = []
    for f in FIELDS:
        o = f"{old}.{f}" if old else "NULL"
        n = f"{new}.{f}" if new else "NULL"
        parts.append(f"'{f}', CASE WHEN {o} IS DISTINCT FROM {n} THEN jsonb_build_array({o}, {n}) END")
    return "jsonb_strip_nulls(jsonb_build_object(" + ", ".join(parts) + "))"


def history_functions(province: bool = False) -> str:
    """The three history trigger functions; with `province`, each record also carries the parcel's province
    code (0007)."""
    pc, po, pn = (", province_code", ", o.province_code", ", n.province_code") if province else ("", "", "")
    pd = ", d.province_code" if province else ""
    return f"""
        CREATE OR REPLACE FUNCTION parcels_history_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO parcel_history (parcel_id, actor, action, new_status, changes, reason{pc})
            SELECT n.id, coalesce(landfund_setting('actor'), current_user), 'insert', n.status,
                   {_pairs(None, "n")}, landfund_setting('reason'){pn}
            FROM new_rows n;
            RETURN NULL;
        END $$;

        CREATE OR REPLACE FUNCTION parcels_history_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO parcel_history (parcel_id, actor, action, old_status, new_status, changes, geometry_changed,
                                        old_geom, reason, decision_no, decision_date{pc})
            SELECT d.id, coalesce(landfund_setting('actor'), current_user),
                   CASE WHEN d.old_status IS DISTINCT FROM d.new_status THEN 'transition' ELSE 'update' END,
                   d.old_status, d.new_status, d.changes, d.moved, CASE WHEN d.moved THEN d.old_geom END,
                   landfund_setting('reason'),
                   CASE WHEN d.old_status IS DISTINCT FROM d.new_status THEN d.decision_no END,
                   CASE WHEN d.old_status IS DISTINCT FROM d.new_status THEN d.decision_date END{pd}
            FROM (SELECT n.id, o.status AS old_status, n.status AS new_status, {_pairs("o", "n")} AS changes,
                         NOT ST_Equals(o.geom, n.geom) AS moved, o.geom AS old_geom, n.decision_no, n.decision_date{pn}
                  FROM old_rows o JOIN new_rows n ON n.id = o.id) d
            WHERE d.changes <> '{{}}' OR d.moved;
            RETURN NULL;
        END $$;

        CREATE OR REPLACE FUNCTION parcels_history_delete() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO parcel_history (parcel_id, actor, action, old_status, changes, geometry_changed, old_geom,
                                        reason{pc})
            SELECT o.id, coalesce(landfund_setting('actor'), current_user), 'delete', o.status,
                   {_pairs("o", None)}, TRUE, o.geom, landfund_setting('reason'){po}
            FROM old_rows o;
            RETURN NULL;
        END $$;
    """


def upgrade() -> None:
    op.execute("""
        ALTER TABLE parcel_history ADD COLUMN province_code varchar(2);
        ALTER TABLE parcel_history DISABLE TRIGGER parcel_history_append_only;
        UPDATE parcel_history h SET province_code = coalesce(
            (SELECT p.province_code FROM parcels p WHERE p.id = h.parcel_id),
            h.changes -> 'province_code' ->> 0, h.changes -> 'province_code' ->> 1, '11');
        ALTER TABLE parcel_history ENABLE TRIGGER parcel_history_append_only;
        ALTER TABLE parcel_history ALTER COLUMN province_code SET NOT NULL;
        CREATE INDEX ix_parcel_history_province_code ON parcel_history (province_code);
    """)
    op.execute(history_functions(province=True))


def downgrade() -> None:
    op.execute(history_functions(province=False))
    op.execute("ALTER TABLE parcel_history DROP COLUMN province_code")
