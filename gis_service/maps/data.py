"""What a map shows, read from PostGIS: GeoJSON built by the database (6 decimals, simplified where the
difference is invisible), through the same layer SQL and visibility rules as the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import orjson
from sqlalchemy import Text, cast, func, literal_column, select
from sqlalchemy.dialects import postgresql

from ..analytics.coverage import coverage, default_level
from ..catalogue import Catalogue
from ..models.admin_units import AdminUnit
from ..models.features import LayerSQL, layer_sql
from ..security import Principal, visible_fields, visible_rows

DIALECT = postgresql.psycopg.dialect()
PRECISION = 6  # ~0.1 m: more is noise in a web map
SIMPLIFY_DEG = 2e-6  # ~0.2 m: invisible even at the highest zoom


def run(conn, stmt):
    """Execute a SQLAlchemy Core statement on a plain psycopg connection."""
    compiled = stmt.compile(dialect=DIALECT, compile_kwargs={"render_postcompile": True})
    return conn.execute(str(compiled), compiled.params)


@dataclass
class Filters:
    admin_unit: str | None = None
    status: list[str] = field(default_factory=list)
    as_of: date | None = None


@dataclass
class Context:
    conn: object
    settings: object
    catalogue: Catalogue
    principal: Principal
    lang: str = "vi"
    filters: Filters = field(default_factory=Filters)
    api_base: str | None = None  # where the API is (links, tiles, search); None for a map without a server
    asset_base: str = "/static"
    parcel_id: int | None = None
    nonce: str | None = None  # the response's Content-Security-Policy nonce (served maps only)
    notes: list[str] = field(default_factory=list)  # what the person making the map should know (CLI prints them)

    def ls(self, collection: str) -> LayerSQL:
        return layer_sql(self.catalogue.layer(collection), self.settings)

    @property
    def as_of(self) -> date:
        return self.filters.as_of or date.today()


def unit_geometry(ctx: Context):
    """SQL geometry of the filtered unit (its latest version), or None."""
    if not ctx.filters.admin_unit:
        return None
    return (select(AdminUnit.geom).where(AdminUnit.code == ctx.filters.admin_unit)
            .order_by(AdminUnit.valid_from.desc()).limit(1).scalar_subquery())


def parcel_where(ctx: Context, ls: LayerSQL, statuses: list[str] | None = None) -> list:
    where = [ls.where, *visible_rows(ctx.principal, ls)]
    wanted = statuses if statuses is not None else ctx.filters.status
    if wanted:
        where.append(ls.fields["status"].in_(wanted))
    unit = unit_geometry(ctx)
    if unit is not None:
        where.append(func.ST_Intersects(unit, ls.table.c.pos))
    return where


def count(ctx: Context, ls: LayerSQL, where: list) -> int:
    return run(ctx.conn, select(func.count()).select_from(ls.table).where(*where)).fetchone()[0]


def feature_collection(ctx: Context, ls: LayerSQL, where: list, props: list[str], extra: dict | None = None,
                       geometry=None) -> dict:
    """A GeoJSON FeatureCollection built in PostGIS; `extra` adds derived properties (name → SQL);
    `geometry` replaces the layer's geometry (say, parcels' inner points)."""
    visible = set(visible_fields(ctx.principal, ls))
    args = []
    for name in props:
        if name in visible:
            args += [literal_column(f"'{name}'"), ls.fields[name]]
    for name, expr in (extra or {}).items():
        args += [literal_column(f"'{name}'"), expr]
    shape = geometry if geometry is not None else func.ST_Simplify(ls.geom, SIMPLIFY_DEG, True)
    geom = func.ST_AsGeoJSON(shape, PRECISION)
    text = func.concat('{"type":"Feature","id":', ls.id, ',"geometry":', geom, ',"properties":',
                       cast(func.json_build_object(*args), Text), "}")
    inner = select(text.label("f"), ls.id.label("i")).select_from(ls.table).where(*where).subquery()
    joined = run(ctx.conn, select(func.string_agg(inner.c.f, literal_column("','")))).fetchone()[0]
    return orjson.loads(b'{"type":"FeatureCollection","features":[' + (joined or "").encode() + b"]}")


def area_ha(ls: LayerSQL):
    return func.round(cast(ls.table.c.area_m2, postgresql.NUMERIC) / 10000, 2)


def coverage_collection(ctx: Context) -> tuple[dict, object]:
    """Units in force on the map's date (districts before the 2025 reform, communes after), with coverage."""
    level = default_level(ctx.as_of, ctx.catalogue.province.reform_date)
    cov = coverage(ctx.conn, ctx.settings, ctx.as_of, level, published_only=not ctx.principal.privileged)
    by_code = {u.code: u.as_dict() for u in cov.units}
    params = {"level": level, "as_of": ctx.as_of, "unit": ctx.filters.admin_unit}
    unit_filter = ""
    if ctx.filters.admin_unit:
        unit_filter = ("AND ST_Intersects((SELECT geom FROM admin_units WHERE code = %(unit)s ORDER BY valid_from DESC "
                       "LIMIT 1), ST_PointOnSurface(u.geom))")
    rows = ctx.conn.execute(
        f"""SELECT u.code, ST_AsGeoJSON(ST_SimplifyPreserveTopology(u.geom, 0.0003), 5),
                   ST_X(ST_PointOnSurface(u.geom)), ST_Y(ST_PointOnSurface(u.geom))
            FROM admin_units u WHERE u.level = %(level)s AND u.valid_from <= %(as_of)s
              AND (u.valid_to IS NULL OR u.valid_to >= %(as_of)s) {unit_filter} ORDER BY u.code""", params).fetchall()
    features = []
    for code, geom, x, y in rows:
        props = {k: v for k, v in by_code[code].items() if k != "by_status"}
        props["point"] = [y, x]
        features.append({"type": "Feature", "id": code, "geometry": orjson.loads(geom), "properties": props})
    return {"type": "FeatureCollection", "features": features}, cov


def unit_names(ctx: Context) -> dict[str, str]:
    """GSO code → name of every unit (its latest name), so pages name units instead of coding them."""
    rows = ctx.conn.execute("SELECT DISTINCT ON (code) code, name FROM admin_units ORDER BY code, valid_from DESC")
    return dict(rows.fetchall())


def tile_filters(ctx: Context) -> dict[str, str]:
    """The map's filters as query parameters of the tile endpoint."""
    params: dict[str, str] = {}
    if len(ctx.filters.status) == 1:
        params["status"] = ctx.filters.status[0]
    elif ctx.filters.status:
        params["filter"] = "status IN (" + ", ".join(f"'{s}'" for s in ctx.filters.status) + ")"
    if ctx.filters.admin_unit:
        params["admin_unit"] = ctx.filters.admin_unit
    return params


def unit_bounds(ctx: Context) -> list[list[float]] | None:
    """[[south, west], [north, east]] of the filtered unit, else of the province (the extent of a million
    parcels took 0.4 s)."""
    where, params = ("code = %s", [ctx.filters.admin_unit]) if ctx.filters.admin_unit else ("level = 'province'", [])
    row = ctx.conn.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                           f"(SELECT ST_Extent(geom) e FROM admin_units WHERE {where}) s", params).fetchone()
    return [[row[1], row[0]], [row[3], row[2]]] if row[0] is not None else None


def province_note_needed(ctx: Context) -> bool:
    row = ctx.conn.execute("SELECT bool_or(boundary_note ILIKE '%%schematic%%') FROM admin_units").fetchone()
    return bool(row and row[0])
