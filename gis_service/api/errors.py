"""Problem details (RFC 9457, application/problem+json) for every error the API returns."""

from __future__ import annotations

import logging

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from psycopg_pool import PoolClosed, PoolTimeout
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SATimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..core.errors import LandfundError
from ..validation import ValidationFailed

log = logging.getLogger("landfund.api")
PROBLEM = "application/problem+json"
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    428: "Precondition Required",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class Problem(LandfundError):
    """Raise anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        type_: str = "about:blank",
        headers: dict | None = None,
        **extra,
    ):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or TITLES.get(status, "Error")
        self.type = type_
        self.headers = headers or {}
        self.extra = extra


def problem_response(
    request: Request,
    status: int,
    detail: str,
    *,
    title: str | None = None,
    type_: str = "about:blank",
    headers: dict | None = None,
    **extra,
) -> Response:
    route = request.scope.get("route")
    render = getattr(request.app.state, "page_error", None)
    if render is not None and "pages" in (getattr(route, "tags", None) or []):
        shown = render(request, status, detail, headers)
        if shown is not None:
            return shown
    body = {
        "type": type_,
        "title": title or TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": str(request.url.path),
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        return problem_response(
            request, exc.status, exc.detail, title=exc.title, type_=exc.type, headers=exc.headers, **exc.extra
        )

    @app.exception_handler(ValidationFailed)
    async def _invalid(request: Request, exc: ValidationFailed):
        return problem_response(
            request,
            400,
            exc.report.text(50),
            title="Invalid feature",
            **{k: v for k, v in exc.report.as_dict().items() if k.startswith("problems")},
        )

    @app.exception_handler(LandfundError)
    async def _landfund(request: Request, exc: LandfundError):
        return problem_response(request, getattr(exc, "status", 400), str(exc))

    @app.exception_handler(RequestValidationError)
    async def _params(request: Request, exc: RequestValidationError):
        parts = []
        for e in exc.errors():
            loc = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "body", "path", "header"))
            parts.append(f"{loc}: {e.get('msg')}" if loc else str(e.get("msg")))
        return problem_response(request, 400, "; ".join(parts) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        return problem_response(request, exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    async def _db_down(request: Request, exc: Exception):
        cause = getattr(exc, "orig", None) or exc
        if isinstance(cause, psycopg.errors.QueryCanceled):  # statement_timeout: the request was stopped
            log.warning("statement timeout on %s %s", request.method, request.url.path)
            limit = request.app.state.settings.statement_timeout_seconds
            return problem_response(
                request,
                503,
                f"the request took longer than {limit:g} s and was stopped; "
                "narrow it (a smaller area, fewer features) or try again later",
                headers={"Retry-After": "30"},
            )
        if isinstance(
            cause,
            (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure),
        ):
            return problem_response(
                request,
                503,
                "someone else is changing the same records right now; try again",
                headers={"Retry-After": "2"},
            )
        log.warning("database unavailable: %s", type(cause).__name__)
        return problem_response(
            request, 503, "the database is not reachable right now; try again shortly", headers={"Retry-After": "5"}
        )

    for kind in (
        OperationalError,
        InterfaceError,
        SATimeout,
        psycopg.OperationalError,
        psycopg.InterfaceError,
        PoolTimeout,
        PoolClosed,
        psycopg.errors.DeadlockDetected,
        psycopg.errors.SerializationFailure,
    ):
        app.add_exception_handler(kind, _db_down)

    async def _refused(request: Request, exc: Exception):
        """A rule of the database refused the write (a race the checks before it could not see): 409."""
        cause = getattr(exc, "orig", None) or exc
        diag = getattr(cause, "diag", None)
        if isinstance(cause, psycopg.errors.UniqueViolation):
            what = (diag.message_detail or "") if diag else ""
            return problem_response(
                request, 409, "a record with the same key exists already" + (f": {what}" if what else "")
            )
        first = diag.message_primary if diag and diag.message_primary else str(cause).strip().splitlines()[0]
        return problem_response(request, 409, f"the database refused the change: {first}")

    for refused in (IntegrityError, psycopg.IntegrityError):
        app.add_exception_handler(refused, _refused)

    async def _bad_value(request: Request, exc: Exception):
        cause = getattr(exc, "orig", None) or exc
        first = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        return problem_response(request, 400, f"a value in the request cannot be used: {first}")

    # psycopg.DataError covers both the server's data exceptions (out of range, bad encoding) and the
    # client's own refusals (a NUL byte in a text parameter)
    for bad in (DataError, psycopg.DataError):
        app.add_exception_handler(bad, _bad_value)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(request, 500, "internal error; it has been logged")
