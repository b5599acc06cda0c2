"""A parcel's history as its reader may see it.

What the public may see of a change comes from the catalogue: its public fields (`public: true`), the status and
whether the boundary moved; never who made it or why (a reason may name an investor), never an edit of hidden
fields only. Planners and admins see everything."""

from __future__ import annotations

from ..catalogue import Catalogue
from ..core.errors import NotFound
from ..security import Principal
from ..stores.history import HistoryStore
from ..stores.parcels import ParcelStore


def entries(conn, catalogue: Catalogue, fid: int, who: Principal) -> list[dict]:
    published = ParcelStore(conn).published(fid)
    history = HistoryStore(conn)
    if who.privileged:
        if published is None and not history.exists(fid):  # a deleted parcel keeps its history for planners
            raise NotFound(f"no feature {fid} in collection parcels")
    elif not published:
        raise NotFound(f"no feature {fid} in collection parcels")
    public = {a.name for a in catalogue.layer("parcels").attributes if a.public}
    out = []
    for hid, at, actor, action, old, new, changes, geom_changed, reason, dno, ddate, uncond in history.entries(fid):
        if not who.privileged:
            changes = {k: v for k, v in changes.items() if k in public}
            if action == "update" and not changes and not geom_changed:
                continue
        entry = {
            "id": hid,
            "at": at.isoformat(),
            "action": action,
            "old_status": old,
            "new_status": new,
            "changes": changes,
            "geometry_changed": geom_changed,
            "decision_no": dno,
            "decision_date": ddate.isoformat() if ddate else None,
        }
        if who.privileged:
            # written without If-Match by a desktop editor's QGIS (checked against the version they had read)
            entry.update(actor=actor, reason=reason, unconditional=uncond)
        out.append(entry)
    return out
