"""Suitability's per-parcel look-ups (nearest road and facilities, hazards) become PARALLEL SAFE functions.

The ranking used one LATERAL (… ORDER BY geom <-> p.geom LIMIT 1) per criterion and a LATERAL aggregate
over the hazard zones. PostgreSQL 15 runs neither in a parallel worker (a subquery with LIMIT never;
the lateral aggregate's outer parameters not), so ranking 100,000 parcels used one core. The same KNN
searches inside one SQL function (planned once per query, each search on its partial GiST index, the
parcel cast to geography once for all four) can.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

KINDS = ("admin_centre", "school", "health")  # as in revision 0004
TARGETS = {"road_m": "r.layer = 'roads'"} | {
    f"{'town' if kind == 'admin_centre' else kind}_m": f"r.layer = 'facilities' AND (r.properties ->> 'kind') = '{kind}'"
    for kind in KINDS
}


def upgrade() -> None:
    # KNN on the planar index (degrees) finds the nearest feature; its geodesic distance (m) is returned.
    nearest = ",\n".join(
        f"(SELECT ST_Distance(r.geom::geography, x.gg) FROM reference_features r "
        f"WHERE {where} ORDER BY r.geom <-> g LIMIT 1)"
        for where in TARGETS.values()
    )
    outs = ", ".join(f"OUT {out} double precision" for out in TARGETS)
    op.execute(f"""
        CREATE FUNCTION nearest_references_m(g geometry, {outs})
        LANGUAGE sql STABLE STRICT PARALLEL SAFE COST 20000 AS $$
            SELECT {nearest}
            FROM (SELECT g::geography AS gg) x $$;
        COMMENT ON FUNCTION nearest_references_m(geometry) IS
            'Geodesic distances (m) from g to the nearest road, administrative centre, school and health facility';

        CREATE FUNCTION intersecting_hazards(g geometry) RETURNS jsonb
        LANGUAGE sql STABLE STRICT PARALLEL SAFE COST 1000 AS $$
            SELECT jsonb_agg(jsonb_build_object('hazard', h.properties ->> 'hazard',
                                                'severity', h.properties ->> 'severity',
                                                'name', h.properties ->> 'name') ORDER BY h.id)
            FROM reference_features h WHERE h.layer = 'hazard_zones' AND ST_Intersects(h.geom, g) $$;
        COMMENT ON FUNCTION intersecting_hazards(geometry) IS
            'The hazard zones g intersects, as a JSON array of {{hazard, severity, name}} (NULL if none)';
    """)


def downgrade() -> None:
    op.execute("DROP FUNCTION intersecting_hazards(geometry)")
    op.execute("DROP FUNCTION nearest_references_m(geometry)")
