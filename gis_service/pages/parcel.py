"""One parcel in the browser: its map (with earlier boundaries), every field its viewer may see, its stage and how
long it has sat there, its history as a timeline with the decisions and their documents, investors' interests (for
planners), and the transitions its stage allows, each asking for what the target stage requires."""

from __future__ import annotations

from datetime import date, datetime

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile  # what a parsed form holds (FastAPI's UploadFile subclasses it)

from ..api.deps import CurrentPrincipal, Planner, form_of, reading, writing
from ..api.errors import Problem
from ..core.errors import LandfundError, NotFound, PreconditionFailed, PreconditionRequired
from ..crs import ApiCRS
from ..i18n import value_labels
from ..query.items import Selection, item_select
from ..security import Principal, scope_unit, visible_fields, visible_rows
from ..services import edits, history, lifecycle
from ..services.interests import list_interests
from ..stores.admin_units import AdminUnitStore
from ..stores.decisions import DecisionStore
from ..stores.features import FeatureStore
from ..stores.history import HistoryStore
from ..stores.parcels import ParcelStore
from ..stores.provinces import ProvinceStore
from ..stores.writes import WriteStore
from ..validation.fields import coerce_value
from .common import load_units, present, see_other
from .listing import flash_of, parcels_layer, parcels_sql
from .messages import translated
from .render import Words, lang_of, page

router = APIRouter(include_in_schema=False, tags=["pages"])
WGS84 = ApiCRS("http://www.opengis.net/def/crs/OGC/1.3/CRS84", 4326, False, 7, True)
PREVIOUS_TOLERANCE_DEG = 5e-7  # earlier boundaries drawn simplified (about 5 cm)


def parcel_data(conn, request: Request, fid: int, who: Principal) -> dict:
    """Everything a parcel's page (and its edit form) shows, as its viewer may see it; NotFound when the viewer may
    not see the parcel at all."""
    st = request.app.state
    ls = parcels_sql(request)
    sel = Selection(where=visible_rows(who, ls), properties=visible_fields(who, ls))
    row = FeatureStore(conn).first(item_select(ls, fid, sel, WGS84))
    if row is None:
        raise NotFound(f"no parcel {fid}")
    since = ParcelStore(conn).stage_since(fid)
    if isinstance(since, datetime):
        since = since.date()
    out = {
        "id": fid,
        "feature": orjson.loads(row[0]),
        "etag": row[1],
        "since": since,
        "days": (date.today() - since).days if since else None,
        "history": history.entries(conn, st.catalogue, fid, who),
        "decisions": {},
        "interests": [],
        "previous": [
            {"geometry": orjson.loads(g), "at": at.date().isoformat()}
            for g, at in HistoryStore(conn).previous_geometries(fid, PREVIOUS_TOLERANCE_DEG)
        ],
        "in_scope": False,
        # the certificate's figure: area on the province's VN-2000 grid, beside the ellipsoidal area_m2
        "cadastral_crs": (province := ProvinceStore(conn).of_parcel(st.catalogue, fid)).cadastral_crs,
        "grid_area_m2": ParcelStore(conn).grid_area(fid, province.cadastral_srid),
        # the unit (and "inside the province") come from a schematic boundary: the page says so
        "schematic_unit": ParcelStore(conn).schematic_unit(fid),
    }
    former = out["feature"]["properties"].get("former_commune_code")
    out["former_name"] = AdminUnitStore(conn).former_name(former) if former else None
    if who.privileged:
        unit = scope_unit(who, st.catalogue.province.code)
        scope = {"scope_unit": unit, "scope_tolerance": st.settings.scope_tolerance_m2} if unit else None
        current = WriteStore(conn).current(parcels_layer(request), fid, published_only=False, scope=scope, lock=False)
        out["in_scope"] = bool(current and current[1])
        for hid, stage, number, decided_on, body, doc_id, filename, media, size, sha in DecisionStore(conn).of_parcel(
            fid
        ):
            out["decisions"][hid] = {
                "stage": stage,
                "number": number,
                "date": decided_on,
                "body": body,
                "document": {"id": doc_id, "filename": filename, "media": media, "bytes": size, "sha256": sha}
                if doc_id
                else None,
            }
        out["interests"] = list_interests(conn, who, fid)
    return out


def render_parcel(
    request: Request,
    who: Principal,
    data: dict,
    units: dict,
    lang: str,
    errors: dict | None = None,
    status: int = 200,
    sent: dict | None = None,
) -> Response:
    catalogue = request.app.state.catalogue
    layer = parcels_layer(request)
    t = Words(lang)
    values = value_labels(layer, catalogue, lang)
    props = data["feature"]["properties"]
    names = {a.name for a in layer.attributes}
    facts = []
    for k, v in props.items():
        if k not in names:
            continue
        shown = present(layer, k, v, lang, values, units)
        if k == "former_commune_code" and data["former_name"]:  # the commune planners still say
            shown = f"{v} – {data['former_name']}"
        facts.append((layer.attribute(k).title(lang), shown))
        if k == "area_m2" and data["grid_area_m2"] is not None:
            facts.append(
                (
                    t("grid_area", crs=data["cadastral_crs"]),
                    present(layer, k, data["grid_area_m2"], lang, values, units),
                )
            )
    workflow = catalogue.workflow
    current = props.get("status")
    transitions = []
    if who.privileged and data["in_scope"]:
        for target in workflow.allowed(current, props.get("fund_source")):
            stage = workflow.stages[target]
            transitions.append(
                {
                    "id": target,
                    "label": stage.label(lang),
                    "hint": stage.hint(lang) if stage.hint else None,
                    "requires": list(stage.requires),
                    "color": stage.color,
                    "fields": _requirement_fields(layer, stage.requires, values, lang, props),
                }
            )
    timeline = []
    for entry in data["history"]:
        at = datetime.fromisoformat(entry["at"])
        changes = [
            (
                layer.attribute(k).title(lang) if k in names else k,
                present(layer, k, old, lang, values, units),
                present(layer, k, new, lang, values, units),
            )
            for k, (old, new) in entry["changes"].items()
            if k != "province_code"
        ]
        timeline.append(
            {
                **entry,
                "at_shown": at.strftime("%d/%m/%Y %H:%M" if lang == "vi" else "%Y-%m-%d %H:%M"),
                "changes_shown": changes,
                "decision": data["decisions"].get(entry["id"]),
                "label": t(f"action_{entry['action']}"),
                "old_label": workflow.label(entry["old_status"], lang),
                "new_label": workflow.label(entry["new_status"], lang),
            }
        )
    timeline.reverse()  # newest first
    stage = workflow.stages.get(current)
    island = {
        "parcel": data["feature"],
        "previous": data["previous"],
        "lang": lang,
        "labels": {"previous": t("previous_geometries"), "parcel": props.get("code") or ""},
    }
    interests = [{**i, "status_label": t(f"interest_{i['status']}")} for i in data["interests"]]
    return page(
        request,
        who,
        "parcel.html",
        status=status,
        active="list",
        fid=data["id"],
        props=props,
        facts=facts,
        stage_label=stage.label(lang) if stage else current,
        stage_color=stage.color if stage else "#999999",
        since=data["since"],
        days=data["days"],
        timeline=timeline,
        interests=interests,
        transitions=transitions,
        schematic_unit=data["schematic_unit"],
        clearance_shown=values.get("clearance_status", {}).get(
            props.get("clearance_status"), props.get("clearance_status")
        ),
        can_edit=who.privileged and data["in_scope"],
        etag=data["etag"],
        island=island,
        errors=errors or {},
        sent=sent or {},
        flash=flash_of(request, lang),
    )


@router.get("/parcels/{fid:int}")
async def parcel_page(request: Request, fid: int, who: CurrentPrincipal):
    units = await load_units(request)
    data = await reading(request, lambda conn: parcel_data(conn, request, fid, who))
    return render_parcel(request, who, data, units, lang_of(request))


@router.get("/documents/{doc_id:int}")
async def document(request: Request, doc_id: int, who: Planner):
    row = await reading(request, lambda conn: DecisionStore(conn).document(doc_id))
    if row is None:
        raise Problem(404, f"no document {doc_id}")
    _, filename, media, content, sha = row
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    return Response(
        bytes(content),
        media_type=media,
        headers={
            "Content-Disposition": f'inline; filename="{ascii_name}"',
            "Repr-Digest": f"sha-256=:{_b64(sha)}:",
            "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self'; object-src 'self'",
            "Cache-Control": "private, max-age=3600",
        },
    )


def _b64(hexdigest: str) -> str:
    import base64

    return base64.b64encode(bytes.fromhex(hexdigest)).decode()


@router.post("/parcels/{fid:int}/transition")
async def transition(request: Request, fid: int, who: Planner):
    """Move the parcel to the chosen stage; a problem is shown beside the form and nothing is written."""
    form = await form_of(request)
    lang = lang_of(request)
    t = Words(lang)
    sent = {k: str(v) for k, v in form.items() if isinstance(v, str) and k != "csrf"}
    errors: dict[str, str] = {}
    doc = None
    upload = form.get("document")
    if isinstance(upload, UploadFile) and upload.filename:
        try:
            doc = edits.Upload.of(upload.filename, await upload.read())
        except LandfundError as exc:
            errors["document"] = translated(str(exc), lang)
    decided_on = None
    if sent.get("decision_date"):
        try:
            decided_on = date.fromisoformat(sent["decision_date"])
        except ValueError:
            errors["decision_date"] = t("bad_date")
    facts = _facts(request, sent, errors, lang)
    if not errors:
        st = request.app.state
        try:
            await writing(
                request,
                lambda conn: edits.transition(
                    conn,
                    st.catalogue,
                    st.settings,
                    fid,
                    sent.get("to", ""),
                    who,
                    sent.get("etag", ""),
                    sent.get("reason", ""),
                    sent.get("decision_no", "").strip() or None,
                    decided_on,
                    sent.get("issuing_body", "").strip() or None,
                    doc,
                    facts,
                ),
            )
            return see_other(f"/parcels/{fid}?done=moved")
        except (PreconditionFailed, PreconditionRequired):
            errors["transition"] = t("stale_short")
        except LandfundError as exc:
            errors[_field_of(str(exc))] = translated(str(exc), lang)
    units = await load_units(request)
    data = await reading(request, lambda conn: parcel_data(conn, request, fid, who))
    return render_parcel(request, who, data, units, lang, errors, status=400, sent=sent)


# What a stage's requirement asks for on the form (layers/workflow.yaml `requires`), by parcel attribute.
REQUIREMENT_FIELDS = {
    "plan": ("approved_units", "approved_floor_m2"),
    "investor": ("investor_name", "selection_method"),
    "tenure": ("tenure",),
    "payment": ("reserve_payment_vnd",),
    "elsewhere": ("reserve_replaced_by",),
}
FACT_FIELDS = tuple(f for fields in REQUIREMENT_FIELDS.values() for f in fields)


def _requirement_fields(layer, requires, values: dict, lang: str, props: dict) -> list[dict]:
    """The inputs a transition's form shows for what the target stage requires (labels from the catalogue)."""
    out = []
    for req in requires:
        for name in REQUIREMENT_FIELDS.get(req, ()):
            a = layer.attribute(name)
            out.append(
                {
                    "name": name,
                    "label": a.title(lang),
                    "kind": "select" if a.values else ("number" if a.type in ("integer", "number") else "text"),
                    "step": "1" if a.type == "integer" else "any",
                    "options": [
                        (k, label)
                        for k, label in values.get(name, {}).items()
                        # a 20 % reserve's investor is its commercial project's developer, and only its
                        if name != "selection_method"
                        or (k == lifecycle.RESERVE_METHOD) == (props.get("fund_source") == lifecycle.RESERVE)
                    ],
                    "value": props.get(name),
                }
            )
    return out


def _facts(request: Request, sent: dict, errors: dict, lang: str) -> lifecycle.Facts:
    """The stage's facts from the form, each read by the one validator's rules for its attribute (so "12.000,5" is
    a Vietnamese number); a value it refuses is reported beside its field."""
    catalogue = request.app.state.catalogue
    layer = parcels_layer(request)
    got: dict = {}
    for name in FACT_FIELDS:
        raw = (sent.get(name) or "").strip()
        if not raw:
            continue
        value, problem = coerce_value(layer.attribute(name), catalogue, raw)
        if problem:
            errors[name] = translated(problem, lang)
        else:
            got[name] = value
    return lifecycle.Facts(**got)


def _field_of(message: str) -> str:
    """Which field a lifecycle error is about (it names it), so the page shows it there."""
    for name in ("decision_date", "decision_no", "issuing_body", "document", "reason", *FACT_FIELDS):
        if name.replace("_", " ") in message or name in message:
            return name
    return "transition"
