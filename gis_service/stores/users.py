"""Users and their API tokens (only SHA-256 hashes of tokens are stored)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from .base import Store

LOOKUP_SQL = """
SELECT u.id, u.name, u.role, u.admin_unit_code, t.id
FROM api_tokens t JOIN users u ON u.id = t.user_id
WHERE t.token_hash = :hash AND t.revoked_at IS NULL AND t.expires_at > now() AND u.disabled_at IS NULL
"""

LIST_SQL = """
SELECT u.name, u.role, u.admin_unit_code, u.organisation, u.disabled_at,
       count(t.id) FILTER (WHERE t.revoked_at IS NULL AND t.expires_at > now()) AS active_tokens,
       a.name AS unit_name, a.valid_to AS unit_valid_to
FROM users u LEFT JOIN api_tokens t ON t.user_id = u.id
LEFT JOIN LATERAL (SELECT name, valid_to FROM admin_units WHERE code = u.admin_unit_code
                   ORDER BY valid_from DESC LIMIT 1) a ON TRUE
GROUP BY u.id, a.name, a.valid_to ORDER BY u.name
"""


async def principal_row(engine: AsyncEngine, token_hash: str) -> tuple | None:
    """(user id, name, role, unit, token id) of a live token's user (no cache: a revoked token stops at once)."""
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
