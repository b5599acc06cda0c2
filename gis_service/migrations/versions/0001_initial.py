"""Initial schema: PostGIS, administrative units, the land fund, reference layers, demand and programmes.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _in(col, values):
    return f"{col} IN ({', '.join(repr(v) for v in values)})"


# PostGIS 3.3 ships no EPSG:9205 (VN-2000 / TM-3 103-00, the cadastral CRS of Điện Biên and Lai Châu).
# PROJ's +towgs84 uses the Position Vector convention, so the rotations of EPSG:6960 (Coordinate Frame)
# flip sign here. Tests check it against the province's check point.
VN2000_TOWGS84 = "-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278"
EPSG_9205_PROJ4 = (
    "+proj=tmerc +lat_0=0 +lon_0=103 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 "
    f"+towgs84={VN2000_TOWGS84} +units=m +no_defs"
)
EPSG_9205_WKT = (
    'PROJCS["VN-2000 / TM-3 103-00",GEOGCS["VN-2000",DATUM["Vietnam_2000",SPHEROID["WGS 84",6378137,'
    f'298.257223563,AUTHORITY["EPSG","7030"]],TOWGS84[{VN2000_TOWGS84}],AUTHORITY["EPSG","6756"]],'
    'PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AUTHORITY["EPSG","4756"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],'
    'PARAMETER["central_meridian",103],PARAMETER["scale_factor",0.9999],PARAMETER["false_easting",500000],'
    'PARAMETER["false_northing",0],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],'
    'AXIS["Northing",NORTH],AUTHORITY["EPSG","9205"]]'
)


def upgrade() -> None:
    bind = op.get_bind()
    if not bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")).first():
        op.execute("CREATE EXTENSION postgis")  # a superuser's job; landfund's bootstrap has usually done it
    if not bind.execute(sa.text("SELECT 1 FROM spatial_ref_sys WHERE srid = 9205")).first():
        op.execute(
            sa.text(
                "INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text) "
                "VALUES (9205, 'EPSG', 9205, :wkt, :proj4) ON CONFLICT (srid) DO NOTHING"
            ).bindparams(wkt=EPSG_9205_WKT, proj4=EPSG_9205_PROJ4)
        )

    op.create_table(
        "admin_units",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(10), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("unit_type", sa.String(64)),
        sa.Column("parent_code", sa.String(10)),
        sa.Column("valid_from", sa.Date, nullable=False, server_default="1900-01-01"),
        sa.Column("valid_to", sa.Date),
        sa.Column("official_area_km2", sa.Float),
        sa.Column("population", sa.Integer),
        sa.Column("population_year", sa.Integer),
        sa.Column("boundary_note", sa.String(500)),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
        sa.UniqueConstraint("code", "valid_from", name="uq_admin_units_code_valid_from"),
        sa.CheckConstraint("level IN ('province', 'district', 'commune')", name="ck_admin_units_level"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="ck_admin_units_validity"),
    )
    op.create_index("ix_admin_units_geom", "admin_units", ["geom"], postgresql_using="gist")
    op.create_index("ix_admin_units_level_code", "admin_units", ["level", "code"])

    statuses = (
        "proposed",
        "approved",
        "open_for_investment",
        "assigned",
        "under_construction",
        "completed",
        "withdrawn",
    )
    op.create_table(
        "parcels",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255)),
        sa.Column("province_code", sa.String(2), nullable=False, server_default="11"),
        sa.Column("admin_unit_code", sa.String(10)),
        sa.Column("map_sheet_no", sa.String(32)),
        sa.Column("parcel_no", sa.String(32)),
        sa.Column("land_use_code", sa.String(8)),
        sa.Column("status", sa.String(32), nullable=False, server_default="proposed"),
        sa.Column("fund_source", sa.String(32), nullable=False, server_default="standalone_site"),
        sa.Column("responsible_level", sa.String(16)),
        sa.Column("responsible_agency", sa.String(255)),
        sa.Column("clearance_status", sa.String(16), nullable=False, server_default="not_started"),
        sa.Column("max_far", sa.Float),
        sa.Column("max_density", sa.Float),
        sa.Column("max_floors", sa.Integer),
        sa.Column("decision_no", sa.String(64)),
        sa.Column("decision_date", sa.Date),
        sa.Column("legal_area_m2", sa.Float),
        sa.Column("published", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("internal_notes", sa.Text),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
        sa.Column("area_m2", sa.Float, sa.Computed("ST_Area(geom::geography)", persisted=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.UniqueConstraint("code", name="uq_parcels_code"),
        sa.CheckConstraint("code <> ''", name="ck_parcels_code_not_empty"),
        sa.CheckConstraint(_in("status", statuses), name="ck_parcels_status"),
        sa.CheckConstraint(
            _in("fund_source", ("standalone_site", "commercial_reserve", "public_land")), name="ck_parcels_fund_source"
        ),
        sa.CheckConstraint(
            _in("responsible_level", ("province", "district", "commune")), name="ck_parcels_responsible_level"
        ),
        sa.CheckConstraint(
            _in("clearance_status", ("not_started", "in_progress", "cleared")), name="ck_parcels_clearance_status"
        ),
        sa.CheckConstraint("max_far IS NULL OR max_far > 0", name="ck_parcels_max_far"),
        sa.CheckConstraint(
            "max_density IS NULL OR (max_density > 0 AND max_density <= 100)", name="ck_parcels_max_density"
        ),
        sa.CheckConstraint("max_floors IS NULL OR max_floors >= 1", name="ck_parcels_max_floors"),
        sa.CheckConstraint("legal_area_m2 IS NULL OR legal_area_m2 > 0", name="ck_parcels_legal_area"),
        sa.CheckConstraint("NOT ST_IsEmpty(geom) AND ST_IsValid(geom)", name="ck_parcels_geom_valid"),
    )
    op.create_index("ix_parcels_geom", "parcels", ["geom"], postgresql_using="gist")
    op.create_index("ix_parcels_status", "parcels", ["status"])
    op.create_index("ix_parcels_admin_unit_code", "parcels", ["admin_unit_code"])
    # Bookkeeping: every UPDATE bumps the version counter and the timestamp.
    op.execute(
        """
        CREATE FUNCTION parcels_touch() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.version := OLD.version + 1;
            NEW.updated_at := now();
            NEW.created_at := OLD.created_at;
            RETURN NEW;
        END $$;
        CREATE TRIGGER parcels_touch BEFORE UPDATE ON parcels FOR EACH ROW EXECUTE FUNCTION parcels_touch();
        """
    )

    op.create_table(
        "reference_features",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("layer", sa.String(64), nullable=False),
        sa.Column("properties", JSONB, nullable=False, server_default="{}"),
        sa.Column("geom", Geometry("GEOMETRY", srid=4326, spatial_index=False), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_reference_features_geom", "reference_features", ["geom"], postgresql_using="gist")
    op.create_index("ix_reference_features_layer", "reference_features", ["layer"])

    op.create_table(
        "demand",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("admin_unit_code", sa.String(10), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("households", sa.Integer, nullable=False),
        sa.Column("note", sa.Text),
        sa.UniqueConstraint("admin_unit_code", "year", name="uq_demand_admin_unit_code_year"),
        sa.CheckConstraint("households >= 0", name="ck_demand_households"),
    )
    op.create_table(
        "programmes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("admin_unit_code", sa.String(10), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("period_start", sa.Integer),
        sa.Column("programme", sa.String(255), nullable=False),
        sa.Column("households", sa.Integer, nullable=False),
        sa.Column("households_new", sa.Integer),
        sa.Column("households_repaired", sa.Integer),
        sa.Column("funding_vnd", sa.BigInteger),
        sa.Column("note", sa.Text),
        sa.UniqueConstraint(
            "admin_unit_code", "year", "programme", name="uq_programmes_admin_unit_code_year_programme"
        ),
        sa.CheckConstraint("households >= 0 AND funding_vnd >= 0", name="ck_programmes_non_negative"),
        sa.CheckConstraint("period_start IS NULL OR period_start <= year", name="ck_programmes_period"),
    )


def downgrade() -> None:
    for table in ("programmes", "demand", "reference_features", "parcels", "admin_units"):
        op.drop_table(table)
    op.execute("DROP FUNCTION IF EXISTS parcels_touch()")
    op.execute("DELETE FROM spatial_ref_sys WHERE srid = 9205 AND proj4text LIKE '%towgs84=-191.9%'")
