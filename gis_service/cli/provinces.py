"""`landfund province …`: the provinces one database holds (a national or regional platform holds many)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import typer

from ..catalogue import get_catalogue
from ..core.config import get_settings
from ..core.db import pg_connect
from ..core.errors import LandfundError
from .common import CLI_HINTS, out, owner_url, user_errors

app = typer.Typer(help="The provinces this database holds: list them, add one.", no_args_is_help=True)


@app.command("add")
def add_cmd(
    folder: Path = typer.Argument(
        ..., help="The province's folder: province.yaml and a file per layer (admin_units.gpkg, parcels.shp, …)."
    ),
    keep_status: bool = typer.Option(
        False, "--keep-status", help="Keep the stages the parcels file states (an existing land fund)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check everything, write nothing."),
) -> None:
    """Add a province beside this deployment's: its units, parcels (in a partition of their own), reference layers,
    demand and programmes, each checked as an import is, against that province's outline and units. All files or
    nothing. Its views are then asked for with province=NN (the API, pages and maps) or --province NN."""
    from ..ingest.province import load_province
    from ..validation import ValidationFailed

    with user_errors():
        settings = get_settings()
        catalogue = get_catalogue(settings)
        with pg_connect(owner_url()) as conn, conn.transaction() as tx:
            try:
                loaded = load_province(conn, catalogue, settings, folder, keep_status=keep_status)
            except ValidationFailed as exc:
                name = exc.source_name or "a file"
                raise LandfundError(f"{name}: {exc.message(CLI_HINTS)}") from None
            if dry_run:
                raise psycopg.Rollback(tx)
        p = loaded.province
        for result in loaded.results:
            for w in result.warnings:
                out.print(f"[yellow]warning:[/] {result.layer}: {w}", soft_wrap=True)
        counts = ", ".join(f"{len(r.ids)} {r.layer}" for r in loaded.results)
        verb = "Dry run: would add" if dry_run else "Added"
        out.print(f"{verb} province {p.code} {p.name}: {counts}.", soft_wrap=True)


@app.command("list")
def list_cmd() -> None:
    """The provinces this database holds, with their parcels."""
    from ..stores.admin_units import AdminUnitStore
    from ..stores.parcels import ParcelStore

    with user_errors():
        settings = get_settings()
        own = get_catalogue(settings).province.code
        with pg_connect(owner_url()) as conn:
            store = AdminUnitStore(conn)
            names, counts = store.names(), ParcelStore(conn).count_by_province()
            for code in store.provinces():
                mark = " (this deployment's)" if code == own else ""
                out.print(f"{code}  {names.get(code, code)}: {counts.get(code, 0)} parcel(s){mark}", soft_wrap=True)
