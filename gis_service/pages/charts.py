"""The dashboard's and the reports' charts: Vega-Lite specifications written with altair (a maintained library
with a grammar of graphics) and drawn to SVG on the server by vl-convert (Vega's own renderer, embedded: no
JavaScript on the page, no CDN, and the same SVG goes into the printed PDF). Every chart is also a table on the
page that shows it."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

import altair as alt
import pandas as pd
import vl_convert as vlc
from markupsafe import Markup

FONT = "DejaVu Sans"  # has every Vietnamese letter; installed with the service (fonts-dejavu-core)
LOCALES = {
    "vi": {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["", " ₫"]},
    "en": {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["", " VND"]},
}
COVERAGE_COLORS = ["#8c510a", "#d8b365", "#f6e8c3", "#c7eae5", "#5ab4ac", "#01665e"]  # as the planner map's
COVERAGE_BREAKS = [0.5, 1, 2, 5, 10]
KIND_COLORS = {"stage_overdue": "#e08214", "clearance_not_started": "#8073ac", "district_responsibility": "#9e9e9e"}
WIDTH = 560


def _config(chart: alt.Chart) -> alt.Chart:
    return (
        chart.configure(font=FONT, background="white")
        .configure_axis(labelFontSize=11, titleFontSize=11)
        .configure_legend(labelFontSize=11, titleFontSize=11, orient="bottom")
        .configure_view(stroke=None)
    )


@lru_cache(maxsize=256)
def _svg(spec: str, lang: str) -> str:
    return vlc.vegalite_to_svg(json.loads(spec), format_locale=LOCALES.get(lang, LOCALES["vi"]))


def svg(chart: alt.Chart, lang: str, label: str) -> Markup:
    """The chart as inline SVG, named for screen readers; drawn once per distinct chart (cached)."""
    spec = _config(chart).to_json(sort_keys=True)
    drawn = _svg(spec, lang)
    key = hashlib.sha1(spec.encode(), usedforsecurity=False).hexdigest()[:8]
    # the SVG is Vega's output over our data: text in it is escaped by Vega (it is XML); it is never template source
    return Markup(drawn.replace("<svg ", f'<svg role="img" aria-label="{_attr(label)}" data-chart="{key}" ', 1))


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def pipeline(rows: list[dict], stages: dict, t) -> alt.Chart:
    """Estimated dwellings (and parcels) by stage, in the procedure's order, coloured as the maps colour stages."""
    data = pd.DataFrame(
        [
            {
                "stage": stages[r["stage"]].label(t.lang),
                "order": i,
                "units": r["est_units"],
                "parcels": r["parcels"],
                "ha": r["area_ha"],
                "color": stages[r["stage"]].color,
            }
            for i, r in enumerate(rows)
        ]
    )
    base = alt.Chart(data).encode(
        y=alt.Y("stage:N", sort=alt.SortField("order"), title=None),
        x=alt.X("units:Q", title=t("chart_units")),
    )
    bars = base.mark_bar().encode(color=alt.Color("color:N", scale=None), tooltip=["stage", "units", "parcels", "ha"])
    text = base.mark_text(align="left", dx=4, fontSize=11).encode(text=alt.Text("parcels:Q", format=",d"))
    return (bars + text).properties(width=WIDTH - 160, height=24 * len(rows))


def coverage_bars(units: list[dict], t) -> alt.Chart:
    """Coverage of demand per unit, lowest first, coloured with the planner map's classes; a rule at 1 (enough)."""
    data = pd.DataFrame(
        [
            {"unit": u["name"], "ratio": u["coverage_ratio"], "short": u["short_of_land"]}
            for u in units
            if u["coverage_ratio"] is not None
        ]
    )
    if data.empty:
        data = pd.DataFrame([{"unit": "—", "ratio": 0.0, "short": False}])
    scale = alt.Scale(type="threshold", domain=COVERAGE_BREAKS, range=COVERAGE_COLORS)
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("unit:N", sort=alt.EncodingSortField("ratio", order="ascending"), title=None),
            x=alt.X("ratio:Q", title=t("chart_coverage"), scale=alt.Scale(type="symlog")),
            color=alt.Color("ratio:Q", scale=scale, legend=alt.Legend(title=t("chart_coverage"), format=".1f")),
            tooltip=["unit", alt.Tooltip("ratio:Q", format=".2f")],
        )
    )
    one = alt.Chart(pd.DataFrame([{"x": 1.0}])).mark_rule(color="#222", strokeDash=[4, 3]).encode(x="x:Q")
    return (bars + one).properties(width=WIDTH - 200, height=max(60, 14 * len(data)))


TOP_HOLDERS = 12


def overdue(groups: list[dict], t, kinds: dict[str, str]) -> alt.Chart:
    """Who holds the overdue parcels: findings per responsible level and agency (the 12 who hold most, the rest
    together), stacked by kind."""
    rows = []
    if len(groups) > TOP_HOLDERS:
        rest: dict[str, int] = {}
        for g in groups[TOP_HOLDERS:]:
            for k, n in g["by_kind"].items():
                rest[k] = rest.get(k, 0) + n
        groups = [
            *groups[:TOP_HOLDERS],
            {
                "responsible_level": "others",
                "responsible_agency": t("others", n=len(groups) - TOP_HOLDERS),
                "findings": sum(rest.values()),
                "by_kind": rest,
            },
        ]
    for g in groups:
        who = f"{t('level_' + (g['responsible_level'] or 'none'))} · {g['responsible_agency'] or '—'}"
        for kind, n in g["by_kind"].items():
            rows.append({"who": who, "kind": kinds.get(kind, kind), "key": kind, "n": n, "total": g["findings"]})
    data = pd.DataFrame(rows or [{"who": "—", "kind": "—", "key": "stage_overdue", "n": 0, "total": 0}])
    colors = alt.Scale(domain=[kinds[k] for k in KIND_COLORS if k in kinds], range=list(KIND_COLORS.values()))
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y(
                "who:N",
                sort=alt.EncodingSortField("total", order="descending"),
                title=None,
                axis=alt.Axis(labelLimit=300),
            ),
            x=alt.X("sum(n):Q", title=t("chart_findings")),
            color=alt.Color("kind:N", scale=colors, legend=alt.Legend(title=None, columns=1)),
            tooltip=["who", "kind", "n"],
        )
        .properties(width=WIDTH - 320, height=max(60, 22 * data["who"].nunique()))
    )


def trend(rows: list[dict], t) -> alt.Chart:
    """Land added to the fund each quarter (bars) and in all (line)."""
    data = pd.DataFrame(
        rows or [{"label": "—", "quarter": "2000-01-01", "area_ha": 0.0, "cumulative_ha": 0.0, "parcels": 0}]
    )
    x = alt.X("label:N", sort=alt.SortField("quarter"), title=None, axis=alt.Axis(labelAngle=-45))
    bars = (
        alt.Chart(data)
        .mark_bar(color="#4e79a7")
        .encode(x=x, y=alt.Y("area_ha:Q", title=t("chart_added_ha")), tooltip=["label", "area_ha", "parcels"])
    )
    line = (
        alt.Chart(data)
        .mark_line(color="#e15759", point=True)
        .encode(x=x, y=alt.Y("cumulative_ha:Q", title=t("chart_cumulative_ha")))
    )
    return alt.layer(bars, line).resolve_scale(y="independent").properties(width=WIDTH - 80, height=220)


def programmes(rows: list[dict], t) -> alt.Chart:
    """Households supported each year, the funding written on each bar."""
    data = pd.DataFrame(
        [
            {"year": str(r["year"]), "households": r["households"], "billion": round(r["funding_vnd"] / 1e9, 3)}
            for r in rows
        ]
        or [{"year": "—", "households": 0, "billion": 0.0}]
    )
    base = alt.Chart(data).encode(x=alt.X("year:N", title=None), y=alt.Y("households:Q", title=t("chart_households")))
    bars = base.mark_bar(color="#59a14f")
    text = base.mark_text(dy=-6, fontSize=11).encode(text=alt.Text("billion:Q", format=",.3f"))
    return (bars + text).properties(width=max(360, 70 * len(data)), height=200)
