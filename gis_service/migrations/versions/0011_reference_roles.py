"""A reference feature carries its layer's role (road, hazard, facility:<kind>), so the suitability ranking and the
site sheet find roads, hazards and facilities by what the catalogue says a layer is, not by its id: a new hazard
layer counts as a hazard as soon as it is imported.

The role comes from the catalogue (`role:` and `role_by:` in layers/catalogue/*.yaml); imports write it and
`landfund db upgrade` brings stored rows up to date after a catalogue change. The backfill below names the
layers the catalogue shipped at this revision.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

KINDS = ("admin_centre", "school", "health")  # the facilities the suitability ranking measures
TARGETS = {"road_m": "r.role = 'road'"} | {
    f"{'town' if kind == 'admin_centre' else kind}_m": f"r.role = 'facility:{kind}'" for kind in KINDS
}


def _functions(targets: dict, hazard: str) -> str:
    nearest = ",\n".join(
        f"(SELECT ST_Distance(r.geom::geography, x.gg) FROM reference_features r "
        f"WHERE {where} ORDER BY r.geom <-> g LIMIT 1)"
        for where in targets.values()
    )
    outs = ", ".join(f"OUT {out} double precision" for out in targets)
    return f"""
        CREATE OR REPLACE FUNCTION nearest_references_m(g geometry, {outs})
        LANGUAGE sql STABLE STRICT PARALLEL SAFE COST 20000 AS $$
            SELECT {nearest}
            FROM (SELECT g::geography AS gg) x $$;
        CREATE OR REPLACE FUNCTION intersecting_hazards(g geometry) RETURNS jsonb
        LANGUAGE sql STABLE STRICT PARALLEL SAFE COST 1000 AS $$
            SELECT jsonb_agg(jsonb_build_object('hazard', h.properties ->> 'hazard',
                                                'severity', h.properties ->> 'severity',
                                                'name', h.properties ->> 'name') ORDER BY h.id)
            FROM reference_features h WHERE {hazard} AND ST_Intersects(h.geom, g) $$;
    """


def upgrade() -> None:
    indexes = "\n".join(
        f"CREATE INDEX ix_reference_features_role_{k} ON reference_features USING gist (geom) "
        f"WHERE role = 'facility:{k}';"
        for k in KINDS
    )
    op.execute(f"""
        ALTER TABLE reference_features ADD COLUMN role varchar(64);
        UPDATE reference_features SET role = CASE layer WHEN 'roads' THEN 'road' WHEN 'hazard_zones' THEN 'hazard'
            WHEN 'facilities' THEN 'facility:' || (properties ->> 'kind') END;
        DROP INDEX ix_reference_features_roads, ix_reference_features_facilities, ix_reference_features_hazards,
                   ix_reference_features_admin_centre, ix_reference_features_school, ix_reference_features_health;
        CREATE INDEX ix_reference_features_role ON reference_features (role);
        CREATE INDEX ix_reference_features_role_road ON reference_features USING gist (geom) WHERE role = 'road';
        CREATE INDEX ix_reference_features_role_hazard ON reference_features USING gist (geom) WHERE role = 'hazard';
        {indexes}
    """)
    op.execute(_functions(TARGETS, "h.role = 'hazard'"))


def downgrade() -> None:
    old = {"road_m": "r.layer = 'roads'"} | {
        f"{'town' if k == 'admin_centre' else k}_m": f"r.layer = 'facilities' AND (r.properties ->> 'kind') = '{k}'"
        for k in KINDS
    }
    op.execute(_functions(old, "h.layer = 'hazard_zones'"))
    indexes = "\n".join(
        f"CREATE INDEX ix_reference_features_{k} ON reference_features USING gist (geom) "
        f"WHERE layer = 'facilities' AND (properties ->> 'kind') = '{k}';"
        for k in KINDS
    )
    op.execute(f"""
        DROP INDEX ix_reference_features_role, ix_reference_features_role_road, ix_reference_features_role_hazard,
                   {", ".join(f"ix_reference_features_role_{k}" for k in KINDS)};
        CREATE INDEX ix_reference_features_roads ON reference_features USING gist (geom) WHERE layer = 'roads';
        CREATE INDEX ix_reference_features_facilities ON reference_features USING gist (geom) WHERE layer = 'facilities';
        CREATE INDEX ix_reference_features_hazards ON reference_features USING gist (geom) WHERE layer = 'hazard_zones';
        {indexes}
        ALTER TABLE reference_features DROP COLUMN role;
    """)
