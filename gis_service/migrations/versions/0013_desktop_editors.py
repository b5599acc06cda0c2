"""Desktop editors: QGIS edits through OGC API - Features Part 4 but sends no If-Match on PUT and PATCH.

- users.desktop_editor: an admin marks the accounts whose unconditional writes are accepted;
- feature_reads: the version of each feature a desktop editor last read (recorded as the API serves it), so an
  unconditional write is refused when the feature changed since that user read it: the lost-update protection
  an ETag gives, kept by the server for a client that does not send one;
- parcel_history.unconditional: a history entry written without If-Match says so. The column's default reads
  the writer's transaction setting (SET LOCAL landfund.unconditional), so the history triggers need no change.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UNCONDITIONAL_DEFAULT = "coalesce(nullif(current_setting('landfund.unconditional', true), ''), 'off')::boolean"


def upgrade() -> None:
    op.execute(f"""
        ALTER TABLE users ADD COLUMN desktop_editor boolean NOT NULL DEFAULT false;

        CREATE TABLE feature_reads (
            user_id integer NOT NULL CONSTRAINT fk_feature_reads_user_id_users REFERENCES users (id) ON DELETE CASCADE,
            layer varchar(64) NOT NULL,
            feature_id bigint NOT NULL,
            etag varchar(64) NOT NULL,
            read_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_feature_reads PRIMARY KEY (user_id, layer, feature_id));

        ALTER TABLE parcel_history ADD COLUMN unconditional boolean NOT NULL DEFAULT {UNCONDITIONAL_DEFAULT};
    """)


def downgrade() -> None:
    op.execute("""
        ALTER TABLE parcel_history DROP COLUMN unconditional;
        DROP TABLE feature_reads;
        ALTER TABLE users DROP COLUMN desktop_editor;
    """)
