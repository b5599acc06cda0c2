"""Site suitability for investors: parcels open for investment, ranked by weighted criteria in PostGIS.

Nearest road and facilities come from KNN index searches (`ORDER BY geom <-> …`, on the partial GiST
indexes of the reference layers), never a cross join. They run inside `nearest_references_m()` (migration
0008), which PostgreSQL may call from parallel workers, unlike a LATERAL subquery with LIMIT. Each result explains its score criterion by
criterion, with the raw distances in metres."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from pydantic import BaseModel, Field

from ..core.errors import LandfundError
from ..models.parcels import est_units_sql

CRITERIA = ("road", "town", "school", "health", "area", "clearance")


class Weights(BaseModel):
    road: float = Field(0.25, ge=0, le=100)
    town: float = Field(0.20, ge=0, le=100)
    school: float = Field(0.15, ge=0, le=100)
    health: float = Field(0.15, ge=0, le=100)
    area: float = Field(0.10, ge=0, le=100)
    clearance: float = Field(0.15, ge=0, le=100)


class Scales(BaseModel):
    """Distances (m) at which a criterion scores 1 (near) and 0 (far), linear in between."""

    road: tuple[float, float] = (200.0, 5000.0)
    town: tuple[float, float] = (1000.0, 20000.0)
    school: tuple[float, float] = (500.0, 5000.0)
    health: tuple[float, float] = (1000.0, 10000.0)


@dataclass
class Request:
    weights: Weights = field(default_factory=Weights)
    scales: Scales = field(default_factory=Scales)
    preferred_ha: tuple[float, float] = (0.5, 3.0)
    hazards: str = "penalty"  # penalty | exclude | ignore
    hazard_penalty: float = 0.3
    admin_unit: str | None = None  # a unit code: parcels whose inner point lies in that unit (any validity)
    min_area_ha: float | None = None
    limit: int | None = 100
    statuses: tuple[str, ...] = ("open_for_investment",)
    published_only: bool = True

    def check(self) -> None:
        if sum(self.weights.model_dump().values()) <= 0:
            raise LandfundError("weights: at least one weight must be above zero")
        lo, hi = self.preferred_ha
        if not 0 < lo <= hi:
            raise LandfundError("preferred area: give 0 < min ≤ max hectares")
        if self.hazards not in ("penalty", "exclude", "ignore"):
            raise LandfundError("hazards: use penalty, exclude or ignore")


def _ramp(d: str, near: float, far: float) -> str:
    return f"greatest(0.0, least(1.0, ({far!r} - {d}) / {far - near!r}))"


def ranking_sql(req: Request, settings) -> tuple[str, dict]:
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
        "clearance": "CASE p.clearance_status WHEN 'cleared' THEN 1.0 WHEN 'in_progress' THEN 0.5 ELSE 0.0 END",
    }
    weighted = " + ".join(f"{getattr(w, k)!r} * coalesce(s_{k}, 0)" for k in CRITERIA)
    penalty = f"{req.hazard_penalty!r} * coalesce(hazard_factor, 0)" if req.hazards == "penalty" else "0"
    where = _candidates(req)
    sql = f"""
WITH measured AS MATERIALIZED (
    SELECT p.id, p.code, p.name, p.admin_unit_code, p.area_m2, p.clearance_status, {est_units_sql(settings, 'p')} AS est_units,
           n.road_m, n.town_m, n.school_m, n.health_m, intersecting_hazards(p.geom) AS hazards
    FROM parcels p CROSS JOIN LATERAL nearest_references_m(p.geom) n
    WHERE {" AND ".join(where)}
), scored AS (
    SELECT p.*, {", ".join(f"{expr} AS s_{k}" for k, expr in scores.items())},
           (SELECT max(CASE h->>'severity' WHEN 'high' THEN 1.0 WHEN 'medium' THEN 0.6 ELSE 0.3 END)
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
    where = ["p.status = ANY(%(statuses)s)"]
    if req.published_only:
        where.append("p.published")
    if req.min_area_ha is not None:
        where.append("p.area_m2 >= %(min_m2)s")
    if req.admin_unit:
        where.append("EXISTS (SELECT 1 FROM admin_units a WHERE a.code = %(unit)s AND ST_Intersects(a.geom, p.pos))")
    return where


def _params(req: Request) -> dict:
    return {"statuses": list(req.statuses), "min_m2": (req.min_area_ha or 0) * 1e4, "unit": req.admin_unit,
            "limit": req.limit}


def count_candidates(conn, req: Request) -> int:
    """How many parcels the request ranks (before hazards=exclude), without measuring any of them."""
    sql = f"SELECT count(*) FROM parcels p WHERE {' AND '.join(_candidates(req))}"
    return conn.execute(sql, _params(req)).fetchone()[0]


@dataclass
class Criterion:
    weight: float
    score: float
    contribution: float
    distance_m: float | None = None
    value: str | float | None = None


def rank(conn, settings, req: Request) -> list[dict]:
    req.check()
    sql, params = ranking_sql(req, settings)
    with conn.transaction():
        conn.execute("SELECT set_config('max_parallel_workers_per_gather', %s, true)",
                     [str(settings.analytics_parallel_workers)])
        cur = conn.execute(sql, params)
        rows = cur.fetchall()
    cols = [d.name for d in cur.description]
    total = sum(req.weights.model_dump().values())
    out = []
    for i, row in enumerate(rows, start=1):
        r = dict(zip(cols, row))
        crit = {}
        for k in CRITERIA:
            w = getattr(req.weights, k)
            sc = float(r[f"s_{k}"] or 0)
            c = Criterion(weight=w, score=round(sc, 4), contribution=round(w * sc / total, 4))
            if k in ("road", "town", "school", "health"):
                c.distance_m = None if r[f"{k}_m"] is None else round(r[f"{k}_m"], 1)
            elif k == "area":
                c.value = round(r["area_m2"] / 1e4, 3)
            else:
                c.value = r["clearance_status"]
            crit[k] = asdict(c)
        penalty = req.hazard_penalty * float(r["hazard_factor"] or 0) if req.hazards == "penalty" else 0.0
        out.append({
            "rank": i, "id": r["id"], "code": r["code"], "name": r["name"], "admin_unit_code": r["admin_unit_code"],
            "area_ha": round(r["area_m2"] / 1e4, 3), "est_units": r["est_units"], "score": round(float(r["score"]), 4),
            "criteria": crit, "hazards": r["hazards"] or [], "hazard_penalty": round(penalty, 4),
        })
    return out
