"""The provinces loaded beside the deployment's own (migration 0019): their province.yaml, kept as data."""

from __future__ import annotations

from psycopg.types.json import Jsonb

from ..catalogue import Catalogue, Province
from .admin_units import AdminUnitStore
from .base import Store


class ProvinceStore(Store):
    def record(self, province: Province) -> None:
        self.conn.execute(
            "INSERT INTO provinces (code, description) VALUES (%s, %s)",
            [province.code, Jsonb(province.model_dump(mode="json"))],
        )

    def described(self, catalogue: Catalogue, code: str | None) -> Province:
        """Province `code`: the deployment's, or one loaded beside it. One loaded before its description was kept
        (before migration 0019), or no code, falls back to the deployment's."""
        if code is None or code == catalogue.province.code:
            return catalogue.province
        row = self.one("SELECT description FROM provinces WHERE code = %s", [code])
        return catalogue.province if row is None else Province.model_validate(row[0])

    def of_parcel(self, catalogue: Catalogue, fid: int) -> Province:
        """The province parcel `fid` belongs to."""
        row = self.one("SELECT province_code FROM parcels WHERE id = %s", [fid])
        return self.described(catalogue, row and row[0])

    def of_unit(self, catalogue: Catalogue, unit: str) -> Province:
        """The province administrative unit `unit` lies in (by its parent codes)."""
        return self.described(catalogue, AdminUnitStore(self.conn).province_of(unit))
