"""`landfund serve`: run the HTTP API with uvicorn."""

from __future__ import annotations

import os
import socket

import typer

from ..api.logs import access_log_config
from ..core import pooler
from ..core.config import get_settings
from ..core.db import pg_connect
from ..core.errors import LandfundError
from ..stores.maintenance import SessionStore
from .common import db_url, engine, out, user_errors


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise LandfundError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}; another program may be using "
                "it: choose another port with --port or LANDFUND_PORT"
            ) from None


def serve_cmd(
    host: str | None = typer.Option(None, "--host", help="Address to listen on (default LANDFUND_HOST, 127.0.0.1)."),
    port: int | None = typer.Option(None, "--port", help="Port to listen on (default LANDFUND_PORT, 8000)."),
    workers: int | None = typer.Option(
        None,
        "--workers",
        help="uvicorn worker processes (default LANDFUND_WORKERS, 1); the API keeps no state of its own.",
    ),
) -> None:
    """Serve the API (and its OpenAPI docs). Starts the embedded database when needed.

    Browsers on other sites may call the API only from the origins in LANDFUND_CORS_ORIGINS (CORS): a
    comma-separated list such as https://gis.dienbien.gov.vn,http://localhost:8080, a JSON list, or * for any
    origin. Desktop GIS (QGIS, GDAL) needs no CORS; it signs in with HTTP Basic (user name and a token or the
    password), accepted over HTTPS and from this machine (LANDFUND_BASIC_AUTH_OVER_HTTP=true to allow plain HTTP)."""
    import uvicorn

    from ..schema import current_revision, head_revision

    with user_errors():
        settings = get_settings()
        eng = engine(start=True)
        rev, head = current_revision(eng), head_revision()
        eng.dispose()
        if rev != head:
            raise LandfundError(
                f"the database schema is at revision {rev or 'none'}, not {head}. Run:  landfund db upgrade"
            )
        if settings.db_pooler == "transaction":  # behind PgBouncer: the pooler must give sessions their settings
            with pg_connect(db_url()) as conn:
                found = SessionStore(conn).settings(tuple(pooler.expected(settings)))
            wrong = pooler.problems(found, settings)
            if wrong:
                raise LandfundError(
                    "behind a pooler in transaction mode (LANDFUND_DB_POOLER=transaction) the sessions lack "
                    f"landfund's settings: {'; '.join(wrong)}. Give the pooler's database entry "
                    f"connect_query='{pooler.connect_query(settings)}' (see deploy/pgbouncer/pgbouncer.ini)"
                )
    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.workers
    with user_errors():
        _check_port_free(host, port)
    out.print(
        f"landfund is serving at http://{host}:{port}/  (API docs: http://{host}:{port}/api.html)"
        + (f" with {workers} workers" if workers > 1 else "")
    )
    os.environ["LANDFUND_SERVE_PROCESS"] = "1"  # workers exit promptly after a shutdown (see api.app._exit_soon)
    uvicorn.run(
        "gis_service.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=True,
        timeout_graceful_shutdown=max(1, round(settings.shutdown_timeout_seconds)),
        log_config=access_log_config(),
    )
