"""What every store shares: a connection, and running SQLAlchemy Core statements on plain psycopg."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy.dialects import postgresql

DIALECT = postgresql.psycopg.dialect()


def compiled(stmt) -> tuple[str, dict]:
    """A SQLAlchemy Core statement as SQL text and parameters for a psycopg 3 cursor."""
    c = stmt.compile(dialect=DIALECT, compile_kwargs={"render_postcompile": True})
    return str(c), c.params


def run(conn, stmt):
    """Execute a SQLAlchemy Core statement on a plain psycopg connection; returns the cursor."""
    text, params = compiled(stmt)
    return conn.execute(text, params)


class Store:
    def __init__(self, conn):
        self.conn = conn

    def one(self, query: Any, params: Any = None) -> Any:
        """The first row (a tuple), or None. `query` is SQL text or a psycopg.sql composition."""
        return self.conn.execute(query, params).fetchone()

    def all(self, query: Any, params: Any = None) -> list[Any]:
        return self.conn.execute(query, params).fetchall()

    def each(self, query: Any, params: Any = None) -> Iterator[Any]:
        """The rows, streamed in chunks (libpq's chunked mode) rather than held whole: the problems of a file of a
        million bad rows are a million rows. Consume it before the next statement on the connection."""
        return each(self.conn.cursor(), query, params)


STREAM_CHUNK = 2_000


def each(cur, query: Any, params: Any = None) -> Iterator[Any]:
    """A cursor's rows of `query`, streamed STREAM_CHUNK at a time."""
    return cur.stream(query, params, size=STREAM_CHUNK)
