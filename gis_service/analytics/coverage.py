"""Land-fund coverage against demand, per administrative unit, as of a date.

A parcel belongs to the unit of the requested level that holds its stored inner point (`parcels.pos`), so
each parcel counts once per level, for the former districts (before 1 July 2025) and for the communes
and wards after. Withdrawn parcels are reported but do not count towards the fund.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ..catalogue import load_catalogue
from ..core.vocabulary import (
    LEVELS,  # noqa: F401 - the levels a coverage report is asked for
    load_workflow,
)
from ..stores.analytics import AnalyticsStore


@dataclass
class UnitCoverage:
    code: str
    name: str
    level: str
    unit_type: str | None
    parcels: int = 0
    area_m2: float = 0.0
    est_units: int = 0
    by_status: dict[str, dict] = field(default_factory=dict)
    households: int | None = None
    demand_year: int | None = None
    programme_households: int | None = None
    programme_funding_vnd: int | None = None
    programme_year: int | None = None

    @property
    def coverage_ratio(self) -> float | None:
        return round(self.est_units / self.households, 4) if self.households else None

    @property
    def short_of_land(self) -> bool:
        """Has eligible households but not enough land for them."""
        return self.households is not None and self.households > 0 and self.est_units < self.households

    @property
    def shortfall_units(self) -> int:
        return max(0, (self.households or 0) - self.est_units)

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "level": self.level,
            "unit_type": self.unit_type,
            "parcels": self.parcels,
            "area_m2": round(self.area_m2, 1),
            "area_ha": round(self.area_m2 / 1e4, 2),
            "est_units": self.est_units,
            "households": self.households,
            "demand_year": self.demand_year,
            "coverage_ratio": self.coverage_ratio,
            "short_of_land": self.short_of_land,
            "shortfall_units": self.shortfall_units,
            "programme_households": self.programme_households,
            "programme_funding_vnd": self.programme_funding_vnd,
            "programme_year": self.programme_year,
            "by_status": self.by_status,
        }


@dataclass
class Coverage:
    as_of: date
    level: str
    units: list[UnitCoverage]

    def totals(self) -> dict:
        households = [u.households for u in self.units if u.households is not None]
        est = sum(u.est_units for u in self.units)
        hh = sum(households) if households else None
        by_status: dict[str, dict] = {}
        for u in self.units:
            for s, v in u.by_status.items():
                t = by_status.setdefault(s, {"parcels": 0, "area_m2": 0.0, "est_units": 0})
                t["parcels"] += v["parcels"]
                t["area_m2"] = round(t["area_m2"] + v["area_m2"], 1)
                t["est_units"] += v["est_units"]
        prog = [u for u in self.units if u.programme_households is not None]
        return {
            "units": len(self.units),
            "parcels": sum(u.parcels for u in self.units),
            "area_m2": round(sum(u.area_m2 for u in self.units), 1),
            "est_units": est,
            "households": hh,
            "coverage_ratio": round(est / hh, 4) if hh else None,
            "units_short_of_land": sum(1 for u in self.units if u.short_of_land),
            "programme_households": sum(u.programme_households for u in prog) if prog else None,
            "programme_funding_vnd": sum(u.programme_funding_vnd or 0 for u in prog) if prog else None,
            "by_status": by_status,
        }

    def as_dict(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "level": self.level,
            "units": [u.as_dict() for u in self.units],
            "totals": self.totals(),
        }


def default_level(as_of: date, reform: date) -> str:
    """Districts before the 2025 reform, communes and wards after."""
    return "district" if as_of < reform else "commune"


def coverage(
    conn,
    settings,
    as_of: date,
    level: str,
    year: int | None = None,
    unit: str | None = None,
    published_only: bool = False,
    fund_source: str | None = None,
    province: str | None = None,
) -> Coverage:
    """Per-unit coverage of the parcels in the land fund on `as_of` (of `fund_source` when given).
    `published_only` counts only published parcels (what the public may know of)."""
    year = year or as_of.year
    workflow = load_workflow(settings.layers_dir)
    workflow_order, gone = workflow.order, workflow.gone()
    units_rows, by_status, demand, programmes = AnalyticsStore(conn).coverage(
        settings,
        level,
        as_of,
        year,
        unit,
        published_only,
        fund_source,
        # the province asked for, else the deployment's: never another's
        province=province or load_catalogue(settings.layers_dir).province.code,
    )
    units = {r[0]: UnitCoverage(r[0], r[1], r[2], r[3]) for r in units_rows}
    for code, status, n, area, est in by_status:
        u = units[code]
        u.by_status[status] = {"parcels": n, "area_m2": round(area or 0, 1), "est_units": int(est or 0)}
        if status not in gone:
            u.parcels += n
            u.area_m2 += area or 0
            u.est_units += int(est or 0)
    for code, y, households in demand:
        if code in units:
            units[code].households, units[code].demand_year = households, y
    for code, y, households, funding in programmes:
        if code in units:
            u = units[code]
            u.programme_households, u.programme_funding_vnd, u.programme_year = households, funding, y
    order = {s: i for i, s in enumerate(workflow_order)}
    for u in units.values():  # the workflow's order of statuses in every unit
        u.by_status = dict(sorted(u.by_status.items(), key=lambda kv: order.get(kv[0], len(order))))
    return Coverage(as_of, level, list(units.values()))
