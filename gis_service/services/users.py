"""Accounts and tokens: add users, issue and revoke bearer tokens (stored only as hashes), move, disable and
delete accounts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg

from ..core.errors import Conflict, LandfundError, NotFound
from ..models.auth import ROLES
from ..security import hash_token, new_token
from ..stores.admin_units import AdminUnitStore
from ..stores.users import SessionStore, UserStore


def _unit(conn: psycopg.Connection, code: str) -> tuple:
    """(name, valid_to) of a unit's latest version; a clear error when there is none."""
    row = AdminUnitStore(conn).latest(code)
    if row is None:
        raise LandfundError(f"unknown administrative unit {code!r}")
    return row


def add_user(
    conn: psycopg.Connection,
    name: str,
    role: str,
    admin_unit_code: str | None = None,
    organisation: str | None = None,
    desktop_editor: bool = False,
) -> int:
    if role not in ROLES:
        raise LandfundError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "planner" and admin_unit_code is None:
        raise LandfundError("a planner needs --unit (a GSO code: the province 11, a former district, or a commune)")
    if desktop_editor and role not in ("planner", "admin"):
        raise LandfundError("only planners and admins edit, so only they can be desktop editors")
    if admin_unit_code is not None:
        _unit(conn, admin_unit_code)
    users = UserStore(conn)
    with conn.transaction():
        if users.exists(name):
            raise Conflict(f"user {name!r} exists already")
        uid = users.insert(name, role, admin_unit_code, organisation)
    if desktop_editor:
        set_desktop_editor(conn, name, True)
    return uid


def set_desktop_editor(conn: psycopg.Connection, name: str, on: bool) -> None:
    """Allow (or stop) a planner's or admin's desktop GIS writing without If-Match. QGIS 3.32+ edits through the
    API but never sends If-Match; for these users the server checks each such write against the version they
    last read instead (services/edits.py), and the history marks it."""
    with conn.transaction():
        role = UserStore(conn).set_desktop_editor(name, on)
        if role is None:
            raise NotFound(f"no user {name!r}")
        if on and role not in ("planner", "admin"):
            raise LandfundError(
                f"{name} is an {role}: only planners and admins edit, so only they can be desktop editors"
            )


def issue_token(
    conn: psycopg.Connection, name: str, days: int = 90, label: str | None = None
) -> tuple[str, int, datetime]:
    """A new token for user `name`: (token, token id, expiry). The token itself is never stored."""
    if days < 1 or days > 3650:
        raise LandfundError("--days must be between 1 and 3650")
    users = UserStore(conn)
    with conn.transaction():
        user_id = users.active_id(name)
        if user_id is None:
            raise NotFound(f"no active user {name!r}")
        token = new_token()
        expires = datetime.now(UTC) + timedelta(days=days)
        return token, users.insert_token(user_id, hash_token(token), label, expires), expires


def revoke(conn: psycopg.Connection, name: str | None = None, token_id: int | None = None) -> int:
    """Revoke one token (by id) or every token of a user. Returns how many were revoked."""
    users = UserStore(conn)
    with conn.transaction():
        if token_id is not None:
            return users.revoke_token(token_id)
        if name is not None:
            return users.revoke_all(name)
        raise LandfundError("name a user or a --token-id")


def set_unit(conn: psycopg.Connection, name: str, unit: str) -> str:
    """Move a planner to another unit (say, from an abolished former district to a current commune)."""
    unit_name, valid_to = _unit(conn, unit)
    if valid_to is not None and valid_to < date.today():
        raise LandfundError(f"unit {unit} ({unit_name}) ended on {valid_to:%d/%m/%Y}; choose a unit in force today")
    with conn.transaction():
        if not UserStore(conn).set_unit(name, unit):
            raise NotFound(f"no planner {name!r}")
    return unit_name


def disable(conn: psycopg.Connection, name: str) -> int:
    """Disable an account: it can no longer sign in, and every token it holds stops working at once. Its history
    and expressions of interest stay as they are. Returns how many tokens were revoked."""
    with conn.transaction():
        n = UserStore(conn).disable(name)
        if n is None:
            raise NotFound(f"no user {name!r}")
        SessionStore(conn).end_all_of(name)  # signed-in browsers are signed out at once
        return n


def delete(conn: psycopg.Connection, name: str) -> None:
    """Delete an account and its tokens. History keeps the name it recorded (it is the record of who changed
    what, and is never rewritten). An investor whose expressions of interest are on record cannot be deleted:
    they belong to the parcels' files; disable the account instead."""
    users = UserStore(conn)
    with conn.transaction():
        row = users.with_interests(name)
        if row is None:
            raise NotFound(f"no user {name!r}")
        if row[1]:
            raise Conflict(
                f"user {name!r} has {row[1]} expression(s) of interest on record, which stay with the "
                f"parcels; disable the account instead:  landfund users disable {name}"
            )
        users.delete(row[0])


def list_users(conn: psycopg.Connection) -> list[dict]:
    """Every user, with their live tokens and, for planners, whether their unit is still in force."""
    out = []
    for name, role, unit, org, disabled, desktop, tokens, unit_name, valid_to in UserStore(conn).listing():
        abolished = valid_to is not None and valid_to < date.today()
        out.append(
            {
                "name": name,
                "role": role,
                "unit": unit,
                "unit_name": unit_name,
                "organisation": org,
                "disabled": disabled is not None,
                "desktop_editor": desktop,
                "tokens": tokens,
                "unit_abolished_on": valid_to if abolished else None,
            }
        )
    return out


DEMO_ACCOUNTS = (  # name, role, unit, organisation
    ("admin", "admin", None, "Sở Xây dựng tỉnh Điện Biên"),
    ("sxd-quyhoach", "planner", "11", "Sở Xây dựng tỉnh Điện Biên"),
    ("dbp-quyhoach", "planner", "03127", "UBND phường Điện Biên Phủ"),
    ("nhadautu", "investor", None, "Công ty CP Đầu tư Nhà ở Điện Biên"),
)


def demo_accounts(conn, min_length: int) -> list[tuple[str, str, str | None, str]]:
    """Accounts to try the demo with, each with a fresh random password: (name, role, unit, password). Only on a
    database that has no users yet."""
    import secrets

    from .auth import set_password

    if UserStore(conn).listing():
        return []
    made = []
    for name, role, unit, org in DEMO_ACCOUNTS:
        add_user(conn, name, role, unit, org)
        password = secrets.token_urlsafe(max(12, min_length))
        set_password(conn, name, password, min_length)
        made.append((name, role, unit, password))
    return made
