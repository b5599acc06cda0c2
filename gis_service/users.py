"""Users and tokens: add users, issue and revoke bearer tokens (stored only as hashes)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

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


def _unit(conn: psycopg.Connection, code: str) -> tuple[str, object]:
    """(name, valid_to) of a unit's latest version; a clear error when there is none."""
    row = conn.execute("SELECT name, valid_to FROM admin_units WHERE code = %s ORDER BY valid_from DESC LIMIT 1",
                       [code]).fetchone()
    if row is None:
        raise LandfundError(f"unknown administrative unit {code!r}")
    return row


def set_unit(conn: psycopg.Connection, name: str, unit: str) -> str:
    """Move a planner to another unit (say, from an abolished former district to a current commune)."""
    unit_name, valid_to = _unit(conn, unit)
    if valid_to is not None and valid_to < date.today():
        raise LandfundError(f"unit {unit} ({unit_name}) ended on {valid_to:%d/%m/%Y}; choose a unit in force today")
    with conn.transaction():
        row = conn.execute("UPDATE users SET admin_unit_code = %s WHERE name = %s AND role = 'planner' RETURNING id",
                           [unit, name]).fetchone()
        if row is None:
            raise NotFound(f"no planner {name!r}")
    return unit_name


def disable(conn: psycopg.Connection, name: str) -> int:
    """Disable an account: it can no longer sign in, and every token it holds stops working at once. Its history
    and expressions of interest stay as they are. Returns how many tokens were revoked."""
    with conn.transaction():
        row = conn.execute("UPDATE users SET disabled_at = coalesce(disabled_at, now()) WHERE name = %s RETURNING id",
                           [name]).fetchone()
        if row is None:
            raise NotFound(f"no user {name!r}")
        return conn.execute("UPDATE api_tokens SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL",
                            [row[0]]).rowcount


def delete(conn: psycopg.Connection, name: str) -> None:
    """Delete an account and its tokens. History keeps the name it recorded (it is the record of who changed
    what, and is never rewritten). An investor whose expressions of interest are on record cannot be deleted:
    they belong to the parcels' files; disable the account instead."""
    with conn.transaction():
        row = conn.execute("SELECT id, (SELECT count(*) FROM interests i WHERE i.investor_id = u.id) FROM users u "
                           "WHERE name = %s FOR UPDATE", [name]).fetchone()
        if row is None:
            raise NotFound(f"no user {name!r}")
        if row[1]:
            raise Conflict(f"user {name!r} has {row[1]} expression(s) of interest on record, which stay with the "
                           f"parcels; disable the account instead:  landfund users disable {name}")
        conn.execute("DELETE FROM users WHERE id = %s", [row[0]])


def list_users(conn: psycopg.Connection) -> list[dict]:
    """Every user, with their live tokens and, for planners, whether their unit is still in force."""
    rows = conn.execute(
        """SELECT u.name, u.role, u.admin_unit_code, u.organisation, u.disabled_at,
                  count(t.id) FILTER (WHERE t.revoked_at IS NULL AND t.expires_at > now()) AS active_tokens,
                  a.name AS unit_name, a.valid_to AS unit_valid_to
           FROM users u LEFT JOIN api_tokens t ON t.user_id = u.id
           LEFT JOIN LATERAL (SELECT name, valid_to FROM admin_units WHERE code = u.admin_unit_code
                              ORDER BY valid_from DESC LIMIT 1) a ON TRUE
           GROUP BY u.id, a.name, a.valid_to ORDER BY u.name""").fetchall()
    out = []
    for name, role, unit, org, disabled, tokens, unit_name, valid_to in rows:
        abolished = valid_to is not None and valid_to < date.today()
        out.append({"name": name, "role": role, "unit": unit, "unit_name": unit_name, "organisation": org,
                    "disabled": disabled is not None, "tokens": tokens, "unit_abolished_on": valid_to if abolished else None})
    return out
