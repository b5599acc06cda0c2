"""What a desktop editor last read: the version (entity tag) of each feature the API served them. QGIS writes
without If-Match; the edit service checks such a write against this record instead (services/edits.py)."""

from __future__ import annotations

from datetime import datetime

from .base import Store

RECORD_SQL = """
INSERT INTO feature_reads (user_id, layer, feature_id, etag, read_at)
SELECT %(user)s, %(layer)s, v.fid, v.etag, now() FROM unnest(%(fids)s::bigint[], %(etags)s::text[]) AS v (fid, etag)
ON CONFLICT (user_id, layer, feature_id) DO UPDATE SET etag = excluded.etag, read_at = excluded.read_at
"""


class ReadStore(Store):
    def record(self, user_id: int, layer: str, versions: list[tuple[int, str]]) -> None:
        """Remember that `user_id` now holds these (feature id, entity tag) of `layer`."""
        if versions:
            fids, etags = zip(*versions)
            self.conn.execute(RECORD_SQL, {"user": user_id, "layer": layer, "fids": list(fids), "etags": list(etags)})

    def last(self, user_id: int, layer: str, fid: int) -> tuple[str, datetime] | None:
        """(entity tag, when) of the version of a feature the user last read, or None if they never read it."""
        return self.one(
            "SELECT etag, read_at FROM feature_reads WHERE user_id = %s AND layer = %s AND feature_id = %s",
            [user_id, layer, fid],
        )
