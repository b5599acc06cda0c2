"""Labels and number formats by language: Vietnamese (1.234,5) by default, English (1,234.5) on request."""

from __future__ import annotations

from ..catalogue import Catalogue, LayerDef

LANGS = ("vi", "en")

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
    hazards = catalogue.layers.get("hazard_zones")
    if hazards is not None:  # hazard lists inside parcel popups
        for a in hazards.attributes:
            if a.values:
                out.setdefault(a.name, {k: v.label(lang) for k, v in a.values.items()})
    return out
