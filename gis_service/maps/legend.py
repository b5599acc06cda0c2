"""Legends: a categorical one (a colour per value) as a Leaflet control, and branca colour scales."""

from __future__ import annotations

import html

import branca.colormap as cm
from branca.element import ENV
from branca.element import MacroElement
from jinja2 import Template


class CategoryLegend(MacroElement):
    """A legend box listing colours and labels, in the map's bottom right corner."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var legend = L.control({position: "{{ this.position }}"});
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "lf-legend");
    div.setAttribute("data-legend", "{{ this.key }}");
    div.innerHTML = {{ this.html | tojson }};
    return div;
  };
  legend.addTo({{ this._parent.get_name() }});
})();
{% endmacro %}
""")

    def __init__(self, key: str, title: str, items: list[tuple[str, str]], position: str = "bottomright"):
        super().__init__()
        self._name = "CategoryLegend"
        self.key = key
        self.position = position
        rows = "".join(f'<div><i style="background:{html.escape(c)}"></i>{html.escape(label)}</div>' for c, label in items)
        self.html = f"<h4>{html.escape(title)}</h4>{rows}"


# branca's own colour-scale template, with tick labels added below
ENV_TEMPLATE = ENV.loader.get_source(ENV, "color_scale.js")[0]


class ClassScale(cm.StepColormap):
    """A branca step scale whose classes are drawn equally wide and labelled with their (localised) breaks:
    breaks such as 0, 0.5, 1, 2, 5, 10 would crowd at one end of a linear axis."""

    def __init__(self, colors: list[str], labels: list[str], caption: str):
        n = len(colors)
        super().__init__(colors=colors, index=list(range(n + 1)), vmin=0, vmax=n, caption=caption,
                         tick_labels=list(range(n + 1)))
        self.break_labels = labels
        self._template = Template(ENV_TEMPLATE.replace(
            ".tickValues({{ this.tick_labels }});",
            ".tickValues({{ this.tick_labels }})"
            ".tickFormat(function (d) { return {{ this.break_labels | tojson }}[d]; });"))


def step_colormap(colors: list[str], breaks: list[float], caption: str, labels: list[str]) -> ClassScale:
    """The legend of a classed choropleth: one equal-width box per class, ticks at the breaks."""
    return ClassScale(colors, labels, caption)


class HtmlBlock(MacroElement):
    """HTML placed in the page after the map (MacroElement children render after their parent's div)."""

    _template = Template("{% macro html(this, kwargs) %}{{ this.content }}{% endmacro %}")

    def __init__(self, content: str):
        super().__init__()
        self._name = "HtmlBlock"
        self.content = content


class ScriptBlock(MacroElement):
    """JavaScript run after the map and the layers added before it (a MacroElement child renders after them)."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.code }}{% endmacro %}")

    def __init__(self, code: str):
        super().__init__()
        self._name = "ScriptBlock"
        self.code = code


class MetricScale(MacroElement):
    """A scale bar in metres and kilometres only."""

    _template = Template("""{% macro script(this, kwargs) %}
L.control.scale({imperial: false, position: "bottomleft"}).addTo({{ this._parent.get_name() }});
{% endmacro %}""")


def bin_color(value: float | None, colors: list[str], breaks: list[float], missing: str = "#bdbdbd") -> str:
    if value is None:
        return missing
    for i in range(len(breaks) - 1):
        if value < breaks[i + 1]:
            return colors[min(i, len(colors) - 1)]
    return colors[-1]
