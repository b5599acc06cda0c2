"""The parcel lifecycle: proposed → approved → open_for_investment → assigned → under_construction →
completed, and withdrawn from any stage before completion. Nothing skips a stage; each transition records
who, when, why, and the decision (the history trigger writes it)."""

from __future__ import annotations

from datetime import date

from ..core.errors import Conflict, LandfundError
from ..models.history import ALLOWED
from ..stores.history import HistoryStore
from ..stores.parcels import ParcelStore
from ..security import Principal


def check(current: str, target: str) -> None:
    if target not in ALLOWED and target != "withdrawn":
        raise LandfundError(f"unknown status {target!r}")
    if target not in ALLOWED.get(current, []):
        allowed = ", ".join(ALLOWED.get(current, [])) or "none: it is final"
        raise Conflict(f"a parcel cannot go from {current} to {target}; from {current} it may go to: {allowed}")


def transition(conn, parcel_id: int, target: str, principal: Principal, reason: str, current: str,
               decision_no: str | None = None, decision_date: date | None = None,
               investor_interest_id: int | None = None) -> None:
    """Move one parcel to `target` inside the caller's transaction (the row is already locked); assigning
    links the investor in the same change, so history shows one entry."""
    check(current, target)
    if not reason or not reason.strip():
        raise LandfundError("reason: say why the parcel changes status")
    HistoryStore(conn).set_actor(principal.name, reason.strip())
    ParcelStore(conn).set_status(parcel_id, target, decision_no, decision_date, investor_interest_id)
