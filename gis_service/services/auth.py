"""Sign-in for people: passwords (argon2id, from argon2-cffi), browser sessions with a CSRF token each, and failed
attempts slowed down per user and per address.

A session carries the same role and unit as the user's bearer tokens: every page, map, tile, report and download
checks it the same way (api/deps.py). Bearer tokens keep working for API clients."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..core.errors import LandfundError, NotFound
from ..stores.users import SessionStore

HASHER = PasswordHasher()  # argon2id, 64 MiB, 3 passes: RFC 9106's second recommended option
# Verifying against this when the user does not exist takes as long as a real check: timing reveals no names.
_DUMMY = HASHER.hash("landfund: no such user")
WINDOW_S = 15 * 60  # failures older than this no longer count
FREE_TRIES = 5  # per user name; an address gets four times as many (a shared office address)
MAX_WAIT_S = 15 * 60


class TooManyAttempts(LandfundError):
    status = 429

    def __init__(self, wait_s: int):
        self.wait_s = wait_s
        minutes = max(1, round(wait_s / 60))
        super().__init__(
            f"too many failed sign-ins; try again in {wait_s} s"
            if wait_s < 120
            else f"too many failed sign-ins; try again in {minutes} minutes"
        )


class BadCredentials(LandfundError):
    status = 401


def check_password(password: str, name: str, min_length: int) -> None:
    if len(password) < min_length:
        raise LandfundError(f"a password has at least {min_length} characters")
    if password.strip().lower() == name.strip().lower() or len(set(password)) < 4:
        raise LandfundError("choose a password that is not your name and not one character repeated")


def set_password(conn, name: str, password: str, min_length: int = 12) -> None:
    check_password(password, name, min_length)
    with conn.transaction():
        if not SessionStore(conn).set_password(name, HASHER.hash(password)):
            raise NotFound(f"no user {name!r}")


def _wait(failures: int, limit: int, age_s: float | None) -> int:
    """Seconds still to wait after `failures` recent failures: none within the free tries, then 30 s doubling."""
    if failures < limit or age_s is None:
        return 0
    wait = min(MAX_WAIT_S, 30 * 2 ** (failures - limit))
    return max(0, int(wait - age_s) + 1)


def authenticate(conn, name: str, password: str, address: str) -> int:
    """The user's id when `password` is theirs; refuses (and counts the failure) otherwise, and refuses outright while
    a user name or an address has failed too often recently."""
    store = SessionStore(conn)
    by_name, by_address = store.recent_failures(name, address, WINDOW_S)
    age = store.last_failure_age(name, address)
    wait = max(_wait(by_name, FREE_TRIES, age), _wait(by_address, FREE_TRIES * 4, age))
    if wait:
        raise TooManyAttempts(wait)
    row = store.credentials(name)
    stored = row[1] if row and row[1] else _DUMMY
    try:
        HASHER.verify(stored, password)
        ok = row is not None and row[1] is not None and not row[2]
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    with conn.transaction():  # the failure is committed before refusing (raising inside would roll it back)
        if not ok:
            store.fail(name, address)
        else:
            store.forget_failures(name)
    if not ok:
        conn.commit()  # kept although the request fails (the reads before opened a transaction of their own)
        raise BadCredentials("the user name or the password is not right (or the account is disabled)")
    with conn.transaction():
        if HASHER.check_needs_rehash(stored):
            store.set_password(name, HASHER.hash(password))
    assert row is not None  # ok implies a stored user
    return row[0]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewSession:
    token: str  # the cookie's value (only its hash is stored)
    csrf: str


def start_session(conn, user_id: int, hours: float, address: str | None, user_agent: str | None) -> NewSession:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    with conn.transaction():
        SessionStore(conn).start(user_id, token_hash(token), csrf, hours, address, user_agent)
    return NewSession(token, csrf)


def end_session(conn, token: str) -> None:
    with conn.transaction():
        SessionStore(conn).end(token_hash(token))
