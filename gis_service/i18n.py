"""Labels and formats by language, for every page, map, report and export: Vietnamese (1.234,5; dd/mm/yyyy)
by default, English (1,234.5; yyyy-mm-dd) on request."""

from __future__ import annotations

from datetime import date, datetime

from .catalogue import Catalogue, LayerDef
from .core.vocabulary import LANGS

__all__ = ["FORMATS", "LANGS", "day", "field_label", "number", "shown", "value_labels"]

# How derived fields are shown (the catalogue covers stored fields).
FORMATS: dict[str, dict] = {
    "area_ha": {"decimals": 2, "unit": "ha"},
    "area_m2": {"decimals": 1, "unit": "m²"},
    "legal_area_m2": {"decimals": 1, "unit": "m²"},
    "est_units": {"decimals": 0},
    "households": {"decimals": 0},
    "coverage_ratio": {"decimals": 2},
    "score": {"kind": "percent"},
    "road_m": {"decimals": 0, "unit": "m"},
    "town_m": {"decimals": 0, "unit": "m"},
    "school_m": {"decimals": 0, "unit": "m"},
    "health_m": {"decimals": 0, "unit": "m"},
    "hazards": {"kind": "hazards"},
    "programme_funding_vnd": {"kind": "billion"},
    "programme_households": {"decimals": 0},
    "programme_year": {"decimals": 0},
    "max_far": {"decimals": 2},
    "max_density": {"decimals": 0, "unit": "%"},
}


def number(x: float | int | None, lang: str, decimals: int = 2) -> str:
    """1234.5 → '1.234,5' (vi) or '1,234.5' (en)."""
    if x is None:
        return "—"
    text = f"{x:,.{decimals}f}"
    if decimals and "." in text:
        text = text.rstrip("0").rstrip(".")
    if lang == "en":
        return text
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def day(d: date | datetime | str | None, lang: str) -> str:
    """15/03/2024 (vi) or 2024-03-15 (en)."""
    if d is None:
        return "—"
    if isinstance(d, str):  # ISO text (JSON)
        try:
            when: date = datetime.fromisoformat(d).date()
        except ValueError:
            return d
    else:
        when = d.date() if isinstance(d, datetime) else d
    return when.strftime("%d/%m/%Y") if lang == "vi" else when.isoformat()


def shown(name: str, v, lang: str, values: dict | None = None, units: dict | None = None, decimals: int = 2) -> str:
    """One value as a person reads it: its label (statuses, code lists), a unit's name, a formatted number or
    date, ✓/✗, or — for none."""
    if values and name in values and v in values[name]:
        return values[name][v]
    if name == "admin_unit_code" and units and v in units:
        return f"{units[v]} ({v})"
    if isinstance(v, bool):
        return "✓" if v else "✗"
    if isinstance(v, float):
        return number(v, lang, decimals)
    if isinstance(v, int):
        return number(v, lang, 0)
    if isinstance(v, (date, datetime)):
        return day(v, lang)
    return "—" if v is None or v == "" else str(v)


def field_label(name: str, layer: LayerDef | None, words: dict, lang: str) -> str:
    if name in words:
        return words[name](lang)
    if layer is not None:
        try:
            return layer.attribute(name).title(lang)
        except KeyError:
            pass
    return name


def value_labels(layer: LayerDef | None, catalogue: Catalogue, lang: str) -> dict[str, dict[str, str]]:
    """Field → {value: label} for every enumerated field of a layer (and code lists)."""
    out: dict[str, dict[str, str]] = {}
    if layer is None:
        return out
    for a in layer.attributes:
        if a.values:
            out[a.name] = {k: v.label(lang) for k, v in a.values.items()}
        elif a.codelist:
            out[a.name] = {k: f"{k} – {v[lang]}" for k, v in catalogue.codes(a.codelist).items()}
    for hazards in catalogue.with_role("hazard"):  # hazard lists inside parcel popups
        for a in hazards.attributes:
            if a.values:
                out.setdefault(a.name, {k: v.label(lang) for k, v in a.values.items()})
    return out
