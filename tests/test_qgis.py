"""QGIS 3.22 (Debian's qgis and python3-qgis, through PyQGIS, offscreen) against a live landfund: every collection
loads with the database's counts, fields are typed as the schema says (a decimal beyond the first page survives a
GeoPackage written by QGIS), a planner signs in with HTTP Basic and sees unpublished parcels, and the vector tiles
render with parcels in them. The script runs under the system Python that python3-qgis belongs to."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import psycopg
from browser import ARTIFACTS
from conftest import LiveServer, user_for

from gis_service.core.db import libpq_dsn
from gis_service.services import users

SCRIPT = Path(__file__).with_name("qgis_client.py")
PUBLIC = {  # what the public may see of each collection
    "parcels": "SELECT count(*) FROM parcels WHERE published",
    "admin_units": "SELECT count(*) FROM admin_units",
    "roads": "SELECT count(*) FROM reference_features WHERE layer = 'roads'",
    "facilities": "SELECT count(*) FROM reference_features WHERE layer = 'facilities'",
    "hazard_zones": "SELECT count(*) FROM reference_features WHERE layer = 'hazard_zones'",
}


def qgis(base: str, out: Path, *credentials: str) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("PYTHONPATH", None)
    r = subprocess.run(
        ["/usr/bin/python3", str(SCRIPT), base, str(out), *credentials],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    line = next((ln for ln in r.stdout.splitlines() if ln.startswith("QGIS-RESULT ")), None)
    assert r.returncode == 0 and line, r.stdout[-2000:] + r.stderr[-2000:]
    return json.loads(line.removeprefix("QGIS-RESULT "))


def one(url: str, query: str):
    with psycopg.connect(libpq_dsn(url), autocommit=True) as c:
        return c.execute(query).fetchone()[0]


def test_qgis_reads_types_signs_in_and_draws_tiles(demo_db, tmp_path):
    # a decimal where QGIS's first page (5 features) has only whole numbers
    with psycopg.connect(libpq_dsn(demo_db), autocommit=True) as c:
        c.execute("UPDATE parcels SET max_density = round(max_density) WHERE max_density IS NOT NULL")
        c.execute("UPDATE parcels SET max_density = 37.5 WHERE id = (SELECT max(id) FROM parcels WHERE published)")
    server = LiveServer(demo_db, tmp_path)
    try:
        (tmp_path / "public").mkdir()
        (tmp_path / "planner").mkdir()
        (tmp_path / "ascii").mkdir()
        public = qgis(server.base, tmp_path / "public")
        # QGIS sends Basic credentials in Latin-1, so a Vietnamese password cannot reach the server intact: a
        # token (ASCII) as the password is what the README tells GIS officers to use
        planner = user_for(demo_db, "planner", "11")
        with psycopg.connect(libpq_dsn(demo_db), autocommit=True) as c:
            token = users.issue_token(c, planner, days=1, label="QGIS")[0]
        signed_in = qgis(server.base, tmp_path / "planner", planner, token)
        ascii_user = user_for(demo_db, "planner", "11", password="an-ascii-password-2026")
        ascii_password = qgis(server.base, tmp_path / "ascii", ascii_user, "an-ascii-password-2026")
    finally:
        server.stop()
    assert public["version"].startswith("3.22")
    for name, query in PUBLIC.items():
        got = public["collections"][name]
        assert got["valid"] and got["count"] == one(demo_db, query), (name, got)
    fields = public["collections"]["parcels"]["fields"]
    assert fields["max_density"] == "Real" and fields["max_far"] == "Real" and fields["area_m2"] == "Real"
    assert fields["max_floors"] == "Integer" and fields["published"] == "Boolean"
    assert "internal_notes" not in fields
    assert public["collections"]["admin_units"]["fields"]["valid_from"] == "Date"
    gpkg = public["gpkg"]
    assert gpkg["error"] == 0 and gpkg["count"] == one(demo_db, PUBLIC["parcels"])
    assert gpkg["max_density_type"] == "Real" and gpkg["fractional"] == 1  # the 37.5, not NULL or 37
    # Basic sign-in: the planner sees every parcel, published or not, and the internal fields
    everything = one(demo_db, "SELECT count(*) FROM parcels")
    assert everything > one(demo_db, PUBLIC["parcels"])
    assert signed_in["collections"]["parcels"]["count"] == everything
    assert ascii_password["collections"]["parcels"]["count"] == everything
    assert "internal_notes" in signed_in["collections"]["parcels"]["fields"]
    # the vector tiles, drawn by QGIS: parcels are on the image
    assert public["tiles"]["valid"] and public["tiles"]["drawn_pixels"] > 100
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(public["tiles"]["png"], ARTIFACTS / "qgis-vector-tiles.png")
