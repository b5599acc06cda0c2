"""Partition parcels by province code (native LIST partitioning), the key Citus shards on too.

Each province's parcels live in a partition of their own (`parcels_p11` for Điện Biên; others are made with
`SELECT parcels_add_province('NN')`, and until then land in `parcels_default`). A partitioned table's keys
must contain the partition key, so the primary key becomes (id, province_code) and parcel codes are unique
per province; interests carry their parcel's province code so their foreign key can name the full key.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CHECKS = (
    "clearance_status",
    "code_not_empty",
    "fund_source",
    "geom_valid",
    "legal_area",
    "max_density",
    "max_far",
    "max_floors",
    "responsible_level",
    "status",
)
TRIGGERS = """
    CREATE TRIGGER parcels_touch BEFORE UPDATE ON parcels FOR EACH ROW EXECUTE FUNCTION parcels_touch();
    CREATE TRIGGER parcels_check_transition BEFORE UPDATE OF status ON parcels
        FOR EACH ROW EXECUTE FUNCTION parcels_check_transition();
    CREATE TRIGGER parcels_history_insert AFTER INSERT ON parcels REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION parcels_history_insert();
    CREATE TRIGGER parcels_history_update AFTER UPDATE ON parcels REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION parcels_history_update();
    CREATE TRIGGER parcels_history_delete AFTER DELETE ON parcels REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION parcels_history_delete();
"""
INDEXES = """
    CREATE INDEX ix_parcels_geom ON parcels USING gist (geom);
    CREATE INDEX ix_parcels_pos ON parcels USING gist (pos);
    CREATE INDEX ix_parcels_status ON parcels (status);
    CREATE INDEX ix_parcels_admin_unit_code ON parcels (admin_unit_code);
"""
# Every column but the generated ones, in table order.
COLUMNS = (
    "id, code, name, province_code, admin_unit_code, map_sheet_no, parcel_no, land_use_code, status, "
    "fund_source, responsible_level, responsible_agency, clearance_status, max_far, max_density, max_floors, "
    "decision_no, decision_date, legal_area_m2, published, internal_notes, geom, created_at, updated_at, "
    "version, investor_interest_id"
)


def _move(partitioned: bool) -> None:
    """Rebuild `parcels` (partitioned or not) from its current contents."""
    op.execute(f"""
        ALTER TABLE interests DROP CONSTRAINT fk_interests_parcel_id_parcels;
        ALTER TABLE parcels RENAME TO parcels_old;
        ALTER TABLE parcels_old DROP CONSTRAINT pk_parcels;
        ALTER TABLE parcels_old DROP CONSTRAINT uq_parcels_code{"" if partitioned else "_province"};
        ALTER TABLE parcels_old DROP CONSTRAINT fk_parcels_investor_interest_id_interests;
        DROP INDEX ix_parcels_geom, ix_parcels_pos, ix_parcels_status, ix_parcels_admin_unit_code;
        CREATE TABLE parcels (LIKE parcels_old INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS
                              INCLUDING STORAGE){" PARTITION BY LIST (province_code)" if partitioned else ""};
        ALTER TABLE parcels ADD CONSTRAINT pk_parcels PRIMARY KEY {"(id, province_code)" if partitioned else "(id)"},
            ADD CONSTRAINT {
        "uq_parcels_code_province UNIQUE (province_code, code)" if partitioned else "uq_parcels_code UNIQUE (code)"
    },
            ADD CONSTRAINT fk_parcels_investor_interest_id_interests FOREIGN KEY (investor_interest_id)
                REFERENCES interests (id) ON DELETE SET NULL;
        {INDEXES}
    """)
    if partitioned:
        op.execute("""
            CREATE TABLE parcels_p11 PARTITION OF parcels FOR VALUES IN ('11');
            CREATE TABLE parcels_default PARTITION OF parcels DEFAULT;
        """)
    op.execute(f"""
        INSERT INTO parcels ({COLUMNS}) SELECT {COLUMNS} FROM parcels_old;
        ALTER SEQUENCE parcels_id_seq OWNED BY parcels.id;
        DROP TABLE parcels_old;
        {TRIGGERS}
    """)


def upgrade() -> None:
    _move(partitioned=True)
    op.execute(f"""
        ALTER TABLE interests ADD COLUMN province_code varchar(2);
        UPDATE interests i SET province_code = p.province_code FROM parcels p WHERE p.id = i.parcel_id;
        ALTER TABLE interests ALTER COLUMN province_code SET NOT NULL,
            ADD CONSTRAINT fk_interests_parcel_id_parcels FOREIGN KEY (parcel_id, province_code)
                REFERENCES parcels (id, province_code) ON DELETE CASCADE;

        -- A province of its own: its parcels move out of the default partition into parcels_p<code>.
        CREATE FUNCTION parcels_add_province(province text) RETURNS text LANGUAGE plpgsql AS $$
        DECLARE part text := 'parcels_p' || province;
        BEGIN
            IF province !~ '^[0-9]{{2}}$' THEN
                RAISE EXCEPTION 'a province code is two digits, not %', province USING ERRCODE = 'invalid_parameter_value';
            END IF;
            IF to_regclass(part) IS NOT NULL THEN
                RETURN part;
            END IF;
            EXECUTE format('CREATE TABLE %I (LIKE parcels INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS)',
                           part);
            EXECUTE format('INSERT INTO %I ({COLUMNS}) SELECT {COLUMNS} FROM parcels_default WHERE province_code = %L',
                           part, province);
            -- deleting the old copies would cascade to their interests: keep those aside and put them back
            CREATE TEMP TABLE moving_interests ON COMMIT DROP AS SELECT * FROM interests WHERE province_code = province;
            DELETE FROM parcels_default WHERE province_code = province;
            EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (province_code = %L)', part, part || '_key', province);
            EXECUTE format('ALTER TABLE parcels ATTACH PARTITION %I FOR VALUES IN (%L)', part, province);
            EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', part, part || '_key');
            INSERT INTO interests SELECT * FROM moving_interests;
            DROP TABLE moving_interests;
            RETURN part;
        END $$;
    """)


def downgrade() -> None:
    op.execute("DROP FUNCTION parcels_add_province(text)")
    _move(partitioned=False)
    op.execute("""
        ALTER TABLE interests DROP COLUMN province_code;
        ALTER TABLE interests ADD CONSTRAINT fk_interests_parcel_id_parcels FOREIGN KEY (parcel_id)
            REFERENCES parcels (id) ON DELETE CASCADE;
    """)
