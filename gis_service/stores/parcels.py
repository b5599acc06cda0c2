"""The land fund's SQL: checks of a staged batch against what is stored, writing it, the per-province write lock,
a planner's scope, status changes, and the geometry of one parcel for its site sheet."""

from __future__ import annotations

from psycopg import sql
from sqlalchemy import literal_column

from ..models.parcels import INPUT_COLUMNS
from .base import Store


def est_units_sql(settings, table: str = "parcels") -> str:
    """Dwelling units: the approved 1/500 plan's number when recorded, otherwise estimated as area × net residential
    ratio × (1 − commercial share) × FAR × net floor ratio ÷ average unit size (defaults from settings).

    Settings are floats validated by pydantic, so they are inlined as SQL literals."""
    far = float(settings.default_far)
    share = float(settings.net_residential_ratio) * (1.0 - float(settings.commercial_share))
    net = float(settings.net_floor_ratio)
    unit = float(settings.avg_unit_m2)
    return (
        f"coalesce({table}.approved_units, floor({table}.area_m2 * {share!r} * coalesce({table}.max_far, {far!r}) "
        f"* {net!r} / {unit!r})::integer)"
    )


def listed_sql(table: str = "p") -> str:
    """When a parcel entered the land fund: its decision's date or the day it was recorded, whichever came first.
    A parcel is in the land fund "as of" a date on or after it (the maps, the reports and the dashboard)."""
    return f"LEAST({table}.decision_date, {table}.created_at::date)"


def est_units_column(settings, table: str = "parcels"):
    return literal_column(est_units_sql(settings, table))


# Writes to one province's land fund take turns: the overlap and duplicate-code checks then see every parcel
# written before them, however many requests or imports run at once (held until the transaction ends).
LOCK_WRITES_SQL = "SELECT pg_advisory_xact_lock(hashtextextended('landfund:parcels:' || %s, 0))"

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


SET_STATUS_SQL = """
UPDATE parcels SET status = %s, decision_no = coalesce(%s, decision_no), decision_date = coalesce(%s, decision_date),
       investor_interest_id = coalesce(%s, investor_interest_id){facts}
WHERE id = %s
"""
# what a transition may write beside the status (services.lifecycle.Facts)
FACT_COLUMNS = (
    "approved_units",
    "approved_floor_m2",
    "investor_name",
    "selection_method",
    "tenure",
    "reserve_payment_vnd",
    "reserve_replaced_by",
)


def scope_sql(geom: str) -> str:
    """SQL condition: the whole of `geom` lies in unit %(scope_unit)s but for at most %(scope_tolerance)s m²."""
    return (
        f"coalesce((SELECT ST_Area(ST_Difference({geom}, a.geom)::geography) <= %(scope_tolerance)s "
        f"FROM admin_units a WHERE a.code = %(scope_unit)s ORDER BY a.valid_from DESC LIMIT 1), FALSE)"
    )


class ParcelStore(Store):
    def lock_writes(self, province: str) -> None:
        self.conn.execute(LOCK_WRITES_SQL, [province])

    def count_by_province(self) -> dict[str, int]:
        return dict(self.all("SELECT province_code, count(*) FROM parcels GROUP BY 1"))

    def add_province(self, province: str) -> str:
        """A partition of parcels of its own for `province` (migration 0005's function); its name."""
        return self.one("SELECT parcels_add_province(%s)", [province])[0]

    # -- a staged batch (see stores.staging; its checks: stores.parcel_checks) ------------------------------
    def schematic_unit(self, fid: int) -> str | None:
        """The code of the unit holding parcel `fid` when that unit's boundary is schematic, else None."""
        row = self.one(
            "SELECT a.code FROM parcels p JOIN admin_units a ON a.code = p.admin_unit_code "
            "WHERE p.id = %s AND a.boundary_note ILIKE 'schematic%%' LIMIT 1",
            [fid],
        )
        return row[0] if row else None

    def write_staged(self, stage: str, province: str, update: bool) -> list[int]:
        q = sql.SQL(UPDATE_SQL if update else INSERT_SQL).format(stage=sql.Identifier(stage))
        return [r[0] for r in self.all(q, {"province": province})]

    # -- one parcel ------------------------------------------------------------------------------------------
    def set_status(
        self,
        fid: int,
        status: str,
        decision_no=None,
        decision_date=None,
        investor_interest_id: int | None = None,
        facts: dict | None = None,
    ) -> None:
        """The new status, its decision and what the stage records (`facts`: columns of FACT_COLUMNS), in one
        update, so the history shows one entry."""
        facts = facts or {}
        unknown = set(facts) - set(FACT_COLUMNS)
        assert not unknown, unknown
        names = [n for n in FACT_COLUMNS if n in facts]
        q = SET_STATUS_SQL.format(facts="".join(f", {n} = %s" for n in names))
        self.conn.execute(
            q, [status, decision_no, decision_date, investor_interest_id, *(facts[n] for n in names), fid]
        )

    def gate_facts(self, fid: int) -> tuple:
        """(fund source, clearance status, households affected, compensation cost, code): what the lifecycle's gates
        read of a parcel."""
        return self.one(
            "SELECT fund_source, clearance_status, clearance_households, clearance_cost_vnd, code FROM parcels "
            "WHERE id = %s",
            [fid],
        )

    def code_exists(self, code: str) -> bool:
        return self.one("SELECT EXISTS (SELECT 1 FROM parcels WHERE code = %s)", [code])[0]

    def stage_since(self, fid: int):
        """When the parcel entered its current stage (see stores.history.STAGE_SINCE_SQL)."""
        from .history import STAGE_SINCE_SQL

        return self.one(f"SELECT {STAGE_SINCE_SQL} FROM parcels p WHERE p.id = %s", [fid])[0]

    def grid_area(self, fid: int, srid: int) -> float | None:
        """The parcel's area on a projected grid (the province's VN-2000 / TM-3 zone: what a land-use certificate
        states), in m²; it differs from the ellipsoidal area by the zone's scale (k = 0.9999) and distortion."""
        row = self.one("SELECT ST_Area(ST_Transform(geom, %s)) FROM parcels WHERE id = %s", [srid, fid])
        return None if row is None else row[0]

    def by_code(self, code: str, published_only: bool) -> tuple | None:
        """(id, GeoJSON) of a parcel by its code (the one the validator names as overlapped)."""
        return self.one(
            "SELECT id, ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, 0.000002), 7) FROM parcels "
            "WHERE code = %s AND (published OR NOT %s)",
            [code, published_only],
        )

    def boundary(self, fid: int, published_only: bool) -> tuple | None:
        """(code, name, WKB in EPSG:4326) of a parcel the caller may see."""
        return self.one(
            "SELECT code, name, ST_AsBinary(geom) FROM parcels WHERE id = %s AND (published OR NOT %s)",
            [fid, published_only],
        )

    def count_visible(self, published_only: bool) -> int:
        return self.one("SELECT count(*) FROM parcels WHERE published OR NOT %s", [published_only])[0]

    def published(self, fid: int) -> bool | None:
        """Whether a parcel is published; None when there is no such parcel."""
        row = self.one("SELECT published FROM parcels WHERE id = %s", [fid])
        return None if row is None else row[0]

    def public_summary(self, fid: int) -> tuple | None:
        """(code, name, status) of a published parcel."""
        return self.one("SELECT code, name, status FROM parcels WHERE id = %s AND published", [fid])

    def for_interest(self, fid: int) -> tuple | None:
        """(status, province) of a published parcel, locked against a status change while an interest is filed."""
        return self.one("SELECT status, province_code FROM parcels WHERE id = %s AND published FOR SHARE", [fid])

    # -- the site sheet --------------------------------------------------------------------------------------
    def sheet(self, fid: int, fields: list[str], settings, published_only: bool) -> tuple | None:
        """(id, area m², est. units, vertices, hazards, *fields) of one parcel."""
        cols = ", ".join(f"p.{f}" for f in fields) or "NULL"
        q = (
            f"SELECT p.id, p.area_m2, {est_units_sql(settings, 'p')} AS est_units, ST_NPoints(p.geom), "
            f"intersecting_hazards(p.geom), {cols} FROM parcels p WHERE p.id = %(id)s"
            + (" AND p.published" if published_only else "")
        )
        return self.one(q, {"id": fid})

    def simplified(self, fid: int, limit: int, tolerances_m: tuple[float, ...], m_per_deg: float) -> tuple:
        """(tolerance m, GeoJSON, vertices): the boundary simplified by the smallest tolerance that keeps it under
        `limit` vertices (the last tolerance if none does)."""
        return self.one(
            SIMPLIFIED_SQL,
            {
                "id": fid,
                "m_per_deg": m_per_deg,
                "tolerances": list(tolerances_m),
                "limit": limit,
                "last": tolerances_m[-1],
            },
        )

    def edges(self, geojson: str) -> list[tuple]:
        """(n, length m, lon, lat of its middle) of each edge of a boundary's outer rings."""
        return self.all(EDGES_SQL, {"g": geojson})

    def vertices(self, geojson: str, srid: int) -> list[tuple]:
        """(n, northing, easting, lon, lat) of each vertex of a boundary's outer rings, in `srid`."""
        return self.all(VERTICES_SQL, {"g": geojson, "srid": srid})

    def neighbours(self, fid: int, radius_m: float, published_only: bool, limit: int, m_per_deg: float) -> list[tuple]:
        q = NEIGHBOURS_SQL.format(visible="AND p.published" if published_only else "")
        return self.all(q, {"id": fid, "r": radius_m, "m_per_deg": m_per_deg, "max": limit})


# The smallest tolerance (metres) that keeps a boundary under `limit` vertices, and the boundary simplified by it.
SIMPLIFIED_SQL = """
SELECT t.m, ST_AsGeoJSON(t.g, 7), ST_NPoints(t.g) FROM parcels p,
LATERAL (SELECT tol.m, CASE WHEN tol.m = 0 THEN p.geom
                            ELSE ST_SimplifyPreserveTopology(p.geom, tol.m / %(m_per_deg)s) END AS g
         FROM unnest(%(tolerances)s::float8[]) WITH ORDINALITY tol(m, i) ORDER BY tol.i) t
WHERE p.id = %(id)s AND (ST_NPoints(t.g) <= %(limit)s OR t.m = %(last)s)
ORDER BY t.m LIMIT 1
"""

EDGES_SQL = """
SELECT row_number() OVER () AS n, ST_Length(s.geom::geography) AS len,
       ST_X(ST_LineInterpolatePoint(s.geom, 0.5)), ST_Y(ST_LineInterpolatePoint(s.geom, 0.5))
FROM (SELECT ST_SetSRID(ST_GeomFromGeoJSON(%(g)s), 4326) AS g) b, LATERAL ST_Dump(b.g) part,
     LATERAL ST_DumpSegments(ST_ExteriorRing(part.geom)) s
"""

VERTICES_SQL = """
SELECT row_number() OVER () AS n, ST_Y(v) AS northing, ST_X(v) AS easting, ST_X(g), ST_Y(g)
FROM (SELECT (dp).geom AS g, ST_Transform((dp).geom, %(srid)s::integer) AS v, (dp).path AS path
      FROM (SELECT ST_DumpPoints(ST_ExteriorRing(part.geom)) dp
            FROM (SELECT ST_SetSRID(ST_GeomFromGeoJSON(%(g)s), 4326) AS g) b, LATERAL ST_Dump(b.g) part) d) s
WHERE path[array_length(path, 1)] > 1  -- the ring's closing point repeats its first
"""

NEIGHBOURS_SQL = """
SELECT p.id, p.code, p.status, ST_AsGeoJSON(ST_SimplifyPreserveTopology(p.geom, 0.5 / %(m_per_deg)s), 6)
FROM parcels p, parcels me
WHERE me.id = %(id)s AND p.province_code = me.province_code  -- a province's sheet; on Citus, one shard's join
  AND p.id <> me.id AND p.geom && ST_Expand(me.geom, %(r)s / %(m_per_deg)s * 2)
  AND ST_DWithin(p.geom::geography, me.geom::geography, %(r)s) {visible}
ORDER BY p.geom <-> me.geom LIMIT %(max)s
"""
