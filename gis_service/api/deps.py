"""Shared request dependencies: settings, catalogue, database engines."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine

from ..catalogue import Catalogue
from ..core.config import Settings


def settings(request: Request) -> Settings:
    return request.app.state.settings


def catalogue(request: Request) -> Catalogue:
    return request.app.state.catalogue


def read_engine(request: Request) -> AsyncEngine:
    return request.app.state.read_engine
