"""The dashboard, the reports and the investor's portal in a real browser (Debian's Chromium through Playwright,
nothing outside localhost), on a desktop and on a phone: charts drawn, tables behind them, downloads that open in
openpyxl and pypdf, the ranked list and its map following the weights, compare, the dossier with its vertex
numbers. Screenshots are kept in test-artifacts/."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pypdf
import pytest
from browser import Page
from conftest import PASSWORD, LiveServer, user_for

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(demo_ro, tmp_path_factory):
    server = LiveServer(demo_ro, tmp_path_factory.mktemp("rb"), map_basemap="none")
    server.planner = user_for(demo_ro, "planner", "11")
    yield server
    server.stop()


def signed_in(browser, site, phone: bool = False) -> Page:
    p = Page(browser, phone=phone)
    p.open(f"{site.base}/login", leaflet=False)
    p.page.fill("input[name=username]", site.planner)
    p.page.fill("input[name=password]", PASSWORD)
    with p.page.expect_navigation():
        p.page.click("form.lf-form button[type=submit]")
    return p


def fits_the_screen(p: Page) -> bool:
    return p.js("document.documentElement.scrollWidth <= window.innerWidth + 1")


def chart_sizes(p: Page) -> list:
    return p.js("""() => [...document.querySelectorAll('.lf-chart svg')].map(s => {
        const b = s.getBoundingClientRect(); return [s.closest('section').id, Math.round(b.width), Math.round(b.height)]; })""")


def drawn_charts(p: Page) -> int:
    """Charts that are on the page with a real size (inline SVG, drawn on the server)."""
    return p.js("""() => [...document.querySelectorAll('.lf-chart svg')]
        .filter(s => { const b = s.getBoundingClientRect(); return b.width > 200 && b.height > 80; }).length""")


def test_dashboard_on_desktop_and_phone(browser, site):
    for phone in (False, True):
        p = signed_in(browser, site, phone)
        p.open(f"{site.base}/dashboard?as_of=2026-11-01", leaflet=False)
        tag = "phone" if phone else "desktop"
        assert p.page.inner_text("h1") == "Bảng điều khiển quỹ đất nhà ở xã hội"
        assert drawn_charts(p) >= 5, chart_sizes(p)  # pipeline, coverage, overdue (a planner), trend, programmes
        assert fits_the_screen(p), tag
        figures = p.page.inner_text(".lf-figures")
        assert "khu đất" in figures.lower() and "ha" in figures
        p.shot(f"dashboard-{tag}", full=True)
        # every chart is also a table
        p.page.click("#chart-pipeline summary")
        assert p.page.is_visible("#table-pipeline") and "Đề xuất" in p.page.inner_text("#table-pipeline")
        # the filters: a unit narrows the figures, and the page says so
        p.page.select_option("select[name=unit]", "03163")
        with p.page.expect_navigation():
            p.page.click("form.lf-filters button[type=submit]")
        assert "unit=03163" in p.page.url and drawn_charts(p) >= 4
        assert p.script_errors == [] and p.blocked == [] and p.failed_assets == []
        p.close()
    public = Page(browser).open(f"{site.base}/dashboard", leaflet=False)
    assert "Chế độ công khai" in public.page.inner_text("main") and public.page.query_selector("#chart-overdue") is None
    public.shot("dashboard-public", full=True)
    public.close()


def test_report_pages_and_their_downloads(browser, site):
    p = signed_in(browser, site)
    for name, charts in (("coverage", 1), ("bottlenecks", 1), ("suitability", 0)):
        p.open(f"{site.base}/reports/{name}?as_of=2026-11-01", leaflet=False)
        assert drawn_charts(p) >= charts, name
        assert p.page.query_selector("table.lf-grid tbody tr") is not None
        p.shot(f"report-{name}", full=True)
        with p.page.expect_download() as got:
            p.page.click("a.lf-button:text-is('XLSX')")
        wb = openpyxl.load_workbook(io.BytesIO(Path(got.value.path()).read_bytes()))
        assert wb.worksheets[0].max_row > 1 and wb.worksheets[0].freeze_panes == "A2"
        assert got.value.suggested_filename.endswith(".xlsx")
        with p.page.expect_download() as got:
            p.page.click("a.lf-button:text-is('PDF')")
        reader = pypdf.PdfReader(io.BytesIO(Path(got.value.path()).read_bytes()))
        assert len(reader.pages) >= 1 and "Trang 1 /" in reader.pages[0].extract_text()
    p.open(f"{site.base}/reports/coverage?lang=en", leaflet=False)
    assert p.page.inner_text("h1") == "Land fund against demand"
    assert p.script_errors == [] and p.blocked == []
    p.close()
    phone = signed_in(browser, site, phone=True)
    for name in ("coverage", "bottlenecks", "suitability"):
        phone.open(f"{site.base}/reports/{name}", leaflet=False)
        assert fits_the_screen(phone), name
        phone.shot(f"report-{name}-phone", full=False)
    phone.close()


def ranked_ids(p: Page) -> list[str]:
    return p.js("() => [...document.querySelectorAll('.lf-site')].map(e => e.dataset.id)")


def map_ranks(p: Page) -> dict:
    return p.js("""() => { const out = {}; window.lfPageMap.eachLayer(l => {
        if (l.feature && l.feature.properties.rank !== undefined) out[l.feature.id] = l.feature.properties.rank; });
        return out; }""")


def test_the_portal_list_and_map_follow_the_weights(browser, site):
    for phone in (False, True):
        p = Page(browser, phone=phone).open(f"{site.base}/investors")
        before = ranked_ids(p)
        ranks = map_ranks(p)
        assert before and len(ranks) == len(before)
        assert [str(i) for i, _ in sorted(ranks.items(), key=lambda kv: kv[1])] == before
        p.shot("investors-" + ("phone" if phone else "desktop"), full=not phone)
        # slide the area weight to 1 and every other criterion to 0: the page ranks again by itself
        with p.page.expect_navigation():
            p.js("""() => { document.querySelectorAll('input[type=range]').forEach(r => {
                r.value = r.name === 'w_area' ? '1' : '0'; r.dispatchEvent(new Event('input', {bubbles: true})); });
                document.querySelector('input[name=w_area]').dispatchEvent(new Event('change', {bubbles: true})); }""")
        p.page.wait_for_function("() => window.lfPageMap !== undefined")
        assert "w_area=1" in p.page.url and "w_road=0" in p.page.url
        after = ranked_ids(p)
        assert after != before and sorted(after) == sorted(before)
        ranks = map_ranks(p)
        assert [str(i) for i, _ in sorted(ranks.items(), key=lambda kv: kv[1])] == after  # the map moved too
        assert p.page.input_value("#w-area") == "1" and p.page.inner_text("output[for=w-area]") == "1"
        # excluding hazard zones takes their sites off the list and the map
        with p.page.expect_navigation():
            p.page.select_option("select[name=hazards]", "exclude")
        assert len(ranked_ids(p)) < len(before) and len(map_ranks(p)) == len(ranked_ids(p))
        assert p.script_errors == [] and p.blocked == [] and p.failed_assets == []
        p.close()


def test_compare_and_the_dossier(browser, site):
    p = Page(browser).open(f"{site.base}/investors")
    ids = ranked_ids(p)[:3]
    assert p.page.is_disabled("#compare-button")
    for i in ids[:2]:
        p.page.check(f"#site-{i} input.lf-pick")
    assert p.page.is_enabled("#compare-button")
    with p.page.expect_navigation():
        p.page.click("#compare-button")
    assert "/investors/compare" in p.page.url
    assert p.page.locator("#compare-table thead th").count() == 3  # the row names and two sites
    p.shot("compare", full=True)
    p.open(f"{site.base}/investors/sites/{ids[0]}")
    p.page.wait_for_selector(".lf-vertex-label")
    labels = p.js("() => [...document.querySelectorAll('.lf-vertex-label')].map(e => e.textContent)")
    rows = p.page.locator("#vertices tbody tr").count()
    assert labels and len(labels) == rows and labels[0] == "1"  # the numbers on the map are the table's
    p.shot("dossier", full=True)
    with p.page.expect_download() as got:
        p.page.click("a[href*='boundary.dxf']")
    assert got.value.suggested_filename.endswith(".dxf")
    assert p.script_errors == [] and p.blocked == [] and p.failed_assets == []
    p.close()
    phone = Page(browser, phone=True).open(f"{site.base}/investors/sites/{ids[0]}")
    assert fits_the_screen(phone)
    phone.shot("dossier-phone")
    phone.close()
