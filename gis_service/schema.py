"""The schema: run the Alembic migrations that ship inside the package (so they work from a wheel too), then sync
the vocabularies of layers/ into the database and grant the application role."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from .core import bootstrap
from .core.errors import LandfundError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Leave alone what PostGIS owns (spatial_ref_sys, topology…) and the partitions of parcels: tables we never model."""
    from .models import Base

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


def upgrade(
    engine: Engine, revision: str = "head", app_role: str | None = bootstrap.APP, layers_dir: Path | None = None
) -> None:
    """Migrate (as the schema's owner), sync the vocabularies of layers/ into the database's tables, and grant the
    application role what it needs (core/bootstrap.py)."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        raw = conn.connection.driver_connection
        sync_vocabulary(raw, layers_dir)
        if app_role:
            bootstrap.grant_app(raw, app_role)


def sync_vocabulary(conn, layers_dir: Path | None = None) -> None:
    """The statuses and allowed transitions of layers/workflow.yaml into `statuses` and `status_transitions` (the
    trigger enforces them), and reference layers' roles from the catalogue. A status still held by parcels cannot
    be removed: the error says how many."""
    from .catalogue import load_catalogue
    from .core.config import Settings
    from .stores.reference import ReferenceStore
    from .stores.vocabulary import VocabularyStore

    store = VocabularyStore(conn)
    if not store.has_statuses():
        return  # an older revision
    catalogue = load_catalogue(Path(layers_dir) if layers_dir else Settings().layers_dir)
    workflow = catalogue.workflow
    store.put_statuses(workflow.order)
    for name, held in store.other_statuses(workflow.order):
        if held:
            raise LandfundError(
                f"status {name!r} is no longer in layers/workflow.yaml but {held} parcel(s) hold it; "
                "move them to another stage first (a migration or a transition)"
            )
        store.drop_status(name)
    store.put_transitions(workflow.transitions())
    store.put_ranked(workflow.roles.call)
    if store.has_roles():
        for layer in catalogue.layers.values():
            if layer.storage == "reference":
                ReferenceStore(conn).sync_roles(layer.id, layer.role, layer.role_by)


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
