"""The FastAPI application: OGC API – Features and Tiles over the land fund, plus domain endpoints."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from psycopg_pool import ConnectionPool

from .. import __version__
from ..catalogue import load_catalogue
from ..core.config import Settings, get_settings
from ..core.db import API_SESSION_OPTIONS, api_read_engine, database_url, libpq_dsn, read_database_url
from . import errors, hardening, openapi
from .routes import analytics, collections, health, items, landing, maps, tiles, transactions, workflow

STATIC = Path(__file__).resolve().parent.parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    catalogue = load_catalogue(settings.layers_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        url, read_url = database_url(settings), read_database_url(settings)
        wait = settings.db_timeout_seconds
        # After a database restart both pools reconnect by themselves (the write pool checks every connection
        # it hands out, the read pool those idle for a while); while the database is down, connecting fails
        # within `wait` seconds and the API says 503.
        app.state.read_engine = api_read_engine(read_url, wait)
        app.state.write_pool = ConnectionPool(
            libpq_dsn(url), min_size=1, max_size=8, open=False, check=ConnectionPool.check_connection, timeout=wait,
            reconnect_timeout=0, kwargs={"application_name": "landfund-api", "connect_timeout": max(1, int(wait)),
                    "options": API_SESSION_OPTIONS})
        app.state.write_pool.open(wait=False)
        app.state.read_dsn = libpq_dsn(read_url)  # bulk FlatGeobuf downloads stream over their own connection
        yield
        app.state.write_pool.close()
        await app.state.read_engine.dispose()

    app = FastAPI(
        title="landfund",
        version=__version__,
        description="Quỹ đất nhà ở xã hội (land fund for social housing), Điện Biên province: "
                    "OGC API – Features (Parts 1–4) and Tiles.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.catalogue = catalogue
    app.state.extent_cache = {}
    errors.install(app)
    openapi.install(app)
    hardening.install(app, settings)
    for module in (landing, collections, workflow, items, transactions, tiles, maps, analytics, health):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
