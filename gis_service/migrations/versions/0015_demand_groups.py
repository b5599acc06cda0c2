"""Demand for social housing by the eligible groups of the Housing Law 2023 (art. 76): civil servants, the armed
forces, low-income urban residents, the urban poor, workers, people with revolutionary merit, households whose land
was recovered, ... Each unit and year holds one figure per group (the rows before this revision are `all`), and
coverage compares units with their sum.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        ALTER TABLE demand ADD COLUMN eligible_group varchar(32) NOT NULL DEFAULT 'all';
        ALTER TABLE demand DROP CONSTRAINT uq_demand_admin_unit_code_year;
        ALTER TABLE demand ADD CONSTRAINT uq_demand_admin_unit_code_year_eligible_group
            UNIQUE (admin_unit_code, year, eligible_group);
    """)


def downgrade() -> None:
    op.execute("""
        DELETE FROM demand d USING demand o WHERE o.admin_unit_code = d.admin_unit_code AND o.year = d.year
            AND o.id < d.id;
        ALTER TABLE demand DROP CONSTRAINT uq_demand_admin_unit_code_year_eligible_group;
        ALTER TABLE demand ADD CONSTRAINT uq_demand_admin_unit_code_year UNIQUE (admin_unit_code, year);
        ALTER TABLE demand DROP COLUMN eligible_group;
    """)
