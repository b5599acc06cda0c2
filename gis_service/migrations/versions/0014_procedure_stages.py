"""The eight-stage procedure of a social-housing site (layers/workflow.yaml), with what each stage records:

- parcels.approved_units, approved_floor_m2: the approved 1/500 detailed plan's figures (they replace the estimate);
- parcels.investor_name, selection_method: the investor and how it was selected (bidding; assignment without
  bidding under Resolution 201/2025/QH15; a project management board; the 20 % reserve's own developer);
- parcels.clearance_households, clearance_cost_vnd: land recovery and site clearance (beside clearance_status);
- parcels.tenure: how the dwellings are handed over (sale, rent, lease-purchase, a mix);
- parcels.reserve_payment_vnd, reserve_replaced_by: the 20 % reserve paid for instead, or provided elsewhere;
- parcels.former_commune_code: the commune before 1 July 2025 whose cadastral map the sheet and parcel numbers
  belong to (the old address still finds the parcel after the merger).

Every parcel moves from the old statuses to the stage it corresponds to, each move written to its history by the
history trigger as a transition with this migration as actor and the mapping as reason:
  proposed -> proposed; approved (the site approved for social housing) -> programmed; open_for_investment ->
  call_published; assigned -> investor_selected; under_construction, completed, withdrawn unchanged.
Old history entries keep the names they were written with (layers/workflow.yaml `former` labels them).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

MAPPING = {"approved": "programmed", "open_for_investment": "call_published", "assigned": "investor_selected"}
NEW_STAGES = (
    "programmed",
    "plan_approved",
    "call_published",
    "investor_selected",
    "clearance",
    "land_allocated",
    "reserve_elsewhere",
    "reserve_paid",
)
ACTOR = "landfund db upgrade (0014)"
REASON = "the eight-stage procedure: " + ", ".join(f"{a} -> {b}" for a, b in MAPPING.items())

# A frozen copy of revision 0007's history functions, with the fields this revision adds.
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
ADDED = (
    "approved_units",
    "approved_floor_m2",
    "investor_name",
    "selection_method",
    "clearance_households",
    "clearance_cost_vnd",
    "tenure",
    "reserve_payment_vnd",
    "reserve_replaced_by",
    "former_commune_code",
)


def _pairs(fields, old: str | None, new: str | None) -> str:
    """jsonb {field: [old, new]} of the fields whose value differs (a missing side is NULL)."""
    parts = []
    for f in fields:
        o = f"{old}.{f}" if old else "NULL"
        n = f"{new}.{f}" if new else "NULL"
        parts.append(f"'{f}', CASE WHEN {o} IS DISTINCT FROM {n} THEN jsonb_build_array({o}, {n}) END")
    # jsonb_build_object takes at most 100 arguments: one object per 40 fields, concatenated
    chunks = [parts[i : i + 40] for i in range(0, len(parts), 40)]
    return "jsonb_strip_nulls(" + " || ".join("jsonb_build_object(" + ", ".join(c) + ")" for c in chunks) + ")"


def history_functions(fields, pairs=None) -> str:
    """The statement-level history functions; `pairs` builds the {field: [old, new]} expression (this revision's
    own unless a later revision passes its own)."""
    build = pairs or _pairs
    return f"""
        CREATE OR REPLACE FUNCTION parcels_history_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO parcel_history (parcel_id, actor, action, new_status, changes, reason, province_code)
            SELECT n.id, coalesce(landfund_setting('actor'), current_user), 'insert', n.status,
                   {build(fields, None, "n")}, landfund_setting('reason'), n.province_code
            FROM new_rows n;
            RETURN NULL;
        END $$;

        CREATE OR REPLACE FUNCTION parcels_history_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO parcel_history (parcel_id, actor, action, old_status, new_status, changes, geometry_changed,
                                        old_geom, reason, decision_no, decision_date, province_code)
            SELECT d.id, coalesce(landfund_setting('actor'), current_user),
                   CASE WHEN d.old_status IS DISTINCT FROM d.new_status THEN 'transition' ELSE 'update' END,
                   d.old_status, d.new_status, d.changes, d.moved, CASE WHEN d.moved THEN d.old_geom END,
                   landfund_setting('reason'),
                   CASE WHEN d.old_status IS DISTINCT FROM d.new_status THEN d.decision_no END,
                   CASE WHEN d.old_status IS DISTINCT FROM d.new_status THEN d.decision_date END, d.province_code
            FROM (SELECT n.id, o.status AS old_status, n.status AS new_status, {build(fields, "o", "n")} AS changes,
                         NOT ST_Equals(o.geom, n.geom) AS moved, o.geom AS old_geom, n.decision_no, n.decision_date,
                         n.province_code
                  FROM old_rows o JOIN new_rows n ON n.id = o.id) d
            WHERE d.changes <> '{{}}' OR d.moved;
            RETURN NULL;
        END $$;

        CREATE OR REPLACE FUNCTION parcels_history_delete() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO parcel_history (parcel_id, actor, action, old_status, changes, geometry_changed, old_geom,
                                        reason, province_code)
            SELECT o.id, coalesce(landfund_setting('actor'), current_user), 'delete', o.status,
                   {build(fields, "o", None)}, TRUE, o.geom, landfund_setting('reason'), o.province_code
            FROM old_rows o;
            RETURN NULL;
        END $$;
    """


def _list(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


def upgrade() -> None:
    op.execute("""
        ALTER TABLE parcels
            ADD COLUMN approved_units integer CONSTRAINT ck_parcels_approved_units CHECK (approved_units > 0),
            ADD COLUMN approved_floor_m2 double precision
                CONSTRAINT ck_parcels_approved_floor CHECK (approved_floor_m2 > 0),
            ADD COLUMN investor_name varchar(255),
            ADD COLUMN selection_method varchar(32) CONSTRAINT ck_parcels_selection_method
                CHECK (selection_method IN ('bidding', 'assignment', 'project_board', 'commercial_developer')),
            ADD COLUMN clearance_households integer
                CONSTRAINT ck_parcels_clearance_households CHECK (clearance_households >= 0),
            ADD COLUMN clearance_cost_vnd bigint CONSTRAINT ck_parcels_clearance_cost CHECK (clearance_cost_vnd >= 0),
            ADD COLUMN tenure varchar(16)
                CONSTRAINT ck_parcels_tenure CHECK (tenure IN ('sale', 'rent', 'lease_purchase', 'mixed')),
            ADD COLUMN reserve_payment_vnd bigint CONSTRAINT ck_parcels_reserve_payment CHECK (reserve_payment_vnd > 0),
            ADD COLUMN reserve_replaced_by varchar(64),
            ADD COLUMN former_commune_code varchar(10);
    """)
    op.execute(history_functions(FIELDS + ADDED))
    stages = ", ".join(f"('{s}', {100 + i})" for i, s in enumerate(NEW_STAGES))
    pairs = ", ".join(f"('{a}', '{b}')" for a, b in MAPPING.items())
    cases = " ".join(f"WHEN '{a}' THEN '{b}'" for a, b in MAPPING.items())
    op.execute(f"""
        INSERT INTO statuses (id, position) VALUES {stages} ON CONFLICT (id) DO NOTHING;
        INSERT INTO status_transitions (from_status, to_status) VALUES {pairs} ON CONFLICT DO NOTHING;
        SELECT set_config('landfund.actor', '{ACTOR}', true), set_config('landfund.reason', '{REASON}', true);
        UPDATE parcels SET status = CASE status {cases} END WHERE status IN ({_list(MAPPING)});
        SELECT set_config('landfund.actor', '', true), set_config('landfund.reason', '', true);
        DELETE FROM status_transitions WHERE from_status IN ({_list(MAPPING)}) OR to_status IN ({_list(MAPPING)});
        DELETE FROM statuses WHERE id IN ({_list(MAPPING)});
    """)


def downgrade() -> None:
    back = {b: a for a, b in MAPPING.items()}
    # stages with no old counterpart fall back to the nearest old one
    back.update({"plan_approved": "approved", "clearance": "assigned", "land_allocated": "assigned"})
    back.update({"reserve_elsewhere": "withdrawn", "reserve_paid": "withdrawn"})
    cases = " ".join(f"WHEN '{a}' THEN '{b}'" for a, b in back.items())
    olds = ", ".join(f"('{a}', {90 + i})" for i, a in enumerate(MAPPING))
    pairs = ", ".join(f"('{a}', '{b}')" for a, b in back.items())
    op.execute(f"""
        INSERT INTO statuses (id, position) VALUES {olds} ON CONFLICT (id) DO NOTHING;
        INSERT INTO status_transitions (from_status, to_status) VALUES {pairs} ON CONFLICT DO NOTHING;
        UPDATE parcels SET status = CASE status {cases} END WHERE status IN ({_list(back)});
        DELETE FROM status_transitions WHERE from_status IN ({_list(NEW_STAGES)}) OR to_status IN ({_list(NEW_STAGES)});
        DELETE FROM statuses WHERE id IN ({_list(NEW_STAGES)});
    """)
    op.execute(history_functions(FIELDS))
    op.execute("ALTER TABLE parcels " + ", ".join(f"DROP COLUMN {c}" for c in ADDED))
