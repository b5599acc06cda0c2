"""Investors' expressions of interest: submitted on parcels open for investment, listed, accepted or declined
by planners. Accepting can assign the parcel to the investor. Investors only ever see their own."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..core.errors import Conflict, Forbidden, LandfundError, NotFound
from ..models.history import set_actor
from ..security import Principal, unit_scope_sql
from . import lifecycle

COLUMNS = ("id", "parcel_id", "company", "tax_code", "contact_name", "contact_email", "contact_phone",
           "proposed_units", "message", "status", "decided_by", "decided_at", "decision_reason", "created_at")


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
    decision_no: str | None = Field(None, max_length=64)


def _row(cur_row, cols=COLUMNS) -> dict:
    out = dict(zip(cols, cur_row))
    for k in ("decided_at", "created_at"):
        if out.get(k) is not None:
            out[k] = out[k].isoformat()
    return out


def submit(conn, principal: Principal, sub: Submission) -> dict:
    if principal.role != "investor":
        raise Forbidden("only investors submit expressions of interest")
    with conn.transaction():
        parcel = conn.execute("SELECT status, province_code FROM parcels WHERE id = %s AND published FOR SHARE",
                              [sub.parcel_id]).fetchone()
        if parcel is None:
            raise NotFound(f"no parcel {sub.parcel_id}")
        if parcel[0] != "open_for_investment":
            raise Conflict(f"parcel {sub.parcel_id} is not open for investment (it is {parcel[0]})")
        earlier = conn.execute("SELECT id, created_at FROM interests WHERE parcel_id = %s AND investor_id = %s "
                               "AND status = 'submitted'", [sub.parcel_id, principal.user_id]).fetchone()
        if earlier is not None:
            raise Conflict(f"you have already expressed interest in parcel {sub.parcel_id} (no. {earlier[0]}, "
                           f"{earlier[1]:%d/%m/%Y}); it is being considered")
        row = conn.execute(
            f"""INSERT INTO interests (parcel_id, province_code, investor_id, company, tax_code, contact_name,
                                       contact_email, contact_phone, proposed_units, message)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING {', '.join(COLUMNS)}""",
            [sub.parcel_id, parcel[1], principal.user_id, sub.company, sub.tax_code, sub.contact_name, sub.contact_email,
             sub.contact_phone, sub.proposed_units, sub.message]).fetchone()
    return _row(row)


def _visible_clause(principal: Principal) -> tuple[str, list]:
    if principal.role == "investor":
        return "i.investor_id = %s", [principal.user_id]
    if principal.privileged:
        return "TRUE", []
    raise Forbidden("sign in as an investor or a planner to see expressions of interest")


def list_interests(conn, principal: Principal, parcel_id: int | None = None, status: str | None = None) -> list[dict]:
    clause, params = _visible_clause(principal)
    if parcel_id is not None:
        clause += " AND i.parcel_id = %s"
        params.append(parcel_id)
    if status is not None:
        clause += " AND i.status = %s"
        params.append(status)
    cols = ", ".join(f"i.{c}" for c in COLUMNS)
    rows = conn.execute(f"SELECT {cols} FROM interests i WHERE {clause} ORDER BY i.id", params).fetchall()
    return [_row(r) for r in rows]


def get(conn, principal: Principal, interest_id: int) -> dict:
    clause, params = _visible_clause(principal)
    cols = ", ".join(f"i.{c}" for c in COLUMNS)
    row = conn.execute(f"SELECT {cols} FROM interests i WHERE i.id = %s AND {clause}", [interest_id, *params]).fetchone()
    if row is None:  # someone else's submission does not exist for an investor
        raise NotFound(f"no expression of interest {interest_id}")
    return _row(row)


def decide(conn, principal: Principal, interest_id: int, accept: bool, decision: Decision, province: str,
           tolerance_m2: float) -> dict:
    if not principal.privileged:
        raise Forbidden("only planners and admins accept or decline expressions of interest")
    with conn.transaction():
        cond, scope = unit_scope_sql(principal, "p.geom", province, tolerance_m2)
        row = conn.execute(
            f"SELECT i.status, i.parcel_id, p.status, {cond}, i.company FROM interests i JOIN parcels p ON p.id = i.parcel_id "
            "WHERE i.id = %(id)s FOR UPDATE OF i, p", {"id": interest_id, **scope}).fetchone()
        if row is None:
            raise NotFound(f"no expression of interest {interest_id}")
        status, parcel_id, parcel_status, in_scope, company = row
        if not in_scope:
            raise Forbidden(f"the parcel lies outside your administrative unit {principal.admin_unit_code}")
        if status != "submitted":
            raise Conflict(f"expression of interest {interest_id} was already {status}")
        if accept:
            other = conn.execute("SELECT id, company FROM interests WHERE parcel_id = %s AND status = 'accepted'",
                                 [parcel_id]).fetchone()
            if other is not None:
                raise Conflict(f"parcel {parcel_id} already has an accepted investor ({other[1]}, no. {other[0]}); "
                               "only one interest per parcel can be accepted")
        set_actor(conn, principal.name, decision.reason)
        new = "accepted" if accept else "declined"
        conn.execute("UPDATE interests SET status = %s, decided_by = %s, decided_at = now(), decision_reason = %s "
                     "WHERE id = %s", [new, principal.name, decision.reason, interest_id])
        if accept and decision.assign:
            lifecycle.transition(conn, parcel_id, "assigned", principal, f"assigned to {company}: {decision.reason}",
                                 parcel_status, decision.decision_no, investor_interest_id=interest_id)
            conn.execute("UPDATE interests SET status = 'declined', decided_by = %s, decided_at = now(), "
                         "decision_reason = 'the parcel was assigned to another investor' "
                         "WHERE parcel_id = %s AND status = 'submitted' AND id <> %s",
                         [principal.name, parcel_id, interest_id])
        row = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM interests WHERE id = %s", [interest_id]).fetchone()
    return _row(row)


def validation_message(exc) -> str:
    """A pydantic ValidationError as one line per field."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())


__all__ = ["Decision", "LandfundError", "Submission", "decide", "get", "list_interests", "submit"]
