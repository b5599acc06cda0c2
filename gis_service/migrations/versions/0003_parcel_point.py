"""A stored point inside each parcel (for unit attribution, scopes and analytics), indexed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A parcel belongs to the unit that holds this point: each parcel is in exactly one unit of a level.
    op.execute(
        "ALTER TABLE parcels ADD COLUMN pos geometry(Point, 4326) GENERATED ALWAYS AS (ST_PointOnSurface(geom)) STORED"
    )
    op.execute("CREATE INDEX ix_parcels_pos ON parcels USING gist (pos)")
    # Suitability looks for the nearest road and facility of each parcel: KNN on small partial indexes.
    op.execute("CREATE INDEX ix_reference_features_roads ON reference_features USING gist (geom) WHERE layer = 'roads'")
    op.execute(
        "CREATE INDEX ix_reference_features_facilities ON reference_features USING gist (geom) "
        "WHERE layer = 'facilities'"
    )
    op.execute(
        "CREATE INDEX ix_reference_features_hazards ON reference_features USING gist (geom) "
        "WHERE layer = 'hazard_zones'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_reference_features_hazards")
    op.execute("DROP INDEX ix_reference_features_facilities")
    op.execute("DROP INDEX ix_reference_features_roads")
    op.execute("DROP INDEX ix_parcels_pos")
    op.execute("ALTER TABLE parcels DROP COLUMN pos")
