"""The description of each province loaded beside the deployment's own (`landfund province add`): its province.yaml
(name, extent, VN-2000 zone, reform date, 20 % reserve units), so that its parcels' site sheets, certificates'
grid areas and boundary uploads use its own VN-2000 zone rather than the deployment's. The deployment's province
is described by layers/province.yaml and needs no row. A small table with no province_code column: on Citus a
reference table, like the administrative units.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE provinces (
            code varchar(2) PRIMARY KEY CHECK (code ~ '^[0-9]{2}$'),
            description jsonb NOT NULL,
            loaded_at timestamptz NOT NULL DEFAULT now()
        )
    """)


def downgrade() -> None:
    op.execute("DROP TABLE provinces")
