"""Append-only parcel history, enforced status lifecycle, investor expressions of interest.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The fields history records (bookkeeping and derived columns change by themselves; the geometry is kept
# apart). Spelled out rather than to_jsonb(row), which would also render every geometry as JSON.
HISTORY_FIELDS = (
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


def _fields(alias: str) -> str:
    return "jsonb_build_object(" + ", ".join(f"'{f}', {alias}.{f}" for f in HISTORY_FIELDS) + ")"


NEXT = """
    ('proposed', 'approved'), ('approved', 'open_for_investment'), ('open_for_investment', 'assigned'),
    ('assigned', 'under_construction'), ('under_construction', 'completed'),
    ('proposed', 'withdrawn'), ('approved', 'withdrawn'), ('open_for_investment', 'withdrawn'),
    ('assigned', 'withdrawn'), ('under_construction', 'withdrawn')
"""


# The three history trigger functions (0006 rewrites them faster and restores these on downgrade).
HISTORY_FUNCTIONS = f"""
        CREATE FUNCTION parcels_history_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO parcel_history (parcel_id, actor, action, new_status, changes, reason)
            SELECT n.id, coalesce(landfund_setting('actor'), current_user), 'insert', n.status,
                   (SELECT coalesce(jsonb_object_agg(key, jsonb_build_array(NULL, value)), '{{}}')
                    FROM jsonb_each({_fields("n")}) WHERE value <> 'null'::jsonb),
                   landfund_setting('reason')
            FROM new_rows n;
            RETURN NULL;
        END $$;
        CREATE FUNCTION parcels_history_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO parcel_history (parcel_id, actor, action, old_status, new_status, changes, geometry_changed,
                                        old_geom, reason, decision_no, decision_date)
            SELECT n.id, coalesce(landfund_setting('actor'), current_user),
                   CASE WHEN o.status IS DISTINCT FROM n.status THEN 'transition' ELSE 'update' END,
                   o.status, n.status, d.changes, NOT ST_Equals(o.geom, n.geom),
                   CASE WHEN NOT ST_Equals(o.geom, n.geom) THEN o.geom END,
                   landfund_setting('reason'),
                   CASE WHEN o.status IS DISTINCT FROM n.status THEN n.decision_no END,
                   CASE WHEN o.status IS DISTINCT FROM n.status THEN n.decision_date END
            FROM old_rows o JOIN new_rows n ON n.id = o.id,
            LATERAL (SELECT coalesce(jsonb_object_agg(oj.key, jsonb_build_array(oj.value, nj.value)), '{{}}') AS changes
                     FROM jsonb_each({_fields("o")}) oj
                     JOIN jsonb_each({_fields("n")}) nj ON nj.key = oj.key
                     WHERE oj.value IS DISTINCT FROM nj.value) d
            WHERE d.changes <> '{{}}' OR NOT ST_Equals(o.geom, n.geom);
            RETURN NULL;
        END $$;
        CREATE FUNCTION parcels_history_delete() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO parcel_history (parcel_id, actor, action, old_status, changes, geometry_changed, old_geom, reason)
            SELECT o.id, coalesce(landfund_setting('actor'), current_user), 'delete', o.status,
                   (SELECT coalesce(jsonb_object_agg(key, jsonb_build_array(value, NULL)), '{{}}')
                    FROM jsonb_each({_fields("o")}) WHERE value <> 'null'::jsonb),
                   TRUE, o.geom, landfund_setting('reason')
            FROM old_rows o;
            RETURN NULL;
        END $$;
"""


SUITABILITY_KINDS = ("admin_centre", "school", "health")


def upgrade() -> None:
    _interests()
    # Suitability asks, per parcel, for the nearest facility of a kind: a KNN search on a partial index each.
    for kind in SUITABILITY_KINDS:
        op.execute(
            f"CREATE INDEX ix_reference_features_{kind} ON reference_features USING gist (geom) "
            f"WHERE layer = 'facilities' AND (properties ->> 'kind') = '{kind}'"
        )
    op.create_table(
        "parcel_history",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("parcel_id", sa.BigInteger, nullable=False),  # no foreign key: history outlives a deletion
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("clock_timestamp()")),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("old_status", sa.String(32)),
        sa.Column("new_status", sa.String(32)),
        sa.Column("changes", JSONB, nullable=False, server_default="{}"),
        sa.Column("geometry_changed", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("old_geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False)),
        sa.Column("reason", sa.Text),
        sa.Column("decision_no", sa.String(64)),
        sa.Column("decision_date", sa.Date),
        sa.CheckConstraint("action IN ('insert', 'update', 'delete', 'transition')", name="ck_parcel_history_action"),
    )
    op.create_index("ix_parcel_history_parcel_id_at", "parcel_history", ["parcel_id", "at"])
    op.execute(
        f"""
        CREATE TABLE status_transitions (from_status varchar(32), to_status varchar(32), PRIMARY KEY (from_status, to_status));
        INSERT INTO status_transitions VALUES {NEXT};

        -- The lifecycle, enforced for every writer: no stage is skipped, withdrawn only before completion.
        CREATE FUNCTION parcels_check_transition() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.status IS DISTINCT FROM OLD.status AND NOT EXISTS (
                SELECT 1 FROM status_transitions WHERE from_status = OLD.status AND to_status = NEW.status) THEN
                RAISE EXCEPTION 'illegal status transition % -> %', OLD.status, NEW.status
                    USING ERRCODE = 'check_violation', HINT = 'landfund-transition';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER parcels_check_transition BEFORE UPDATE OF status ON parcels
            FOR EACH ROW EXECUTE FUNCTION parcels_check_transition();

        -- Who and why come from the writer's transaction (SET LOCAL landfund.actor / landfund.reason …).
        CREATE FUNCTION landfund_setting(name text) RETURNS text LANGUAGE sql STABLE AS $$
            SELECT nullif(current_setting('landfund.' || name, true), '') $$;

        {HISTORY_FUNCTIONS}
        CREATE TRIGGER parcels_history_insert AFTER INSERT ON parcels REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION parcels_history_insert();

        CREATE TRIGGER parcels_history_update AFTER UPDATE ON parcels REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION parcels_history_update();

        CREATE TRIGGER parcels_history_delete AFTER DELETE ON parcels REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION parcels_history_delete();

        -- Append-only: nothing rewrites or removes history (TRUNCATE stays for wiping a whole database).
        CREATE FUNCTION parcel_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'parcel history is append-only' USING ERRCODE = 'insufficient_privilege';
        END $$;
        CREATE TRIGGER parcel_history_append_only BEFORE UPDATE OR DELETE ON parcel_history
            FOR EACH ROW EXECUTE FUNCTION parcel_history_append_only();
        """
    )


def _interests() -> None:
    op.create_table(
        "interests",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "parcel_id",
            sa.BigInteger,
            sa.ForeignKey("parcels.id", ondelete="CASCADE", name="fk_interests_parcel_id_parcels"),
            nullable=False,
        ),
        sa.Column(
            "investor_id", sa.Integer, sa.ForeignKey("users.id", name="fk_interests_investor_id_users"), nullable=False
        ),
        sa.Column("company", sa.String(255), nullable=False),
        sa.Column("tax_code", sa.String(14), nullable=False),
        sa.Column("contact_name", sa.String(255), nullable=False),
        sa.Column("contact_email", sa.String(255)),
        sa.Column("contact_phone", sa.String(32)),
        sa.Column("proposed_units", sa.Integer, nullable=False),
        sa.Column("message", sa.Text),
        sa.Column("status", sa.String(16), nullable=False, server_default="submitted"),
        sa.Column("decided_by", sa.String(128)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decision_reason", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("status IN ('submitted', 'accepted', 'declined')", name="ck_interests_status"),
        sa.CheckConstraint("proposed_units > 0", name="ck_interests_units"),
    )
    op.create_index("ix_interests_parcel_id", "interests", ["parcel_id"])
    op.create_index("ix_interests_investor_id", "interests", ["investor_id"])
    op.add_column(
        "parcels",
        sa.Column(
            "investor_interest_id",
            sa.BigInteger,
            sa.ForeignKey("interests.id", ondelete="SET NULL", name="fk_parcels_investor_interest_id_interests"),
        ),
    )


def downgrade() -> None:
    for kind in SUITABILITY_KINDS:
        op.execute(f"DROP INDEX ix_reference_features_{kind}")
    op.drop_column("parcels", "investor_interest_id")
    op.drop_table("interests")
    op.execute(
        """
        DROP TRIGGER parcel_history_append_only ON parcel_history;
        DROP TRIGGER parcels_history_delete ON parcels;
        DROP TRIGGER parcels_history_update ON parcels;
        DROP TRIGGER parcels_history_insert ON parcels;
        DROP TRIGGER parcels_check_transition ON parcels;
        DROP FUNCTION parcel_history_append_only(), parcels_history_delete(), parcels_history_update(),
                      parcels_history_insert(), parcels_check_transition(), landfund_setting(text);
        DROP TABLE status_transitions;
        """
    )
    op.drop_table("parcel_history")
