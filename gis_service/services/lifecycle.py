"""The parcel lifecycle, as layers/workflow.yaml defines it: each stage leads to the next ones it names, and to
withdrawal before a final stage. Nothing skips a stage; each transition records who, when, why and the
decision (the history trigger writes it), and gives what entering the stage requires."""

from __future__ import annotations

from datetime import date

from ..core.errors import Conflict, LandfundError
from ..core.vocabulary import Workflow
from ..security import Principal
from ..stores.history import HistoryStore
from ..stores.parcels import ParcelStore


def check(
    workflow: Workflow, current: str, target: str, *, decision_no: str | None = None, decision_date: date | None = None
) -> None:
    if target not in workflow.stages:
        raise LandfundError(f"unknown status {target!r}; the stages are: {', '.join(workflow.stages)}")
    allowed = workflow.allowed(current)
    if target not in allowed:
        raise Conflict(
            f"a parcel cannot go from {current} to {target}; from {current} it may go to: "
            f"{', '.join(allowed) or 'none: it is final'}"
        )
    if "decision" in workflow.stages[target].requires and not (decision_no and decision_date):
        raise LandfundError(f"entering {target} needs the decision: its number (decision_no) and date (decision_date)")


def transition(
    conn,
    workflow: Workflow,
    parcel_id: int,
    target: str,
    principal: Principal,
    reason: str,
    current: str,
    decision_no: str | None = None,
    decision_date: date | None = None,
    investor_interest_id: int | None = None,
) -> None:
    """Move one parcel to `target` inside the caller's transaction (the row is already locked); assigning
    links the investor in the same change, so history shows one entry."""
    check(workflow, current, target, decision_no=decision_no, decision_date=decision_date)
    if not reason or not reason.strip():
        raise LandfundError("reason: say why the parcel changes status")
    HistoryStore(conn).set_actor(principal.name, reason.strip())
    ParcelStore(conn).set_status(parcel_id, target, decision_no, decision_date, investor_interest_id)
