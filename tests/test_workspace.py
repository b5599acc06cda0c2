"""The planner's workspace over HTTP, as a browser uses it (forms, cookies, redirects): sign-in and sessions,
CSRF, the home page and the navigation, the land-fund list and its downloads, a parcel's page, the forms that add
and adjust parcels, transitions with decisions and documents, bulk imports, the interests inbox. The same flows
in a real browser are in test_workspace_browser.py."""

from __future__ import annotations

import csv
import io
import json
import re

import numpy as np
import openpyxl
import psycopg
import pyogrio
import pytest
from conftest import PASSWORD, api_client, csrf_of, sign_in, token_for, user_for
from helpers import count

from gis_service.core.db import libpq_dsn

DBP = "03127"  # phường Điện Biên Phủ (since 1 July 2025)
MT = "03334"  # phường Mường Thanh
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def q(url: str, sql: str, params=()):
    with psycopg.connect(libpq_dsn(url)) as c:
        return c.execute(sql, params).fetchall()


# the parcels the land fund counts: not withdrawn, not a 20 % reserve paid for or provided elsewhere
GONE = "status NOT IN ('withdrawn', 'reserve_paid', 'reserve_elsewhere')"


def parcel_in(url: str, unit: str, status: str | None = None, published: bool | None = None) -> tuple[int, str]:
    where, params = ["admin_unit_code = %s"], [unit]
    if status:
        where.append("status = %s")
        params.append(status)
    if published is not None:
        where.append("published = %s")
        params.append(published)
    return q(url, f"SELECT id, code FROM parcels WHERE {' AND '.join(where)} ORDER BY id LIMIT 1", params)[0]


def etag_of(html: str) -> str:
    return re.search(r'name="etag" value="([^"]*)"', html).group(1)


def island(html: str, name: str) -> dict:
    found = re.search(rf'<script type="application/json" id="{name}">(.*?)</script>', html, re.S)
    assert found, name
    return json.loads(found.group(1))


@pytest.fixture
def planner(api_rw):
    """The test client signed in as a planner of phường Điện Biên Phủ."""
    name = user_for(api_rw.db, "planner", DBP)
    assert sign_in(api_rw, name).status_code == 303
    api_rw.name = name
    return api_rw


def form_of_parcel(client, fid: int) -> dict:
    """The edit form's fields as the page fills them in (what a browser would send back unchanged)."""
    html = client.get(f"/parcels/{fid}/edit").text
    data = {}
    for m in re.finditer(r'<input id="f-(\w+)" name="\w+"[^>]*?value="([^"]*)"', html):
        data[m.group(1)] = m.group(2)
    for m in re.finditer(r'<select id="f-(\w+)".*?</select>', html, re.S):
        sel = re.search(r'<option value="([^"]*)" selected', m.group(0))
        data[m.group(1)] = sel.group(1) if sel else ""
    for m in re.finditer(r'<textarea id="f-(\w+)" name="\w+"[^>]*>(.*?)</textarea>', html, re.S):
        data[m.group(1)] = m.group(2)
    if 'name="published" value="true" checked' in html:
        data["published"] = "true"
    data.pop("reason", None)
    import html as htmllib

    data = {k: htmllib.unescape(v) for k, v in data.items()}
    data.update(
        csrf=csrf_of(html),
        etag=etag_of(html),
        base=htmllib.unescape(re.search(r'name="base" value="([^"]*)"', html).group(1)),
        geometry=htmllib.unescape(re.search(r'id="geometry" value="([^"]*)"', html).group(1)),
    )
    return data


# -- signing in ------------------------------------------------------------------------------------------------


def test_sign_in_sets_a_safe_session_cookie_and_returns_where_the_user_was(api_rw):
    name = user_for(api_rw.db, "planner", DBP)
    form = api_rw.get("/login?next=/parcels%3Fstatus%3Dapproved")
    assert form.status_code == 200 and 'name="username"' in form.text and 'type="password"' in form.text
    r = sign_in(api_rw, name, next_="/parcels?status=programmed")
    assert r.status_code == 303 and r.headers["location"] == "/parcels?status=programmed"
    cookie = r.headers["set-cookie"]
    assert "landfund_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Secure" not in cookie  # plain http (a test server); see the https case below
    page = api_rw.get("/parcels").text
    assert name in page and "Cán bộ quy hoạch" in page and "Điện Biên Phủ (03127)" in page and "Đăng xuất" in page


def test_session_cookie_is_secure_over_https(demo_db, tmp_path):
    from conftest import app_url
    from fastapi.testclient import TestClient

    from gis_service.api.app import create_app
    from gis_service.core.config import Settings

    name = user_for(demo_db, "admin")
    with TestClient(
        create_app(Settings(database_url=app_url(demo_db), home=tmp_path)), base_url="https://testserver"
    ) as client:
        r = sign_in(client, name)
        assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]


def test_a_wrong_password_says_so_on_the_form_and_repeated_failures_slow_down(api_rw):
    name = user_for(api_rw.db, "planner", DBP)
    r = sign_in(api_rw, name, "not-the-password")
    assert r.status_code == 401 and "không đúng" in r.text and 'value="' + name + '"' in r.text
    assert "landfund_session" not in r.headers.get("set-cookie", "")
    statuses = [sign_in(api_rw, name, "still-wrong").status_code for _ in range(6)]
    assert statuses[-1] == 429
    slowed = sign_in(api_rw, name, PASSWORD)  # even the right password waits its turn
    assert slowed.status_code == 429 and int(slowed.headers["retry-after"]) >= 1 and "giây" in slowed.text


def test_failures_are_counted_per_address_too(api_rw):
    names = [user_for(api_rw.db, "investor") for _ in range(25)]
    last = None
    for n in names:  # one wrong try each, from one address: 20 in 15 minutes are allowed
        last = sign_in(api_rw, n, "wrong-password-x")
    assert last.status_code == 429


def test_sign_in_refuses_a_form_without_its_token_and_a_next_off_the_site(api_rw):
    name = user_for(api_rw.db, "admin")
    api_rw.get("/login")
    r = api_rw.post("/login", data={"username": name, "password": PASSWORD, "csrf": "forged"}, follow_redirects=False)
    assert r.status_code == 403 and "landfund_session" not in r.headers.get("set-cookie", "")
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        assert sign_in(api_rw, name, next_=evil).headers["location"] == "/"


def test_passwords_have_a_minimum_length_and_are_stored_as_argon2(api_rw):
    from gis_service.core.errors import LandfundError
    from gis_service.services import auth

    name = user_for(api_rw.db, "planner", DBP)
    with psycopg.connect(libpq_dsn(api_rw.db), autocommit=True) as c:
        with pytest.raises(LandfundError, match="12"):
            auth.set_password(c, name, "short")
        stored = c.execute("SELECT password_hash FROM users WHERE name = %s", [name]).fetchone()[0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_sign_out_ends_the_session_for_good(planner):
    page = planner.get("/parcels").text
    session = planner.cookies.get("landfund_session")
    r = planner.post("/logout", data={"csrf": csrf_of(page)}, follow_redirects=False)
    assert r.status_code == 303
    planner.cookies.set("landfund_session", session)  # replaying the old cookie gives the public view
    again = planner.get("/parcels").text
    assert "Chế độ công khai" in again and planner.name not in again
    assert "hết hạn" in again  # and says why


def test_the_session_has_the_users_scope_everywhere(planner, api_rw):
    """The same role and unit as the user's token: the list, the API, tiles and the maps see what a planner sees."""
    total = count(api_rw.db, "parcels")
    published = count(api_rw.db, "parcels", "published")
    assert f"{total} khu đất" in planner.get("/parcels").text
    items = planner.get("/collections/parcels/items?limit=1", headers={"Accept": "application/geo+json"}).json()
    assert items["numberMatched"] == total
    hidden = parcel_in(api_rw.db, DBP, published=False)[0]
    assert planner.get(f"/collections/parcels/items/{hidden}").status_code == 200
    assert planner.get(f"/parcels/{hidden}").status_code == 200
    coverage = planner.get("/analytics/coverage").json()["units"]
    assert sum(u["parcels"] for u in coverage) == count(api_rw.db, "parcels", GONE)
    anonymous = api_client(api_rw.db, api_rw.app.state.settings.home)
    with anonymous:
        public = anonymous.get("/analytics/coverage").json()["units"]
        assert sum(u["parcels"] for u in public) == count(api_rw.db, "parcels", f"published AND {GONE}")
        assert f"{published} khu đất" in anonymous.get("/parcels").text
        assert anonymous.get(f"/parcels/{hidden}").status_code == 404
        assert anonymous.get(f"/collections/parcels/items/{hidden}").status_code == 404


def test_bearer_tokens_keep_working_for_api_clients(api_rw):
    token = token_for(api_rw.db, "planner", DBP)
    r = api_rw.get("/collections/parcels/items?limit=1", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["numberMatched"] == count(api_rw.db, "parcels")


def test_a_change_without_the_csrf_token_is_refused_and_writes_nothing(planner, api_rw):
    fid, _ = parcel_in(api_rw.db, DBP)
    data = form_of_parcel(planner, fid)
    before = q(api_rw.db, "SELECT name FROM parcels WHERE id = %s", [fid])[0][0]
    for csrf in (None, "forged-token"):
        sent = {**data, "name": "Đổi tên không hợp lệ"}
        if csrf is None:
            sent.pop("csrf")
        else:
            sent["csrf"] = csrf
        r = planner.post(f"/parcels/{fid}/edit", data=sent, headers={"Accept": "application/json"})
        assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    r = planner.post("/logout", data={}, follow_redirects=False)
    assert r.status_code == 403
    assert q(api_rw.db, "SELECT name FROM parcels WHERE id = %s", [fid])[0][0] == before


# -- a home and a way around -----------------------------------------------------------------------------------


def test_home_page_for_people_and_the_landing_page_for_gis_clients(api):
    home = api.get("/", headers={"Accept": "text/html"})
    assert home.status_code == 200 and 'lang="vi"' in home.text
    for link in ("/maps/planner", "/maps/investor", "/parcels", "/reports", "/login", "/collections"):
        assert f'{link}"' in home.text or f"{link}?" in home.text, link
    assert "Cho phần mềm GIS" in home.text
    assert api.get("/", headers={"Accept": "application/json"}).json()["links"]
    assert "OGC API" in api.get("/?f=html").text
    en = api.get("/?lang=en", headers={"Accept": "text/html"})
    assert 'lang="en"' in en.text and "Social-housing land fund" in en.text
    assert "landfund_lang=en" in en.headers["set-cookie"]  # remembered for the next pages
    assert 'lang="en"' in api.get("/maps").text
    api.cookies.delete("landfund_lang")
    assert 'lang="vi"' in api.get("/maps").text


def test_every_page_has_the_navigation_bar_maps_included(api):
    pages = [
        "/",
        "/maps",
        "/parcels",
        "/reports",
        "/login",
        "/maps/planner",
        "/maps/investor",
        "/collections?f=html",
        "/collections/parcels/items?f=html",
        "/conformance?f=html",
    ]
    for path in pages:
        r = api.get(path, headers={"Accept": "text/html"})
        assert r.status_code == 200, path
        assert 'class="lf-nav"' in r.text and 'href="http://testserver/parcels"' in r.text, path
        assert "Chế độ công khai" in r.text, path  # anonymous: the public view, and what it hides


def test_the_gis_data_pages_speak_the_readers_language(api):
    vi = api.get("/collections/parcels/items?f=html&limit=50").text
    table = vi.split("<tbody>")[1].split("</tbody>")[0]
    assert (
        "Đã công bố mời gọi đầu tư" in table
        and "call_published" not in table
        and re.search(r">\d{2}/\d{2}/\d{4}<", table)
    )
    assert 'class="lf-scroll"' in vi and "Trạng thái" in vi
    en = api.get("/collections/parcels/items?f=html&limit=50&lang=en").text
    api.cookies.delete("landfund_lang")
    table = en.split("<tbody>")[1].split("</tbody>")[0]
    assert 'lang="en"' in en and "Call for investors published" in table and "Status" in en
    assert re.search(r">\d{4}-\d{2}-\d{2}<", table)


def test_maps_index_lists_the_maps(api):
    r = api.get("/maps")
    assert r.status_code == 200
    assert "/maps/planner" in r.text and "/maps/investor" in r.text and "Bản đồ rà soát" in r.text


def test_a_page_error_is_a_page_for_people_and_a_problem_for_scripts(api):
    r = api.get("/parcels/999999999", headers={"Accept": "text/html"})
    assert r.status_code == 404 and "Không tìm thấy" in r.text and 'class="lf-nav"' in r.text
    r = api.get("/parcels/999999999", headers={"Accept": "application/json"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    r = api.get("/parcels/new", headers={"Accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/parcels/new"


# -- the list -----------------------------------------------------------------------------------------------------


def test_list_shows_vietnamese_labels_and_formats(planner, api_rw):
    fid, code = parcel_in(api_rw.db, DBP, "call_published")
    area = q(api_rw.db, "SELECT area_m2 FROM parcels WHERE id = %s", [fid])[0][0]
    html = planner.get(f"/parcels?q={code}").text
    assert "Đã công bố mời gọi đầu tư" in html and "call_published" not in html.split("<tbody>")[1]
    shown = f"{area / 1e4:,.2f}".rstrip("0").rstrip(".").replace(",", "X").replace(".", ",").replace("X", ".")
    assert f">{shown}<" in html
    assert "Điện Biên Phủ (03127)" in html
    assert re.search(r">\d{2}/\d{2}/\d{4}<", html)  # dates dd/mm/yyyy
    en = planner.get(f"/parcels?q={code}&lang=en").text
    assert "Call for investors published" in en and 'lang="en"' in en and re.search(r">\d{4}-\d{2}-\d{2}<", en)


def test_list_filters_sort_and_pages(planner, api_rw):
    db = api_rw.db
    n = count(db, "parcels", "status = 'programmed'")
    assert f"{n} khu đất" in planner.get("/parcels?status=programmed").text
    n_unit = q(
        db,
        "SELECT count(DISTINCT p.id) FROM parcels p, admin_units a WHERE a.code = %s AND ST_Intersects(a.geom, p.pos)",
        [DBP],
    )[0][0]
    assert f"{n_unit} khu đất" in planner.get(f"/parcels?unit={DBP}").text
    sheet, no, code = q(
        db, "SELECT map_sheet_no, parcel_no, code FROM parcels WHERE map_sheet_no IS NOT NULL ORDER BY id LIMIT 1"
    )[0]
    found = planner.get(f"/parcels?q={sheet}/{no}").text
    assert code in found
    desc = planner.get("/parcels?sort=area_m2&dir=desc").text
    biggest = q(db, "SELECT code FROM parcels ORDER BY area_m2 DESC NULLS LAST, id LIMIT 1")[0][0]
    assert desc.split("<tbody>")[1].split("</tr>")[0].count(biggest) == 1
    # more parcels than a page holds (50): the demo's few dozen, copied twice alongside
    q(
        db,
        "INSERT INTO parcels (code, name, province_code, status, geom) SELECT code || '-B' || g, name, "
        "province_code, 'proposed', ST_Translate(geom, 0.03 * g, 0) FROM parcels, generate_series(1, 2) g "
        "RETURNING id",
    )
    two = planner.get("/parcels?page=2").text
    assert "Trang 2/" in two and 'rel="prev"' in two
    assert planner.get("/parcels?status=nonsense").status_code == 400
    assert planner.get("/parcels?sort=internal_note").status_code == 400


def test_downloads_hold_exactly_what_is_filtered(planner, api_rw):
    db = api_rw.db
    n = count(db, "parcels", "status = 'programmed'")
    r = planner.get("/parcels/download.csv?status=programmed")
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == n + 1 and "Diện tích (ha)" in rows[0]
    area = rows[1][rows[0].index("Diện tích (ha)")]
    assert "," in area and "." not in area  # a decimal comma, as Excel with Vietnamese settings reads it
    assert all(r[rows[0].index("Trạng thái")] == "Trong chương trình, kế hoạch" for r in rows[1:])
    x = planner.get("/parcels/download.xlsx?status=programmed")
    wb = openpyxl.load_workbook(io.BytesIO(x.content))
    ws = wb.worksheets[0]
    assert ws.max_row == n + 1 and ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert isinstance(ws.cell(2, header.index("Diện tích (ha)") + 1).value, float)
    assert "status=programmed" in " ".join(str(c.value) for c in wb.worksheets[-1]["B"])
    g = planner.get("/parcels/download.geojson?status=programmed")
    assert g.status_code == 200 and len(g.json()["features"]) == n
    p = planner.get("/parcels/download.gpkg?status=programmed")
    gpkg = api_rw.app.state.settings.home / "t.gpkg"
    gpkg.write_bytes(p.content)
    assert len(pyogrio.read_dataframe(gpkg)) == n
    en = planner.get("/parcels/download.csv?status=programmed&lang=en")
    assert next(iter(csv.reader(io.StringIO(en.content.decode("utf-8-sig")))))[0] == "ID"


def test_public_downloads_leave_out_unpublished_parcels_and_internal_fields(api):
    db_published = api.get("/parcels").text
    n = int(re.search(r"(\d+) khu đất", db_published).group(1))
    r = api.get("/parcels/download.csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == n + 1 and not any("nội bộ" in h.lower() for h in rows[0])
    g = api.get("/parcels/download.geojson").json()
    assert len(g["features"]) == n and "internal_note" not in g["features"][0]["properties"]


# -- a parcel's page ------------------------------------------------------------------------------------------------


def test_parcel_page_shows_stage_since_history_and_interests(planner, api_rw):
    fid, code = parcel_in(api_rw.db, DBP, "call_published")
    html = planner.get(f"/parcels/{fid}").text
    assert (
        code in html
        and "Đã công bố mời gọi đầu tư" in html
        and re.search(r"Vào giai đoạn từ \d{2}/\d{2}/\d{4} \([\d.]+ ngày\)", html)
    )
    assert "Lịch sử thay đổi" in html and "Tạo mới" in html
    assert "Đăng ký quan tâm đầu tư" in html  # the planner's section
    assert island(html, "parcel-data")["parcel"]["id"] == fid
    assert "Chuyển sang: Đã lựa chọn chủ đầu tư" in html and "Chuyển sang: Đã rút khỏi quỹ đất" in html
    assert "Chuyển sang: Nghiệm thu, bàn giao" not in html  # only the transitions its stage allows


def test_parcel_page_for_the_public_hides_internal_fields_and_actions(api_rw):
    fid, _ = parcel_in(api_rw.db, DBP, published=True)
    with api_client(api_rw.db, api_rw.app.state.settings.home) as anonymous:
        html = anonymous.get(f"/parcels/{fid}").text
    assert "Ghi chú nội bộ" not in html and "Chỉnh sửa" not in html and "Chuyển sang" not in html
    assert 'id="interests"' not in html


# -- adjust and add -------------------------------------------------------------------------------------------------


def test_planner_edits_a_parcel_and_the_history_says_who_what_and_why(planner, api_rw):
    fid, _ = parcel_in(api_rw.db, DBP)
    data = form_of_parcel(planner, fid)
    data.update(name="Khu nhà ở xã hội Him Lam (điều chỉnh)", reason="Rà soát theo Kết luận 123-KL/TU")
    r = planner.post(f"/parcels/{fid}/edit", data=data, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/parcels/{fid}?done=saved"
    assert (
        q(api_rw.db, "SELECT name FROM parcels WHERE id = %s", [fid])[0][0] == "Khu nhà ở xã hội Him Lam (điều chỉnh)"
    )
    page = planner.get(f"/parcels/{fid}?done=saved").text
    assert "Đã lưu." in page and "Him Lam (điều chỉnh)" in page and "Rà soát theo Kết luận 123-KL/TU" in page
    assert planner.name in page


def test_a_save_over_someone_elses_change_says_what_changed_and_writes_nothing(planner, api_rw):
    fid, _ = parcel_in(api_rw.db, DBP)
    mine = form_of_parcel(planner, fid)
    other = form_of_parcel(planner, fid)
    other.update(responsible_agency="Sở Xây dựng (người khác sửa)")
    assert planner.post(f"/parcels/{fid}/edit", data=other, follow_redirects=False).status_code == 303
    mine.update(name="Tên của tôi")
    r = planner.post(f"/parcels/{fid}/edit", data=mine)
    assert r.status_code == 409 and "Người khác đã sửa" in r.text and "Sở Xây dựng (người khác sửa)" in r.text
    assert q(api_rw.db, "SELECT name FROM parcels WHERE id = %s", [fid])[0][0] != "Tên của tôi"
    again = {**mine, "etag": etag_of(r.text), "csrf": csrf_of(r.text)}  # saving again overwrites knowingly
    assert planner.post(f"/parcels/{fid}/edit", data=again, follow_redirects=False).status_code == 303


def test_a_bad_value_is_shown_next_to_its_field_and_nothing_is_written(planner, api_rw):
    fid, _ = parcel_in(api_rw.db, DBP)
    data = form_of_parcel(planner, fid)
    before = q(api_rw.db, "SELECT name, max_floors FROM parcels WHERE id = %s", [fid])[0]
    data.update(name="Tên mới", max_floors="nhiều")
    r = planner.post(f"/parcels/{fid}/edit", data=data)
    assert r.status_code == 400
    assert re.search(r'id="error-max_floors">[^<]*không phải là số', r.text)
    assert 'value="nhiều"' in r.text and "Tên mới" in r.text  # what was typed stays in the form
    assert q(api_rw.db, "SELECT name, max_floors FROM parcels WHERE id = %s", [fid])[0] == before


def test_an_overlap_is_shown_on_the_map_with_the_overlapped_parcel(planner, api_rw):
    (fid, _code), (other, other_code) = q(
        api_rw.db,
        "SELECT id, code FROM parcels WHERE admin_unit_code = %s AND status <> 'withdrawn' ORDER BY id LIMIT 2",
        [DBP],
    )
    data = form_of_parcel(planner, fid)
    shape = q(api_rw.db, "SELECT ST_AsGeoJSON(geom) FROM parcels WHERE id = %s", [other])[0][0]
    data.update(geometry=shape, geometry_changed="1")
    r = planner.post(f"/parcels/{fid}/edit", data=data)
    assert r.status_code == 400 and f"Chồng lấn khu đất {other_code}" in r.text
    overlaps = island(r.text, "editor-data")["overlaps"]
    assert [o["code"] for o in overlaps] == [other_code] and overlaps[0]["geometry"]["type"].endswith("Polygon")


def test_add_a_parcel_by_drawing_it_and_the_unit_comes_from_the_location(planner, api_rw):
    html = planner.get("/parcels/new").text
    assert island(html, "editor-data")["bounds"]  # the map opens on the planner's unit
    spot = _free_spot(api_rw.db, DBP)
    r = planner.post(
        "/parcels/new",
        data={
            "csrf": csrf_of(html),
            "code": "NOXH-MOI-001",
            "name": "Khu vẽ mới",
            "fund_source": "public_land",
            "responsible_level": "commune",
            "geometry": json.dumps(spot),
            "geometry_changed": "1",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:2000]
    row = q(api_rw.db, "SELECT admin_unit_code, status, published FROM parcels WHERE code = 'NOXH-MOI-001'")[0]
    assert row == (DBP, "proposed", False)


def test_add_a_parcel_from_a_surveyors_vn2000_csv(planner, api_rw):
    import numpy as np

    from gis_service import crs as crsmod

    lon, lat = _free_spot(api_rw.db, DBP)["coordinates"][0][0][0]
    t = crsmod.transformer(crsmod.WGS84, crsmod.parse_crs("EPSG:9205"))
    e, n = t.transform(np.array([lon + 0.0003]), np.array([lat + 0.0003]))
    text = "STT,X,Y\n" + "\n".join(
        f"{i},{n[0] + dn:.3f},{e[0] + de:.3f}" for i, (de, dn) in enumerate([(0, 0), (60, 0), (60, 50), (0, 50)], 1)
    )
    html = planner.get("/parcels/new").text
    r = planner.post(
        "/parcels/new",
        data={
            "csrf": csrf_of(html),
            "code": "NOXH-CSV-001",
            "name": "Từ file đo đạc",
            "fund_source": "public_land",
            "responsible_level": "commune",
        },
        files={"geometry_file": ("toa-do.csv", text.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:3000]
    _grid, geodesic = q(api_rw.db, "SELECT legal_area_m2, area_m2 FROM parcels WHERE code = 'NOXH-CSV-001'")[0]
    assert abs(geodesic - 3000) < 15  # 60 m × 50 m in the grid, to within the TM-3 scale at this spot


def test_an_unreadable_boundary_file_is_explained_next_to_the_file_field(planner, api_rw):
    html = planner.get("/parcels/new").text
    r = planner.post(
        "/parcels/new",
        data={"csrf": csrf_of(html), "code": "NOXH-BAD-001"},
        files={"geometry_file": ("ranh-gioi.kml", b"<kml>not really</kml>", "application/xml")},
    )
    assert r.status_code == 400 and 'id="error-geometry_file"' in r.text
    assert count(api_rw.db, "parcels", "code = 'NOXH-BAD-001'") == 0


def test_a_planner_cannot_edit_outside_their_unit_through_any_form(planner, api_rw):
    fid, _ = parcel_in(api_rw.db, MT)
    assert planner.get(f"/parcels/{fid}/edit", headers={"Accept": "text/html"}).status_code == 403
    html = planner.get(f"/parcels/{fid}").text
    assert "Chỉnh sửa" not in html and "Chuyển sang" not in html  # the page offers nothing
    mine, _ = parcel_in(api_rw.db, DBP)
    data = form_of_parcel(planner, mine)
    before = q(api_rw.db, "SELECT name, status FROM parcels WHERE id = %s", [fid])[0]
    etag = q(api_rw.db, "SELECT md5(p::text) FROM parcels p WHERE id = %s", [fid])[0][0]
    assert planner.post(f"/parcels/{fid}/edit", data={**data, "name": "x"}).status_code in (400, 403, 409)
    assert planner.post(
        f"/parcels/{fid}/transition", data={"csrf": data["csrf"], "etag": etag, "to": "withdrawn", "reason": "thử"}
    ).status_code in (400, 403)
    # moving one's own parcel into the other unit is refused too
    shape = q(api_rw.db, "SELECT ST_AsGeoJSON(ST_Translate(geom, 0, 0)) FROM parcels WHERE id = %s", [fid])[0][0]
    r = planner.post(f"/parcels/{mine}/edit", data={**data, "geometry": shape, "geometry_changed": "1"})
    assert r.status_code == 400
    html = planner.get("/parcels/new").text
    spot = _free_spot(api_rw.db, MT)
    r = planner.post(
        "/parcels/new",
        data={
            "csrf": csrf_of(html),
            "code": "NOXH-NGOAI-001",
            "name": "Ngoài địa bàn",
            "geometry": json.dumps(spot),
            "geometry_changed": "1",
        },
    )
    assert r.status_code == 400 and "Khu đất nằm ngoài đơn vị hành chính của bạn" in r.text
    assert q(api_rw.db, "SELECT name, status FROM parcels WHERE id = %s", [fid])[0] == before
    assert count(api_rw.db, "parcels", "code = 'NOXH-NGOAI-001'") == 0


def _free_spots(db: str, unit: str, n: int) -> list[dict]:
    """`n` squares of about 60 m inside `unit` that no parcel touches (GeoJSON Polygons)."""
    rows = q(
        db,
        """
        WITH u AS (SELECT geom FROM admin_units WHERE code = %s ORDER BY valid_from DESC LIMIT 1),
        g AS (SELECT (ST_SquareGrid(0.001, (SELECT geom FROM u))).geom AS cell)
        SELECT ST_AsGeoJSON(ST_Expand(ST_Centroid(cell), 0.0003), 7) FROM g, u
        WHERE ST_Within(ST_Expand(cell, 0.0005), u.geom)
          AND NOT EXISTS (SELECT 1 FROM parcels p WHERE ST_DWithin(p.geom, cell, 0.0005))
        LIMIT %s""",
        [unit, n],
    )
    assert len(rows) == n
    return [json.loads(r[0]) for r in rows]


def _free_spot(db: str, unit: str) -> dict:
    """One such square, as a MultiPolygon (what the editor sends)."""
    spot = _free_spots(db, unit, 1)[0]
    return {"type": "MultiPolygon", "coordinates": [spot["coordinates"]]}


# -- stages -----------------------------------------------------------------------------------------------------


def test_a_transition_asks_for_what_its_stage_requires_and_records_the_decision(planner, api_rw):
    fid, _ = parcel_in(api_rw.db, DBP, "proposed")
    html = planner.get(f"/parcels/{fid}").text
    base = {"csrf": csrf_of(html), "etag": etag_of(html), "to": "programmed", "reason": "Đủ điều kiện"}
    r = planner.post(f"/parcels/{fid}/transition", data=base)
    assert (
        r.status_code == 400 and "số và ngày quyết định" in r.text and '<details class="lf-transition" open>' in r.text
    )
    r = planner.post(
        f"/parcels/{fid}/transition",
        data={**base, "decision_no": "2107/QĐ-UBND"},
        files={"document": ("qd.exe", b"MZ\x90\x00", "application/pdf")},
    )
    assert r.status_code == 400 and "PDF, PNG hoặc JPEG" in r.text
    assert q(api_rw.db, "SELECT status FROM parcels WHERE id = %s", [fid])[0][0] == "proposed"
    r = planner.post(
        f"/parcels/{fid}/transition",
        data={
            **base,
            "decision_no": "2107/QĐ-UBND",
            "decision_date": "2026-11-20",
            "issuing_body": "UBND tỉnh Điện Biên",
        },
        files={"document": ("Quyết định 2107.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = planner.get(f"/parcels/{fid}").text
    assert (
        "Trong chương trình, kế hoạch" in page
        and "2107/QĐ-UBND" in page
        and "20/11/2026" in page
        and "UBND tỉnh Điện Biên" in page
    )
    doc = re.search(r'href="http://testserver/documents/(\d+)"', page).group(1)
    served = planner.get(f"/documents/{doc}")
    assert served.content == PDF and served.headers["content-type"] == "application/pdf"
    import base64
    import hashlib

    assert served.headers["repr-digest"] == f"sha-256=:{base64.b64encode(hashlib.sha256(PDF).digest()).decode()}:"
    with api_client(api_rw.db, api_rw.app.state.settings.home) as anonymous:
        assert anonymous.get(f"/documents/{doc}", headers={"Accept": "application/json"}).status_code == 401


def test_the_procedure_s_gates_on_the_parcel_page(planner, api_rw):
    """A planner walks a site through the plan's approval (its units and floor area asked for and recorded) and is
    stopped at land allocation until the site is cleared: the message is beside the form, nothing is written."""
    db = api_rw.db
    fid, _ = parcel_in(db, DBP, "proposed")
    decision = {"decision_no": "5/QĐ-UBND", "decision_date": "2026-02-03", "issuing_body": "UBND tỉnh Điện Biên"}

    def post(to: str, **more):
        html = planner.get(f"/parcels/{fid}").text
        data = {"csrf": csrf_of(html), "etag": etag_of(html), "to": to, "reason": "Theo kế hoạch", **decision, **more}
        return planner.post(f"/parcels/{fid}/transition", data=data, follow_redirects=False)

    assert post("programmed").status_code == 303
    html = planner.get(f"/parcels/{fid}").text
    form = html.split("Chuyển sang: Đã duyệt quy hoạch 1/500")[1].split("</form>")[0]
    assert 'name="approved_units"' in form and 'name="approved_floor_m2"' in form
    assert "Số căn hộ theo quy hoạch 1/500" in form  # labelled from the catalogue
    r = post("plan_approved", approved_units="240")
    assert r.status_code == 400 and "số căn hộ và diện tích sàn" in r.text
    r = post("plan_approved", approved_units="hai trăm", approved_floor_m2="12000")
    assert (
        r.status_code == 400
        and "không phải là số nguyên" in r.text.split('name="approved_units"')[1].split("</label>")[1]
    )
    assert q(db, "SELECT status, approved_units FROM parcels WHERE id = %s", [fid])[0] == ("programmed", None)
    assert post("plan_approved", approved_units="240", approved_floor_m2="12.000,5").status_code == 303
    assert q(db, "SELECT approved_units, approved_floor_m2 FROM parcels WHERE id = %s", [fid])[0] == (240, 12000.5)
    assert post("call_published").status_code == 303
    methods = planner.get(f"/parcels/{fid}").text.split('name="selection_method"')[1].split("</select>")[0]
    # bidding, assignment under Resolution 201, a project board; the commercial developer is only a reserve's
    assert "Nghị quyết 201/2025/QH15" in methods and "bidding" in methods and "commercial_developer" not in methods
    assert (
        post("investor_selected", investor_name="Công ty CP Nhà Tây Bắc", selection_method="bidding").status_code == 303
    )
    assert post("clearance").status_code == 303
    # not before the site is cleared
    html = planner.get(f"/parcels/{fid}").text
    assert "Chỉ giao đất, cho thuê đất khi đã hoàn thành giải phóng mặt bằng" in html
    r = post("land_allocated")
    assert r.status_code == 400 and "giải phóng mặt bằng hoàn thành, số hộ bị thu hồi đất" in r.text
    assert q(db, "SELECT status FROM parcels WHERE id = %s", [fid])[0][0] == "clearance"
    q(
        db,
        "UPDATE parcels SET clearance_status = 'cleared', clearance_households = 4, clearance_cost_vnd = 3100000000 "
        "WHERE id = %s RETURNING id",
        [fid],
    )
    assert post("land_allocated").status_code == 303
    assert q(db, "SELECT status FROM parcels WHERE id = %s", [fid])[0][0] == "land_allocated"
    stages = [r[0] for r in q(db, "SELECT stage FROM decisions WHERE parcel_id = %s ORDER BY id", [fid])]
    assert stages == api_rw.app.state.catalogue.workflow.main_line()[1:7]  # each stage kept its own decision


def test_a_stale_transition_says_someone_changed_the_parcel(planner, api_rw):
    fid, _ = parcel_in(api_rw.db, DBP, "proposed")
    html = planner.get(f"/parcels/{fid}").text
    data = form_of_parcel(planner, fid)
    assert (
        planner.post(f"/parcels/{fid}/edit", data={**data, "name": "đổi trước"}, follow_redirects=False).status_code
        == 303
    )
    r = planner.post(
        f"/parcels/{fid}/transition",
        data={"csrf": csrf_of(html), "etag": etag_of(html), "to": "withdrawn", "reason": "Không phù hợp"},
    )
    assert r.status_code == 400 and "Người khác đã thay đổi" in r.text
    assert q(api_rw.db, "SELECT status FROM parcels WHERE id = %s", [fid])[0][0] == "proposed"


# -- bulk import --------------------------------------------------------------------------------------------------


def _import_file(db: str, good: int, bad: bool) -> bytes:
    spots = [
        {
            "type": "Feature",
            "geometry": shape,
            "properties": {"code": f"NOXH-NHAP-{i:03d}", "name": f"Nhập từ tệp {i}", "fund_source": "public_land"},
        }
        for i, shape in enumerate(_free_spots(db, DBP, good), 1)
    ]
    if bad:
        spots[1]["properties"]["max_floors"] = "ba tầng"
        spots[2]["properties"]["code"] = spots[0]["properties"]["code"]
    return json.dumps({"type": "FeatureCollection", "features": spots}).encode()


def _check_import(planner, db: str, good: int, bad: bool):
    """Upload a file of `good` parcels (two of them bad when `bad`) to the import form; the dry run's page."""
    html = planner.get("/parcels/import").text
    return planner.post(
        "/parcels/import",
        data={"csrf": csrf_of(html)},
        files={"file": ("quy-dat.geojson", _import_file(db, good, bad), "application/geo+json")},
    )


def test_bulk_import_checks_first_names_every_bad_row_and_writes_nothing(planner, api_rw):
    r = _check_import(planner, api_rw.db, 4, bad=True)
    assert r.status_code == 400 and "không dòng nào được nhập" in r.text
    problems = re.findall(r"<tr><td class=\"lf-num\">(\d+)</td>", r.text)
    assert sorted(set(problems)) == ["2", "3"]
    assert "ba tầng" in r.text and "Xác nhận nhập" not in r.text
    assert count(api_rw.db, "parcels", "code LIKE 'NOXH-NHAP-%%'") == 0


def test_bulk_import_of_very_many_bad_rows_lists_the_first_and_counts_the_rest(planner, api_rw):
    """1,500 rows without a geometry and with hostile text for a number: 3,000 problems, of which the page lists
    the first 1,000 and counts the others by field, with an example of each; nothing written."""
    hostile = "{{ 7*7 }} {# x #} <script>alert('nhập')</script>"
    rows = [
        {"type": "Feature", "geometry": None, "properties": {"code": f"NOXH-NHIEU-{i:04d}", "max_floors": hostile}}
        for i in range(1, 1501)
    ]
    html = planner.get("/parcels/import").text
    r = planner.post(
        "/parcels/import",
        data={"csrf": csrf_of(html)},
        files={"file": ("nhieu-loi.geojson", json.dumps({"type": "FeatureCollection", "features": rows}), "x")},
    )
    assert r.status_code == 400 and "không dòng nào được nhập" in r.text
    table = r.text.split('id="problems"')[1].split("</table>")[0]
    assert table.count("<tr><td") == 1000
    assert "3.000 lỗi" in r.text and "Chỉ liệt kê 1.000 lỗi đầu tiên; còn 2.000 lỗi khác, theo trường:" in r.text
    more = r.text.split('id="problems-omitted"')[1].split("</ul>")[0]
    assert more.count("<li>") == 2  # each field by the name the planner knows, and the file's column
    assert '<b>Ranh giới khu đất</b> <code class="lf-code">geometry</code>' in more
    assert '<b>Số tầng tối đa</b> <code class="lf-code">max_floors</code>' in more
    assert '<td>Số tầng tối đa <code class="lf-code">max_floors</code></td>' in table
    assert "ví dụ dòng 501" in more  # the first row not listed (500 rows of two problems are)
    assert "<script>alert" not in r.text and "&lt;script&gt;alert" in r.text and "{{ 7*7 }}" in r.text
    assert count(api_rw.db, "parcels", "code LIKE 'NOXH-NHIEU-%%'") == 0


def test_bulk_import_confirmed_writes_all_rows_in_the_planners_name(planner, api_rw):
    r = _check_import(planner, api_rw.db, 3, bad=False)
    assert r.status_code == 200 and "Tất cả 3 dòng hợp lệ" in r.text
    assert count(api_rw.db, "parcels", "code LIKE 'NOXH-NHAP-%%'") == 0  # the check wrote nothing
    token = re.search(r'action="http://testserver/parcels/import/([\w-]+)"', r.text).group(1)
    other = user_for(api_rw.db, "planner", DBP)
    with api_client(api_rw.db, api_rw.app.state.settings.home) as stranger:  # someone else's upload
        sign_in(stranger, other)
        page = stranger.get("/parcels").text
        assert (
            stranger.post(
                f"/parcels/import/{token}", data={"csrf": csrf_of(page)}, headers={"Accept": "application/json"}
            ).status_code
            == 404
        )
    done = planner.post(f"/parcels/import/{token}", data={"csrf": csrf_of(r.text)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/parcels?done=imported:3"
    assert count(api_rw.db, "parcels", "code LIKE 'NOXH-NHAP-%%'") == 3
    actors = q(
        api_rw.db,
        "SELECT DISTINCT h.actor FROM parcel_history h JOIN parcels p ON p.id = h.parcel_id "
        "WHERE p.code LIKE 'NOXH-NHAP-%%'",
    )
    assert actors == [(planner.name,)]
    assert (
        planner.post(
            f"/parcels/import/{token}", data={"csrf": csrf_of(r.text)}, headers={"Accept": "application/json"}
        ).status_code
        == 404
    )  # once only


# -- interests --------------------------------------------------------------------------------------------------


def test_interest_inbox_for_investors_and_planners(api_rw):
    db = api_rw.db
    fid, code = parcel_in(db, DBP, "call_published", published=True)
    far, _far_code = parcel_in(db, MT, "call_published", published=True)
    investor = user_for(db, "investor")
    other = user_for(db, "investor")
    with api_client(db, api_rw.app.state.settings.home) as inv, api_client(db, api_rw.app.state.settings.home) as inv2:
        sign_in(inv, investor)
        sign_in(inv2, other)
        for client, parcel, company in ((inv, fid, "Công ty A"), (inv2, far, "Công ty B")):
            form = client.get(f"/interests/new?parcel={parcel}").text
            assert 'name="tax_code"' in form and "Mã truy cập" not in form  # no token to paste: the session
            r = client.post(
                f"/interests/new?parcel={parcel}",
                data={
                    "csrf": csrf_of(form),
                    "company": company,
                    "tax_code": "0101234567",
                    "contact_name": "Nguyễn Văn A",
                    "proposed_units": "120",
                },
                follow_redirects=False,
            )
            assert r.status_code == 303 and r.headers["location"] == "/inbox?done=sent"
        bad = inv.post(
            f"/interests/new?parcel={fid}",
            data={
                "csrf": csrf_of(inv.get("/inbox").text),
                "company": "C",
                "tax_code": "12",
                "contact_name": "N",
                "proposed_units": "0",
            },
        )
        assert bad.status_code == 400 and "10 chữ số" in bad.text
        mine = inv.get("/inbox").text
        assert "Công ty A" in mine and "Công ty B" not in mine and "Đang xem xét" in mine and code in mine
        assert "Chấp thuận" not in mine  # investors do not decide
    name = user_for(db, "planner", DBP)
    with api_client(db, api_rw.app.state.settings.home) as planner:
        sign_in(planner, name)
        inbox = planner.get("/inbox").text
        assert "Công ty A" in inbox and "Công ty B" not in inbox  # only the parcels of the planner's unit
        iid = int(re.search(r'id="interest-(\d+)"', inbox).group(1))
        r = planner.post(f"/inbox/{iid}", data={"csrf": csrf_of(inbox), "action": "accept", "reason": ""})
        assert r.status_code == 400 and "Cần ghi lý do" in r.text
        accept = {"csrf": csrf_of(inbox), "action": "accept", "assign": "on", "reason": "Năng lực phù hợp"}
        r = planner.post(f"/inbox/{iid}", data=accept, follow_redirects=False)
        # selecting the investor is a decision: without its number and date, nothing is written
        assert r.status_code == 400
        assert "quyết định" in r.text.split('class="lf-error" role="alert">')[1].split("</p>")[0]
        assert q(db, "SELECT status FROM parcels WHERE id = %s", [fid])[0][0] == "call_published"
        accept.update(decision_no="45/QĐ-UBND", decision_date="2026-11-02", selection_method="assignment")
        r = planner.post(f"/inbox/{iid}", data=accept, follow_redirects=False)
        assert r.status_code == 303, r.text
        assert q(db, "SELECT status, investor_name, selection_method FROM parcels WHERE id = %s", [fid])[0] == (
            "investor_selected",
            "Công ty A",
            "assignment",
        )
    with api_client(db, api_rw.app.state.settings.home) as inv:
        sign_in(inv, investor)
        assert "Được chấp thuận" in inv.get("/inbox").text and "Năng lực phù hợp" in inv.get("/inbox").text


def test_the_interest_form_asks_the_public_to_sign_in(api):
    fid = int(
        re.search(r'href="http://testserver/parcels/(\d+)"', api.get("/parcels?status=call_published").text).group(1)
    )
    html = api.get(f"/interests/new?parcel={fid}").text
    assert "Đăng nhập bằng tài khoản nhà đầu tư" in html and 'name="company"' not in html


def test_parcel_page_shows_the_vn2000_grid_area_beside_the_ellipsoidal_one(demo_ro, tmp_path):
    """The certificate's figure: the area on the province's VN-2000 grid (EPSG:9205), computed here with pyproj
    and shapely from the stored boundary, independently of PostGIS."""
    import shapely
    from pyproj import Transformer

    fid, _ = parcel_in(demo_ro, "03127", published=True)
    wkt, ellipsoidal = q(demo_ro, "SELECT ST_AsText(geom), area_m2 FROM parcels WHERE id = %s", [fid])[0]
    to_grid = Transformer.from_crs(4326, 9205, always_xy=True)
    grid = shapely.transform(shapely.from_wkt(wkt), lambda xy: np.column_stack(to_grid.transform(xy[:, 0], xy[:, 1])))
    assert grid.area != pytest.approx(ellipsoidal, abs=0.05)  # two different figures (scale 0.9999 and more)
    with api_client(demo_ro, tmp_path) as c:
        html = c.get(f"/parcels/{fid}?lang=en").text
    shown = re.search(r"Area on the VN-2000 grid \(EPSG:9205, as certificates state\)</dt><dd>([0-9,.]+)</dd>", html)
    computed = re.search(r"Computed area \(m²\)</dt><dd>([0-9,.]+)</dd>", html)
    assert shown and computed, html
    assert float(shown[1].replace(",", "")) == pytest.approx(grid.area, abs=0.06)
    assert float(computed[1].replace(",", "")) == pytest.approx(ellipsoidal, abs=0.06)
