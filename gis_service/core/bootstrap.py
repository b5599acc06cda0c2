"""What only a database superuser may do, once per database: the PostGIS extension, the VN-2000 TM-3 zones that
PostGIS 3.3 lacks in spatial_ref_sys, the two roles landfund uses, and who owns what.

- the **owner** role (`landfund_owner`) owns the database and every table; migrations and operator commands
  (`landfund db upgrade`, `landfund demo`) run as it;
- the **application** role (`landfund_app`) serves the API and the everyday commands; it owns nothing, so it
  cannot alter tables or switch triggers off, and it may only read and append to history (`grant_app`).

The embedded cluster runs all of this itself. With DATABASE_URL, a DBA runs `landfund db bootstrap --print`'s
SQL once (README, "Least privilege")."""

from __future__ import annotations

from psycopg import sql

OWNER = "landfund_owner"
APP = "landfund_app"

# VN-2000 to WGS 84, EPSG:6960 (Coordinate Frame); PROJ's +towgs84 uses the Position Vector convention, so the
# rotations flip sign. Tests check each zone against pyproj's EPSG definition.
VN2000_TOWGS84 = "-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278"
# VN-2000 / TM-3 zones (Circular 973/2001/TT-TCĐC: each province's central meridian), by EPSG code.
TM3_ZONES: dict[int, tuple[float, str]] = {
    9205: (103.0, "103-00"),
    9206: (104.0, "104-00"),
    9207: (104.5, "104-30"),
    9208: (104.75, "104-45"),
    9209: (105.5, "105-30"),
    9210: (105.75, "105-45"),
    9211: (106.0, "106-00"),
    9212: (106.25, "106-15"),
    9213: (106.5, "106-30"),
    9214: (107.0, "107-00"),
    9215: (107.25, "107-15"),
    9216: (107.5, "107-30"),
    9217: (108.25, "108-15"),
    9218: (108.5, "108-30"),
}


def tm3_proj4(lon0: float) -> str:
    return (
        f"+proj=tmerc +lat_0=0 +lon_0={lon0:g} +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 "
        f"+towgs84={VN2000_TOWGS84} +units=m +no_defs"
    )


def tm3_wkt(code: int, lon0: float, name: str) -> str:
    return (
        f'PROJCS["VN-2000 / TM-3 {name}",GEOGCS["VN-2000",DATUM["Vietnam_2000",SPHEROID["WGS 84",6378137,'
        f'298.257223563,AUTHORITY["EPSG","7030"]],TOWGS84[{VN2000_TOWGS84}],AUTHORITY["EPSG","6756"]],'
        'PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
        'AUTHORITY["EPSG","4756"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],'
        f'PARAMETER["central_meridian",{lon0:g}],PARAMETER["scale_factor",0.9999],PARAMETER["false_easting",500000],'
        'PARAMETER["false_northing",0],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],'
        f'AXIS["Northing",NORTH],AUTHORITY["EPSG","{code}"]]'
    )


def database_statements(owner: str = OWNER) -> list[tuple[str, tuple]]:
    """The superuser's statements inside landfund's database: extension, spatial reference systems, ownership of
    the public schema."""
    out: list[tuple[str, tuple]] = [("CREATE EXTENSION IF NOT EXISTS postgis", ())]
    for code, (lon0, name) in TM3_ZONES.items():
        out.append(
            (
                "INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text) "
                "VALUES (%s, 'EPSG', %s, %s, %s) ON CONFLICT (srid) DO NOTHING",
                (code, code, tm3_wkt(code, lon0, name), tm3_proj4(lon0)),
            )
        )
    out.append((f'ALTER SCHEMA public OWNER TO "{owner}"', ()))
    return out


def ensure_roles(conn, owner: str = OWNER, app: str = APP, passwords: dict[str, str] | None = None) -> None:
    """Create the owner and application roles (as a superuser connection, autocommit); set their TCP passwords."""
    for role in (owner, app):
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone() is None:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION").format(
                    sql.Identifier(role)
                )
            )
        if passwords and role in passwords:
            conn.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), sql.Literal(passwords[role]))
            )


def bootstrap_database(conn, owner: str = OWNER) -> None:
    """Inside the database (a superuser connection): extension, SRS rows, and every object of the public schema
    owned by `owner` (databases restored or created before the roles existed belong to the superuser)."""
    for statement, params in database_statements(owner):
        conn.execute(statement, params)
    take_ownership(conn, owner)


# Every table, view, sequence and function of the public schema that no extension owns goes to `owner`.
_OWNERSHIP = """
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.oid, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
             AND pg_get_userbyid(c.relowner) <> {owner_lit}
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
             AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
  LOOP
    EXECUTE format('ALTER %s %I OWNER TO %I', CASE r.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                   WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, r.relname, {owner_lit});
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS sig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> {owner_lit}
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO %I', r.sig, {owner_lit});
  END LOOP;
END $$
"""


def take_ownership(conn, owner: str = OWNER) -> None:
    conn.execute(sql.SQL(_OWNERSHIP).format(owner_lit=sql.Literal(owner)))


# Run by the owner after every upgrade: the application role may read everything, write the land fund, and only
# append to history; it never owns, alters, truncates or rewrites anything.
GRANTS = """
GRANT USAGE ON SCHEMA public TO {app};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app};
REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {app};
REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {app};
REVOKE UPDATE, DELETE ON parcel_history FROM {app};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {app};
"""


def grant_app(conn, app: str = APP) -> None:
    """The application role's privileges (as the owner); idempotent, so it runs after every upgrade."""
    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [app]).fetchone() is None:
        return
    if conn.execute("SELECT current_user = %s", [app]).fetchone()[0]:
        return  # serving and migrating as one role: nothing to grant (README: not least privilege)
    conn.execute(sql.SQL(GRANTS).format(app=sql.Identifier(app)))
    for table in ("statuses", "status_transitions"):  # the lifecycle is data only the owner changes
        if conn.execute("SELECT to_regclass(%s) IS NOT NULL", [table]).fetchone()[0]:
            conn.execute(
                sql.SQL("REVOKE INSERT, UPDATE, DELETE ON {} FROM {}").format(
                    sql.Identifier(table), sql.Identifier(app)
                )
            )


def script(owner: str = OWNER, app: str = APP, database: str = "landfund") -> str:
    """The SQL a DBA runs once for a server landfund does not manage (`landfund db bootstrap --print`)."""
    from psycopg.sql import Literal

    lines = [
        "-- as a superuser, connected to any database: the roles (set their passwords yourself)",
        f'CREATE ROLE "{owner}" LOGIN;',
        f'CREATE ROLE "{app}" LOGIN;',
        f'CREATE DATABASE "{database}" OWNER "{owner}";',
        "",
        f"-- as a superuser, connected to {database}: PostGIS and the VN-2000 TM-3 zones PostGIS lacks",
    ]
    for statement, params in database_statements(owner):
        text = statement
        for p in params:
            text = text.replace("%s", Literal(p).as_string(None), 1)
        lines.append(text + ";")
    lines += [
        "",
        f"-- then, as {owner}: landfund db upgrade   (with DATABASE_OWNER_URL=postgresql://{owner}@…/{database} "
        f"and DATABASE_URL=postgresql://{app}@…/{database}); it grants {app} what it needs",
    ]
    return "\n".join(lines) + "\n"
