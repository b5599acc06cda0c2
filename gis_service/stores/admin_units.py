"""Administrative units with their validity dates: names, boundaries, which are in force when."""

from __future__ import annotations

from .base import Store

# the province a unit belongs to: up its parents (any version) to the unit of level province
PROVINCE_OF_SQL = """
WITH RECURSIVE up(code, parent_code, level) AS (
    SELECT code, parent_code, level FROM admin_units WHERE code = %s
    UNION SELECT a.code, a.parent_code, a.level FROM admin_units a JOIN up ON a.code = up.parent_code)
SELECT code FROM up WHERE level = 'province' LIMIT 1
"""


def in_province(alias: str) -> str:
    """SQL condition: unit `alias` is province %(province)s or lies in it (a district or a commune of the province,
    or a commune of one of its former districts, as the communes before 1 July 2025 were)."""
    return (
        f"({alias}.code = %(province)s OR {alias}.parent_code = %(province)s OR {alias}.parent_code IN "
        "(SELECT d.code FROM admin_units d WHERE d.parent_code = %(province)s))"
    )


class AdminUnitStore(Store):
    def provinces(self) -> list[str]:
        """The codes of the provinces this database holds."""
        return [r[0] for r in self.all("SELECT DISTINCT code FROM admin_units WHERE level = 'province' ORDER BY 1")]

    def province_of(self, code: str) -> str | None:
        row = self.one(PROVINCE_OF_SQL, [code])
        return row[0] if row else None

    def codes_of(self, ids: list[int]) -> set[str]:
        """The GSO codes of the units with these row ids."""
        return {r[0] for r in self.all("SELECT DISTINCT code FROM admin_units WHERE id = ANY(%s)", [ids])}

    def names(self) -> dict[str, str]:
        """GSO code → name of every unit (its latest name)."""
        return dict(self.all("SELECT DISTINCT ON (code) code, name FROM admin_units ORDER BY code, valid_from DESC"))

    def in_force(self, as_of) -> list[tuple[str, str, str, str | None]]:
        """(code, name, level, province) of the units in force on `as_of`, by level then name."""
        return self.all(
            """SELECT u.code, u.name, u.level,
                      CASE WHEN u.level = 'province' THEN u.code WHEN p.level = 'province' THEN p.code
                           ELSE p.parent_code END
               FROM admin_units u
               LEFT JOIN LATERAL (SELECT a.level, a.code, a.parent_code FROM admin_units a WHERE a.code = u.parent_code
                                  ORDER BY a.valid_from DESC LIMIT 1) p ON TRUE
               WHERE u.valid_from <= %(d)s AND (u.valid_to IS NULL OR u.valid_to > %(d)s)
               ORDER BY u.level, u.name""",
            {"d": as_of},
        )

    def latest(self, code: str) -> tuple | None:
        """(name, valid_to) of a unit's latest version."""
        return self.one(
            "SELECT name, valid_to FROM admin_units WHERE code = %s ORDER BY valid_from DESC LIMIT 1", [code]
        )

    def bounds(self, code: str | None, province: str) -> list[list[float]] | None:
        """[[south, west], [north, east]] of a unit (every version), else of province `province`."""
        where, params = ("code = %s", [code]) if code else ("level = 'province' AND code = %s", [province])
        row = self.one(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            f"(SELECT ST_Extent(geom) e FROM admin_units WHERE {where}) s",
            params,
        )
        return [[row[1], row[0]], [row[3], row[2]]] if row and row[0] is not None else None

    def schematic(self, province: str) -> bool:
        """Whether any boundary of province `province` (itself, or a unit within it) is marked schematic."""
        row = self.one(
            "WITH RECURSIVE down(code) AS (SELECT %s::text "
            "UNION SELECT a.code FROM admin_units a JOIN down ON a.parent_code = down.code) "
            "SELECT bool_or(boundary_note ILIKE '%%schematic%%') FROM admin_units WHERE code IN (SELECT code FROM down)",
            [province],
        )
        return bool(row and row[0])

    def shapes(self, level: str, as_of, within: str | None = None, *, province: str) -> list[tuple]:
        """(code, simplified GeoJSON, lon, lat of an inner point) of province `province`'s units of `level` in force
        on `as_of` (the province itself for level province), only those inside unit `within` when given."""
        unit_filter = ""
        if within:
            unit_filter = (
                "AND ST_Intersects((SELECT geom FROM admin_units WHERE code = %(unit)s ORDER BY valid_from "
                "DESC LIMIT 1), ST_PointOnSurface(u.geom))"
            )
        return self.all(
            f"""SELECT u.code, ST_AsGeoJSON(ST_SimplifyPreserveTopology(u.geom, 0.0003), 5),
                       ST_X(ST_PointOnSurface(u.geom)), ST_Y(ST_PointOnSurface(u.geom))
                FROM admin_units u WHERE u.level = %(level)s AND u.valid_from <= %(as_of)s
                  AND (u.valid_to IS NULL OR u.valid_to >= %(as_of)s)
                  AND {in_province("u")} {unit_filter} ORDER BY u.code""",
            {"level": level, "as_of": as_of, "unit": within, "province": province},
        )

    def former_communes(self) -> list[tuple[str, str, str | None, str]]:
        """(code, name, former district, successor's code) of every commune before the 2025 reform, by district."""
        return self.all(
            "SELECT former_code, former_name, former_district_name, successor_code FROM former_units "
            "ORDER BY former_district_code, former_name"
        )

    def former_name(self, code: str) -> str | None:
        """The name of a commune before the 2025 reform, by its code."""
        row = self.one("SELECT former_name FROM former_units WHERE former_code = %s", [code])
        return row[0] if row else None

    def replace_boundary(self, code: str, wkb: bytes, note: str) -> int:
        """Give the unit in force with `code` a new boundary (and its note); the number of units changed."""
        cur = self.conn.execute(
            "UPDATE admin_units SET geom = ST_Multi(ST_GeomFromWKB(%s, 4326)), boundary_note = %s "
            "WHERE code = %s AND valid_to IS NULL",
            [wkb, note[:500], code],
        )
        return cur.rowcount

    def parcels_in_other_units(self) -> list[tuple[int, str, str, str]]:
        """(id, code, recorded unit, the commune in force that holds it now) of every parcel whose recorded commune
        no longer holds it."""
        return self.all(
            "SELECT p.id, p.code, p.admin_unit_code, held.code FROM parcels p "
            "JOIN LATERAL (SELECT a.code FROM admin_units a WHERE a.level = 'commune' AND a.valid_to IS NULL "
            "AND ST_Intersects(a.geom, p.pos) ORDER BY a.code LIMIT 1) held ON TRUE "
            "WHERE p.admin_unit_code IS DISTINCT FROM held.code "
            "AND p.admin_unit_code IN (SELECT code FROM admin_units WHERE level = 'commune' AND valid_to IS NULL) "
            "ORDER BY p.code"
        )

    def reassign(self, moves: list[tuple[int, str]]) -> None:
        """Record each parcel's commune as the one that holds it (id, unit code)."""
        with self.conn.cursor() as cur:
            cur.executemany("UPDATE parcels SET admin_unit_code = %s WHERE id = %s", [(u, i) for i, u in moves])
