"""The home page, the list of maps, the reports index, signing in and out."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ..api.deps import SESSION_COOKIE, CurrentPrincipal, SignedIn, reading, writing
from ..maps.definition import load_map, map_names
from ..security import ANONYMOUS
from ..services import auth
from ..stores.parcels import ParcelStore
from .common import load_units, safe_next, see_other
from .render import Words, lang_of, page

router = APIRouter(include_in_schema=False, tags=["pages"])
LOGIN_CSRF_COOKIE = "landfund_login_csrf"


def _maps(request: Request, lang: str) -> list[dict]:
    maps_dir = request.app.state.settings.maps_dir
    out = []
    for name in map_names(maps_dir):
        if name == "site":
            continue
        m = load_map(maps_dir, name)
        out.append({"id": name, "title": m.title(lang), "description": m.description(lang) if m.description else ""})
    return out


async def home_page(request: Request, who, ogc_links: list[dict]) -> Response:
    await load_units(request)
    lang = lang_of(request)
    maps = {m["id"]: m for m in _maps(request, lang)}
    count = await reading(request, lambda conn: ParcelStore(conn).count_visible(not who.privileged))
    return page(
        request,
        who,
        "home.html",
        active="home",
        ogc_links=ogc_links,
        parcel_count=count,
        map_titles={k: v["title"] for k, v in maps.items()},
        map_descriptions={k: v["description"] for k, v in maps.items()},
    )


@router.get("/maps")
async def maps_index(request: Request, who: CurrentPrincipal):
    await load_units(request)
    return page(request, who, "maps_index.html", active="maps", maps=_maps(request, lang_of(request)))


@router.get("/login")
async def login_form(request: Request, who: CurrentPrincipal, next: str | None = None):
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = page(request, who, "login.html", next=safe_next(next), login_csrf=token, username="", error=None)
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=request.url.scheme == "https", max_age=3600
    )
    return response


@router.post("/login")
async def login(
    request: Request,
    username: str = Form(..., max_length=128),
    password: str = Form(..., max_length=1024),
    csrf: str = Form(""),
    next: str = Form("/"),
):
    """Sign in (the form has its own double-submit token: a session, if any, is not asked for its CSRF token, and
    is replaced by the new one)."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    t = Words(lang_of(request))
    who = ANONYMOUS
    target = safe_next(next)

    def again(message: str, status: int, headers: dict | None = None) -> Response:
        token = expected or secrets.token_urlsafe(24)
        response = page(
            request,
            who,
            "login.html",
            status=status,
            headers=headers,
            next=target,
            login_csrf=token,
            username=username,
            error=message,
        )
        response.set_cookie(
            LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", max_age=3600, secure=request.url.scheme == "https"
        )
        return response

    if not expected or not secrets.compare_digest(csrf, expected):
        return again(t("session_expired"), 403)
    address = request.client.host if request.client else "unknown"
    settings = request.app.state.settings
    try:
        user_id = await writing(request, lambda conn: auth.authenticate(conn, username.strip(), password, address))
    except auth.TooManyAttempts as exc:
        return again(t("too_many", wait=exc.wait_s), 429, {"Retry-After": str(exc.wait_s)})
    except auth.BadCredentials:
        return again(t("bad_login"), 401)
    earlier = request.cookies.get(SESSION_COOKIE)
    if earlier:  # signing in as someone else on the same browser ends the earlier session
        await run_in_threadpool(_end, request, earlier)
    session = await writing(
        request,
        lambda conn: auth.start_session(
            conn, user_id, settings.session_hours, address, request.headers.get("user-agent")
        ),
    )
    response = see_other(target)
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        httponly=True,
        samesite="lax",
        path="/",
        secure=request.url.scheme == "https",
        max_age=int(settings.session_hours * 3600),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
async def logout(request: Request, who: SignedIn):
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await run_in_threadpool(_end, request, token)
    response = see_other("/")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _end(request: Request, token: str) -> None:
    with request.app.state.db.write() as conn:
        auth.end_session(conn, token)
