"""CQL2 filters (OGC API – Features Part 3) → parameterised SQLAlchemy expressions.

pygeofilter parses cql2-text and cql2-json (a maintained parser beats a hand-written grammar); this module
turns its AST into SQL against the catalogue's queryables only, so a filter can never name a column the
catalogue does not expose, and every literal travels as a bound parameter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import shapely
from pygeofilter import ast
from pygeofilter import values as pv
from sqlalchemy import and_, between, bindparam, func, not_, or_
from sqlalchemy.sql import ColumnElement

from ..core.errors import LandfundError


class FilterError(LandfundError):
    """A filter the client sent is malformed or asks for something unsupported (400)."""


# A filter is a question a person (or a GIS client) asks, not a program: these bounds keep every filter cheap
# to parse, compile and plan, far above what a real question needs.
MAX_TEXT = 20_000  # characters
MAX_TERMS = 256  # operators and predicates (a chain of 128 ORs, or an IN list of any length, fits)
MAX_DEPTH = 32  # nesting of AND / OR / NOT and parentheses


def _limits(root, children) -> None:
    """Refuse a filter with more than MAX_TERMS terms or nested deeper than MAX_DEPTH (walked without recursion).
    A chain of the same operator (a OR b OR c …) counts as one level, however its parser nests it."""
    stack: list[tuple[Any, int, str | None]] = [(root, 1, None)]
    terms = 0
    while stack:
        node, depth, parent = stack.pop()
        kind = _chain_kind(node)
        if kind is None or kind != parent:
            depth += 1
        if _is_term(node):
            terms += 1
        if depth > MAX_DEPTH + 1:
            raise FilterError(f"filter: nested more than {MAX_DEPTH} levels deep (the limit is {MAX_DEPTH})")
        if terms > MAX_TERMS:
            raise FilterError(
                f"filter: more than {MAX_TERMS} terms (the limit is {MAX_TERMS}); use IN (…) for a list of values"
            )
        stack.extend((child, depth, kind) for child in children(node))


def _is_term(node) -> bool:
    """An operator or a predicate (a property name or a value inside one is not a term of its own)."""
    if isinstance(node, dict):
        return "op" in node
    return isinstance(node, ast.Node) and not isinstance(node, ast.Attribute)


def _chain_kind(node) -> str | None:
    if isinstance(node, (ast.And, ast.Or)):
        return type(node).__name__.lower()
    if isinstance(node, dict) and str(node.get("op", "")).lower() in ("and", "or"):
        return str(node["op"]).lower()
    return None


def _ast_children(node):
    if isinstance(node, ast.Node):
        return node.get_sub_nodes()
    if isinstance(node, list):
        return node
    return []


def _json_children(node):
    if isinstance(node, dict):
        return list(node.values())
    if isinstance(node, list):
        return node
    return []


@dataclass
class Field:
    expr: ColumnElement
    type: str  # catalogue type: string, integer, number, boolean, date


@dataclass
class Target:
    fields: dict[str, Field]
    geometry: ColumnElement | None
    geometry_name: str = "geometry"


def parse(text: str, lang: str | None):
    lang = (lang or "cql2-text").lower()
    if len(text) > MAX_TEXT:
        raise FilterError(f"filter: {len(text):,} characters, more than the limit of {MAX_TEXT:,}")
    try:
        if lang == "cql2-text":
            from pygeofilter.parsers.cql2_text import parse as parse_text

            node = parse_text(text)
            _limits(node, _ast_children)
            return node
        if lang == "cql2-json":
            from pygeofilter.parsers.cql2_json import parse as parse_json

            doc = json.loads(text)
            _limits(doc, _json_children)  # before pygeofilter, whose parser recurses
            return parse_json(doc)
    except FilterError:
        raise
    except RecursionError:
        raise FilterError(f"filter: nested too deeply (the limit is {MAX_DEPTH} levels)") from None
    except Exception as exc:  # lark and json errors: the message is for the client
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FilterError(f"filter: malformed {lang}: {first}") from None
    raise FilterError(f"filter-lang: unsupported {lang!r}; use cql2-text or cql2-json")


COMPARE = {
    ast.Equal: lambda a, b: a == b,
    ast.NotEqual: lambda a, b: a != b,
    ast.LessThan: lambda a, b: a < b,
    ast.LessEqual: lambda a, b: a <= b,
    ast.GreaterThan: lambda a, b: a > b,
    ast.GreaterEqual: lambda a, b: a >= b,
}
SPATIAL = {
    ast.GeometryIntersects: "ST_Intersects",
    ast.GeometryWithin: "ST_Within",
    ast.GeometryContains: "ST_Contains",
    ast.GeometryDisjoint: "ST_Disjoint",
    ast.GeometryTouches: "ST_Touches",
    ast.GeometryCrosses: "ST_Crosses",
    ast.GeometryOverlaps: "ST_Overlaps",
    ast.GeometryEquals: "ST_Equals",
}


class _Compiler:
    def __init__(self, target: Target, geometry_literal):
        self.t = target
        self.geometry_literal = geometry_literal  # GeoJSON dict → SQL geometry in storage CRS
        self.n = 0

    def bind(self, value, type_=None):
        self.n += 1
        return bindparam(f"cql_{self.n}", value, type_=type_)

    # -- operands -------------------------------------------------------------------------------
    def field(self, node) -> Field:
        if _is_casei(node) and isinstance(node.arguments[0], ast.Attribute):
            inner = self.field(node.arguments[0])
            if inner.type != "string":
                raise FilterError("filter: CASEI takes a string property")
            return Field(func.lower(inner.expr), "string")
        _refuse_unsupported(node)
        if not isinstance(node, ast.Attribute):
            raise FilterError(f"filter: expected a property name, got {node!r}")
        f = self.t.fields.get(node.name)
        if f is None:
            raise FilterError(f"filter: unknown property {node.name!r}; queryables: {', '.join(sorted(self.t.fields))}")
        return f

    def value(self, node, f: Field):
        if isinstance(node, ast.Attribute) or (_is_casei(node) and isinstance(node.arguments[0], ast.Attribute)):
            other = self.field(node)
            return other.expr
        if _is_casei(node):
            if not isinstance(node.arguments[0], str):
                raise FilterError("filter: CASEI takes a string")
            return func.lower(self.bind(node.arguments[0]))
        _refuse_unsupported(node)
        v = node
        ok = {
            "string": isinstance(v, str),
            "integer": isinstance(v, (int, float)) and not isinstance(v, bool),
            "number": isinstance(v, (int, float)) and not isinstance(v, bool),
            "boolean": isinstance(v, bool),
            "date": isinstance(v, (date, datetime, str)),
        }[f.type]
        if not ok:
            raise FilterError(f"filter: cannot compare a {f.type} property with {v!r}")
        if f.type == "date" and isinstance(v, str):
            try:
                v = date.fromisoformat(v)
            except ValueError:
                raise FilterError(f"filter: {v!r} is not a date (YYYY-MM-DD)") from None
        if isinstance(v, datetime):
            v = v.date()
        return self.bind(v)

    def geometry(self, node):
        if isinstance(node, pv.Geometry):
            return self.geometry_literal(node.geometry)
        if isinstance(node, pv.Envelope):
            return self.geometry_literal(_box(node.x1, node.y1, node.x2, node.y2))
        if isinstance(node, ast.Function) and node.name.lower() == "bbox" and len(node.arguments) in (4, 6):
            a = node.arguments
            minx, miny, maxx, maxy = (a[0], a[1], a[2], a[3]) if len(a) == 4 else (a[0], a[1], a[3], a[4])
            return self.geometry_literal(_box(minx, miny, maxx, maxy))
        raise FilterError(f"filter: expected a geometry literal, got {node!r}")

    # -- predicates -----------------------------------------------------------------------------
    def __call__(self, node) -> ColumnElement:
        if isinstance(node, (ast.And, ast.Or)):  # a chain a AND b AND c … as one flat SQL AND
            kind, operands, todo = type(node), [], [node]
            while todo:
                n = todo.pop()
                if type(n) is kind:
                    todo += [n.rhs, n.lhs]
                else:
                    operands.append(self(n))
            return (and_ if kind is ast.And else or_)(*operands)
        if isinstance(node, ast.Not):
            return not_(self(node.sub_node))
        if type(node) in COMPARE:
            lhs, rhs = node.lhs, node.rhs
            if not isinstance(lhs, ast.Attribute) and isinstance(rhs, ast.Attribute):
                lhs, rhs = rhs, lhs
                node = {
                    ast.LessThan: ast.GreaterThan,
                    ast.GreaterThan: ast.LessThan,
                    ast.LessEqual: ast.GreaterEqual,
                    ast.GreaterEqual: ast.LessEqual,
                }.get(type(node), type(node))(lhs, rhs)
            f = self.field(lhs)
            return COMPARE[type(node)](f.expr, self.value(rhs, f))
        if isinstance(node, ast.Like):
            f = self.field(node.lhs)
            if f.type != "string":
                raise FilterError(f"filter: LIKE needs a string property; {node.lhs.name!r} is {f.type}")
            pattern = node.pattern
            if _is_casei(pattern):
                pattern = pattern.arguments[0]
                f = Field(func.lower(f.expr), "string") if not _is_casei(node.lhs) else f
                pattern_sql = func.lower(self.bind(pattern))
            else:
                pattern_sql = self.bind(pattern)
            if not isinstance(pattern, str):
                raise FilterError("filter: LIKE takes a string pattern")
            expr = f.expr.ilike(pattern_sql, escape="\\") if node.nocase else f.expr.like(pattern_sql, escape="\\")
            return not_(expr) if node.not_ else expr
        if isinstance(node, ast.In):
            f = self.field(node.lhs)
            expr = f.expr.in_([self.value(v, f) for v in node.sub_nodes])
            return not_(expr) if node.not_ else expr
        if isinstance(node, ast.Between):
            f = self.field(node.lhs)
            expr = between(f.expr, self.value(node.low, f), self.value(node.high, f))
            return not_(expr) if node.not_ else expr
        if isinstance(node, ast.IsNull):
            if isinstance(node.lhs, ast.Attribute) and node.lhs.name in (self.t.geometry_name, "geom"):
                if self.t.geometry is None:
                    raise FilterError("filter: this collection has no geometry")
                expr = self.t.geometry.is_(None)
            else:
                expr = self.field(node.lhs).expr.is_(None)
            return not_(expr) if node.not_ else expr
        if type(node) in SPATIAL:
            lhs, rhs = node.lhs, node.rhs
            if not (isinstance(lhs, ast.Attribute) and lhs.name in (self.t.geometry_name, "geom")):
                lhs, rhs = rhs, lhs
            if not (isinstance(lhs, ast.Attribute) and lhs.name in (self.t.geometry_name, "geom")):
                raise FilterError(
                    f"filter: spatial functions take the property {self.t.geometry_name!r} and a geometry"
                )
            if self.t.geometry is None:
                raise FilterError("filter: this collection has no geometry")
            return getattr(func, SPATIAL[type(node)])(self.t.geometry, self.geometry(rhs))
        if isinstance(node, (bool,)):
            return self.bind(node)
        name = type(node).__name__
        raise FilterError(
            f"filter: {name} is not supported here (supported: comparisons, LIKE, IN, BETWEEN, "
            "IS NULL, AND/OR/NOT and the S_* spatial functions)"
        )


def _is_casei(node) -> bool:
    """CASEI(x), which pygeofilter reads as lower(x): case-insensitive comparison."""
    return isinstance(node, ast.Function) and node.name.lower() in ("lower", "casei") and len(node.arguments) == 1


def _refuse_unsupported(node) -> None:
    if isinstance(node, (ast.Add, ast.Sub, ast.Mul, ast.Div)):
        raise FilterError("filter: arithmetic is not supported")
    if isinstance(node, ast.Function):
        raise FilterError(f"filter: function {node.name.upper()} is not supported (CASEI is)")


def _box(minx, miny, maxx, maxy) -> dict:
    return {"type": "Polygon", "coordinates": [[[minx, miny], [maxx, miny], [maxx, maxy], [minx, maxy], [minx, miny]]]}


def to_sql(node, target: Target, geometry_literal) -> ColumnElement:
    return _Compiler(target, geometry_literal)(node)


def geojson_literal(srid: int, lat_first: bool, domain: tuple[float, float, float, float] | None = None):
    """A function GeoJSON dict → SQL geometry in EPSG:4326 (lon, lat), from a literal in `srid`.

    The literal is parsed and checked here, so a malformed one is the client's 400, not a database error."""

    def make(geom: dict):
        try:
            shape = shapely.from_geojson(json.dumps(geom))
        except Exception as exc:
            raise FilterError(f"filter: malformed geometry literal: {exc}") from None
        if shape.is_empty or not shapely.is_valid(shape):
            raise FilterError(f"filter: geometry literal is not valid: {shapely.is_valid_reason(shape)}")
        if domain is not None:
            x0, y0, x1, y1 = shapely.bounds(shapely.transform(shape, lambda c: c[:, ::-1]) if lat_first else shape)
            if not (domain[0] <= x0 and x1 <= domain[2] and domain[1] <= y0 and y1 <= domain[3]):
                raise FilterError(f"filter: the geometry literal lies outside the area where EPSG:{srid} is defined")
        wkb = shapely.to_wkb(shape)
        g = func.ST_SetSRID(func.ST_GeomFromWKB(bindparam(None, wkb, unique=True)), srid)
        if lat_first:
            g = func.ST_FlipCoordinates(g)
        if srid != 4326:
            g = func.ST_Transform(g, 4326)
        return g

    return make
