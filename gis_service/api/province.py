"""Which province a view is of: the deployment's own, or another the database holds that the caller may see."""

from __future__ import annotations

import re

from fastapi import Depends, Query, Request

from ..security import Principal
from ..stores.admin_units import AdminUnitStore
from .deps import principal, reading
from .errors import Problem


async def province_param(
    request: Request,
    who: Principal = Depends(principal),
    province: str | None = Query(None, description="GSO code of the province (default: this deployment's own)."),
) -> str:
    """The province a view is of: the deployment's own unless another that this database holds is asked for. A
    planner's account implies a province: theirs only, and theirs when none is asked for (an admin's, any)."""
    own = request.app.state.catalogue.province.code
    given = (province or "").strip()  # an empty field, as a form sends it, is "not given"
    if given and not re.fullmatch(r"\d{2}", given):
        raise Problem(400, f"province: a GSO province code is two digits, not {given[:20]!r}")
    if who.role != "planner" and given in ("", own):
        return own

    def look(conn):
        store = AdminUnitStore(conn)
        return store.provinces(), (store.province_of(who.admin_unit_code) if who.admin_unit_code else own)

    known, theirs = await reading(request, look)
    theirs = theirs or own
    if who.role == "planner" and not given:
        return theirs
    if given not in known and given != own:
        raise Problem(400, f"province: no province {given!r} in this database; known: {', '.join(known) or own}")
    if who.role == "planner" and theirs != given:
        raise Problem(403, f"province: your account is of province {theirs}, not {given}")
    return given
