"""Measure only the parcels a ranking can rank: those in the workflow's call for investors (statuses.ranked, synced
from layers/workflow.yaml `roles.call` by `landfund db upgrade`). Measuring every parcel made an import of 100,000
parcels five times slower (0.4 ms a parcel) for parcels no ranking reads; a parcel is now measured when it enters
the call (or moves while in it) and loses its row when it leaves, and a reference feature re-measures only the
parcels measured.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from alembic import op

from gis_service.migrations import revision_module

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_m0017 = revision_module("0017_parcel_measures.py")
RANKED = "p.status IN (SELECT s.id FROM statuses s WHERE s.ranked)"


def upgrade() -> None:
    measure = _m0017._measure
    op.execute(f"""
        ALTER TABLE statuses ADD COLUMN ranked boolean NOT NULL DEFAULT false;

        -- the parcels that should be measured are, and no other: after the ranked statuses change
        CREATE FUNCTION parcel_measures_sync() RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM parcel_measures m USING parcels p
            WHERE p.id = m.parcel_id AND p.province_code = m.province_code AND NOT ({RANKED});
            {
        measure(
            f"(SELECT * FROM parcels p WHERE {RANKED} AND NOT EXISTS (SELECT 1 FROM parcel_measures m "
            "WHERE m.parcel_id = p.id AND m.province_code = p.province_code)) p"
        )
    };
        END $$;

        CREATE OR REPLACE FUNCTION parcel_measures_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {measure(f"(SELECT * FROM new_rows p WHERE {RANKED}) p")};
            RETURN NULL;
        END $$;
        CREATE OR REPLACE FUNCTION parcel_measures_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM parcel_measures m USING old_rows o, new_rows p
            WHERE p.id = o.id AND p.province_code = o.province_code AND m.parcel_id = p.id
              AND m.province_code = p.province_code AND NOT ({RANKED});
            {
        measure(
            f"(SELECT p.* FROM old_rows o JOIN new_rows p ON p.id = o.id AND p.province_code = o.province_code "
            f"WHERE {RANKED} AND (ST_AsEWKB(o.geom) <> ST_AsEWKB(p.geom) "
            "OR o.status IS DISTINCT FROM p.status)) p"
        )
    };
            RETURN NULL;
        END $$;
        CREATE OR REPLACE FUNCTION parcel_measures_row() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                DELETE FROM parcel_measures WHERE parcel_id = OLD.id AND province_code = OLD.province_code;
            ELSIF NOT EXISTS (SELECT 1 FROM statuses s WHERE s.ranked AND s.id = NEW.status) THEN
                DELETE FROM parcel_measures WHERE parcel_id = NEW.id AND province_code = NEW.province_code;
            ELSIF TG_OP = 'INSERT' THEN
                PERFORM parcel_measures_of(ARRAY[NEW.id]);
            ELSIF ST_AsEWKB(OLD.geom) <> ST_AsEWKB(NEW.geom) OR OLD.status IS DISTINCT FROM NEW.status THEN
                PERFORM parcel_measures_of(ARRAY[NEW.id]);
            END IF;
            RETURN NULL;
        END $$;
    """)


def downgrade() -> None:
    measure = _m0017._measure
    op.execute(f"""
        DROP FUNCTION parcel_measures_sync();
        ALTER TABLE statuses DROP COLUMN ranked;
        CREATE OR REPLACE FUNCTION parcel_measures_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {measure("new_rows p")};
            RETURN NULL;
        END $$;
        CREATE OR REPLACE FUNCTION parcel_measures_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {
        measure(
            "(SELECT n.* FROM old_rows o JOIN new_rows n ON n.id = o.id AND n.province_code = o.province_code "
            "WHERE ST_AsEWKB(o.geom) <> ST_AsEWKB(n.geom)) p"
        )
    };
            RETURN NULL;
        END $$;
        {measure("parcels p")};
    """)
