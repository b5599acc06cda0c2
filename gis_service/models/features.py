"""Every catalogue layer as one selectable: an `id`, its fields under their catalogue names, and `geom`.

Export, the feature API and the maps all read layers through this, so a field is spelled and computed
the same way everywhere (est_units included)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, Boolean, Date, Float, String, cast, false, literal, true
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


def layer_sql(layer: LayerDef, settings) -> LayerSQL:
    if layer.storage == "reference":
        t = ReferenceFeature.__table__
        props = t.c.properties
        fields: dict[str, ColumnElement] = {}
        for a in layer.attributes:
            text = props[a.name].astext
            fields[a.name] = text if a.type == "string" else cast(text, SQL_TYPES[a.type])
        return LayerSQL(layer, t, t.c.id, t.c.geom, fields, t.c.layer == literal(layer.id))
    t = TABLES[layer.storage].__table__
    fields = {}
    for a in layer.attributes:
        if layer.storage == "parcels" and a.name == "est_units":
            fields[a.name] = est_units_column(settings)
        else:
            fields[a.name] = t.c[a.name]
    geom = t.c.geom if layer.spatial else None
    return LayerSQL(layer, t, t.c.id, geom, fields, true() if layer.storage != "reference" else false())
