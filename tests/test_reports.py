"""The steering committee's dashboard and reports, checked against figures computed independently here (SQL on the
demo database and the demo's own CSV files): the page, the workbook (typed cells read back with openpyxl), the PDF
(pages and text read back with pypdf) and the CSV, in Vietnamese and English, for the public and for planners."""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
import pandas as pd
import psycopg
import pypdf
import pytest
from conftest import REPO, api_client, sign_in, user_for

from gis_service.core.db import libpq_dsn
from gis_service.pages.render import LANG_COOKIE

DEMO = REPO / "layers" / "demo"
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="module")
def planner(demo_ro, tmp_path_factory):
    """A provincial planner, signed in through the form (the session a browser has)."""
    name = user_for(demo_ro, "planner", "11")
    with api_client(demo_ro, tmp_path_factory.mktemp("rep")) as client:
        assert sign_in(client, name).status_code == 303
        yield client


@pytest.fixture(autouse=True)
def vietnamese(api, planner):
    """Each test starts in Vietnamese: a `lang=en` page remembers the choice in a cookie, as it should."""
    for client in (api, planner):
        client.cookies.delete(LANG_COOKIE)


def by_stage(url: str, as_of: date, published_only: bool) -> dict[str, int]:
    """Parcels by stage in the land fund on `as_of`: decided or recorded by then, inside the province."""
    with psycopg.connect(libpq_dsn(url)) as c:
        rows = c.execute(
            "SELECT status, count(*) FROM parcels p WHERE LEAST(decision_date, created_at::date) <= %s "
            "AND (published OR NOT %s) AND EXISTS (SELECT 1 FROM admin_units a WHERE a.level = 'province' "
            "AND ST_Intersects(a.geom, ST_PointOnSurface(p.geom))) GROUP BY status",
            [as_of, published_only],
        ).fetchall()
    return dict(rows)


def workbook(content: bytes) -> openpyxl.Workbook:
    assert content[:2] == b"PK"  # a zip: a real workbook
    return openpyxl.load_workbook(io.BytesIO(content))


def rows_of(ws) -> list[dict]:
    head = [c.value for c in ws[1]]
    return [dict(zip(head, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)]


def pdf_text(content: bytes) -> tuple[int, str]:
    assert content.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(content))
    box = reader.pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (210, 297)  # A4
    return len(reader.pages), "\n".join(p.extract_text() for p in reader.pages)


def keep(name: str, content: bytes) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / name).write_bytes(content)


STAGES_VI = {"proposed": "Đề xuất", "completed": "Đã hoàn thành"}


@pytest.mark.parametrize("as_of", [date(2025, 1, 1), date(2026, 11, 1)])
def test_dashboard_figures_match_an_independent_count(api, planner, demo_ro, as_of):
    stage_names = {k: v.label("vi") for k, v in api.app.state.catalogue.workflow.stages.items()}
    for client, public in ((api, True), (planner, False)):
        page = client.get(f"/dashboard?as_of={as_of}")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        expected = by_stage(demo_ro, as_of, public)
        wb = workbook(client.get(f"/dashboard?as_of={as_of}&f=xlsx").content)
        stages = {r["Giai đoạn"]: r for r in rows_of(wb.worksheets[0])}
        for status, label in stage_names.items():
            assert stages[label]["Số khu đất"] == expected.get(status, 0), (status, public)
        in_fund = sum(n for s, n in expected.items() if s not in ("withdrawn", "reserve_paid", "reserve_elsewhere"))
        # the headline's parcels: the land fund without the parcels that left it (withdrawn, a 20 % reserve paid
        # for or provided elsewhere), as the page prints it
        assert f'data-figure="parcels"><b>{in_fund:,}'.replace(",", ".") in page.text
        assert ("Chế độ công khai" in page.text) is public
        assert ('id="chart-overdue"' in page.text) is (not public)  # who holds what: planners only
    # as of 2025 the units are the former districts, after 1 July 2025 the communes
    assert len(rows_of(wb.worksheets[1])) == (10 if as_of < date(2025, 7, 1) else 45)


def test_dashboard_target_programmes_and_charts(api, planner):
    page = api.get("/dashboard?as_of=2024-12-31").text
    # the period's target comes from layers/targets.yaml: 400 dwellings in 2021–2025, 1,100 in 2026–2030
    assert "2021–2025" in page and "400" in page
    later = api.get("/dashboard?as_of=2026-11-01").text
    assert "2026–2030" in later and "1.100" in later
    # the programme figures of the demo's source report for 2024: 1,647 households and 82.735 billion VND from the
    # poverty-reduction programme, 572 houses for people of revolutionary merit (about 21 billion), 311 + 4 households
    # from the Fatherland Front's fund (15.75 billion)
    prog = pd.read_csv(DEMO / "programmes.csv", dtype={"admin_unit_code": str})
    yearly = prog[prog.period_start.isna() | (prog.period_start == prog.year)]
    y2024 = yearly[yearly.year == 2024]
    assert (int(y2024.households.sum()), int(y2024.funding_vnd.sum())) == (
        1647 + 572 + 315,
        82_735_000_000 + 21_000_000_000 + 15_750_000_000,
    )
    wb = workbook(api.get("/dashboard?as_of=2024-12-31&f=xlsx").content)
    programmes = {
        r["Năm"]: r
        for r in rows_of(
            wb["Hộ được hỗ trợ theo năm"] if "Hộ được hỗ trợ theo năm" in wb.sheetnames else wb.worksheets[3]
        )
    }
    assert programmes[2024]["Số hộ có nhu cầu"] == 2534 and programmes[2024]["Kinh phí (đồng)"] == 119_485_000_000
    assert "hơn 12.000 hộ được xây mới hoặc sửa chữa nhà" in page  # the cumulative figure since 2018
    # every chart is drawn on the server (SVG, no script) and is also a table
    for chart in ("pipeline", "coverage", "trend", "programmes"):
        assert f'id="chart-{chart}"' in page
    assert page.count("<svg") >= 4 and page.count('class="lf-grid"') >= 4
    assert "<script" not in page.split("<main", 1)[1].split("</main>", 1)[0]


def test_dashboard_filters(api, planner):
    whole = rows_of(workbook(api.get("/dashboard?as_of=2026-11-01&f=xlsx").content).worksheets[0])
    one = rows_of(workbook(api.get("/dashboard?as_of=2026-11-01&unit=03163&f=xlsx").content).worksheets[0])
    assert sum(r["Số khu đất"] for r in one) < sum(r["Số khu đất"] for r in whole)
    src = rows_of(
        workbook(api.get("/dashboard?as_of=2026-11-01&fund_source=commercial_reserve&f=xlsx").content).worksheets[0]
    )
    assert sum(r["Số khu đất"] for r in src) < sum(r["Số khu đất"] for r in whole)
    for bad in ("as_of=2026-13-01", "unit=99999", "fund_source=nope", "f=docx"):
        r = api.get(f"/dashboard?{bad}")  # a person: a page that says what is wrong
        name = bad.split("=")[0]
        assert r.status_code == 400 and r.headers["content-type"].startswith("text/html"), bad
        assert name in r.text and "Traceback" not in r.text
        r = api.get(f"/dashboard?{bad}", headers={"Accept": "application/json"})  # a script: a problem document
        assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json"), bad
        assert r.json()["detail"].startswith(name)


def test_report_pages_in_both_languages_and_who_sees_them(api, planner):
    for path, vi, en in (
        ("/reports/coverage", "Quỹ đất so với nhu cầu", "Coverage"),
        ("/reports/suitability", "Xếp hạng địa điểm", "Sites ranked"),
        ("/reports", "Báo cáo", "Reports"),
    ):
        api.cookies.delete(LANG_COOKIE)
        r = api.get(path)
        assert r.status_code == 200 and vi in r.text and '<html lang="vi"' in r.text, path
        r = api.get(path + "?lang=en")
        assert r.status_code == 200 and en in r.text and '<html lang="en"' in r.text, path
    # the bottlenecks name who holds each stuck parcel: planners only; the public is asked to sign in
    assert api.get("/reports/bottlenecks", follow_redirects=False).status_code in (303, 401)
    r = planner.get("/reports/bottlenecks")
    assert r.status_code == 200 and "UBND" in r.text
    assert "/reports/bottlenecks" in planner.get("/dashboard").text
    assert "/reports/bottlenecks" not in api.get("/dashboard").text


def test_the_api_sends_browsers_to_the_report_pages(api):
    for name in ("coverage", "suitability"):
        r = api.get(f"/analytics/{name}?f=html&as_of=2026-01-01", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith(f"/reports/{name}?")
        r = api.get(f"/analytics/{name}", headers={"Accept": "text/html"}, follow_redirects=False)
        assert r.status_code == 303
        assert api.get(f"/analytics/{name}").headers["content-type"].startswith("application/json")


def test_coverage_workbook_is_typed_and_names_its_source(api, demo_ro):
    r = api.get("/reports/coverage?as_of=2026-11-01&f=xlsx")
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="dap-ung-2026-11-01.xlsx"' in r.headers["content-disposition"]
    keep("report-coverage.xlsx", r.content)
    wb = workbook(r.content)
    ws = wb.worksheets[0]
    assert ws.freeze_panes == "A2" and ws["A1"].font.bold
    head = [c.value for c in ws[1]]
    assert head[:4] == ["Mã", "Tên", "Số khu đất", "Diện tích (ha)"]
    rows = rows_of(ws)
    assert len(rows) == 45
    for row in rows:
        assert isinstance(row["Mã"], str) and isinstance(row["Số khu đất"], int)
        assert isinstance(row["Diện tích (ha)"], float | int) and isinstance(row["Thiếu quỹ đất"], bool)
    col = head.index("Diện tích (ha)") + 1
    assert ws.cell(2, col).number_format == "#,##0.00"
    about = dict(wb.worksheets[-1].iter_rows(values_only=True))
    assert about["Báo cáo"] == "Quỹ đất so với nhu cầu" and "01/11/2026" in about["Bộ lọc"]
    # the figures are the API's
    api_units = {u["code"]: u for u in api.get("/analytics/coverage?as_of=2026-11-01").json()["units"]}
    for row in rows:
        assert row["Số căn hộ ước tính"] == api_units[row["Mã"]]["est_units"]
    en = workbook(api.get("/reports/coverage?as_of=2026-11-01&f=xlsx&lang=en").content)
    assert [c.value for c in en.worksheets[0][1]][:2] == ["Code", "Name"]


def test_report_pdfs_are_a4_with_page_numbers_dates_filters_and_charts(api, planner):
    for client, path, must in (
        (api, "/reports/coverage?as_of=2026-11-01&f=pdf", ["Quỹ đất so với nhu cầu", "01/11/2026", "Trang 1 /"]),
        (planner, "/reports/bottlenecks?as_of=2026-11-01&f=pdf", ["Khu đất chậm tiến độ", "Trang 1 /", "UBND"]),
        (api, "/reports/suitability?f=pdf&lang=en", ["Sites ranked", "Page 1 /"]),
        (planner, "/dashboard?as_of=2026-11-01&unit=03163&f=pdf", ["Mường Toong", "Trang 1 /", "01/11/2026"]),
    ):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf", path
        keep("report-" + path.split("?")[0].strip("/").replace("/", "-") + ".pdf", r.content)
        pages, text = pdf_text(r.content)
        assert pages >= 1, path
        for word in must:
            assert word in text, (path, word)
        assert f"/ {pages}" in text  # "page n / total" on every page
    # the charts are vectors in the PDF, not missing images
    pages, text = pdf_text(planner.get("/dashboard?as_of=2026-11-01&f=pdf").content)
    assert pages >= 2 and "Đề xuất" in text


def test_csv_layout_for_excel_in_both_languages(api):
    vi = api.get("/reports/coverage?as_of=2026-11-01&f=csv")
    assert vi.content.startswith(b"\xef\xbb\xbf") and vi.headers["content-type"].startswith("text/csv")
    text = vi.content.decode("utf-8-sig")
    assert not text.startswith("sep=") and text.split("\r\n")[0].startswith("Mã;Tên;")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert len(rows) == 45
    en = api.get("/reports/coverage?as_of=2026-11-01&f=csv&lang=en").content.decode("utf-8-sig")
    assert en.split("\r\n")[0].startswith("Code,Name,")


def test_empty_results_say_so_in_every_format(api, planner):
    """A filter that matches nothing: the page says so in words, the workbook and the CSV keep their headers,
    the PDF still prints, the portal says no site matches."""
    empty = "as_of=2000-01-01"  # before any parcel was decided or recorded
    page = api.get(f"/reports/coverage?{empty}")
    assert page.status_code == 200 and ">0<" in page.text.replace(" ", "")
    wb = workbook(api.get(f"/dashboard?{empty}&f=xlsx").content)
    stages = rows_of(wb.worksheets[0])
    assert stages and all(r["Số khu đất"] == 0 for r in stages)
    assert rows_of(wb.worksheets[2]) == []  # no land added per quarter
    assert "Chưa có" in api.get(f"/dashboard?{empty}").text  # the empty trend table says so
    pages, text = pdf_text(planner.get(f"/reports/bottlenecks?{empty}&f=pdf").content)
    assert pages >= 1 and "Khu đất chậm tiến độ" in text
    csv_text = planner.get(f"/reports/bottlenecks?{empty}&f=csv").content.decode("utf-8-sig")
    assert csv_text.startswith("Cấp chịu trách nhiệm;") and len(csv_text.strip().splitlines()) == 1  # the header only
    portal = api.get("/investors?min_area_ha=9999").text
    assert 'class="lf-empty"' in portal and 'class="lf-card lf-site"' not in portal
