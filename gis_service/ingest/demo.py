"""Load the shipped demo data: every catalogue layer that names a source file, through the normal import."""

from __future__ import annotations

import psycopg

from ..catalogue import Catalogue
from ..models.history import set_actor
from .load import load_file

# Units first (parcels are assigned to them), parcels before the tables that refer to units by code.
ORDER = {"admin_units": 0, "reference": 1, "parcels": 2, "demand": 3, "programmes": 4}
TABLES = ("parcels", "admin_units", "reference_features", "demand", "programmes", "interests", "parcel_history")


def has_data(conn: psycopg.Connection) -> bool:
    return any(conn.execute(f"SELECT EXISTS (SELECT 1 FROM {t})").fetchone()[0] for t in TABLES[:5])


def load_demo(conn: psycopg.Connection, catalogue: Catalogue, settings, *, replace: bool = False) -> dict[str, int] | None:
    """Load every layer's `source` in one transaction. None when data exists and `replace` is false."""
    layers = sorted((la for la in catalogue.layers.values() if la.source), key=lambda la: (ORDER[la.storage], la.id))
    counts: dict[str, int] = {}
    with conn.transaction():
        set_actor(conn, "demo", "the demo land fund, loaded with the statuses it states")
        if replace:
            conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
        elif has_data(conn):
            return None
        for layer in layers:
            result = load_file(conn, catalogue, settings, layer.source_path(catalogue.root), layer.id, keep_status=True)
            counts[layer.id] = len(result.ids)
        for table in TABLES:  # fresh statistics, so the planner picks the spatial indexes from the start
            conn.execute(f"ANALYZE {table}")
    return counts
