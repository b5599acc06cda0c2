"""Request-body limit, Content-Security-Policy on HTML pages (with a nonce per response), CORS."""

from __future__ import annotations

import asyncio
import secrets
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core.config import Settings


def _problem(status: int, detail: str) -> bytes:
    import orjson

    titles = {408: "Request Timeout", 413: "Content Too Large"}
    return orjson.dumps(
        {"type": "about:blank", "title": titles.get(status, "Error"), "status": status, "detail": detail}
    )


class BodyLimit:
    """Refuse request bodies over the limit (413) before anything reads them, declared or streamed, and bodies
    sent too slowly (408): a client has `timeout` seconds to send the whole body."""

    def __init__(self, app: ASGIApp, limit: int, timeout: float = 30.0):
        self.app = app
        self.limit = limit
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _refuse(send, 413, f"the request body is larger than {self.limit:,} bytes")
            return
        seen = 0
        complete = False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout

        async def limited() -> Message:
            nonlocal seen, complete
            if complete:  # the body is in: later receives wait for the client to go away, unbounded
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), timeout=max(deadline - loop.time(), 0.001))
            except TimeoutError:
                raise _TooSlow() from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge()
                complete = not message.get("more_body", False)
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _refuse(send, 413, f"the request body is larger than {self.limit:,} bytes")
        except _TooSlow:
            await _refuse(send, 408, f"the request body did not arrive within {self.timeout:g} s")


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = _problem(status, detail)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class _TooSlow(Exception):
    pass


class NoSecretsInUrls:
    """Tokens and passwords never travel in a URL (it ends up in access logs, proxies and browser history): a
    request that puts one there is refused with 400 before anything else looks at it."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            from urllib.parse import parse_qsl

            from .logs import _TOKEN, SENSITIVE_PARAMS

            pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
            names = sorted({k for k, v in pairs if k.lower() in SENSITIVE_PARAMS or _TOKEN.search(v)})
            if names:
                await _refuse(
                    send,
                    400,
                    "send credentials in the Authorization header, never in a URL (it is kept "
                    f"in logs and browser history); refused parameter(s): {', '.join(names)}",
                )
                return
        await self.app(scope, receive, send)


def basemap_origin(settings: Settings) -> str | None:
    choice = settings.map_basemap.strip()
    if choice.lower() == "none":
        return None
    if choice.lower() == "osm":
        return "https://tile.openstreetmap.org"
    parts = urlsplit(choice.replace("{s}", "a"))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


class ContentSecurityPolicy:
    """HTML pages may load only the service's own scripts, styles, images and data, plus the basemap's tiles.

    Inline scripts run only with the nonce this middleware draws for each response (`request.state.csp_nonce`,
    which the page's template puts on the scripts it writes itself): a script injected into a page has no
    nonce and does not run, so the policy is a second wall behind escaping."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.img = " ".join(filter(None, ["'self'", "data:", basemap_origin(settings)]))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(18)
        scope.setdefault("state", {})["csp_nonce"] = nonce

        async def with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                ctype = dict(headers).get(b"content-type", b"")
                if ctype.startswith(b"text/html"):
                    headers += [
                        (b"content-security-policy", self.policy(nonce).encode()),
                        (b"x-content-type-options", b"nosniff"),
                        (b"referrer-policy", b"same-origin"),
                    ]
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_policy)

    def policy(self, nonce: str) -> str:
        return "; ".join(
            [
                "default-src 'self'",
                f"script-src 'self' 'nonce-{nonce}'",
                "style-src 'self' 'unsafe-inline'",  # folium writes style blocks and Leaflet style attributes
                f"img-src {self.img}",
                "connect-src 'self'",
                "font-src 'self'",
                "object-src 'none'",
                "base-uri 'self'",
                "form-action 'self'",
                "frame-ancestors 'self'",
            ]
        )


def install(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(ContentSecurityPolicy, settings=settings)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type", "Content-Crs", "If-Match", "If-None-Match"],
            expose_headers=["ETag", "Location", "Content-Crs"],
            max_age=600,
        )
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, timeout=settings.body_timeout_seconds)
    app.add_middleware(NoSecretsInUrls)
