"""The page around a map: no CDN ever, and no data ever compiled as a template.

Folium and its plugins name CDN URLs; the figure below rewrites each one, by the name folium registers it
under, to the vendored copy in gis_service/static/vendor (see scripts/fetch_assets.py). An asset with no
vendored copy stops the render instead of reaching for the internet.

branca compiles the output of every element's macros as a Jinja template before the page is assembled.
So nothing that comes from data, from the catalogue or from ``maps/*.yaml`` is ever handed to a folium or
branca element: the map's content travels as one JSON document (`json_island`), which the page's own
template substitutes as a value, and ``maps.js`` draws it. The folium elements the builder creates carry
only landfund's own constants (element names, asset URLs, the boot call)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import orjson
from branca.element import CssLink, Figure, JavascriptLink
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

from ..core.errors import LandfundError

STATIC = Path(__file__).resolve().parent.parent / "static"

# folium's name for an asset → path under /static
VENDORED = {
    "leaflet": "vendor/leaflet@1.9.4/dist/leaflet.js",
    "leaflet_css": "vendor/leaflet@1.9.4/dist/leaflet.css",
    "Control.Fullscreen.js": "vendor/leaflet.fullscreen@3.0.0/Control.FullScreen.js",
    "Control.FullScreen.css": "vendor/leaflet.fullscreen@3.0.0/Control.FullScreen.css",
    "Control_MiniMap_js": "vendor/leaflet-minimap@3.6.1/dist/Control.MiniMap.min.js",
    "Control_MiniMap_css": "vendor/leaflet-minimap@3.6.1/dist/Control.MiniMap.min.css",
    "vectorGrid": "vendor/leaflet.vectorgrid@1.3.0/dist/Leaflet.VectorGrid.bundled.min.js",
    "landfund_js": "landfund/maps.js",
    "landfund_css": "landfund/maps.css",
    "landfund_pages_css": "landfund/pages.css",
}
# Folium's Map also asks for jQuery, Bootstrap and Font Awesome (for icon markers). These maps use none
# of them, so they are left out rather than served.
MAP_JS = [("leaflet", "leaflet")]
MAP_CSS = [
    ("leaflet_css", "leaflet_css"),
    ("landfund_pages_css", "landfund_pages_css"),
    ("landfund_css", "landfund_css"),
]
# Assets by the map feature that needs them (loaded after Leaflet, before landfund's own script).
FEATURE_ASSETS = {
    "fullscreen": (["Control.Fullscreen.js"], ["Control.FullScreen.css"]),
    "minimap": (["Control_MiniMap_js"], ["Control_MiniMap_css"]),
    "tiles": (["vectorGrid"], []),
}

_ENV = Environment(
    autoescape=True, keep_trailing_newline=True, loader=FileSystemLoader(Path(__file__).resolve().parent / "templates")
)
_PAGE = _ENV.from_string(
    '<!DOCTYPE html>\n<html lang="{{ lang }}">\n<head>\n<meta charset="utf-8">\n'
    "{% if title %}<title>{{ title }}</title>{% endif %}\n{{ header }}\n</head>\n"
    '<body class="lf-map-page lf-map-{{ map_id }}">\n{{ nav }}\n{{ html }}\n{{ after }}\n'
    '<script type="application/json" id="lf-map-spec">{{ spec }}</script>\n'
    "<script{{ nonce_attr }}>\n{{ script }}\n</script>\n</body>\n</html>\n"
)
_INLINE_SCRIPT = re.compile(r"<script(?=[\s>])(?![^>]*\bsrc=)(?![^>]*\bnonce=)")


class AssetError(LandfundError):
    status = 500


def fragment(template: str, **context) -> Markup:
    """HTML of one of maps/templates/ (autoescaped: values are data, never template source)."""
    return Markup(_ENV.get_template(template).render(**context))


def _plain(value):
    """What orjson cannot write by itself: NUMERIC values (Decimal) become numbers."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} cannot be written as JSON")


def json_island(value) -> Markup:
    """JSON for a <script type="application/json"> block: nothing in it can end the block or open a comment,
    and the page's template substitutes it as a value (never compiles it)."""
    raw = orjson.dumps(value, default=_plain, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY).decode()
    for ch, esc in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("'", "\\u0027"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        raw = raw.replace(ch, esc)
    return Markup(raw)


class OfflineFigure(Figure):
    """A branca Figure whose links point at landfund's own copies (`base` is their URL prefix), assembled by
    landfund's own template: the map's content is the JSON document `spec`, `after` is HTML rendered by an
    autoescaping template (the site sheet's tables), and every inline script carries the response's CSP
    nonce when there is one."""

    def __init__(self, base: str, lang: str = "vi", nonce: str | None = None, map_id: str = "", **kwargs):
        super().__init__(**kwargs)
        self.asset_base = base.rstrip("/")
        self.lang = lang
        self.nonce = nonce
        self.map_id = map_id
        self.used: set[str] = set()
        self.spec: dict = {}
        self.after: Markup = Markup("")
        self.nav: Markup = Markup("")

    def render(self, **kwargs) -> str:
        for child in list(self._children.values()):
            child.render(**kwargs)
        for name, child in list(self.header._children.items()):
            if isinstance(child, (JavascriptLink, CssLink)):
                if name not in VENDORED:
                    raise AssetError(
                        f"map asset {name!r} ({child.url}) has no vendored copy; "
                        "add it to scripts/fetch_assets.py and maps/assets.py"
                    )
                child.url = f"{self.asset_base}/{VENDORED[name]}"
                self.used.add(name)
        nonce_attr = Markup(f' nonce="{self.nonce}"') if self.nonce else Markup("")
        header = self.header.render(**kwargs)
        if self.nonce:  # folium's own inline scripts (trusted template output) get the nonce too
            header = _INLINE_SCRIPT.sub(f'<script nonce="{self.nonce}"', header)
        return _PAGE.render(
            lang=self.lang,
            title=self.title,
            map_id=self.map_id,
            header=Markup(header),
            html=Markup(self.html.render(**kwargs)),
            script=Markup(self.script.render(**kwargs)),
            spec=json_island(self.spec),
            after=self.after,
            nav=self.nav,
            nonce_attr=nonce_attr,
        )


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
