"""The steering committee's dashboard: the land fund by stage, progress against the province's target for the
period, eligible households and coverage, programme support by year, who holds the parcels overdue in a stage,
and the land added each quarter. Every figure is computed here from the stores; the pages only draw it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..catalogue import load_catalogue
from ..core.vocabulary import load_targets, load_workflow
from ..stores.analytics import AnalyticsStore
from . import bottlenecks
from .coverage import coverage, default_level


@dataclass
class Filters:
    as_of: date
    unit: str | None = None
    fund_source: str | None = None
    province: str | None = None  # GSO code; default: the deployment's own


def dashboard(conn, settings, reform: date, filters: Filters, published_only: bool) -> dict:
    """The dashboard's figures for the parcels in the land fund on `filters.as_of` (published ones only for the
    public; the overdue parcels only for planners), of one province: the deployment's unless `filters.province`
    names another (whose targets layers/targets.yaml does not hold: its progress is then left out)."""
    workflow = load_workflow(settings.layers_dir)
    targets = load_targets(settings.layers_dir)
    own = load_catalogue(settings.layers_dir).province.code
    province = filters.province or own
    as_of = filters.as_of
    level = default_level(as_of, reform)
    cov = coverage(
        conn,
        settings,
        as_of,
        level,
        unit=filters.unit,
        published_only=published_only,
        fund_source=filters.fund_source,
        province=province,
    )
    totals = cov.totals()
    by_stage = [
        {"stage": s, **totals["by_status"].get(s, {"parcels": 0, "area_m2": 0.0, "est_units": 0})}
        for s in workflow.order
    ]
    for row in by_stage:
        row["area_ha"] = round(row["area_m2"] / 1e4, 2)
    units_in = {r["stage"]: r["est_units"] for r in by_stage}
    period = targets.province.period(as_of.year) if province == own else None
    # dwellings handed over; a 20 % reserve paid for or provided elsewhere delivers none here
    final_done = [workflow.roles.completed]
    order = workflow.order
    investor_at = order.index(workflow.roles.investor)
    under_way = [s for s in order[investor_at:] if not workflow.stages[s].final]
    pipeline = [s for s in order[:investor_at] if s != workflow.withdrawn]
    progress = None
    if period is not None:
        done = sum(units_in.get(s, 0) for s in final_done)
        progress = {
            "from": period.first,
            "to": period.last,
            "target_units": period.units,
            "target_floor_m2": period.floor_m2,
            "completed_units": done,
            "under_way_units": sum(units_in.get(s, 0) for s in under_way),
            "pipeline_units": sum(units_in.get(s, 0) for s in pipeline),
            "completed_share": round(done / period.units, 4),
            "fund_share": round(totals["est_units"] / period.units, 4),
            "source": targets.province.source.model_dump(),
        }
    store = AnalyticsStore(conn)
    programmes = [
        {"year": y, "households": int(h or 0), "funding_vnd": int(f or 0)}
        for y, h, f in store.programmes_by_year(province=province)
    ]
    cumulative = [
        {"from": a, "to": b, "programme": p, "households": int(h or 0)}
        for a, b, p, h in store.cumulative_programmes(province=province)
    ]
    trend = [
        {
            "quarter": q.isoformat(),
            "label": f"Q{(q.month - 1) // 3 + 1}/{q.year}",
            "parcels": n,
            "area_ha": round((m2 or 0) / 1e4, 2),
            "est_units": int(u or 0),
        }
        for q, n, m2, u in store.added_by_quarter(
            settings, as_of, filters.unit, filters.fund_source, published_only, province=province
        )
    ]
    running = 0.0
    for t in trend:
        running += t["area_ha"]
        t["cumulative_ha"] = round(running, 2)
    overdue = None
    if not published_only:
        rep = bottlenecks.report(conn, settings, as_of, reform, filters.unit, filters.fund_source, province)
        overdue = {
            "totals": rep["totals"],
            "groups": [
                {
                    "responsible_level": g["responsible_level"],
                    "responsible_agency": g["responsible_agency"],
                    "findings": g["findings"],
                    "parcels": len(g["parcels"]),
                    "by_kind": g["by_kind"],
                }
                for g in rep["groups"]
            ],
        }
    units = sorted(
        (u.as_dict() for u in cov.units),
        key=lambda u: (u["coverage_ratio"] is None, u["coverage_ratio"] or 0, u["name"]),
    )
    return {
        "as_of": as_of.isoformat(),
        "level": level,
        "unit": filters.unit,
        "fund_source": filters.fund_source,
        "province": province,
        "published_only": published_only,
        "headline": {
            k: totals[k]
            for k in ("parcels", "area_m2", "est_units", "households", "coverage_ratio", "units_short_of_land", "units")
        }
        | {"area_ha": round(totals["area_m2"] / 1e4, 2)},
        "by_stage": by_stage,
        "progress": progress,
        "programmes": programmes,
        "cumulative_programmes": cumulative,
        "trend": trend,
        "overdue": overdue,
        "coverage": units,
    }
