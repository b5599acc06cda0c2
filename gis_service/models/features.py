"""Every catalogue layer as one selectable: an `id`, its fields under their catalogue names, and `geom`.

Export, the feature API and the maps all read layers through this, so a field is spelled and computed
the same way everywhere (est_units included)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import BigInteger, Boolean, Date, Float, Numeric, String, cast, func, literal, literal_column, true
from sqlalchemy.sql import ColumnElement, FromClause

from ..catalogue import LayerDef
from .admin_units import AdminUnit
from .parcels import Parcel, est_units_column
from .reference import ReferenceFeature
from .stats import Demand, Programme

SQL_TYPES = {"string": String, "integer": BigInteger, "number": Float, "boolean": Boolean, "date": Date}
TABLES = {"parcels": Parcel, "admin_units": AdminUnit, "demand": Demand, "programmes": Programme}


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
            text = props[a.name].astext
            fields[a.name] = text if a.type == "string" else cast(text, SQL_TYPES[a.type])
        return LayerSQL(layer, t, t.c.id, t.c.geom, fields, t.c.layer == literal(layer.id),
                        literal_column(etag_sql(layer.storage, t.name)))
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
    return LayerSQL(layer, t, t.c.id, geom, fields, true(), literal_column(etag_sql(layer.storage, t.name)))
