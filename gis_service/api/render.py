"""Response helpers: absolute links, content negotiation, JSON and HTML rendering."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import orjson
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from .. import __version__

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
MEDIA = {
    "json": GEOJSON,
    "html": HTML,
    "csv": "text/csv; charset=utf-8",
    "geojsonseq": "application/geo+json-seq",
    "fgb": "application/flatgeobuf",
}

STATIC = Path(__file__).resolve().parent.parent / "static"
_templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape())


LANG_COOKIE = "landfund_lang"


def lang_of(request: Request) -> str:
    """The language of a page: ?lang=…, else the one chosen before (a cookie), else Vietnamese."""
    from ..core.vocabulary import LANGS

    lang = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or LANGS[0]
    return lang if lang in LANGS else LANGS[0]


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def url(request: Request, path: str, **params) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{base_url(request)}{path}" + (f"?{query}" if query else "")


def self_url(request: Request, **overrides) -> str:
    """This request's URL with some query parameters replaced (None removes one)."""
    params = dict(request.query_params)
    for k, v in overrides.items():
        if v is None:
            params.pop(k, None)
        else:
            params[k] = str(v)
    return url(request, request.url.path, **params)


def negotiate(request: Request, fmt: str | None, allowed=("json", "html")) -> str:
    if fmt:
        return fmt
    accept = request.headers.get("accept", "")
    if "text/html" in accept and "json" not in accept.split("text/html")[0]:
        return "html" if "html" in allowed else allowed[0]
    return allowed[0]


def link(href: str, rel: str, type_: str, title: str | None = None, **extra) -> dict:
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    out.update(extra)
    return out


def json_response(body, media_type: str = JSON, status: int = 200, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=media_type, headers=headers)


def html_response(
    template: str, request: Request, status: int = 200, headers: dict | None = None, **ctx
) -> HTMLResponse:
    laid_out = getattr(request.app.state, "html_page", None)  # the site's layout, when the pages are installed
    if laid_out is not None:
        return laid_out(request, template, status, headers, ctx)
    page = _templates.get_template(template).render(request=request, base=base_url(request), version=__version__, **ctx)
    return HTMLResponse(page, status_code=status, headers=headers)


def csv_response(rows: list[dict], columns: list[str], filename: str) -> Response:
    """CSV with a UTF-8 byte-order mark, so spreadsheet programs read Vietnamese text correctly."""
    import csv
    import io

    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf)
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if r.get(c) is None else r.get(c) for c in columns])
    return Response(
        buf.getvalue().encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


def media(*types: str, status: int = 200) -> dict:
    """`responses=` for a route that answers in several media types (so the OpenAPI document says so)."""
    return {status: {"description": "OK", "content": {t: {} for t in types}}}
