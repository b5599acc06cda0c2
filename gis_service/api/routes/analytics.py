"""Land-fund analytics: coverage against demand, the bottleneck report, site suitability: JSON for programs, CSV
for spreadsheets (Vietnamese Excel by default, `lang=en` for English), and for a browser (or `f=html`) the report's
page, where it also downloads as XLSX and PDF."""

from __future__ import annotations

from datetime import date
from typing import Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from ...analytics import bottlenecks as bn
from ...analytics import suitability as su
from ...analytics.coverage import LEVELS, coverage, default_level
from ...core.vocabulary import LANG_PATTERN, LANGS
from ...i18n import value_labels
from ...ingest.tables import csv_bytes
from ...security import Principal
from ...services import reports
from ...stores.admin_units import AdminUnitStore
from ..deps import Planner, principal, reading
from ..params import check_report_filters, suitability_query
from ..province import province_param
from ..render import json_response, media, negotiate

router = APIRouter(prefix="/analytics", tags=["Analytics"])
Fmt = Literal["json", "csv", "html"]
LANG = Query(LANGS[0], pattern=LANG_PATTERN, description="Language of a CSV's headers, labels and number format.")


async def _page(request: Request, name: str, f: str | None) -> RedirectResponse | None:
    """A browser asking for HTML goes to the report's page, with the same question, once the question is one the
    page can answer (else the 400 is this API's problem document, not a page's)."""
    if negotiate(request, f, ("json", "html", "csv")) != "html":
        return None
    qp = request.query_params
    unit = (qp.get("unit") or qp.get("admin_unit") or "").strip()
    names = await reading(request, lambda conn: AdminUnitStore(conn).names()) if unit else {}
    check_report_filters(request.app.state.catalogue, names, unit, qp.get("fund_source"))
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "f"])
    return RedirectResponse(f"/reports/{name}" + (f"?{query}" if query else ""), status_code=303)


def _labels(request: Request, conn, lang: str) -> reports.Labels:
    catalogue = request.app.state.catalogue
    return reports.Labels(value_labels(catalogue.layer("parcels"), catalogue, lang), AdminUnitStore(conn).names(), lang)


def _csv(sheet, filename: str, lang: str) -> Response:
    return Response(
        csv_bytes(sheet.columns, sheet.rows, lang),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/coverage",
    summary="Land-fund coverage against demand per administrative unit, as of a date",
    responses=media("application/json", "text/csv", "text/html"),
)
async def get_coverage(
    request: Request,
    as_of: date | None = Query(None, description="Default: today. Counts the parcels in the land fund on that day."),
    level: Literal["province", "district", "commune"] | None = Query(
        None, description="Default: districts before 1 July 2025, communes after."
    ),
    year: int | None = Query(None, ge=2000, le=2100, description="Demand/programme year (default: that of as_of)."),
    unit: str | None = Query(None, description="One unit's GSO code."),
    fund_source: str | None = Query(None, description="Only parcels of this fund source."),
    f: Fmt | None = None,
    lang: str = LANG,
    who: Principal = Depends(principal),
    province: str = Depends(province_param),
):
    """Planners see the whole land fund; everyone else, the published parcels only."""
    if (page := await _page(request, "coverage", f)) is not None:
        return page
    st = request.app.state
    when = as_of or date.today()
    lvl = level or default_level(when, st.catalogue.province.reform_date)

    def work(conn):
        cov = coverage(
            conn,
            st.settings,
            when,
            lvl,
            year,
            unit,
            published_only=not who.privileged,
            fund_source=fund_source,
            province=province,
        )
        return cov.as_dict(), (_labels(request, conn, lang) if f == "csv" else None)

    body, labels = await reading(request, work)
    if f == "csv":
        sheet = reports.coverage_sheets(body, labels, "coverage")[0]
        return _csv(sheet, f"coverage-{lvl}-{when.isoformat()}.csv", lang)
    return json_response(body)


@router.get(
    "/bottlenecks",
    summary="Parcels stuck in a stage, grouped by responsible level and agency",
    responses=media("application/json", "text/csv", "text/html"),
)
async def get_bottlenecks(
    request: Request,
    who: Planner,
    as_of: date | None = Query(None, description="Default: today."),
    unit: str | None = Query(None, description="Only parcels inside this unit (GSO code)."),
    fund_source: str | None = Query(None, description="Only parcels of this fund source."),
    f: Fmt | None = None,
    lang: str = LANG,
    province: str = Depends(province_param),
):
    if (page := await _page(request, "bottlenecks", f)) is not None:
        return page
    st = request.app.state

    def work(conn):
        when = as_of or date.today()
        body = bn.report(conn, st.settings, when, st.catalogue.province.reform_date, unit, fund_source, province)
        return body, (_labels(request, conn, lang) if f == "csv" else None)

    body, labels = await reading(request, work)
    if f == "csv":
        sheet = reports.bottleneck_sheets(body, labels, ("groups", "findings"))[1]
        return _csv(sheet, "bottlenecks.csv", lang)
    return json_response(body)


@router.get(
    "/suitability",
    summary="Parcels open for investment, ranked by weighted criteria, each explained",
    responses=media("application/json", "text/csv", "text/html"),
)
async def get_suitability(
    request: Request,
    req: su.Request = Depends(suitability_query),
    f: Fmt | None = None,
    lang: str = LANG,
):
    if (page := await _page(request, "suitability", f)) is not None:
        return page
    st = request.app.state

    def work(conn):
        return su.rank(conn, st.settings, req), (_labels(request, conn, lang) if f == "csv" else None)

    ranked, labels = await reading(request, work)
    if f == "csv":
        return _csv(reports.suitability_sheets(ranked, labels, "sites")[0], "suitability.csv", lang)
    return json_response(
        {
            "weights": req.weights.model_dump(),
            "preferred_ha": list(req.preferred_ha),
            "hazards": req.hazards,
            "count": len(ranked),
            "sites": ranked,
        }
    )


__all__ = ["LEVELS", "router"]
