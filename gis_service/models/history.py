"""Append-only parcel history (written by database triggers) and the status lifecycle."""

from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, DateTime, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class ParcelHistory(Base):
    __tablename__ = "parcel_history"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    parcel_id: Mapped[int] = mapped_column(BigInteger)
    province_code: Mapped[str] = mapped_column(String(2))  # the parcel's: history sits beside its parcels
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("clock_timestamp()"))
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16))
    old_status: Mapped[str | None] = mapped_column(String(32))
    new_status: Mapped[str | None] = mapped_column(String(32))
    changes: Mapped[dict] = mapped_column(JSONB, server_default="{}")
    geometry_changed: Mapped[bool] = mapped_column(Boolean, server_default="false")
    old_geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False))
    reason: Mapped[str | None] = mapped_column(Text)
    decision_no: Mapped[str | None] = mapped_column(String(64))
    decision_date: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        CheckConstraint("action IN ('insert', 'update', 'delete', 'transition')", name="action"),
        Index("ix_parcel_history_parcel_id_at", "parcel_id", "at"),
        Index("ix_parcel_history_province_code", "province_code"),
    )


class Status(Base):
    """The parcel statuses: the stages of layers/workflow.yaml (synced by `landfund db upgrade`)."""

    __tablename__ = "statuses"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class StatusTransition(Base):
    __tablename__ = "status_transitions"

    from_status: Mapped[str] = mapped_column(String(32), primary_key=True)
    to_status: Mapped[str] = mapped_column(String(32), primary_key=True)
