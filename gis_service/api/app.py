"""The FastAPI application: OGC API – Features and Tiles over the land fund, plus domain endpoints."""

from __future__ import annotations

import logging
import os
import threading
import time
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from .. import __version__, pages
from ..catalogue import load_catalogue
from ..core.config import Settings, get_settings
from ..core.database import Database
from ..core.db import database_url, read_database_url
from ..maps.check import require_valid_maps
from . import errors, hardening, openapi
from .methods import HeadAndOptions
from .routes import analytics, collections, health, items, landing, maps, tiles, transactions, workflow

STATIC = Path(__file__).resolve().parent.parent / "static"


def _exit_soon(grace: float = 1.0) -> None:
    """In a `landfund serve` process: once the server has shut down, exit even if a worker thread is still busy
    with an abandoned request (uvicorn has already waited LANDFUND_SHUTDOWN_TIMEOUT_SECONDS for it; its
    transaction is rolled back when the connection closes). Not in tests, which run the app in-process."""
    if os.environ.get("LANDFUND_SERVE_PROCESS") != "1":
        return

    def watchdog() -> None:
        time.sleep(grace)
        logging.getLogger("landfund.api").warning("a request was still running at shutdown; exiting anyway")
        os._exit(0)

    threading.Thread(target=watchdog, daemon=True, name="landfund-exit").start()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    catalogue = load_catalogue(settings.layers_dir)
    require_valid_maps(settings.maps_dir, catalogue)  # a mistake in maps/*.yaml stops the start, naming file and line

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Writes go to the primary, reads (pages, tiles, maps, reports, history) to DATABASE_READ_URL when set.
        app.state.db = Database.for_api(settings, database_url(settings), read_database_url(settings))
        yield
        await app.state.db.close()
        _exit_soon()

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
    pages.install(app)  # the application people use; its routes come first (/parcels/new before /parcels/{id})
    api = (landing, collections, workflow, items, transactions, tiles, maps, analytics, health)
    for module in api:
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    routes = [r for module in api for r in module.router.routes]
    app.add_middleware(HeadAndOptions, routes=routes)  # outermost: HEAD and OPTIONS on every API path
    return app
