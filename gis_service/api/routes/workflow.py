"""Workflows: parcel status transitions and history, investors' expressions of interest."""

from __future__ import annotations

from datetime import date
from typing import Literal

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ...services import edits, history, lifecycle
from ...services import interests as wf
from ..deps import CurrentPrincipal, Investor, Planner, SignedIn, reading, writing
from ..errors import Problem
from ..render import json_response, url
from .items import _feature_id, etag

router = APIRouter(tags=["Workflows"])


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    to: str = Field(description="The next status.")
    reason: str = Field(min_length=3, max_length=4000)
    decision_no: str | None = Field(None, max_length=64)
    decision_date: date | None = None
    issuing_body: str | None = Field(None, max_length=255)
    # what the target stage records (layers/workflow.yaml `requires`)
    approved_units: int | None = Field(None, ge=1, le=100000, description="Units in the approved 1/500 plan.")
    approved_floor_m2: float | None = Field(None, gt=0, description="Housing floor area in the approved plan, m².")
    investor_name: str | None = Field(None, max_length=255)
    selection_method: Literal["bidding", "assignment", "project_board", "commercial_developer"] | None = None
    tenure: Literal["sale", "rent", "lease_purchase", "mixed"] | None = None
    reserve_payment_vnd: int | None = Field(None, gt=0, description="Paid instead of the 20 % reserve, VND.")
    reserve_replaced_by: str | None = Field(None, max_length=64, description="The parcel that replaces the reserve.")

    def facts(self) -> lifecycle.Facts:
        return lifecycle.Facts(**{f: getattr(self, f) for f in lifecycle.Facts.__dataclass_fields__})


async def _json(request: Request, model):
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise Problem(415, f"send application/json, not {ctype or 'no content type'}")
    raw = await request.body()
    if len(raw) > 100_000:
        raise Problem(413, "the body is larger than 100,000 bytes")
    try:
        return model.model_validate(orjson.loads(raw))
    except orjson.JSONDecodeError as exc:
        raise Problem(400, f"the body is not valid JSON: {exc}") from None
    except ValidationError as exc:
        raise Problem(400, wf.validation_message(exc)) from None


@router.post(
    "/collections/parcels/items/{featureId}/transitions",
    status_code=204,
    summary="Move a parcel to its next status (with the reason and the decision); needs If-Match",
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": TransitionIn.model_json_schema()}}}
    },
)
async def post_transition(request: Request, featureId: str, who: Planner):
    fid = _feature_id(featureId)
    body = await _json(request, TransitionIn)
    st = request.app.state
    done = await writing(
        request,
        lambda conn: edits.transition(
            conn,
            st.catalogue,
            st.settings,
            fid,
            body.to,
            who,
            request.headers.get("if-match"),
            body.reason,
            body.decision_no,
            body.decision_date,
            body.issuing_body,
            facts=body.facts(),
        ),
    )
    return Response(status_code=204, headers={"ETag": etag(done.etag)})


@router.get("/collections/parcels/items/{featureId}/history", summary="Every change to a parcel, oldest first")
async def get_history(request: Request, featureId: str, who: CurrentPrincipal):
    fid = _feature_id(featureId)
    entries = await reading(request, lambda conn: history.entries(conn, request.app.state.catalogue, fid, who))
    return json_response(
        {
            "parcel_id": fid,
            "entries": entries,
            "links": [
                {
                    "href": url(request, f"/collections/parcels/items/{fid}"),
                    "rel": "collection",
                    "type": "application/geo+json",
                }
            ],
        }
    )


# -- investors' expressions of interest -------------------------------------------------------------------------


@router.post(
    "/interests",
    status_code=201,
    summary="Express interest in a parcel open for investment (investors)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": wf.Submission.model_json_schema()}},
        }
    },
)
async def post_interest(request: Request, who: Investor):
    sub = await _json(request, wf.Submission)
    call = request.app.state.catalogue.workflow.roles.call
    row = await writing(request, lambda conn: wf.submit(conn, who, sub, call))
    return json_response(row, status=201, headers={"Location": url(request, f"/interests/{row['id']}")})


@router.get("/interests", summary="Expressions of interest: an investor's own, or all for planners")
async def get_interests(
    request: Request,
    who: SignedIn,
    parcel: int | None = Query(None),
    status: Literal["submitted", "accepted", "declined"] | None = None,
):
    rows = await reading(request, lambda conn: wf.list_interests(conn, who, parcel, status))
    return json_response({"interests": rows, "count": len(rows)})


@router.get("/interests/{interest_id}", summary="One expression of interest")
async def get_interest(request: Request, interest_id: int, who: SignedIn):
    return json_response(await reading(request, lambda conn: wf.get(conn, who, interest_id)))


async def _decide(request: Request, interest_id: int, who, accept: bool):
    decision = await _json(request, wf.Decision)
    st = request.app.state
    return json_response(
        await writing(
            request,
            lambda conn: wf.decide(
                conn, who, interest_id, accept, decision, st.catalogue, st.settings.scope_tolerance_m2
            ),
        )
    )


@router.post(
    "/interests/{interest_id}/accept",
    summary="Accept (and by default assign the parcel)",
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": wf.Decision.model_json_schema()}}}
    },
)
async def accept_interest(request: Request, interest_id: int, who: Planner):
    return await _decide(request, interest_id, who, True)


@router.post(
    "/interests/{interest_id}/decline",
    summary="Decline, with a reason",
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": wf.Decision.model_json_schema()}}}
    },
)
async def decline_interest(request: Request, interest_id: int, who: Planner):
    return await _decide(request, interest_id, who, False)
