"""Users and their API tokens (only SHA-256 hashes of tokens are stored)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from .base import Store

LOOKUP_SQL = """
SELECT u.id, u.name, u.role, u.admin_unit_code, u.desktop_editor, t.id
FROM api_tokens t JOIN users u ON u.id = t.user_id
WHERE t.token_hash = :hash AND t.revoked_at IS NULL AND t.expires_at > now() AND u.disabled_at IS NULL
"""

LIST_SQL = """
SELECT u.name, u.role, u.admin_unit_code, u.organisation, u.disabled_at, u.desktop_editor,
       count(t.id) FILTER (WHERE t.revoked_at IS NULL AND t.expires_at > now()) AS active_tokens,
       a.name AS unit_name, a.valid_to AS unit_valid_to
FROM users u LEFT JOIN api_tokens t ON t.user_id = u.id
LEFT JOIN LATERAL (SELECT name, valid_to FROM admin_units WHERE code = u.admin_unit_code
                   ORDER BY valid_from DESC LIMIT 1) a ON TRUE
GROUP BY u.id, a.name, a.valid_to ORDER BY u.name
"""


async def principal_row(engine: AsyncEngine, token_hash: str) -> tuple | None:
    """(user id, name, role, unit, desktop editor?, token id) of a live token's user (no cache: a revoked token stops at once)."""
    async with engine.connect() as conn:
        return (await conn.execute(text(LOOKUP_SQL), {"hash": token_hash})).first()


class UserStore(Store):
    def exists(self, name: str) -> bool:
        return self.one("SELECT 1 FROM users WHERE name = %s", [name]) is not None

    def insert(self, name: str, role: str, unit: str | None, organisation: str | None) -> int:
        return self.one(
            "INSERT INTO users (name, role, admin_unit_code, organisation) VALUES (%s, %s, %s, %s) RETURNING id",
            [name, role, unit, organisation],
        )[0]

    def active_id(self, name: str) -> int | None:
        row = self.one("SELECT id FROM users WHERE name = %s AND disabled_at IS NULL", [name])
        return row[0] if row else None

    def insert_token(self, user_id: int, token_hash: str, label: str | None, expires: datetime) -> int:
        return self.one(
            "INSERT INTO api_tokens (user_id, token_hash, label, expires_at) VALUES (%s, %s, %s, %s) RETURNING id",
            [user_id, token_hash, label, expires],
        )[0]

    def revoke_token(self, token_id: int) -> int:
        return self.conn.execute(
            "UPDATE api_tokens SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL", [token_id]
        ).rowcount

    def revoke_all(self, name: str) -> int:
        return self.conn.execute(
            "UPDATE api_tokens SET revoked_at = now() WHERE revoked_at IS NULL AND user_id = "
            "(SELECT id FROM users WHERE name = %s)",
            [name],
        ).rowcount

    def set_unit(self, name: str, unit: str) -> bool:
        return (
            self.one(
                "UPDATE users SET admin_unit_code = %s WHERE name = %s AND role = 'planner' RETURNING id", [unit, name]
            )
            is not None
        )

    def set_desktop_editor(self, name: str, on: bool) -> str | None:
        """Mark (or unmark) a user as a desktop editor; their role, or None when there is no such user. Unmarking
        forgets what they read: a later mark starts from a fresh read."""
        row = self.one("UPDATE users SET desktop_editor = %s WHERE name = %s RETURNING id, role", [on, name])
        if row is not None and not on:
            self.conn.execute("DELETE FROM feature_reads WHERE user_id = %s", [row[0]])
        return None if row is None else row[1]

    def disable(self, name: str) -> int | None:
        """Disable an account and revoke its tokens; the number revoked, or None when there is no such user."""
        row = self.one(
            "UPDATE users SET disabled_at = coalesce(disabled_at, now()) WHERE name = %s RETURNING id", [name]
        )
        if row is None:
            return None
        return self.conn.execute(
            "UPDATE api_tokens SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL", [row[0]]
        ).rowcount

    def with_interests(self, name: str) -> tuple | None:
        """(id, number of expressions of interest) of a user, locked."""
        return self.one(
            "SELECT id, (SELECT count(*) FROM interests i WHERE i.investor_id = u.id) FROM users u "
            "WHERE name = %s FOR UPDATE",
            [name],
        )

    def delete(self, user_id: int) -> None:
        self.conn.execute("DELETE FROM users WHERE id = %s", [user_id])

    def listing(self) -> list[tuple]:
        return self.all(LIST_SQL)


SESSION_SQL = """
SELECT u.id, u.name, u.role, u.admin_unit_code, u.desktop_editor, s.id, s.csrf
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.token_hash = :hash AND s.ended_at IS NULL AND s.expires_at > now() AND u.disabled_at IS NULL
"""


USER_SQL = "SELECT id, name, role, admin_unit_code, desktop_editor FROM users WHERE id = :id AND disabled_at IS NULL"


async def user_row(engine: AsyncEngine, user_id: int) -> tuple | None:
    """(user id, name, role, unit, desktop editor?) of an enabled user (checked on every request: disabling
    an account works at once)."""
    async with engine.connect() as conn:
        return (await conn.execute(text(USER_SQL), {"id": user_id})).first()


async def session_row(engine: AsyncEngine, token_hash: str) -> tuple | None:
    """(user id, name, role, unit, desktop editor?, session id, CSRF token) of a live session (checked on every request, so
    signing out or disabling the account ends it at once)."""
    async with engine.connect() as conn:
        return (await conn.execute(text(SESSION_SQL), {"hash": token_hash})).first()


class SessionStore(Store):
    """Browser sessions, passwords and failed sign-ins."""

    def credentials(self, name: str) -> tuple | None:
        """(id, password hash, disabled?) of a user."""
        return self.one("SELECT id, password_hash, disabled_at IS NOT NULL FROM users WHERE name = %s", [name])

    def set_password(self, name: str, password_hash: str) -> bool:
        return (
            self.one(
                "UPDATE users SET password_hash = %s, password_changed_at = now() WHERE name = %s RETURNING id",
                [password_hash, name],
            )
            is not None
        )

    def recent_failures(self, name: str, address: str, seconds: int) -> tuple[int, int]:
        """Failed sign-ins in the last `seconds`: (for this name, from this address)."""
        row = self.one(
            "SELECT count(*) FILTER (WHERE name = %(n)s), count(*) FILTER (WHERE address = %(a)s) "
            "FROM login_failures WHERE at > now() - make_interval(secs => %(s)s) "
            "AND (name = %(n)s OR address = %(a)s)",
            {"n": name, "a": address, "s": seconds},
        )
        return int(row[0]), int(row[1])

    def last_failure_age(self, name: str, address: str) -> float | None:
        """Seconds since the last failed sign-in for this name or from this address."""
        row = self.one(
            "SELECT extract(epoch FROM now() - max(at)) FROM login_failures WHERE name = %s OR address = %s",
            [name, address],
        )
        return None if row is None or row[0] is None else float(row[0])

    def fail(self, name: str, address: str) -> None:
        self.conn.execute("INSERT INTO login_failures (name, address) VALUES (%s, %s)", [name[:128], address[:64]])

    def forget_failures(self, name: str) -> None:
        self.conn.execute("DELETE FROM login_failures WHERE name = %s", [name])

    def start(
        self, user_id: int, token_hash: str, csrf: str, hours: float, address: str | None, user_agent: str | None
    ) -> int:
        return self.one(
            "INSERT INTO sessions (token_hash, user_id, csrf, expires_at, address, user_agent) "
            "VALUES (%s, %s, %s, now() + make_interval(secs => %s), %s, %s) RETURNING id",
            [token_hash, user_id, csrf, hours * 3600, (address or "")[:64], (user_agent or "")[:255]],
        )[0]

    def end(self, token_hash: str) -> None:
        self.conn.execute(
            "UPDATE sessions SET ended_at = now() WHERE token_hash = %s AND ended_at IS NULL", [token_hash]
        )

    def end_all(self, user_id: int) -> int:
        return self.conn.execute(
            "UPDATE sessions SET ended_at = now() WHERE user_id = %s AND ended_at IS NULL", [user_id]
        ).rowcount

    def end_all_of(self, name: str) -> int:
        return self.conn.execute(
            "UPDATE sessions SET ended_at = now() WHERE ended_at IS NULL AND user_id = "
            "(SELECT id FROM users WHERE name = %s)",
            [name],
        ).rowcount

    def touch(self, session_id: int) -> None:
        self.conn.execute("UPDATE sessions SET last_seen_at = now() WHERE id = %s", [session_id])
