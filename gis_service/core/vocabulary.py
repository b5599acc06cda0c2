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
# What entering a stage can require (layers/workflow.yaml explains each); services.lifecycle checks them.
Requirement = Literal["decision", "plan", "investor", "cleared", "tenure", "payment", "elsewhere"]
REQUIREMENTS: tuple[str, ...] = Requirement.__args__  # type: ignore[attr-defined]


class Label(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vi: str
    en: str

    def __call__(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi


class Stage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: Label
    hint: Label | None = None
    color: str
    next: list[str] = Field(default_factory=list)
    requires: list[Requirement] = Field(default_factory=list)
    final: bool = False


class Roles(BaseModel):
    model_config = ConfigDict(extra="forbid")
    call: str
    investor: str
    approved: str
    clearance: str
    completed: str


class Workflow(BaseModel):
    model_config = ConfigDict(extra="forbid")
    initial: str
    withdrawn: str
    roles: Roles
    # statuses before the present stages -> the stage each became (old history keeps the old name)
    former: dict[str, str] = Field(default_factory=dict)
    # fund source -> {stage: the stages its parcels go to instead of that stage's `next`}
    paths: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    stages: dict[str, Stage]

    @model_validator(mode="after")
    def _consistent(self) -> Workflow:
        names = set(self.stages)
        for name in (self.initial, self.withdrawn, *self.roles.model_dump().values(), *self.former.values()):
            if name not in names:
                raise ValueError(f"stage {name!r} is named but not defined")
        for name, stage in self.stages.items():
            unknown = set(stage.next) - names
            if unknown:
                raise ValueError(f"stage {name}: next names unknown stages {sorted(unknown)}")
            if stage.final and stage.next:
                raise ValueError(f"stage {name} is final but has next stages")
        for source, path in self.paths.items():
            for name, targets in path.items():
                unknown = ({name} | set(targets)) - names
                if unknown:
                    raise ValueError(f"path {source}: names unknown stages {sorted(unknown)}")
        return self

    @property
    def order(self) -> list[str]:
        return list(self.stages)

    def allowed(self, current: str, fund_source: str | None = None) -> list[str]:
        """Where a parcel may go from `current`: its next stages (those of its fund source's own path, if it has
        one), and withdrawal unless it is final. Without a fund source: every stage any path allows."""
        stage = self.stages.get(current)
        if stage is None or stage.final:
            return []
        if fund_source is None:
            nexts = [*stage.next, *(s for p in self.paths.values() for s in p.get(current, []))]
        else:
            nexts = self.paths.get(fund_source, {}).get(current, stage.next)
        nexts = list(dict.fromkeys(nexts))
        return [*nexts, *([self.withdrawn] if self.withdrawn not in nexts else [])]

    def transitions(self) -> list[tuple[str, str]]:
        """Every (from, to) some fund source may take: what the database's trigger allows."""
        return [(a, b) for a in self.stages for b in self.allowed(a)]

    def label(self, status: str | None, lang: str) -> str | None:
        """A status's label; a former status is shown as the stage it became."""
        if status is None:
            return None
        stage = self.stages.get(status) or self.stages.get(self.former.get(status, ""))
        return stage.label(lang) if stage else status

    def main_line(self) -> list[str]:
        """The procedure's stages in order, from the first: each stage's first `next` until a final one."""
        line, stage = [self.initial], self.stages[self.initial]
        while stage.next and stage.next[0] not in line:
            line.append(stage.next[0])
            stage = self.stages[stage.next[0]]
        return line

    def gone(self) -> list[str]:
        """The final stages whose land no longer counts in the fund: withdrawn, a 20 % reserve paid for or provided
        elsewhere (every final stage but the dwellings' handover)."""
        return [n for n, s in self.stages.items() if s.final and n != self.roles.completed]

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
