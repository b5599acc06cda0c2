"""Two provinces in a real browser (Debian's Chromium through Playwright, nothing outside localhost): the admin picks
the other province on the import page, checks a file of its parcels and confirms it; on the new-parcel form the
same choice is offered. Desktop and phone, screenshots in test-artifacts/."""

from __future__ import annotations

import json

import pytest
from browser import Page
from conftest import LiveServer, user_for
from test_provinces import OTHER, _pack, sql
from test_workspace_browser import sign_in, submit

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(server_url, demo_template, tmp_path_factory):
    """A live server over a demo database of its own, with a second province added as `province add` adds it
    (its name hostile)."""
    import psycopg
    from conftest import clone_database, db_url, drop_database

    from gis_service.catalogue import load_catalogue
    from gis_service.core.config import Settings
    from gis_service.core.db import libpq_dsn
    from gis_service.ingest.province import load_province

    name = clone_database(server_url, demo_template, "prov")
    url = db_url(server_url, name)
    settings = Settings(database_url=url)
    with psycopg.connect(libpq_dsn(url)) as conn, conn.transaction():
        load_province(conn, load_catalogue(settings.layers_dir), settings, _pack(tmp_path_factory.mktemp("p") / "pk"))
    sql(url, f"UPDATE admin_units SET name = 'Tỉnh \"thử\" <script>{{{{ 7*7 }}}}' WHERE code = '{OTHER}'")
    server = LiveServer(url, tmp_path_factory.mktemp("prov"), map_basemap="none")
    server.db = url
    yield server
    server.stop()
    drop_database(server_url, name)


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_an_admin_imports_a_file_of_the_other_province(browser, site, tmp_path, phone):
    label = "phone" if phone else "desktop"
    code = f"LC-BR-{label}"
    x = 103.9 if phone else 103.95
    upload = tmp_path / "lc.geojson"
    ring = [[x, 23.7], [x + 0.002, 23.7], [x + 0.002, 23.702], [x, 23.702], [x, 23.7]]
    upload.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"code": code},
                        "geometry": {"type": "Polygon", "coordinates": [ring]},
                    }
                ],
            }
        )
    )
    p = Page(browser, phone=phone)
    sign_in(p, site.base, user_for(site.db, "admin"), "/parcels/import")
    choice = p.page.locator("select[name=province]")
    assert choice.is_visible()
    options = choice.locator("option").all_inner_texts()
    assert options == ["Điện Biên (11)", 'Tỉnh "thử" <script>{{ 7*7 }} (12)'], options  # shown as text, not run
    crs = p.page.locator("input[name=crs]")
    assert crs.get_attribute("placeholder") == "EPSG:9205"  # Điện Biên's zone, chosen first
    choice.select_option(OTHER)
    assert crs.get_attribute("placeholder") == "EPSG:9208"  # the zone of the province chosen (TM-3 104-45)
    p.page.set_input_files("input[name=file]", str(upload))
    p.shot(f"prov-import-form-{label}", full=True)
    submit(p, "form.lf-form button[type=submit]")
    assert p.page.is_visible("#report .lf-success"), p.page.inner_text("main")[:500]
    assert p.page.locator("select[name=province]").input_value() == OTHER  # the choice is kept
    assert p.page.locator("input[name=crs]").get_attribute("placeholder") == "EPSG:9208"  # and its zone
    width = p.js("document.documentElement.scrollWidth")
    assert width <= p.page.viewport_size["width"]
    p.shot(f"prov-import-checked-{label}", full=True)
    submit(p, "#report form button[type=submit]")
    assert p.page.url.endswith("/parcels?done=imported:1"), p.page.url
    assert sql(site.db, "SELECT province_code, admin_unit_code FROM parcels WHERE code = %s", [code]) == [
        (OTHER, "03999")
    ]
    # the new-parcel form offers the same choice
    p.page.goto(f"{site.base}/parcels/new", wait_until="networkidle")
    assert p.page.locator("select[name=province] option").count() == 2
    p.shot(f"prov-new-parcel-{label}", full=True)
    assert p.script_errors == [] and p.failed_assets == [] and p.blocked == [], (p.errors, p.failed, p.blocked)
    p.close()
