"""The SQL of the reports: coverage of demand per unit, parcels' time in their stage, site suitability."""

from __future__ import annotations

from typing import Any, Protocol

import orjson
from psycopg.types.json import set_json_loads

from .admin_units import in_province
from .base import Store
from .history import STAGE_SINCE_SQL
from .parcels import est_units_sql, listed_sql


class Request(Protocol):
    """What a ranking asks for (analytics.suitability.Request has these)."""

    weights: Any
    scales: Any
    preferred_ha: tuple[float, float]
    hazards: str
    hazard_penalty: float
    admin_unit: str | None
    min_area_ha: float | None
    limit: int | None
    statuses: tuple[str, ...] | None
    published_only: bool
    parcel_ids: tuple[int, ...] | None
    province: str | None


UNITS_SQL = f"""
SELECT code, name, level, unit_type, parent_code FROM admin_units u
WHERE level = %(level)s AND valid_from <= %(as_of)s AND (valid_to IS NULL OR valid_to >= %(as_of)s)
  AND {in_province("u")}  -- one province's units, never another's
  {{unit_filter}}
ORDER BY code
"""

BY_STATUS_SQL = f"""
SELECT u.code, p.status, count(*), sum(p.area_m2), sum({{units}})
FROM admin_units u JOIN parcels p ON ST_Intersects(u.geom, p.pos)
WHERE u.level = %(level)s AND u.valid_from <= %(as_of)s AND (u.valid_to IS NULL OR u.valid_to >= %(as_of)s)
  AND (p.published OR NOT %(published_only)s) AND p.province_code = %(province)s
  AND {in_province("u")}
  AND {{listed}} <= %(as_of)s
  AND (%(fund_source)s::text IS NULL OR p.fund_source = %(fund_source)s)
  {{unit_filter}}
GROUP BY u.code, p.status
"""

# The latest demand at or before the year of interest, per unit: the sum over its eligible groups that year.
DEMAND_SQL = """
SELECT d.admin_unit_code, d.year, sum(d.households)::bigint FROM demand d
JOIN (SELECT admin_unit_code, max(year) AS year FROM demand WHERE year <= %(year)s GROUP BY admin_unit_code) l
  ON l.admin_unit_code = d.admin_unit_code AND l.year = d.year
GROUP BY d.admin_unit_code, d.year
"""

# The rows of a table keyed by unit that belong to one province (its own code or its units').
OF_PROVINCE = "EXISTS (SELECT 1 FROM admin_units pa WHERE pa.code = {t}.admin_unit_code AND " + in_province("pa") + ")"

# Yearly programme figures (not cumulative ones) of the latest year at or before the year of interest.
PROGRAMMES_SQL = """
WITH yearly AS (
    SELECT admin_unit_code, year, sum(households)::bigint AS households, sum(funding_vnd)::bigint AS funding_vnd
    FROM programmes WHERE year <= %(year)s AND (period_start IS NULL OR period_start = year)
    GROUP BY admin_unit_code, year
)
SELECT DISTINCT ON (admin_unit_code) admin_unit_code, year, households, funding_vnd
FROM yearly ORDER BY admin_unit_code, year DESC
"""


ROWS_SQL = f"""
SELECT p.id, p.code, p.name, p.status, p.clearance_status, p.responsible_level, p.responsible_agency,
       p.admin_unit_code, {STAGE_SINCE_SQL} AS since,
       (SELECT max(h.at)::date FROM parcel_history h WHERE h.parcel_id = p.id AND h.action = 'transition'
          AND h.new_status = %(approved)s) AS approved_at, p.decision_date
FROM parcels p
WHERE p.status <> ALL(%(final)s) AND {listed_sql("p")} <= %(as_of)s AND p.province_code = %(province)s
  AND (%(fund_source)s::text IS NULL OR p.fund_source = %(fund_source)s)
  AND (%(unit)s::text IS NULL OR EXISTS (SELECT 1 FROM admin_units a WHERE a.code = %(unit)s
                                         AND ST_Intersects(a.geom, p.pos)))
ORDER BY p.code
"""


CRITERIA = ("road", "town", "school", "health", "area", "clearance")


def _ramp(d: str, near: float, far: float) -> str:
    return f"greatest(0.0, least(1.0, ({far!r} - {d}) / {far - near!r}))"


def ranking_sql(req: Request, settings) -> tuple[str, dict]:
    if req.statuses is None:  # the workflow's call for investors
        from ..core.vocabulary import load_workflow

        req.statuses = (load_workflow(settings.layers_dir).roles.call,)
    if req.province is None:  # the deployment's province: another's sites are never ranked with its
        from ..catalogue import load_catalogue

        req.province = load_catalogue(settings.layers_dir).province.code
    w, s = req.weights, req.scales
    total = sum(w.model_dump().values())
    lo, hi = req.preferred_ha
    ha = "(p.area_m2 / 10000.0)"
    scores = {
        "road": _ramp("road_m", *s.road),
        "town": _ramp("town_m", *s.town),
        "school": _ramp("school_m", *s.school),
        "health": _ramp("health_m", *s.health),
        "area": f"CASE WHEN {ha} < {lo!r} THEN {ha} / {lo!r} WHEN {ha} > {hi!r} THEN {hi!r} / {ha} ELSE 1.0 END",
        "clearance": "CASE p.clearance_status WHEN 'cleared' THEN 1.0::float8 WHEN 'in_progress' THEN 0.5::float8 "
        "ELSE 0.0::float8 END",
    }
    weighted = " + ".join(f"{getattr(w, k)!r} * coalesce(s_{k}, 0)" for k in CRITERIA)
    penalty = f"{req.hazard_penalty!r} * coalesce(hazard_factor, 0)" if req.hazards == "penalty" else "0"
    where = _candidates(req)
    # Not materialized, so that the parallel workers score the rows they read (the numbers are float8: numeric
    # arithmetic on 100,000 rows cost ~0.3 s); the live search sits in the lateral, evaluated once per row.
    sql = f"""
WITH measured AS (
    SELECT p.id, p.code, p.name, p.admin_unit_code, p.area_m2, p.clearance_status, {est_units_sql(settings, "p")} AS est_units,
           coalesce(n.road_m, l.road_m) AS road_m, coalesce(n.town_m, l.town_m) AS town_m,
           coalesce(n.school_m, l.school_m) AS school_m, coalesce(n.health_m, l.health_m) AS health_m,
           CASE WHEN n.parcel_id IS NULL THEN l.hazards ELSE n.hazards END AS hazards
    FROM parcels p LEFT JOIN parcel_measures n ON n.parcel_id = p.id AND n.province_code = p.province_code
    -- a parcel outside the call (a dossier, a planner's statuses) has no stored measures: measured live
    LEFT JOIN LATERAL (SELECT *, intersecting_hazards(p.geom) AS hazards FROM nearest_references_m(p.geom)
                       WHERE n.parcel_id IS NULL OFFSET 0) l ON TRUE
    WHERE {" AND ".join(where)}
), scored AS (
    SELECT p.*, {", ".join(f"{expr} AS s_{k}" for k, expr in scores.items())},
           (SELECT max(CASE h->>'severity' WHEN 'high' THEN 1.0::float8 WHEN 'medium' THEN 0.6::float8
                       ELSE 0.3::float8 END)
            FROM jsonb_array_elements(p.hazards) h) AS hazard_factor
    FROM measured AS p {"WHERE p.hazards IS NULL" if req.hazards == "exclude" else ""}
)
SELECT *, greatest(0.0, least(1.0, ({weighted}) / {total!r} - {penalty})) AS score
FROM scored ORDER BY score DESC, id
{"LIMIT %(limit)s" if req.limit is not None else ""}
"""
    return sql, _params(req)


def _candidates(req: Request) -> list[str]:
    """The WHERE of the parcels a request ranks (over parcels p)."""
    where = ["p.status = ANY(%(statuses)s)", "p.province_code = %(province)s"]
    if req.published_only:
        where.append("p.published")
    if req.min_area_ha is not None:
        where.append("p.area_m2 >= %(min_m2)s")
    if req.admin_unit:
        where.append("EXISTS (SELECT 1 FROM admin_units a WHERE a.code = %(unit)s AND ST_Intersects(a.geom, p.pos))")
    if req.parcel_ids is not None:
        where.append("p.id = ANY(%(ids)s)")
    return where


def _params(req: Request) -> dict:
    return {
        "statuses": list(req.statuses or ()),
        "min_m2": (req.min_area_ha or 0) * 1e4,
        "unit": req.admin_unit,
        "limit": req.limit,
        "ids": list(req.parcel_ids or ()),
        "province": req.province,
    }


class AnalyticsStore(Store):
    def coverage(
        self,
        settings,
        level: str,
        as_of,
        year: int,
        unit: str | None,
        published_only: bool,
        fund_source: str | None = None,
        *,
        province: str,
    ):
        """The four result sets of a coverage report: units, parcels by unit and status (those in the land fund on
        `as_of`), demand, programmes."""
        params = {
            "level": level,
            "as_of": as_of,
            "year": year,
            "unit": unit,
            "published_only": published_only,
            "fund_source": fund_source,
            "province": province,
        }
        unit_filter = "AND code = %(unit)s" if unit else ""
        units = self.all(UNITS_SQL.format(unit_filter=unit_filter), params)
        by_status = self.all(
            BY_STATUS_SQL.format(
                units=est_units_sql(settings, "p"),
                listed=listed_sql("p"),
                unit_filter=unit_filter.replace("code", "u.code"),
            ),
            params,
        )
        return units, by_status, self.all(DEMAND_SQL, params), self.all(PROGRAMMES_SQL, params)

    def stages(
        self,
        final: list[str],
        approved: str,
        as_of,
        unit: str | None = None,
        fund_source: str | None = None,
        *,
        province: str,
    ) -> list[tuple]:
        """Every parcel in the land fund on `as_of` and not in a final stage, with when it entered its stage and
        when it entered `approved` (only those inside `unit`, of `fund_source`, when given)."""
        return self.all(
            ROWS_SQL,
            {
                "final": final,
                "approved": approved,
                "as_of": as_of,
                "unit": unit,
                "fund_source": fund_source,
                "province": province,
            },
        )

    def programmes_by_year(self, unit: str | None = None, *, province: str) -> list[tuple]:
        """(year, households, funding in VND) of yearly programme figures (not cumulative ones), by year."""
        return self.all(
            "SELECT year, sum(households)::bigint, sum(funding_vnd)::bigint FROM programmes "
            "WHERE (period_start IS NULL OR period_start = year) AND (%(unit)s::text IS NULL OR admin_unit_code = %(unit)s) "
            f"AND {OF_PROVINCE.format(t='programmes')} GROUP BY year ORDER BY year",
            {"unit": unit, "province": province},
        )

    def cumulative_programmes(self, *, province: str) -> list[tuple]:
        """(from year, to year, programme, households) of the cumulative figures (a period, not a year)."""
        return self.all(
            "SELECT period_start, year, programme, households FROM programmes "
            f"WHERE period_start IS NOT NULL AND period_start < year AND {OF_PROVINCE.format(t='programmes')} "
            "ORDER BY year, period_start",
            {"province": province},
        )

    def added_by_quarter(
        self, settings, as_of, unit: str | None, fund_source: str | None, published_only: bool, *, province: str
    ) -> list[tuple]:
        """(quarter's first day, parcels, m², estimated units) of the land added to the fund each quarter."""
        listed = listed_sql("p")
        return self.all(
            f"SELECT date_trunc('quarter', {listed})::date AS q, count(*), sum(p.area_m2), "
            f"sum({est_units_sql(settings, 'p')}) FROM parcels p "
            f"WHERE {listed} <= %(as_of)s AND (p.published OR NOT %(published_only)s) AND p.province_code = %(province)s "
            "AND (%(fund_source)s::text IS NULL OR p.fund_source = %(fund_source)s) "
            "AND (%(unit)s::text IS NULL OR EXISTS (SELECT 1 FROM admin_units a WHERE a.code = %(unit)s "
            "AND ST_Intersects(a.geom, p.pos))) GROUP BY q ORDER BY q",
            {
                "as_of": as_of,
                "unit": unit,
                "fund_source": fund_source,
                "published_only": published_only,
                "province": province,
            },
        )

    def rank(self, req: Request, settings) -> tuple[list[str], list[tuple]]:
        """The ranking's columns and rows, with `analytics_parallel_workers` workers allowed for this query."""
        return self.run_ranking(*ranking_sql(req, settings), settings)

    def run_ranking(self, sql: str, params: dict, settings) -> tuple[list[str], list[tuple]]:
        """A ranking query (ranking_sql's) as the service runs it: its own parallel workers and sort memory. Rows come
        in PostgreSQL's binary format: a full ranking at 1M parcels is ~100,000 rows of 14 floats, whose floats then
        need no parsing from text (fetching them took 0.8 s instead of 1.0-1.3 s)."""
        with self.conn.transaction():
            self.conn.execute(
                "SELECT set_config('max_parallel_workers_per_gather', %s, true), set_config('work_mem', %s, true)",
                [str(settings.analytics_parallel_workers), f"{settings.analytics_work_mem_mb}MB"],
            )
            cur = self.conn.cursor(binary=True)
            # the hazards (jsonb of strings only: intersecting_hazards) parsed by orjson: 30,699 of them at 1M
            # took 0.30 s with json.loads, half the rows' conversion, and take 0.16 s
            set_json_loads(orjson.loads, cur)
            cur.execute(sql, params)
            rows = cur.fetchall()
        return [d.name for d in cur.description], rows

    def count_candidates(self, req: Request) -> int:
        """How many parcels the request ranks (before hazards=exclude), without measuring any of them."""
        return self.one(f"SELECT count(*) FROM parcels p WHERE {' AND '.join(_candidates(req))}", _params(req))[0]
