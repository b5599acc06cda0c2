"""Rules that only parcels have: no overlap with the reserved land fund, inside the province, known units."""

from __future__ import annotations

import numpy as np

from ..catalogue import Catalogue
from ..stores.parcel_checks import ParcelCheckStore
from .report import Report


def _m2(value: float) -> str:
    return f"{value:,.0f} m²" if value >= 10 else f"{value:.2f} m²"


def overlaps_within_stage(conn, stage: str, report: Report, tolerance_m2: float, withdrawn: str) -> None:
    """Pairs of rows of the same input whose interiors meet (withdrawn rows excepted), found in the stage."""
    for row_no, code, other_row, other_code, area in ParcelCheckStore(conn).overlaps_within(
        stage, tolerance_m2, withdrawn
    ):
        report.add(row_no, "geometry", f"overlaps row {other_row} ({other_code}) by {_m2(area)}", code, kind="overlap")


def new_parcels_start_proposed(
    statuses: list, targets: list, report: Report, rows: np.ndarray, codes: list, initial: str
) -> None:
    """A new parcel enters the land fund in the workflow's first stage; its status then changes only through
    transitions, each with its reason and decision."""
    for i, (status, target) in enumerate(zip(statuses, targets)):
        if target is None and status not in (None, initial):
            report.add(
                int(rows[i]),
                "status",
                f"a new parcel starts as {initial}, not {status}; its status then changes "
                "through transitions, each with its reason and decision",
                codes[i],
                kind="initial_status",
            )


def planning_limits_agree(typed, report: Report, rows: np.ndarray, codes: list) -> None:
    """A floor-area ratio above building density × floors cannot be built (FAR = floor area ÷ site area, and each
    floor covers at most the density's share of the site): such limits contradict each other and are refused."""
    if not {"max_far", "max_density", "max_floors"} <= set(typed.columns):
        return
    for i, (far, dens, floors) in enumerate(zip(typed["max_far"], typed["max_density"], typed["max_floors"])):
        if far is None or dens is None or floors is None:
            continue
        try:
            far, dens, floors = float(far), float(dens), float(floors)
        except (TypeError, ValueError):
            continue
        if np.isnan(far) or np.isnan(dens) or np.isnan(floors):
            continue
        most = dens / 100.0 * floors
        if far > most + 1e-9:
            report.add(
                int(rows[i]),
                "max_far",
                f"FAR {far:g} cannot be reached with {dens:g} % building density and {floors:g} floors "
                f"(at most {most:.2f}); correct one of the three",
                codes[i],
            )


def check_against_store(
    conn, stage: str, catalogue: Catalogue, report: Report, *, allow_overlap: bool, tolerance_m2: float
) -> None:
    """The staged batch against what is stored: inside the province, no overlap with the reserved land fund,
    known units that hold their parcels."""
    province = catalogue.province
    store = ParcelCheckStore(conn)
    for row_no, code, partly, has_boundary in store.outside_province(stage, province.code, province.bbox):
        where = "the boundary" if has_boundary else "the bounding box"
        what = "extends beyond" if partly else "lies outside"
        report.add(row_no, "geometry", f"{what} {where} of province {province.name} ({province.code})", code)
    if not allow_overlap:
        for row_no, code, other, area in store.overlaps(stage, tolerance_m2, catalogue.workflow.withdrawn):
            report.add(
                row_no, "geometry", f"overlaps existing parcel {other} by {_m2(area)}", code, kind="overlap", ref=other
            )
    schematic = store.on_schematic_units(stage)
    if schematic:
        report.warnings.append(
            f"{schematic} parcel(s) were given their administrative unit, and found inside the province, by schematic "
            "boundaries, not legal ones: load the province's legal boundary dataset to be sure (README: "
            "Administrative boundaries)"
        )
    for row_no, code, held in store.reserve_outside(stage, province.reserve_units):
        report.add(
            row_no,
            "fund_source",
            "the 20 % reserve of a commercial housing or urban-area project applies only in urban areas of class III "
            f"or above (in {province.name}: {', '.join(province.reserve_units) or 'none'}); this parcel lies in "
            f"{held or 'no commune'}",
            code,
        )
    for row_no, code, former, name, successor, successor_name, held in store.wrong_former_communes(stage):
        if successor is None:
            message = f"unknown former commune {former!r} (the units before 1 July 2025 are collection former_units)"
        else:
            message = (
                f"former commune {former} ({name}) became {successor} ({successor_name}), which does not hold this "
                f"parcel; by its location it is in {held or 'no commune'}"
            )
        report.add(row_no, "former_commune_code", message, code)
    for row_no, code, unit in store.unknown_units(stage):
        report.add(row_no, "admin_unit_code", f"unknown administrative unit {unit!r}", code)
    for row_no, code, unit, unit_name, held, held_name in store.wrong_units(stage):
        where = f"by its location it is in {held} ({held_name})" if held else "it lies outside every unit"
        report.add(row_no, "admin_unit_code", f"{unit} ({unit_name}) does not hold this parcel; {where}", code)
