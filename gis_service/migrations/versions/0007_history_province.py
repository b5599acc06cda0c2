"""History records carry their parcel's province code, so history can live beside its parcels when the
tables are distributed by province (Citus co-locates rows by that key) and be read per province.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

import importlib

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_0006 = importlib.import_module("gis_service.migrations.versions.0006_faster_history")


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
    op.execute(_0006.history_functions(province=True))


def downgrade() -> None:
    op.execute(_0006.history_functions(province=False))
    op.execute("ALTER TABLE parcel_history DROP COLUMN province_code")
