"""Reference layers (roads, facilities, hazard zones…): what lies nearest a parcel."""

from __future__ import annotations

from .base import Store

NEAREST_FACILITY_SQL = """
SELECT f.properties->>'name', ST_Distance(f.geom::geography, me.geom::geography),
       ST_AsGeoJSON(ST_ShortestLine(me.geom, f.geom), 6), ST_Y(f.geom), ST_X(f.geom)
FROM parcels me, LATERAL (SELECT geom, properties FROM reference_features
    WHERE role = 'facility:' || %(kind)s ORDER BY geom <-> me.geom LIMIT 1) f
WHERE me.id = %(id)s
"""

NEAREST_ROAD_SQL = """
SELECT coalesce(r.properties->>'ref', r.properties->>'name'), ST_Distance(r.geom::geography, me.geom::geography),
       ST_AsGeoJSON(ST_ShortestLine(me.geom, r.geom), 6)
FROM parcels me, LATERAL (SELECT geom, properties FROM reference_features WHERE role = 'road'
                          ORDER BY geom <-> me.geom LIMIT 1) r
WHERE me.id = %(id)s
"""


class ReferenceStore(Store):
    def sync_roles(self, layer_id: str, role: str | None, role_by: str | None) -> int:
        """Give every stored feature of a layer the role the catalogue declares now; how many changed."""
        expr = "'facility:' || (properties ->> %(by)s)" if role == "facility" else "%(role)s"
        return self.conn.execute(
            f"UPDATE reference_features SET role = {expr} WHERE layer = %(layer)s AND role IS DISTINCT FROM {expr}",
            {"layer": layer_id, "role": role, "by": role_by},
        ).rowcount

    def nearest_facility(self, fid: int, kind: str) -> tuple | None:
        """(name, distance m, GeoJSON of the shortest line, lat, lon) of the facility of `kind` nearest a parcel."""
        return self.one(NEAREST_FACILITY_SQL, {"id": fid, "kind": kind})

    def nearest_road(self, fid: int) -> tuple | None:
        """(ref or name, distance m, GeoJSON of the shortest line) of the road nearest a parcel."""
        return self.one(NEAREST_ROAD_SQL, {"id": fid})
