"""Site suitability for investors: parcels open for investment, ranked by weighted criteria in PostGIS.

Nearest road and facilities come from KNN index searches (`ORDER BY geom <-> …`, on the partial GiST
indexes of the reference layers, by role), never a cross join, made once per parcel and kept in parcel_measures
(migration 0017: measured again when the parcel moves or a reference feature of that role changes near it), so a
ranking reads them instead of searching again. Each result explains its score criterion by criterion, with the
raw distances in metres."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from pydantic import BaseModel

from ..catalogue import load_catalogue
from ..core.config import SuitabilityWeights
from ..core.errors import LandfundError
from ..core.vocabulary import load_workflow
from ..stores.analytics import CRITERIA, AnalyticsStore

Weights = SuitabilityWeights  # the criteria and their default weights: core/config.py


class Scales(BaseModel):
    """Distances (m) at which a criterion scores 1 (near) and 0 (far), linear in between."""

    road: tuple[float, float] = (200.0, 5000.0)
    town: tuple[float, float] = (1000.0, 20000.0)
    school: tuple[float, float] = (500.0, 5000.0)
    health: tuple[float, float] = (1000.0, 10000.0)


@dataclass
class Request:
    weights: Weights = field(default_factory=lambda: Weights())  # type: ignore[call-arg]  # every field has a default
    scales: Scales = field(default_factory=Scales)
    preferred_ha: tuple[float, float] = (0.5, 3.0)
    hazards: str = "penalty"  # penalty | exclude | ignore
    hazard_penalty: float = 0.3
    admin_unit: str | None = None  # a unit code: parcels whose inner point lies in that unit (any validity)
    min_area_ha: float | None = None
    limit: int | None = 100
    statuses: tuple[str, ...] | None = None  # default: the workflow's call for investors (roles.call)
    published_only: bool = True
    parcel_ids: tuple[int, ...] | None = None  # only these parcels (a comparison, one site's dossier)
    province: str | None = None  # default: the deployment's province (sites of another are never ranked with its)

    def check(self) -> None:
        if sum(self.weights.model_dump().values()) <= 0:
            raise LandfundError("weights: at least one weight must be above zero")
        lo, hi = self.preferred_ha
        if not 0 < lo <= hi:
            raise LandfundError("preferred area: give 0 < min ≤ max hectares")
        if self.hazards not in ("penalty", "exclude", "ignore"):
            raise LandfundError("hazards: use penalty, exclude or ignore")


def count_candidates(conn, req: Request, settings) -> int:
    """How many parcels the request ranks (before hazards=exclude), without measuring any of them."""
    req.province = req.province or load_catalogue(settings.layers_dir).province.code
    if req.statuses is None:
        req.statuses = (load_workflow(settings.layers_dir).roles.call,)
    return AnalyticsStore(conn).count_candidates(req)


@dataclass
class Criterion:
    weight: float
    score: float
    contribution: float
    distance_m: float | None = None
    value: str | float | None = None


def rank(conn, settings, req: Request) -> list[dict]:
    req.check()
    req.province = req.province or load_catalogue(settings.layers_dir).province.code
    if req.statuses is None:
        req.statuses = (load_workflow(settings.layers_dir).roles.call,)
    cols, rows = AnalyticsStore(conn).rank(req, settings)
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
        out.append(
            {
                "rank": i,
                "id": r["id"],
                "code": r["code"],
                "name": r["name"],
                "admin_unit_code": r["admin_unit_code"],
                "area_ha": round(r["area_m2"] / 1e4, 3),
                "est_units": r["est_units"],
                "score": round(float(r["score"]), 4),
                "criteria": crit,
                "hazards": r["hazards"] or [],
                "hazard_penalty": round(penalty, 4),
            }
        )
    return out
