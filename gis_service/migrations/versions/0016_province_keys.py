"""Every key of a province's tables holds province_code, so the schema distributes by province (Citus) unchanged:

- interests, parcel_history, documents, decisions: primary key (id, province_code) (a distributed table's unique
  keys must hold its distribution column; ids stay unique on their own, from their sequences);
- parcels.investor_interest_id: (investor_interest_id, province_code) -> interests (id, province_code), no action
  on delete. It was ON DELETE SET NULL on the id alone; on two columns that would null the province too, and
  Citus refuses SET NULL with a column list. An interest is deleted only with its parcel, which goes first, so
  nothing a person does behaves differently;
- decisions.document_id: (document_id, province_code) -> documents (id, province_code).

And row-level twins of the history trigger functions (parcels_history_insert_row, ..._update_row, ..._delete_row),
not attached: Citus runs no statement-level trigger with transition tables on a distributed table, and
`landfund db distribute` puts these in place of the statement-level ones there. Both write the same entries.

And parcels_add_province (migration 0005) corrected: it copied the columns parcels had in 0005 only, so a parcel
moved out of the default partition lost every later field (approved units, the investor, clearance, the former
commune…), and its documents and decisions went with the cascade. It now copies every stored column, keeps the
documents and decisions as it kept the interests, and refuses (naming why) to move a parcel that has an accepted
interest, which the key between them keeps from moving in one transaction.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from alembic import op

from gis_service.migrations import revision_module

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# the fields and the {field: [old, new]} expression of revision 0014's history functions, which this mirrors
_m0014 = revision_module("0014_procedure_stages.py")
FIELDS = _m0014.FIELDS + _m0014.ADDED
_pairs = _m0014._pairs

ACTOR = "coalesce(landfund_setting('actor'), current_user)"


def row_history_functions(fields, pairs=None) -> str:
    """The row-level twins of the history functions; `pairs` as in revision 0014's history_functions."""
    build = pairs or _pairs
    return f"""
        CREATE OR REPLACE FUNCTION parcels_history_insert_row() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO parcel_history (parcel_id, actor, action, new_status, changes, reason, province_code)
            VALUES (NEW.id, {ACTOR}, 'insert', NEW.status, {build(fields, None, "NEW")}, landfund_setting('reason'),
                    NEW.province_code);
            RETURN NULL;
        END $$;

        CREATE OR REPLACE FUNCTION parcels_history_update_row() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            v_changes jsonb := {build(fields, "OLD", "NEW")};
            v_moved boolean := NOT ST_Equals(OLD.geom, NEW.geom);
            v_transition boolean := OLD.status IS DISTINCT FROM NEW.status;
        BEGIN
            IF v_changes = '{{}}' AND NOT v_moved THEN
                RETURN NULL;
            END IF;
            INSERT INTO parcel_history (parcel_id, actor, action, old_status, new_status, changes, geometry_changed,
                                        old_geom, reason, decision_no, decision_date, province_code)
            VALUES (NEW.id, {ACTOR}, CASE WHEN v_transition THEN 'transition' ELSE 'update' END,
                    OLD.status, NEW.status, v_changes, v_moved, CASE WHEN v_moved THEN OLD.geom END,
                    landfund_setting('reason'), CASE WHEN v_transition THEN NEW.decision_no END,
                    CASE WHEN v_transition THEN NEW.decision_date END, NEW.province_code);
            RETURN NULL;
        END $$;

        CREATE OR REPLACE FUNCTION parcels_history_delete_row() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO parcel_history (parcel_id, actor, action, old_status, changes, geometry_changed, old_geom,
                                        reason, province_code)
            VALUES (OLD.id, {ACTOR}, 'delete', OLD.status, {build(fields, "OLD", None)}, TRUE, OLD.geom,
                    landfund_setting('reason'), OLD.province_code);
            RETURN NULL;
        END $$;
    """


ADD_PROVINCE = """
CREATE OR REPLACE FUNCTION parcels_add_province(province text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    part text := 'parcels_p' || province;
    cols text;
    accepted integer;
BEGIN
    IF province !~ '^[0-9]{2}$' THEN
        RAISE EXCEPTION 'a province code is two digits, not %', province USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF to_regclass(part) IS NOT NULL THEN
        RETURN part;
    END IF;
    SELECT count(*) INTO accepted FROM parcels_default WHERE province_code = province AND investor_interest_id IS NOT NULL;
    IF accepted > 0 THEN
        RAISE EXCEPTION '% parcel(s) of province % in the default partition have an accepted interest', accepted, province
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'add the province''s partition before its parcels (landfund province add does)';
    END IF;
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols FROM pg_attribute
    WHERE attrelid = 'parcels'::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '';
    EXECUTE format('CREATE TABLE %I (LIKE parcels INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS)', part);
    EXECUTE format('INSERT INTO %I (%s) SELECT %s FROM parcels_default WHERE province_code = %L', part, cols, cols,
                   province);
    -- deleting the old copies cascades to what refers to them: keep it aside and put it back
    CREATE TEMP TABLE moving_interests ON COMMIT DROP AS SELECT * FROM interests WHERE province_code = province;
    CREATE TEMP TABLE moving_documents ON COMMIT DROP AS SELECT * FROM documents WHERE province_code = province;
    CREATE TEMP TABLE moving_decisions ON COMMIT DROP AS SELECT * FROM decisions WHERE province_code = province;
    DELETE FROM parcels_default WHERE province_code = province;
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (province_code = %L)', part, part || '_key', province);
    EXECUTE format('ALTER TABLE parcels ATTACH PARTITION %I FOR VALUES IN (%L)', part, province);
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', part, part || '_key');
    INSERT INTO interests SELECT * FROM moving_interests;
    INSERT INTO documents SELECT * FROM moving_documents;
    INSERT INTO decisions SELECT * FROM moving_decisions;
    DROP TABLE moving_interests, moving_documents, moving_decisions;
    RETURN part;
END $$;
"""


def upgrade() -> None:
    op.execute("""
        ALTER TABLE parcels DROP CONSTRAINT fk_parcels_investor_interest_id_interests;
        ALTER TABLE decisions DROP CONSTRAINT decisions_document_id_fkey;
        ALTER TABLE interests DROP CONSTRAINT pk_interests, ADD CONSTRAINT pk_interests PRIMARY KEY (id, province_code);
        ALTER TABLE parcel_history DROP CONSTRAINT pk_parcel_history,
            ADD CONSTRAINT pk_parcel_history PRIMARY KEY (id, province_code);
        ALTER TABLE documents DROP CONSTRAINT documents_pkey,
            ADD CONSTRAINT documents_pkey PRIMARY KEY (id, province_code);
        ALTER TABLE decisions DROP CONSTRAINT decisions_pkey,
            ADD CONSTRAINT decisions_pkey PRIMARY KEY (id, province_code);
        ALTER TABLE parcels ADD CONSTRAINT fk_parcels_investor_interest_id_interests
            FOREIGN KEY (investor_interest_id, province_code) REFERENCES interests (id, province_code);
        ALTER TABLE decisions ADD CONSTRAINT decisions_document_id_fkey
            FOREIGN KEY (document_id, province_code) REFERENCES documents (id, province_code);
    """)
    op.execute(row_history_functions(FIELDS))
    op.execute(ADD_PROVINCE)


def downgrade() -> None:  # parcels_add_province stays corrected
    op.execute("""
        DROP FUNCTION parcels_history_insert_row(), parcels_history_update_row(), parcels_history_delete_row();
        ALTER TABLE parcels DROP CONSTRAINT fk_parcels_investor_interest_id_interests;
        ALTER TABLE decisions DROP CONSTRAINT decisions_document_id_fkey;
        ALTER TABLE interests DROP CONSTRAINT pk_interests, ADD CONSTRAINT pk_interests PRIMARY KEY (id);
        ALTER TABLE parcel_history DROP CONSTRAINT pk_parcel_history, ADD CONSTRAINT pk_parcel_history PRIMARY KEY (id);
        ALTER TABLE documents DROP CONSTRAINT documents_pkey, ADD CONSTRAINT documents_pkey PRIMARY KEY (id);
        ALTER TABLE decisions DROP CONSTRAINT decisions_pkey, ADD CONSTRAINT decisions_pkey PRIMARY KEY (id);
        ALTER TABLE parcels ADD CONSTRAINT fk_parcels_investor_interest_id_interests
            FOREIGN KEY (investor_interest_id) REFERENCES interests (id) ON DELETE SET NULL;
        ALTER TABLE decisions ADD CONSTRAINT decisions_document_id_fkey
            FOREIGN KEY (document_id) REFERENCES documents (id);
    """)
