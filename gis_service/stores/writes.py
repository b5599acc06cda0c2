"""Stored features as the edit service sees them: the current entity tag (locked for the transaction), the stored
record, deletion. Generic over the catalogue's storages (parcels, admin units, reference layers…)."""

from __future__ import annotations

import shapely

from ..catalogue import LayerDef
from ..models import SPECS
from .base import Store
from .features import etag_sql
from .parcels import scope_sql


class WriteStore(Store):
    def current(
        self, layer: LayerDef, fid: int, *, published_only: bool, scope: dict | None, lock: bool = True
    ) -> tuple | None:
        """(entity tag, inside the scope?, status) of a stored feature, locked FOR UPDATE; None when it does not
        exist for the caller. `scope` is {"scope_unit", "scope_tolerance"} for a planner confined to a unit."""
        spec = SPECS[layer.storage]
        where = "t.layer = %(layer)s AND " if spec.jsonb_properties else ""
        params = {"id": fid, "layer": layer.id, **(scope or {})}
        if layer.storage == "parcels":  # the lock names the province: Citus locks rows only in a one-shard query
            found = self.one("SELECT province_code FROM parcels WHERE id = %s", [fid])
            if found is None:
                return None
            where += "t.province_code = %(province)s AND "
            params["province"] = found[0]
        if layer.storage == "parcels" and published_only:
            where += "t.published AND "
        cond = scope_sql("t.geom") if scope and layer.spatial else "TRUE"
        status = "t.status" if layer.storage == "parcels" else "NULL"
        q = (
            f"SELECT {etag_sql(layer.storage, 't')}, {cond}, {status} FROM {spec.table} t WHERE {where} t.id = %(id)s"
            + (" FOR UPDATE" if lock else "")
        )
        return self.one(q, params)

    def etag(self, layer: LayerDef, fid: int) -> str:
        t = SPECS[layer.storage].table
        return self.one(f"SELECT {etag_sql(layer.storage, 't')} FROM {t} t WHERE t.id = %s", [fid])[0]

    def record(self, layer: LayerDef, fid: int) -> dict:
        """The stored input attributes and geometry (EPSG:4326) of one feature, as a GeoJSON-like dict."""
        spec = SPECS[layer.storage]
        if spec.jsonb_properties:
            props, wkb = self.one("SELECT properties, ST_AsBinary(geom) FROM reference_features WHERE id = %s", [fid])
        else:
            cols = ", ".join(spec.columns)
            row = self.one(
                f"SELECT {cols}{', ST_AsBinary(geom)' if spec.spatial else ', NULL'} FROM {spec.table} WHERE id = %s",
                [fid],
            )
            props, wkb = dict(zip(spec.columns, row[:-1])), row[-1]
        geom = shapely.from_wkb(bytes(wkb)) if wkb is not None else None
        return {"properties": dict(props), "geometry": geom}

    def delete(self, layer: LayerDef, fid: int) -> None:
        self.conn.execute(f"DELETE FROM {SPECS[layer.storage].table} WHERE id = %s", [fid])
