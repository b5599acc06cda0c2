"""Map definitions checked against the catalogue, naming the file and line of every mistake.

The service checks every map when it starts (a typo in `collection:` or a missing title stops it with the
file and line, instead of answering 400 or 500 to whoever opens the map), and `landfund check` does the same
from the command line."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from ..analytics.coverage import UnitCoverage
from ..catalogue import Catalogue
from ..core.errors import LandfundError
from .definition import MapDef, map_names, strings

# Fields a layer kind adds to its collection's attributes.
DERIVED = {
    "parcels": {"area_ha"},
    "parcel": {"area_ha"},
    "sites": {"area_ha", "score", "hazards", "est_units", "road_m", "town_m", "school_m", "health_m"},
    "coverage": set(UnitCoverage("", "", "", None).as_dict()) - {"by_status"},
    "programmes": set(UnitCoverage("", "", "", None).as_dict()) - {"by_status"},
}
NEEDS_COLLECTION = {"parcels", "sites", "reference", "parcel", "neighbours"}
NEEDS_TITLE = {"coverage", "sites", "programmes"}
CLASSED = {"coverage", "sites"}


class MapDefinitionError(LandfundError):
    pass


def _line(root, path: list) -> int | None:
    """The 1-based line of the node at `path` (keys and indexes) in a composed YAML document, or of its nearest
    ancestor that exists."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for key in path:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == key), None)
            if found is None:
                return line
            node, line = found[1], found[0].start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def check_map(path: Path, catalogue: Catalogue) -> list[str]:
    """Every problem of one map definition, as 'file:line: where: what'."""
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return [f"{path}:{mark.line + 1 if mark else '?'}: not valid YAML: {getattr(exc, 'problem', exc)}"]
    problems: list[str] = []

    def say(where: list, message: str) -> None:
        label = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in where).replace(".[", "[")
        problems.append(
            f"{path}:{_line(root, where)}: {label}: {message}" if label else f"{path}:{_line(root, where)}: {message}"
        )

    try:
        mapdef = MapDef.model_validate(data)
    except ValidationError as exc:
        for e in exc.errors():
            say(list(e["loc"]), e["msg"])
        return problems
    if mapdef.id != path.stem:
        say(["id"], f"is {mapdef.id!r}, but the file is {path.name}: they must match")
    words = strings(path.parent)
    for i, spec in enumerate(mapdef.layers):
        where = ["layers", i]
        layer = None
        if spec.kind in NEEDS_COLLECTION:
            if not spec.collection:
                say(where, f"a {spec.kind} layer names its collection")
            elif spec.collection not in catalogue.layers:
                say(
                    [*where, "collection"],
                    f"unknown collection {spec.collection!r}; the catalogue has: {', '.join(sorted(catalogue.layers))}",
                )
            else:
                layer = catalogue.layers[spec.collection]
                if spec.kind in ("parcels", "sites", "parcel", "neighbours") and layer.storage != "parcels":
                    say([*where, "collection"], f"a {spec.kind} layer shows parcels, not {spec.collection}")
                if spec.kind == "reference" and layer.storage != "reference":
                    say([*where, "collection"], f"{spec.collection} is not a reference layer")
        if spec.kind in NEEDS_TITLE and spec.title is None:
            say(where, f"a {spec.kind} layer needs a title (vi and en)")
        if spec.kind in CLASSED:
            if not spec.colors or not spec.breaks:
                say(where, f"a {spec.kind} layer needs colors and breaks")
            elif len(spec.breaks) != len(spec.colors) + 1:
                say(
                    [*where, "breaks"],
                    f"{len(spec.colors)} colours need {len(spec.colors) + 1} breaks, not {len(spec.breaks)}",
                )
            elif spec.breaks != sorted(spec.breaks):
                say([*where, "breaks"], "must rise")
        known = set(DERIVED.get(spec.kind, set()))
        if layer is not None:
            known |= {a.name for a in layer.attributes}
        if spec.kind in ("coverage", "programmes"):
            known |= {a.name for a in catalogue.layer("admin_units").attributes}
        for name in ("tooltip", "popup", "fields"):
            for j, f in enumerate(getattr(spec, name)):
                if known and f not in known:
                    say([*where, name, j], f"unknown field {f!r}" + (f" of {spec.collection}" if layer else ""))
        by = spec.style.get("by")
        if by and layer is not None and spec.kind != "sites":
            attr = next((a for a in layer.attributes if a.name == by), None)
            if attr is None or not attr.values:
                say([*where, "style", "by"], f"{by!r} is not a field of {spec.collection} with a list of values")
        if spec.search and layer is not None and spec.search not in {a.name for a in layer.attributes}:
            say([*where, "search"], f"unknown field {spec.search!r} of {spec.collection}")
        kinds = {k for fac in catalogue.with_role("facility") for k in (fac.attribute(fac.role_by or "").values or {})}
        for j, kind in enumerate(spec.facilities):
            if kind not in kinds:
                say([*where, "facilities", j], f"unknown facility kind {kind!r}; known: {', '.join(sorted(kinds))}")
    for name in ("title", "description"):
        if getattr(mapdef, name) is None and name == "title":
            say([name], "is required")
    missing = [k for k in ("legend_status", "legend_score", "schematic", "no_features") if k not in words]
    if missing:
        problems.append(f"{path.parent / 'strings.yaml'}: missing words {', '.join(missing)}")
    return problems


def check_maps(maps_dir: Path, catalogue: Catalogue) -> list[str]:
    return [p for name in map_names(maps_dir) for p in check_map(Path(maps_dir) / f"{name}.yaml", catalogue)]


def require_valid_maps(maps_dir: Path, catalogue: Catalogue) -> None:
    problems = check_maps(maps_dir, catalogue)
    if problems:
        raise MapDefinitionError("the map definitions have mistakes:\n" + "\n".join(problems))


__all__ = ["MapDef", "check_map", "check_maps", "require_valid_maps"]
