"""The one way landfund reaches PostgreSQL.

`Database` has a write path (the primary) and a read path (the replica when DATABASE_READ_URL is set, else the
primary), each a psycopg 3 connection pool in the service (direct connections in a CLI command), plus, for the
API's hot read paths (feature pages, tiles, token look-ups), an async SQLAlchemy engine on the read server.
Stores (gis_service/stores) take the connections it hands out; nothing else connects."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool
from sqlalchemy.ext.asyncio import AsyncEngine

from .db import (
    API_SESSION_OPTIONS,
    SESSION_OPTIONS,
    api_read_engine,
    api_session_options,
    libpq_dsn,
    session_args,
)


class Database:
    def __init__(
        self,
        url: str,
        read_url: str | None = None,
        *,
        options: str = SESSION_OPTIONS,
        timeout: float = 3.0,
        pooled: bool = False,
        async_reads: bool = False,
        application_name: str = "landfund",
        pooler: str = "none",
    ):
        self.url, self.read_url = url, read_url or url
        self.options, self.timeout = options, timeout
        self.kwargs: dict[str, Any] = {
            "application_name": application_name,
            "connect_timeout": max(1, int(timeout)),
            **session_args(pooler, options),
        }
        self._write: ConnectionPool | None = None
        self._read: ConnectionPool | None = None
        self._async: AsyncEngine | None = None
        if pooled:
            # After a database restart both pools reconnect by themselves (every connection handed out is checked);
            # while the database is down, getting one fails within `timeout` and the API says 503.
            self._write = self._pool(self.url, "write")
            self._read = self._pool(self.read_url, "read") if self.read_url != self.url else self._write
        if async_reads:
            self._async = api_read_engine(self.read_url, timeout, options, pooler)

    def _pool(self, url: str, name: str) -> ConnectionPool:
        pool = ConnectionPool(
            libpq_dsn(url),
            min_size=1,
            max_size=8,
            open=False,
            check=ConnectionPool.check_connection,
            timeout=self.timeout,
            reconnect_timeout=0,
            name=name,
            kwargs=dict(self.kwargs),
        )
        pool.open(wait=False)
        return pool

    @classmethod
    def for_api(cls, settings, url: str, read_url: str) -> Database:
        return cls(
            url,
            read_url,
            options=api_session_options(settings),
            timeout=settings.db_timeout_seconds,
            pooled=True,
            async_reads=True,
            application_name="landfund-api",
            pooler=settings.db_pooler,
        )

    @contextlib.contextmanager
    def _connect(self, pool: ConnectionPool | None, url: str) -> Iterator[psycopg.Connection]:
        if pool is not None:
            with pool.connection() as conn:
                yield conn
            return
        with psycopg.connect(libpq_dsn(url), **self.kwargs) as conn:
            yield conn

    def write(self):
        """A connection to the primary; the caller opens transactions on it (`with conn.transaction()`)."""
        return self._connect(self._write, self.url)

    def read(self):
        """A connection for reading: the replica when there is one (it may lag the primary by a moment, so a
        write's own read-back goes through `write`)."""
        return self._connect(self._read, self.read_url)

    @property
    def async_engine(self) -> AsyncEngine:
        assert self._async is not None, "this Database has no async read engine"
        return self._async

    @property
    def read_dsn(self) -> str:
        return libpq_dsn(self.read_url)

    @property
    def replicated(self) -> bool:
        return self.read_url != self.url

    async def close(self) -> None:
        for pool in {id(p): p for p in (self._write, self._read) if p is not None}.values():
            pool.close(timeout=1.0)
        if self._async is not None:
            await self._async.dispose()


__all__ = ["API_SESSION_OPTIONS", "Database"]
