"""Investors' expressions of interest in parcels open for investment."""

from __future__ import annotations

from .base import Store

COLUMNS = (
    "id",
    "parcel_id",
    "company",
    "tax_code",
    "contact_name",
    "contact_email",
    "contact_phone",
    "proposed_units",
    "message",
    "status",
    "decided_by",
    "decided_at",
    "decision_reason",
    "created_at",
)
_COLS = ", ".join(COLUMNS)
_ICOLS = ", ".join(f"i.{c}" for c in COLUMNS)


def _row(row) -> dict:
    out = dict(zip(COLUMNS, row))
    for k in ("decided_at", "created_at"):
        if out.get(k) is not None:
            out[k] = out[k].isoformat()
    return out


class InterestStore(Store):
    def open_by(self, parcel_id: int, investor_id: int) -> tuple | None:
        """(id, created_at) of the investor's interest still being considered for this parcel."""
        return self.one(
            "SELECT id, created_at FROM interests WHERE parcel_id = %s AND investor_id = %s AND status = 'submitted'",
            [parcel_id, investor_id],
        )

    def insert(self, parcel_id: int, province: str, investor_id: int, values: dict) -> dict:
        row = self.one(
            f"""INSERT INTO interests (parcel_id, province_code, investor_id, company, tax_code, contact_name,
                                       contact_email, contact_phone, proposed_units, message)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING {_COLS}""",
            [
                parcel_id,
                province,
                investor_id,
                values["company"],
                values["tax_code"],
                values["contact_name"],
                values.get("contact_email"),
                values.get("contact_phone"),
                values["proposed_units"],
                values.get("message"),
            ],
        )
        return _row(row)

    def list(
        self, investor_id: int | None, parcel_id: int | None, status: str | None, unit: str | None = None
    ) -> list[dict]:
        """Interests (an investor's own when `investor_id` is given; on parcels inside `unit` when given), oldest
        first, each with its parcel's code and name."""
        clause, params = "TRUE", []
        for cond, value in (
            ("i.investor_id = %s", investor_id),
            ("i.parcel_id = %s", parcel_id),
            ("i.status = %s", status),
        ):
            if value is not None:
                clause += f" AND {cond}"
                params.append(value)
        if unit is not None:
            clause += (
                " AND ST_Intersects((SELECT a.geom FROM admin_units a WHERE a.code = %s ORDER BY a.valid_from DESC "
                "LIMIT 1), p.pos)"
            )
            params.append(unit)
        rows = self.all(
            f"SELECT {_ICOLS}, p.code, p.name FROM interests i "
            "JOIN parcels p ON p.id = i.parcel_id AND p.province_code = i.province_code "
            f"WHERE {clause} ORDER BY i.id",
            params,
        )
        return [{**_row(r[: len(COLUMNS)]), "parcel_code": r[-2], "parcel_name": r[-1]} for r in rows]

    def get(self, interest_id: int, investor_id: int | None) -> dict | None:
        clause, params = ("AND i.investor_id = %s", [investor_id]) if investor_id is not None else ("", [])
        row = self.one(f"SELECT {_ICOLS} FROM interests i WHERE i.id = %s {clause}", [interest_id, *params])
        return _row(row) if row else None

    def for_decision(self, interest_id: int, scope_condition: str, scope: dict) -> tuple | None:
        """(status, parcel id, parcel status, inside the planner's scope?, company), interest and parcel locked (in
        a query that names the province: Citus locks rows only in a query of one shard)."""
        found = self.one("SELECT province_code FROM interests WHERE id = %s", [interest_id])
        if found is None:
            return None
        return self.one(
            f"SELECT i.status, i.parcel_id, p.status, {scope_condition}, i.company FROM interests i "
            "JOIN parcels p ON p.id = i.parcel_id AND p.province_code = i.province_code "
            "WHERE i.id = %(id)s AND i.province_code = %(province)s FOR UPDATE OF i, p",
            {"id": interest_id, "province": found[0], **scope},
        )

    def accepted_for(self, parcel_id: int) -> tuple | None:
        return self.one("SELECT id, company FROM interests WHERE parcel_id = %s AND status = 'accepted'", [parcel_id])

    def decide(self, interest_id: int, status: str, by: str, reason: str) -> None:
        self.conn.execute(
            "UPDATE interests SET status = %s, decided_by = %s, decided_at = now(), decision_reason = %s WHERE id = %s",
            [status, by, reason, interest_id],
        )

    def decline_others(self, parcel_id: int, accepted_id: int, by: str) -> None:
        self.conn.execute(
            "UPDATE interests SET status = 'declined', decided_by = %s, decided_at = now(), "
            "decision_reason = 'the parcel was assigned to another investor' "
            "WHERE parcel_id = %s AND status = 'submitted' AND id <> %s",
            [by, parcel_id, accepted_id],
        )
