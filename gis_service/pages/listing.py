"""The land-fund list in the browser: filters, sorting, paging, and downloads of exactly what is filtered (CSV for
Excel with Vietnamese settings, XLSX, GeoJSON, GPKG)."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from ..api.deps import CurrentPrincipal, reading
from ..api.errors import Problem
from ..catalogue import LayerDef
from ..i18n import day, value_labels
from ..ingest import tables
from ..query import listing
from ..security import Principal, visible_fields, visible_rows
from ..stores.admin_units import AdminUnitStore
from ..stores.base import compiled
from ..stores.features import LayerSQL, area_ha, layer_sql
from .common import load_units, present
from .render import Words, lang_of, page

router = APIRouter(include_in_schema=False, tags=["pages"])
COLUMNS = listing.SORTABLE  # the list shows, and sorts by, these
CHOICES = ("status", "fund_source", "responsible_level", "clearance_status")
LABELLED = (*CHOICES, "land_use_code")
DOWNLOADS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
}
KINDS = {"integer": "integer", "number": "number", "date": "date", "boolean": "boolean"}


def parcels_layer(request: Request) -> LayerDef:
    return request.app.state.catalogue.layer("parcels")


def parcels_sql(request: Request) -> LayerSQL:
    return layer_sql(parcels_layer(request), request.app.state.settings)


def list_query(request: Request, who: Principal) -> listing.ListQuery:
    """The list's filters, sorting and page from the query string; an unknown value is a 400 naming the choices."""
    qp = request.query_params
    layer = parcels_layer(request)
    query = listing.ListQuery(sort=qp.get("sort", "code"), descending=qp.get("dir") == "desc")
    for name in listing.FILTERS:
        value = (qp.get(name) or "").strip() or None
        if value is not None and name in CHOICES:
            choices = layer.attribute(name).values or {}
            if value not in choices:
                raise Problem(400, f"{name}: unknown value {value!r}; use one of {', '.join(choices)}")
        if value is not None and len(value) > 200:
            raise Problem(400, f"{name}: at most 200 characters")
        setattr(query, name, value)
    try:
        query.page = max(1, int(qp.get("page", "1")))
    except ValueError:
        raise Problem(400, "page: a whole number") from None
    if query.sort not in listing.SORTABLE:
        raise Problem(400, f"sort: one of {', '.join(listing.SORTABLE)}")
    query.extra = list(visible_rows(who, parcels_sql(request)))
    return query


def flash_of(request: Request, lang: str) -> str | None:
    """The line a page shows after a redirect (?done=saved …)."""
    msg = request.query_params.get("done") or ""
    t = Words(lang)
    if msg in ("saved", "moved", "decided", "sent"):
        return t(msg)
    if msg.startswith("imported:") and msg[9:].isdigit():
        return t("imported", n=msg[9:])
    return None


def _rows(conn, stmt) -> list[dict]:
    cur = conn.execute(*compiled(stmt))
    cols = [d.name for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


@router.get("/parcels")
async def parcel_list(request: Request, who: CurrentPrincipal):
    units = await load_units(request)
    lang = lang_of(request)
    t = Words(lang)
    query = list_query(request, who)
    ls = parcels_sql(request)
    layer = parcels_layer(request)
    visible = set(visible_fields(who, ls))
    names = [c for c in COLUMNS if c in visible]

    def read(conn):
        total = _rows(conn, listing.count_select(ls, query))[0]["n"]
        return total, _rows(conn, listing.page_select(ls, query, names)), AdminUnitStore(conn).former_communes()

    total, rows, former = await reading(request, read)
    former_groups: dict[str, list[tuple[str, str]]] = {}
    for code, name, district, successor in former:  # by former district, each naming the unit it became
        former_groups.setdefault(district or "", []).append((code, f"{name} → {units.get(successor, successor)}"))
    values = value_labels(layer, request.app.state.catalogue, lang)
    for r in rows:
        r["shown"] = {k: present(layer, k, v, lang, values, units) for k, v in r.items()}
        if r.get("area_m2") is not None:
            r["shown"]["area_m2"] = present(layer, "area_ha", r["area_m2"] / 1e4, lang, values, units)
    headers = {c: layer.attribute(c).title(lang) for c in names}
    headers["admin_unit_code"] = t("unit")
    if "area_m2" in headers:
        headers["area_m2"] = t("area_ha")
    options = {n: [(k, v.label(lang)) for k, v in (layer.attribute(n).values or {}).items()] for n in CHOICES}
    unit_options = sorted(units.items(), key=lambda kv: (len(kv[0]), kv[1]))
    return page(
        request,
        who,
        "parcels.html",
        active="list",
        rows=rows,
        total=total,
        page_no=query.page,
        pages=max(1, -(-total // listing.PAGE_SIZE)),
        columns=names,
        titles=headers,
        filters={n: getattr(query, n) or "" for n in listing.FILTERS},
        options=options,
        units=unit_options,
        former_groups=former_groups,
        sort=query.sort,
        descending=query.descending,
        flash=flash_of(request, lang),
        downloads=list(DOWNLOADS),
    )


@router.get("/parcels/download.{fmt}")
async def download(request: Request, fmt: str, who: CurrentPrincipal):
    """Exactly the parcels the list shows with the same filters, all its pages, as the viewer may see them."""
    if fmt not in DOWNLOADS:
        raise Problem(404, f"no download .{fmt}; there are: {', '.join(DOWNLOADS)}")
    units = await load_units(request)
    lang = lang_of(request)
    query = list_query(request, who)
    ls = parcels_sql(request)
    layer = parcels_layer(request)
    visible = [a for a in layer.attributes if a.name in set(visible_fields(who, ls))]
    filename = f"quy-dat-{date.today().isoformat()}.{fmt}"
    if fmt in ("geojson", "gpkg"):
        path = await run_in_threadpool(_spatial, request, ls, layer, [a.name for a in visible], query, fmt)
        return FileResponse(
            path,
            media_type=DOWNLOADS[fmt],
            filename=filename,
            background=BackgroundTask(shutil.rmtree, path.parent, True),
        )
    stmt = listing.page_select(ls, query, [a.name for a in visible], {"area_ha": area_ha(ls)}).limit(None).offset(None)
    data = await reading(request, lambda conn: _rows(conn, stmt))
    values = value_labels(layer, request.app.state.catalogue, lang)
    for r in data:  # people's spreadsheets: labels and unit names; numbers and dates stay values
        for name in LABELLED:
            if r.get(name) in values.get(name, {}):
                r[name] = values[name][r[name]]
        r["admin_unit_name"] = units.get(r.get("admin_unit_code") or "", "")
    columns = _columns(visible, lang)
    if fmt == "csv":
        body = tables.csv_bytes(columns, data, lang)
    else:
        body = await run_in_threadpool(
            tables.xlsx_bytes,
            [tables.Sheet(Words(lang)("nav_list"), columns, data)],
            _about(request, who, query, lang, len(data)),
            Words(lang)("source"),
        )
    return Response(
        body, media_type=DOWNLOADS[fmt], headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def _spatial(
    request: Request, ls: LayerSQL, layer: LayerDef, names: list[str], query: listing.ListQuery, fmt: str
) -> Path:
    from ..ingest.export import frame_of, write_frame

    with request.app.state.db.read() as conn:
        frame = frame_of(conn, ls, names, query.conditions(ls), query.order(ls))
    return write_frame(frame, layer, Path(tempfile.mkdtemp(prefix="landfund-")) / f"parcels.{fmt}", fmt)


def _columns(visible, lang: str) -> list[tables.Column]:
    t = Words(lang)
    columns = [tables.Column("id", "ID", "integer", width=8)]
    for a in visible:
        if a.name == "area_m2":
            continue
        title = a.title(lang)
        columns.append(tables.Column(a.name, title, KINDS.get(a.type, "text"), width=max(10, min(40, len(title) + 2))))
        if a.name == "admin_unit_code":
            columns.append(tables.Column("admin_unit_name", t("unit_name"), width=24))
    columns.append(tables.Column("area_ha", t("area_ha"), "number", 4))
    return columns


def _about(request: Request, who: Principal, query: listing.ListQuery, lang: str, count: int) -> list[tuple[str, str]]:
    """The 'source' sheet of a workbook: where the figures come from, when, filtered how, seen by whom."""
    t = Words(lang)
    filters = "; ".join(f"{n}={getattr(query, n)}" for n in listing.FILTERS if getattr(query, n)) or t("all")
    return [
        (t("source"), f"landfund, {request.url.netloc}: {t('list_title')}"),
        (t("made_on"), day(date.today(), lang)),
        (t("filter"), filters),
        (t("parcel_count"), str(count)),
        (t("viewer"), who.name if who.authenticated else t("public_view")),
    ]
