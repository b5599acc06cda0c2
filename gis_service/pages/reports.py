"""The steering committee's dashboard and the reports (coverage, bottlenecks, suitability) as pages, in Vietnamese
with `lang=en`; each also downloads as XLSX (typed cells, one sheet per table, a sheet naming the source, date and
filters), as CSV for Excel, and as a printable A4 PDF with its charts (WeasyPrint)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ..analytics import bottlenecks as bn
from ..analytics import suitability as su
from ..analytics.coverage import coverage, default_level
from ..analytics.dashboard import Filters, dashboard
from ..api.deps import CurrentPrincipal, Planner, reading
from ..api.errors import Problem
from ..api.params import check_report_filters, suitability_query
from ..api.province import province_param
from ..i18n import day, value_labels
from ..ingest import tables
from ..security import Principal
from ..services import reports
from . import charts
from .common import load_units, units_in_force
from .render import ENV, Words, context, lang_of, page

router = APIRouter(include_in_schema=False, tags=["pages"])
FORMATS = {
    "html": None,
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
}


@dataclass
class Asked:
    """What a report page was asked: its date, unit, fund source, format."""

    as_of: date
    unit: str | None
    fund_source: str | None
    fmt: str
    province: str | None = None  # another province than the deployment's, when asked for

    def described(self, t, units: dict) -> str:
        parts = [f"{t('as_of')}: {day(self.as_of, t.lang)}"]
        if self.province:
            parts.append(f"{t('f_province')}: {units.get(self.province, self.province)}")
        if self.unit:
            parts.append(f"{t('unit')}: {units.get(self.unit, self.unit)}")
        if self.fund_source:
            parts.append(f"{t('f_fund_source')}: {self.fund_source}")
        return "; ".join(parts)


def asked(request: Request) -> Asked:
    qp = request.query_params
    try:
        as_of = date.fromisoformat(qp["as_of"]) if qp.get("as_of") else date.today()
    except ValueError:
        raise Problem(400, "as_of: a date (YYYY-MM-DD)") from None
    fmt = qp.get("f") or "html"
    if fmt not in FORMATS:
        raise Problem(400, f"f: one of {', '.join(FORMATS)}")
    fund = qp.get("fund_source") or None
    unit = (qp.get("unit") or "").strip() or None
    check_report_filters(request.app.state.catalogue, getattr(request.app.state, "unit_names", None) or {}, unit, fund)
    return Asked(as_of, unit, fund, fmt)


async def report_request(request: Request, province: str) -> tuple[dict, Asked, str, Words, Any]:
    """What every report handler starts from: the unit names, what was asked (of which province), the language and
    its words, the app's state."""
    units = await load_units(request)
    lang = lang_of(request)
    a = asked(request)
    if province != request.app.state.catalogue.province.code:
        a.province = province
    return units, a, lang, Words(lang), request.app.state


def _labels(request: Request, lang: str, units: dict) -> reports.Labels:
    catalogue = request.app.state.catalogue
    return reports.Labels(value_labels(catalogue.layer("parcels"), catalogue, lang), units, lang)


def _choices(request: Request, lang: str, province: str | None) -> dict[str, Any]:
    layer = request.app.state.catalogue.layer("parcels")
    return {
        "fund_sources": [(k, v.label(lang)) for k, v in (layer.attribute("fund_source").values or {}).items()],
        "unit_choices": units_in_force(request, "commune", province) + units_in_force(request, "district", province),
    }


def _respond(
    request: Request,
    who: Principal,
    a: Asked,
    template: str,
    title: str,
    sheets: list[tables.Sheet],
    filename: str,
    **extra,
) -> Response:
    """The report in the asked format: its page, its workbook, its CSV (the first table) or its PDF."""
    lang = lang_of(request)
    t = Words(lang)
    units = request.app.state.unit_names
    filters = a.described(t, units)
    active = extra.pop("active", "reports")
    if a.fmt == "xlsx":
        about = [
            (t("report"), title),
            (t("source"), f"landfund, {request.url.netloc}"),
            (t("made_on"), day(date.today(), lang)),
            (t("filters_used"), filters),
            (t("viewer"), who.name if who.authenticated else t("public_view")),
        ]
        body = tables.xlsx_bytes(sheets, about, t("source"))
        return _download(body, "xlsx", filename)
    if a.fmt == "csv":
        return _download(tables.csv_bytes(sheets[0].columns, sheets[0].rows, lang), "csv", filename)
    ctx = dict(
        report_title=title,
        filters_text=filters,
        asked=a,
        sheets=sheets,
        province_name=units.get(a.province, a.province) if a.province else None,
        **_choices(request, lang, a.province),
        **extra,
    )
    if a.fmt == "pdf":
        html = ENV.get_template(template).render(**context(request, who, printing=True, **ctx))
        return _download(_pdf(html), "pdf", filename)
    return page(request, who, template, active=active, printing=False, **ctx)


def _download(body: bytes, fmt: str, filename: str) -> Response:
    return Response(
        body, media_type=FORMATS[fmt], headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'}
    )


def _pdf(html: str) -> bytes:
    """A4 pages with page numbers, the date and the filters (print.css), the charts as vectors. WeasyPrint reads
    nothing over the network: the stylesheet is a local file, the charts are inline SVG."""
    import weasyprint

    from .render import HERE

    def no_fetch(url: str, *args, **kwargs):
        raise ValueError(f"a report fetches nothing ({url})")

    css = weasyprint.CSS(filename=str(HERE.parent / "static" / "landfund" / "print.css"))
    return weasyprint.HTML(string=html, url_fetcher=no_fetch).write_pdf(stylesheets=[css])


def _table(keys: list[str], rows: list[dict], lang: str, title: str) -> tables.Sheet:
    return tables.Sheet(title, reports.columns(keys, lang), rows)


# -- the dashboard -------------------------------------------------------------------------------------------------


@router.get("/dashboard")
async def dashboard_page(request: Request, who: CurrentPrincipal, province: str = Depends(province_param)):
    units, a, lang, t, st = await report_request(request, province)
    filters = Filters(a.as_of, a.unit, a.fund_source, province)
    data = await reading(
        request,
        lambda conn: dashboard(
            conn, st.settings, st.catalogue.province.reform_date, filters, published_only=not who.privileged
        ),
    )
    stages = st.catalogue.workflow.stages
    labels = _labels(request, lang, units)
    kinds = {k: reports.title(k, lang) for k in bn.KINDS}

    def draw():
        out = {
            "pipeline": charts.svg(charts.pipeline(data["by_stage"], stages, t), lang, t("chart_pipeline")),
            "coverage": charts.svg(charts.coverage_bars(data["coverage"], t), lang, t("chart_coverage_by_unit")),
            "trend": charts.svg(charts.trend(data["trend"], t), lang, t("chart_trend")),
            "programmes": charts.svg(charts.programmes(data["programmes"], t), lang, t("chart_programmes")),
        }
        if data["overdue"] is not None:
            out["overdue"] = charts.svg(charts.overdue(data["overdue"]["groups"], t, kinds), lang, t("chart_overdue"))
        return out

    drawn = await run_in_threadpool(draw)
    stage_rows = [
        {
            "stage": stages[r["stage"]].label(lang),
            "parcels": r["parcels"],
            "area_ha": r["area_ha"],
            "est_units": r["est_units"],
        }
        for r in data["by_stage"]
    ]
    sheets = [
        _table(["stage", "parcels", "area_ha", "est_units"], stage_rows, lang, t("chart_pipeline")),
        _table(
            reports.COVERAGE_BRIEF,
            data["coverage"],
            lang,
            t("chart_coverage_by_unit"),
        ),
        _table(
            ["quarter", "parcels", "area_ha", "est_units", "cumulative_ha"],
            [{**r, "quarter": r["label"]} for r in data["trend"]],
            lang,
            t("chart_trend"),
        ),
        _table(["year", "households", "funding_vnd"], data["programmes"], lang, t("chart_programmes")),
    ]
    if data["overdue"] is not None:
        sheets.append(
            _table(
                reports.GROUPS,
                [labels.row({**g, **g["by_kind"]}) for g in data["overdue"]["groups"]],
                lang,
                t("chart_overdue"),
            )
        )
    return _respond(
        request,
        who,
        a,
        "dashboard.html",
        t("dashboard_title"),
        sheets,
        f"bang-dieu-khien-{a.as_of}",
        data=data,
        charts=drawn,
        active_level=data["level"],
        active="dashboard",
    )


# -- reports ---------------------------------------------------------------------------------------------------------


@router.get("/reports")
async def reports_index(request: Request, who: CurrentPrincipal):
    await load_units(request)
    items = [
        ("dashboard", "/dashboard", True),
        ("coverage", "/reports/coverage", True),
        ("bottlenecks", "/reports/bottlenecks", who.privileged),
        ("suitability", "/reports/suitability", True),
    ]
    return page(
        request,
        who,
        "reports.html",
        active="reports",
        reports=[{"id": r, "href": href} for r, href, shown in items if shown],
        downloads=["xlsx", "pdf", "csv"],
    )


@router.get("/reports/coverage")
async def coverage_report(request: Request, who: CurrentPrincipal, province: str = Depends(province_param)):
    units, a, lang, t, st = await report_request(request, province)
    level = default_level(a.as_of, st.catalogue.province.reform_date)
    cov = await reading(
        request,
        lambda conn: coverage(
            conn, st.settings, a.as_of, level, None, a.unit, not who.privileged, a.fund_source, province
        ).as_dict(),
    )
    ordered = sorted(cov["units"], key=lambda u: (u["coverage_ratio"] is None, u["coverage_ratio"] or 0))
    chart = await run_in_threadpool(
        lambda: charts.svg(charts.coverage_bars(ordered, t), lang, t("chart_coverage_by_unit"))
    )
    sheets = reports.coverage_sheets({"units": ordered}, _labels(request, lang, units), t("report_coverage"))
    return _respond(
        request,
        who,
        a,
        "report_coverage.html",
        t("report_coverage"),
        sheets,
        f"dap-ung-{a.as_of}",
        report=cov,
        chart=chart,
        level=level,
    )


@router.get("/reports/bottlenecks")
async def bottlenecks_report(request: Request, who: Planner, province: str = Depends(province_param)):
    units, a, lang, t, st = await report_request(request, province)
    rep = await reading(
        request,
        lambda conn: bn.report(
            conn, st.settings, a.as_of, st.catalogue.province.reform_date, a.unit, a.fund_source, province
        ),
    )
    kinds = {k: reports.title(k, lang) for k in bn.KINDS}
    chart = await run_in_threadpool(
        lambda: charts.svg(
            charts.overdue([{**g, "parcels": len(g["parcels"])} for g in rep["groups"]], t, kinds),
            lang,
            t("chart_overdue"),
        )
    )
    sheets = reports.bottleneck_sheets(rep, _labels(request, lang, units), (t("by_holder"), t("findings_list")))
    return _respond(
        request,
        who,
        a,
        "report_bottlenecks.html",
        t("report_bottlenecks"),
        sheets,
        f"cham-tien-do-{a.as_of}",
        report=rep,
        chart=chart,
        kinds=kinds,
        stage_names={k: v.label(lang) for k, v in st.catalogue.workflow.stages.items()},
    )


@router.get("/reports/suitability")
async def suitability_report(request: Request, who: CurrentPrincipal, req: su.Request = Depends(suitability_query)):
    units, a, lang, t, st = await report_request(request, req.province or request.app.state.catalogue.province.code)
    ranked = await reading(request, lambda conn: su.rank(conn, st.settings, req))
    sheets = reports.suitability_sheets(ranked, _labels(request, lang, units), t("report_suitability"))
    return _respond(
        request,
        who,
        a,
        "report_suitability.html",
        t("report_suitability"),
        sheets,
        f"xep-hang-dia-diem-{a.as_of}",
        ranked=ranked,
        weights=req.weights.model_dump(),
    )
