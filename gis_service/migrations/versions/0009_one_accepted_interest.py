"""One accepted expression of interest per parcel, and one open one per investor and parcel.

Two investors could both be accepted for one parcel, and one investor filed 50 identical interests on
one parcel. Partial unique indexes make both impossible, whoever writes; duplicates already stored are
declined first (the earliest open one of each investor stays).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        UPDATE interests i SET status = 'declined', decided_by = 'migration 0009', decided_at = now(),
               decision_reason = 'a duplicate of an earlier expression of interest by the same investor'
        WHERE i.status = 'submitted' AND EXISTS (
            SELECT 1 FROM interests e WHERE e.parcel_id = i.parcel_id AND e.province_code = i.province_code
              AND e.investor_id = i.investor_id AND e.status = 'submitted' AND e.id < i.id);
        UPDATE interests i SET status = 'declined', decided_by = 'migration 0009', decided_at = now(),
               decision_reason = 'another investor had already been accepted for this parcel'
        WHERE i.status = 'accepted' AND EXISTS (
            SELECT 1 FROM interests e WHERE e.parcel_id = i.parcel_id AND e.province_code = i.province_code
              AND e.status = 'accepted' AND e.id < i.id);
        CREATE UNIQUE INDEX uq_interests_accepted ON interests (parcel_id, province_code) WHERE status = 'accepted';
        CREATE UNIQUE INDEX uq_interests_open ON interests (parcel_id, province_code, investor_id)
            WHERE status = 'submitted';
    """)


def downgrade() -> None:
    op.execute("DROP INDEX uq_interests_open; DROP INDEX uq_interests_accepted")
