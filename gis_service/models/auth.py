"""Users and their API tokens. Tokens are random and stored only as SHA-256 hashes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

ROLES = ("admin", "planner", "investor")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    # planners: the unit (and everything inside it) they may edit; NULL or the province code = everywhere
    admin_unit_code: Mapped[str | None] = mapped_column(String(10))
    organisation: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    password_hash: Mapped[str | None] = mapped_column(String(255))  # argon2id; never the password itself
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # an admin's mark: this account's desktop GIS (QGIS) may write without If-Match (see FeatureRead)
    desktop_editor: Mapped[bool] = mapped_column(Boolean, server_default="false")

    __table_args__ = (CheckConstraint("role IN ('admin', 'planner', 'investor')", name="role"),)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_api_tokens_user_id", "user_id"),)


class Session(Base):
    """A browser's sign-in: the cookie holds a random value, only its SHA-256 is kept, with the CSRF token."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (Index("ix_sessions_user_id", "user_id"),)


class LoginFailure(Base):
    """A failed sign-in, by name and address: repeated failures are slowed down (services/auth.py)."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_login_failures_name_at", "name", "at"),
        Index("ix_login_failures_address_at", "address", "at"),
    )


class FeatureRead(Base):
    """The version (entity tag) of a feature a desktop editor last read. QGIS sends no If-Match on PUT and
    PATCH; the server checks its write against this instead, so a feature changed since that user read it is
    not overwritten (services/edits.py)."""

    __tablename__ = "feature_reads"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    layer: Mapped[str] = mapped_column(String(64), primary_key=True)
    feature_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    etag: Mapped[str] = mapped_column(String(64))
    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
