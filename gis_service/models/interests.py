"""Investors' expressions of interest in parcels open for investment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Interest(Base):
    __tablename__ = "interests"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    parcel_id: Mapped[int] = mapped_column(BigInteger)
    province_code: Mapped[str] = mapped_column(String(2), primary_key=True)  # the parcel's: part of every key
    investor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    company: Mapped[str] = mapped_column(String(255))
    tax_code: Mapped[str] = mapped_column(String(14))
    contact_name: Mapped[str] = mapped_column(String(255))
    contact_email: Mapped[str | None] = mapped_column(String(255))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    proposed_units: Mapped[int] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), server_default="submitted")
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        ForeignKeyConstraint(
            ["parcel_id", "province_code"],
            ["parcels.id", "parcels.province_code"],
            ondelete="CASCADE",
            name="fk_interests_parcel_id_parcels",
        ),
        CheckConstraint("status IN ('submitted', 'accepted', 'declined')", name="status"),
        CheckConstraint("proposed_units > 0", name="units"),
        Index("ix_interests_parcel_id", "parcel_id"),
        Index("ix_interests_investor_id", "investor_id"),
        Index(
            "uq_interests_accepted",
            "parcel_id",
            "province_code",
            unique=True,
            postgresql_where=text("status = 'accepted'"),
        ),
        Index(
            "uq_interests_open",
            "parcel_id",
            "province_code",
            "investor_id",
            unique=True,
            postgresql_where=text("status = 'submitted'"),
        ),
    )
