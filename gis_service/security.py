"""Who is asking, and what they may see and change.

Roles: `admin` (everything), `planner` (reads everything; edits parcels inside their admin unit and its
children, the province/district split in code), `investor` and anonymous (published parcels and public
fields only). Tokens are random, kept only as SHA-256 hashes, expire and can be revoked.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy.sql import ColumnElement

from .stores.features import LayerSQL

TOKEN_PREFIX = "lf_"


@dataclass(frozen=True)
class Principal:
    role: str  # anonymous | admin | planner | investor
    name: str = "anonymous"
    user_id: int | None = None
    admin_unit_code: str | None = None
    token_id: int | None = None
    via: str = "none"  # how the caller proved who they are: none, token (Bearer or Basic), basic (password) or session
    csrf: str | None = None  # a session's CSRF token: forms that change anything must carry it
    desktop_editor: bool = False  # an admin allowed this account's desktop GIS to write without If-Match

    @property
    def privileged(self) -> bool:
        """Planners and admins see unpublished parcels and internal fields."""
        return self.role in ("admin", "planner")

    @property
    def authenticated(self) -> bool:
        return self.role != "anonymous"


ANONYMOUS = Principal("anonymous")


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def visible_fields(principal: Principal, ls: LayerSQL) -> list[str]:
    return [a.name for a in ls.layer.attributes if a.public or principal.privileged]


def visible_rows(principal: Principal, ls: LayerSQL) -> list[ColumnElement]:
    """Extra WHERE conditions: the public sees only published parcels."""
    if ls.layer.storage == "parcels" and not principal.privileged:
        return [ls.fields["published"].is_(True)]
    return []


def write_denial(principal: Principal, layer_storage: str) -> tuple[int, str] | None:
    """(status, reason) when `principal` may not write to a layer of this storage at all, else None."""
    if not principal.authenticated:
        return 401, "writing needs a bearer token (Authorization: Bearer …)"
    if principal.role == "admin":
        return None
    if principal.role == "planner" and layer_storage == "parcels":
        return None
    return 403, f"role {principal.role!r} may not change this collection"


def scope_unit(principal: Principal, province_code: str) -> str | None:
    """The unit a principal's writes are confined to: a planner's unit, or None for everywhere (admins,
    province-wide planners)."""
    unit = principal.admin_unit_code
    if principal.role != "planner" or not unit or unit == province_code:
        return None
    return unit
