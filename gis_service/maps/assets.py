"""No CDN, ever: every script and stylesheet a map loads is a pinned copy served by landfund.

Folium and its plugins name CDN URLs; the figure below rewrites each one, by the name folium registers
it under, to the vendored copy in gis_service/static/vendor (see scripts/fetch_assets.py). An asset
with no vendored copy stops the render instead of reaching for the internet."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from branca.element import CssLink, Figure, JavascriptLink
from jinja2 import Template

from ..core.errors import LandfundError

STATIC = Path(__file__).resolve().parent.parent / "static"

# folium's name for an asset → path under /static
VENDORED = {
    "leaflet": "vendor/leaflet@1.9.4/dist/leaflet.js",
    "leaflet_css": "vendor/leaflet@1.9.4/dist/leaflet.css",
    "d3": "vendor/d3@3.5.17/d3.min.js",
    "Control.Fullscreen.js": "vendor/leaflet.fullscreen@3.0.0/Control.FullScreen.js",
    "Control.FullScreen.css": "vendor/leaflet.fullscreen@3.0.0/Control.FullScreen.css",
    "leaflet_measure_js": "vendor/leaflet-measure@2.1.7/dist/leaflet-measure.js",
    "leaflet_measure_css": "vendor/leaflet-measure@2.1.7/dist/leaflet-measure.css",
    "Control_MiniMap_js": "vendor/leaflet-minimap@3.6.1/dist/Control.MiniMap.min.js",
    "Control_MiniMap_css": "vendor/leaflet-minimap@3.6.1/dist/Control.MiniMap.min.css",
    "Leaflet.Search.js": "vendor/leaflet-search@2.9.7/dist/leaflet-search.min.js",
    "Leaflet.Search.css": "vendor/leaflet-search@2.9.7/dist/leaflet-search.min.css",
    "vectorGrid": "vendor/leaflet.vectorgrid@1.3.0/dist/Leaflet.VectorGrid.bundled.min.js",
    "landfund_js": "landfund/maps.js",
    "landfund_css": "landfund/maps.css",
}
# Folium's Map also asks for jQuery, Bootstrap and Font Awesome (for icon markers). These maps use none
# of them, so they are left out rather than served.
MAP_JS = [("leaflet", "leaflet"), ("landfund_js", "landfund_js")]
MAP_CSS = [("leaflet_css", "leaflet_css"), ("landfund_css", "landfund_css")]
EXTERNAL = re.compile(r"""(?:src|href)=["'](https?:)?//""", re.I)


class AssetError(LandfundError):
    status = 500


class OfflineFigure(Figure):
    """A branca Figure whose header links point at landfund's own copies (`base` is their URL prefix)."""

    _template = Template(
        "<!DOCTYPE html>\n<html lang=\"{{ this.lang }}\">\n<head>\n"
        "{% if this.title %}<title>{{ this.title | e }}</title>{% endif %}\n"
        "    {{ this.header.render(**kwargs) }}\n</head>\n<body>\n    {{ this.html.render(**kwargs) }}\n</body>\n"
        "<script>\n    {{ this.script.render(**kwargs) }}\n</script>\n</html>\n"
    )

    def __init__(self, base: str, lang: str = "vi", **kwargs):
        super().__init__(**kwargs)
        self.asset_base = base.rstrip("/")
        self.lang = lang
        self.used: set[str] = set()

    def render(self, **kwargs):
        for child in list(self._children.values()):
            child.render(**kwargs)
        for name, child in list(self.header._children.items()):
            if isinstance(child, (JavascriptLink, CssLink)):
                if name not in VENDORED:
                    raise AssetError(f"map asset {name!r} ({child.url}) has no vendored copy; "
                                     "add it to scripts/fetch_assets.py and maps/assets.py")
                child.url = f"{self.asset_base}/{VENDORED[name]}"
                self.used.add(name)
        return self._template.render(this=self, kwargs=kwargs)


def check_offline(html: str, allowed_prefixes: tuple[str, ...] = ()) -> None:
    """Refuse a page that would load a script or stylesheet from another host."""
    for m in re.finditer(r"""<(?:script|link)[^>]+(?:src|href)=["']([^"']+)["']""", html, re.I):
        url = m.group(1)
        if re.match(r"^(https?:)?//", url, re.I) and not url.startswith(allowed_prefixes):
            raise AssetError(f"the map would load {url} from the network")


def copy_assets(used: set[str], folder: Path) -> None:
    """Copy what a static map uses next to it: whole vendored packages (with their licences and images)
    and landfund's own files."""
    for name in used:
        rel = Path(VENDORED[name])
        src = STATIC / (rel.parts[0] + "/" + rel.parts[1] if rel.parts[0] == "vendor" else rel)
        dest = folder / src.relative_to(STATIC)
        if src.is_dir():
            if not dest.exists():
                shutil.copytree(src, dest)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
