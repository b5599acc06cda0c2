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
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    literal_column,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, StoreSpec

STATUSES = (
    "proposed",
    "approved",
    "open_for_investment",
    "assigned",
    "under_construction",
    "completed",
    "withdrawn",
)
FUND_SOURCES = ("standalone_site", "commercial_reserve", "public_land")
RESPONSIBLE_LEVELS = ("province", "district", "commune")
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
    status: Mapped[str] = mapped_column(String(32), server_default="proposed")
    fund_source: Mapped[str] = mapped_column(String(32), server_default="standalone_site")
    responsible_level: Mapped[str | None] = mapped_column(String(16))
    responsible_agency: Mapped[str | None] = mapped_column(String(255))
    clearance_status: Mapped[str] = mapped_column(String(16), server_default="not_started")
    max_far: Mapped[float | None] = mapped_column(Float)
    max_density: Mapped[float | None] = mapped_column(Float)
    max_floors: Mapped[int | None] = mapped_column(Integer)
    decision_no: Mapped[str | None] = mapped_column(String(64))
    decision_date: Mapped[date | None] = mapped_column(Date)
    legal_area_m2: Mapped[float | None] = mapped_column(Float)
    published: Mapped[bool] = mapped_column(Boolean, server_default="false")
    internal_notes: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False)
    # Geodesic area on the WGS 84 ellipsoid, kept by PostgreSQL itself.
    area_m2: Mapped[float] = mapped_column(Float, Computed("ST_Area(geom::geography)", persisted=True))
    # A point inside the parcel: the parcel belongs to the unit that holds it (one unit per level).
    pos = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), Computed("ST_PointOnSurface(geom)", persisted=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    # The investor whose expression of interest was accepted (set when the parcel is assigned).
    investor_interest_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("interests.id", ondelete="SET NULL"))

    __table_args__ = (
        UniqueConstraint("province_code", "code", name="uq_parcels_code_province"),
        CheckConstraint("code <> ''", name="code_not_empty"),
        CheckConstraint(_in("status", STATUSES), name="status"),
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


def est_units_sql(settings, table: str = "parcels") -> str:
    """Estimated dwelling units = area × FAR × net floor ratio ÷ average unit size (defaults from settings).

    Settings are floats validated by pydantic, so they are inlined as SQL literals."""
    far = float(settings.default_far)
    net = float(settings.net_floor_ratio)
    unit = float(settings.avg_unit_m2)
    return f"floor({table}.area_m2 * coalesce({table}.max_far, {far!r}) * {net!r} / {unit!r})::integer"


def est_units_column(settings, table: str = "parcels"):
    return literal_column(est_units_sql(settings, table))


INPUT_COLUMNS = (
    "code", "name", "admin_unit_code", "map_sheet_no", "parcel_no", "land_use_code", "status", "fund_source",
    "responsible_level", "responsible_agency", "clearance_status", "max_far", "max_density", "max_floors",
    "decision_no", "decision_date", "legal_area_m2", "published", "internal_notes",
)
SPEC = StoreSpec(table="parcels", columns=INPUT_COLUMNS, key=("code",))

# -- checks against what is already stored (the staged batch is in `stage`) ----------------------------

# Overlap means the interiors meet; parcels that only share an edge do not overlap. Withdrawn parcels are
# no longer reserved, and a row never overlaps the stored version of itself (target_id).
OVERLAPS_SQL = """
SELECT row_no, code, other_code, overlap_m2 FROM (
    SELECT s.row_no, s.code, p.code AS other_code,
           ST_Area(ST_Intersection(s.geom, p.geom)::geography) AS overlap_m2
    FROM {stage} s
    JOIN parcels p ON s.geom && p.geom AND ST_Relate(s.geom, p.geom, 'T********')
    WHERE p.status <> 'withdrawn' AND p.id IS DISTINCT FROM s.target_id
) o WHERE overlap_m2 > %(tolerance)s
ORDER BY row_no, other_code
"""

# The province boundary in force today; the catalogue's bounding box when no boundary is loaded.
OUTSIDE_PROVINCE_SQL = """
WITH prov AS (
    SELECT coalesce(
        (SELECT ST_Union(geom) FROM admin_units
          WHERE level = 'province' AND code = %(province)s
            AND valid_from <= current_date AND (valid_to IS NULL OR valid_to >= current_date)),
        ST_MakeEnvelope(%(xmin)s, %(ymin)s, %(xmax)s, %(ymax)s, 4326)) AS g,
        EXISTS (SELECT 1 FROM admin_units WHERE level = 'province' AND code = %(province)s) AS has_boundary
)
SELECT s.row_no, s.code, ST_Intersects(s.geom, prov.g) AS partly, prov.has_boundary
FROM {stage} s, prov
WHERE NOT ST_CoveredBy(s.geom, prov.g)
ORDER BY s.row_no
"""

UNKNOWN_ADMIN_UNIT_SQL = """
SELECT s.row_no, s.code, s.admin_unit_code FROM {stage} s
WHERE s.admin_unit_code IS NOT NULL
  AND EXISTS (SELECT 1 FROM admin_units)
  AND NOT EXISTS (SELECT 1 FROM admin_units a WHERE a.code = s.admin_unit_code)
ORDER BY s.row_no
"""

# A declared unit must hold the parcel (its inner point): the unit's latest boundary, any level.
WRONG_ADMIN_UNIT_SQL = """
SELECT s.row_no, s.code, s.admin_unit_code, u.name, held.code, held.name
FROM {stage} s
JOIN LATERAL (SELECT a.name, a.geom FROM admin_units a WHERE a.code = s.admin_unit_code
              ORDER BY a.valid_from DESC LIMIT 1) u ON TRUE
LEFT JOIN LATERAL (SELECT a.code, a.name FROM admin_units a
                   WHERE a.level <> 'province' AND ST_Intersects(a.geom, ST_PointOnSurface(s.geom))
                     AND a.valid_from <= current_date AND (a.valid_to IS NULL OR a.valid_to >= current_date)
                   ORDER BY CASE a.level WHEN 'commune' THEN 0 ELSE 1 END, a.code LIMIT 1) held ON TRUE
WHERE s.admin_unit_code IS NOT NULL AND NOT ST_Intersects(u.geom, ST_PointOnSurface(s.geom))
ORDER BY s.row_no
"""

# Writes to one province's land fund take turns: the overlap and duplicate-code checks then see every parcel
# written before them, however many requests or imports run at once (held until the transaction ends).
LOCK_WRITES_SQL = "SELECT pg_advisory_xact_lock(hashtextextended('landfund:parcels:' || %s, 0))"

# How much of each staged parcel lies outside a unit (m²): a planner's parcels must lie within their unit.
OUTSIDE_UNIT_SQL = """
SELECT s.row_no, s.code,
       coalesce(ST_Area(ST_Difference(s.geom, u.geom)::geography), ST_Area(s.geom::geography)) AS outside_m2
FROM {stage} s LEFT JOIN LATERAL (SELECT a.geom FROM admin_units a WHERE a.code = %(unit)s
                                  ORDER BY a.valid_from DESC LIMIT 1) u ON TRUE
ORDER BY s.row_no
"""

# Lowest-level unit in force today that holds a point inside the parcel, for the staged rows that name none.
# A join driven from the few units (each probing the stage's GiST index, the same polygon tested over and over)
# is about three times faster than a lookup per row.
_UNITS_CTE = """
WITH unit AS MATERIALIZED (
    SELECT DISTINCT ON (s.row_no) s.row_no, a.code
    FROM admin_units a JOIN {stage} s ON s.geom && a.geom AND ST_Intersects(a.geom, ST_PointOnSurface(s.geom))
    WHERE s.admin_unit_code IS NULL AND a.level <> 'province'
      AND a.valid_from <= current_date AND (a.valid_to IS NULL OR a.valid_to >= current_date)
    ORDER BY s.row_no, CASE a.level WHEN 'commune' THEN 0 ELSE 1 END, a.code)
"""

_COLS = ", ".join(c for c in INPUT_COLUMNS if c != "admin_unit_code")
_SCOLS = ", ".join(f"s.{c}" for c in INPUT_COLUMNS if c != "admin_unit_code")

INSERT_SQL = f"""{_UNITS_CTE}
INSERT INTO parcels ({_COLS}, admin_unit_code, province_code, geom)
SELECT {_SCOLS}, coalesce(s.admin_unit_code, u.code), %(province)s, s.geom
FROM {{stage}} s LEFT JOIN unit u ON u.row_no = s.row_no ORDER BY s.row_no
RETURNING id
"""

UPDATE_SQL = f"""{_UNITS_CTE}
UPDATE parcels p SET ({_COLS}, admin_unit_code, geom) = ({_SCOLS}, coalesce(s.admin_unit_code, u.code), s.geom)
FROM {{stage}} s LEFT JOIN unit u ON u.row_no = s.row_no WHERE p.id = s.target_id
RETURNING p.id
"""
