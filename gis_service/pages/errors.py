"""Errors on pages, for people: a page saying what went wrong in their language (with the way on: sign in, go
back), not a problem document. A browser asked to sign in goes to the sign-in form and comes back after."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response

from ..security import ANONYMOUS
from .common import safe_next, see_other
from .messages import translated
from .render import Words, lang_of, page


def wants_page(request: Request) -> bool:
    """A person with a browser, not a script: HTML is acceptable and JSON was not asked for first."""
    accept = request.headers.get("accept", "")
    return not request.headers.get("x-requested-with") and ("text/html" in accept or accept in ("", "*/*"))


def error_page(request: Request, status: int, detail: str, headers: dict | None) -> Response | None:
    """The page for an error on a page route; None leaves it to the problem document (scripts, fetch())."""
    if not wants_page(request):
        return None
    who = getattr(request.state, "principal", None) or ANONYMOUS
    if status == 401 and request.method == "GET":
        target = safe_next(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return see_other(f"/login?next={quote(target)}")
    t = Words(lang_of(request))
    heading = t(f"error_{status}") if status in (401, 403, 404, 409, 413, 429) else t("error_other")
    return page(
        request,
        who,
        "error.html",
        status=status,
        headers=headers,
        heading=heading,
        message=translated(detail, lang_of(request)),
        code=status,
    )
