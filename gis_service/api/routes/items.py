"""/collections/{collectionId}/items and /items/{featureId}: GeoJSON, HTML, CSV, GeoJSON-seq, FlatGeobuf."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import UTC, datetime

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from ...query import items as q
from ...security import Principal, visible_fields, visible_rows, write_denial
from ...stores.features import FeatureReads
from ...stores.reads import ReadStore
from .. import flatgeobuf
from ..crs import ApiCRS, content_crs_header
from ..deps import Collection, collection, principal, read_engine, writing
from ..errors import Problem
from ..params import ItemsRequest, crs_param, format_param, items_request
from ..render import GEOJSON, HTML, MEDIA, html_response, link, negotiate, self_url, url

router = APIRouter(tags=["OGC API"])
ALL = ("json", "html", "csv", "geojsonseq", "fgb")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@router.get(
    "/collections/{collectionId}/items",
    summary="Features of a collection",
    response_class=Response,
    responses={200: {"content": {m: {} for m in MEDIA.values()}}},
)
async def get_items(
    request: Request, ir: ItemsRequest = Depends(items_request), engine: AsyncEngine = Depends(read_engine)
):
    fmt = negotiate(request, ir.fmt, ALL)
    ls, sel, crs = ir.coll.ls, ir.sel, ir.crs
    if fmt in ("geojsonseq", "fgb") and "limit" not in request.query_params:
        sel.limit = None  # bulk download: everything, unless the client pages
    headers = content_crs_header(crs)
    if ir.limit_asked is not None:
        headers["X-Landfund-Limit"] = f"{sel.limit} (asked {ir.limit_asked}; the maximum)"
    if fmt == "csv":
        return await _csv(engine, ir, headers)
    if fmt == "fgb":
        db = request.app.state.db
        path = await run_in_threadpool(
            flatgeobuf.write,
            db.read_dsn,
            q.flatgeobuf_select(ls, sel, crs),
            ls.layer,
            sel.properties,
            crs.srid,
            db.timeout,
            db.options,
        )
        return FileResponse(
            path, media_type=MEDIA["fgb"], headers=headers, background=BackgroundTask(path.unlink, missing_ok=True)
        )
    if fmt == "geojsonseq":
        return StreamingResponse(
            _seq(engine, q.geojsonseq_select(ls, sel, crs)), media_type=MEDIA["geojsonseq"], headers=headers
        )
    keeps = keeps_reads(ir.who, ir.coll)
    page = await FeatureReads(engine).page(
        q.page_select(ls, sel, crs, versions=keeps), q.estimate_select(ls, sel), q.COUNT_CAP
    )
    matched, returned, features, estimate = page.matched, page.returned, page.features, page.estimate
    if keeps:
        await remember_reads(request, ir.who, ir.coll, page.versions)
    links = [
        link(self_url(request), "self", GEOJSON, "This page"),
        link(self_url(request, f="html"), "alternate", HTML, "This page as HTML"),
        link(url(request, f"/collections/{ir.coll.id}"), "collection", "application/json", "The collection"),
    ]
    more = returned == sel.limit and (matched is None or sel.offset + returned < matched)
    if more:
        links.append(link(self_url(request, offset=sel.offset + returned), "next", GEOJSON, "Next page"))
    if sel.offset > 0:
        links.append(
            link(
                self_url(request, offset=max(0, sel.offset - (sel.limit or 0)) or None),
                "prev",
                GEOJSON,
                "Previous page",
            )
        )
    meta: dict = {"numberReturned": returned}
    if ir.limit_asked is not None:
        meta["landfund:limit"] = {"asked": ir.limit_asked, "used": sel.limit}
    if matched is not None:
        meta["numberMatched"] = matched
    else:
        meta["landfund:numberMatchedEstimate"] = estimate  # over q.COUNT_CAP: the planner's estimate, not a count
    meta.update(timeStamp=_now(), links=links)
    if fmt == "html":
        feats = orjson.loads(b"[" + (features or "").encode() + b"]")
        return html_response(
            "items.html", request, coll=ir.coll, features=feats, meta=meta, props=sel.properties, headers=headers
        )
    tail = orjson.dumps(meta)
    body = b"".join((b'{"type":"FeatureCollection","features":[', (features or "").encode(), b"],", tail[1:]))
    return Response(body, media_type=GEOJSON, headers=headers)


async def _seq(engine: AsyncEngine, stmt):
    async for part in FeatureReads(engine).stream(stmt):
        yield b"".join(b"\x1e" + row[0].encode() + b"\n" for row in part)


async def _csv(engine: AsyncEngine, ir: ItemsRequest, headers: dict) -> Response:
    cols, rows = await FeatureReads(engine).rows(q.rows_select(ir.coll.ls, ir.sel, ir.crs))
    buf = io.StringIO()
    buf.write("\ufeff")  # so spreadsheet programs read Vietnamese text as UTF-8
    w = csv.writer(buf)
    w.writerow(cols)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    name = f"{ir.coll.id}.csv"
    return Response(
        buf.getvalue().encode(),
        media_type=MEDIA["csv"],
        headers={**headers, "Content-Disposition": f'inline; filename="{name}"'},
    )


def etag(value: str) -> str:
    return f'W/"{value}"'


@router.get(
    "/collections/{collectionId}/items/{featureId}",
    summary="One feature",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}, HTML: {}}}},
)
async def get_item(
    request: Request,
    featureId: str,
    coll: Collection = Depends(collection),
    f: str | None = Depends(format_param),
    crs: ApiCRS = Depends(crs_param),
    who: Principal = Depends(principal),
    engine: AsyncEngine = Depends(read_engine),
):
    fid = _feature_id(featureId)
    sel = q.Selection(where=visible_rows(who, coll.ls), properties=visible_fields(who, coll.ls))
    row = await FeatureReads(engine).first(q.item_select(coll.ls, fid, sel, crs))
    if row is None:
        raise Problem(404, f"no feature {featureId} in collection {coll.id}")
    feature_text, version = row
    headers = content_crs_header(crs)
    if coll.layer.storage == "parcels" and not who.privileged:
        # the public's tag changes only when what the public sees changes (not on an edit of internal notes)
        version = "p" + hashlib.md5(feature_text.encode(), usedforsecurity=False).hexdigest()[:16]
    if version is not None:
        headers["ETag"] = etag(version)
        if keeps_reads(who, coll):
            await remember_reads(request, who, coll, [(fid, version)])
    base = f"/collections/{coll.id}"
    links = [
        link(self_url(request), "self", GEOJSON, "This feature"),
        link(self_url(request, f="html"), "alternate", HTML, "This feature as HTML"),
        link(url(request, base), "collection", "application/json", "The collection"),
    ]
    if negotiate(request, f) == "html":
        return html_response(
            "item.html", request, coll=coll, feature=orjson.loads(feature_text), links=links, headers=headers
        )
    body = feature_text.encode()[:-1] + b',"links":' + orjson.dumps(links) + b"}"
    return Response(body, media_type=GEOJSON, headers=headers)


def keeps_reads(who: Principal, coll: Collection) -> bool:
    """Whether the version of what `who` reads is remembered: for desktop editors who may write this collection
    (their QGIS sends no If-Match; services/edits.py checks its writes against what they read)."""
    return who.desktop_editor and who.user_id is not None and write_denial(who, coll.layer.storage) is None


async def remember_reads(request: Request, who: Principal, coll: Collection, versions: list[tuple[int, str]]) -> None:
    assert who.user_id is not None
    user_id = who.user_id

    def work(conn):
        with conn.transaction():
            ReadStore(conn).record(user_id, coll.id, versions)

    await writing(request, work)


def _feature_id(raw: str) -> int:
    if not re.fullmatch(r"[0-9]{1,18}", raw):  # ASCII digits only: str.isdigit() also takes '²'
        raise Problem(404, f"no feature {raw!r}: feature ids are whole numbers")
    return int(raw)


__all__ = ["etag", "router"]
