"""GET /health: is the database reachable, which PostGIS, which schema revision."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from ...core.migrate import head_revision
from ..deps import read_engine

router = APIRouter(tags=["service"])


@router.get("/health", summary="Service and database health")
async def health(engine: AsyncEngine = Depends(read_engine)) -> JSONResponse:
    body: dict = {"status": "ok", "database": {"reachable": False}}
    try:
        async with engine.connect() as conn:
            version = (await conn.execute(text("SELECT postgis_lib_version()"))).scalar_one()
            full = (await conn.execute(text("SELECT postgis_full_version()"))).scalar_one()
            rev = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one_or_none()
            replica = (await conn.execute(text("SELECT pg_is_in_recovery()"))).scalar_one()
    except SQLAlchemyError as exc:
        body["status"] = "unavailable"
        body["database"]["error"] = type(exc.orig if getattr(exc, "orig", None) else exc).__name__
        return JSONResponse(body, status_code=503)
    head = head_revision()
    body["database"] = {"reachable": True, "postgis_version": version, "postgis_full_version": full,
                        "schema_revision": rev, "schema_head": head,
                        "reads_from_replica": replica}  # DATABASE_READ_URL names a standby
    if rev != head:
        body["status"] = "degraded"
    return JSONResponse(body)
