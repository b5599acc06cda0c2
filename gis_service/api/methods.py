"""HEAD and OPTIONS wherever a path exists (RFC 9110 §9.3.2, §9.3.7): HEAD is GET without its body (GDAL's
/vsicurl/ and download managers ask it first); OPTIONS answers 204 with `Allow` listing the methods the path
has. QGIS 3.32+ reads that `Allow` on `/collections/{id}/items` (POST) and `.../items/{featureId}` (PUT, PATCH,
DELETE) to decide whether a layer can be edited. CORS preflights (an Origin with Access-Control-Request-Method)
are left to the CORS middleware."""

from __future__ import annotations

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class HeadAndOptions:
    def __init__(self, app: ASGIApp, routes):
        self.app = app
        self.routes = routes  # the API's routes (APIRoute: a path pattern and its methods)

    def allowed(self, scope: Scope) -> set[str]:
        methods: set[str] = set()
        for route in self.routes:
            match, _ = route.matches({**scope, "method": "GET"})
            route_methods = getattr(route, "methods", None)
            if match == Match.NONE or not route_methods:
                continue
            methods |= set(route_methods)  # the path matches the route's pattern (for GET or another method)
        if "GET" in methods:
            methods.add("HEAD")
        return methods

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        if scope["method"] == "OPTIONS":
            if b"origin" in headers and b"access-control-request-method" in headers:
                return await self.app(scope, receive, send)  # a CORS preflight
            methods = self.allowed(scope)
            if not methods:
                return await self.app(scope, receive, send)  # no such path: its 404
            allow = ", ".join(m for m in ORDER if m in methods | {"OPTIONS"})
            await send({"type": "http.response.start", "status": 204, "headers": [(b"allow", allow.encode())]})
            await send({"type": "http.response.body", "body": b""})
            return

        async def headless(message: Message) -> None:  # HEAD: the GET's status and headers, no body
            if message["type"] == "http.response.body":
                if not message.get("more_body"):
                    await send({"type": "http.response.body", "body": b""})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headless)
