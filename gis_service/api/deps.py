"""Request dependencies: settings, catalogue, the database, the collection in the path, and who may do what.

Who is asking is `CurrentPrincipal`; what they may do is a dependency too (`SignedIn`, `Planner`, `Investor`,
`Writer`), as in the FastAPI full-stack template's api/deps.py: every route and page states its rule in its
signature, and the 401 with WWW-Authenticate is written in one place. What a planner may do to one record
(their unit) is checked by the service against the record itself."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.ext.asyncio import AsyncEngine

from ..catalogue import Catalogue, LayerDef
from ..core.config import Settings
from ..core.database import Database
from ..security import ANONYMOUS, Principal, hash_token, write_denial
from ..stores.features import LayerSQL, layer_sql
from ..stores.users import principal_row, session_row, user_row
from .errors import Problem

# Bearer for API clients; Basic for desktop GIS (QGIS offers Basic, not Bearer), with a token or the password.
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="landfund", Basic realm="landfund", charset="UTF-8"'}
BASIC_CACHE_S = 300  # a checked password is trusted this long (argon2 on every tile request would cost a core)
LOOPBACK = ("127.0.0.1", "::1", "localhost", "testclient")


def unauthorized(detail: str) -> Problem:
    """The one 401: what to send, and how (RFC 9110 asks for the challenge)."""
    return Problem(401, detail, headers=CHALLENGE)


def settings(request: Request) -> Settings:
    return request.app.state.settings


def catalogue(request: Request) -> Catalogue:
    return request.app.state.catalogue


def database(request: Request) -> Database:
    return request.app.state.db


def reading(request: Request, fn):
    """Run `fn(conn)` in a worker thread on a read connection (the replica when there is one)."""

    def work():
        with request.app.state.db.read() as conn:
            return fn(conn)

    return run_in_threadpool(work)


def writing(request: Request, fn):
    """Run `fn(conn)` in a worker thread on a connection to the primary (`fn` opens its transaction)."""

    def work():
        with request.app.state.db.write() as conn:
            return fn(conn)

    return run_in_threadpool(work)


# Dependencies are `async def` although they never wait: FastAPI runs a plain `def` dependency in a worker
# thread, and those hops (about 20 per page request) cost more than the page's own Python work.
async def read_engine(request: Request) -> AsyncEngine:
    return request.app.state.db.async_engine


@dataclass(frozen=True)
class Collection:
    layer: LayerDef
    ls: LayerSQL
    catalogue: Catalogue

    @property
    def id(self) -> str:
        return self.layer.id


def collections(request: Request) -> dict[str, Collection]:
    cached = getattr(request.app.state, "collections", None)
    if cached is None:
        cat: Catalogue = request.app.state.catalogue
        cached = {la.id: Collection(la, layer_sql(la, request.app.state.settings), cat) for la in cat.spatial_layers}
        request.app.state.collections = cached
    return cached


async def collection(request: Request, collectionId: str = Path(..., description="Collection id.")) -> Collection:
    found = collections(request).get(collectionId)
    if found is None:
        raise Problem(404, f"no collection {collectionId!r}; see /collections")
    return found


SESSION_COOKIE = "landfund_session"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


async def principal(request: Request) -> Principal:
    """The caller: from an `Authorization: Bearer <token>` header (API clients), else from the session cookie of a
    browser that signed in (GET /login), else anonymous. A request that changes something on the strength of the
    cookie must carry the session's CSRF token (the form's `csrf` field or an X-CSRF-Token header)."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    header = request.headers.get("authorization")
    engine = request.app.state.db.async_engine
    if header:
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() == "basic" and token:
            who = await _basic(request, token)
        elif scheme.lower() != "bearer" or not token:
            raise unauthorized(
                "use Authorization: Bearer <token>, or Basic with your user name and a token or password"
            )
        else:
            row = await principal_row(engine, hash_token(token))
            if row is None:
                raise unauthorized("the token is unknown, expired or revoked")
            who = _principal(row, via="token", token_id=row[5])
    elif cookie := request.cookies.get(SESSION_COOKIE):
        row = await session_row(engine, hash_token(cookie))
        if row is None:
            who = ANONYMOUS  # an ended or expired session: the page says "public view" and offers sign-in
            request.state.session_expired = True
        else:
            who = _principal(row, via="session", csrf=row[6])
            if request.method not in SAFE_METHODS:
                await _require_csrf(request, who)
    else:
        who = ANONYMOUS
    request.state.principal = who
    return who


async def _basic(request: Request, encoded: str) -> Principal:
    """HTTP Basic (RFC 7617): the user name and, as the password, one of that user's tokens or their password,
    under the same rules as a bearer token or the sign-in form (throttled, disabled accounts refused). Only over
    HTTPS or from this machine, unless the admin allowed plain HTTP (LANDFUND_BASIC_AUTH_OVER_HTTP)."""
    import base64
    import binascii
    import hashlib
    import time

    from ..core.errors import LandfundError
    from ..services import auth

    host = request.client.host if request.client else ""
    if request.url.scheme != "https" and host not in LOOPBACK and not request.app.state.settings.basic_auth_over_http:
        raise unauthorized("HTTP Basic is accepted over HTTPS only (it sends the password with every request)")
    try:
        name, sep, secret = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise unauthorized("Basic credentials: base64 of user:password, in UTF-8") from None
    if not sep or not name or not secret:
        raise unauthorized("Basic credentials: base64 of user:password, in UTF-8")
    engine = request.app.state.db.async_engine
    row = await principal_row(engine, hash_token(secret))
    if row is not None and row[1] == name:
        return _principal(row, via="token", token_id=row[5])
    cache: dict = request.app.state.__dict__.setdefault("basic_cache", {})
    key = hashlib.sha256(f"{name}\0{secret}".encode()).hexdigest()
    user_id, until = cache.get(key, (None, 0.0))
    if user_id is None or until < time.monotonic():
        try:
            user_id = await writing(request, lambda conn: auth.authenticate(conn, name, secret, host or "unknown"))
        except auth.TooManyAttempts as exc:
            raise Problem(429, str(exc), headers={"Retry-After": str(exc.wait_s)}) from None
        except LandfundError:
            raise unauthorized("the user name or the password (or token) is not right") from None
        if len(cache) > 10_000:
            cache.clear()
        cache[key] = (user_id, time.monotonic() + BASIC_CACHE_S)
    user = await user_row(engine, user_id)
    if user is None:
        cache.pop(key, None)
        raise unauthorized("the account is disabled")
    return _principal(user, via="basic")


def _principal(row, via: str, **extra) -> Principal:
    """A Principal from a user row (id, name, role, unit, desktop editor?, …)."""
    user_id, name, role, unit, desktop = row[:5]
    return Principal(
        role=role, name=name, user_id=user_id, admin_unit_code=unit, desktop_editor=desktop, via=via, **extra
    )


MAX_FORM_PART = 40_000_000  # a drawn boundary travels as a form field (GeoJSON text); files have their own limits


async def form_of(request: Request):
    """The request's form, parsed once (Starlette keeps it for the route): fields up to 40 MB, so a boundary of
    many vertices drawn in the editor arrives whole; the validator then limits its vertices."""
    return await request.form(max_part_size=MAX_FORM_PART)


async def _require_csrf(request: Request, who: Principal) -> None:
    sent: object = request.headers.get("x-csrf-token")
    ctype = request.headers.get("content-type", "")
    if sent is None and ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        sent = (await form_of(request)).get("csrf")
    if not isinstance(sent, str) or not who.csrf or not secrets.compare_digest(sent, who.csrf):
        raise Problem(
            403,
            "this request did not come from a landfund page (its CSRF token is missing or out of date); "
            "reload the page and try again",
            title="Forbidden",
        )


CurrentPrincipal = Annotated[Principal, Depends(principal)]


async def signed_in(who: CurrentPrincipal) -> Principal:
    if not who.authenticated:
        raise unauthorized("sign in (a bearer token) to do this")
    return who


SignedIn = Annotated[Principal, Depends(signed_in)]


async def planner(who: SignedIn) -> Principal:
    """Planners and admins (what they may do to one parcel still depends on their unit)."""
    if not who.privileged:
        raise Problem(403, f"this is for planners and admins; you are signed in as {who.role}")
    return who


Planner = Annotated[Principal, Depends(planner)]


async def investor(who: SignedIn) -> Principal:
    if who.role != "investor":
        raise Problem(403, f"this is for investors; you are signed in as {who.role}")
    return who


Investor = Annotated[Principal, Depends(investor)]


async def writer(who: CurrentPrincipal, coll: Collection = Depends(collection)) -> Principal:
    """May write to the collection in the path at all (roles; a planner's unit is checked per record)."""
    denial = write_denial(who, coll.layer.storage)
    if denial:
        status, reason = denial
        raise unauthorized(reason) if status == 401 else Problem(status, reason)
    return who


Writer = Annotated[Principal, Depends(writer)]
