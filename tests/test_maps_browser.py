"""The maps in a real browser: Debian's Chromium, headless, driven by Playwright, with every request that
leaves this machine blocked. Screenshots are kept in test-artifacts/."""

from __future__ import annotations

import http.server
import struct
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import psycopg
import pytest
from browser import ARTIFACTS, Page
from conftest import LiveServer

from gis_service.core.db import libpq_dsn

pytestmark = pytest.mark.browser


def png(size: int = 256, rgb=(230, 236, 240)) -> bytes:
    """A plain PNG tile, written by hand (no imaging library needed)."""
    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def tile_server():
    """An intranet-style basemap tile server on loopback; counts the tiles it served."""
    tile = png()
    served = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            served.append(self.path)
            try:
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(tile)))
                self.end_headers()
                self.wfile.write(tile)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the browser moved on and dropped the tile

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    httpd.served = served
    httpd.template = f"http://127.0.0.1:{httpd.server_address[1]}/{{z}}/{{x}}/{{y}}.png"
    yield httpd
    httpd.shutdown()


@pytest.fixture(scope="module")
def server(demo_ro, tmp_path_factory, tile_server):
    s = LiveServer(
        demo_ro,
        tmp_path_factory.mktemp("maps"),
        map_basemap=tile_server.template,
        map_basemap_attribution="Bản đồ nền nội bộ",
    )
    yield s
    s.stop()


@pytest.fixture(scope="module")
def tiled_server(demo_ro, tmp_path_factory):
    """The same data, but every map above 10 parcels loads them as vector tiles, and no basemap."""
    s = LiveServer(demo_ro, tmp_path_factory.mktemp("tiles"), map_inline_max_features=10, map_basemap="none")
    yield s
    s.stop()


MAP = "window[document.querySelector('.folium-map').id]"
# Parcel shapes drawn on the map: polygon features with a parcel code (units have a level), rendered by the
# canvas renderer (it sets _parts when it projects a shape).
COUNT_PARCELS = f"""() => {{ let n = 0; {MAP}.eachLayer(l => {{ const f = l.feature;
    if (f && f.geometry && f.geometry.type.endsWith('Polygon') && f.properties.code && f.properties.level === undefined
        && l._parts !== undefined) n++; }}); return n; }}"""
LAYER_NAMES = (
    "() => Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
    ".map(s => s.textContent.trim())"
)


def db(url, q):
    with psycopg.connect(libpq_dsn(url)) as c:
        return c.execute(q).fetchall()


def click_feature(p: Page, code: str | None = None, fid: int | None = None) -> str:
    """Zoom to a parcel (by its code or its id), click its middle, return the popup's text."""
    match = (
        f"l.feature.properties.code === {code!r}"
        if fid is None
        else (f"l.feature.id === {fid} && l.feature.properties.code !== undefined")
    )
    xy = p.js(f"""() => {{ const m = {MAP}; let hit = null;
        m.eachLayer(l => {{ if (l.feature && {match} && l.feature.geometry.type.endsWith("Polygon")) hit = l; }});
        m.fitBounds(hit.getBounds(), {{maxZoom: 17, animate: false}});
        const pt = m.latLngToContainerPoint(hit.getBounds().getCenter());
        const box = m.getContainer().getBoundingClientRect();
        return [pt.x + box.left, pt.y + box.top]; }}""")
    p.page.wait_for_timeout(300)
    p.page.mouse.click(*xy)
    p.page.wait_for_selector(".leaflet-popup-content", timeout=5000)
    return p.page.inner_text(".leaflet-popup-content")


def test_planner_map(browser, server, demo_ro, tile_server):
    p = Page(browser).open(f"{server.base}/maps/planner")
    assert p.js("L.version") == "1.9.4"
    names = p.js(LAYER_NAMES)
    assert names[:2] == ["Mức đáp ứng: căn hộ ước tính / hộ đủ điều kiện", "Khu đất nhà ở xã hội (theo trạng thái)"]
    assert {"Đường giao thông", "Cơ sở hạ tầng xã hội", "Vùng nguy cơ thiên tai"} <= set(names)
    published = db(demo_ro, "SELECT count(*) FROM parcels WHERE published")[0][0]
    assert p.js(COUNT_PARCELS) == published
    assert p.page.is_visible(".lf-legend[data-legend=status]") and "Trạng thái" in p.page.inner_text(".lf-legend")
    assert "≥ 10" in p.page.inner_text(".lf-legend[data-legend=coverage]")  # the coverage classes, open at the top
    for control in (
        ".leaflet-control-zoom-fullscreen",
        ".leaflet-control-measure",
        ".leaflet-control-minimap",
        ".leaflet-control-scale",
        ".lf-search input",
    ):
        assert p.page.query_selector(control) is not None, control
    assert tile_server.served, "the intranet basemap was not used"
    p.shot("planner-vi")
    code = db(demo_ro, "SELECT code FROM parcels WHERE published ORDER BY area_m2 DESC LIMIT 1")[0][0]
    text = click_feature(p, code)
    assert code in text and "Diện tích (ha)" in text and "Phiếu thông tin khu đất" in text
    p.page.wait_for_timeout(400)
    assert "," in text.split("Diện tích (ha)")[1].split("\n")[0]  # 1,23 ha: a Vietnamese decimal comma
    p.shot("planner-popup")
    assert p.errors == [] and p.blocked == []
    p.close()


def test_english_labels(browser, server):
    p = Page(browser).open(f"{server.base}/maps/planner?lang=en")
    assert "Social-housing land fund review" in p.page.inner_text(".lf-title")
    assert "Status" in p.page.inner_text(".lf-legend") and "Proposed" in p.page.inner_text(".lf-legend")
    assert "Roads" in p.js(LAYER_NAMES)
    p.shot("planner-en")
    assert p.errors == []
    p.close()


def test_planner_filters(browser, server, demo_ro):
    p = Page(browser).open(
        f"{server.base}/maps/planner?admin_unit=094&status=programmed,call_published&as_of=2025-01-01"
    )
    expected = db(
        demo_ro,
        "SELECT count(*) FROM parcels p, admin_units a WHERE a.code = '094' AND p.published AND "
        "p.status IN ('programmed', 'call_published') AND ST_Intersects(a.geom, p.pos) "
        "AND LEAST(p.decision_date, p.created_at::date) <= '2025-01-01'",  # in the fund on that day
    )[0][0]
    assert p.js(COUNT_PARCELS) == expected
    units = p.js(
        f"() => {{ const s = new Set(); {MAP}.eachLayer(l => {{ if (l.feature && l.feature.properties.level) "
        "s.add(l.feature.properties.level); }); return Array.from(s); }"
    )
    assert units == ["district"]  # as of 2025-01-01 the units are the former districts
    assert p.errors == []
    p.close()


def test_investor_map(browser, server, demo_ro):
    p = Page(browser).open(f"{server.base}/maps/investor")
    sites = db(demo_ro, "SELECT code FROM parcels WHERE published AND status = 'call_published' ORDER BY area_m2 DESC")
    assert p.js(COUNT_PARCELS) == len(sites) > 0
    text = click_feature(p, sites[0][0])
    assert sites[0][0] in text and "Mức độ phù hợp" in text and "%" in text and "Đến đường gần nhất" in text
    assert "Đăng ký quan tâm đầu tư" in text
    assert "Mức độ phù hợp" in p.page.inner_text(".lf-legend[data-legend=score]")
    p.shot("investor")
    assert p.errors == []
    p.close()


def test_site_sheet_prints_on_a4(browser, server, demo_ro, tmp_path):
    pid, code, perimeter = db(
        demo_ro, "SELECT id, code, ST_Perimeter(geom::geography) FROM parcels WHERE published ORDER BY id LIMIT 1"
    )[0]
    p = Page(browser).open(f"{server.base}/maps/parcels/{pid}")
    assert code in p.page.inner_text(".lf-attributes")
    lengths = p.js(
        "() => Array.from(document.querySelectorAll('.lf-edges td.num')).map(td => "
        "parseFloat(td.textContent.replace(/\\./g, '').replace(',', '.')))"
    )
    assert sum(lengths) == pytest.approx(perimeter, rel=1e-3)
    assert len(p.page.query_selector_all(".lf-vertices tr")) - 1 == len(lengths)
    assert p.page.query_selector_all(".lf-edge") and p.page.query_selector(".lf-nearest")
    p.shot("site-sheet")
    p.page.emulate_media(media="print")
    pdf = tmp_path / "site.pdf"
    p.page.pdf(path=str(pdf), format="A4", print_background=True)
    assert pdf.read_bytes()[:5] == b"%PDF-" and b"/MediaBox [0 0 595" in pdf.read_bytes()
    assert p.errors == []
    p.close()


def test_vector_tiles_click_to_popup(browser, tiled_server, demo_ro):
    """Above the threshold parcels come from the tile endpoint through VectorGrid; clicking one still opens its
    popup (Leaflet.VectorGrid 1.3.0 throws on click with Leaflet ≥ 1.8 unless patched)."""
    pid, code, lon, lat = db(
        demo_ro, "SELECT id, code, ST_X(pos), ST_Y(pos) FROM parcels WHERE published ORDER BY area_m2 DESC LIMIT 1"
    )[0]
    p = Page(browser).open(f"{tiled_server.base}/maps/planner")
    assert p.js("typeof L.vectorGrid.protobuf") == "function" and p.js(COUNT_PARCELS) == 0  # nothing inline
    xy = p.js(f"""() => {{ const m = {MAP}; m.setView([{lat}, {lon}], 17, {{animate: false}});
        const pt = m.latLngToContainerPoint([{lat}, {lon}]); const box = m.getContainer().getBoundingClientRect();
        return [pt.x + box.left, pt.y + box.top]; }}""")
    p.page.wait_for_load_state("networkidle")
    p.page.wait_for_timeout(500)
    p.page.mouse.click(*xy)
    p.page.wait_for_selector(".leaflet-popup-content", timeout=5000)
    text = p.page.inner_text(".leaflet-popup-content")
    assert code in text and "Diện tích (ha)\t—" not in text  # derived from the tile's area_m2
    assert f"/collections/parcels/items/{pid}" in p.page.inner_html(".leaflet-popup-content")
    p.page.wait_for_timeout(400)  # let the popup finish fading in before the screenshot
    p.shot("planner-tiles")
    assert p.errors == []
    p.close()


def test_reference_layers_as_vector_tiles_draw_and_answer_hover(browser, tiled_server, demo_ro):
    """Roads above the threshold come as tiles: VectorGrid draws them, in their own pane above the inline
    sites, and hovering one shows its tooltip. The investor map shows roads from the start."""
    name, lon, lat = db(
        demo_ro,
        "SELECT properties->>'name', ST_X(ST_LineInterpolatePoint(geom, 0.5)), "
        "ST_Y(ST_LineInterpolatePoint(geom, 0.5)) FROM reference_features "
        "WHERE layer = 'roads' AND GeometryType(geom) = 'LINESTRING' "
        "AND properties->>'name' IS NOT NULL ORDER BY ST_Length(geom::geography) DESC LIMIT 1",
    )[0]
    p = Page(browser)
    tiles: list[int] = []
    p.page.on("response", lambda r: "/collections/roads/tiles/" in r.url and tiles.append(r.status))
    p.open(f"{tiled_server.base}/maps/investor?lang=en")
    open_sites = db(demo_ro, "SELECT count(*) FROM parcels WHERE published AND status = 'call_published'")[0][0]
    assert ("best-ranked of" in p.page.inner_text(".lf-title")) == (open_sites > 10)  # the cap's note, if over it
    xy = p.js(f"""() => {{ const m = {MAP}; m.setView([{lat}, {lon}], 16, {{animate: false}});
        const pt = m.latLngToContainerPoint([{lat}, {lon}]); const box = m.getContainer().getBoundingClientRect();
        return [pt.x + box.left, pt.y + box.top]; }}""")
    p.page.wait_for_load_state("networkidle")
    p.page.wait_for_timeout(500)
    assert tiles and set(tiles) <= {200, 204}
    # VectorGrid draws a tile after it arrives (on a loaded CI machine, well after the network is idle)
    p.page.wait_for_function(
        "() => document.querySelectorAll('.leaflet-lf_reference-pane path, .leaflet-lf_reference-pane canvas')"
        ".length > 0",
        timeout=10000,
    )
    p.page.mouse.move(*xy)
    p.page.wait_for_selector(".leaflet-tooltip", timeout=5000)
    assert name in p.page.inner_text(".leaflet-tooltip")
    p.shot("investor-road-tiles")
    assert p.errors == []
    p.close()


def test_static_map_works_with_no_network_at_all(browser, demo_ro, tmp_path):
    """`landfund map` writes a page that opens from disk with every network request refused."""
    env = {"DATABASE_URL": demo_ro, "LANDFUND_MAP_BASEMAP": "none", "PATH": "/usr/bin:/bin"}
    out = tmp_path / "planner.html"
    r = subprocess.run(
        [str(Path(sys.executable).parent / "landfund"), "map", "planner", "--out", str(out), "--lang", "en"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "warning" not in r.stderr
    n = db(demo_ro, "SELECT count(*) FROM parcels")[0][0]
    p = Page(browser, allow_loopback=False).open(out.as_uri())
    assert p.js(COUNT_PARCELS) == n
    assert p.page.is_visible(".lf-legend")
    p.shot("static-planner")
    assert p.errors == [] and p.blocked == []
    p.close()
    # more parcels than a page should inline, and no API to serve tiles: still written, with a warning
    r = subprocess.run(
        [str(Path(sys.executable).parent / "landfund"), "map", "planner", "--out", str(out)],
        capture_output=True,
        text=True,
        env={**env, "LANDFUND_MAP_INLINE_MAX_FEATURES": "10"},
        timeout=300,
    )
    assert r.returncode == 0 and out.exists(), r.stderr
    assert f"{n:,} parcels are inline" in " ".join(r.stderr.split()) and "--api-url" in r.stderr


def test_overlays_render_when_the_basemap_is_unreachable(browser, demo_ro, tmp_path):
    """The default OpenStreetMap basemap cannot load here (no internet): the overlays still draw."""
    env = {"DATABASE_URL": demo_ro, "PATH": "/usr/bin:/bin"}
    out = tmp_path / "investor.html"
    subprocess.run(
        [str(Path(sys.executable).parent / "landfund"), "map", "investor", "--out", str(out)],
        check=True,
        capture_output=True,
        env=env,
        timeout=300,
    )
    assert "tile.openstreetmap.org" in out.read_text()
    p = Page(browser, allow_loopback=False).open(out.as_uri())
    assert p.js(COUNT_PARCELS) > 0
    assert any("openstreetmap" in u for u in p.blocked)
    assert not [e for e in p.errors if "net::ERR_FAILED" not in e]  # only the refused tiles complain
    p.close()


def test_search_by_parcel_code(browser, server, tiled_server, demo_ro):
    code = db(demo_ro, "SELECT code FROM parcels WHERE published ORDER BY code DESC LIMIT 1")[0][0]
    # inline parcels: the search looks in the page, by code, name, sheet/parcel number or commune
    sheet, number, unit_name = db(
        demo_ro,
        "SELECT p.map_sheet_no, p.parcel_no, a.name FROM parcels p JOIN admin_units a "
        f"ON a.code = p.admin_unit_code AND a.valid_to IS NULL WHERE p.code = '{code}'",
    )[0]
    p = Page(browser).open(f"{server.base}/maps/planner")
    before = p.js(f"{MAP}.getZoom()")
    p.page.locator(".lf-search input").press_sequentially(code, delay=20)
    p.page.wait_for_selector(".lf-search-results li a", timeout=5000)
    p.page.keyboard.press("Enter")
    p.page.wait_for_selector(".leaflet-popup-content", timeout=5000)
    assert p.js(f"{MAP}.getZoom()") > before and code in p.page.inner_text(".leaflet-popup-content")
    p.page.fill(".lf-search input", f"{sheet}/{number}")
    p.page.wait_for_selector(".lf-search-results li a", timeout=5000)
    assert code in p.page.inner_text(".lf-search-results")
    p.page.fill(".lf-search input", unit_name.lower())  # the commune's name, in any case
    p.page.wait_for_timeout(300)
    assert len(p.page.query_selector_all(".lf-search-results li a")) >= 1
    assert p.errors == []
    p.close()
    # vector tiles: the search asks the API and opens the parcel's popup
    p = Page(browser).open(f"{tiled_server.base}/maps/planner")
    p.page.fill(".lf-search input", code)
    p.page.keyboard.press("Enter")
    p.page.wait_for_selector(".leaflet-popup-content", timeout=5000)
    assert code in p.page.inner_text(".leaflet-popup-content")
    p.page.fill(".lf-search input", "NO-SUCH-CODE")
    p.page.keyboard.press("Enter")
    p.page.wait_for_selector(".lf-search input.lf-miss", timeout=5000)
    assert p.errors == []
    p.close()


# -- maps in daily use -------------------------------------------------------------------------------------------


def click_site(p: Page, code: str) -> str:
    """Zoom to a site, move the mouse onto it as a person would, click it, return the popup's text."""
    xy = p.js(f"""() => {{ const m = {MAP}; let hit = null; m.closePopup();
        m.eachLayer(l => {{ if (l.feature && l.feature.properties.code === {code!r}
            && l.feature.geometry.type.endsWith("Polygon")) hit = l; }});
        m.fitBounds(hit.getBounds(), {{maxZoom: 17, animate: false}});
        const pt = m.latLngToContainerPoint(hit.getBounds().getCenter()), box = m.getContainer().getBoundingClientRect();
        return [pt.x + box.left, pt.y + box.top]; }}""")
    p.page.wait_for_selector(".leaflet-popup", state="detached", timeout=2000)  # the last popup fades out first
    p.page.mouse.move(xy[0] - 3, xy[1] - 3)
    p.page.mouse.move(*xy)
    p.page.mouse.click(*xy)
    p.page.wait_for_selector(".leaflet-popup-content", timeout=5000)
    return p.page.inner_text(".leaflet-popup-content")


def test_every_investor_site_can_be_clicked_and_hazard_sites_say_so(browser, server, demo_ro):
    """Hazard zones are drawn below the sites: each of them opens its popup, and a site in a zone says so."""
    sites = db(
        demo_ro,
        "SELECT p.code, EXISTS (SELECT 1 FROM reference_features r WHERE r.layer = 'hazard_zones' "
        "AND ST_Intersects(r.geom, p.geom)) FROM parcels p WHERE p.published AND p.status = 'call_published'",
    )
    assert any(h for _, h in sites), "the demo has sites in hazard zones"
    p = Page(browser).open(f"{server.base}/maps/investor")
    for code, in_hazard in sites:
        text = click_site(p, code)
        assert code in text, code
        assert ("Khu đất nằm trong vùng nguy cơ" in text) is in_hazard, code
    assert p.errors == []
    p.close()


def boxes_overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_maps_on_a_phone_keep_the_map_free(browser, server):
    for name in ("planner", "investor"):
        p = Page(browser, phone=True).open(f"{server.base}/maps/{name}")
        p.page.wait_for_timeout(300)
        assert p.page.query_selector(".leaflet-control-layers-expanded") is None  # the layer list is folded
        legends = p.page.query_selector_all(".lf-legend")
        assert legends and all("lf-folded" in (lg.get_attribute("class") or "") for lg in legends)
        title = p.page.locator(".lf-title").bounding_box()
        for control in (".lf-search", ".leaflet-control-zoom", ".lf-measure", ".leaflet-control-layers-toggle"):
            assert not boxes_overlap(title, p.page.locator(control).first.bounding_box()), (name, control)
        legend_area = sum(lg.bounding_box()["width"] * lg.bounding_box()["height"] for lg in legends)
        assert legend_area < 0.15 * 390 * 844, name  # folded legends take a corner, not the map
        p.shot(f"map-{name}-phone")
        first = legends[0]
        first.query_selector("button").tap()
        assert "lf-folded" not in first.get_attribute("class") and first.query_selector(".lf-legend-rows").is_visible()
        assert p.errors == []
        p.close()


LEGENDS = "() => [...document.querySelectorAll('.lf-legend')].map(l => l.dataset.layer)"


def test_each_visible_layer_has_its_legend_and_colours_mean_one_thing(browser, server):
    p = Page(browser).open(f"{server.base}/maps/investor")
    assert set(p.js(LEGENDS)) == {"sites", "roads", "hazard_zones"}

    def toggle(label: str):
        p.page.locator(".leaflet-control-layers-overlays label", has_text=label).locator("input").click()
        p.page.wait_for_timeout(200)

    toggle("Cơ sở hạ tầng xã hội")
    assert "facilities" in p.js(LEGENDS)
    toggle("Đường giao thông")
    assert "roads" not in p.js(LEGENDS) and "facilities" in p.js(LEGENDS)
    p.close()
    p = Page(browser).open(f"{server.base}/maps/planner")
    for label in ("Đường giao thông", "Vùng nguy cơ thiên tai", "Hộ được hỗ trợ nhà ở (chương trình)"):
        p.page.locator(".leaflet-control-layers-overlays label", has_text=label).locator("input").click()
    colours = p.js("""() => Object.fromEntries([...document.querySelectorAll('.lf-legend')].map(l =>
        [l.dataset.layer, [...l.querySelectorAll('i')].map(i => getComputedStyle(i).backgroundColor)]))""")
    assert set(colours) == {"coverage", "parcels", "roads", "hazard_zones", "programmes"}
    seen: dict[str, str] = {}
    for layer, cs in colours.items():
        for c in cs:
            if c in ("rgb(189, 189, 189)",):  # 'no figure' grey of the choropleth
                continue
            assert seen.setdefault(c, layer) == layer, (c, layer, seen[c])  # no colour means two things
    p.shot("planner-all-legends")
    p.close()


def test_vietnamese_controls(browser, server):
    p = Page(browser).open(f"{server.base}/maps/planner")
    assert p.page.get_attribute(".leaflet-control-zoom-in", "title") == "Phóng to"
    assert p.page.get_attribute(".leaflet-control-zoom-out", "title") == "Thu nhỏ"
    assert p.page.get_attribute(".lf-measure-toggle", "title") == "Đo khoảng cách và diện tích"
    p.page.click(".lf-measure-toggle")
    assert "Nhấp để thêm điểm" in p.page.inner_text(".lf-measure-panel")
    p.page.fill(".lf-search input", "không có khu nào tên này")
    p.page.wait_for_selector(".lf-search-results .lf-none")
    assert p.page.inner_text(".lf-search-results") == "Không tìm thấy"
    text = p.page.inner_text(".leaflet-container")
    for english in ("Zoom in", "Hectares", "Location not found", "Measure"):
        assert english not in text and english not in p.page.content().split("<body", 1)[1].split("lf-map-spec")[0]
    p.close()


def test_offline_base_context_when_no_basemap_answers(browser, demo_ro, tmp_path):
    """The default OpenStreetMap basemap with no internet (every request off this machine refused): the map
    says so at once and draws the province, its communes with their names and the roads from its own data."""
    server = LiveServer(demo_ro, tmp_path)  # the default basemap: OpenStreetMap
    try:
        for name in ("planner", "investor"):
            p = Page(browser).open(f"{server.base}/maps/{name}")
            p.page.wait_for_selector(".leaflet-container[data-basemap=context]", timeout=5000)
            assert any("openstreetmap" in u for u in p.blocked)
            assert "Không tải được nền bản đồ" in p.page.inner_text(".lf-basemap-offline")
            labels = p.js("() => [...document.querySelectorAll('.lf-context-label')].map(e => e.textContent)")
            communes = db(
                demo_ro, "SELECT name FROM admin_units WHERE level = 'commune' AND valid_to IS NULL ORDER BY name"
            )
            assert sorted(labels) == sorted(n for (n,) in communes)
            p.shot(f"map-{name}-offline")
            p.close()
    finally:
        server.stop()


def test_as_of_applies_to_the_parcels_too(browser, server, demo_ro):
    def codes(url: str) -> set[str]:
        p = Page(browser).open(url)
        found = set(
            p.js(f"""() => {{ const out = []; {MAP}.eachLayer(l => {{ const f = l.feature;
            if (f && f.properties.code && f.properties.level === undefined) out.push(f.properties.code); }});
            return out; }}""")
        )
        p.close()
        return found

    before_reform = codes(f"{server.base}/maps/planner?as_of=2025-01-01")
    today = codes(f"{server.base}/maps/planner")
    later = {c for (c,) in db(demo_ro, "SELECT code FROM parcels WHERE published AND decision_date > '2025-01-01'")}
    assert later and not before_reform & later and later & today
    assert before_reform < today


def test_site_sheet_is_one_a4_page_with_numbered_vertices(browser, server, demo_ro, tmp_path):
    import pypdf

    pid, code, unit = db(
        demo_ro,
        "SELECT p.id, p.code, a.name FROM parcels p JOIN admin_units a ON a.code = p.admin_unit_code "
        "AND a.valid_to IS NULL WHERE p.published AND p.status = 'call_published' ORDER BY p.area_m2 DESC LIMIT 1",
    )[0]
    p = Page(browser).open(f"{server.base}/maps/parcels/{pid}")
    rows = len(p.page.query_selector_all(".lf-vertices tr")) - 1
    labels = p.js("() => [...document.querySelectorAll('.lf-vertex')].map(e => e.textContent)")
    assert labels == [str(i) for i in range(1, rows + 1)]  # the map's numbers are the table's
    attributes = p.page.inner_text(".lf-attributes")
    assert unit in attributes and "Vùng nguy cơ thiên tai" in attributes
    x = p.page.query_selector(".lf-vertices td.num").inner_text()
    assert x.count(",") == 1 and len(x.split(",")[1]) == 3, x  # millimetres: three decimals, zeros kept
    p.page.emulate_media(media="print")
    pdf = tmp_path / "sheet.pdf"
    p.page.pdf(path=str(pdf), format="A4", print_background=True)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "site-sheet.pdf").write_bytes(pdf.read_bytes())
    assert len(pypdf.PdfReader(str(pdf)).pages) == 1
    # the parcel is whole inside the printed map
    inside = p.js(f"""() => {{ const m = {MAP}; let hit = null; m.eachLayer(l => {{ if (l.feature &&
        l.feature.properties.code === {code!r}) hit = l; }}); return m.getBounds().contains(hit.getBounds()); }}""")
    assert inside
    p.close()


def test_legends_never_run_under_the_layer_list(browser, server):
    p = Page(browser).open(f"{server.base}/maps/planner")
    for label in ("Đường giao thông", "Vùng nguy cơ thiên tai", "Hộ được hỗ trợ nhà ở (chương trình)", "Cơ sở hạ tầng"):
        p.page.locator(".leaflet-control-layers-overlays label", has_text=label).locator("input").click()
    layers = p.page.locator(".leaflet-control-layers").bounding_box()
    for legend in p.page.query_selector_all(".lf-legend"):
        assert not boxes_overlap(layers, legend.bounding_box()), legend.get_attribute("data-layer")
    assert p.page.query_selector_all(".lf-legend.lf-folded")  # folded to their titles, a tap away
    p.shot("planner-many-legends")
    p.close()
