"""Query parameters as small FastAPI dependencies, each parsing one thing and answering 400 when it cannot.

Together they build a `Selection` (query/items.py) for the items endpoints."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import Depends, Query, Request
from pydantic import BeforeValidator
from sqlalchemy import and_, func, or_
from sqlalchemy.sql import ColumnElement

from ..core.errors import LandfundError
from ..query import cql
from ..query.items import Selection
from ..security import Principal, visible_fields, visible_rows
from ..stores.features import in_fund_on
from ..validation.fields import coerce_value
from .crs import CRS84, EPSG4326, ApiCRS, domain, inside_domain, parse_crs
from .deps import Collection, collection, principal
from .errors import Problem
from .province import province_param

RESERVED = {
    "as_of",
    "f",
    "lang",
    "bbox",
    "bbox-crs",
    "crs",
    "limit",
    "offset",
    "datetime",
    "filter",
    "filter-lang",
    "filter-crs",
    "sortby",
    "properties",
    "skipGeometry",
    "admin_unit",
}
MAX_LIMIT = 10_000
MAX_OFFSET = 10_000_000
FORMATS = ("json", "html", "csv", "geojsonseq", "fgb")


async def format_param(
    f: str | None = Query(
        None,
        description="Output format: json, html, csv, geojsonseq or fgb (default: from the Accept header, else json).",
    ),
) -> str | None:
    if f is not None and f not in FORMATS:
        raise Problem(400, f"f: unknown format {f!r}; use one of: {', '.join(FORMATS)}", title="Unknown format")
    return f


async def crs_param(
    crs: str | None = Query(
        None,
        description="CRS of the response geometries: CRS84 (default), EPSG:4326, EPSG:3857 or any VN-2000 / TM-3 zone "
        "(EPSG:9205 to 9218, 5896 to 5899; Điện Biên: EPSG:9205).",
    ),
) -> ApiCRS:
    return parse_crs(crs, "crs")


def _floats(text: str, name: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise Problem(400, f"{name}: {text!r} is not a comma-separated list of numbers") from None
    if not all(math.isfinite(v) for v in values):
        raise Problem(400, f"{name}: numbers must be finite")
    return values


async def bbox_param(
    bbox: str | None = Query(None, description="minx,miny,maxx,maxy (or 6 numbers with heights) in bbox-crs."),
    bbox_crs: str | None = Query(None, alias="bbox-crs", description="CRS of bbox (default CRS84)."),
) -> tuple[tuple[float, float, float, float], ApiCRS] | None:
    bcrs = parse_crs(bbox_crs, "bbox-crs")
    if bbox is None:
        return None
    v = _floats(bbox, "bbox")
    if len(v) == 6:
        v = [v[0], v[1], v[3], v[4]]
    if len(v) != 4:
        raise Problem(400, f"bbox: needs 4 or 6 numbers, got {len(v)}")
    x0, y0, x1, y1 = v
    if bcrs.lat_first:  # EPSG:4326 axis order: latitude first
        x0, y0, x1, y1 = y0, x0, y1, x1
    if x0 > x1 or y0 > y1:
        raise Problem(400, "bbox: the lower corner must come first (a box across the antimeridian is not supported)")
    if bcrs.geographic and not (-180 <= x0 <= 180 and -180 <= x1 <= 180 and -90 <= y0 <= 90 and -90 <= y1 <= 90):
        raise Problem(400, "bbox: longitudes must lie in [-180, 180] and latitudes in [-90, 90]")
    if not bcrs.geographic and not inside_domain(bcrs.srid, x0, y0, x1, y1):
        raise Problem(400, f"bbox: outside the area where EPSG:{bcrs.srid} is defined")
    return (x0, y0, x1, y1), bcrs


def bbox_condition(geom: ColumnElement, box, bcrs: ApiCRS) -> ColumnElement:
    x0, y0, x1, y1 = box
    env = func.ST_MakeEnvelope(x0, y0, x1, y1, bcrs.srid)
    if bcrs.srid != 4326:
        env = func.ST_Transform(func.ST_Segmentize(env, max(x1 - x0, y1 - y0) / 16 or 1), 4326)
    return func.ST_Intersects(geom, env)


_DT = re.compile(r"^\d{4}-\d{2}-\d{2}([Tt ][0-9:.]+([Zz]|[+-]\d{2}:?\d{2})?)?$")


def _instant(text: str, name: str = "datetime") -> date | None:
    if text in ("..", ""):
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt]", text):  # GDAL 3.6 sends a date -where as 2024-01-01T/..
        text = text[:-1]
    if not _DT.match(text):
        raise Problem(400, f"{name}: {text!r} is not an RFC 3339 date or date-time")
    try:
        return (
            datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00")).date()
            if "T" in text.upper()
            else date.fromisoformat(text)
        )
    except ValueError:
        raise Problem(400, f"{name}: {text!r} is not a valid date") from None


async def datetime_param(
    datetime_: str | None = Query(
        None,
        alias="datetime",
        description=(
            "Instant or interval (start/end, '..' for open): units valid then (admin_units), "
            "parcels decided then (parcels)."
        ),
    ),
) -> tuple[date | None, date | None] | None:
    if datetime_ is None:
        return None
    if "/" in datetime_:
        a, _, b = datetime_.partition("/")
        lo, hi = _instant(a), _instant(b)
        if lo and hi and lo > hi:
            raise Problem(400, "datetime: the interval ends before it starts")
        return lo, hi
    d = _instant(datetime_)
    if d is None:
        raise Problem(400, "datetime: '..' needs the form start/end")
    return d, d


def temporal_condition(coll: Collection, span) -> ColumnElement | None:
    t = coll.layer.temporal
    if span is None or t is None:
        return None  # collections without a temporal property ignore datetime
    lo, hi = span
    start = coll.ls.fields[t.start]
    end = coll.ls.fields[t.end] if t.end else start
    conds = []
    if hi is not None:
        conds.append(start <= hi)
    if lo is not None:
        conds.append(or_(end.is_(None), end >= lo) if t.end else end >= lo)
    return and_(*conds) if conds else None


@dataclass
class ItemsRequest:
    coll: Collection
    who: Principal
    sel: Selection
    crs: ApiCRS
    fmt: str | None
    limit_asked: int | None = None  # a limit above the maximum, clamped to it


def _coerce(coll: Collection, name: str, raw: str):
    value, message = coerce_value(coll.layer.attribute(name), coll.catalogue, raw)
    if message:
        raise Problem(400, f"{name}: {message}")
    return value


@dataclass
class Selected:
    """The rows a request selects: visibility, property filters, admin_unit and a CQL2 filter."""

    coll: Collection
    who: Principal
    where: list
    visible: list[str]


def admin_unit_condition(coll: Collection, code: str) -> ColumnElement:
    """Inside a unit (its latest version): parcels by their inner point, other layers by intersection."""
    from sqlalchemy import select

    from ..models.admin_units import AdminUnit

    area = select(AdminUnit.geom).where(AdminUnit.code == code).order_by(AdminUnit.valid_from.desc()).limit(1)
    geom = coll.ls.table.c.pos if coll.layer.storage == "parcels" else coll.ls.geom
    return func.ST_Intersects(area.scalar_subquery(), geom)


async def selected(
    request: Request,
    coll: Collection = Depends(collection),
    who: Principal = Depends(principal),
    admin_unit: str | None = Query(
        None, description="GSO code of an administrative unit (any date): only features inside it."
    ),
    filter_: str | None = Query(None, alias="filter", description="CQL2 filter (text or JSON, see filter-lang)."),
    filter_lang: str | None = Query(None, alias="filter-lang", description="cql2-text (default) or cql2-json."),
    filter_crs: str | None = Query(None, alias="filter-crs", description="CRS of geometry literals (default CRS84)."),
    as_of: date | None = Query(
        None, description="parcels: only those in the land fund on this date (decided or recorded by then)."
    ),
) -> Selected:
    ls = coll.ls
    visible = visible_fields(who, ls)
    where = list(visible_rows(who, ls))
    for key in (k for k in request.query_params if k not in RESERVED):
        if key not in visible:
            raise Problem(
                400,
                f"unknown query parameter {key!r}; property filters: {', '.join(visible)}",
                title="Unknown parameter",
            )
        where.append(ls.fields[key] == _coerce(coll, key, request.query_params[key]))
    if admin_unit is not None:
        if ls.geom is None:
            raise Problem(400, "admin_unit: this collection has no geometry")
        where.append(admin_unit_condition(coll, admin_unit))
    if as_of is not None and coll.layer.storage == "parcels":
        where.append(in_fund_on(ls, as_of))
    if filter_ is not None:
        fcrs = parse_crs(filter_crs, "filter-crs")
        target = cql.Target({n: cql.Field(ls.fields[n], coll.layer.attribute(n).type) for n in visible}, ls.geom)
        try:
            literal = cql.geojson_literal(fcrs.srid, fcrs.lat_first, domain=domain(fcrs.srid))
            where.append(cql.to_sql(cql.parse(filter_, filter_lang), target, literal))
        except cql.FilterError as exc:
            raise Problem(400, str(exc), title="Invalid filter") from None
    return Selected(coll, who, where, visible)


def choose_properties(properties: str | None, visible: list[str]) -> list[str]:
    """The `properties` parameter: the listed ones (each must be visible), or every visible one."""
    if properties is None:
        return visible
    chosen = [p.strip() for p in properties.split(",") if p.strip()]
    unknown = [p for p in chosen if p not in visible]
    if unknown:
        raise Problem(400, f"properties: unknown {', '.join(repr(u) for u in unknown)}")
    return chosen


async def items_request(
    request: Request,
    chosen: Selected = Depends(selected),
    fmt: str | None = Depends(format_param),
    crs: ApiCRS = Depends(crs_param),
    box=Depends(bbox_param),
    span=Depends(datetime_param),
    limit: int = Query(
        10,
        ge=1,
        le=2**31 - 1,
        description=f"Features per page; above {MAX_LIMIT:,} (the server's maximum) it is {MAX_LIMIT:,}.",
    ),
    offset: int = Query(0, ge=0, le=MAX_OFFSET, description="Features to skip; follow the `next` link to page."),
    sortby: str | None = Query(None, description="Comma-separated properties, each with an optional + or - prefix."),
    properties: str | None = Query(None, description="Comma-separated properties to return."),
    skip_geometry: bool = Query(False, alias="skipGeometry", description="Leave geometries out."),
) -> ItemsRequest:
    coll, who, visible, where = chosen.coll, chosen.who, chosen.visible, list(chosen.where)
    ls = coll.ls
    if box is not None:
        if ls.geom is None:
            raise Problem(400, "bbox: this collection has no geometry")
        where.append(bbox_condition(ls.geom, *box))
    if (cond := temporal_condition(coll, span)) is not None:
        where.append(cond)
    order = []
    for part in sortby.split(",") if sortby else []:
        part = part.strip()
        name, desc = (part[1:], part[0] == "-") if part[:1] in "+-" and part else (part, False)
        if name not in visible:
            raise Problem(400, f"sortby: unknown property {name!r}")
        order.append((ls.fields[name], desc))
    order.append((ls.id, False))
    props = choose_properties(properties, visible)
    asked = limit if limit > MAX_LIMIT else None  # OGC API – Features: a larger limit is the server's maximum
    limit = min(limit, MAX_LIMIT)
    sel = Selection(where=where, order=order, properties=props, limit=limit, offset=offset, skip_geometry=skip_geometry)
    return ItemsRequest(coll, who, sel, crs, fmt, asked)


__all__ = ["CRS84", "EPSG4326", "ItemsRequest", "items_request"]


# A form's empty field (an empty number box, "whole province") means "not given", as it does for a browser.
Blank = BeforeValidator(lambda v: None if isinstance(v, str) and not v.strip() else v)


def check_report_filters(catalogue, unit_names, unit: str | None, fund_source: str | None) -> None:
    """A report's unit and fund source are ones that exist (the API's redirect and the report pages ask the same)."""
    choices = catalogue.layer("parcels").attribute("fund_source").values or {}
    if fund_source and fund_source not in choices:
        raise Problem(400, f"fund_source: one of {', '.join(choices)}")
    if unit and unit not in unit_names:
        raise Problem(400, f"unit: no administrative unit {unit!r}")


async def suitability_query(
    request: Request,
    who: Principal = Depends(principal),
    province: str = Depends(province_param),
    w_road: Annotated[float | None, Query(ge=0, le=100, description="Weight of the distance to a road."), Blank] = None,
    w_town: Annotated[
        float | None, Query(ge=0, le=100, description="Weight of the distance to the administrative centre."), Blank
    ] = None,
    w_school: Annotated[
        float | None, Query(ge=0, le=100, description="Weight of the distance to a school."), Blank
    ] = None,
    w_health: Annotated[
        float | None, Query(ge=0, le=100, description="Weight of the distance to a health station."), Blank
    ] = None,
    w_area: Annotated[
        float | None, Query(ge=0, le=100, description="Weight of the area (within the preferred range)."), Blank
    ] = None,
    w_clearance: Annotated[float | None, Query(ge=0, le=100, description="Weight of site clearance."), Blank] = None,
    preferred_min_ha: float = Query(0.5, ge=0.001, le=1000),
    preferred_max_ha: float = Query(3.0, ge=0.001, le=1000),
    hazards: Literal["penalty", "exclude", "ignore"] = Query("penalty", description="What a hazard zone does."),
    hazard_penalty: float = Query(0.3, ge=0, le=1),
    admin_unit: Annotated[str | None, Query(description="GSO code: only parcels inside this unit."), Blank] = None,
    min_area_ha: Annotated[
        float | None, Query(ge=0, le=10000, description="Only parcels of at least this area (ha)."), Blank
    ] = None,
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
):
    """The site-suitability ranking a request asks for (the API, the investor map and the investor portal): the
    settings' weights, each overridable; weights are relative."""
    from ..analytics import suitability as su

    weights = request.app.state.settings.suitability_weights.model_dump()
    given = {
        "road": w_road,
        "town": w_town,
        "school": w_school,
        "health": w_health,
        "area": w_area,
        "clearance": w_clearance,
    }
    for k, v in given.items():
        if v is not None:
            weights[k] = round(v, 6)  # weights are relative: 1e-300 is 0, not a float the database underflows on
    if preferred_min_ha > preferred_max_ha:
        raise Problem(400, "preferred_min_ha: at most preferred_max_ha")
    req = su.Request(
        weights=su.Weights(**weights),
        preferred_ha=(preferred_min_ha, preferred_max_ha),
        hazards=hazards,
        hazard_penalty=round(hazard_penalty, 6),
        admin_unit=admin_unit,
        min_area_ha=min_area_ha,
        limit=limit,
        published_only=not who.privileged,
        province=province,
    )
    try:
        req.check()
    except LandfundError as exc:
        raise Problem(400, str(exc)) from None
    return req
