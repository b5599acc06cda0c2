"""OGC API – Tiles: tile matrix sets, per-collection vector tilesets, MVT tiles and TileJSON.

Tile URLs follow the XYZ order used by TileJSON, Leaflet and tipg: /{z}/{x}/{y}. The tileset's templated
link names the variables ({tileMatrix}/{tileCol}/{tileRow}), so OGC clients fill them correctly."""

from __future__ import annotations

import hashlib
import re

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncEngine

from ...query import tiles as tq
from ...security import Principal, visible_fields
from ...stores.features import FeatureReads
from ..deps import Collection, collection, principal, read_engine
from ..errors import Problem
from ..params import Selected, choose_properties, selected
from ..render import JSON, json_response, link, url

router = APIRouter(tags=["OGC API – Tiles"])
MVT = "application/vnd.mapbox-vector-tile"
TMS_ID = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
SCHEME_REL = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"


async def _tms(tileMatrixSetId: str) -> str:
    if tileMatrixSetId != TMS_ID:
        raise Problem(404, f"unknown tile matrix set {tileMatrixSetId!r}; this API serves {TMS_ID}")
    return tileMatrixSetId


@router.get("/tileMatrixSets", summary="Tile matrix sets")
def tile_matrix_sets(request: Request):
    return json_response(
        {
            "tileMatrixSets": [
                {
                    "id": TMS_ID,
                    "title": "Google Maps Compatible for the World",
                    "uri": TMS_URI,
                    "links": [
                        link(url(request, f"/tileMatrixSets/{TMS_ID}"), "self", JSON, "WebMercatorQuad definition")
                    ],
                }
            ]
        }
    )


@router.get("/tileMatrixSets/{tileMatrixSetId}", summary="A tile matrix set definition")
def tile_matrix_set(tms_id: str = Depends(_tms)):
    return json_response(tq.web_mercator().model_dump(mode="json", exclude_none=True, by_alias=True))


def _template(request: Request, coll: Collection) -> str:
    return url(request, f"/collections/{coll.id}/tiles/{TMS_ID}") + "/{tileMatrix}/{tileCol}/{tileRow}"


@router.get("/collections/{collectionId}/tiles", summary="Vector tilesets of a collection")
def tilesets(request: Request, coll: Collection = Depends(collection)):
    base = f"/collections/{coll.id}/tiles"
    return json_response(
        {
            "tilesets": [
                {
                    "title": coll.layer.title.vi,
                    "dataType": "vector",
                    "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
                    "tileMatrixSetURI": TMS_URI,
                    "links": [
                        link(url(request, f"{base}/{TMS_ID}"), "self", JSON, "Tileset"),
                        link(url(request, f"/tileMatrixSets/{TMS_ID}"), SCHEME_REL, JSON, "Tiling scheme"),
                    ],
                }
            ],
            "links": [link(url(request, base), "self", JSON, "Tilesets")],
        }
    )


@router.get("/collections/{collectionId}/tiles/{tileMatrixSetId}", summary="A vector tileset")
def tileset(
    request: Request,
    coll: Collection = Depends(collection),
    tms_id: str = Depends(_tms),
    who: Principal = Depends(principal),
):
    fields = {n: coll.layer.attribute(n).type for n in visible_fields(who, coll.ls)}
    return json_response(
        {
            "title": coll.layer.title.vi,
            "dataType": "vector",
            "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
            "tileMatrixSetURI": TMS_URI,
            "links": [
                link(url(request, f"/collections/{coll.id}/tiles/{TMS_ID}"), "self", JSON, "This tileset"),
                link(url(request, f"/tileMatrixSets/{TMS_ID}"), SCHEME_REL, JSON, "Tiling scheme"),
                link(_template(request, coll), "item", MVT, "Tiles", templated=True),
                link(
                    url(request, f"/collections/{coll.id}/tiles/{TMS_ID}/tilejson.json"),
                    "describedby",
                    JSON,
                    "TileJSON",
                ),
            ],
            "layers": [
                {
                    "id": coll.id,
                    "dataType": "vector",
                    "geometryDimension": {"Point": 0, "LineString": 1}.get(coll.layer.geometry_type, 2),
                    # a parcel smaller than a pixel of its tile is sent as a point inside it (never dropped)
                    "geometryType": "polygons and points"
                    if coll.layer.geometry_type == "MultiPolygon"
                    else {"Point": "points", "LineString": "lines"}.get(coll.layer.geometry_type, "polygons"),
                    "propertiesSchema": {
                        "type": "object",
                        "properties": {
                            n: {"type": "string" if t in ("string", "date") else t} for n, t in fields.items()
                        },
                    },
                }
            ],
        }
    )


@router.get("/collections/{collectionId}/tiles/{tileMatrixSetId}/tilejson.json", summary="TileJSON 3.0.0")
async def tilejson(
    request: Request,
    coll: Collection = Depends(collection),
    tms_id: str = Depends(_tms),
    who: Principal = Depends(principal),
    engine: AsyncEngine = Depends(read_engine),
):
    from .collections import _extent

    ext = (await _extent(request, engine, coll, who))["spatial"]["bbox"][0]
    fields = {n: coll.layer.attribute(n).type for n in visible_fields(who, coll.ls)}
    return json_response(
        {
            "tilejson": "3.0.0",
            "name": coll.id,
            "description": coll.layer.title.vi,
            "scheme": "xyz",
            "tiles": [url(request, f"/collections/{coll.id}/tiles/{TMS_ID}") + "/{z}/{x}/{y}"],
            "minzoom": 0,
            "maxzoom": 22,
            "bounds": ext,
            "center": [round((ext[0] + ext[2]) / 2, 6), round((ext[1] + ext[3]) / 2, 6), 9],
            "vector_layers": [
                {
                    "id": coll.id,
                    "geometry_type": "polygon and point"
                    if coll.layer.geometry_type == "MultiPolygon"
                    else {"Point": "point", "LineString": "line"}.get(coll.layer.geometry_type, "polygon"),
                    "fields": {
                        n: ("Number" if t in ("integer", "number") else "Boolean" if t == "boolean" else "String")
                        for n, t in fields.items()
                    },
                }
            ],
        }
    )


@router.get(
    "/collections/{collectionId}/tiles/{tileMatrixSetId}/{z}/{x}/{y}",
    summary="A Mapbox vector tile",
    response_class=Response,
    responses={200: {"content": {MVT: {}}}, 204: {"description": "Empty tile"}, 304: {"description": "Not modified"}},
)
async def tile(
    request: Request,
    z: int,
    x: int,
    y: str = Path(..., description="Row, optionally with .pbf or .mvt (GDAL's MVT driver needs an extension)."),
    chosen: Selected = Depends(selected),
    tms_id: str = Depends(_tms),
    engine: AsyncEngine = Depends(read_engine),
    properties: str | None = Query(
        None, description="Comma-separated properties to put in the tile (default: every one you may see)."
    ),
):
    """Takes the same filters as the items (property=value, admin_unit, CQL2 filter)."""
    row = re.fullmatch(r"(\d{1,9})(?:\.(?:pbf|mvt))?", y)
    if row is None:
        raise Problem(404, f"no tile row {y!r}: a number, optionally with .pbf or .mvt")
    yi = int(row[1])
    if not tq.valid_tile(z, x, yi):
        raise Problem(404, f"no tile {z}/{x}/{yi} in {TMS_ID} (zoom 0–{tq.MAX_ZOOM}, x and y below 2^zoom)")
    who = chosen.who
    props = tuple(choose_properties(properties, chosen.visible))
    unfiltered = not (set(request.query_params) - {"properties"})  # then one prepared statement serves all
    stmt = tq.tile_statement(chosen.coll.ls, z, props, chosen.where, (who.privileged,) if unfiltered else None)
    data = await FeatureReads(engine).tile(stmt, tq.tile_params(z, x, yi))
    max_age = request.app.state.settings.tile_max_age
    # a signed-in viewer's tile differs (unpublished parcels): it is private, and a shared cache keys tiles by both
    # ways of signing in (a bearer token or Basic credentials, and the browser's session cookie)
    headers = {
        "Cache-Control": f"{'public' if not who.privileged else 'private'}, max-age={max_age}",
        "Vary": "Authorization, Cookie",
    }
    if not data:
        return Response(status_code=204, headers=headers)
    tag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    headers["ETag"] = tag
    inm = request.headers.get("if-none-match")
    if inm and (inm.strip() == "*" or tag in [t.strip().removeprefix("W/") for t in inm.split(",")]):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=MVT, headers=headers)
