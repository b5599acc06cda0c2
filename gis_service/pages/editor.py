"""Adding and adjusting a parcel in the browser: a form with a map to draw or reshape the boundary (or a file to
upload), saved through the one validator. Problems are shown next to their fields and on the map (the overlapped
parcel outlined); nothing is written until they are fixed; a save over someone else's change says what changed."""

from __future__ import annotations

import json
from typing import Any

import shapely
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import UploadFile  # what a parsed form holds (FastAPI's UploadFile subclasses it)

from ..api.deps import Planner, form_of, reading, writing
from ..core.errors import Forbidden, LandfundError, PreconditionFailed, PreconditionRequired
from ..i18n import value_labels
from ..ingest.shapes import boundary_from_upload
from ..security import Principal, scope_unit
from ..services import edits
from ..stores.admin_units import AdminUnitStore
from ..stores.parcels import ParcelStore
from ..stores.writes import WriteStore
from ..validation import ValidationFailed
from .common import cadastral_zone, load_units, present, province_choices, see_other, units_in_force
from .listing import parcels_layer
from .messages import translated
from .parcel import parcel_data
from .render import Words, lang_of, page

router = APIRouter(include_in_schema=False, tags=["pages"])
NOT_IN_FORM = {"status"}  # the status changes only through a transition
MAX_GEOMETRY_TEXT = 20_000_000  # characters of drawn GeoJSON (the validator then limits the vertices)


def _fields(request: Request, lang: str) -> list[dict]:
    """The form's inputs, from the catalogue: type, choices, limits, help."""
    catalogue = request.app.state.catalogue
    out = []
    for a in parcels_layer(request).input_attributes:
        if a.name in NOT_IN_FORM:
            continue
        options = None
        if a.values:
            options = [(k, v.label(lang)) for k, v in a.values.items()]
        elif a.codelist:
            options = [(k, f"{k} – {v[lang]}") for k, v in catalogue.codes(a.codelist).items()]
        elif a.name == "admin_unit_code":
            options = units_in_force(request, "commune") or units_in_force(request)
        out.append(
            {
                "name": a.name,
                "label": a.title(lang),
                "type": a.type,
                "options": options,
                "required": a.required,
                "max_length": a.max_length,
                "min": a.minimum,
                "max": a.maximum,
                "unit": a.unit,
                "help": a.description(lang) if a.description else None,
            }
        )
    return out


def _as_inputs(props: dict) -> dict[str, str]:
    """Stored values as the form's inputs hold them."""
    out = {}
    for k, v in props.items():
        if isinstance(v, bool):
            out[k] = "true" if v else "false"
        elif isinstance(v, float) and v.is_integer():
            out[k] = str(int(v))
        else:
            out[k] = "" if v is None else str(v)
    return out


def _form(
    request: Request,
    who: Principal,
    *,
    fid: int | None,
    values: dict,
    geometry: dict | None,
    etag: str,
    base: dict,
    errors: dict,
    stale: list | None = None,
    overlaps: list | None = None,
    status: int = 200,
    reason: str = "",
    bounds=None,
    provinces: list | None = None,
    province: str = "",
) -> Response:
    lang = lang_of(request)
    island = {
        "geometry": geometry,
        "overlaps": overlaps or [],
        "lang": lang,
        "bounds": bounds,
        "labels": {"overlap": Words(lang)("overlapping")},
    }
    return page(
        request,
        who,
        "parcel_form.html",
        status=status,
        active="list",
        fid=fid,
        fields=_fields(request, lang),
        values=values,
        etag=etag,
        base_values=json.dumps(base, ensure_ascii=False, default=str),
        errors=errors,
        stale=stale,
        island=island,
        reason=reason,
        geometry_text=json.dumps(geometry) if geometry else "",
        provinces=provinces or [],
        province=province or request.app.state.catalogue.province.code,
    )


@router.get("/parcels/new")
async def new_parcel(request: Request, who: Planner):
    await load_units(request)
    return _form(
        request,
        who,
        fid=None,
        values={"published": "false"},
        geometry=None,
        etag="",
        base={},
        errors={},
        bounds=await _bounds(request, who),
        provinces=await province_choices(request, who),
    )


async def _bounds(request: Request, who: Principal):
    """Where a new parcel's map opens: the planner's unit, else the province."""
    own = request.app.state.catalogue.province.code
    unit = scope_unit(who, own)
    return await reading(request, lambda conn: AdminUnitStore(conn).bounds(unit, own))


@router.get("/parcels/{fid:int}/edit")
async def edit_parcel(request: Request, fid: int, who: Planner):
    await load_units(request)
    data = await reading(request, lambda conn: parcel_data(conn, request, fid, who))
    if not data["in_scope"]:
        raise Forbidden(f"parcel {fid} lies outside your administrative unit {who.admin_unit_code}")
    props = data["feature"]["properties"]
    return _form(
        request,
        who,
        fid=fid,
        values=_as_inputs(props),
        geometry=data["feature"]["geometry"],
        etag=data["etag"],
        base=props,
        errors={},
    )


class Submitted:
    """A submitted form: the feature it describes, what its inputs held, and what it was based on."""

    def __init__(
        self, props: dict, geometry: dict | None, values: dict, etag: str, base: dict, reason: str, moved: bool
    ):
        self.props, self.geometry, self.values, self.etag = props, geometry, values, etag
        self.base, self.reason, self.moved = base, reason, moved

    @property
    def feature(self) -> dict:
        return {"type": "Feature", "properties": self.props, "geometry": self.geometry}


async def _read_form(request: Request, lang: str, cadastral: str) -> tuple[Submitted, dict[str, str]]:
    """The form's fields; a boundary file without a .prj is read in `cadastral` (the parcel's province's zone)."""
    form = await form_of(request)
    values: dict[str, str] = {}
    props: dict[str, Any] = {}
    for a in parcels_layer(request).input_attributes:
        if a.name in NOT_IN_FORM:
            continue
        raw = form.get(a.name)
        text = raw.strip() if isinstance(raw, str) else ""
        if a.type == "boolean":
            text = "true" if text in ("true", "on", "1") else "false"
        values[a.name] = text
        props[a.name] = None if text == "" else (text == "true" if a.type == "boolean" else text)
    errors: dict[str, str] = {}
    geometry = None
    moved = form.get("geometry_changed") == "1"
    upload = form.get("geometry_file")
    if isinstance(upload, UploadFile) and upload.filename:
        content = await upload.read()
        try:
            shape = await run_in_threadpool(boundary_from_upload, upload.filename, content, cadastral)
            geometry, moved = json.loads(shapely.to_geojson(shape)), True
        except LandfundError as exc:
            errors["geometry_file"] = translated(str(exc), lang)
    if geometry is None:
        drawn = form.get("geometry")
        if isinstance(drawn, str) and drawn.strip():
            try:
                if len(drawn) > MAX_GEOMETRY_TEXT:
                    raise ValueError
                geometry = json.loads(drawn)
                if not isinstance(geometry, dict):
                    raise ValueError
                geometry = geometry.get("geometry", geometry) if geometry.get("type") == "Feature" else geometry
            except ValueError:
                errors["geometry"] = Words(lang)("bad_drawing")
                geometry = None
    try:
        base = json.loads(str(form.get("base") or "{}"))
        base = base if isinstance(base, dict) else {}
    except ValueError:
        base = {}
    reason = str(form.get("reason") or "").strip()[:1000]
    sub = Submitted(props, geometry, values, str(form.get("etag") or ""), base, reason, moved)
    if moved and props.get("admin_unit_code") == base.get("admin_unit_code"):
        sub.props["admin_unit_code"] = None  # moved: the unit comes again from the new location
    return sub, errors


def _field_errors(exc: ValidationFailed, lang: str) -> dict[str, str]:
    errors: dict[str, list[str]] = {}
    for p in exc.report.sorted_problems():
        errors.setdefault(p.field or "form", []).append(translated(p.message, lang))
    return {k: "; ".join(dict.fromkeys(v)) for k, v in errors.items()}


def _changes(request: Request, base: dict, now: dict, lang: str, units: dict) -> list[tuple[str, str, str]]:
    """(field, as you read it, as it is now) for every field someone else changed."""
    layer = parcels_layer(request)
    values = value_labels(layer, request.app.state.catalogue, lang)
    names = {a.name for a in layer.attributes}

    def same(a, b) -> bool:
        return ("" if a is None else str(a)) == ("" if b is None else str(b))

    return [
        (
            layer.attribute(k).title(lang),
            present(layer, k, base.get(k), lang, values, units),
            present(layer, k, v, lang, values, units),
        )
        for k, v in now.items()
        if k in names and not same(base.get(k), v)
    ]


async def _save(request: Request, who: Principal, fid: int | None) -> Response:
    units = await load_units(request)
    lang = lang_of(request)
    t = Words(lang)
    st = request.app.state
    layer = parcels_layer(request)
    choices: list[tuple[str, str]] = [] if fid is not None else await province_choices(request, who)
    province = str((await form_of(request)).get("province") or "").strip()[:20] if choices else ""
    # a boundary file without a .prj is in the zone of the parcel's province (a new one: of the province chosen)
    cadastral = await cadastral_zone(request, parcel=fid, province=province if province in dict(choices) else None)
    sub, errors = await _read_form(request, lang, cadastral)
    if choices and province not in dict(choices):
        errors["province"] = t("required")
    stale = None
    overlaps: list[dict] = []
    etag, base = sub.etag, sub.base
    if not errors:
        try:
            if fid is None:
                done = await writing(
                    request,
                    lambda conn: edits.create(
                        conn,
                        st.catalogue,
                        st.settings,
                        layer,
                        sub.feature,
                        who,
                        reason=sub.reason or None,
                        province=province or None,
                    ),
                )
            else:
                done = await writing(
                    request,
                    lambda conn: edits.replace(
                        conn,
                        st.catalogue,
                        st.settings,
                        layer,
                        fid,
                        sub.feature,
                        who,
                        sub.etag or None,
                        reason=sub.reason or None,
                    ),
                )
            return see_other(f"/parcels/{done.id}?done=saved")
        except ValidationFailed as exc:
            errors = _field_errors(exc, lang)
            codes = list(dict.fromkeys(p.ref for p in exc.report.problems if p.kind == "overlap" and p.ref))
            if codes:
                overlaps = await reading(request, lambda conn: _outlines(conn, codes, who))
                errors["geometry"] = f"{errors.get('geometry', '')} {t('overlap_here')}".strip()
        except (PreconditionFailed, PreconditionRequired):
            assert fid is not None
            now, etag = await reading(
                request,
                lambda conn: (WriteStore(conn).record(layer, fid)["properties"], WriteStore(conn).etag(layer, fid)),
            )
            stale = _changes(request, base, now, lang, units)
            base = {**base, **now}  # saving again overwrites their change knowingly
        except Forbidden as exc:
            errors = {"geometry": translated(str(exc), lang)}
        except LandfundError as exc:
            errors = {"form": translated(str(exc), lang)}
    if stale is None and errors:
        errors.setdefault("form", t("problems"))
    return _form(
        request,
        who,
        fid=fid,
        values=sub.values,
        geometry=sub.geometry,
        etag=etag,
        base=base,
        errors=errors,
        stale=stale,
        overlaps=overlaps,
        status=409 if stale is not None else 400,
        reason=sub.reason,
        provinces=choices,
        province=province,
    )


def _outlines(conn, codes: list[str], who: Principal) -> list[dict]:
    out = []
    for code in codes:
        row = ParcelStore(conn).by_code(code, not who.privileged)
        if row:
            out.append({"code": code, "id": row[0], "geometry": json.loads(row[1])})
    return out


@router.post("/parcels/new")
async def create(request: Request, who: Planner):
    return await _save(request, who, None)


@router.post("/parcels/{fid:int}/edit")
async def save(request: Request, fid: int, who: Planner):
    return await _save(request, who, fid)
