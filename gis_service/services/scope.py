"""Where a write lands and who may make it: a planner's unit scope, the province a stored parcel or a new one
belongs to (the catalogue as that province sees it), and the per-province write lock the edit services take."""

from __future__ import annotations

import psycopg

from ..catalogue import Catalogue, LayerDef
from ..core.errors import Forbidden, NotFound
from ..security import Principal, scope_unit
from ..stores.parcel_checks import ParcelCheckStore
from ..stores.parcels import ParcelStore
from ..stores.provinces import ProvinceStore
from ..stores.writes import WriteStore


def unit_scope(principal: Principal, province: str, tolerance: float) -> dict | None:
    """The parameters of a planner's unit scope (stores.parcels.scope_sql), or None for everywhere."""
    unit = scope_unit(principal, province)
    return None if unit is None else {"scope_unit": unit, "scope_tolerance": tolerance}


def check_scope(conn: psycopg.Connection, stage: str, principal: Principal, province: str, tolerance: float) -> None:
    """A planner's parcel lies within their unit as a whole (at most `tolerance` m² outside, along the boundary)."""
    unit = scope_unit(principal, province)
    if unit is None:
        return
    for _, _code, outside in ParcelCheckStore(conn).outside_unit(stage, unit):
        if outside > tolerance:
            amount = f"{outside / 1e4:,.2f} ha" if outside >= 1e4 else f"{outside:,.0f} m²"
            raise Forbidden(
                f"the parcel lies outside your administrative unit {unit}: {amount} of it is in other "
                f"units (at most {tolerance:,.0f} m² along the boundary is accepted)"
            )


def editable(conn, layer: LayerDef, fid: int, principal: Principal, province: str, tolerance: float, lock: bool = True):
    """(entity tag, status) of a stored feature the caller may change, locked for this transaction."""
    row = WriteStore(conn).current(
        layer, fid, published_only=not principal.privileged, scope=unit_scope(principal, province, tolerance), lock=lock
    )
    if row is None:
        raise NotFound(f"no feature {fid} in collection {layer.id}")
    if not row[1]:
        raise Forbidden(f"feature {fid} lies outside your administrative unit {principal.admin_unit_code}")
    return row[0], row[2]


def province_of_parcel(conn, catalogue: Catalogue, layer: LayerDef, fid: int) -> Catalogue:
    """The catalogue as parcel `fid`'s province sees it: a parcel of a province loaded beside the deployment's is
    checked against that province's outline, units and VN-2000 zone, and takes that province's write lock."""
    if layer.storage != "parcels":
        return catalogue
    return catalogue.for_province(ProvinceStore(conn).of_parcel(catalogue, fid))


def province_for_new(conn, catalogue: Catalogue, principal: Principal, province: str | None = None) -> Catalogue:
    """The catalogue as the province new parcels go to sees it: a planner's own (their unit's), whatever is asked;
    for an account without a unit, `province` (one this database holds, as api.province checks) or the
    deployment's."""
    store = ProvinceStore(conn)
    if principal.admin_unit_code:
        return catalogue.for_province(store.of_unit(catalogue, principal.admin_unit_code))
    return catalogue.for_province(store.described(catalogue, province))


def lock_writes(conn, layer: LayerDef, province: str) -> None:
    """Parcel writes of a province take turns (see stores.parcels.LOCK_WRITES_SQL); taken before any row lock,
    in the same order by every writer."""
    if layer.storage == "parcels":
        ParcelStore(conn).lock_writes(province)
