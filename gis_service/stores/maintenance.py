"""What the demo and big imports do to whole tables."""

from __future__ import annotations

from .base import Store

# Every table of landfund's data, in the order TRUNCATE … CASCADE needs none of.
DATA_TABLES = (
    "parcels",
    "admin_units",
    "former_units",
    "reference_features",
    "demand",
    "programmes",
    "interests",
    "parcel_history",
    "parcel_measures",
)


class MaintenanceStore(Store):
    def has_data(self) -> bool:
        return any(self.one(f"SELECT EXISTS (SELECT 1 FROM {t})")[0] for t in DATA_TABLES[:5])

    def truncate_all(self) -> None:
        """Empty every data table (the owner's privilege: history is never truncated by the service)."""
        self.conn.execute(f"TRUNCATE {', '.join(DATA_TABLES)} RESTART IDENTITY CASCADE")

    def analyze(self, *tables: str) -> None:
        """Fresh statistics, so the planner picks the spatial indexes from the start."""
        for table in tables or DATA_TABLES:
            if table not in DATA_TABLES:
                raise ValueError(f"not a landfund table: {table}")
            self.conn.execute(f"ANALYZE {table}")


class SessionStore(Store):
    """The settings a session runs with (what a pooler's connect_query must give landfund's sessions)."""

    def settings(self, names: tuple[str, ...]) -> dict[str, str]:
        """name → value, in the setting's base unit (ms for timeouts), of each of `names`."""
        return dict(self.all("SELECT name, setting FROM pg_settings WHERE name = ANY(%s)", [list(names)]))
