"""Run the Alembic migrations that ship inside the package (so they work from a wheel too)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from . import bootstrap

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Leave alone what PostGIS owns (spatial_ref_sys, topology…) and the partitions of parcels: tables we never model."""
    from ..models import Base

    if type_ == "table" and reflected and compare_to is None:
        return name in Base.metadata.tables
    if type_ == "foreign_key_constraint" and reflected:  # PostgreSQL's own per-partition copies of a key
        return obj.referred_table.name in Base.metadata.tables
    return True


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head", app_role: str | None = bootstrap.APP) -> None:
    """Migrate (as the schema's owner), then grant the application role what it needs (core/bootstrap.py)."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        if app_role:
            bootstrap.grant_app(conn.connection.driver_connection, app_role)


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
