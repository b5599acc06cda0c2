"""Layers too big to inline come as vector tiles from the API's tile endpoint (Leaflet.VectorGrid).

A page that inlines 100,000 parcels (or tens of thousands of facilities) is tens of MB and freezes the
browser; tiles keep the page the same size whatever the land fund holds. Clicks, tooltips and hover
highlight are bound by maps.js from the same layer spec as inline layers."""

from __future__ import annotations

from urllib.parse import urlencode


def tile_source(ctx, collection: str, params: dict[str, str] | None = None) -> dict:
    """Where maps.js finds a collection's tiles (the map's filters as query parameters)."""
    url = f"{ctx.api_base}/collections/{collection}/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}"
    if params:
        url += "?" + urlencode(params)
    return {"url": url, "layer": collection}


def too_many(ctx, n: int) -> bool:
    """Tiles need a server: a static map (no --api-url) keeps everything inline."""
    return ctx.api_base is not None and n > ctx.settings.map_inline_max_features
