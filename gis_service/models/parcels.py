"""The land fund: parcels reserved for social housing."""

from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, StoreSpec

FUND_SOURCES = ("standalone_site", "commercial_reserve", "public_land")
from ..core.vocabulary import LEVELS as RESPONSIBLE_LEVELS  # noqa: E402

CLEARANCE = ("not_started", "in_progress", "cleared")


def _in(col: str, values: tuple[str, ...]) -> str:
    return f"{col} IN ({', '.join(repr(v) for v in values)})"


class Parcel(Base):
    __tablename__ = "parcels"

    # Partitioned by province (LIST on province_code, migration 0005): keys must hold the partition key.
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(255))
    province_code: Mapped[str] = mapped_column(String(2), primary_key=True, server_default="11")
    admin_unit_code: Mapped[str | None] = mapped_column(String(10))
    map_sheet_no: Mapped[str | None] = mapped_column(String(32))
    parcel_no: Mapped[str | None] = mapped_column(String(32))
    land_use_code: Mapped[str | None] = mapped_column(String(8))
    # the statuses are the stages of layers/workflow.yaml, synced into `statuses` by `landfund db upgrade`
    status: Mapped[str] = mapped_column(
        String(32), ForeignKey("statuses.id", onupdate="CASCADE"), server_default="proposed"
    )
    fund_source: Mapped[str] = mapped_column(String(32), server_default="standalone_site")
    responsible_level: Mapped[str | None] = mapped_column(String(16))
    responsible_agency: Mapped[str | None] = mapped_column(String(255))
    clearance_status: Mapped[str] = mapped_column(String(16), server_default="not_started")
    max_far: Mapped[float | None] = mapped_column(Float)
    max_density: Mapped[float | None] = mapped_column(Float)
    max_floors: Mapped[int | None] = mapped_column(Integer)
    decision_no: Mapped[str | None] = mapped_column(String(64))
    decision_date: Mapped[date | None] = mapped_column(Date)
    # what the procedure's stages record (migration 0014)
    approved_units: Mapped[int | None] = mapped_column(Integer)
    approved_floor_m2: Mapped[float | None] = mapped_column(Float)
    investor_name: Mapped[str | None] = mapped_column(String(255))
    selection_method: Mapped[str | None] = mapped_column(String(32))
    clearance_households: Mapped[int | None] = mapped_column(Integer)
    clearance_cost_vnd: Mapped[int | None] = mapped_column(BigInteger)
    tenure: Mapped[str | None] = mapped_column(String(16))
    reserve_payment_vnd: Mapped[int | None] = mapped_column(BigInteger)
    reserve_replaced_by: Mapped[str | None] = mapped_column(String(64))
    former_commune_code: Mapped[str | None] = mapped_column(String(10))
    legal_area_m2: Mapped[float | None] = mapped_column(Float)
    published: Mapped[bool] = mapped_column(Boolean, server_default="false")
    internal_notes: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False)
    # Geodesic area on the WGS 84 ellipsoid, kept by PostgreSQL itself.
    area_m2: Mapped[float] = mapped_column(Float, Computed("ST_Area(geom::geography)", persisted=True))
    # A point inside the parcel: the parcel belongs to the unit that holds it (one unit per level).
    pos = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), Computed("ST_PointOnSurface(geom)", persisted=True)
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    # The investor whose expression of interest was accepted (set when the parcel is assigned).
    investor_interest_id: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        UniqueConstraint("province_code", "code", name="uq_parcels_code_province"),
        # every key holds the province (migration 0016): the accepted interest is one of the parcel's province
        ForeignKeyConstraint(
            ["investor_interest_id", "province_code"],
            ["interests.id", "interests.province_code"],
            name="fk_parcels_investor_interest_id_interests",
            use_alter=True,
        ),
        CheckConstraint("code <> ''", name="code_not_empty"),
        CheckConstraint(_in("fund_source", FUND_SOURCES), name="fund_source"),
        CheckConstraint(_in("responsible_level", RESPONSIBLE_LEVELS), name="responsible_level"),
        CheckConstraint(_in("clearance_status", CLEARANCE), name="clearance_status"),
        CheckConstraint("max_far IS NULL OR max_far > 0", name="max_far"),
        CheckConstraint("max_density IS NULL OR (max_density > 0 AND max_density <= 100)", name="max_density"),
        CheckConstraint("max_floors IS NULL OR max_floors >= 1", name="max_floors"),
        CheckConstraint("legal_area_m2 IS NULL OR legal_area_m2 > 0", name="legal_area"),
        CheckConstraint("NOT ST_IsEmpty(geom) AND ST_IsValid(geom)", name="geom_valid"),
        Index("ix_parcels_geom", "geom", postgresql_using="gist"),
        Index("ix_parcels_pos", "pos", postgresql_using="gist"),
        Index("ix_parcels_status", "status"),
        Index("ix_parcels_admin_unit_code", "admin_unit_code"),
        {"postgresql_partition_by": "LIST (province_code)"},
    )


INPUT_COLUMNS = (
    "code",
    "name",
    "admin_unit_code",
    "map_sheet_no",
    "parcel_no",
    "land_use_code",
    "status",
    "fund_source",
    "responsible_level",
    "responsible_agency",
    "clearance_status",
    "max_far",
    "max_density",
    "max_floors",
    "decision_no",
    "decision_date",
    "approved_units",
    "approved_floor_m2",
    "investor_name",
    "selection_method",
    "clearance_households",
    "clearance_cost_vnd",
    "tenure",
    "reserve_payment_vnd",
    "reserve_replaced_by",
    "former_commune_code",
    "legal_area_m2",
    "published",
    "internal_notes",
)
SPEC = StoreSpec(table="parcels", columns=INPUT_COLUMNS, key=("code",))


class ParcelMeasure(Base):
    """A parcel's distances (m) to the nearest road, administrative centre, school and health facility, and the
    hazard zones it touches: what ranking a site reads, kept current by triggers (migration 0017)."""

    __tablename__ = "parcel_measures"

    parcel_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    province_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    road_m: Mapped[float | None] = mapped_column(Float)
    town_m: Mapped[float | None] = mapped_column(Float)
    school_m: Mapped[float | None] = mapped_column(Float)
    health_m: Mapped[float | None] = mapped_column(Float)
    hazards: Mapped[list | None] = mapped_column(JSONB)
    measured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
