"""Land-fund analytics: coverage against demand, the bottleneck report, site suitability (JSON or CSV)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request

from ...analytics import bottlenecks as bn
from ...analytics import suitability as su
from ...analytics.coverage import LEVELS, coverage, default_level
from ...security import Principal
from ..deps import Planner, principal, reading
from ..render import csv_response, json_response, media

router = APIRouter(prefix="/analytics", tags=["Analytics"])
Fmt = Literal["json", "csv"]


@router.get(
    "/coverage",
    summary="Land-fund coverage against demand per administrative unit, as of a date",
    responses=media("application/json", "text/csv"),
)
async def get_coverage(
    request: Request,
    as_of: date | None = Query(None, description="Default: today."),
    level: Literal["province", "district", "commune"] | None = Query(
        None, description="Default: districts before 1 July 2025, communes after."
    ),
    year: int | None = Query(None, ge=2000, le=2100, description="Demand/programme year (default: that of as_of)."),
    unit: str | None = Query(None, description="One unit's GSO code."),
    f: Fmt = "json",
    who: Principal = Depends(principal),
):
    """Planners see the whole land fund; everyone else, the published parcels only."""
    st = request.app.state
    when = as_of or date.today()
    lvl = level or default_level(when, st.catalogue.province.reform_date)
    cov = await reading(
        request, lambda conn: coverage(conn, st.settings, when, lvl, year, unit, published_only=not who.privileged)
    )
    body = cov.as_dict()
    if f == "csv":
        cols = [
            "code",
            "name",
            "level",
            "parcels",
            "area_ha",
            "est_units",
            "households",
            "demand_year",
            "coverage_ratio",
            "short_of_land",
            "shortfall_units",
            "programme_households",
            "programme_funding_vnd",
            "programme_year",
        ]
        return csv_response(body["units"], cols, f"coverage-{lvl}-{when.isoformat()}.csv")
    return json_response(body)


@router.get(
    "/bottlenecks",
    summary="Parcels stuck in a stage, grouped by responsible level and agency",
    responses=media("application/json", "text/csv"),
)
async def get_bottlenecks(
    request: Request, who: Planner, as_of: date | None = Query(None, description="Default: today."), f: Fmt = "json"
):
    st = request.app.state
    body = await reading(
        request, lambda conn: bn.report(conn, st.settings, as_of or date.today(), st.catalogue.province.reform_date)
    )
    if f == "csv":
        cols = [
            "kind",
            "code",
            "name",
            "status",
            "clearance_status",
            "responsible_level",
            "responsible_agency",
            "admin_unit_code",
            "in_stage_since",
            "days_in_stage",
            "limit_days",
        ]
        return csv_response(body["findings"], cols, "bottlenecks.csv")
    return json_response(body)


@router.get(
    "/suitability",
    summary="Parcels open for investment, ranked by weighted criteria, each explained",
    responses=media("application/json", "text/csv"),
)
async def get_suitability(
    request: Request,
    who: Principal = Depends(principal),
    w_road: float | None = Query(None, ge=0, le=100),
    w_town: float | None = Query(None, ge=0, le=100),
    w_school: float | None = Query(None, ge=0, le=100),
    w_health: float | None = Query(None, ge=0, le=100),
    w_area: float | None = Query(None, ge=0, le=100),
    w_clearance: float | None = Query(None, ge=0, le=100),
    preferred_min_ha: float = Query(0.5, ge=0.001, le=1000),
    preferred_max_ha: float = Query(3.0, ge=0.001, le=1000),
    hazards: Literal["penalty", "exclude", "ignore"] = "penalty",
    hazard_penalty: float = Query(0.3, ge=0, le=1),
    admin_unit: str | None = Query(None, description="GSO code: only parcels inside this unit."),
    min_area_ha: float | None = Query(None, ge=0, le=10000),
    limit: int = Query(100, ge=1, le=10_000),
    f: Fmt = "json",
):
    st = request.app.state
    weights = st.settings.suitability_weights.model_dump()
    for k, v in {
        "road": w_road,
        "town": w_town,
        "school": w_school,
        "health": w_health,
        "area": w_area,
        "clearance": w_clearance,
    }.items():
        if v is not None:
            weights[k] = round(v, 6)  # weights are relative: 1e-300 is 0, not a float the database underflows on
    hazard_penalty = round(hazard_penalty, 6)
    req = su.Request(
        weights=su.Weights(**weights),
        preferred_ha=(preferred_min_ha, preferred_max_ha),
        hazards=hazards,
        hazard_penalty=hazard_penalty,
        admin_unit=admin_unit,
        min_area_ha=min_area_ha,
        limit=limit,
        published_only=not who.privileged,
    )
    ranked = await reading(request, lambda conn: su.rank(conn, st.settings, req))
    if f == "csv":
        flat = []
        for r in ranked:
            row = {
                k: r[k]
                for k in (
                    "rank",
                    "id",
                    "code",
                    "name",
                    "admin_unit_code",
                    "area_ha",
                    "est_units",
                    "score",
                    "hazard_penalty",
                )
            }
            for k, c in r["criteria"].items():
                row[f"{k}_score"] = c["score"]
                if c["distance_m"] is not None:
                    row[f"{k}_m"] = c["distance_m"]
            row["hazards"] = "; ".join(f"{h['hazard']} ({h['severity']})" for h in r["hazards"])
            flat.append(row)
        cols = list(flat[0].keys()) if flat else ["rank", "code", "score"]
        return csv_response(flat, cols, "suitability.csv")
    return json_response(
        {
            "weights": weights,
            "preferred_ha": [preferred_min_ha, preferred_max_ha],
            "hazards": hazards,
            "count": len(ranked),
            "sites": ranked,
        }
    )


__all__ = ["LEVELS", "router"]
