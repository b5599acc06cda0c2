"""The checks of a staged batch of parcels against what is stored: inside the province, no overlap with the reserved
land fund or within the batch, known units that hold their parcels, former communes, the 20 % reserve's units, a
planner's unit. All read the stage (stores.staging) and the stored tables; none writes."""

from __future__ import annotations

from collections.abc import Iterator

from psycopg import sql

from .base import Store

# -- checks against what is already stored (the staged batch is in `stage`) ----------------------------

# Overlap means the interiors meet; parcels that only share an edge do not overlap. Withdrawn parcels are
# no longer reserved, and a row never overlaps the stored version of itself (target_id).
OVERLAPS_SQL = """
SELECT row_no, code, other_code, overlap_m2 FROM (
    SELECT s.row_no, s.code, p.code AS other_code,
           ST_Area(ST_Intersection(s.geom, p.geom)::geography) AS overlap_m2
    FROM {stage} s
    JOIN parcels p ON s.geom && p.geom AND ST_Relate(s.geom, p.geom, 'T********')
    WHERE p.status <> %(withdrawn)s AND p.id IS DISTINCT FROM s.target_id
) o WHERE overlap_m2 > %(tolerance)s
ORDER BY row_no, other_code
"""

# Pairs of rows of the same input whose interiors meet (withdrawn rows excepted); the later row is the one named.
OVERLAPS_WITHIN_SQL = """
SELECT row_no, code, other_row, other_code, overlap_m2 FROM (
    SELECT b.row_no, b.code, a.row_no AS other_row, a.code AS other_code,
           ST_Area(ST_Intersection(a.geom, b.geom)::geography) AS overlap_m2
    FROM {stage} a
    JOIN {stage} b ON a.row_no < b.row_no AND a.geom && b.geom AND ST_Relate(a.geom, b.geom, 'T********')
    WHERE a.status IS DISTINCT FROM %(withdrawn)s AND b.status IS DISTINCT FROM %(withdrawn)s
) o WHERE overlap_m2 > %(tolerance)s
ORDER BY row_no, other_row
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
WHERE NOT ST_Covers(prov.g, s.geom)  -- the province first: its prepared geometry is reused row after row
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

# Staged 20 % reserves (fund source commercial_reserve) that lie in none of the units where the reserve applies
# (urban areas of class III or above: layers/province.yaml reserve_units); (row, code, the unit that holds it).
RESERVE_OUTSIDE_SQL = """
SELECT s.row_no, s.code, held.code || ' ' || held.name
FROM {stage} s
LEFT JOIN LATERAL (SELECT a.code, a.name FROM admin_units a
                   WHERE a.level = 'commune' AND ST_Intersects(a.geom, ST_PointOnSurface(s.geom))
                     AND a.valid_from <= current_date AND (a.valid_to IS NULL OR a.valid_to >= current_date)
                   ORDER BY a.code LIMIT 1) held ON TRUE
WHERE s.fund_source = 'commercial_reserve' AND (held.code IS NULL OR held.code <> ALL(%(units)s))
  AND EXISTS (SELECT 1 FROM admin_units WHERE level = 'commune')  -- units are loaded
ORDER BY s.row_no
"""

# Staged parcels whose former commune (before 1 July 2025) is unknown, or became a unit that does not hold them:
# (row, code, former code, former name, successor code and name (NULL when unknown), the commune holding it).
FORMER_COMMUNE_SQL = """
SELECT s.row_no, s.code, s.former_commune_code, f.former_name, f.successor_code, f.successor_name,
       held.code || ' ' || held.name
FROM {stage} s
LEFT JOIN former_units f ON f.former_code = s.former_commune_code
LEFT JOIN LATERAL (SELECT a.code, a.name FROM admin_units a
                   WHERE a.level = 'commune' AND ST_Intersects(a.geom, ST_PointOnSurface(s.geom))
                     AND a.valid_from <= current_date AND (a.valid_to IS NULL OR a.valid_to >= current_date)
                   ORDER BY a.code LIMIT 1) held ON TRUE
WHERE s.former_commune_code IS NOT NULL AND EXISTS (SELECT 1 FROM former_units)  -- a merge table is loaded
  AND (f.id IS NULL OR (EXISTS (SELECT 1 FROM admin_units WHERE level = 'commune')
                        AND held.code IS DISTINCT FROM f.successor_code))
ORDER BY s.row_no
"""

# How much of each staged parcel lies outside a unit (m²): a planner's parcels must lie within their unit.
OUTSIDE_UNIT_SQL = """
SELECT s.row_no, s.code,
       coalesce(ST_Area(ST_Difference(s.geom, u.geom)::geography), ST_Area(s.geom::geography)) AS outside_m2
FROM {stage} s LEFT JOIN LATERAL (SELECT a.geom FROM admin_units a WHERE a.code = %(unit)s
                                  ORDER BY a.valid_from DESC LIMIT 1) u ON TRUE
ORDER BY s.row_no
"""

# Staged parcels in a unit whose boundary is schematic. A schematic province boundary (the usual case) is one
# polygon tested against every row, which PostGIS prepares once; only the rows it does not hold look through the
# other units one by one (a lookup per row tests a different polygon each time, about ten times slower).
ON_SCHEMATIC_SQL = """
WITH prov AS (SELECT ST_Union(geom) AS g FROM admin_units WHERE level = 'province' AND boundary_note ILIKE 'schematic%%')
SELECT count(*) FROM {stage} s, prov
WHERE ST_Intersects(prov.g, ST_PointOnSurface(s.geom))
   OR EXISTS (SELECT 1 FROM admin_units a
              WHERE a.boundary_note ILIKE 'schematic%%' AND ST_Intersects(a.geom, ST_PointOnSurface(s.geom)))
"""


class ParcelCheckStore(Store):
    def outside_province(self, stage: str, province: str, bbox) -> Iterator[tuple]:
        xmin, ymin, xmax, ymax = bbox
        return self.each(
            sql.SQL(OUTSIDE_PROVINCE_SQL).format(stage=sql.Identifier(stage)),
            {"province": province, "xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax},
        )

    def overlaps(self, stage: str, tolerance_m2: float, withdrawn: str) -> Iterator[tuple]:
        """Staged parcels whose interiors meet a reserved parcel's (one in stage `withdrawn` is no longer reserved)."""
        return self.each(
            sql.SQL(OVERLAPS_SQL).format(stage=sql.Identifier(stage)),
            {"tolerance": tolerance_m2, "withdrawn": withdrawn},
        )

    def overlaps_within(self, stage: str, tolerance_m2: float, withdrawn: str) -> Iterator[tuple]:
        """(row, code, earlier row, its code, m²) of staged rows whose interiors meet an earlier staged row's."""
        return self.each(
            sql.SQL(OVERLAPS_WITHIN_SQL).format(stage=sql.Identifier(stage)),
            {"tolerance": tolerance_m2, "withdrawn": withdrawn},
        )

    def unknown_units(self, stage: str) -> Iterator[tuple]:
        return self.each(sql.SQL(UNKNOWN_ADMIN_UNIT_SQL).format(stage=sql.Identifier(stage)))

    def wrong_units(self, stage: str) -> Iterator[tuple]:
        return self.each(sql.SQL(WRONG_ADMIN_UNIT_SQL).format(stage=sql.Identifier(stage)))

    def on_schematic_units(self, stage: str) -> int:
        """How many staged parcels lie in a unit whose boundary is schematic (its note says so), not legal."""
        return self.one(sql.SQL(ON_SCHEMATIC_SQL).format(stage=sql.Identifier(stage)))[0]

    def wrong_former_communes(self, stage: str) -> Iterator[tuple]:
        return self.each(sql.SQL(FORMER_COMMUNE_SQL).format(stage=sql.Identifier(stage)))

    def reserve_outside(self, stage: str, units: list[str]) -> Iterator[tuple]:
        return self.each(sql.SQL(RESERVE_OUTSIDE_SQL).format(stage=sql.Identifier(stage)), {"units": list(units)})

    def outside_unit(self, stage: str, unit: str) -> list[tuple]:
        """(row, code, m² outside `unit`) of every staged parcel."""
        return self.all(sql.SQL(OUTSIDE_UNIT_SQL).format(stage=sql.Identifier(stage)), {"unit": unit})
