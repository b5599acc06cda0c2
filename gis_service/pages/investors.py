"""The investor's portal: the sites open for investment ranked beside a map, the weights, hazard handling and
minimum area as controls (the list and the map come from the same ranking), each site's score explained criterion
by criterion in words, a comparison of up to four sites, and a dossier per site to print, with its boundary as
GeoJSON, KML and DXF in WGS 84 and VN-2000."""

from __future__ import annotations

import re

import shapely
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ..analytics import suitability as su
from ..api.deps import CurrentPrincipal, reading
from ..api.errors import Problem
from ..api.params import suitability_query
from ..core.errors import NotFound
from ..crs import VN2000_TM3, zone_label
from ..i18n import number, value_labels
from ..ingest.drawings import FORMATS as DRAWINGS
from ..ingest.drawings import boundary_file
from ..maps.site import DRAW_VERTICES, SHEET_VERTICES, simplified_boundary
from ..security import Principal, visible_fields, visible_rows
from ..stores.features import FeatureStore, layer_sql
from ..stores.parcels import ParcelStore
from ..stores.provinces import ProvinceStore
from .common import load_units, present, units_in_force
from .render import ENV, Words, context, lang_of, page

router = APIRouter(include_in_schema=False, tags=["pages"])
MAX_COMPARE = 4
FACTS = (
    "code",
    "name",
    "admin_unit_code",
    "map_sheet_no",
    "parcel_no",
    "land_use_code",
    "fund_source",
    "clearance_status",
    "max_far",
    "max_density",
    "max_floors",
    "responsible_level",
    "responsible_agency",
    "decision_no",
    "decision_date",
    "area_m2",
    "legal_area_m2",
    "est_units",
)
# WGS 84, or any VN-2000 zone (a surveyor works in the province's own: the dossier offers that one)
CRS_CHOICES = {"4326": "EPSG:4326"} | {str(code): f"EPSG:{code}" for code in sorted(VN2000_TM3.values())}


def grade(score: float, t) -> str:
    """A criterion's score in words an investor reads."""
    for bound, key in ((0.8, "grade_very_good"), (0.5, "grade_good"), (0.2, "grade_fair")):
        if score >= bound:
            return t(key)
    return t("grade_poor")


def explain(site: dict, req: su.Request, t, values: dict) -> list[dict]:
    """Each criterion of a site's score: what was measured, how good it is, its weight and what it adds."""
    lang = t.lang
    lo, hi = req.preferred_ha
    out = []
    for k, c in site["criteria"].items():
        if c["distance_m"] is not None:
            measured = t(f"measured_{k}", d=number(c["distance_m"], lang, 0))
        elif k == "area":
            ha = c["value"] or 0
            where = "area_inside" if lo <= ha <= hi else ("area_small" if ha < lo else "area_large")
            measured = t(where, ha=number(ha, lang, 2), lo=number(lo, lang, 2), hi=number(hi, lang, 2))
        elif k == "clearance":
            measured = t("measured_clearance", s=values.get("clearance_status", {}).get(c["value"], c["value"] or "—"))
        else:
            measured = t("measured_missing")
        out.append(
            {
                "key": k,
                "label": t(f"crit_{k}"),
                "measured": measured,
                "grade": grade(c["score"], t),
                "score": c["score"],
                "weight": c["weight"],
                "points": round(c["contribution"] * 100, 1),
            }
        )
    return out


def hazard_text(h: dict, values: dict, t) -> str:
    kind = values.get("hazard", {}).get(h.get("hazard"), h.get("hazard"))
    severity = values.get("severity", {}).get(h.get("severity"), h.get("severity"))
    return f"{kind} ({severity})" + (f": {h['name']}" if h.get("name") else "")


def _values(request: Request, lang: str) -> dict:
    return value_labels(request.app.state.catalogue.layer("parcels"), request.app.state.catalogue, lang)


def _sites_and_map(conn, request: Request, who: Principal, req: su.Request) -> tuple[list[dict], dict, dict]:
    """The ranking, the ranked sites' outlines and the hazard zones, from one connection."""
    st = request.app.state
    ranked = su.rank(conn, st.settings, req)
    parcels = layer_sql(st.catalogue.layer("parcels"), st.settings)
    ids = [r["id"] for r in ranked] or [-1]
    sites = FeatureStore(conn).collection(
        parcels, [parcels.id.in_(ids), *visible_rows(who, parcels)], ["code", "name"], set(visible_fields(who, parcels))
    )
    by_id = {r["id"]: r for r in ranked}
    for f in sites["features"]:
        r = by_id[f["id"]]
        f["properties"].update(rank=r["rank"], score=r["score"], hazards=bool(r["hazards"]))
    hazard_layer = st.catalogue.with_role("hazard")[0]
    hz = layer_sql(hazard_layer, st.settings)
    hazards = FeatureStore(conn).collection(
        hz, [hz.where], ["name", "hazard", "severity"], set(visible_fields(who, hz))
    )
    return ranked, sites, hazards


@router.get("/investors")
async def portal(request: Request, who: CurrentPrincipal, req: su.Request = Depends(suitability_query)):
    units = await load_units(request)
    lang = lang_of(request)
    t = Words(lang)
    ranked, sites, hazards = await reading(request, lambda conn: _sites_and_map(conn, request, who, req))
    values = _values(request, lang)
    hazard_values = value_labels(request.app.state.catalogue.with_role("hazard")[0], request.app.state.catalogue, lang)
    for r in ranked:
        r["explained"] = explain(r, req, t, values)
        r["hazard_texts"] = [hazard_text(h, hazard_values, t) for h in r["hazards"]]
        r["unit_name"] = units.get(r["admin_unit_code"] or "", r["admin_unit_code"] or "—")
    island = {
        "sites": sites,
        "hazards": hazards,
        "lang": lang,
        "labels": {"rank": t("rank"), "score": t("score"), "hazard": t("in_hazard_zone"), "hazards": t("hazard_zones")},
    }
    defaults = request.app.state.settings.suitability_weights.model_dump()
    return page(
        request,
        who,
        "investors.html",
        active="investors",
        ranked=ranked,
        req=req,
        island=island,
        weights=req.weights.model_dump(),
        defaults=defaults,
        units=units_in_force(request, "commune"),
        max_compare=MAX_COMPARE,
    )


def _ids(raw: str | None) -> list[int]:
    ids = [int(x) for x in re.findall(r"\d{1,18}", raw or "")]
    if not ids:
        raise Problem(400, "ids: choose at least one site to compare")
    if len(ids) > MAX_COMPARE:
        raise Problem(400, f"ids: compare at most {MAX_COMPARE} sites at a time")
    return list(dict.fromkeys(ids))


def _facts(conn, request: Request, who: Principal, ids: list[int]) -> dict[int, dict]:
    st = request.app.state
    parcels = layer_sql(st.catalogue.layer("parcels"), st.settings)
    visible = set(visible_fields(who, parcels))
    fc = FeatureStore(conn).collection(
        parcels, [parcels.id.in_(ids), *visible_rows(who, parcels)], [f for f in FACTS if f in visible], visible
    )
    return {f["id"]: f for f in fc["features"]}


@router.get("/investors/compare")
async def compare(request: Request, who: CurrentPrincipal, req: su.Request = Depends(suitability_query)):
    units = await load_units(request)
    lang = lang_of(request)
    t = Words(lang)
    ids = _ids(request.query_params.get("ids"))
    req.parcel_ids, req.limit = tuple(ids), None
    st = request.app.state

    def read(conn):
        return su.rank(conn, st.settings, req), _facts(conn, request, who, ids)

    ranked, facts = await reading(request, read)
    if not ranked:
        raise NotFound("none of these sites is open for investment")
    layer = st.catalogue.layer("parcels")
    values = _values(request, lang)
    hazard_values = value_labels(st.catalogue.with_role("hazard")[0], st.catalogue, lang)
    order = {fid: i for i, fid in enumerate(ids)}
    ranked.sort(key=lambda r: order.get(r["id"], 99))
    columns = []
    for r in ranked:
        props = facts[r["id"]]["properties"]
        columns.append(
            {
                "site": r,
                "props": {k: present(layer, k, v, lang, values, units) for k, v in props.items()},
                "explained": explain(r, req, t, values),
                "hazards": [hazard_text(h, hazard_values, t) for h in r["hazards"]],
            }
        )
    return page(request, who, "compare.html", active="investors", columns=columns, req=req, facts=FACTS, layer=layer)


def _dossier(conn, request: Request, who: Principal, fid: int, req: su.Request) -> dict:
    st = request.app.state
    row = ParcelStore(conn).boundary(fid, not who.privileged)
    if row is None:
        raise NotFound(f"no parcel {fid}")
    req.parcel_ids, req.limit = (fid,), None
    ranked = su.rank(conn, st.settings, req)
    store = ParcelStore(conn)
    _, drawn, _ = simplified_boundary(conn, fid, DRAW_VERTICES)
    tolerance, table_geom, _ = simplified_boundary(conn, fid, SHEET_VERTICES)
    return {
        "facts": _facts(conn, request, who, [fid])[fid],
        "site": ranked[0] if ranked else None,
        "edges": store.edges(table_geom),
        "srid": (srid := ProvinceStore(conn).of_parcel(request.app.state.catalogue, fid).cadastral_srid),
        "vertices": store.vertices(table_geom, srid),
        "drawn": drawn,
        "tolerance": tolerance,
    }


@router.get("/investors/sites/{fid:int}")
async def dossier(request: Request, fid: int, who: CurrentPrincipal, req: su.Request = Depends(suitability_query)):
    units = await load_units(request)
    lang = lang_of(request)
    t = Words(lang)
    data = await reading(request, lambda conn: _dossier(conn, request, who, fid, req))
    st = request.app.state
    layer = st.catalogue.layer("parcels")
    values = _values(request, lang)
    hazard_values = value_labels(st.catalogue.with_role("hazard")[0], st.catalogue, lang)
    props = data["facts"]["properties"]
    site = data["site"]
    import orjson

    ctx = {
        "fid": fid,
        "props": props,
        "facts": [
            (layer.attribute(k).title(lang), present(layer, k, v, lang, values, units)) for k, v in props.items()
        ],
        "site": site,
        "explained": explain(site, req, t, values) if site else [],
        "hazards": [hazard_text(h, hazard_values, t) for h in (site or {}).get("hazards", [])],
        "edges": [(n, number(length, lang, 2)) for n, length, _, _ in data["edges"]],
        "vertices": [
            (n, f"{north:,.3f}", f"{east:,.3f}", f"{lon:.7f}", f"{lat:.7f}")
            for n, north, east, lon, lat in data["vertices"]
        ],
        "plan": plan_svg(data["vertices"]),
        "island": {
            "parcel": {"type": "Feature", "geometry": orjson.loads(data["drawn"]), "properties": {}},
            "previous": [],
            "vertices": [[lat, lon, n] for n, _, _, lon, lat in data["vertices"]],
            "lang": lang,
            "labels": {"previous": "", "parcel": props.get("code") or ""},
        },
        "drawings": list(DRAWINGS),
        # the province's own VN-2000 zone: the coordinates above, and the boundary files offered in it
        "cadastral_srid": data["srid"],
        "zone": zone_label(data["srid"], lang),
        "report_title": f"{t('dossier')} {props.get('code', '')}",
        "filters_text": t("dossier_note"),
    }
    if lang == "vi":  # 2.365.683,612: the Vietnamese way, as the site sheet writes coordinates
        ctx["vertices"] = [
            (n, *(v.replace(",", "X").replace(".", ",").replace("X", ".") for v in vs[:2]), *vs[2:])
            for n, *vs in ctx["vertices"]
        ]
    if request.query_params.get("f") == "pdf":
        from .reports import _download, _pdf

        html = ENV.get_template("dossier.html").render(**context(request, who, printing=True, **ctx))
        return _download(await run_in_threadpool(_pdf, html), "pdf", f"ho-so-{props.get('code', fid)}")
    return page(request, who, "dossier.html", active="investors", printing=False, **ctx)


def plan_svg(vertices: list[tuple], size: int = 320) -> str:
    """The boundary drawn to scale in VN-2000 metres with its vertex numbers and a scale bar, for print (no map
    library in a PDF). Numbers only: nothing in it comes from text a person typed."""
    if len(vertices) < 3:
        return ""
    xs, ys = [v[2] for v in vertices], [v[1] for v in vertices]  # easting, northing
    w, h = max(xs) - min(xs) or 1.0, max(ys) - min(ys) or 1.0
    scale = (size - 40) / max(w, h)

    def xy(e, n):
        return 20 + (e - min(xs)) * scale, size - 20 - (n - min(ys)) * scale

    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(e, n) for e, n in zip(xs, ys)))
    labels = "".join(
        f'<text x="{x:.1f}" y="{y - 4:.1f}" font-size="10" text-anchor="middle">{v[0]}</text>'
        for v, (x, y) in zip(vertices, (xy(e, n) for e, n in zip(xs, ys)))
    )
    bar_m = next(b for b in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000) if b * scale >= 40)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size + 20}" width="{size}" '
        f'height="{size + 20}" role="img" font-family="DejaVu Sans">'
        f'<polygon points="{points}" fill="#1565c033" stroke="#1565c0" stroke-width="2"/>{labels}'
        f'<line x1="20" y1="{size + 8}" x2="{20 + bar_m * scale:.1f}" y2="{size + 8}" stroke="#222" '
        f'stroke-width="3"/><text x="{24 + bar_m * scale:.1f}" y="{size + 12}" font-size="10">{bar_m} m</text>'
        f'<text x="{size - 14}" y="16" font-size="12" text-anchor="middle">N</text>'
        f'<path d="M{size - 14},20 l-5,12 l5,-4 l5,4 z" fill="#222"/></svg>'
    )


@router.get("/investors/sites/{fid:int}/boundary.{fmt}")
async def boundary(request: Request, fid: int, fmt: str, who: CurrentPrincipal, crs: str = "4326"):
    """The boundary for an architect or a surveyor: GeoJSON, KML (WGS 84 only) or DXF, in WGS 84 or VN-2000."""
    if fmt not in DRAWINGS:
        raise Problem(404, f"no boundary as .{fmt}; there are: {', '.join(DRAWINGS)}")
    if crs not in CRS_CHOICES:
        raise Problem(400, f"crs: 4326 (WGS 84) or a VN-2000 zone: {', '.join(list(CRS_CHOICES)[1:])}")
    row = await reading(request, lambda conn: ParcelStore(conn).boundary(fid, not who.privileged))
    if row is None:
        raise Problem(404, f"no parcel {fid}")
    code, name, wkb = row
    shape = shapely.from_wkb(bytes(wkb))
    body = await run_in_threadpool(boundary_file, shape, fmt, CRS_CHOICES[crs], code or str(fid), name or "")
    stem = re.sub(r"[^\w.-]+", "_", code or str(fid)).strip("_") or str(fid)
    label = "wgs84" if crs == "4326" else f"vn2000-{crs}"
    return Response(
        body, media_type=DRAWINGS[fmt], headers={"Content-Disposition": f'attachment; filename="{stem}-{label}.{fmt}"'}
    )
