"""The planner's workspace in a real browser (Debian's Chromium through Playwright, nothing outside localhost):
a planner signs in, finds a parcel, changes its name and its boundary on the map, sees it in the history, approves
it with a decision and its document, adds a parcel by drawing it and another from a file, is shown an overlap, and
signs out; the public then sees only published parcels; an investor sees only their interests; a form without its
CSRF token is refused; a planner cannot edit outside their unit. Screenshots of every page, desktop and phone,
are kept in test-artifacts/."""

from __future__ import annotations

import json

import pytest
from browser import Page
from conftest import PASSWORD, LiveServer, user_for
from test_workspace import DBP, MT, PDF, _free_spot, count, parcel_in, q

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(server_url, demo_template, tmp_path_factory):
    """A live server over a demo database of the module's own (the tests here write)."""
    from conftest import clone_database, db_url, drop_database

    name = clone_database(server_url, demo_template, "ws")
    url = db_url(server_url, name)
    server = LiveServer(url, tmp_path_factory.mktemp("ws"), map_basemap="none")
    server.db = url
    yield server
    server.stop()
    drop_database(server_url, name)


def sign_in(p: Page, base: str, name: str, next_: str = "/") -> None:
    p.open(f"{base}/login?next={next_}", leaflet=False)
    p.page.fill("input[name=username]", name)
    p.page.fill("input[name=password]", PASSWORD)
    with p.page.expect_navigation():
        p.page.click("form.lf-form button[type=submit]")
    p.page.wait_for_load_state("networkidle")


def submit(p: Page, selector: str) -> None:
    with p.page.expect_navigation():
        p.page.click(selector)
    p.page.wait_for_load_state("networkidle")


def to_screen(p: Page, lon: float, lat: float) -> tuple[float, float]:
    x, y = p.js(f"""() => {{ const m = window.lfPageMap, pt = m.latLngToContainerPoint([{lat}, {lon}]),
        box = m.getContainer().getBoundingClientRect(); return [pt.x + box.left, pt.y + box.top]; }}""")
    return x, y


def test_a_planner_does_the_days_work_in_the_browser(browser, site, tmp_path):
    db = site.db
    planner = user_for(db, "planner", DBP)
    fid, code = parcel_in(db, DBP, "proposed")
    p = Page(browser)
    sign_in(p, site.base, planner, "/parcels")
    assert p.page.url.endswith("/parcels")
    assert planner in p.page.inner_text(".lf-nav") and "Điện Biên Phủ (03127)" in p.page.inner_text(".lf-nav")
    assert f"{count(db, 'parcels')} khu đất" in p.page.inner_text(".lf-count")
    p.shot("ws-list-planner-desktop")

    # find the parcel by its code and open it
    p.page.fill("input[name=q]", code)
    submit(p, ".lf-filters button[type=submit]")
    assert p.page.locator(".lf-grid tbody tr").count() == 1
    submit(p, f".lf-grid a:text('{code}')")
    assert f"/parcels/{fid}" in p.page.url
    p.shot("ws-parcel-desktop")

    # change its name and move one vertex of its boundary on the map
    submit(p, "a.lf-button:text('Chỉnh sửa')")
    p.page.wait_for_function("window.lfPageMap !== undefined")
    before = p.page.input_value("#geometry")
    p.page.fill("#f-name", "Khu nhà ở xã hội Noong Bua (điều chỉnh)")
    p.page.fill("#f-reason", "Rà soát lại ranh giới theo đo đạc 2026")
    p.page.click(".leaflet-pm-icon-edit")
    vertex = p.page.locator(".marker-icon:not(.marker-icon-middle)").first
    box = vertex.bounding_box()
    p.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    p.page.mouse.down()
    p.page.mouse.move(box["x"] + 20, box["y"] + 14, steps=5)
    p.page.mouse.up()
    p.page.click(".leaflet-pm-icon-edit")  # done editing
    after = p.page.input_value("#geometry")
    assert after != before and json.loads(after)["type"] == "MultiPolygon"
    assert p.page.input_value("#geometry_changed") == "1" and "ha" in p.page.inner_text("#drawn-area")
    p.shot("ws-edit-desktop")
    submit(p, "form.lf-editor button.lf-primary")
    assert "done=saved" in p.page.url and "Đã lưu." in p.page.inner_text(".lf-flash")
    history = p.page.inner_text("#history")
    assert "Noong Bua (điều chỉnh)" in history and "Ranh giới thay đổi" in history and planner in history
    assert "Rà soát lại ranh giới theo đo đạc 2026" in history
    assert p.js("document.querySelectorAll('#parcel-map path[stroke-dasharray]').length") >= 1  # the old boundary
    p.shot("ws-history-desktop")

    # approve it with the decision and its document
    p.page.click("summary:has-text('Chuyển sang: Trong chương trình, kế hoạch')")
    form = p.page.locator("details[open] form")
    form.locator("textarea[name=reason]").fill("Đủ điều kiện theo quy hoạch chung")
    form.locator("input[name=decision_no]").fill("2107/QĐ-UBND")
    form.locator("input[name=decision_date]").fill("2026-11-20")
    form.locator("input[name=issuing_body]").fill("UBND tỉnh Điện Biên")
    pdf = tmp_path / "QĐ 2107.pdf"
    pdf.write_bytes(PDF)
    form.locator("input[name=document]").set_input_files(str(pdf))
    p.shot("ws-transition-desktop")
    submit(p, "details[open] form button.lf-primary")
    assert "Trong chương trình, kế hoạch" in p.page.inner_text(".lf-stage")
    assert "2107/QĐ-UBND" in p.page.inner_text("#history") and "20/11/2026" in p.page.inner_text("#history")
    assert q(db, "SELECT status, decision_no FROM parcels WHERE id = %s", [fid])[0] == ("programmed", "2107/QĐ-UBND")
    assert p.page.locator("#history a:has-text('QĐ 2107.pdf')").count() == 1

    # add a parcel by drawing it
    p.open(f"{site.base}/parcels/new")
    spot = _free_spot(db, DBP)["coordinates"][0][0]
    lons, lats = [c[0] for c in spot], [c[1] for c in spot]
    p.js(f"window.lfPageMap.setView([{sum(lats) / len(lats)}, {sum(lons) / len(lons)}], 17, {{animate: false}})")
    p.page.wait_for_timeout(300)
    p.page.fill("#f-code", "NOXH-VE-001")
    p.page.fill("#f-name", "Khu vẽ trên bản đồ")
    p.page.click(".leaflet-pm-icon-polygon")
    corners = [(min(lons), min(lats)), (max(lons), min(lats)), (max(lons), max(lats)), (min(lons), max(lats))]
    for lon, lat in corners:
        p.page.mouse.click(*to_screen(p, lon, lat))
    p.page.mouse.click(*to_screen(p, *corners[0]))  # back on the first vertex: the polygon is closed
    assert json.loads(p.page.input_value("#geometry"))["type"] == "MultiPolygon"
    p.shot("ws-draw-desktop")
    submit(p, "form.lf-editor button.lf-primary")
    assert "done=saved" in p.page.url, p.page.inner_text("main")
    assert q(db, "SELECT admin_unit_code, status FROM parcels WHERE code = 'NOXH-VE-001'")[0] == (DBP, "proposed")

    # add another from a file
    other = _free_spot(db, DBP)
    upload = tmp_path / "ranh-gioi.geojson"
    upload.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": other}))
    p.open(f"{site.base}/parcels/new")
    p.page.fill("#f-code", "NOXH-TEP-001")
    p.page.fill("#f-name", "Khu từ tệp GeoJSON")
    p.page.set_input_files("input[name=geometry_file]", str(upload))
    submit(p, "form.lf-editor button.lf-primary")
    assert "done=saved" in p.page.url, p.page.inner_text("main")
    assert count(db, "parcels", "code = 'NOXH-TEP-001'") == 1

    # an overlapping one: the error beside the boundary, the overlapped parcel outlined on the map, nothing written
    upload.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": other}))
    p.open(f"{site.base}/parcels/new")
    p.page.fill("#f-code", "NOXH-TRUNG-001")
    p.page.set_input_files("input[name=geometry_file]", str(upload))
    submit(p, "form.lf-editor button.lf-primary")
    assert "Chồng lấn khu đất NOXH-TEP-001" in p.page.inner_text("#error-geometry")
    assert "NOXH-TEP-001" in p.page.inner_text(".leaflet-tooltip")
    assert p.js("document.querySelectorAll('#editor-map path[stroke=\"#c62828\"]').length") == 1
    assert count(db, "parcels", "code = 'NOXH-TRUNG-001'") == 0
    p.shot("ws-overlap-desktop")

    # a form without its CSRF token is refused, even with the session's cookie
    r = p.page.request.post(
        f"{site.base}/parcels/{fid}/edit", form={"name": "x"}, headers={"Accept": "application/json"}
    )
    assert r.status == 403 and "CSRF" in r.json()["detail"]

    # sign out: the public view, and only published parcels
    submit(p, ".lf-who form button")
    assert "Chế độ công khai" in p.page.inner_text(".lf-nav")
    p.open(f"{site.base}/parcels", leaflet=False)
    assert f"{count(db, 'parcels', 'published')} khu đất" in p.page.inner_text(".lf-count")
    new_id = q(db, "SELECT id FROM parcels WHERE code = 'NOXH-VE-001'")[0][0]
    p.page.goto(f"{site.base}/parcels/{new_id}")
    assert "Không tìm thấy" in p.page.inner_text("main")
    p.shot("ws-list-public-desktop")
    assert p.script_errors == [] and p.failed_assets == [] and p.blocked == [], (p.errors, p.failed, p.blocked)
    assert [f[0] for f in p.failed] == [400, 404]  # the overlap and the hidden parcel, nothing else
    p.close()


def test_a_planner_cannot_edit_outside_their_unit(browser, site):
    planner = user_for(site.db, "planner", DBP)
    fid, _ = parcel_in(site.db, MT)
    p = Page(browser)
    sign_in(p, site.base, planner)
    p.open(f"{site.base}/parcels/{fid}")
    assert p.page.locator("a:text('Chỉnh sửa')").count() == 0 and p.page.locator("#transitions").count() == 0
    r = p.page.goto(f"{site.base}/parcels/{fid}/edit")
    assert r.status == 403 and "Khu đất nằm ngoài đơn vị hành chính của bạn" in p.page.inner_text("main")
    p.shot("ws-forbidden-desktop")
    p.close()


def test_an_investor_sees_only_their_interests(browser, site):
    db = site.db
    fid, code = parcel_in(db, DBP, "call_published", published=True)
    mine, theirs = user_for(db, "investor"), user_for(db, "investor")
    for who, company in ((theirs, "Công ty Khác"), (mine, "Công ty CP Nhà ở Mường Thanh")):
        p = Page(browser)
        sign_in(p, site.base, who, f"/interests/new?parcel={fid}")
        p.page.fill("#i-company", company)
        p.page.fill("#i-tax_code", "0101234567")
        p.page.fill("#i-contact_name", "Lò Văn Minh")
        p.page.fill("#i-proposed_units", "150")
        if who == mine:
            p.shot("ws-interest-form-desktop")
        submit(p, "form.lf-form button.lf-primary")
        assert p.page.url.endswith("/inbox?done=sent")
        text = p.page.inner_text("main")
        assert company in text and code in text and "Đang xem xét" in text
        assert ("Công ty Khác" in text) == (who == theirs)
        if who == mine:
            p.shot("ws-inbox-investor-desktop")
        p.close()


PAGES = [
    "/",
    "/login",
    "/maps",
    "/parcels",
    "/reports",
    "/parcels/{fid}",
    "/parcels/{fid}/edit",
    "/parcels/new",
    "/parcels/import",
    "/inbox",
    "/collections/parcels/items?f=html",
    "/parcels/999999999",
]


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_every_page_fits_the_screen_desktop_and_phone(browser, site, phone):
    """Every page opens without a script error, in Vietnamese, and nothing is wider than the screen (tables scroll
    inside their own box); a screenshot of each is kept."""
    planner = user_for(site.db, "planner", DBP)
    fid, _ = parcel_in(site.db, DBP, "call_published")
    p = Page(browser, phone=phone)
    sign_in(p, site.base, planner)
    label = "phone" if phone else "desktop"
    for path in PAGES:
        url = site.base + path.format(fid=fid)
        p.page.goto(url, wait_until="networkidle")
        width = p.js("document.documentElement.scrollWidth")
        assert width <= p.page.viewport_size["width"], (path, width)
        assert p.js("document.documentElement.lang") == "vi"
        name = path.strip("/").replace("/", "-").replace("?", "-").replace("=", "-").replace("{fid}", "id") or "home"
        p.shot(f"ws-page-{name}-{label}", full=True)
    if phone:  # the menu button opens the navigation, who is signed in and the sign-out button
        assert not p.page.is_visible(".lf-nav-links")
        p.page.click(".lf-menu-button")
        assert p.page.is_visible(".lf-nav-links") and p.page.is_visible(".lf-who form button")
        p.shot("ws-menu-phone")
    assert p.script_errors == [] and p.failed_assets == [] and p.blocked == [], (p.errors, p.failed, p.blocked)
    p.close()


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_an_import_of_very_many_bad_rows_reads_on_desktop_and_phone(browser, site, tmp_path, phone):
    """A file of 1,500 bad rows of hostile text: the page lists the first 1,000 problems in a table that scrolls in
    its own box, says how many more there are by field, runs none of the text, and nothing is written."""
    hostile = "{{ 7*7 }} {# x #} <script>window.lfRan = 1</script> \"'"
    rows = [
        {"type": "Feature", "geometry": None, "properties": {"code": f"NOXH-BR-{i:04d}", "max_floors": hostile}}
        for i in range(1, 1501)
    ]
    upload = tmp_path / "nhieu-loi.geojson"
    upload.write_text(json.dumps({"type": "FeatureCollection", "features": rows}))
    label = "phone" if phone else "desktop"
    p = Page(browser, phone=phone)
    sign_in(p, site.base, user_for(site.db, "planner", DBP), "/parcels/import")
    p.page.set_input_files("input[name=file]", str(upload))
    submit(p, "form.lf-form button[type=submit]")
    assert p.page.locator("#problems tbody tr").count() == 1000
    assert p.page.is_visible("#problems-omitted")
    assert "còn 2.000 lỗi khác" in p.page.inner_text("#problems-omitted")
    assert p.js("document.documentElement.scrollWidth") <= p.page.viewport_size["width"]
    shown = p.page.inner_text("#problems tbody")
    assert p.js("window.lfRan === undefined") and "{{ 7*7 }} {# x #} <script>window.lfRan = 1</script>" in shown
    p.shot(f"ws-import-many-problems-{label}")
    p.page.locator("#problems-omitted").scroll_into_view_if_needed()
    p.shot(f"ws-import-many-problems-more-{label}")
    assert count(site.db, "parcels", "code LIKE 'NOXH-BR-%%'") == 0
    assert p.script_errors == [] and p.failed_assets == [] and p.blocked == [], (p.errors, p.failed, p.blocked)
    p.close()


def test_the_api_page_can_try_a_call_with_a_token(browser, site):
    """/api.html declares the bearer scheme, so "Authorize" and "Try it out" work (they got 401 before)."""
    from conftest import token_for

    token = token_for(site.db, "planner", DBP)
    p = Page(browser)
    p.open(f"{site.base}/api.html", leaflet=False)
    p.page.wait_for_selector(".swagger-ui .btn.authorize", timeout=20000)
    p.page.click(".swagger-ui .btn.authorize")
    p.page.fill(".auth-container input", token)
    p.page.click(".auth-btn-wrapper button.authorize")
    p.page.click(".btn-done")
    block = p.page.locator(".opblock-get:has([data-path='/collections/{collectionId}/items'])").first
    block.locator(".opblock-summary").click()
    block.locator("button.try-out__btn").click()
    block.locator("select").first.select_option("parcels")
    block.locator("button.execute").click()
    cell = block.locator(".live-responses-table tbody .response-col_status").first
    cell.wait_for(timeout=20000)
    assert cell.inner_text().strip() == "200"
    assert f'"numberMatched": {count(site.db, "parcels")}' in block.locator(".live-responses-table").inner_text()
    p.shot("ws-api-try-it-out")
    p.close()
