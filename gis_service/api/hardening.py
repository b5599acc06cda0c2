"""Request-body limit, Content-Security-Policy on HTML pages, CORS."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core.config import Settings

INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def _problem(status: int, detail: str) -> bytes:
    import orjson

    titles = {413: "Content Too Large"}
    return orjson.dumps({"type": "about:blank", "title": titles.get(status, "Error"), "status": status, "detail": detail})


class BodyLimit:
    """Refuse request bodies over the limit (413) before anything reads them, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = _problem(413, f"the request body is larger than {self.limit:,} bytes")
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


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
    Inline scripts are allowed by their SHA-256 (computed per page), never wholesale."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.img = " ".join(filter(None, ["'self'", "data:", basemap_origin(settings)]))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                if not headers.get(b"content-type", b"").startswith(b"text/html"):
                    await send(message)
                    return
                start = message
                return
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                body = b"".join(chunks)
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                headers += [(b"content-security-policy", self.policy(body).encode()),
                            (b"content-length", str(len(body)).encode()),
                            (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)

    def policy(self, body: bytes) -> str:
        hashes = sorted({"'sha256-" + base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode() + "'"
                         for m in INLINE_SCRIPT.finditer(body)})
        # leaflet-measure (the maps' measure control) compiles its underscore templates with new Function():
        # pages that load it allow eval of the page's own scripts; nothing is loaded from elsewhere.
        if b"/leaflet-measure@" in body:
            hashes.append("'unsafe-eval'")
        return "; ".join([
            "default-src 'self'",
            "script-src 'self' " + " ".join(hashes),
            "style-src 'self' 'unsafe-inline'",  # folium writes style blocks and attributes
            f"img-src {self.img}",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'self'",
        ])


def install(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(ContentSecurityPolicy, settings=settings)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"],
                           allow_headers=["Authorization", "Content-Type", "Content-Crs", "If-Match", "If-None-Match"],
                           expose_headers=["ETag", "Location", "Content-Crs"], max_age=600)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
