"""/ (landing page) and /conformance."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ..conformance import CONFORMS_TO
from ..deps import CurrentPrincipal
from ..params import format_param
from ..render import HTML, JSON, OPENAPI, html_response, json_response, link, media, negotiate, url

router = APIRouter(tags=["OGC API"])
TITLE = "landfund: quỹ đất nhà ở xã hội tỉnh Điện Biên"
DESCRIPTION = (
    "Land reserved for social housing (nhà ở xã hội) in Điện Biên province, with administrative units "
    "and reference layers, as OGC API – Features and Tiles."
)


@router.get("/", summary="Landing page", responses=media("application/json", "text/html"))
async def landing(request: Request, who: CurrentPrincipal, f: str | None = Depends(format_param)):
    """JSON for GIS clients; a browser gets landfund's home page (or, with ?f=html, this document as HTML)."""
    body = {
        "title": TITLE,
        "description": DESCRIPTION,
        "links": [
            link(url(request, "/"), "self", JSON, "This document"),
            link(url(request, "/", f="html"), "alternate", HTML, "This document as HTML"),
            link(url(request, "/api"), "service-desc", OPENAPI, "The API definition (OpenAPI 3.0)"),
            link(url(request, "/api.html"), "service-doc", HTML, "The API documentation"),
            link(url(request, "/conformance"), "conformance", JSON, "Conformance classes"),
            link(url(request, "/collections"), "data", JSON, "Collections"),
            link(
                url(request, "/tileMatrixSets"),
                "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
                JSON,
                "Tile matrix sets",
            ),
        ],
    }
    if negotiate(request, f) == "html":
        home = getattr(request.app.state, "home_page", None)
        if f is None and home is not None:
            return await home(request, who, body["links"])
        return html_response("landing.html", request, doc=body)
    return json_response(body)


@router.get("/favicon.ico", include_in_schema=False)
def favicon():
    from fastapi.responses import FileResponse

    from ..render import STATIC

    return FileResponse(
        STATIC / "landfund" / "favicon.svg",
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get("/conformance", summary="Conformance classes", responses=media("application/json", "text/html"))
async def conformance(request: Request, who: CurrentPrincipal, f: str | None = Depends(format_param)):
    body = {"conformsTo": CONFORMS_TO}
    if negotiate(request, f) == "html":
        return html_response("conformance.html", request, doc=body)
    return json_response(body)
