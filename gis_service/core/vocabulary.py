"""The vocabularies landfund speaks, each defined once: the languages, and the parcel lifecycle (read from
`layers/workflow.yaml`, which the catalogue, the services, the pages and the database all use)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .errors import LandfundError

LANGS = ("vi", "en")  # Vietnamese first; English on request (?lang=en)
# Administrative levels; the district level was abolished on 1 July 2025 (it stays for the units before it).
LEVELS = ("province", "district", "commune")
LANG_PATTERN = "^(" + "|".join(LANGS) + ")$"
REQUIREMENTS = ("decision",)


class Label(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vi: str
    en: str

    def __call__(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi


class Stage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: Label
    color: str
    next: list[str] = Field(default_factory=list)
    requires: list[Literal["decision"]] = Field(default_factory=list)
    final: bool = False


class Roles(BaseModel):
    model_config = ConfigDict(extra="forbid")
    call: str
    investor: str
    approved: str


class Workflow(BaseModel):
    model_config = ConfigDict(extra="forbid")
    initial: str
    withdrawn: str
    roles: Roles
    stages: dict[str, Stage]

    @model_validator(mode="after")
    def _consistent(self) -> Workflow:
        names = set(self.stages)
        for name in (self.initial, self.withdrawn, *self.roles.model_dump().values()):
            if name not in names:
                raise ValueError(f"stage {name!r} is named but not defined")
        for name, stage in self.stages.items():
            unknown = set(stage.next) - names
            if unknown:
                raise ValueError(f"stage {name}: next names unknown stages {sorted(unknown)}")
            if stage.final and stage.next:
                raise ValueError(f"stage {name} is final but has next stages")
        return self

    @property
    def order(self) -> list[str]:
        return list(self.stages)

    def allowed(self, current: str) -> list[str]:
        """Where a parcel may go from `current`: its next stages, and withdrawal unless it is final."""
        stage = self.stages.get(current)
        if stage is None or stage.final:
            return []
        return [*stage.next, *([self.withdrawn] if self.withdrawn not in stage.next else [])]

    def transitions(self) -> list[tuple[str, str]]:
        return [(a, b) for a in self.stages for b in self.allowed(a)]

    def open_stages(self) -> list[str]:
        """The stages a parcel is still in the pipeline (not final)."""
        return [n for n, s in self.stages.items() if not s.final]


@lru_cache(maxsize=8)
def load_workflow(layers_dir: Path) -> Workflow:
    path = Path(layers_dir) / "workflow.yaml"
    try:
        return Workflow.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise LandfundError(f"{path} is not a valid workflow: {exc}") from exc


class Period(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    first: int = Field(alias="from", ge=2000, le=2100)
    last: int = Field(alias="to", ge=2000, le=2100)
    units: int = Field(gt=0)
    floor_m2: int | None = Field(None, gt=0)


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: Label
    periods: list[Period]

    def period(self, year: int) -> Period | None:
        """The period `year` falls in."""
        return next((p for p in self.periods if p.first <= year <= p.last), None)


class Targets(BaseModel):
    """layers/targets.yaml: the province's (and the nation's) social-housing targets by period."""

    model_config = ConfigDict(extra="forbid")
    province: Target
    national: Target | None = None


@lru_cache(maxsize=8)
def load_targets(layers_dir: Path) -> Targets:
    path = Path(layers_dir) / "targets.yaml"
    try:
        return Targets.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise LandfundError(f"{path} is not a valid list of targets: {exc}") from exc
