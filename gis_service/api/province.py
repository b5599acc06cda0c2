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
    planner's account implies a province: theirs only (an admin's, any)."""
    own = request.app.state.catalogue.province.code
    wanted = (province or "").strip() or own  # an empty field, as a form sends it, is "not given"
    if not re.fullmatch(r"\d{2}", wanted):
        raise Problem(400, f"province: a GSO province code is two digits, not {wanted[:20]!r}")
    if wanted == own and who.role != "planner":
        return own

    def look(conn):
        store = AdminUnitStore(conn)
        return store.provinces(), (store.province_of(who.admin_unit_code) if who.admin_unit_code else own)

    known, theirs = await reading(request, look)
    if wanted not in known and wanted != own:
        raise Problem(400, f"province: no province {wanted!r} in this database; known: {', '.join(known) or own}")
    if who.role == "planner" and (theirs or own) != wanted:
        raise Problem(403, f"province: your account is of province {theirs or own}, not {wanted}")
    return wanted
