"""Users and tokens: add users, issue and revoke bearer tokens (stored only as hashes)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg

from .core.errors import Conflict, LandfundError, NotFound
from .models.auth import ROLES
from .security import hash_token, new_token


def add_user(conn: psycopg.Connection, name: str, role: str, admin_unit_code: str | None = None,
             organisation: str | None = None) -> int:
    if role not in ROLES:
        raise LandfundError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "planner" and admin_unit_code is None:
        raise LandfundError("a planner needs --unit (a GSO code: the province 11, a former district, or a commune)")
    if admin_unit_code is not None:
        known = conn.execute("SELECT name FROM admin_units WHERE code = %s ORDER BY valid_from DESC LIMIT 1",
                             [admin_unit_code]).fetchone()
        if known is None:
            raise LandfundError(f"unknown administrative unit {admin_unit_code!r}")
    with conn.transaction():
        if conn.execute("SELECT 1 FROM users WHERE name = %s", [name]).fetchone():
            raise Conflict(f"user {name!r} exists already")
        return conn.execute(
            "INSERT INTO users (name, role, admin_unit_code, organisation) VALUES (%s, %s, %s, %s) RETURNING id",
            [name, role, admin_unit_code, organisation]).fetchone()[0]


def issue_token(conn: psycopg.Connection, name: str, days: int = 90, label: str | None = None) -> tuple[str, int, datetime]:
    """A new token for user `name`: (token, token id, expiry). The token itself is never stored."""
    if days < 1 or days > 3650:
        raise LandfundError("--days must be between 1 and 3650")
    with conn.transaction():
        row = conn.execute("SELECT id FROM users WHERE name = %s AND disabled_at IS NULL", [name]).fetchone()
        if row is None:
            raise NotFound(f"no active user {name!r}")
        token = new_token()
        expires = datetime.now(timezone.utc) + timedelta(days=days)
        tid = conn.execute("INSERT INTO api_tokens (user_id, token_hash, label, expires_at) VALUES (%s, %s, %s, %s) "
                           "RETURNING id", [row[0], hash_token(token), label, expires]).fetchone()[0]
    return token, tid, expires


def revoke(conn: psycopg.Connection, name: str | None = None, token_id: int | None = None) -> int:
    """Revoke one token (by id) or every token of a user. Returns how many were revoked."""
    with conn.transaction():
        if token_id is not None:
            n = conn.execute("UPDATE api_tokens SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL",
                             [token_id]).rowcount
        elif name is not None:
            n = conn.execute("UPDATE api_tokens SET revoked_at = now() WHERE revoked_at IS NULL AND user_id = "
                             "(SELECT id FROM users WHERE name = %s)", [name]).rowcount
        else:
            raise LandfundError("name a user or a --token-id")
    return n


def list_users(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        """SELECT u.name, u.role, u.admin_unit_code, u.organisation,
                  count(t.id) FILTER (WHERE t.revoked_at IS NULL AND t.expires_at > now()) AS active_tokens
           FROM users u LEFT JOIN api_tokens t ON t.user_id = u.id GROUP BY u.id ORDER BY u.name""").fetchall()
