"""Each parcel's distances to the nearest road, administrative centre, school and health facility, and the hazard
zones it touches, kept precomputed in parcel_measures, so ranking every open site (and the investor map) reads them
instead of searching the reference layers for each parcel on each request (14 s at a million parcels).

They stay current through triggers, with the same expressions as nearest_references_m() and intersecting_hazards()
(migration 0011), so a ranking from the table equals one computed live:

- a parcel inserted is measured; one whose geometry changes is measured again; one deleted loses its row;
- a reference feature inserted, changed or deleted re-measures, for its role only, the parcels it may be nearest
  to: those within the largest distance any parcel has to that role (a parcel farther away has a nearer feature
  of that role already). Hazard zones re-measure the parcels they touch, before or after.

The key is (parcel_id, province_code), as every key of a province's tables (migration 0016).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from alembic import op

from gis_service.migrations import revision_module

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_m0011 = revision_module("0011_reference_roles.py")
TARGETS: dict[str, str] = _m0011.TARGETS  # column -> the reference features it measures to (by role)
ROLES = {column: where.split("'")[1] for column, where in TARGETS.items()}  # road_m -> road, town_m -> facility:…
COLUMNS = ", ".join(TARGETS)


def _nearest(column: str, g: str) -> str:
    """nearest_references_m()'s expression for one column, for geometry `g`."""
    return (
        f"(SELECT ST_Distance(r.geom::geography, ({g})::geography) FROM reference_features r "
        f"WHERE {TARGETS[column]} ORDER BY r.geom <-> ({g}) LIMIT 1)"
    )


# parcel p lies within `reach` metres of changed feature c (see _per_role)
NEAR = (
    "ST_DWithin(p.geom, c.geom, reach / (110000.0 * cos(radians(least(80.0, "
    "greatest(abs(ST_YMin(c.geom)), abs(ST_YMax(c.geom))) + reach / 110000.0)))))"
)


def _per_role() -> str:
    """The body that re-measures, role by role, the parcels a change of reference features (`roles`, `geoms`: each
    feature before and after) may touch. A parcel is re-measured when it lies within `reach` (the largest distance
    any parcel has to that role) of a changed feature: in degrees, reach / (110 km × cos of the highest latitude
    within reach), never less than the planar distance of a point that near on the ellipsoid."""
    near = NEAR
    parts = []
    for column, role in ROLES.items():
        parts.append(f"""
            IF '{role}' = ANY(roles) THEN
                SELECT max({column}) INTO reach FROM parcel_measures;
                UPDATE parcel_measures m SET {column} = {_nearest(column, "p.geom")}, measured_at = now()
                FROM parcels p
                WHERE p.id = m.parcel_id AND p.province_code = m.province_code
                  AND (reach IS NULL OR EXISTS (SELECT 1 FROM unnest(roles, geoms) AS c(role, geom)
                                                WHERE c.role = '{role}' AND {near}));
            END IF;""")
    parts.append("""
            IF 'hazard' = ANY(roles) THEN
                UPDATE parcel_measures m SET hazards = intersecting_hazards(p.geom), measured_at = now()
                FROM parcels p
                WHERE p.id = m.parcel_id AND p.province_code = m.province_code
                  AND EXISTS (SELECT 1 FROM unnest(roles, geoms) AS c(role, geom)
                              WHERE c.role = 'hazard' AND ST_Intersects(c.geom, p.geom));
            END IF;""")
    return "".join(parts)


def _remeasure_from(op: str, rows: str) -> str:
    """The trigger function that re-measures what the reference features in transition table `rows` may touch."""
    return f"""
        CREATE FUNCTION parcel_measures_references_{op}() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE roles text[]; geoms geometry[];
        BEGIN
            SELECT array_agg(role), array_agg(geom) INTO roles, geoms FROM {rows} WHERE role IS NOT NULL;
            IF roles IS NOT NULL THEN
                PERFORM parcel_measures_remeasure(roles, geoms);
            END IF;
            RETURN NULL;
        END $$;"""


def _measure(source: str) -> str:
    """Measure (insert or re-measure) the parcels of `source`, a FROM item aliased p with id, province_code, geom."""
    measured = ", ".join(f"n.{c}" for c in TARGETS)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in TARGETS)
    return f"""
        INSERT INTO parcel_measures (parcel_id, province_code, {COLUMNS}, hazards)
        SELECT p.id, p.province_code, {measured}, intersecting_hazards(p.geom)
        FROM {source} CROSS JOIN LATERAL nearest_references_m(p.geom) n
        ON CONFLICT (parcel_id, province_code) DO UPDATE SET {updates}, hazards = EXCLUDED.hazards, measured_at = now()"""


def upgrade() -> None:
    op.execute(f"""
        CREATE TABLE parcel_measures (
            parcel_id bigint NOT NULL,
            province_code varchar(2) NOT NULL,
            {", ".join(f"{c} double precision" for c in TARGETS)},
            hazards jsonb,
            measured_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_parcel_measures PRIMARY KEY (parcel_id, province_code)
        );

        CREATE FUNCTION parcel_measures_of(ids bigint[]) RETURNS void LANGUAGE sql AS $$
            {_measure("(SELECT * FROM parcels WHERE id = ANY(ids)) p")} $$;

        CREATE FUNCTION parcel_measures_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {_measure("new_rows p")};
            RETURN NULL;
        END $$;
        CREATE FUNCTION parcel_measures_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {
        _measure(
            "(SELECT n.* FROM old_rows o JOIN new_rows n ON n.id = o.id AND n.province_code = o.province_code "
            "WHERE ST_AsEWKB(o.geom) <> ST_AsEWKB(n.geom)) p"
        )
    };
            RETURN NULL;
        END $$;
        CREATE FUNCTION parcel_measures_delete() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM parcel_measures m USING old_rows o
            WHERE m.parcel_id = o.id AND m.province_code = o.province_code;
            RETURN NULL;
        END $$;
        CREATE TRIGGER parcel_measures_insert AFTER INSERT ON parcels REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION parcel_measures_insert();
        CREATE TRIGGER parcel_measures_update AFTER UPDATE ON parcels REFERENCING OLD TABLE AS old_rows
            NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION parcel_measures_update();
        CREATE TRIGGER parcel_measures_delete AFTER DELETE ON parcels REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION parcel_measures_delete();

        -- the row-level twin `landfund db distribute` puts in place of the three above on Citus
        CREATE FUNCTION parcel_measures_row() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                DELETE FROM parcel_measures WHERE parcel_id = OLD.id AND province_code = OLD.province_code;
            ELSIF TG_OP = 'INSERT' OR ST_AsEWKB(OLD.geom) <> ST_AsEWKB(NEW.geom) THEN
                PERFORM parcel_measures_of(ARRAY[NEW.id]);
            END IF;
            RETURN NULL;
        END $$;

        CREATE FUNCTION parcel_measures_remeasure(roles text[], geoms geometry[]) RETURNS void LANGUAGE plpgsql AS $$
        DECLARE reach double precision;
        BEGIN {_per_role()}
        END $$;
        {_remeasure_from("insert", "new_rows")}
        CREATE FUNCTION parcel_measures_references_update() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE roles text[]; geoms geometry[];
        BEGIN
            -- each feature that moved or changed role, as it was and as it is
            SELECT array_agg(x.role), array_agg(x.geom) INTO roles, geoms FROM (
                SELECT o.role, o.geom, n.role AS new_role, n.geom AS new_geom
                FROM old_rows o JOIN new_rows n ON n.id = o.id
                WHERE o.role IS DISTINCT FROM n.role OR ST_AsEWKB(o.geom) <> ST_AsEWKB(n.geom)) d
            CROSS JOIN LATERAL (VALUES (d.role, d.geom), (d.new_role, d.new_geom)) AS x(role, geom)
            WHERE x.role IS NOT NULL;
            IF roles IS NOT NULL THEN
                PERFORM parcel_measures_remeasure(roles, geoms);
            END IF;
            RETURN NULL;
        END $$;
        {_remeasure_from("delete", "old_rows")}
        CREATE TRIGGER parcel_measures_references_insert AFTER INSERT ON reference_features
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION parcel_measures_references_insert();
        CREATE TRIGGER parcel_measures_references_update AFTER UPDATE ON reference_features
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION parcel_measures_references_update();
        CREATE TRIGGER parcel_measures_references_delete AFTER DELETE ON reference_features
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION parcel_measures_references_delete();

        {_measure("parcels p")};
    """)


def downgrade() -> None:
    op.execute("""
        DROP TRIGGER parcel_measures_references_insert ON reference_features;
        DROP TRIGGER parcel_measures_references_update ON reference_features;
        DROP TRIGGER parcel_measures_references_delete ON reference_features;
        DROP TRIGGER parcel_measures_insert ON parcels;
        DROP TRIGGER parcel_measures_update ON parcels;
        DROP TRIGGER parcel_measures_delete ON parcels;
        DROP FUNCTION parcel_measures_references_insert(), parcel_measures_references_update(),
            parcel_measures_references_delete(), parcel_measures_remeasure(text[], geometry[]), parcel_measures_insert(),
            parcel_measures_update(), parcel_measures_delete(), parcel_measures_row(), parcel_measures_of(bigint[]);
        DROP TABLE parcel_measures;
    """)
