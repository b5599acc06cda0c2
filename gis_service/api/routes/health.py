"""GET /health: is the database reachable, which PostGIS, which schema revision."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from ...schema import head_revision
from ...stores.features import FeatureReads
from ..deps import read_engine

router = APIRouter(tags=["service"])


@router.get("/health", summary="Service and database health")
async def health(engine: AsyncEngine = Depends(read_engine)) -> JSONResponse:
    body: dict = {"status": "ok", "database": {"reachable": False}}
    try:
        facts = await FeatureReads(engine).health()
    except SQLAlchemyError as exc:
        body["status"] = "unavailable"
        body["database"]["error"] = type(getattr(exc, "orig", None) or exc).__name__
        return JSONResponse(body, status_code=503)
    head = head_revision()
    body["database"] = {"reachable": True, **facts, "schema_head": head}  # reads_from_replica: DATABASE_READ_URL
    if facts["schema_revision"] != head:
        body["status"] = "degraded"
    return JSONResponse(body)
