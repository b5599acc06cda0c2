"""Alembic migrations upgrade an empty database, agree with the models, and go down and up again."""

from __future__ import annotations

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.pool import NullPool

from conftest import admin, db_url, drop_database
from gis_service.core.db import libpq_dsn, make_engine
from gis_service.core.migrate import current_revision, head_revision, include_object, upgrade
from gis_service.models import Base

TABLES = {"admin_units", "parcels", "reference_features", "demand", "programmes"}


@pytest.fixture
def empty(server_url):
    name = "migr_empty_test"
    drop_database(server_url, name)
    with admin(server_url) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    yield db_url(server_url, name)
    drop_database(server_url, name)


def tables(url) -> set[str]:
    with psycopg.connect(libpq_dsn(url)) as c:
        return {r[0] for r in c.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def test_upgrade_an_empty_database(empty):
    eng = make_engine(empty, poolclass=NullPool)
    assert current_revision(eng) is None
    upgrade(eng)
    assert current_revision(eng) == head_revision()
    assert TABLES <= tables(empty)
    with psycopg.connect(libpq_dsn(empty)) as c:
        assert c.execute("SELECT extname FROM pg_extension WHERE extname = 'postgis'").fetchone()
        assert c.execute("SELECT auth_name, auth_srid FROM spatial_ref_sys WHERE srid = 9205").fetchone() == ("EPSG", 9205)
        indexes = {r[0] for r in c.execute("SELECT indexdef FROM pg_indexes WHERE indexname LIKE '%geom%'")}
    assert all("USING gist (geom)" in d for d in indexes) and len(indexes) == 3
    # models and migrations describe the same schema
    with eng.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"include_object": include_object}), Base.metadata)
    assert diff == []
    eng.dispose()


def test_upgrade_is_idempotent_and_downgrade_works(empty):
    eng = make_engine(empty, poolclass=NullPool)
    upgrade(eng)
    upgrade(eng)  # nothing to do the second time
    from alembic import command

    from gis_service.core.migrate import alembic_config

    cfg = alembic_config()
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert not (TABLES & tables(empty))
    upgrade(eng)
    assert TABLES <= tables(empty)
    eng.dispose()


def test_postgis_transforms_to_vn2000_with_the_datum_shift(empty):
    """EPSG:9205 registered by the first migration reproduces the check point in SQL too."""
    upgrade(make_engine(empty, poolclass=NullPool))
    with psycopg.connect(libpq_dsn(empty)) as c:
        x, y = c.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(103.023, 21.386), "
                         "4326), 9205) p) s").fetchone()
    assert x == pytest.approx(502188.696, abs=0.005) and y == pytest.approx(2365683.612, abs=0.005)
