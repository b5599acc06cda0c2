"""Layers too big to inline come as vector tiles from the API's tile endpoint (Leaflet.VectorGrid).

A page that inlines 100,000 parcels (or tens of thousands of facilities) is tens of MB and freezes the
browser; tiles keep the page the same size whatever the land fund holds. Clicks, tooltips and hover
highlight are bound by `LF.bindTiles`, from the same layer spec as inline layers."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import folium
from folium import plugins

from .definition import LayerSpec
from .legend import ScriptBlock

# Panes above the overlay pane, where the choropleth's canvas would otherwise take every click.
PANES = {"reference": ("lf_reference", 440), "parcels": ("lf_parcels", 450)}


def tile_layer(builder, spec: LayerSpec, style: dict, params: dict[str, str] | None = None,
               pane: str = "reference", name: str | None = None) -> plugins.VectorGridProtobuf:
    """A VectorGrid layer over /collections/{collection}/tiles, styled by `style` (LF.tileStyle)."""
    ctx = builder.ctx
    url = f"{ctx.api_base}/collections/{spec.collection}/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}"
    if params:
        url += "?" + urlencode(params)
    pane_name, z_index = PANES[pane]
    if pane_name not in builder.panes:
        folium.map.CustomPane(pane_name, z_index=z_index).add_to(builder.m)
        builder.panes.add(pane_name)
    options = ("{vectorTileLayerStyles: {" + json.dumps(spec.collection) + ": LF.tileStyle(" + json.dumps(style)
               + ")}, interactive: true, maxNativeZoom: 22, getFeatureId: LF.tileFeatureId, pane: '" + pane_name + "'}")
    grid = plugins.VectorGridProtobuf(url, name or spec.title(builder.lang), options, show=spec.show)
    grid.add_to(builder.m)
    ScriptBlock(f"LF.bindTiles({builder.m.get_name()}, {grid.get_name()}, "
                f"{json.dumps(builder.js_spec(spec), ensure_ascii=False)});").add_to(builder.m)
    return grid


def too_many(ctx, n: int) -> bool:
    """Tiles need a server: a static map (no --api-url) keeps everything inline."""
    return ctx.api_base is not None and n > ctx.settings.map_inline_max_features
