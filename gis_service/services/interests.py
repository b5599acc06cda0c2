"""Investors' expressions of interest: submitted on parcels open for investment, listed, accepted or declined
by planners. Accepting can assign the parcel to the investor. Investors only ever see their own."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..core.errors import Conflict, Forbidden, LandfundError, NotFound
from ..security import Principal, scope_unit
from ..stores.decisions import DecisionStore
from ..stores.history import HistoryStore
from ..stores.interests import InterestStore
from ..stores.parcels import ParcelStore, scope_sql
from . import lifecycle


class Submission(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    parcel_id: int = Field(gt=0)
    company: str = Field(min_length=2, max_length=255)
    tax_code: str = Field(description="Mã số thuế: 10 digits, or 13 as 10-3 for a branch.")
    contact_name: str = Field(min_length=2, max_length=255)
    contact_email: str | None = Field(None, max_length=255)
    contact_phone: str | None = Field(None, max_length=32)
    proposed_units: int = Field(gt=0, le=100_000)
    message: str | None = Field(None, max_length=4000)

    @field_validator("tax_code")
    @classmethod
    def _tax_code(cls, v: str) -> str:
        v = v.replace(" ", "")
        if not re.fullmatch(r"\d{10}(-\d{3})?", v):
            raise ValueError("a Vietnamese tax code (mã số thuế) has 10 digits, or 10-3 for a branch")
        return v

    @field_validator("contact_email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", v):
            raise ValueError("not an e-mail address")
        return v or None

    @field_validator("contact_phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        if v and not re.fullmatch(r"\+?[0-9 ().-]{8,20}", v):
            raise ValueError("not a phone number")
        return v or None


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=3, max_length=4000)
    assign: bool = True
    # accepting with `assign` selects the investor: the decision and how it was selected (layers/workflow.yaml)
    decision_no: str | None = Field(None, max_length=64)
    decision_date: date | None = None
    selection_method: Literal["bidding", "assignment", "project_board", "commercial_developer"] | None = None


def submit(conn, principal: Principal, sub: Submission, call_stage: str) -> dict:
    """File an investor's interest in a parcel in the workflow's call stage (`call_stage`)."""
    if principal.role != "investor":
        raise Forbidden("only investors submit expressions of interest")
    interests = InterestStore(conn)
    assert principal.user_id is not None  # an investor is a user
    with conn.transaction():
        parcel = ParcelStore(conn).for_interest(sub.parcel_id)
        if parcel is None:
            raise NotFound(f"no parcel {sub.parcel_id}")
        if parcel[0] != call_stage:
            raise Conflict(f"parcel {sub.parcel_id} is not open for investment (it is {parcel[0]})")
        earlier = interests.open_by(sub.parcel_id, principal.user_id)
        if earlier is not None:
            raise Conflict(
                f"you have already expressed interest in parcel {sub.parcel_id} (no. {earlier[0]}, "
                f"{earlier[1]:%d/%m/%Y}); it is being considered"
            )
        return interests.insert(sub.parcel_id, parcel[1], principal.user_id, sub.model_dump())


def _investor(principal: Principal) -> int | None:
    """Whose interests the caller may see: an investor's own (their id); planners and admins all (None)."""
    if principal.role == "investor":
        return principal.user_id
    if principal.privileged:
        return None
    raise Forbidden("sign in as an investor or a planner to see expressions of interest")


def list_interests(conn, principal: Principal, parcel_id: int | None = None, status: str | None = None) -> list[dict]:
    return InterestStore(conn).list(_investor(principal), parcel_id, status)


def get(conn, principal: Principal, interest_id: int) -> dict:
    row = InterestStore(conn).get(interest_id, _investor(principal))
    if row is None:  # someone else's submission does not exist for an investor
        raise NotFound(f"no expression of interest {interest_id}")
    return row


def decide(
    conn, principal: Principal, interest_id: int, accept: bool, decision: Decision, catalogue, tolerance_m2: float
) -> dict:
    province, workflow = catalogue.province.code, catalogue.workflow
    if not principal.privileged:
        raise Forbidden("only planners and admins accept or decline expressions of interest")
    interests = InterestStore(conn)
    with conn.transaction():
        unit = scope_unit(principal, province)
        scope = {"scope_unit": unit, "scope_tolerance": tolerance_m2} if unit else {}
        row = interests.for_decision(interest_id, scope_sql("p.geom") if unit else "TRUE", scope)
        if row is None:
            raise NotFound(f"no expression of interest {interest_id}")
        status, parcel_id, parcel_status, in_scope, company = row
        if not in_scope:
            raise Forbidden(f"the parcel lies outside your administrative unit {principal.admin_unit_code}")
        if status != "submitted":
            raise Conflict(f"expression of interest {interest_id} was already {status}")
        if accept:
            other = interests.accepted_for(parcel_id)
            if other is not None:
                raise Conflict(
                    f"parcel {parcel_id} already has an accepted investor ({other[1]}, no. {other[0]}); "
                    "only one interest per parcel can be accepted"
                )
        HistoryStore(conn).set_actor(principal.name, decision.reason)
        interests.decide(interest_id, "accepted" if accept else "declined", principal.name, decision.reason)
        if accept and decision.assign:
            lifecycle.transition(
                conn,
                workflow,
                parcel_id,
                workflow.roles.investor,
                principal,
                f"investor selected, {company}: {decision.reason}",
                parcel_status,
                decision.decision_no,
                decision.decision_date,
                investor_interest_id=interest_id,
                facts=lifecycle.Facts(investor_name=company, selection_method=decision.selection_method),
            )
            DecisionStore(conn).add(
                parcel_id,
                workflow.roles.investor,
                decision.decision_no,
                decision.decision_date,
                None,
                None,
                principal.name,
            )
            interests.decline_others(parcel_id, interest_id, principal.name)
        decided = interests.get(interest_id, None)
        assert decided is not None
        return decided


def validation_message(exc) -> str:
    """A pydantic ValidationError as one line per field."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())


__all__ = ["Decision", "LandfundError", "Submission", "decide", "get", "list_interests", "submit"]
