"""The FastAPI application."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine

from .. import __version__
from ..catalogue import load_catalogue
from ..core.config import Settings, get_settings
from ..core.db import database_url
from .routes import health


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    catalogue = load_catalogue(settings.layers_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        url = database_url(settings)
        app.state.read_engine = create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
        yield
        await app.state.read_engine.dispose()

    app = FastAPI(
        title="landfund",
        version=__version__,
        description="Land fund for social housing (quỹ đất nhà ở xã hội), Điện Biên province.",
        lifespan=lifespan,
        docs_url="/api.html",
        openapi_url="/api",
    )
    app.state.settings = settings
    app.state.catalogue = catalogue
    app.include_router(health.router)
    return app
