"""What the page routes share: the unit names (cached briefly), redirects, and the errors a form shows."""

from __future__ import annotations

import time
from datetime import date

from fastapi import Request
from fastapi.responses import RedirectResponse

from ..api.deps import reading
from ..stores.admin_units import AdminUnitStore
from ..stores.provinces import ProvinceStore

UNITS_TTL = 300.0


async def load_units(request: Request, fresh: bool = False) -> dict[str, str]:
    """GSO code → name of every unit, for pages that name units instead of coding them (refreshed every 5 min, or
    now when `fresh`)."""
    st = request.app.state
    cached = getattr(st, "unit_names_at", 0.0)
    if fresh or getattr(st, "unit_names", None) is None or time.monotonic() - cached > UNITS_TTL:

        def read(conn):
            store = AdminUnitStore(conn)
            return store.names(), store.in_force(date.today())

        st.unit_names, st.units_in_force = await reading(request, read)
        st.unit_names_at = time.monotonic()
    return st.unit_names


def units_in_force(request: Request, level: str | None = None, province: str | None = None) -> list[tuple[str, str]]:
    """(code, name) of today's units of one province (the deployment's unless `province` names another; of `level`
    when given), as load_units last read them."""
    wanted = province or request.app.state.catalogue.province.code
    return [
        (c, n)
        for c, n, lv, p in getattr(request.app.state, "units_in_force", [])
        if level in (None, lv) and p == wanted
    ]


async def province_choices(request: Request, who) -> list[tuple[str, str]]:
    """(code, name) of the provinces an account without a unit may add parcels to, when the database holds more
    than one; empty for a planner (their unit's province) or a database of one province."""
    if who.admin_unit_code:
        return []
    names = await load_units(request)

    def read(conn):
        return AdminUnitStore(conn).provinces()

    codes = await reading(request, read)
    if any(c not in names for c in codes):  # a province added since the names were read (`landfund province add`)
        names = await load_units(request, fresh=True)
    return [(c, names.get(c, c)) for c in codes] if len(codes) > 1 else []


async def cadastral_zone(
    request: Request, *, parcel: int | None = None, unit: str | None = None, province: str | None = None
) -> str:
    """The VN-2000 zone (e.g. EPSG:9205) a boundary or a file without a CRS is read in: that of stored parcel
    `parcel`'s province, of unit `unit`'s, or of province `province` (the deployment's when none is given)."""
    catalogue = request.app.state.catalogue
    if parcel is None and unit is None and province in (None, catalogue.province.code):
        return catalogue.province.cadastral_crs

    def read(conn):
        store = ProvinceStore(conn)
        if parcel is not None:
            return store.of_parcel(catalogue, parcel)
        return store.of_unit(catalogue, unit) if unit is not None else store.described(catalogue, province)

    return (await reading(request, read)).cadastral_crs


def safe_next(target: str | None, default: str = "/") -> str:
    """Where to go after signing in: a path on this site only (never //evil.example or https://…)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def present(layer, name: str, value, lang: str, values: dict, units: dict) -> str:
    """A stored value as a person reads it, by its attribute's type: dates given as ISO text (GeoJSON) are shown
    dd/mm/yyyy too, areas in m² with one decimal."""
    from datetime import date

    from ..i18n import shown

    kind = None
    try:
        kind = layer.attribute(name).type
    except KeyError:
        pass
    if kind == "date" and isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            pass
    if kind == "integer" and isinstance(value, float) and value.is_integer():
        value = int(value)
    return shown(name, value, lang, values, units, 1 if name.endswith("_m2") else 2)
