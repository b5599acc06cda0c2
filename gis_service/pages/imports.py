"""Bulk import in the browser: a planner uploads a file of parcels, sees the dry run's report (every bad row
named, in their language), and confirms; the import is all or nothing, as on the CLI. An upload waits for its
confirmation in the uploads folder, kept for its owner only, for a day at most."""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import UploadFile  # what a parsed form holds (FastAPI's UploadFile subclasses it)

from ..api.deps import Planner, form_of
from ..api.errors import Problem
from ..core.errors import LandfundError
from ..i18n import field_label
from ..security import Principal
from ..services import edits
from ..validation import ValidationFailed
from .common import cadastral_zone, province_choices, see_other
from .messages import translated
from .render import Words, lang_of, page

router = APIRouter(include_in_schema=False, tags=["pages"])
SUFFIXES = (".geojson", ".json", ".zip", ".gpkg", ".kml", ".csv", ".parquet")
MAX_BYTES = 200_000_000
KEEP_S = 86_400
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,32}")


def _folder(request: Request) -> Path:
    settings = request.app.state.settings
    folder = Path(settings.uploads_dir or settings.home / "uploads")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = time.time()
    for old in folder.iterdir():  # uploads nobody confirmed
        if now - old.stat().st_mtime > KEEP_S:
            old.unlink(missing_ok=True)
    return folder


async def _form(request: Request, who: Principal, status: int = 200, **extra) -> Response:
    extra.setdefault("report", None)
    extra.setdefault("token", None)
    extra.setdefault("crs", "")
    extra.setdefault("error", None)
    extra.setdefault("province_error", None)
    extra["province"] = extra.get("province") or request.app.state.catalogue.province.code
    extra["provinces"] = await province_choices(request, who)
    # the CRS field suggests the zone a file without one is read in: a planner's own province's; for an account
    # that chooses the province, the chosen one's (each option carries its zone, and the page's script follows)
    extra["zones"] = {code: await cadastral_zone(request, province=code) for code, _ in extra["provinces"]}
    extra["cadastral"] = extra["zones"].get(extra["province"]) or await cadastral_zone(
        request, unit=who.admin_unit_code
    )
    return page(request, who, "import.html", status=status, active="list", **extra)


@router.get("/parcels/import")
async def import_form(request: Request, who: Planner):
    return await _form(request, who)


@router.post("/parcels/import")
async def import_check(request: Request, who: Planner):
    form = await form_of(request)
    upload = form.get("file")
    crs = str(form.get("crs") or "").strip()[:200]
    province = str(form.get("province") or "").strip()[:20]
    t = Words(lang_of(request))
    choices = await province_choices(request, who)
    if choices and province not in dict(choices):  # an account without a unit says which province the file is of
        return await _form(request, who, 400, crs=crs, province=province, province_error=t("required"))
    if not choices:  # a planner's own province (or the only one)
        province = ""
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _form(request, who, 400, crs=crs, error=f"{t('file')}: {t('required')}")
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in SUFFIXES:
        return await _form(request, who, 400, crs=crs, error=t("import_kinds", name=upload.filename))
    content = await upload.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        return await _form(request, who, 413, crs=crs, error=t("too_big", n=f"{MAX_BYTES // 1_000_000}"))
    token = secrets.token_urlsafe(18)
    stem = re.sub(r"[^\w.-]+", "_", Path(upload.filename).stem)[:60] or "upload"
    folder = _folder(request)
    path = folder / f"{token}_{stem}{suffix}"
    path.write_bytes(content)
    (folder / f"{token}.owner").write_text(f"{who.name}\n{crs}\n{upload.filename}\n{province}\n", encoding="utf-8")
    return await _checked(request, who, path, token, crs, upload.filename, province)


def _run(request: Request, who: Principal, path: Path, crs: str, dry_run: bool, name: str, province: str):
    st = request.app.state
    with st.db.write() as conn:
        return edits.import_parcels(
            conn,
            st.catalogue,
            st.settings,
            path,
            who,
            crs=crs,
            dry_run=dry_run,
            source_name=name,
            province=province or None,
        )


async def _checked(
    request: Request, who: Principal, path: Path, token: str, crs: str, name: str, province: str
) -> Response:
    lang = lang_of(request)
    try:
        result = await run_in_threadpool(_run, request, who, path, crs, True, name, province)
        report = {"ok": True, "rows": result.rows, "problems": [], "warnings": result.warnings}
    except ValidationFailed as exc:
        rep = exc.report
        title = _field_titles(request, lang)
        problems = [
            {**p.as_dict(), "message": translated(p.message, lang), "field_title": title(p.field)}
            for p in rep.sorted_problems()
        ]
        omitted = [
            {
                "field": o.field,
                "field_title": title(o.field),
                "count": o.count,
                "example": translated(o.example.message, lang),
                "row": o.example.row,
            }
            for o in rep.omitted_problems()
        ]
        report = {
            "ok": False,
            "rows": rep.rows,
            "total": rep.total,
            "problems": problems,
            "omitted": omitted,
            "warnings": rep.warnings,
        }
    except LandfundError as exc:
        report = {
            "ok": False,
            "rows": 0,
            "warnings": [],
            "problems": [{"row": None, "code": None, "field": None, "message": translated(str(exc), lang)}],
            "total": 1,
        }
    if not report["ok"]:
        _forget(path.parent, token)
    return await _form(
        request,
        who,
        200 if report["ok"] else 400,
        report=report,
        crs=crs,
        filename=name,
        token=token if report["ok"] else None,
        province=province,
    )


def _field_titles(request: Request, lang: str):
    """A problem's field as the planner knows it ("Số tầng tối đa"), from the catalogue (the geometry by the
    pages' own word); the page shows the file's column name beside it."""
    layer, words = request.app.state.catalogue.layer("parcels"), {"geometry": lambda lang: Words(lang)("geometry")}
    return lambda field: field_label(field, layer, words, lang) if field else ""


def _forget(folder: Path, token: str) -> None:
    for p in folder.glob(f"{token}[_.]*"):
        p.unlink(missing_ok=True)


@router.post("/parcels/import/{token}")
async def import_confirm(request: Request, token: str, who: Planner):
    """Write the file the dry run passed (checked again: the land fund may have changed since)."""
    if not TOKEN.fullmatch(token):
        raise Problem(404, "no such import")
    folder = _folder(request)
    owner = folder / f"{token}.owner"
    files = list(folder.glob(f"{token}_*"))
    lines = owner.read_text(encoding="utf-8").split("\n") if owner.exists() else []
    if not files or len(lines) < 3 or lines[0] != who.name:
        raise Problem(404, "no such import: it was confirmed already, it expired, or it is someone else's")
    crs, name, province = lines[1], lines[2], lines[3] if len(lines) > 3 else ""
    try:
        result = await run_in_threadpool(_run, request, who, files[0], crs, False, name, province)
    except (ValidationFailed, LandfundError):
        return await _checked(request, who, files[0], token, crs, name, province)
    _forget(folder, token)
    return see_other(f"/parcels?done=imported:{len(result.ids)}")
