"""The province's legal boundaries (hồ sơ địa giới hành chính) in place of the schematic ones: a file of the units in
force (the province and its communes and wards, by GSO code), read and checked like any import, each unit's boundary
replaced in one transaction. The file must hold every commune and ward in force, so legal and schematic boundaries
never mix; the parcels whose recorded commune no longer holds them are listed (and, asked, reassigned)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import shapely

from ..catalogue import Catalogue
from ..stores.admin_units import AdminUnitStore
from ..stores.history import HistoryStore
from ..validation import ValidationFailed
from ..validation.geometry import check_geometries
from ..validation.report import Report
from .read import read_source


@dataclass
class BoundaryResult:
    replaced: list[str] = field(default_factory=list)
    moved: list[tuple[int, str, str, str]] = field(default_factory=list)  # (id, code, recorded unit, unit now)
    reassigned: bool = False
    warnings: list[str] = field(default_factory=list)


def replace_boundaries(
    conn,
    catalogue: Catalogue,
    settings,
    path: Path | str,
    *,
    crs: str | None = None,
    mapping: dict[str, str] | None = None,
    source_layer: str | None = None,
    note: str | None = None,
    reassign: bool = False,
    dry_run: bool = False,
) -> BoundaryResult:
    """Inside the caller's transaction: check the file, replace the boundaries (unless `dry_run`), list the parcels
    now in another commune, and record theirs anew when `reassign`. ValidationFailed writes nothing."""
    layer = catalogue.layer("admin_units")
    source = read_source(path, layer, crs=crs, mapping=mapping, source_layer=source_layer)
    frame = source.frame
    assert frame is not None  # read_source reads the whole file
    report = Report(rows=len(frame))
    rows = np.arange(1, len(frame) + 1)
    if "code" not in frame.columns:
        report.add(None, "code", "the file has no column of GSO codes (map it with --map SOURCE=code)")
        raise ValidationFailed(report)
    codes = [None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip() for v in frame["code"]]
    raw = np.array([g if isinstance(g, shapely.Geometry) else None for g in frame["geometry"]], dtype=object)
    geoms, usable = check_geometries(raw, layer, report, rows, codes, layer.max_vertices or settings.max_vertices)
    store = AdminUnitStore(conn)
    in_force = {code: level for code, _name, level, _province in store.in_force(date.today())}
    seen: dict[str, int] = {}
    for i, code in enumerate(codes):
        if not code:
            report.add(int(rows[i]), "code", "is required but empty")
        elif code in seen:
            report.add(int(rows[i]), "code", f"unit {code} is also row {seen[code]} of this file", code)
        elif code not in in_force:
            report.add(int(rows[i]), "code", f"no unit {code!r} is in force today (a former unit keeps its record)")
        else:
            seen[code] = int(rows[i])
    missing = sorted(c for c, level in in_force.items() if level == "commune" and c not in seen)
    if missing:
        report.add(
            None,
            None,
            f"the file lacks {len(missing)} of the communes and wards in force ({', '.join(missing[:12])}"
            f"{', …' if len(missing) > 12 else ''}): legal and schematic boundaries would mix",
        )
    if not report.ok:
        raise ValidationFailed(report)
    result = BoundaryResult(warnings=list(source.warnings))
    provinces = [c for c, level in in_force.items() if level == "province"]
    if provinces and not any(c in seen for c in provinces):
        result.warnings.append(
            f"the province's own outline ({', '.join(provinces)}) is not in the file: 'inside the province' still "
            "uses the schematic one"
        )
    if dry_run:
        result.replaced = list(seen)
        return result
    label = note or f"Legal boundary (hồ sơ địa giới hành chính): {Path(path).name}"
    for i, code in enumerate(codes):
        if usable[i] and code:
            store.replace_boundary(code, shapely.to_wkb(geoms[i]), label)
            result.replaced.append(code)
    result.moved = store.parcels_in_other_units()
    if reassign and result.moved:
        HistoryStore(conn).set_actor("landfund boundaries", f"the legal boundaries of {Path(path).name}")
        store.reassign([(pid, now) for pid, _code, _was, now in result.moved])
        result.reassigned = True
    return result
