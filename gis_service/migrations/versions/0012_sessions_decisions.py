"""Sign-in for people (passwords, sessions, throttled failures) and the record of each decision with its document.

- users.password_hash: argon2id (argon2-cffi), never the password;
- sessions: a browser's sign-in (only the SHA-256 of the cookie's value is stored), with its CSRF token;
- login_failures: failed sign-ins by user name and address, so repeated failures are slowed down;
- documents: a decision's PDF or image, in the database with its SHA-256;
- decisions: each decision a transition records (number, date, issuing body, document), kept apart for every
  step instead of one decision_no overwritten at each.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        ALTER TABLE users ADD COLUMN password_hash varchar(255), ADD COLUMN password_changed_at timestamptz;

        CREATE TABLE sessions (
            id bigserial PRIMARY KEY,
            token_hash varchar(64) NOT NULL CONSTRAINT uq_sessions_token_hash UNIQUE,
            user_id integer NOT NULL CONSTRAINT fk_sessions_user_id_users REFERENCES users (id) ON DELETE CASCADE,
            csrf varchar(64) NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            last_seen_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            ended_at timestamptz,
            address varchar(64),
            user_agent varchar(255));
        CREATE INDEX ix_sessions_user_id ON sessions (user_id);

        CREATE TABLE login_failures (
            id bigserial PRIMARY KEY,
            name varchar(128) NOT NULL,
            address varchar(64) NOT NULL,
            at timestamptz NOT NULL DEFAULT now());
        CREATE INDEX ix_login_failures_name_at ON login_failures (name, at);
        CREATE INDEX ix_login_failures_address_at ON login_failures (address, at);

        CREATE TABLE documents (
            id bigserial PRIMARY KEY,
            parcel_id bigint NOT NULL,
            province_code varchar(2) NOT NULL,
            filename varchar(255) NOT NULL,
            media_type varchar(64) NOT NULL CHECK (media_type IN ('application/pdf', 'image/png', 'image/jpeg')),
            bytes integer NOT NULL CHECK (bytes > 0),
            sha256 varchar(64) NOT NULL,
            content bytea NOT NULL,
            uploaded_by varchar(128) NOT NULL,
            uploaded_at timestamptz NOT NULL DEFAULT now(),
            FOREIGN KEY (parcel_id, province_code) REFERENCES parcels (id, province_code) ON DELETE CASCADE);
        CREATE INDEX ix_documents_parcel_id ON documents (parcel_id);

        CREATE TABLE decisions (
            id bigserial PRIMARY KEY,
            parcel_id bigint NOT NULL,
            province_code varchar(2) NOT NULL,
            stage varchar(32) NOT NULL,
            history_id bigint,
            number varchar(64),
            decided_on date,
            issuing_body varchar(255),
            document_id bigint REFERENCES documents (id),
            recorded_by varchar(128) NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            FOREIGN KEY (parcel_id, province_code) REFERENCES parcels (id, province_code) ON DELETE CASCADE);
        CREATE INDEX ix_decisions_parcel_id ON decisions (parcel_id);
    """)


def downgrade() -> None:
    op.execute("""
        DROP TABLE decisions; DROP TABLE documents; DROP TABLE login_failures; DROP TABLE sessions;
        ALTER TABLE users DROP COLUMN password_changed_at, DROP COLUMN password_hash;
    """)
