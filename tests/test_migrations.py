"""Alembic migrations upgrade an empty database, agree with the models, and go down and up again."""

from __future__ import annotations

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import admin, db_url, drop_database
from sqlalchemy.pool import NullPool

from gis_service.core.db import libpq_dsn, make_engine
from gis_service.models import Base
from gis_service.schema import current_revision, head_revision, include_object, upgrade

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
    assert tables(empty) >= TABLES
    with psycopg.connect(libpq_dsn(empty)) as c:
        assert c.execute("SELECT extname FROM pg_extension WHERE extname = 'postgis'").fetchone()
        assert c.execute("SELECT auth_name, auth_srid FROM spatial_ref_sys WHERE srid = 9205").fetchone() == (
            "EPSG",
            9205,
        )
        indexes = {
            r[0]: r[1] for r in c.execute("SELECT tablename, indexdef FROM pg_indexes WHERE indexname LIKE '%geom%'")
        }
        partitions = {
            r[0]
            for r in c.execute("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'parcels'::regclass")
        }
        kind = c.execute("SELECT relkind FROM pg_class WHERE relname = 'parcels'").fetchone()[0]
    assert all("USING gist (geom)" in d for d in indexes.values())
    # parcels are partitioned by province (each partition carries the parent's GiST index)
    assert kind == "p" and partitions == {"parcels_p11", "parcels_default"}
    assert set(indexes) == {"admin_units", "reference_features", "parcels", "parcels_p11", "parcels_default"}
    # models and migrations describe the same schema
    with eng.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"include_object": include_object}), Base.metadata
        )
    assert diff == []
    eng.dispose()


def test_upgrade_is_idempotent_and_downgrade_works(empty):
    eng = make_engine(empty, poolclass=NullPool)
    upgrade(eng)
    upgrade(eng)  # nothing to do the second time
    from alembic import command

    from gis_service.schema import alembic_config

    cfg = alembic_config()
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert not (TABLES & tables(empty))
    upgrade(eng)
    assert tables(empty) >= TABLES
    eng.dispose()


def test_postgis_transforms_to_vn2000_with_the_datum_shift(empty):
    """EPSG:9205 registered by the first migration reproduces the check point in SQL too."""
    upgrade(make_engine(empty, poolclass=NullPool))
    with psycopg.connect(libpq_dsn(empty)) as c:
        x, y = c.execute(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(103.023, 21.386), "
            "4326), 9205) p) s"
        ).fetchone()
    assert x == pytest.approx(502188.696, abs=0.005) and y == pytest.approx(2365683.612, abs=0.005)


def test_parcels_are_partitioned_by_province(demo_db):
    """Native LIST partitioning on province_code (the key Citus would shard on): rows land in their
    province's partition, queries for one province touch only it, and a new province gets its own
    partition with its rows moved out of the default one, history untouched."""
    from gis_service.core.db import libpq_dsn as dsn

    with psycopg.connect(dsn(demo_db)) as c:
        c.execute("SELECT set_config('landfund.actor', 'test:partitions', false)")
        n11 = c.execute("SELECT count(*) FROM parcels_p11").fetchone()[0]
        assert n11 == c.execute("SELECT count(*) FROM parcels").fetchone()[0] > 0
        assert c.execute("SELECT count(*) FROM parcels_default").fetchone()[0] == 0
        # Lai Châu (12) has no partition yet: its parcels go to the default one
        c.execute(
            "INSERT INTO parcels (code, province_code, geom) SELECT 'LC-' || id, '12', "
            "ST_Translate(geom, 0.5, 0.5) FROM parcels ORDER BY id LIMIT 3"
        )
        assert c.execute("SELECT count(*) FROM parcels_default").fetchone()[0] == 3
        # codes are unique per province: the same code may exist in two provinces, never twice in one
        code = c.execute("SELECT code FROM parcels_p11 LIMIT 1").fetchone()[0]
        c.execute(
            "INSERT INTO parcels (code, province_code, geom) SELECT %s, '12', ST_Translate(geom, 0.7, 0.7) "
            "FROM parcels WHERE code = %s",
            [code, code],
        )
        with pytest.raises(psycopg.errors.UniqueViolation), c.transaction():
            c.execute(
                "INSERT INTO parcels (code, province_code, geom) SELECT code, '11', geom FROM parcels "
                "WHERE code = %s AND province_code = '11'",
                [code],
            )
        investor = c.execute("INSERT INTO users (name, role) VALUES ('inv-lc', 'investor') RETURNING id").fetchone()[0]
        c.execute(
            "INSERT INTO interests (parcel_id, province_code, investor_id, company, tax_code, contact_name, "
            "proposed_units) SELECT id, '12', %s, 'Công ty Lai Châu', '0101234567', 'A', 50 FROM parcels "
            "WHERE province_code = '12' ORDER BY id LIMIT 1",
            [investor],
        )
        # a parcel with the fields later revisions added, a decision and its document: all of it moves
        lc = c.execute("SELECT id FROM parcels WHERE province_code = '12' ORDER BY id DESC LIMIT 1").fetchone()[0]
        c.execute("UPDATE parcels SET approved_units = 120, former_commune_code = '03136' WHERE id = %s", [lc])
        doc = c.execute(
            "INSERT INTO documents (parcel_id, province_code, filename, media_type, bytes, sha256, content, "
            "uploaded_by) VALUES (%s, '12', 'qd.pdf', 'application/pdf', 4, repeat('a', 64), '%%PDF', 'test') "
            "RETURNING id",
            [lc],
        ).fetchone()[0]
        c.execute(
            "INSERT INTO decisions (parcel_id, province_code, stage, number, document_id, recorded_by) "
            "VALUES (%s, '12', 'programmed', '5/QĐ-UBND', %s, 'test')",
            [lc, doc],
        )
        history_before = c.execute("SELECT count(*) FROM parcel_history").fetchone()[0]
        assert c.execute("SELECT parcels_add_province('12')").fetchone()[0] == "parcels_p12"
        assert c.execute("SELECT parcels_add_province('12')").fetchone()[0] == "parcels_p12"  # twice is fine
        assert c.execute("SELECT count(*) FROM parcels_p12").fetchone()[0] == 4
        assert c.execute("SELECT count(*) FROM parcels_default").fetchone()[0] == 0
        assert c.execute("SELECT count(*) FROM parcel_history").fetchone()[0] == history_before  # a move, not a change
        assert c.execute("SELECT count(*) FROM interests i JOIN parcels_p12 p ON p.id = i.parcel_id").fetchone()[0] == 1
        assert c.execute(
            "SELECT approved_units, former_commune_code FROM parcels_p12 WHERE id = %s", [lc]
        ).fetchone() == (
            120,
            "03136",
        )
        assert c.execute(
            "SELECT d.number, doc.filename FROM decisions d JOIN documents doc ON doc.id = d.document_id "
            "AND doc.province_code = d.province_code WHERE d.parcel_id = %s",
            [lc],
        ).fetchone() == ("5/QĐ-UBND", "qd.pdf")
        with pytest.raises(psycopg.errors.InvalidParameterValue), c.transaction():
            c.execute("SELECT parcels_add_province('1; DROP TABLE parcels')")
        # partition pruning: a query for one province scans that partition only
        plan = "\n".join(
            r[0] for r in c.execute("EXPLAIN SELECT * FROM parcels WHERE province_code = '12' AND status = 'proposed'")
        )
        assert "parcels_p12" in plan and "parcels_p11" not in plan and "parcels_default" not in plan
        # the moved rows keep working: triggers fire on the new partition, interests reference them
        fid = c.execute("SELECT id FROM parcels WHERE province_code = '12' ORDER BY id LIMIT 1").fetchone()[0]
        c.execute("UPDATE parcels SET status = 'programmed' WHERE id = %s", [fid])
        assert c.execute(
            "SELECT action, new_status, actor, province_code FROM parcel_history WHERE parcel_id = %s "
            "ORDER BY id DESC LIMIT 1",
            [fid],
        ).fetchone() == ("transition", "programmed", "test:partitions", "12")
        # every history record carries its parcel's province (the key a distributed layout co-locates on)
        assert (
            c.execute(
                "SELECT count(*) FROM parcel_history h JOIN parcels p ON p.id = h.parcel_id "
                "WHERE h.province_code IS DISTINCT FROM p.province_code"
            ).fetchone()[0]
            == 0
        )
        with pytest.raises(psycopg.errors.CheckViolation), c.transaction():
            c.execute("UPDATE parcels SET status = 'completed' WHERE id = %s", [fid])
        assert c.execute("SELECT version FROM parcels WHERE id = %s", [fid]).fetchone()[0] == 2


def test_history_entries_are_exact_json_of_old_and_new_values(demo_db):
    """Revision 0020 writes a change's {field: [old, new]} as JSON text: every type and any text come back as the
    values written (as Python reads them from jsonb), and as the jsonb-built expression of revision 0014 writes them."""
    from gis_service.migrations import revision_module

    m0014 = revision_module("0014_procedure_stages.py")
    fields = m0014.FIELDS + m0014.ADDED
    hostile = 'Khu "A" \\ {{ 7*7 }} {# x #} <script>alert(1)</script>\n\tĐiện Biên ☃ \u0001 \u2028'
    with psycopg.connect(libpq_dsn(demo_db)) as c, c.transaction(force_rollback=True):
        fid = c.execute(
            "INSERT INTO parcels (code, name, province_code, status, fund_source, max_far, max_density, max_floors, "
            "decision_no, decision_date, legal_area_m2, published, internal_notes, approved_floor_m2, "
            "clearance_cost_vnd, geom) SELECT 'HIST-JSON', %s, '11', 'proposed', 'public_land', 0.1, 33.333333333333336, "
            "7, %s, '2025-06-30', 1e-7, true, %s, 12345678.9, 9007199254740993, ST_Translate(geom, 0.3, 0.3) "
            "FROM parcels ORDER BY id LIMIT 1 RETURNING id",
            [hostile, "'; DROP TABLE parcels; --", hostile[::-1]],
        ).fetchone()[0]
        built = c.execute(f"SELECT {m0014._pairs(fields, None, 'n')} FROM parcels n WHERE id = %s", [fid]).fetchone()[0]
        c.execute(
            "UPDATE parcels SET name = 'x', max_far = NULL, published = false, internal_notes = NULL, "
            "decision_date = '2026-01-01' WHERE id = %s",
            [fid],
        )
        stored = dict(
            zip(
                fields,
                c.execute(f"SELECT {', '.join(fields)} FROM parcels WHERE id = %s", [fid]).fetchone(),
                strict=True,
            )
        )
        c.execute("DELETE FROM parcels WHERE id = %s", [fid])
        entries = c.execute(
            "SELECT action, changes FROM parcel_history WHERE parcel_id = %s ORDER BY id", [fid]
        ).fetchall()
    assert [a for a, _ in entries] == ["insert", "update", "delete"]
    insert, update, delete = (ch for _, ch in entries)
    assert insert["name"] == [None, hostile] and insert["decision_no"] == [None, "'; DROP TABLE parcels; --"]
    assert insert["internal_notes"] == [None, hostile[::-1]]
    assert insert["max_far"] == [None, 0.1] and insert["max_density"] == [None, 33.333333333333336]
    assert insert["legal_area_m2"] == [None, 1e-7] and insert["approved_floor_m2"] == [None, 12345678.9]
    assert insert["clearance_cost_vnd"] == [None, 9007199254740993]  # beyond a double's 2**53: kept exact
    assert insert["max_floors"] == [None, 7] and insert["published"] == [None, True]
    assert insert["decision_date"] == [None, "2025-06-30"]
    assert "investor_name" not in insert  # NULL from the start: no change
    assert update == {
        "name": [hostile, "x"],
        "max_far": [0.1, None],
        "published": [True, False],
        "internal_notes": [hostile[::-1], None],
        "decision_date": ["2025-06-30", "2026-01-01"],
    }
    assert delete == {
        f: [v if not hasattr(v, "isoformat") else v.isoformat(), None] for f, v in stored.items() if v is not None
    }
    assert insert == built
