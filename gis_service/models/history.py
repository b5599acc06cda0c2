"""Append-only parcel history (written by database triggers) and the status lifecycle."""

from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class ParcelHistory(Base):
    __tablename__ = "parcel_history"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    parcel_id: Mapped[int] = mapped_column(BigInteger)
    province_code: Mapped[str] = mapped_column(String(2), primary_key=True)  # the parcel's: beside its parcels
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
    # written without If-Match by a desktop editor (migration 0013: the default reads the writer's setting)
    unconditional: Mapped[bool] = mapped_column(
        Boolean,
        server_default=text("coalesce(nullif(current_setting('landfund.unconditional', true), ''), 'off')::boolean"),
    )

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
    ranked: Mapped[bool] = mapped_column(Boolean, server_default="false")  # its parcels are measured (0018)


class StatusTransition(Base):
    __tablename__ = "status_transitions"

    from_status: Mapped[str] = mapped_column(String(32), primary_key=True)
    to_status: Mapped[str] = mapped_column(String(32), primary_key=True)


class Document(Base):
    """A decision's document (PDF or image), kept in the database with its SHA-256."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    parcel_id: Mapped[int] = mapped_column(BigInteger)
    province_code: Mapped[str] = mapped_column(String(2), primary_key=True)  # every key holds it (migration 0016)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column("bytes", Integer)  # the column is "bytes"; the name would shadow the type
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(128))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))

    __table_args__ = (
        ForeignKeyConstraint(
            ["parcel_id", "province_code"],
            ["parcels.id", "parcels.province_code"],
            ondelete="CASCADE",
            name="documents_parcel_id_province_code_fkey",
        ),
        CheckConstraint("media_type IN ('application/pdf', 'image/png', 'image/jpeg')", name="media_type"),
        CheckConstraint("bytes > 0", name="bytes"),
        Index("ix_documents_parcel_id", "parcel_id"),
    )


class Decision(Base):
    """A decision a transition recorded: its number, date, issuing body and document, one row per step."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    parcel_id: Mapped[int] = mapped_column(BigInteger)
    province_code: Mapped[str] = mapped_column(String(2), primary_key=True)  # every key holds it (migration 0016)
    stage: Mapped[str] = mapped_column(String(32))
    history_id: Mapped[int | None] = mapped_column(BigInteger)
    number: Mapped[str | None] = mapped_column(String(64))
    decided_on: Mapped[date | None] = mapped_column(Date)
    issuing_body: Mapped[str | None] = mapped_column(String(255))
    document_id: Mapped[int | None] = mapped_column(BigInteger)
    recorded_by: Mapped[str] = mapped_column(String(128))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))

    __table_args__ = (
        ForeignKeyConstraint(
            ["parcel_id", "province_code"],
            ["parcels.id", "parcels.province_code"],
            ondelete="CASCADE",
            name="decisions_parcel_id_province_code_fkey",
        ),
        ForeignKeyConstraint(
            ["document_id", "province_code"],
            ["documents.id", "documents.province_code"],
            name="decisions_document_id_fkey",
        ),
        Index("ix_decisions_parcel_id", "parcel_id"),
    )
