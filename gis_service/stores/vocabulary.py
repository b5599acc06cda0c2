"""The database's copies of landfund's vocabularies: the parcel statuses and their allowed transitions (the
trigger parcels_check_transition enforces them), synced from layers/workflow.yaml."""

from __future__ import annotations

from .base import Store


class VocabularyStore(Store):
    def has_statuses(self) -> bool:
        return self.one("SELECT to_regclass('statuses') IS NOT NULL")[0]

    def has_roles(self) -> bool:
        return (
            self.one(
                "SELECT count(*) FROM information_schema.columns WHERE table_name = 'reference_features' "
                "AND column_name = 'role'"
            )[0]
            > 0
        )

    def put_statuses(self, names: list[str]) -> None:
        for position, name in enumerate(names):
            self.conn.execute(
                "INSERT INTO statuses (id, position) VALUES (%s, %s) ON CONFLICT (id) DO UPDATE SET "
                "position = EXCLUDED.position",
                [name, position],
            )

    def other_statuses(self, names: list[str]) -> list[tuple[str, int]]:
        """(status, parcels holding it) of every stored status not in `names`."""
        return self.all(
            "SELECT s.id, (SELECT count(*) FROM parcels p WHERE p.status = s.id) FROM statuses s "
            "WHERE NOT (s.id = ANY(%s))",
            [names],
        )

    def put_ranked(self, name: str) -> None:
        """The status whose parcels a ranking ranks (the call for investors): only they are measured, and the
        measures follow when it changes (migration 0018)."""
        if self.one("SELECT to_regproc('parcel_measures_sync') IS NOT NULL")[0]:
            changed = self.conn.execute(
                "UPDATE statuses SET ranked = (id = %s) WHERE ranked IS DISTINCT FROM (id = %s)", [name, name]
            ).rowcount
            if changed:  # an upgrade that changes nothing re-measures nothing
                self.conn.execute("SELECT parcel_measures_sync()")

    def drop_status(self, name: str) -> None:
        self.conn.execute("DELETE FROM statuses WHERE id = %s", [name])

    def put_transitions(self, pairs: list[tuple[str, str]]) -> None:
        self.conn.execute("DELETE FROM status_transitions")
        with self.conn.cursor() as cur:
            cur.executemany("INSERT INTO status_transitions (from_status, to_status) VALUES (%s, %s)", pairs)
