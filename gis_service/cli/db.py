"""`landfund db …`: the embedded PostGIS cluster and the schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from ..core.config import get_settings
from ..core.db import database_url
from ..core.embedded import cluster_from_settings
from ..core.errors import LandfundError
from ..core.migrate import current_revision, head_revision, upgrade
from .common import db_url, engine, err, out, user_errors

app = typer.Typer(help="Manage the database: the embedded PostGIS cluster and the schema.", no_args_is_help=True)


def _embedded_only(action: str):
    settings = get_settings()
    if not settings.embedded:
        raise LandfundError(
            f"DATABASE_URL is set, so landfund uses that server and never {action}s one of its own."
        )
    return cluster_from_settings(settings)


@app.command()
def start() -> None:
    """Create (on first use) and start the embedded PostGIS cluster under LANDFUND_HOME."""
    with user_errors():
        cluster = _embedded_only("start")
        started = cluster.start()
        out.print(("Started" if started else "Already running:") + f" embedded PostGIS on port {cluster.port}, "
                  f"data in {cluster.data_dir}")


@app.command()
def stop() -> None:
    """Stop the embedded cluster (its data stays)."""
    with user_errors():
        cluster = _embedded_only("stop")
        out.print("Stopped." if cluster.stop() else "Not running.")


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON.")) -> None:
    """Show whether the database is reachable, and the schema revision. Exit 1 when it is not running."""
    with user_errors():
        settings = get_settings()
        info: dict = {"mode": "embedded" if settings.embedded else "DATABASE_URL"}
        if settings.embedded:
            info.update(cluster_from_settings(settings).status())
            running = info["running"]
        else:
            running = True
        if running:
            eng = engine(start=False)
            info["revision"] = current_revision(eng)
            info["head"] = head_revision()
            eng.dispose()
        if as_json:
            out.print_json(json.dumps(info, default=str))
        else:
            for k, v in info.items():
                out.print(f"{k:>12}: {v}")
        if not running:
            raise typer.Exit(1)


@app.command("upgrade")
def upgrade_cmd(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply the schema migrations (the first one creates the postgis extension)."""
    with user_errors():
        settings = get_settings()
        eng = engine(start=settings.embedded)
        upgrade(eng, revision)
        out.print(f"Schema at revision {current_revision(eng)}.")
        eng.dispose()


@app.command()
def url(tcp: bool = typer.Option(False, "--tcp", help="A libpq URL over 127.0.0.1 with the password (for QGIS, psql).")) -> None:
    """Print the database URL in use."""
    with user_errors():
        settings = get_settings()
        if tcp and settings.embedded:
            out.print(cluster_from_settings(settings).tcp_url())
        else:
            out.print(database_url(settings))
    err.print("(keep it private: it may contain a password)") if tcp else None


@app.command("backup")
def backup_cmd(file: Path = typer.Argument(..., help="Backup file to write (pg_dump custom format).")) -> None:
    """Back up the whole database (every table, with PostGIS) to FILE."""
    from ..core.backup import backup

    with user_errors():
        backup(db_url(), file)
        out.print(f"Backed up to {file} ({file.stat().st_size:,} bytes).")


@app.command("restore")
def restore_cmd(file: Path = typer.Argument(..., help="A file written by landfund db backup."),
                yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation.")) -> None:
    """Replace the database's contents with FILE's, in one transaction (on any error nothing changes)."""
    from ..core.backup import restore

    with user_errors():
        if not yes:
            if not sys.stdin.isatty():
                raise LandfundError(f"restoring replaces every table with {file}'s; add --yes to confirm")
            if not typer.confirm(f"Replace everything in the database with {file}?"):
                raise typer.Exit(1)
        restore(db_url(), file)
        out.print(f"Restored {file}.")
