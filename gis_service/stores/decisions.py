"""The decisions transitions record (one row per step, with its number, date, issuing body and document), and
documents kept in the database with their SHA-256."""

from __future__ import annotations

from .base import Store


class DecisionStore(Store):
    def add_document(
        self, parcel_id: int, province: str, filename: str, media_type: str, content: bytes, sha256: str, by: str
    ) -> int:
        return self.one(
            "INSERT INTO documents (parcel_id, province_code, filename, media_type, bytes, sha256, content, "
            "uploaded_by) SELECT id, province_code, %s, %s, %s, %s, %s, %s FROM parcels WHERE id = %s "
            "RETURNING id",
            [filename[:255], media_type, len(content), sha256, content, by, parcel_id],
        )[0]

    def add(
        self,
        parcel_id: int,
        stage: str,
        number: str | None,
        decided_on,
        body: str | None,
        document_id: int | None,
        by: str,
    ) -> int:
        """Record a transition's decision, tied to the history entry the transition just wrote."""
        return self.one(
            "INSERT INTO decisions (parcel_id, province_code, stage, history_id, number, decided_on, issuing_body, "
            "document_id, recorded_by) SELECT p.id, p.province_code, %s, (SELECT max(h.id) FROM parcel_history h "
            "WHERE h.parcel_id = p.id AND h.action = 'transition'), %s, %s, %s, %s, %s FROM parcels p WHERE p.id = %s "
            "RETURNING id",
            [stage, number, decided_on, body, document_id, by, parcel_id],
        )[0]

    def of_parcel(self, parcel_id: int) -> list[tuple]:
        """(history id, stage, number, date, issuing body, document id, filename, media type, bytes, sha256)."""
        return self.all(
            "SELECT d.history_id, d.stage, d.number, d.decided_on, d.issuing_body, d.document_id, "
            "doc.filename, doc.media_type, doc.bytes, doc.sha256 FROM decisions d "
            "LEFT JOIN documents doc ON doc.id = d.document_id AND doc.province_code = d.province_code "
            "WHERE d.parcel_id = %s ORDER BY d.id",
            [parcel_id],
        )

    def document(self, document_id: int) -> tuple | None:
        """(parcel id, filename, media type, content, sha256) of a document."""
        return self.one(
            "SELECT parcel_id, filename, media_type, content, sha256 FROM documents WHERE id = %s", [document_id]
        )
