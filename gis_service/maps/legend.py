"""Legends as data (drawn by maps.js), and the one folium element of landfund's own: the boot call.

Legends used to be branca elements whose HTML was compiled as a template; now each is a plain
{title, items: [[colour, label], …]} that travels in the map's JSON document."""

from __future__ import annotations

from branca.element import MacroElement
from jinja2 import Template

from ..i18n import number

# Colours for a categorical field whose catalogue values name none (ColorBrewer Set2 / Dark2, colour-blind safe).
PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]


class Boot(MacroElement):
    """Runs `LF.render(map)` after folium has created the map: maps.js reads the page's JSON document and
    draws everything else. The template holds only the map's generated element name."""

    _template = Template("{% macro script(this, kwargs) %}LF.render({{ this._parent.get_name() }});{% endmacro %}")

    def __init__(self):
        super().__init__()
        self._name = "Boot"


def category_colors(values: dict) -> dict[str, str]:
    """Value → colour: the catalogue's colour where it names one, else the palette in order."""
    out = {}
    for i, (key, val) in enumerate(values.items()):
        out[key] = getattr(val, "color", None) or PALETTE[i % len(PALETTE)]
    return out


def class_items(
    colors: list[str], breaks: list[float], lang: str, scale: float = 1.0, suffix: str = "", decimals: int = 1
) -> list[list[str]]:
    """Legend rows of a classed layer: one per class, 'lo–hi', the top class open-ended ('≥ lo')."""
    items = []
    for i, color in enumerate(colors):
        lo, hi = breaks[i] * scale, breaks[i + 1] * scale
        last = i == len(colors) - 1
        if last and hi >= 100 * max(breaks[-2] * scale, 1):  # an open-ended top class (e.g. 10–1000)
            label = f"≥ {number(lo, lang, decimals)}{suffix}"
        else:
            label = (
                f"{number(lo, lang, decimals)}–{number(min(hi, 100 if suffix == '%' else hi), lang, decimals)}{suffix}"
            )
        items.append([color, label])
    return items
