"""Investors' interest in the browser: the inbox (planners see the interests on parcels in their unit and accept
or decline each with a reason; investors see their own and where each stands) and the form an investor fills in
on a parcel open for investment."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import ValidationError

from ..api.deps import CurrentPrincipal, Investor, SignedIn, form_of, reading, writing
from ..core.errors import Forbidden, LandfundError, NotFound
from ..security import Principal, scope_unit
from ..services import interests as wf
from ..stores.interests import InterestStore
from ..stores.parcels import ParcelStore
from .common import load_units, see_other
from .listing import flash_of
from .messages import translated
from .render import Words, lang_of, page

router = APIRouter(include_in_schema=False, tags=["pages"])
STATUSES = ("submitted", "accepted", "declined")
SUBMISSION_FIELDS = tuple(f for f in wf.Submission.model_fields if f != "parcel_id")  # the form's inputs


def _inbox_rows(conn, request: Request, who: Principal, status: str | None) -> list[dict]:
    if who.privileged:
        unit = scope_unit(who, request.app.state.catalogue.province.code)
        return InterestStore(conn).list(None, None, status, unit=unit)
    if who.role == "investor":
        return wf.list_interests(conn, who, None, status)
    raise Forbidden("sign in as an investor or a planner to see expressions of interest")


@router.get("/inbox")
async def inbox(request: Request, who: SignedIn):
    await load_units(request)
    lang = lang_of(request)
    t = Words(lang)
    status = request.query_params.get("status") or None
    if status not in (None, *STATUSES):
        status = None
    rows = await reading(request, lambda conn: _inbox_rows(conn, request, who, status))
    for r in rows:
        r["status_label"] = t(f"interest_{r['status']}")
    return _page(request, who, rows, status)


def _page(
    request: Request,
    who: Principal,
    rows: list[dict],
    status: str | None,
    errors: dict | None = None,
    code: int = 200,
    sent: dict | None = None,
):
    lang = lang_of(request)
    return page(
        request,
        who,
        "inbox.html",
        status=code,
        active="inbox",
        rows=rows,
        status_filter=status or "",
        statuses=STATUSES,
        methods=[
            (k, v.label(lang))
            for k, v in (
                request.app.state.catalogue.layer("parcels").attribute("selection_method").values or {}
            ).items()
        ],
        errors=errors or {},
        sent=sent or {},
        flash=flash_of(request, lang),
    )


@router.post("/inbox/{interest_id:int}")
async def decide(request: Request, interest_id: int, who: SignedIn):
    """Accept or decline one interest; accepting assigns the parcel when asked (as the API's decide does)."""
    form = await form_of(request)
    lang = lang_of(request)
    sent = {k: str(v) for k, v in form.items() if isinstance(v, str) and k != "csrf"}
    st = request.app.state
    try:
        decision = wf.Decision.model_validate(
            {
                "reason": sent.get("reason", ""),
                "assign": sent.get("assign") == "on",
                "decision_no": sent.get("decision_no") or None,
                "decision_date": sent.get("decision_date") or None,
                "selection_method": sent.get("selection_method") or None,
            }
        )
        accept = sent.get("action") == "accept"
        await writing(
            request,
            lambda conn: wf.decide(
                conn, who, interest_id, accept, decision, st.catalogue, st.settings.scope_tolerance_m2
            ),
        )
        return see_other("/inbox?done=decided")
    except ValidationError as exc:
        message = (
            Words(lang)("reason_needed")
            if any(e["loc"][0] == "reason" for e in exc.errors())
            else wf.validation_message(exc)
        )
    except LandfundError as exc:
        message = translated(str(exc), lang)
    rows = await reading(request, lambda conn: _inbox_rows(conn, request, who, None))
    t = Words(lang)
    for r in rows:
        r["status_label"] = t(f"interest_{r['status']}")
    return _page(request, who, rows, None, {interest_id: message}, 400, sent)


# -- the investor's form -----------------------------------------------------------------------------------------


async def _parcel(request: Request, parcel: int):
    row = await reading(request, lambda conn: ParcelStore(conn).public_summary(parcel))
    if row is None:
        raise NotFound(f"no parcel {parcel}")
    return row


def _interest_form(
    request: Request,
    who: Principal,
    parcel: int,
    row,
    errors: dict | None = None,
    values: dict | None = None,
    status: int = 200,
):
    return page(
        request,
        who,
        "interest_form.html",
        status=status,
        active="inbox",
        parcel_id=parcel,
        code=row[0],
        name=row[1],
        open=row[2] == request.app.state.catalogue.workflow.roles.call,
        errors=errors or {},
        values=values or {},
        fields=SUBMISSION_FIELDS,
    )


@router.get("/interests/new")
async def interest_form(request: Request, who: CurrentPrincipal, parcel: int):
    """The form an investor fills in; anyone may read it, only a signed-in investor sends it."""
    row = await _parcel(request, parcel)
    return _interest_form(request, who, parcel, row)


@router.post("/interests/new")
async def submit_interest(request: Request, who: Investor, parcel: int):
    row = await _parcel(request, parcel)
    form = await form_of(request)
    lang = lang_of(request)
    values = {k: str(form.get(k) or "").strip() for k in SUBMISSION_FIELDS}
    data = {k: v for k, v in values.items() if v}
    try:
        sub = wf.Submission.model_validate({"parcel_id": parcel, **data})
    except ValidationError as exc:
        errors = {}
        for e in exc.errors():
            name = str(e["loc"][0]) if e["loc"] else "form"
            errors[name] = Words(lang)(f"bad_{name}") if f"bad_{name}" in _known() else e["msg"]
        return _interest_form(request, who, parcel, row, errors, values, 400)
    call = request.app.state.catalogue.workflow.roles.call
    try:
        await writing(request, lambda conn: wf.submit(conn, who, sub, call))
    except LandfundError as exc:
        return _interest_form(request, who, parcel, row, {"form": translated(str(exc), lang)}, values, 409)
    return see_other("/inbox?done=sent")


def _known() -> set[str]:
    from .render import words

    return set(words())
