"""The land-fund list's filters, sorting and paging as SQLAlchemy expressions (no SQL text): what the list page
shows, and exactly what its downloads contain."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.sql import ColumnElement, Select

from ..models.admin_units import AdminUnit, FormerUnit
from ..stores.features import LayerSQL

PAGE_SIZE = 50
SORTABLE = (
    "code",
    "name",
    "admin_unit_code",
    "status",
    "fund_source",
    "area_m2",
    "est_units",
    "responsible_level",
    "clearance_status",
    "decision_date",
)
FILTERS = ("unit", "former", "status", "fund_source", "responsible_level", "clearance_status", "q")
SHEET_PARCEL = re.compile(r"^\s*(?:tờ\s*)?(\w+)\s*(?:/|-|\s+thửa\s+|\s+)\s*(\w+)\s*$", re.I)


@dataclass
class ListQuery:
    unit: str | None = None
    former: str | None = None  # a commune before 1 July 2025: its parcels, by their old address
    status: str | None = None
    fund_source: str | None = None
    responsible_level: str | None = None
    clearance_status: str | None = None
    q: str | None = None
    sort: str = "code"
    descending: bool = False
    page: int = 1
    extra: list[ColumnElement] = field(default_factory=list)

    def conditions(self, ls: LayerSQL) -> list[ColumnElement]:
        t = ls.table.c
        where: list[ColumnElement[bool]] = [ls.where, *self.extra]
        for name in ("status", "fund_source", "responsible_level", "clearance_status"):
            value = getattr(self, name)
            if value:
                where.append(ls.fields[name] == value)
        if self.unit:  # parcels inside the unit (any validity: a former district holds its communes' parcels)
            area = (
                select(AdminUnit.geom)
                .where(AdminUnit.code == self.unit)
                .order_by(AdminUnit.valid_from.desc())
                .limit(1)
                .scalar_subquery()
            )
            where.append(func.ST_Intersects(area, t.pos))
        if self.former:  # recorded with that former commune, or (not recorded) lying in the unit it became
            successor = select(FormerUnit.successor_code).where(FormerUnit.former_code == self.former).scalar_subquery()
            area = (
                select(AdminUnit.geom)
                .where(AdminUnit.code == successor)
                .order_by(AdminUnit.valid_from.desc())
                .limit(1)
                .scalar_subquery()
            )
            where.append(
                or_(
                    t.former_commune_code == self.former,
                    t.former_commune_code.is_(None) & func.ST_Intersects(area, t.pos),
                )
            )
        if self.q and self.q.strip():
            text = self.q.strip()
            like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            options: list[ColumnElement[bool]] = [
                t.code.ilike(like, escape="\\"),
                t.name.ilike(like, escape="\\"),
                t.map_sheet_no.ilike(like, escape="\\"),
                t.parcel_no.ilike(like, escape="\\"),
            ]
            m = SHEET_PARCEL.match(text)
            if m:
                options.append((t.map_sheet_no == m.group(1)) & (t.parcel_no == m.group(2)))
            where.append(or_(*options))
        return where

    def order(self, ls: LayerSQL) -> list:
        key = ls.fields[self.sort] if self.sort in SORTABLE else ls.fields["code"]
        first = key.desc().nulls_last() if self.descending else key.asc().nulls_last()
        return [first, ls.id.asc()]


def page_select(ls: LayerSQL, query: ListQuery, names: list[str], extra: dict | None = None) -> Select:
    cols = [ls.id.label("id"), *[ls.fields[n].label(n) for n in names], *[e.label(k) for k, e in (extra or {}).items()]]
    return (
        select(*cols)
        .select_from(ls.table)
        .where(*query.conditions(ls))
        .order_by(*query.order(ls))
        .offset((max(1, query.page) - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    )


def count_select(ls: LayerSQL, query: ListQuery) -> Select:
    return select(func.count().label("n")).select_from(ls.table).where(*query.conditions(ls))
