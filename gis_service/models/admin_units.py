"""Administrative units with validity dates, and the SQL that asks "which unit, as of when"."""

from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    UniqueConstraint,
    and_,
    func,
    or_,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, StoreSpec


class AdminUnit(Base):
    __tablename__ = "admin_units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(255))
    level: Mapped[str] = mapped_column(String(16))
    unit_type: Mapped[str | None] = mapped_column(String(64))
    parent_code: Mapped[str | None] = mapped_column(String(10))
    valid_from: Mapped[date] = mapped_column(Date, server_default="1900-01-01")
    valid_to: Mapped[date | None] = mapped_column(Date)
    official_area_km2: Mapped[float | None] = mapped_column(Float)
    population: Mapped[int | None] = mapped_column(Integer)
    population_year: Mapped[int | None] = mapped_column(Integer)
    boundary_note: Mapped[str | None] = mapped_column(String(500))
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False)

    __table_args__ = (
        UniqueConstraint("code", "valid_from"),
        CheckConstraint("level IN ('province', 'district', 'commune')", name="level"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="validity"),
        Index("ix_admin_units_geom", "geom", postgresql_using="gist"),
        Index("ix_admin_units_level_code", "level", "code"),
    )


def valid_on(as_of: date):
    """SQL condition: the unit was in force on `as_of` (both ends inclusive)."""
    t = AdminUnit.__table__.c
    return and_(t.valid_from <= as_of, or_(t.valid_to.is_(None), t.valid_to >= as_of))


SPEC = StoreSpec(
    table="admin_units",
    columns=(
        "code",
        "name",
        "level",
        "unit_type",
        "parent_code",
        "valid_from",
        "valid_to",
        "official_area_km2",
        "population",
        "population_year",
        "boundary_note",
    ),
    key=("code", "valid_from"),
)


class FormerUnit(Base):
    """A commune, ward or township abolished by the 2025 reform, and the unit it became (the merge table). They
    have no geometry of their own here: the parcels of a former commune lie in its successor."""

    __tablename__ = "former_units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    former_code: Mapped[str] = mapped_column(String(10))
    former_name: Mapped[str] = mapped_column(String(255))
    former_type: Mapped[str | None] = mapped_column(String(32))
    former_district_code: Mapped[str | None] = mapped_column(String(10))
    former_district_name: Mapped[str | None] = mapped_column(String(255))
    successor_code: Mapped[str] = mapped_column(String(10))
    successor_name: Mapped[str | None] = mapped_column(String(255))
    valid_to: Mapped[date] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("former_code"), Index("ix_former_units_successor_code", "successor_code"))


FORMER_SPEC = StoreSpec(
    table="former_units",
    columns=(
        "former_code",
        "former_name",
        "former_type",
        "former_district_code",
        "former_district_name",
        "successor_code",
        "successor_name",
        "valid_to",
    ),
    key=("former_code",),
    spatial=False,
)


class ProvinceRecord(Base):
    """A province loaded beside the deployment's own: its province.yaml (migration 0019)."""

    __tablename__ = "provinces"
    __table_args__ = (CheckConstraint("code ~ '^[0-9]{2}$'", name="provinces_code_check"),)

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    description: Mapped[dict] = mapped_column(JSONB)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
