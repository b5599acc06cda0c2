"""The declarative layer catalogue in ``layers/``: what each layer is, its attributes, code lists and style.

Adding a reference layer means adding ``layers/catalogue/<id>.yaml`` (storage: reference) and its file;
no Python changes.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .core.errors import LandfundError
from .core.vocabulary import Workflow, load_workflow

AttrType = Literal["string", "integer", "number", "boolean", "date"]
Storage = Literal["parcels", "admin_units", "reference", "demand", "programmes", "former_units"]
GeometryType = Literal["Point", "LineString", "MultiPolygon", "none"]
GEOMETRY_FAMILIES: dict[str, tuple[str, ...]] = {
    "Point": ("Point", "MultiPoint"),
    "LineString": ("LineString", "MultiLineString"),
    "MultiPolygon": ("Polygon", "MultiPolygon"),
}


class CatalogueError(LandfundError):
    pass


def fold(name: str) -> str:
    """Compare column names without case, diacritics or punctuation: 'Số thửa' → 'so_thua'."""
    s = unicodedata.normalize("NFKD", str(name).replace("đ", "d").replace("Đ", "D"))
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "_", s).strip("_")


class Text(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vi: str
    en: str

    def __call__(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi


class Value(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vi: str
    en: str
    color: str | None = None

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi


class Attribute(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    type: AttrType
    title: Text
    description: Text | None = None
    required: bool = False
    default: Any = None
    computed: bool = False
    public: bool = True
    unit: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    values: dict[str, Value] | None = None
    values_from: Literal["workflow"] | None = None  # the parcel lifecycle's stages (layers/workflow.yaml)
    codelist: str | None = None
    aliases: list[str] = Field(default_factory=list)
    shp_name: str | None = None

    @property
    def shapefile_name(self) -> str:
        return self.shp_name or self.name

    @model_validator(mode="after")
    def _check(self) -> Attribute:
        if len(self.shapefile_name) > 10:
            raise ValueError(f"attribute {self.name}: Shapefile names are at most 10 characters; set shp_name")
        if self.values and self.default is not None and self.default not in self.values:
            raise ValueError(f"attribute {self.name}: default {self.default!r} is not one of its values")
        if self.type == "date" and isinstance(self.default, str):
            self.default = date.fromisoformat(self.default)
        return self


class Temporal(BaseModel):
    """The attribute(s) a collection's `datetime` parameter filters on: an instant, or a validity interval."""

    model_config = ConfigDict(extra="forbid")
    start: str
    end: str | None = None


class LayerDef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    storage: Storage
    geometry_type: GeometryType
    title: Text
    description: Text | None = None
    source: str | None = None
    attributes: list[Attribute]
    temporal: Temporal | None = None
    style: dict[str, Any] = Field(default_factory=dict)
    # Most vertices one feature may have; parcels use LANDFUND_MAX_VERTICES when this is not set.
    max_vertices: int | None = Field(default=None, ge=4, le=10_000_000)
    # What a reference layer is to the rest of landfund: roads and facilities are measured from every site (a
    # facility's kind is the attribute `role_by` names), hazard zones count against a site in the suitability
    # ranking and are listed on its sheet.
    role: Literal["road", "hazard", "facility"] | None = None
    role_by: str | None = None

    @model_validator(mode="after")
    def _unique(self) -> LayerDef:
        names = [a.name for a in self.attributes]
        shp = [a.shapefile_name for a in self.attributes]
        for label, seq in (("attribute", names), ("shp_name", shp)):
            dup = {n for n in seq if seq.count(n) > 1}
            if dup:
                raise ValueError(f"layer {self.id}: duplicate {label} {sorted(dup)}")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.id):
            raise ValueError(f"layer id {self.id!r} must be lower-case letters, digits and _")
        if self.role and self.storage != "reference":
            raise ValueError(f"layer {self.id}: only reference layers have a role")
        if (self.role == "facility") != bool(self.role_by):
            raise ValueError(
                f"layer {self.id}: a facility layer names the attribute of its kinds (role_by), and only it"
            )
        if self.role_by and self.role_by not in names:
            raise ValueError(f"layer {self.id}: role_by names no attribute ({self.role_by!r})")
        if self.temporal:
            for name in (self.temporal.start, self.temporal.end):
                if name and (name not in names or self.attribute(name).type != "date"):
                    raise ValueError(f"layer {self.id}: temporal attribute {name!r} must be a date attribute")
        return self

    @property
    def spatial(self) -> bool:
        return self.geometry_type != "none"

    @property
    def input_attributes(self) -> list[Attribute]:
        return [a for a in self.attributes if not a.computed]

    @property
    def public_attributes(self) -> list[Attribute]:
        return [a for a in self.attributes if a.public]

    def attribute(self, name: str) -> Attribute:
        for a in self.attributes:
            if a.name == name:
                return a
        raise KeyError(name)

    def column_lookup(self) -> dict[str, str]:
        """Folded source-column name → field name, from names, Shapefile names and aliases."""
        lookup: dict[str, str] = {}
        for a in self.input_attributes:
            for alias in a.aliases:
                lookup.setdefault(fold(alias), a.name)
        for a in self.input_attributes:  # names GDAL truncated to 10 characters for a Shapefile
            lookup.setdefault(fold(a.name[:10]), a.name)
        for a in self.input_attributes:  # exact names and Shapefile names win over aliases
            lookup[fold(a.shapefile_name)] = a.name
            lookup[fold(a.name)] = a.name
        return lookup

    def role_of(self, properties: dict) -> str | None:
        """The role a feature of this layer is stored with (reference_features.role)."""
        if self.role == "facility":
            kind = properties.get(self.role_by or "")
            return f"facility:{kind}" if kind else None
        return self.role

    def source_path(self, layers_dir: Path) -> Path | None:
        return (layers_dir / self.source) if self.source else None


class CodeList(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    title: Text
    codes: dict[str, dict[str, str]]


class Province(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    name: str
    bbox: tuple[float, float, float, float]
    cadastral_crs: str
    reform_date: date
    # communes and wards in urban areas of class III or above, where commercial housing and urban-area projects
    # reserve 20 % of their residential land for social housing (Decree 100/2024, amended by Decree 261/2025)
    reserve_units: list[str] = Field(default_factory=list)

    @property
    def cadastral_srid(self) -> int:
        """The EPSG code of the province's VN-2000 / TM-3 zone (its cadastral CRS)."""
        return int(self.cadastral_crs.split(":")[1])


class Catalogue(BaseModel):
    layers: dict[str, LayerDef]
    codelists: dict[str, CodeList]
    province: Province
    workflow: Workflow
    root: Path

    def for_province(self, province: Province) -> Catalogue:
        """The catalogue as `province` sees it (its outline, units, VN-2000 zone in place of the deployment's)."""
        return self if province is self.province else self.model_copy(update={"province": province})

    def layer(self, layer_id: str) -> LayerDef:
        try:
            return self.layers[layer_id]
        except KeyError:
            raise CatalogueError(
                f"unknown layer {layer_id!r}; the catalogue has: {', '.join(sorted(self.layers))}"
            ) from None

    def codes(self, codelist: str) -> dict[str, dict[str, str]]:
        return self.codelists[codelist].codes

    def with_role(self, role: str) -> list[LayerDef]:
        return [la for la in self.layers.values() if la.role == role]

    @property
    def spatial_layers(self) -> list[LayerDef]:
        return [layer for layer in self.layers.values() if layer.spatial]


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: not valid YAML: {exc}") from exc


@lru_cache(maxsize=8)
def load_catalogue(layers_dir: Path) -> Catalogue:
    layers_dir = Path(layers_dir)
    if not (layers_dir / "catalogue").is_dir():
        raise CatalogueError(f"no layer catalogue at {layers_dir}/catalogue (set LANDFUND_LAYERS_DIR)")
    layers: dict[str, LayerDef] = {}
    codelists: dict[str, CodeList] = {}
    try:
        for path in sorted((layers_dir / "codelists").glob("*.yaml")):
            cl = CodeList.model_validate(_read_yaml(path))
            codelists[cl.id] = cl
        for path in sorted((layers_dir / "catalogue").glob("*.yaml")):
            layer = LayerDef.model_validate(_read_yaml(path))
            if layer.id in layers:
                raise CatalogueError(f"{path}: layer id {layer.id!r} is defined twice")
            for a in layer.attributes:
                if a.codelist and a.codelist not in codelists:
                    raise CatalogueError(f"{path}: attribute {a.name} names unknown code list {a.codelist!r}")
            layers[layer.id] = layer
        province = Province.model_validate(_read_yaml(layers_dir / "province.yaml"))
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        raise CatalogueError(f"layer catalogue in {layers_dir} is invalid:\n{exc}") from exc
    workflow = load_workflow(layers_dir)
    for layer in layers.values():
        for a in layer.attributes:
            if a.values_from == "workflow":
                a.values = {
                    k: Value(vi=st.label.vi, en=st.label.en, color=st.color) for k, st in workflow.stages.items()
                }
                if a.default is None:
                    a.default = workflow.initial
    return Catalogue(layers=layers, codelists=codelists, province=province, workflow=workflow, root=layers_dir)


def get_catalogue(settings=None) -> Catalogue:
    from .core.config import get_settings

    return load_catalogue((settings or get_settings()).layers_dir)
