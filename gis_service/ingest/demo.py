"""Load the shipped demo data: every catalogue layer that names a source file, through the normal import."""

from __future__ import annotations

import psycopg

from ..catalogue import Catalogue
from ..stores.history import HistoryStore
from ..stores.maintenance import MaintenanceStore
from .load import load_file

# Units first (parcels are assigned to them), parcels before the tables that refer to units by code.
ORDER = {"admin_units": 0, "former_units": 0, "reference": 1, "parcels": 2, "demand": 3, "programmes": 4}


def has_data(conn: psycopg.Connection) -> bool:
    return MaintenanceStore(conn).has_data()


def load_demo(
    conn: psycopg.Connection, catalogue: Catalogue, settings, *, replace: bool = False
) -> dict[str, int] | None:
    """Load every layer's `source` in one transaction. None when data exists and `replace` is false."""
    layers = sorted((la for la in catalogue.layers.values() if la.source), key=lambda la: (ORDER[la.storage], la.id))
    counts: dict[str, int] = {}
    tables = MaintenanceStore(conn)
    with conn.transaction():
        HistoryStore(conn).set_actor("demo", "the demo land fund, loaded with the statuses it states")
        if replace:
            tables.truncate_all()
        elif tables.has_data():
            return None
        for layer in layers:
            path = layer.source_path(catalogue.root)
            assert path is not None  # only layers with a source are loaded
            result = load_file(conn, catalogue, settings, path, layer.id, keep_status=True)
            counts[layer.id] = len(result.ids)
        tables.analyze()
    return counts
