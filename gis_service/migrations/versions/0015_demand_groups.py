"""The former communes with the unit each became, and demand for social housing by the eligible groups of the Housing Law 2023 (art. 76): civil servants, the armed
forces, low-income urban residents, the urban poor, workers, people with revolutionary merit, households whose land
was recovered, ... Each unit and year holds one figure per group (the rows before this revision are `all`), and
coverage compares units with their sum.

former_units: the communes, wards and townships abolished on 1 July 2025 (valid until 30 June 2025), each with
its former district and its successor (the merge table of Resolution 1661/NQ-UBTVQH15), so an old address and
a question "as of" a date before the reform can name them.

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

        CREATE TABLE former_units (
            id serial CONSTRAINT pk_former_units PRIMARY KEY,
            former_code varchar(10) NOT NULL CONSTRAINT uq_former_units_former_code UNIQUE,
            former_name varchar(255) NOT NULL,
            former_type varchar(32),
            former_district_code varchar(10),
            former_district_name varchar(255),
            successor_code varchar(10) NOT NULL,
            successor_name varchar(255),
            valid_to date NOT NULL);
        CREATE INDEX ix_former_units_successor_code ON former_units (successor_code);
    """)


def downgrade() -> None:
    op.execute("""
        DROP TABLE former_units;
        DELETE FROM demand d USING demand o WHERE o.admin_unit_code = d.admin_unit_code AND o.year = d.year
            AND o.id < d.id;
        ALTER TABLE demand DROP CONSTRAINT uq_demand_admin_unit_code_year_eligible_group;
        ALTER TABLE demand ADD CONSTRAINT uq_demand_admin_unit_code_year UNIQUE (admin_unit_code, year);
        ALTER TABLE demand DROP COLUMN eligible_group;
    """)
