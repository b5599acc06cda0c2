"""/collections, /collections/{collectionId} and its queryables."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from ...security import Principal, visible_fields, visible_rows
from ...stores.features import FeatureReads, extent_select
from ..crs import STORAGE, SUPPORTED
from ..deps import Collection, collection, collections, principal, read_engine
from ..params import format_param
from ..render import GEOJSON, HTML, JSON, html_response, json_response, link, media, negotiate, url

router = APIRouter(tags=["OGC API"])
TILESETS_REL = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
EXTENT_TTL = 30.0
SCHEMA_REL = "http://www.opengis.net/def/rel/ogc/1.0/schema"  # OGC API - Features Part 5
JSON_TYPES = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean", "date": "string"}
GEOMETRY_FORMAT = {
    "MultiPolygon": "geometry-multipolygon",
    "Point": "geometry-point",
    "LineString": "geometry-linestring",
}


async def _extent(request: Request, engine: AsyncEngine, coll: Collection, who: Principal) -> dict:
    key = (coll.id, who.privileged)
    cache = request.app.state.extent_cache
    hit = cache.get(key)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    t = coll.layer.temporal
    row = await FeatureReads(engine).first(extent_select(coll.ls, visible_rows(who, coll.ls), t))
    extent: dict = {
        "spatial": {
            "bbox": [[round(v, 6) for v in row[:4]]] if row[0] is not None else [[-180, -90, 180, 90]],
            "crs": STORAGE.uri,
        }
    }
    if t:
        start, end = row[4], row[5]
        open_end = bool(row[6]) if t.end else False
        extent["temporal"] = {
            "interval": [[start.isoformat() if start else None, None if open_end or end is None else end.isoformat()]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
    cache[key] = (time.monotonic() + EXTENT_TTL, extent)
    return extent


def _doc(request: Request, coll: Collection, extent: dict) -> dict:
    base = f"/collections/{coll.id}"
    layer = coll.layer
    links = [
        link(url(request, base), "self", JSON, "This collection"),
        link(url(request, base, f="html"), "alternate", HTML, "This collection as HTML"),
        link(url(request, f"{base}/items"), "items", GEOJSON, "Features as GeoJSON"),
        link(url(request, f"{base}/items", f="html"), "items", HTML, "Features as HTML"),
        link(url(request, f"{base}/items", f="csv"), "items", "text/csv", "Features as CSV"),
        link(url(request, f"{base}/items", f="fgb"), "items", "application/flatgeobuf", "All features as FlatGeobuf"),
        link(
            url(request, f"{base}/items", f="geojsonseq"),
            "items",
            "application/geo+json-seq",
            "All features as GeoJSON text sequence",
        ),
        link(url(request, f"{base}/queryables"), QUERYABLES_REL, "application/schema+json", "Queryables"),
        link(url(request, f"{base}/schema"), SCHEMA_REL, "application/schema+json", "Feature schema"),
        # GDAL's OAPIF driver (3.6) types its fields from a schema of the whole GeoJSON Feature, linked as
        # "describedBy" (it looks for that spelling; rel values compare case-insensitively, RFC 8288)
        link(
            url(request, f"{base}/schema/geojson"), "describedby", "application/schema+json", "GeoJSON Feature schema"
        ),
        link(
            url(request, f"{base}/schema/geojson"), "describedBy", "application/schema+json", "GeoJSON Feature schema"
        ),
        link(url(request, f"{base}/tiles"), TILESETS_REL, JSON, "Vector tiles"),
    ]
    doc = {
        "id": coll.id,
        "title": layer.title.vi,
        "description": (layer.description.vi + " / " + layer.description.en) if layer.description else layer.title.en,
        "itemType": "feature",
        "extent": extent,
        "crs": [c.uri for c in SUPPORTED],
        "storageCrs": STORAGE.uri,
        "links": links,
        "keywords": [layer.title.en],
    }
    return doc


@router.get("/collections", summary="The collections", responses=media("application/json", "text/html"))
async def list_collections(
    request: Request,
    f: str | None = Depends(format_param),
    who: Principal = Depends(principal),
    engine: AsyncEngine = Depends(read_engine),
):
    docs = [_doc(request, c, await _extent(request, engine, c, who)) for c in collections(request).values()]
    body = {
        "links": [
            link(url(request, "/collections"), "self", JSON, "This document"),
            link(url(request, "/collections", f="html"), "alternate", HTML, "This document as HTML"),
        ],
        "collections": docs,
        "crs": [c.uri for c in SUPPORTED],
    }
    if negotiate(request, f) == "html":
        return html_response("collections.html", request, doc=body)
    return json_response(body)


@router.get("/collections/{collectionId}", summary="One collection", responses=media("application/json", "text/html"))
async def get_collection(
    request: Request,
    coll: Collection = Depends(collection),
    f: str | None = Depends(format_param),
    who: Principal = Depends(principal),
    engine: AsyncEngine = Depends(read_engine),
):
    body = _doc(request, coll, await _extent(request, engine, coll, who))
    if negotiate(request, f) == "html":
        return html_response("collection.html", request, doc=body, layer=coll.layer)
    return json_response(body)


def attribute_schemas(coll: Collection, who: Principal) -> dict:
    """JSON Schema of each attribute the caller may see, from the catalogue."""
    props: dict = {}
    for name in visible_fields(who, coll.ls):
        a = coll.layer.attribute(name)
        p: dict = {"title": f"{a.title.vi} / {a.title.en}", "type": JSON_TYPES[a.type]}
        if a.type == "date":
            p["format"] = "date"
        if a.values:
            p["enum"] = list(a.values)
        if a.codelist:
            p["enum"] = sorted(coll.catalogue.codes(a.codelist))
        if a.minimum is not None:
            p["minimum"] = a.minimum
        if a.maximum is not None:
            p["maximum"] = a.maximum
        if a.max_length is not None:
            p["maxLength"] = a.max_length
        if a.computed:
            p["readOnly"] = True
        props[name] = p
    return props


def geometry_property(coll: Collection) -> dict:
    """The primary geometry as queryables and schemas describe it (none for a layer without geometry)."""
    if coll.ls.geom is None:
        return {}
    fmt = GEOMETRY_FORMAT.get(coll.layer.geometry_type, "geometry-any")
    return {"geometry": {"title": "Geometry / Hình học", "format": fmt, "x-ogc-role": "primary-geometry"}}


def queryables_doc(request: Request, coll: Collection, who: Principal) -> dict:
    props = {**geometry_property(coll), **attribute_schemas(coll, who)}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url(request, f"/collections/{coll.id}/queryables"),
        "type": "object",
        "title": coll.layer.title.vi,
        "properties": props,
        "additionalProperties": False,
    }


@router.get(
    "/collections/{collectionId}/queryables",
    summary="Properties usable in filters",
    responses=media("application/schema+json", "text/html"),
)
async def queryables(
    request: Request,
    coll: Collection = Depends(collection),
    f: str | None = Depends(format_param),
    who: Principal = Depends(principal),
):
    body = queryables_doc(request, coll, who)
    if negotiate(request, f) == "html":
        return html_response("queryables.html", request, doc=body, layer=coll.layer)
    return json_response(body, media_type="application/schema+json")


def feature_schema_doc(request: Request, coll: Collection, who: Principal) -> dict:
    """OGC API - Features Part 5 (schemas): each property a feature returns or accepts, in the order features
    carry them (x-ogc-propertySeq), with its role (primary geometry, instant or interval) and readOnly where the
    server computes it. QGIS 3.42+ and GDAL type their fields from it instead of guessing from the first page."""
    props = geometry_property(coll)
    temporal = coll.layer.temporal
    roles = {}
    if temporal is not None:
        roles = (
            {temporal.start: "primary-interval-start", temporal.end: "primary-interval-end"}
            if temporal.end
            else {temporal.start: "primary-instant"}
        )
    props.update(attribute_schemas(coll, who))
    for seq, (name, p) in enumerate(props.items(), start=1):
        p["x-ogc-propertySeq"] = seq
        if name in roles:
            p["x-ogc-role"] = roles[name]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url(request, f"/collections/{coll.id}/schema"),
        "type": "object",
        "title": coll.layer.title.vi,
        "description": coll.layer.title.en,
        "properties": props,
    }


@router.get(
    "/collections/{collectionId}/schema",
    summary="The schema of the collection's features (OGC API - Features Part 5)",
    responses=media("application/schema+json"),
)
async def feature_schema(request: Request, coll: Collection = Depends(collection), who: Principal = Depends(principal)):
    return json_response(feature_schema_doc(request, coll, who), media_type="application/schema+json")


@router.get(
    "/collections/{collectionId}/schema/geojson",
    summary="JSON Schema of a whole GeoJSON Feature of the collection",
    responses=media("application/schema+json"),
)
async def geojson_feature_schema(
    request: Request, coll: Collection = Depends(collection), who: Principal = Depends(principal)
):
    """The Feature-shaped schema GDAL's OAPIF driver (3.6) reads to type its fields (it does not read Part 5's)."""
    body = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url(request, f"/collections/{coll.id}/schema/geojson"),
        "title": coll.layer.title.vi,
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "integer"},
            "geometry": {"type": "object", "format": GEOMETRY_FORMAT.get(coll.layer.geometry_type, "geometry-any")},
            "properties": {"type": "object", "properties": attribute_schemas(coll, who)},
        },
    }
    return json_response(body, media_type="application/schema+json")
