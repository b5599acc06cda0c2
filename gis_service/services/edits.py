"""Create, replace, patch and delete single features (the API's writes), through the same validator as a file
import. Optimistic concurrency: replace/patch/delete need the feature's current entity tag (If-Match), or, from a
desktop editor's QGIS (which sends none), the version that user last read."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import psycopg
import shapely

from .. import crs as crsmod
from ..catalogue import Catalogue, LayerDef
from ..core.errors import Conflict, LandfundError, PreconditionFailed, PreconditionRequired
from ..ingest.read import frame_from_features
from ..ingest.write import write_batch
from ..security import Principal
from ..stores.decisions import DecisionStore
from ..stores.history import HistoryStore
from ..stores.reads import ReadStore
from ..stores.writes import WriteStore
from ..validation import Options
from . import lifecycle
from .scope import check_scope, editable, lock_writes, province_for_new, province_of_parcel


class BadFeature(LandfundError):
    status = 400


@dataclass
class Edit:
    id: int
    etag: str


def parse_feature(body, layer: LayerDef) -> dict:
    if not isinstance(body, dict) or body.get("type") != "Feature":
        raise BadFeature('the body must be a GeoJSON Feature ({"type": "Feature", "geometry": …, "properties": …})')
    props = body.get("properties")
    if props is not None and not isinstance(props, dict):
        raise BadFeature("properties must be an object")
    unknown = sorted(set(props or {}) - {a.name for a in layer.attributes})
    if unknown:
        raise BadFeature(f"unknown properties {', '.join(map(repr, unknown))} for collection {layer.id}")
    computed = sorted(a.name for a in layer.attributes if a.computed and a.name in (props or {}))
    body = dict(body)
    body["properties"] = {k: v for k, v in (props or {}).items() if k not in computed}
    geom = body.get("geometry")
    if layer.spatial and geom is not None:
        try:
            shapely.from_geojson(_dumps(geom))
        except Exception as exc:
            raise BadFeature(f"geometry is not valid GeoJSON: {exc}") from None
    return body


def _dumps(obj) -> str:
    import orjson

    try:
        return orjson.dumps(obj).decode()
    except TypeError as exc:
        raise BadFeature(f"not JSON-serialisable: {exc}") from None


def _frame(feature: dict, layer: LayerDef, input_crs: crsmod.CRS | None, lat_first: bool) -> pd.DataFrame:
    frame = frame_from_features([feature], layer)
    if layer.spatial and frame["geometry"].iloc[0] is not None:
        geoms = np.array(frame["geometry"].to_list(), dtype=object)
        if lat_first:
            geoms = crsmod.swap_xy(geoms)
        if input_crs is not None:
            geoms = crsmod.to_wgs84(geoms, input_crs)
        frame["geometry"] = list(geoms)
    return frame


def _require(if_match: str | None, current: str) -> None:
    tags = _tags(if_match)
    if not tags or tags == {"*"}:  # '*' matches any version: it protects nothing against a lost update
        raise PreconditionRequired(
            f"send If-Match with the feature's ETag (currently W/\"{current}\") to change it; '*' names no version"
        )
    if current not in tags:
        raise PreconditionFailed(f'the feature changed since you read it (its ETag is now W/"{current}")')


def _tags(if_match: str | None) -> set[str]:
    return {t.strip().removeprefix("W/").strip('"') for t in (if_match or "").split(",")} - {""}


def _precondition(conn, layer: LayerDef, fid: int, principal: Principal, if_match: str | None, current: str) -> None:
    """A write names the version it changes (If-Match). A desktop editor's QGIS sends none on PUT, PATCH and
    DELETE: for them the server checks the version they last read instead, refuses the write if the feature
    changed since, and marks the history entry as unconditional."""
    if _tags(if_match) - {"*"} or not principal.desktop_editor or principal.user_id is None:
        _require(if_match, current)
        return
    last = ReadStore(conn).last(principal.user_id, layer.id, fid)
    if last is None:
        raise PreconditionRequired(
            f"feature {fid} was not read by {principal.name} before this change without If-Match: reload the "
            f'layer (or send If-Match with the feature\'s ETag, currently W/"{current}")'
        )
    read, at = last
    if read != current:
        raise PreconditionFailed(
            f"feature {fid} changed after {principal.name} read it (at {at:%Y-%m-%d %H:%M:%S %Z}): reload the layer "
            "and make the change again; nothing was written"
        )
    HistoryStore(conn).mark_unconditional()


def _remember(conn, layer: LayerDef, fid: int, principal: Principal) -> Edit:
    """The feature's new version; a desktop editor now holds it (their client keeps what it sent)."""
    done = Edit(fid, WriteStore(conn).etag(layer, fid))
    if principal.desktop_editor and principal.user_id is not None:
        ReadStore(conn).record(principal.user_id, layer.id, [(fid, done.etag)])
    return done


def _options(settings, layer: LayerDef) -> Options:
    from ..ingest.load import validation_options

    return validation_options(settings, layer)


def create(
    conn: psycopg.Connection,
    catalogue: Catalogue,
    settings,
    layer: LayerDef,
    feature: dict,
    principal: Principal,
    input_crs=None,
    lat_first: bool = False,
    reason: str | None = None,
    province: str | None = None,
) -> Edit:
    """A new feature; a parcel goes to `province` (see _planners)."""
    if layer.storage == "parcels":
        catalogue = province_for_new(conn, catalogue, principal, province)
    with conn.transaction():
        HistoryStore(conn).set_actor(principal.name, reason)
        frame = _frame(parse_feature(feature, layer), layer, input_crs, lat_first)
        result = write_batch(
            conn,
            catalogue,
            layer,
            frame,
            _options(settings, layer),
            before_write=lambda stage: check_scope(
                conn, stage, principal, catalogue.province.code, settings.scope_tolerance_m2
            ),
        )
        return _remember(conn, layer, result.ids[0], principal)


def replace(
    conn,
    catalogue,
    settings,
    layer: LayerDef,
    fid: int,
    feature: dict,
    principal: Principal,
    if_match: str | None,
    input_crs=None,
    lat_first: bool = False,
    merge: bool = False,
    reason: str | None = None,
) -> Edit:
    catalogue = province_of_parcel(conn, catalogue, layer, fid)
    province = catalogue.province.code
    with conn.transaction():
        lock_writes(conn, layer, province)
        current, status = editable(conn, layer, fid, principal, province, settings.scope_tolerance_m2)
        _precondition(conn, layer, fid, principal, if_match, current)
        HistoryStore(conn).set_actor(principal.name, reason)
        if merge:
            frame = _merged(conn, layer, fid, feature, input_crs, lat_first)
        else:
            frame = _frame(parse_feature(feature, layer), layer, input_crs, lat_first)
        if status is not None:
            _keep_status(frame, status)
        options = _options(settings, layer)
        options.target_ids = [fid]
        write_batch(
            conn,
            catalogue,
            layer,
            frame,
            options,
            update=True,
            before_write=lambda stage: check_scope(conn, stage, principal, province, settings.scope_tolerance_m2),
        )
        return _remember(conn, layer, fid, principal)


def _merged(conn, layer: LayerDef, fid: int, patch: dict, input_crs, lat_first: bool) -> pd.DataFrame:
    """RFC 7396 merge patch of a stored feature: members replace, null removes, absent members stay."""
    if not isinstance(patch, dict):
        raise BadFeature("a PATCH body must be a JSON object (a partial GeoJSON Feature)")
    stored = WriteStore(conn).record(layer, fid)
    props = stored["properties"]
    patch_props = patch.get("properties") or {}
    if not isinstance(patch_props, dict):
        raise BadFeature("properties must be an object")
    check = parse_feature({"type": "Feature", "properties": patch_props, "geometry": patch.get("geometry")}, layer)
    props.update(check["properties"])
    geometry = stored["geometry"]
    if patch.get("geometry") is not None:
        frame = _frame(
            {"type": "Feature", "properties": {}, "geometry": patch["geometry"]}, layer, input_crs, lat_first
        )
        geometry = frame["geometry"].iloc[0]
        if "admin_unit_code" in props and "admin_unit_code" not in patch_props:
            props["admin_unit_code"] = None  # moved: assign the unit again from the new location
    frame = pd.DataFrame([props], dtype=object)
    if layer.spatial:
        frame["geometry"] = [geometry]
    return frame


def _keep_status(frame: pd.DataFrame, status: str) -> None:
    """Edits keep the status; it changes only through a transition (which records why)."""
    sent = frame["status"].iloc[0] if "status" in frame.columns else None
    if sent is None or (isinstance(sent, float) and np.isnan(sent)):
        frame["status"] = status
    elif str(sent).strip() != status:
        raise Conflict(
            f"status changes go through POST …/items/{{id}}/transitions (with a reason); this parcel is {status}"
        )


def transition(
    conn,
    catalogue,
    settings,
    fid: int,
    target: str,
    principal: Principal,
    if_match: str | None,
    reason: str,
    decision_no: str | None = None,
    decision_date=None,
    issuing_body: str | None = None,
    document: Upload | None = None,
    facts: lifecycle.Facts = lifecycle.Facts(),
) -> Edit:
    """Move a parcel to `target`, recording the decision (its number, date, issuing body and document) beside the
    history entry the transition writes; all in one transaction."""
    layer = catalogue.layer("parcels")
    catalogue = province_of_parcel(conn, catalogue, layer, fid)
    with conn.transaction():
        current, status = editable(conn, layer, fid, principal, catalogue.province.code, settings.scope_tolerance_m2)
        _require(if_match, current)
        lifecycle.transition(
            conn, catalogue.workflow, fid, target, principal, reason, status, decision_no, decision_date, facts=facts
        )
        decisions = DecisionStore(conn)
        doc_id = None
        if document is not None:
            doc_id = decisions.add_document(
                fid,
                catalogue.province.code,
                document.filename,
                document.media_type,
                document.content,
                document.sha256,
                principal.name,
            )
        if decision_no or decision_date or issuing_body or doc_id:
            decisions.add(fid, target, decision_no, decision_date, issuing_body, doc_id, principal.name)
        return Edit(fid, WriteStore(conn).etag(layer, fid))


@dataclass(frozen=True)
class Upload:
    """A decision's document: a PDF or an image, checked by its first bytes (never by the name it came with)."""

    filename: str
    media_type: str
    content: bytes
    sha256: str

    MAX_BYTES = 10_000_000
    SIGNATURES = ((b"%PDF-", "application/pdf"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))

    @classmethod
    def of(cls, filename: str, content: bytes) -> Upload:
        import hashlib

        if not content:
            raise BadFeature("the document is empty")
        if len(content) > cls.MAX_BYTES:
            raise BadFeature(f"the document is larger than {cls.MAX_BYTES:,} bytes")
        kind = next((media for magic, media in cls.SIGNATURES if content.startswith(magic)), None)
        if kind is None:
            raise BadFeature("the document must be a PDF, a PNG or a JPEG")
        name = "".join(ch for ch in (filename or "document") if ch.isprintable() and ch not in '/\\"')[:200]
        return cls(name or "document", kind, content, hashlib.sha256(content).hexdigest())


def delete(conn, catalogue, settings, layer: LayerDef, fid: int, principal: Principal, if_match: str | None) -> None:
    catalogue = province_of_parcel(conn, catalogue, layer, fid)
    with conn.transaction():
        lock_writes(conn, layer, catalogue.province.code)
        current, _ = editable(conn, layer, fid, principal, catalogue.province.code, settings.scope_tolerance_m2)
        _precondition(conn, layer, fid, principal, if_match, current)
        HistoryStore(conn).set_actor(principal.name)
        WriteStore(conn).delete(layer, fid)


def import_parcels(
    conn,
    catalogue,
    settings,
    path,
    principal: Principal,
    *,
    crs: str | None,
    dry_run: bool,
    source_name: str,
    province: str | None = None,
):
    """A planner's file of parcels, all or nothing, inside their unit (of `province`, see _planners): checked (a dry
    run writes nothing) or written, with the planner named in the history."""
    from ..ingest.load import load_file

    catalogue = province_for_new(conn, catalogue, principal, province)
    province = catalogue.province.code
    with conn.transaction() as tx:
        HistoryStore(conn).set_actor(principal.name, f"import of {source_name} in the workspace")
        result = load_file(
            conn,
            catalogue,
            settings,
            path,
            "parcels",
            crs=crs or None,
            dry_run=dry_run,
            before_write=lambda stage: check_scope(conn, stage, principal, province, settings.scope_tolerance_m2),
        )
        if dry_run:  # undo the staging too
            raise psycopg.Rollback(tx)
    return result
