"""Database connections: which server (DATABASE_URL or the embedded cluster) and the engines to it."""

from __future__ import annotations

import time

from sqlalchemy import create_engine, event, exc, make_url
from sqlalchemy.engine import URL, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from . import bootstrap
from .config import Settings
from .embedded import cluster_from_settings
from .errors import LandfundError

# Every landfund session turns PostgreSQL's JIT off. PostGIS functions carry high planner costs, so JIT fires
# on ordinary spatial queries and spends more compiling (up to a second) than the query takes: the province
# check of a 100,000-parcel import went from 1.1 s to 0.4 s, the overlap check from 0.57 s to 0.02 s.
SESSION_OPTIONS = "-c jit=off"
# The API's sessions also plan no parallel workers: launching them costs ~25 ms, more than a whole page of
# 1,000 parcels takes without them, and on a server busy with many clients they buy no extra cores.
API_SESSION_OPTIONS = SESSION_OPTIONS + " -c max_parallel_workers_per_gather=0"


def api_session_options(settings) -> str:
    """The API's session settings: no JIT, no parallel workers, and bounds on how long a request's statement may
    run and wait for a lock (a request that hits them gets 503, never a hung worker)."""
    return (
        API_SESSION_OPTIONS + f" -c statement_timeout={int(settings.statement_timeout_seconds * 1000)}"
        f" -c lock_timeout={int(settings.lock_timeout_seconds * 1000)}"
    )


POOLERS = ("none", "transaction")


def session_args(pooler: str, options: str) -> dict:
    """How a connection carries its session settings. Directly: as the startup parameter `options`. Through a
    pooler in transaction mode (PgBouncer): not at all (PgBouncer refuses `options`, and a SET would stay on a
    server connection other clients then get); the pooler sets them on its server connections (connect_query),
    and no statement is prepared on the server, since the next transaction may run on another one (psycopg
    prepares a statement run 5 times: it would be missing, or collide with another client's)."""
    if pooler == "transaction":
        return {"prepare_threshold": None}
    return {"options": options}


# A pooled connection idle longer than this is pinged before use (a database restart leaves every pooled
# connection dead); one in steady use is not: SQLAlchemy's pool_pre_ping would add a round trip to every
# request, 0.6–2 ms on a 5 ms vector tile.
IDLE_PING_SECONDS = 1.0


def api_read_engine(url: str, timeout: float, options: str = API_SESSION_OPTIONS, pooler: str = "none") -> AsyncEngine:
    """The API's read engine: autocommit (each read is one statement, so no BEGIN and ROLLBACK round trips),
    no parallel workers, and idle connections checked before use. When a connection in use finds the database
    gone, SQLAlchemy invalidates the whole pool, so the next request connects afresh."""
    engine = create_async_engine(
        url,
        pool_size=10,
        max_overflow=10,
        pool_recycle=1800,
        pool_timeout=timeout,
        isolation_level="AUTOCOMMIT",
        connect_args={
            "connect_timeout": max(1, int(timeout)),
            "application_name": "landfund-api",
            **session_args(pooler, options),
        },
    )
    dialect = engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(dbapi_connection, record) -> None:
        record.info["checked_in"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy) -> None:
        last = record.info.get("checked_in")
        if last is not None and time.monotonic() - last > IDLE_PING_SECONDS:
            try:
                alive = dialect.do_ping(dbapi_connection)
            except Exception as e:
                raise exc.DisconnectionError(str(e)) from e
            if alive is False:
                raise exc.DisconnectionError("ping failed")  # the pool discards it and connects anew

    return engine


def normalise_url(url: str) -> str:
    """Accept the libpq spellings (postgres://, postgresql://) and use the psycopg 3 driver."""
    u = make_url(url)
    if u.drivername in ("postgres", "postgresql", "postgresql+psycopg2"):
        u = u.set(drivername="postgresql+psycopg")
    if u.drivername != "postgresql+psycopg":
        raise LandfundError(f"DATABASE_URL must be a PostgreSQL URL (postgresql://…), not {u.drivername}://")
    return u.render_as_string(hide_password=False)


def _embedded(settings: Settings, start: bool):
    cluster = cluster_from_settings(settings)
    if start:
        cluster.start()
    elif not cluster.running():
        raise LandfundError("The embedded database is not running. Start it with:  landfund db start")
    return cluster


def database_url(settings: Settings, *, start: bool = False) -> str:
    """Where the service and the everyday commands connect, as the application role (it owns nothing): the
    embedded cluster (started if `start`), or DATABASE_URL."""
    if settings.database_url:
        return normalise_url(settings.database_url)
    return _embedded(settings, start).url(role=bootstrap.APP)


def owner_database_url(settings: Settings, *, start: bool = False) -> str:
    """Where migrations and operator commands (upgrade, demo) connect, as the owner of the schema:
    DATABASE_OWNER_URL, else DATABASE_URL, else the embedded cluster's owner role."""
    if settings.database_owner_url or settings.database_url:
        return normalise_url(settings.database_owner_url or settings.database_url or "")
    return _embedded(settings, start).url(role=bootstrap.OWNER)


def admin_database_url(settings: Settings, *, start: bool = False) -> str:
    """Backup and restore (which recreate the PostGIS extension): the embedded cluster's superuser, else the
    owner's URL."""
    if settings.database_owner_url or settings.database_url:
        return owner_database_url(settings)
    return _embedded(settings, start).url()


def app_role(settings: Settings) -> str:
    """The role the service connects as, which the owner grants after every upgrade."""
    if settings.database_url:
        return make_url(normalise_url(settings.database_url)).username or bootstrap.APP
    return bootstrap.APP


def read_database_url(settings: Settings) -> str:
    """Where reads go: DATABASE_READ_URL (a streaming replica, say) when set, else the primary."""
    if settings.database_read_url:
        return normalise_url(settings.database_read_url)
    return database_url(settings)


def psycopg_sql(stmt) -> tuple[str, dict]:
    """A SQLAlchemy Core statement as SQL text and parameters for a plain psycopg 3 cursor."""
    from sqlalchemy.dialects import postgresql

    compiled = stmt.compile(dialect=postgresql.psycopg.dialect())
    return str(compiled), compiled.params


def libpq_params(url: str) -> dict[str, str]:
    """Keyword parameters for libpq tools (psql, pg_dump, GDAL's PG: driver) from a SQLAlchemy URL."""
    u: URL = make_url(url)
    params: dict[str, str] = {}
    if u.host:
        params["host"] = u.host
    if u.port:
        params["port"] = str(u.port)
    if u.username:
        params["user"] = u.username
    if u.password:
        params["password"] = u.password
    if u.database:
        params["dbname"] = u.database
    for key, value in u.query.items():
        params[key] = value if isinstance(value, str) else value[-1]
    return params


def libpq_dsn(url: str) -> str:
    def q(v: str) -> str:
        return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"

    return " ".join(f"{k}={q(v)}" for k, v in libpq_params(url).items())


def make_engine(url: str, pooler: str = "none", **kw) -> Engine:
    kw.setdefault("pool_pre_ping", True)
    args = kw.setdefault("connect_args", {})
    for k, v in session_args(pooler, SESSION_OPTIONS).items():
        args.setdefault(k, v)
    return create_engine(url, **kw)


def pg_connect(url: str, pooler: str | None = None, **kw):
    """A plain psycopg 3 connection (for COPY and hand-written SQL) to the same database (through the configured
    pooler, LANDFUND_DB_POOLER, unless `pooler` says)."""
    import psycopg

    from .config import get_settings

    kw.setdefault("application_name", "landfund")
    for k, v in session_args(pooler or get_settings().db_pooler, SESSION_OPTIONS).items():
        kw.setdefault(k, v)
    return psycopg.connect(libpq_dsn(url), **kw)
