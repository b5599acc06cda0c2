"""`landfund db …`: the embedded PostGIS cluster and the schema."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from ..core.config import get_settings
from ..core.db import admin_database_url, app_role, database_url, make_engine, owner_database_url, pg_connect
from ..core.embedded import cluster_from_settings
from ..core.errors import LandfundError
from .common import engine, err, out, print_json, user_errors

app = typer.Typer(help="Manage the database: the embedded PostGIS cluster and the schema.", no_args_is_help=True)


def _embedded_only(action: str):
    settings = get_settings()
    if not settings.embedded:
        raise LandfundError(f"DATABASE_URL is set, so landfund uses that server and never {action}s one of its own.")
    return cluster_from_settings(settings)


@app.command()
def start() -> None:
    """Create (on first use) and start the embedded PostGIS cluster under LANDFUND_HOME."""
    with user_errors():
        cluster = _embedded_only("start")
        started = cluster.start()
        out.print(
            ("Started" if started else "Already running:") + f" embedded PostGIS on port {cluster.port}, "
            f"data in {cluster.data_dir}"
        )


@app.command()
def stop() -> None:
    """Stop the embedded cluster (its data stays)."""
    with user_errors():
        cluster = _embedded_only("stop")
        out.print("Stopped." if cluster.stop() else "Not running.")


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON.")) -> None:
    """Show whether the database is reachable, and the schema revision. Exit 1 when it is not running."""
    from ..schema import current_revision, head_revision  # alembic: loaded by the commands that need it

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
            print_json(info)
        else:
            for k, v in info.items():
                out.print(f"{k:>12}: {v}")
        if not running:
            raise typer.Exit(1)


@app.command("upgrade")
def upgrade_cmd(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply the schema migrations (the first one creates the postgis extension)."""
    from ..schema import current_revision, upgrade

    with user_errors():
        settings = get_settings()
        eng = engine(start=settings.embedded, owner=True)
        upgrade(eng, revision, app_role=app_role(settings), layers_dir=settings.layers_dir)
        out.print(f"Schema at revision {current_revision(eng)}.")
        eng.dispose()


@app.command()
def url(
    tcp: bool = typer.Option(False, "--tcp", help="A libpq URL over 127.0.0.1 with the password (for QGIS, psql)."),
    role: str = typer.Option(
        "app",
        "--role",
        help="app (what the service uses), owner (migrations) or admin (the embedded cluster's superuser).",
    ),
) -> None:
    """Print the database URL in use."""
    with user_errors():
        settings = get_settings()
        from ..core import bootstrap, embedded

        roles = {"app": bootstrap.APP, "owner": bootstrap.OWNER, "admin": embedded.ROLE}
        if role not in roles:
            raise LandfundError("--role: app, owner or admin")
        if tcp and settings.embedded:
            out.print(cluster_from_settings(settings).tcp_url(role=roles[role]), soft_wrap=True)
        else:
            urls = {"app": database_url, "owner": owner_database_url, "admin": admin_database_url}
            out.print(urls[role](settings), soft_wrap=True)
    err.print("(keep it private: it may contain a password)") if tcp else None


@app.command("bootstrap")
def bootstrap_cmd(
    print_sql: bool = typer.Option(False, "--print", help="Print the SQL instead of running it."),
) -> None:
    """What a superuser does once for a server landfund does not manage: the owner and application roles, the
    database, PostGIS and the VN-2000 zones. `--print` writes the SQL for your DBA."""
    from ..core import bootstrap

    with user_errors():
        settings = get_settings()
        if print_sql or not settings.embedded:
            out.print(bootstrap.script(database=settings.db_name), soft_wrap=True, markup=False, highlight=False)
            return
        cluster = cluster_from_settings(settings)
        cluster.start()
        out.print("The embedded cluster's roles, database and PostGIS are in place.")


@app.command("distribute")
def distribute_cmd(
    print_only: bool = typer.Option(False, "--print", help="Print the statements, one per line; change nothing."),
) -> None:
    """Distribute the schema by province on Citus: run it on the coordinator, as a superuser (DATABASE_OWNER_URL),
    once the citus extension is created and the workers are added. Tables with province_code are distributed on
    it, co-located with parcels; the others become reference tables; history triggers become row-level; the
    workers get the VN-2000 zones and the service's session settings. On plain PostgreSQL it refuses."""
    from ..stores.citus import CitusStore

    with user_errors():
        settings = get_settings()
        with pg_connect(admin_database_url(settings, start=settings.embedded), autocommit=True) as conn:
            store = CitusStore(conn)
            if blocking := store.keys_without_province():
                raise LandfundError(
                    "these keys do not hold province_code, so Citus cannot distribute them: "
                    + ", ".join(f"{t}.{k}" for t, k in blocking)
                )
            steps = store.plan()
            if print_only:
                for step in steps:
                    out.print(f"{step.statement};", soft_wrap=True, markup=False, highlight=False)
                return
            version = store.installed()
            if version is None:
                raise LandfundError(
                    "this database has no citus extension, so there is nothing to distribute it on; on the Citus "
                    "coordinator, CREATE EXTENSION citus and add the workers (citus_add_node) first. Nothing was "
                    "changed (--print shows the statements)."
                )
            store.apply(steps)
            out.print(f"Distributed by province_code on Citus {version}: {len(steps)} statement(s).")


@app.command("backup")
def backup_cmd(file: Path = typer.Argument(..., help="Backup file to write (pg_dump custom format).")) -> None:
    """Back up the whole database (every table, with PostGIS) to FILE."""
    from ..core.backup import backup

    with user_errors():
        backup(admin_database_url(get_settings(), start=True), file)
        out.print(f"Backed up to {file} ({file.stat().st_size:,} bytes).")


@app.command("restore")
def restore_cmd(
    file: Path = typer.Argument(..., help="A file written by landfund db backup."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Replace the database's contents with FILE's, in one transaction (on any error nothing changes)."""
    from ..core.backup import restore

    with user_errors():
        if not yes:
            if not sys.stdin.isatty():
                raise LandfundError(f"restoring replaces every table with {file}'s; add --yes to confirm")
            if not typer.confirm(f"Replace everything in the database with {file}?"):
                raise typer.Exit(1)
        settings = get_settings()
        restore(admin_database_url(settings, start=True), file)
        if settings.embedded:  # the superuser restored it: give the objects back to the owner
            from ..core.bootstrap import take_ownership

            admin = make_engine(admin_database_url(settings))
            with admin.begin() as conn:
                take_ownership(conn.connection.driver_connection)
            admin.dispose()
        from ..schema import upgrade

        eng = engine(owner=True)
        upgrade(
            eng, app_role=app_role(settings), layers_dir=settings.layers_dir
        )  # and the application role's grants, as after any upgrade
        eng.dispose()
        out.print(f"Restored {file}.")
