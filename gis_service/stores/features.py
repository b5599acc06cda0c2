"""Every catalogue layer as one selectable (an `id`, its fields under their catalogue names, and `geom`), and the
reads of them: the API's (async, on the read server), the maps' and the exports'.

Export, the feature API and the maps all read layers through `layer_sql`, so a field is spelled and computed
the same way everywhere (est_units included)."""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    Numeric,
    String,
    Text,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
    text,
    true,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import ColumnElement, FromClause, Select

from ..catalogue import LayerDef
from ..models import SPECS
from ..models.admin_units import AdminUnit, FormerUnit
from ..models.parcels import Parcel
from ..models.reference import ReferenceFeature
from ..models.stats import Demand, Programme
from .base import run
from .parcels import est_units_column

SQL_TYPES = {"string": String, "integer": BigInteger, "number": Float, "boolean": Boolean, "date": Date}
TABLES = {
    "parcels": Parcel,
    "admin_units": AdminUnit,
    "demand": Demand,
    "programmes": Programme,
    "former_units": FormerUnit,
}
PRECISION = 6  # ~0.1 m: more is noise in a web map
SIMPLIFY_DEG = 2e-6  # ~0.2 m: invisible even at the highest zoom


@dataclass
class LayerSQL:
    layer: LayerDef
    table: FromClause
    id: ColumnElement
    geom: ColumnElement | None
    fields: dict[str, ColumnElement]  # catalogue name → SQL expression
    where: ColumnElement  # rows of this layer (reference layers share a table)
    etag: ColumnElement | None = None  # changes whenever the stored row changes (see etag_sql)
    statements: dict = field(default_factory=dict, compare=False, repr=False)  # built once, reused (tiles)


def json_value(ls: LayerSQL, name: str) -> ColumnElement:
    """A field as GeoJSON writes it. A `number` is always written with a fractional part (50.0, not 50): QGIS and
    GDAL type a field from the first features they read, and a whole-valued double written as 50 made it an
    integer field that turned a later 37.5 into NULL. PostgreSQL writes a numeric with its scale, so a whole
    value becomes numeric(30,1); others keep every digit float8 has (15 significant)."""
    expr = ls.fields[name]
    if not any(a.name == name and a.type == "number" for a in ls.layer.attributes):
        return expr
    return case(
        (
            func.abs(expr) < 1e15,
            case((expr == func.trunc(expr), cast(expr, Numeric(30, 1))), else_=cast(expr, Numeric)),
        ),
        else_=cast(expr, Numeric),
    )


def etag_sql(storage: str, table: str) -> str:
    """SQL for a feature's entity tag: the version counter where the table keeps one, else a hash of the
    whole stored row. Reads (ETag) and writes (If-Match) use the same expression."""
    return f"'v' || {table}.version" if storage == "parcels" else f"md5({table}::text)"


def layer_sql(layer: LayerDef, settings) -> LayerSQL:
    if layer.storage == "reference":
        t = ReferenceFeature.__table__
        props = t.c.properties
        fields: dict[str, ColumnElement] = {}
        for a in layer.attributes:
            value = props[a.name].astext
            fields[a.name] = value if a.type == "string" else cast(value, SQL_TYPES[a.type])
        return LayerSQL(
            layer,
            t,
            t.c.id,
            t.c.geom,
            fields,
            t.c.layer == literal(layer.id),
            literal_column(etag_sql(layer.storage, "reference_features")),
        )
    t = TABLES[layer.storage].__table__
    fields = {}
    for a in layer.attributes:
        if layer.storage == "parcels" and a.name == "est_units":
            fields[a.name] = est_units_column(settings)
        elif a.name == "area_m2":
            fields[a.name] = cast(func.round(cast(t.c[a.name], Numeric), 1), Float)  # 0.1 m², as float8
        else:
            fields[a.name] = t.c[a.name]
    geom = t.c.geom if layer.spatial else None
    return LayerSQL(
        layer, t, t.c.id, geom, fields, true(), literal_column(etag_sql(layer.storage, SPECS[layer.storage].table))
    )


def area_ha(ls: LayerSQL) -> ColumnElement:
    return func.round(cast(ls.table.c.area_m2, Numeric) / 10000, 2)


def in_fund_on(ls: LayerSQL, day) -> ColumnElement:
    """A parcel is in the land fund on `day` when its decision or its record came by then (stores.parcels.listed_sql)."""
    t = ls.table.c
    return func.least(t.decision_date, cast(t.created_at, Date)) <= day


# -- the API's reads (async, on the read server) ------------------------------------------------------------------


@dataclass
class Page:
    """A page of features: how many matched (None past the cap, with the planner's `estimate`), how many came,
    the features as GeoJSON text joined by commas, and (when asked) each one's (id, entity tag)."""

    matched: int | None
    returned: int
    features: str | None
    estimate: int | None = None
    versions: list[tuple[int, str]] = field(default_factory=list)


class FeatureReads:
    """The API's hot read paths: one round trip each, GeoJSON built by PostGIS."""

    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def page(self, page_stmt: Select, estimate_stmt: Select, cap: int) -> Page:
        """The page's counts and features; past `cap` matches, the planner's estimate instead of a count."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(page_stmt)).one()
            page = Page(row[0], row[1], row[2], versions=list(zip(row[3] or [], row[4] or [])) if len(row) > 3 else [])
            if page.matched is not None and page.matched > cap:
                compiled_ = estimate_stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": False})
                plan = (
                    await conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled_), compiled_.params)
                ).scalar_one()
                plan = orjson.loads(plan) if isinstance(plan, (str, bytes)) else plan
                page.matched, page.estimate = None, int(plan[0]["Plan"]["Plan Rows"])
        return page

    async def first(self, stmt: Select):
        async with self.engine.connect() as conn:
            return (await conn.execute(stmt)).first()

    async def rows(self, stmt: Select) -> tuple[list[str], list]:
        async with self.engine.connect() as conn:
            result = await conn.execute(stmt)
            return list(result.keys()), list(result.all())

    async def stream(self, stmt: Select, size: int = 1000):
        """Rows in partitions, from a server-side cursor (which lives in a transaction; reads are otherwise
        autocommit)."""
        async with (
            self.engine.connect() as conn,
            (await conn.execution_options(isolation_level="REPEATABLE READ")).begin(),
        ):
            result = await conn.stream(stmt)
            async for part in result.partitions(size):
                yield part

    async def tile(self, stmt: Select, params: dict) -> bytes:
        async with self.engine.connect() as conn:
            return bytes((await conn.execute(stmt, params)).scalar_one() or b"")

    async def health(self) -> dict:
        async with self.engine.connect() as conn:
            version = (await conn.execute(text("SELECT postgis_lib_version()"))).scalar_one()
            full = (await conn.execute(text("SELECT postgis_full_version()"))).scalar_one()
            rev = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one_or_none()
            replica = (await conn.execute(text("SELECT pg_is_in_recovery()"))).scalar_one()
        return {
            "postgis_version": version,
            "postgis_full_version": full,
            "schema_revision": rev,
            "reads_from_replica": replica,
        }


def extent_select(ls: LayerSQL, where: list, temporal) -> Select:
    """One row: the layer's bbox and, with a temporal property, its first and last dates (and whether any
    interval is open)."""
    ext = func.ST_Extent(ls.geom)
    cols = [func.ST_XMin(ext), func.ST_YMin(ext), func.ST_XMax(ext), func.ST_YMax(ext)]
    if temporal:
        cols += [func.min(ls.fields[temporal.start]), func.max(ls.fields[temporal.end or temporal.start])]
        if temporal.end:
            cols.append(func.bool_or(ls.fields[temporal.end].is_(None)))
    return select(*cols).select_from(ls.table).where(ls.where, *where)


# -- sync reads (maps, exports, the edit service's read-back) ----------------------------------------------------


class FeatureStore:
    def __init__(self, conn):
        self.conn = conn

    def count(self, ls: LayerSQL, where: list) -> int:
        return run(self.conn, select(func.count()).select_from(ls.table).where(*where)).fetchone()[0]

    def first(self, stmt: Select):
        return run(self.conn, stmt).fetchone()

    def collection(
        self, ls: LayerSQL, where: list, props: list[str], visible: set[str], extra: dict | None = None, geometry=None
    ) -> dict:
        """A GeoJSON FeatureCollection built in PostGIS (6 decimals, simplified where the difference is
        invisible); `extra` adds derived properties (name → SQL); `geometry` replaces the layer's geometry."""
        args = []
        for name in props:
            if name in visible:
                args += [literal_column("'" + name.replace("'", "''") + "'"), json_value(ls, name)]
        for name, expr in (extra or {}).items():
            args += [literal_column("'" + name.replace("'", "''") + "'"), expr]
        shape = geometry if geometry is not None else func.ST_Simplify(ls.geom, SIMPLIFY_DEG, True)
        geom = func.ST_AsGeoJSON(shape, PRECISION)
        feature = func.concat(
            '{"type":"Feature","id":',
            ls.id,
            ',"geometry":',
            geom,
            ',"properties":',
            cast(func.json_build_object(*args), Text),
            "}",
        )
        inner = select(feature.label("f"), ls.id.label("i")).select_from(ls.table).where(*where).subquery()
        joined = run(self.conn, select(func.string_agg(inner.c.f, literal_column("','")))).fetchone()[0]
        return orjson.loads(b'{"type":"FeatureCollection","features":[' + (joined or "").encode() + b"]}")

    def layer_rows(
        self, ls: LayerSQL, names: list[str], public_only: bool, where: list | None = None, order: list | None = None
    ) -> tuple[list[str], list]:
        """Rows of a layer (all, or those matching `where`; ordered by id or `order`): the named fields and the
        geometry as WKB (`_wkb`)."""
        cols = [ls.fields[n].label(n) for n in names]
        if ls.geom is not None:
            cols.append(func.ST_AsBinary(ls.geom).label("_wkb"))
        q = select(*cols).select_from(ls.table).where(*(where or [ls.where])).order_by(*(order or [ls.id]))
        if public_only and ls.layer.storage == "parcels":
            q = q.where(ls.fields["published"].is_(True))
        cur = run(self.conn, q)
        return [d.name for d in cur.description], cur.fetchall()
