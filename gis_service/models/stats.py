"""Tables without geometry, keyed by administrative unit and year: demand and housing-support programmes."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, StoreSpec


class Demand(Base):
    """Households eligible for social housing."""

    __tablename__ = "demand"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    admin_unit_code: Mapped[str] = mapped_column(String(10))
    year: Mapped[int] = mapped_column(Integer)
    # a group of the Housing Law 2023 (art. 76), or `all` for a figure not split by group (migration 0015)
    eligible_group: Mapped[str] = mapped_column(String(32), server_default="all")
    households: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("admin_unit_code", "year", "eligible_group"),
        CheckConstraint("households >= 0", name="households"),
    )


class Programme(Base):
    """Households supported (new or repaired) and funding; period_start..year for cumulative figures."""

    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    admin_unit_code: Mapped[str] = mapped_column(String(10))
    year: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[int | None] = mapped_column(Integer)
    programme: Mapped[str] = mapped_column(String(255))
    households: Mapped[int] = mapped_column(Integer)
    households_new: Mapped[int | None] = mapped_column(Integer)
    households_repaired: Mapped[int | None] = mapped_column(Integer)
    funding_vnd: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("admin_unit_code", "year", "programme"),
        CheckConstraint("households >= 0 AND funding_vnd >= 0", name="non_negative"),
        CheckConstraint("period_start IS NULL OR period_start <= year", name="period"),
    )


DEMAND_SPEC = StoreSpec(
    table="demand",
    columns=("admin_unit_code", "year", "eligible_group", "households", "note"),
    key=("admin_unit_code", "year", "eligible_group"),
    spatial=False,
)
PROGRAMMES_SPEC = StoreSpec(
    table="programmes",
    columns=(
        "admin_unit_code",
        "year",
        "period_start",
        "programme",
        "households",
        "households_new",
        "households_repaired",
        "funding_vnd",
        "note",
    ),
    key=("admin_unit_code", "year", "programme"),
    spatial=False,
)
