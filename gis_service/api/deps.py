"""Shared request dependencies: settings, catalogue, engines, the collection in the path, the principal."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Path, Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ..catalogue import Catalogue, LayerDef
from ..core.config import Settings
from ..models.auth import LOOKUP_SQL
from ..models.features import LayerSQL, layer_sql
from ..security import ANONYMOUS, Principal, hash_token
from .errors import Problem

BEARER = {"WWW-Authenticate": 'Bearer realm="landfund"'}


def settings(request: Request) -> Settings:
    return request.app.state.settings


def catalogue(request: Request) -> Catalogue:
    return request.app.state.catalogue


def engine_of(request: Request) -> AsyncEngine:
    return request.app.state.read_engine


# Dependencies are `async def` although they never wait: FastAPI runs a plain `def` dependency in a worker
# thread, and those hops (about 20 per page request) cost more than the page's own Python work.
async def read_engine(request: Request) -> AsyncEngine:
    return request.app.state.read_engine


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


async def collection(request: Request, collectionId: str = Path(..., description="Collection id.")) -> Collection:  # noqa: N803
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
        raise Problem(401, "use Authorization: Bearer <token>", headers=BEARER)
    async with engine_of(request).connect() as conn:  # no cache: a revoked token stops at once
        row = (await conn.execute(text(LOOKUP_SQL), {"hash": hash_token(token)})).first()
    if row is None:
        raise Problem(401, "the token is unknown, expired or revoked", headers=BEARER)
    return Principal(role=row[2], name=row[1], user_id=row[0], admin_unit_code=row[3], token_id=row[4])
