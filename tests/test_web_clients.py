"""OpenLayers (ol/source/OGCVectorTile) and MapLibre GL JS (TileJSON), from the npm registry (tests/vendor/, hashes
in its assets.lock.json), draw landfund's parcels in Chromium from a page on another origin, with CORS on; and
an origin the API does not list gets no CORS headers, so its page draws nothing."""

from __future__ import annotations

import functools
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from browser import Page
from conftest import REPO, LiveServer

TESTS = Path(__file__).parent


@pytest.fixture(scope="module")
def site():
    """The web map's own origin: a static server of tests/clients and tests/vendor on another port."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(TESTS))
    handler.log_message = lambda *a, **k: None  # type: ignore[method-assign]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def cors_api(demo_ro, tmp_path_factory, site):
    server = LiveServer(demo_ro, tmp_path_factory.mktemp("cors"), cors_origins=[site])
    yield server
    server.stop()


def test_the_vendored_clients_match_their_lock():
    r = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "fetch_assets.py"), "--tests", "--check"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0 and "0 mismatches" in r.stdout, r.stdout + r.stderr


@pytest.mark.parametrize("client", ["ol", "maplibre"])
def test_web_map_clients_draw_parcels_across_origins(browser, site, cors_api, client):
    p = Page(browser)
    try:
        p.page.goto(f"{site}/clients/{client}.html?api={cors_api.base}", wait_until="load")
        p.page.wait_for_function("() => window.drawn > 0 || window.mapError !== undefined", timeout=60_000)
        assert p.js("() => window.mapError === undefined"), p.js("() => window.mapError")
        assert p.js("() => window.drawn") > 0
        p.shot(f"web-client-{client}")
        assert not p.blocked and not p.failed_assets, (p.blocked, p.failed_assets)
        assert not [e for e in p.errors if "CORS" in e], p.errors
    finally:
        p.close()


def test_an_origin_not_listed_gets_no_cors(browser, demo_ro, tmp_path, site):
    server = LiveServer(demo_ro, tmp_path, cors_origins=["https://gis.dienbien.gov.vn"])
    p = Page(browser)
    try:
        p.page.goto(f"{site}/clients/maplibre.html?api={server.base}", wait_until="load")
        p.page.wait_for_function("() => window.drawn !== undefined || window.mapError !== undefined", timeout=60_000)
        assert p.js("() => !(window.drawn > 0)")  # the TileJSON was refused by the browser: nothing drawn
        assert any("CORS" in e or "Access-Control-Allow-Origin" in e for e in p.errors), p.errors
    finally:
        p.close()
        server.stop()
