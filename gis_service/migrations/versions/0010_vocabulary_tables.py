"""The parcel statuses as a table the lifecycle's vocabulary fills (layers/workflow.yaml, synced by
`landfund db upgrade`), instead of a CHECK constraint that repeated the list.

Parcels refer to their status by a foreign key, so a status can only be removed from the workflow once no
parcel holds it; the transitions the trigger checks were already a table (status_transitions).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The statuses in use at this revision (seed rows, so the foreign key can be created; the sync keeps them current).
SEED = ("proposed", "approved", "open_for_investment", "assigned", "under_construction", "completed", "withdrawn")


def upgrade() -> None:
    values = ", ".join(f"('{s}', {i})" for i, s in enumerate(SEED))
    op.execute(f"""
        CREATE TABLE statuses (id varchar(32) PRIMARY KEY, position integer NOT NULL);
        INSERT INTO statuses (id, position) VALUES {values};
        ALTER TABLE parcels DROP CONSTRAINT IF EXISTS ck_parcels_ck_parcels_status,
            DROP CONSTRAINT IF EXISTS ck_parcels_status;  -- (0001's name, doubled by the naming convention)
        ALTER TABLE parcels ADD CONSTRAINT fk_parcels_status_statuses FOREIGN KEY (status) REFERENCES statuses (id)
            ON UPDATE CASCADE;
    """)


def downgrade() -> None:
    checks = ", ".join(f"'{s}'" for s in SEED)
    op.execute(f"""
        ALTER TABLE parcels DROP CONSTRAINT fk_parcels_status_statuses;
        ALTER TABLE parcels ADD CONSTRAINT ck_parcels_ck_parcels_status CHECK (status IN ({checks}));
        DROP TABLE statuses;
    """)
