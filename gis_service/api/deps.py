"""Request dependencies: settings, catalogue, the database, the collection in the path, and who may do what.

Who is asking is `CurrentPrincipal`; what they may do is a dependency too (`SignedIn`, `Planner`, `Investor`,
`Writer`), as in the FastAPI full-stack template's api/deps.py: every route and page states its rule in its
signature, and the 401 with WWW-Authenticate is written in one place. What a planner may do to one record
(their unit) is checked by the service against the record itself."""

from __future__ import annotations

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
from ..stores.users import principal_row
from .errors import Problem

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="landfund"'}


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


async def principal(request: Request) -> Principal:
    """The caller, from an `Authorization: Bearer <token>` header; anonymous without one."""
    header = request.headers.get("authorization")
    if not header:
        return ANONYMOUS
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise unauthorized("use Authorization: Bearer <token>")
    row = await principal_row(request.app.state.db.async_engine, hash_token(token))
    if row is None:
        raise unauthorized("the token is unknown, expired or revoked")
    return Principal(role=row[2], name=row[1], user_id=row[0], admin_unit_code=row[3], token_id=row[4])


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
