"""The append-only history of parcels (written by database triggers), and who is writing."""

from __future__ import annotations

from psycopg import sql

from .base import Store

# Entry into the current stage: the last transition into it; else the planning decision for decided stages;
# else when the parcel was recorded.
STAGE_SINCE_SQL = """
coalesce(
    (SELECT max(h.at)::date FROM parcel_history h
      WHERE h.parcel_id = p.id AND h.action = 'transition' AND h.new_status = p.status),
    CASE WHEN p.status <> 'proposed' THEN p.decision_date END,
    p.created_at::date)
"""

ENTRIES_SQL = """
SELECT id, at, actor, action, old_status, new_status, changes, geometry_changed, reason, decision_no, decision_date,
       unconditional
FROM parcel_history WHERE parcel_id = %s ORDER BY at, id
"""

PREVIOUS_GEOMETRY_SQL = """
SELECT ST_AsGeoJSON(ST_SimplifyPreserveTopology(old_geom, %(tolerance)s), 7), at FROM parcel_history
WHERE parcel_id = %(id)s AND action IN ('update', 'transition') AND geometry_changed ORDER BY at DESC, id DESC LIMIT 1
"""


class HistoryStore(Store):
    def set_actor(self, actor: str, reason: str | None = None) -> None:
        """Name who is writing (and why) for the history triggers, for the rest of this transaction. As `SET LOCAL`
        statements, not `set_config()`: Citus sends a transaction's SET LOCAL to the workers whose triggers write
        the history (citus.propagate_set_commands = local), and drops what set_config() set on the coordinator."""
        for name, value in (("landfund.actor", actor), ("landfund.reason", reason or "")):
            self.conn.execute(sql.SQL("SET LOCAL {} = {}").format(sql.Identifier(*name.split(".")), sql.Literal(value)))

    def mark_unconditional(self) -> None:
        """The history entries of this transaction say they were written without If-Match (parcel_history's
        `unconditional` column defaults to this setting)."""
        self.conn.execute("SET LOCAL landfund.unconditional = on")

    def actor(self) -> str | None:
        return self.one("SELECT current_setting('landfund.actor', true)")[0] or None

    def exists(self, fid: int) -> bool:
        return self.one("SELECT 1 FROM parcel_history WHERE parcel_id = %s LIMIT 1", [fid]) is not None

    def entries(self, fid: int) -> list[tuple]:
        return self.all(ENTRIES_SQL, [fid])

    def previous_geometries(self, fid: int, tolerance_deg: float, limit: int = 10) -> list[tuple]:
        """(GeoJSON, when) of the boundaries a parcel had before each change of geometry, newest first."""
        return self.all(
            "SELECT ST_AsGeoJSON(ST_SimplifyPreserveTopology(old_geom, %s), 7), at FROM parcel_history "
            "WHERE parcel_id = %s AND geometry_changed AND old_geom IS NOT NULL AND action <> 'delete' "
            "ORDER BY at DESC, id DESC LIMIT %s",
            [tolerance_deg, fid, limit],
        )

    def previous_geometry(self, fid: int, tolerance_deg: float) -> tuple | None:
        """(GeoJSON, when) of the boundary before the last change of geometry."""
        return self.one(PREVIOUS_GEOMETRY_SQL, {"id": fid, "tolerance": tolerance_deg})


def set_actor(conn, actor: str, reason: str | None = None) -> None:
    HistoryStore(conn).set_actor(actor, reason)
