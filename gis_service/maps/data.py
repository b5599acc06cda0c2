"""What a map shows, read through the stores, with the same layer SQL and visibility rules as the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson
from sqlalchemy import func, select

from ..analytics.coverage import coverage, default_level
from ..catalogue import Catalogue
from ..core.config import Settings
from ..models.admin_units import AdminUnit
from ..security import Principal, visible_fields, visible_rows
from ..stores.admin_units import AdminUnitStore
from ..stores.features import FeatureStore, LayerSQL, area_ha, in_fund_on, layer_sql

__all__ = ["Context", "Filters", "area_ha", "count", "coverage_collection", "feature_collection", "parcel_where"]


@dataclass
class Filters:
    admin_unit: str | None = None
    status: list[str] = field(default_factory=list)
    as_of: date | None = None
    suitability: Any = None  # the ranking a map of sites asks for (analytics.suitability.Request): its weights


@dataclass
class Context:
    conn: Any
    settings: Settings
    catalogue: Catalogue
    principal: Principal
    lang: str = "vi"
    filters: Filters = field(default_factory=Filters)
    api_base: str | None = None  # where the API is (links, tiles, search); None for a map without a server
    asset_base: str = "/static"
    parcel_id: int | None = None
    nonce: str | None = None  # the response's Content-Security-Policy nonce (served maps only)
    nav: str = ""  # the site's navigation bar, already rendered and escaped (served maps only)
    notes: list[str] = field(default_factory=list)  # what the person making the map should know (CLI prints them)
    province: str | None = None  # GSO code of the province the map is of (default: the deployment's own)

    @property
    def province_code(self) -> str:
        return self.province or self.catalogue.province.code

    def ls(self, collection: str) -> LayerSQL:
        return layer_sql(self.catalogue.layer(collection), self.settings)

    @property
    def as_of(self) -> date:
        return self.filters.as_of or date.today()

    @property
    def units(self) -> AdminUnitStore:
        return AdminUnitStore(self.conn)


def unit_geometry(ctx: Context):
    """SQL geometry of the filtered unit (its latest version), or None."""
    if not ctx.filters.admin_unit:
        return None
    return (
        select(AdminUnit.geom)
        .where(AdminUnit.code == ctx.filters.admin_unit)
        .order_by(AdminUnit.valid_from.desc())
        .limit(1)
        .scalar_subquery()
    )


def parcel_where(ctx: Context, ls: LayerSQL, statuses: list[str] | None = None) -> list:
    where = [ls.where, *visible_rows(ctx.principal, ls)]
    if "province_code" in ls.table.c:  # a map is the province's: another province's parcels never mix in
        where.append(ls.table.c.province_code == ctx.province_code)
    wanted = statuses if statuses is not None else ctx.filters.status
    if wanted:
        where.append(ls.fields["status"].in_(wanted))
    unit = unit_geometry(ctx)
    if unit is not None:
        where.append(func.ST_Intersects(unit, ls.table.c.pos))
    if ctx.filters.as_of is not None:  # the map as of a date: the units then, and the land fund then
        where.append(in_fund_on(ls, ctx.filters.as_of))
    return where


def count(ctx: Context, ls: LayerSQL, where: list) -> int:
    return FeatureStore(ctx.conn).count(ls, where)


def feature_collection(
    ctx: Context, ls: LayerSQL, where: list, props: list[str], extra: dict | None = None, geometry=None
) -> dict:
    """A GeoJSON FeatureCollection of what the map's viewer may see (fields the viewer may not see are left out)."""
    return FeatureStore(ctx.conn).collection(ls, where, props, set(visible_fields(ctx.principal, ls)), extra, geometry)


def coverage_collection(ctx: Context) -> tuple[dict, object]:
    """Units in force on the map's date (districts before the 2025 reform, communes after), with coverage."""
    level = default_level(ctx.as_of, ctx.catalogue.province.reform_date)
    cov = coverage(
        ctx.conn,
        ctx.settings,
        ctx.as_of,
        level,
        unit=None,
        published_only=not ctx.principal.privileged,
        province=ctx.province_code,
    )
    by_code = {u.code: u.as_dict() for u in cov.units}
    features = []
    for code, geom, x, y in ctx.units.shapes(level, ctx.as_of, ctx.filters.admin_unit, province=ctx.province_code):
        props = {k: v for k, v in by_code[code].items() if k != "by_status"}
        props["point"] = [y, x]
        features.append({"type": "Feature", "id": code, "geometry": orjson.loads(geom), "properties": props})
    return {"type": "FeatureCollection", "features": features}, cov


def context_collection(ctx: Context) -> dict:
    """The base context drawn from the project's own data when no basemap answers (an intranet without the
    internet): the province's outline and the units in force on the map's date, each named at an inner point."""
    level = default_level(ctx.as_of, ctx.catalogue.province.reform_date)
    names = ctx.units.names()
    features = []
    for lvl in ("province", level):
        for code, geom, x, y in ctx.units.shapes(lvl, ctx.as_of, province=ctx.province_code):
            props = {"name": names.get(code, code), "level": lvl, "point": [y, x]}
            features.append({"type": "Feature", "id": code, "geometry": orjson.loads(geom), "properties": props})
    return {"type": "FeatureCollection", "features": features}


def unit_names(ctx: Context) -> dict[str, str]:
    """GSO code → name of every unit (its latest name), so pages name units instead of coding them."""
    return ctx.units.names()


def tile_filters(ctx: Context) -> dict[str, str]:
    """The map's filters as query parameters of the tile endpoint."""
    params: dict[str, str] = {"province_code": ctx.province_code}  # the tiles are national; the map is one province's
    if len(ctx.filters.status) == 1:
        params["status"] = ctx.filters.status[0]
    elif ctx.filters.status:
        params["filter"] = "status IN (" + ", ".join(f"'{s}'" for s in ctx.filters.status) + ")"
    if ctx.filters.admin_unit:
        params["admin_unit"] = ctx.filters.admin_unit
    if ctx.filters.as_of is not None:
        params["as_of"] = ctx.filters.as_of.isoformat()
    return params


def unit_bounds(ctx: Context) -> list[list[float]] | None:
    """[[south, west], [north, east]] of the filtered unit, else of the province (the extent of a million
    parcels took 0.4 s)."""
    return ctx.units.bounds(ctx.filters.admin_unit, ctx.province_code)


def province_note_needed(ctx: Context) -> bool:
    return ctx.units.schematic(ctx.province_code)
