"""OGC API – Features Part 4: POST, PUT, PATCH, DELETE on /collections/{collectionId}/items.

Thin: parse and authorise here; validation and writing happen in services/edits.py, through the one
validator that file imports use."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pyproj import CRS

from ...query import items as q
from ...security import Principal, visible_fields, visible_rows
from ...services import edits
from ...stores.features import FeatureStore
from ..crs import CRS84, parse_crs
from ..deps import Collection, Writer, collection, writing
from ..errors import Problem
from ..province import province_param
from .items import _feature_id, etag

router = APIRouter(tags=["OGC API – transactions"])
FEATURE_TYPES = ("application/geo+json", "application/json")
PATCH_TYPES = ("application/merge-patch+json", *FEATURE_TYPES)
_EXAMPLE = {
    "type": "Feature",
    "properties": {"code": "NOXH-094-900", "land_use_code": "ODT"},
    "geometry": {
        "type": "Polygon",
        "coordinates": [[[103.023, 21.386], [103.024, 21.386], [103.024, 21.387], [103.023, 21.386]]],
    },
}
_FEATURE_SCHEMA = {
    "type": "object",
    "required": ["type", "properties"],
    "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "geometry": {"type": "object"},
        "properties": {"type": "object"},
    },
}


def _request_body(types: tuple[str, ...], description: str) -> dict:
    """Documented in OpenAPI only; the body is read (with a size limit) and parsed by the handler."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {t: {"schema": _FEATURE_SCHEMA, "example": _EXAMPLE} for t in types},
        }
    }


async def _body(request: Request, types: tuple[str, ...]):
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in types:
        raise Problem(415, f"send the feature as {' or '.join(types)}, not {ctype or 'no content type'}")
    limit = request.app.state.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Problem(413, f"the body is larger than {limit:,} bytes")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise Problem(413, f"the body is larger than {limit:,} bytes")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Problem(400, f"the body is not valid JSON: {exc}") from None


def _input_crs(request: Request):
    api = parse_crs(request.headers.get("content-crs"), "Content-Crs")
    return (None if api.srid == 4326 else CRS.from_epsg(api.srid)), api.lat_first


def _location(request: Request, coll: Collection, fid: int) -> str:
    return f"{str(request.base_url).rstrip('/')}/collections/{coll.id}/items/{fid}"


@router.post(
    "/collections/{collectionId}/items",
    status_code=201,
    summary="Add a feature",
    response_class=Response,
    responses={
        201: {
            "description": "Created; Location names the new feature, the body is the feature as "
            "stored (area, unit and defaults filled in).",
            "content": {"application/geo+json": {}},
        }
    },
    openapi_extra=_request_body(FEATURE_TYPES, "A GeoJSON Feature (coordinates in Content-Crs, default CRS84)."),
)
async def create_item(
    request: Request, who: Writer, coll: Collection = Depends(collection), province: str = Depends(province_param)
):
    body = await _body(request, FEATURE_TYPES)
    in_crs, lat_first = _input_crs(request)
    st = request.app.state
    sel = q.Selection(where=visible_rows(who, coll.ls), properties=visible_fields(who, coll.ls))

    def work(conn):
        done = edits.create(
            conn, st.catalogue, st.settings, coll.layer, body, who, in_crs, lat_first, province=province
        )
        # read back on the primary: a replica behind DATABASE_READ_URL may not have the row yet
        return done, FeatureStore(conn).first(q.item_select(coll.ls, done.id, sel, CRS84))[0]

    done, text = await writing(request, work)
    return Response(
        text,
        status_code=201,
        media_type="application/geo+json",
        headers={"Location": _location(request, coll, done.id), "ETag": etag(done.etag)},
    )


async def _change(request: Request, coll: Collection, who: Principal, featureId: str, merge: bool):
    fid = _feature_id(featureId)
    body = await _body(request, PATCH_TYPES if merge else FEATURE_TYPES)
    in_crs, lat_first = _input_crs(request)
    st = request.app.state
    if_match = request.headers.get("if-match")
    done = await writing(
        request,
        lambda conn: edits.replace(
            conn, st.catalogue, st.settings, coll.layer, fid, body, who, if_match, in_crs, lat_first, merge=merge
        ),
    )
    return Response(status_code=204, headers={"ETag": etag(done.etag)})


@router.put(
    "/collections/{collectionId}/items/{featureId}",
    status_code=204,
    summary="Replace a feature",
    openapi_extra=_request_body(FEATURE_TYPES, "The whole new GeoJSON Feature; send If-Match."),
)
async def replace_item(request: Request, featureId: str, who: Writer, coll: Collection = Depends(collection)):
    return await _change(request, coll, who, featureId, merge=False)


@router.patch(
    "/collections/{collectionId}/items/{featureId}",
    status_code=204,
    summary="Update some properties or the geometry of a feature (JSON merge patch)",
    openapi_extra=_request_body(PATCH_TYPES, "A partial Feature (RFC 7396 merge patch); send If-Match."),
)
async def patch_item(request: Request, featureId: str, who: Writer, coll: Collection = Depends(collection)):
    return await _change(request, coll, who, featureId, merge=True)


@router.delete("/collections/{collectionId}/items/{featureId}", status_code=204, summary="Delete a feature")
async def delete_item(request: Request, featureId: str, who: Writer, coll: Collection = Depends(collection)):
    fid = _feature_id(featureId)
    st = request.app.state
    if_match = request.headers.get("if-match")
    await writing(request, lambda conn: edits.delete(conn, st.catalogue, st.settings, coll.layer, fid, who, if_match))
    return Response(status_code=204)
