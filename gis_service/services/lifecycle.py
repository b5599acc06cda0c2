"""The parcel lifecycle, as layers/workflow.yaml defines it: each stage leads to the next ones it names (or those of
its fund source's own path), and to withdrawal before a final stage. Nothing skips a stage; each transition records
who, when, why and the decision (the history trigger writes it), and gives what entering the stage requires: the
approved plan's units and floor area, the investor and how it was chosen, a cleared site, the tenure, the payment
or the replacement of a 20 % reserve. What a gate is missing is said by name, and nothing is written."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from ..core.errors import Conflict, LandfundError
from ..core.vocabulary import Workflow
from ..security import Principal
from ..stores.history import HistoryStore
from ..stores.parcels import ParcelStore

METHODS = ("bidding", "assignment", "project_board", "commercial_developer")
TENURES = ("sale", "rent", "lease_purchase", "mixed")
RESERVE = "commercial_reserve"  # the fund source whose parcels follow the 20 % reserve's own path
RESERVE_METHOD = "commercial_developer"  # how a 20 % reserve's investor is chosen: the commercial project's developer


@dataclass(frozen=True)
class Facts:
    """What a transition may bring besides its reason and decision (each written to the parcel with the status)."""

    approved_units: int | None = None
    approved_floor_m2: float | None = None
    investor_name: str | None = None
    selection_method: str | None = None
    tenure: str | None = None
    reserve_payment_vnd: int | None = None
    reserve_replaced_by: str | None = None

    def given(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None and v != ""}


@dataclass(frozen=True)
class Parcel:
    """What the gates read of the parcel as it stands (the row is locked by the caller)."""

    status: str
    fund_source: str
    clearance_status: str
    clearance_households: int | None
    clearance_cost_vnd: int | None
    code: str


def check(
    workflow: Workflow,
    parcel: Parcel,
    target: str,
    *,
    decision_no: str | None = None,
    decision_date: date | None = None,
    facts: Facts = Facts(),
    replacement_exists: bool | None = None,
) -> None:
    current = parcel.status
    if target not in workflow.stages:
        raise LandfundError(f"unknown status {target!r}; the stages are: {', '.join(workflow.stages)}")
    allowed = workflow.allowed(current, parcel.fund_source)
    if target not in allowed:
        raise Conflict(
            f"a parcel cannot go from {current} to {target}; from {current} it may go to: "
            f"{', '.join(allowed) or 'none: it is final'}"
        )
    needs = workflow.stages[target].requires
    if "decision" in needs and not (decision_no and decision_date):
        raise LandfundError(f"entering {target} needs the decision: its number (decision_no) and date (decision_date)")
    if "plan" in needs and not (facts.approved_units and facts.approved_floor_m2):
        raise LandfundError(
            f"entering {target} needs the approved plan's number of units (approved_units) and housing floor area "
            "(approved_floor_m2)"
        )
    if facts.approved_units is not None and facts.approved_units < 1:
        raise LandfundError("approved_units: at least 1 dwelling")
    if facts.approved_floor_m2 is not None and facts.approved_floor_m2 <= 0:
        raise LandfundError("approved_floor_m2: a floor area greater than 0 m²")
    if "investor" in needs and not (facts.investor_name and facts.selection_method):
        raise LandfundError(
            f"entering {target} needs the investor (investor_name) and how it was selected (selection_method: "
            f"{', '.join(METHODS)})"
        )
    if facts.selection_method is not None:
        if facts.selection_method not in METHODS:
            raise LandfundError(f"selection_method: one of {', '.join(METHODS)}, not {facts.selection_method!r}")
        if (facts.selection_method == RESERVE_METHOD) != (parcel.fund_source == RESERVE):
            raise LandfundError(
                "selection_method: commercial_developer is how a 20 % reserve's investor is chosen (the commercial "
                "project's own developer), and only for it"
                if parcel.fund_source == RESERVE
                else "selection_method: commercial_developer applies only to a 20 % reserve in a commercial project"
            )
    if "cleared" in needs:
        missing = [
            name
            for name, ok in (
                ("clearance_status cleared", parcel.clearance_status == "cleared"),
                ("clearance_households", parcel.clearance_households is not None),
                ("clearance_cost_vnd", parcel.clearance_cost_vnd is not None),
            )
            if not ok
        ]
        if missing:
            raise Conflict(
                f"land is allocated or leased only once site clearance is complete; {parcel.code} still needs: "
                f"{', '.join(missing)} (clearance is {parcel.clearance_status}; record it by editing the parcel)"
            )
    if "tenure" in needs and not facts.tenure:
        raise LandfundError(f"entering {target} needs the tenure: {', '.join(TENURES)}")
    if facts.tenure is not None and facts.tenure not in TENURES:
        raise LandfundError(f"tenure: one of {', '.join(TENURES)}, not {facts.tenure!r}")
    if "payment" in needs and not (facts.reserve_payment_vnd and facts.reserve_payment_vnd > 0):
        raise LandfundError(f"entering {target} needs the sum paid instead of the reserve (reserve_payment_vnd, VND)")
    if "elsewhere" in needs:
        if not facts.reserve_replaced_by:
            raise LandfundError(
                f"entering {target} needs the code of the parcel that replaces the reserve (reserve_replaced_by)"
            )
        if facts.reserve_replaced_by == parcel.code or replacement_exists is False:
            raise LandfundError(f"reserve_replaced_by: no other parcel {facts.reserve_replaced_by!r} in the land fund")


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
    facts: Facts = Facts(),
) -> None:
    """Move one parcel to `target` inside the caller's transaction (the row is already locked); assigning
    links the investor in the same change, so history shows one entry."""
    store = ParcelStore(conn)
    row = store.gate_facts(parcel_id)
    parcel = Parcel(current, *row)
    replacement = store.code_exists(facts.reserve_replaced_by) if facts.reserve_replaced_by else None
    check(
        workflow,
        parcel,
        target,
        decision_no=decision_no,
        decision_date=decision_date,
        facts=facts,
        replacement_exists=replacement,
    )
    if not reason or not reason.strip():
        raise LandfundError("reason: say why the parcel changes status")
    HistoryStore(conn).set_actor(principal.name, reason.strip())
    store.set_status(parcel_id, target, decision_no, decision_date, investor_interest_id, facts.given())
