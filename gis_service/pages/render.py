"""Rendering pages: one Jinja2 environment (autoescaped) for landfund's own pages and the OGC HTML views, the
layout with its navigation bar and who is signed in, the words of both languages, formats by language."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from .. import __version__
from ..api.render import LANG_COOKIE, lang_of
from ..core.vocabulary import LANGS
from ..i18n import day, number
from ..maps.assets import json_island
from ..maps.build import basemap
from ..security import Principal

HERE = Path(__file__).resolve().parent

ENV = Environment(
    loader=ChoiceLoader([FileSystemLoader(HERE / "templates"), FileSystemLoader(HERE.parent / "api" / "templates")]),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters["island"] = json_island


@lru_cache(maxsize=1)
def words() -> dict[str, dict[str, str]]:
    return yaml.safe_load((HERE / "words.yaml").read_text(encoding="utf-8"))


class Words:
    """t('key', n=3): the word in the page's language, with its {placeholders} filled."""

    def __init__(self, lang: str):
        self.lang = lang

    def __call__(self, key: str, **values) -> str:
        entry = words().get(key)
        text = entry[self.lang] if entry else key
        return text.format(**values) if values else text


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def nav(request: Request, who: Principal) -> list[tuple[str, str, str]]:
    """(key, href, label key) of the navigation bar, for what the viewer may open (the brand is the home link)."""
    items = [
        ("maps", "/maps", "nav_maps"),
        ("list", "/parcels", "nav_list"),
        ("dashboard", "/dashboard", "nav_dashboard"),
        ("reports", "/reports", "nav_reports"),
        ("investors", "/investors", "nav_investors"),
    ]
    if who.authenticated:
        items.append(("inbox", "/inbox", "nav_inbox"))
    items.append(("api", "/collections?f=html", "nav_api"))
    return items


def unit_label(request: Request, code: str | None) -> str | None:
    names = getattr(request.app.state, "unit_names", None) or {}
    if not code:
        return None
    return f"{names[code]} ({code})" if code in names else code


def context(request: Request, who: Principal, **extra: Any) -> dict[str, Any]:
    lang = lang_of(request)
    t = Words(lang)
    province = request.app.state.catalogue.province.code

    def query(**changes) -> str:
        """This page's query string ('?…', or '') with some parameters changed (None removes one)."""
        params = {k: v for k, v in request.query_params.items() if k != "done"}
        for k, v in changes.items():
            if v is None:
                params.pop(k, None)
            else:
                params[k] = str(v)
        return "?" + urlencode(params) if params else ""

    def here(**changes) -> str:
        """This page's URL with some query parameters changed."""
        return request.url.path + query(**changes)

    return {
        "request": request,
        "base": base_url(request),
        "version": __version__,
        "lang": lang,
        "t": t,
        "who": who,
        "nav": nav(request, who),
        "active": extra.pop("active", None),
        "csrf": who.csrf or "",
        "role_label": t(f"role_{who.role}") if who.authenticated else None,
        "unit_label": (
            t("whole_province")
            if who.admin_unit_code in (None, province) and who.role == "planner"
            else unit_label(request, who.admin_unit_code)
        ),
        "session_expired": getattr(request.state, "session_expired", False),
        "nonce": getattr(request.state, "csp_nonce", ""),
        "here": here,
        "query": query,
        "other_lang": "en" if lang == "vi" else "vi",
        "num": lambda v, d=2: number(v, lang, d),
        "day": lambda v: day(v, lang),
        "basemap": basemap(request.app.state.settings, t("basemap")),
        "today": date.today(),
        **extra,
    }


def page(
    request: Request, who: Principal, template: str, status: int = 200, headers: dict | None = None, **extra: Any
) -> HTMLResponse:
    ctx = context(request, who, **extra)
    response = HTMLResponse(ENV.get_template(template).render(**ctx), status_code=status, headers=headers)
    if request.query_params.get("lang") in LANGS:  # remember the choice for the next pages
        response.set_cookie(LANG_COOKIE, ctx["lang"], max_age=365 * 86400, samesite="lax", httponly=True)
    return response


async def navigation(request: Request, who: Principal) -> Markup:
    """The navigation bar alone, for pages landfund does not lay out itself (the maps)."""
    from .common import load_units

    await load_units(request)
    return Markup(ENV.get_template("nav.html").render(**context(request, who)))


def ogc_page(request: Request, template: str, status: int, headers: dict | None, ctx: dict) -> HTMLResponse:
    """An HTML view of the OGC API (landing, collections, items…) in the site's layout, for whoever the route's
    dependencies found (they resolve the caller before any HTML is made)."""
    from ..security import ANONYMOUS

    who = getattr(request.state, "principal", None) or ANONYMOUS
    lang = lang_of(request)
    catalogue = request.app.state.catalogue
    units = getattr(request.app.state, "unit_names", None) or {}

    def show(layer, name: str, value) -> str:
        from ..i18n import value_labels
        from .common import present

        cache = ctx.setdefault("_labels", {})
        if layer.id not in cache:
            cache[layer.id] = value_labels(layer, catalogue, lang)
        return present(layer, name, value, lang, cache[layer.id], units)

    ctx.pop("lang", None)
    return page(request, who, template, status=status, headers=headers, active="api", show=show, **ctx)
