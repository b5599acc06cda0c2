"""The maps, served as HTML: /maps/planner, /maps/investor and the site sheet /maps/parcels/{id}."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from ...analytics import suitability as su
from ...core.vocabulary import LANG_PATTERN, LANGS
from ...maps import data
from ...maps.assets import check_offline
from ...maps.build import render
from ...maps.definition import MapDef, load_map
from ...security import Principal
from ..deps import principal, reading
from ..errors import Problem
from ..params import suitability_query
from ..render import base_url, lang_of

router = APIRouter(tags=["Maps"])
LANG = Query(
    None,
    pattern=LANG_PATTERN,
    description=f"Language of the labels: {', '.join(LANGS)} (default: the one chosen before, else {LANGS[0]}).",
)


def _filters(admin_unit: str | None, status: str | None, as_of: date | None) -> data.Filters:
    statuses = [s.strip() for s in status.split(",") if s.strip()] if status else []
    return data.Filters(admin_unit=admin_unit, status=statuses, as_of=as_of)


async def _render(
    request: Request,
    mapdef: MapDef,
    who: Principal,
    filters: data.Filters,
    lang: str | None,
    parcel_id: int | None = None,
    province: str | None = None,
) -> HTMLResponse:
    st = request.app.state
    base = base_url(request)
    lang = lang or lang_of(request)
    navigation = getattr(st, "navigation", None)  # the site's bar, when the pages are installed
    nav = await navigation(request, who) if navigation is not None else ""

    def work(conn) -> str:
        ctx = data.Context(
            conn,
            st.settings,
            st.catalogue,
            who,
            lang,
            filters,
            api_base=base,
            asset_base=f"{base}/static",
            parcel_id=parcel_id,
            nonce=getattr(request.state, "csp_nonce", None),
            nav=nav,
            province=province,
        )
        page, _ = render(ctx, mapdef)
        check_offline(page, allowed_prefixes=(f"{base}/",))
        return page

    return HTMLResponse(await reading(request, work))


@router.get("/maps/parcels/{parcel_id}", response_class=HTMLResponse, summary="Site sheet of one parcel (printable)")
async def site_sheet(request: Request, parcel_id: int, lang: str | None = LANG, who: Principal = Depends(principal)):
    mapdef = load_map(request.app.state.settings.maps_dir, "site")
    return await _render(request, mapdef, who, data.Filters(), lang, parcel_id)


@router.get("/maps/{name}", response_class=HTMLResponse, summary="A map: planner or investor")
async def get_map(
    request: Request,
    name: str,
    lang: str | None = LANG,
    who: Principal = Depends(principal),
    admin_unit: str | None = Query(None, description="GSO code: only this unit (a former district or a commune)."),
    status: str | None = Query(None, description="Comma-separated parcel statuses."),
    as_of: date | None = Query(
        None,
        description="The map on this date (YYYY-MM-DD): the units in force then, the parcels in the land fund then.",
    ),
    ranking: su.Request = Depends(suitability_query),
):
    """A map is of one province (`province`, default this deployment's). The investor map ranks its sites with the
    weights, hazard handling and minimum area it is given (w_road …, as /analytics/suitability takes them)."""
    mapdef = load_map(request.app.state.settings.maps_dir, name)
    if name == "site":
        raise Problem(404, "the site sheet is at /maps/parcels/{id}")
    filters = _filters(admin_unit, status, as_of)
    filters.suitability = ranking
    return await _render(request, mapdef, who, filters, lang, province=ranking.province)
