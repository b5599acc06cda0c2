"""A second (third, …) province in the same database, from one folder laid out as layers/demo is: `province.yaml`
(the province's code, name, extent, VN-2000 zone, reform date, 20 % reserve units, as layers/province.yaml) and a
file per catalogue layer, named by the layer (admin_units.gpkg, parcels.shp, roads.geojson, demand.csv, …).

Each file goes through the normal import with that province in place of the deployment's: its parcels are checked
against its own outline, units and zone, and written with its province_code, into a partition of their own. All
files in one transaction: a bad row anywhere writes nothing."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from ..catalogue import Catalogue, Province
from ..core.errors import LandfundError
from ..stores.admin_units import AdminUnitStore
from ..stores.history import HistoryStore
from ..stores.maintenance import MaintenanceStore
from ..stores.parcels import ParcelStore
from ..stores.provinces import ProvinceStore
from ..validation import ValidationFailed
from .demo import ORDER
from .load import ImportResult, load_file

EXTENSIONS = (".gpkg", ".geojson", ".json", ".shp", ".zip", ".csv", ".xlsx", ".parquet", ".fgb", ".kml")


@dataclass
class Loaded:
    province: Province
    results: list[ImportResult] = field(default_factory=list)


def read_province(folder: Path) -> Province:
    path = folder / "province.yaml"
    try:
        return Province.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise LandfundError(
            f"{path}: {exc.strerror or exc}; a province's folder starts with its province.yaml"
        ) from None
    except (yaml.YAMLError, ValidationError) as exc:
        raise LandfundError(f"{path} is not a valid province description: {exc}") from None


def layer_files(folder: Path, catalogue: Catalogue) -> list[tuple[str, Path]]:
    """(layer id, file) of each catalogue layer the folder holds, in load order (units first)."""
    found = []
    for layer in catalogue.layers.values():
        paths = [folder / f"{layer.id}{ext}" for ext in EXTENSIONS if (folder / f"{layer.id}{ext}").is_file()]
        if len(paths) > 1:
            raise LandfundError(
                f"{folder}: more than one file for layer {layer.id}: {', '.join(p.name for p in paths)}"
            )
        if paths:
            found.append((layer.id, paths[0]))
    return sorted(found, key=lambda f: (ORDER[catalogue.layer(f[0]).storage], f[0]))


def load_province(conn, catalogue: Catalogue, settings, folder: Path, *, keep_status: bool = False) -> Loaded:
    """Load the province in `folder` inside the caller's transaction; raises LandfundError (or an import's own
    error) and writes nothing when anything is wrong."""
    province = read_province(folder)
    if not province.code.isdigit() or len(province.code) != 2:
        raise LandfundError(
            f"{folder / 'province.yaml'}: code: a GSO province code is two digits, not {province.code!r}"
        )
    units = AdminUnitStore(conn)
    held = units.provinces()
    if province.code in held or province.code == catalogue.province.code:
        raise LandfundError(f"this database already holds province {province.code}; nothing was loaded")
    files = layer_files(folder, catalogue)
    if not files or files[0][0] != "admin_units":
        raise LandfundError(
            f"{folder}: no admin_units file (admin_units.gpkg, .geojson, .shp …): a province is loaded with its units"
        )
    theirs = catalogue.for_province(province)
    HistoryStore(conn).set_actor(f"province:{getpass.getuser()}", f"province {province.code} loaded from {folder.name}")
    ParcelStore(conn).add_province(province.code)
    ProvinceStore(conn).record(province)  # its zone, for its site sheets and certificates' areas
    loaded = Loaded(province)
    for layer_id, path in files:
        try:
            loaded.results.append(load_file(conn, theirs, settings, path, layer_id, keep_status=keep_status))
        except ValidationFailed as exc:
            exc.source_name = path.name  # which of the folder's files was refused
            raise
        if layer_id == "admin_units":
            _check_units(units, province, loaded.results[-1])
    MaintenanceStore(conn).analyze()
    return loaded


def _check_units(units: AdminUnitStore, province: Province, result: ImportResult) -> None:
    """The units loaded are the province's: its own outline (code = the province's), and units that lie in it."""
    codes = units.codes_of(result.ids)
    if province.code not in codes:
        raise LandfundError(
            f"admin_units: no unit with the province's code {province.code} (level province): its outline is needed"
        )
    strays = sorted(c for c in codes if units.province_of(c) != province.code)
    if strays:
        raise LandfundError(
            f"admin_units: {len(strays)} unit(s) are not within province {province.code} by their parent_code: "
            + ", ".join(strays[:10])
        )
