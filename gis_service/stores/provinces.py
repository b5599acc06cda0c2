"""The provinces loaded beside the deployment's own (migration 0019): their province.yaml, kept as data."""

from __future__ import annotations

from psycopg.types.json import Jsonb

from ..catalogue import Catalogue, Province
from .base import Store


class ProvinceStore(Store):
    def record(self, province: Province) -> None:
        self.conn.execute(
            "INSERT INTO provinces (code, description) VALUES (%s, %s)",
            [province.code, Jsonb(province.model_dump(mode="json"))],
        )

    def of_parcel(self, catalogue: Catalogue, fid: int) -> Province:
        """The province parcel `fid` belongs to: the deployment's, or one loaded beside it. A parcel of a province
        loaded before its description was kept (before migration 0019) falls back to the deployment's."""
        row = self.one(
            "SELECT p.province_code, pr.description FROM parcels p LEFT JOIN provinces pr ON pr.code = p.province_code "
            "WHERE p.id = %s",
            [fid],
        )
        if row is None or row[0] == catalogue.province.code or row[1] is None:
            return catalogue.province
        return Province.model_validate(row[1])
