"""Map definitions (`maps/*.yaml`): audience, layers, styles, tooltip and popup fields, legends, view and
the filters a map accepts. Planners edit these files, not Python."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from ..catalogue import Text
from ..core.errors import LandfundError, NotFound

Kind = Literal["coverage", "parcels", "sites", "reference", "programmes", "parcel", "neighbours", "nearest"]
FILTERS = ("admin_unit", "status", "as_of")
CONTROLS = ("search", "fullscreen", "measure", "minimap", "scale", "layers")


class LayerSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    kind: Kind
    collection: str | None = None
    title: Text | None = None
    style: dict = Field(default_factory=dict)
    colors: list[str] | None = None
    breaks: list[float] | None = None
    color: str | None = None
    tooltip: list[str] = Field(default_factory=list)
    popup: list[str] = Field(default_factory=list)
    fields: list[str] = Field(default_factory=list)
    links: list[Literal["api_item", "site_sheet", "interest"]] = Field(default_factory=list)
    legend: bool = False
    highlight: bool = False
    search: str | None = None
    show: bool = True
    radius_m: float = 1500
    facilities: list[str] = Field(default_factory=list)
    roads: bool = False


class MapDef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    audience: str
    title: Text
    description: Text | None = None
    view: dict = Field(default_factory=lambda: {"fit": "data"})
    filters: list[Literal["admin_unit", "status", "as_of"]] = Field(default_factory=list)
    layers: list[LayerSpec]
    controls: list[Literal["search", "fullscreen", "measure", "minimap", "scale", "layers"]] = Field(
        default_factory=list
    )


@lru_cache(maxsize=16)
def _load(path: Path) -> MapDef:
    try:
        return MapDef.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (yaml.YAMLError, ValueError) as exc:
        raise LandfundError(f"map definition {path} is invalid:\n{exc}") from exc


def load_map(maps_dir: Path, name: str) -> MapDef:
    if not name.replace("_", "").isalnum():
        raise NotFound(f"no map {name!r}")
    path = Path(maps_dir) / f"{name}.yaml"
    if not path.exists():
        raise NotFound(f"no map {name!r}; maps: {', '.join(map_names(maps_dir))}")
    return _load(path)


def map_names(maps_dir: Path) -> list[str]:
    return sorted(p.stem for p in Path(maps_dir).glob("*.yaml") if p.stem != "strings")


@lru_cache(maxsize=4)
def strings(maps_dir: Path) -> dict[str, Text]:
    data = yaml.safe_load((Path(maps_dir) / "strings.yaml").read_text(encoding="utf-8"))
    return {k: Text.model_validate(v) for k, v in data.items()}
