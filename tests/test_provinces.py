"""Two provinces in one database: a second province's units, parcels, demand and programmes are added beside
Điện Biên's, and nothing of them appears in Điện Biên's views (coverage, bottlenecks, suitability, the dashboard,
the maps); the feature collection stays national."""

from __future__ import annotations

import io
import re

import openpyxl
import psycopg
from conftest import api_client, token_for

from gis_service.core.db import libpq_dsn

# a second province, far enough north not to touch Điện Biên's outline (a test's province, not Lai Châu's shape)
OTHER = "12"
AREA = "ST_Multi(ST_MakeEnvelope(102.0, 22.65, 104.5, 24.0, 4326))"


def sql(url, q, params=None):
    with psycopg.connect(libpq_dsn(url), autocommit=True) as c:
        cur = c.execute(q, params)
        return cur.fetchall() if cur.description else None


def add_second_province(url: str) -> int:
    sql(
        url,
        f"""INSERT INTO admin_units (code, name, level, unit_type, parent_code, valid_from, boundary_note, geom) VALUES
            ('{OTHER}', 'Tỉnh thử nghiệm', 'province', 'tỉnh', NULL, '2004-01-01', 'test', {AREA}),
            ('03999', 'Xã thử nghiệm', 'commune', 'xã', '{OTHER}', '2025-07-01', 'test', {AREA})""",
    )
    sql(
        url,
        "INSERT INTO demand (admin_unit_code, year, eligible_group, households) VALUES ('03999', 2026, 'all', 9000)",
    )
    sql(
        url,
        "INSERT INTO programmes (admin_unit_code, year, programme, households, funding_vnd) "
        f"VALUES ('{OTHER}', 2024, 'Chương trình của tỉnh khác', 777, 7770000000)",
    )
    # every Điện Biên parcel again, moved into the other province, in the same stages
    return sql(
        url,
        "INSERT INTO parcels (code, name, province_code, admin_unit_code, status, fund_source, published, max_far, "
        "max_density, max_floors, decision_no, decision_date, clearance_status, approved_units, geom) "
        f"SELECT code || '-X', name, '{OTHER}', '03999', status, fund_source, published, max_far, max_density, "
        "max_floors, decision_no, decision_date, clearance_status, approved_units, ST_Translate(geom, 0, 1.5) "
        "FROM parcels WHERE province_code = '11' RETURNING id",
    ).__len__()


def views(url: str, home) -> dict:
    """What Điện Biên's views say, for the public and for a provincial planner."""
    planner = {"Authorization": f"Bearer {token_for(url, 'planner', '11')}"}
    out: dict = {}
    with api_client(url, home) as c:
        out["coverage"] = c.get("/analytics/coverage?as_of=2026-11-01").json()
        out["coverage_planner"] = c.get("/analytics/coverage?as_of=2026-11-01", headers=planner).json()
        out["suitability"] = [s["code"] for s in c.get("/analytics/suitability?limit=500").json()["sites"]]
        b = c.get("/analytics/bottlenecks?as_of=2026-11-01", headers=planner).json()
        out["bottlenecks"] = sorted((f["code"], f["kind"]) for f in b["findings"])
        wb = openpyxl.load_workbook(io.BytesIO(c.get("/dashboard?as_of=2026-11-01&f=xlsx", headers=planner).content))
        # every sheet but the last (who viewed it, and when)
        out["dashboard"] = [[[cell.value for cell in row] for row in ws.iter_rows()] for ws in wb.worksheets[:-1]]
        investor_map = c.get("/maps/investor").text
        out["investor_map"] = sorted(set(re.findall(r"NOXH-[\w-]+", investor_map)))
        planner_map = c.get("/maps/planner", headers=planner).text
        out["planner_map"] = sorted(set(re.findall(r"NOXH-[\w-]+", planner_map)))
    for key in ("coverage", "coverage_planner"):
        out[key].pop("generated_at", None)
    return out


def test_a_second_province_never_appears_in_dien_bien_s_views(demo_db, tmp_path):
    national = sql(demo_db, "SELECT count(*) FROM parcels WHERE published")[0][0]
    before = views(demo_db, tmp_path / "a")
    assert before["suitability"] and before["bottlenecks"] and before["investor_map"]
    added = add_second_province(demo_db)
    assert added >= 20
    after = views(demo_db, tmp_path / "b")
    for key in before:
        assert after[key] == before[key], key
    assert not any(code.endswith("-X") for code in after["investor_map"] + after["planner_map"] + after["suitability"])
    # the feature collection stays national: the other province's published parcels are in it
    with api_client(demo_db, tmp_path / "c") as c:
        items = c.get("/collections/parcels/items?limit=1").json()
    assert (
        items["numberMatched"]
        == national + sql(demo_db, f"SELECT count(*) FROM parcels WHERE published AND province_code = '{OTHER}'")[0][0]
    )


def test_a_view_of_the_other_province_is_asked_for_by_its_code(demo_db, tmp_path):
    add_second_province(demo_db)
    planner = {"Authorization": f"Bearer {token_for(demo_db, 'planner', '11')}"}
    admin = {"Authorization": f"Bearer {token_for(demo_db, 'admin')}"}
    other_sites = sql(
        demo_db,
        f"SELECT count(*) FROM parcels WHERE province_code = '{OTHER}' AND published AND status = 'call_published'",
    )[0][0]
    assert other_sites > 0
    with api_client(demo_db, tmp_path) as c:
        cov = c.get(f"/analytics/coverage?as_of=2026-11-01&province={OTHER}").json()
        assert [u["code"] for u in cov["units"]] == ["03999"]
        assert cov["units"][0]["households"] == 9000 and cov["units"][0]["parcels"] > 0
        sites = [s["code"] for s in c.get(f"/analytics/suitability?limit=500&province={OTHER}").json()["sites"]]
        assert len(sites) == other_sites and all(code.endswith("-X") for code in sites)
        own = [s["code"] for s in c.get("/analytics/suitability?limit=500&province=11").json()["sites"]]
        assert own and not any(code.endswith("-X") for code in own)
        b = c.get(f"/analytics/bottlenecks?as_of=2026-11-01&province={OTHER}", headers=admin).json()
        assert b["findings"] and all(f["code"].endswith("-X") for f in b["findings"])
        # a province this database does not hold, a malformed code, a planner of another province
        r = c.get("/analytics/coverage?province=99")
        assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
        assert "99" in r.json()["detail"] and "11" in r.json()["detail"]
        assert c.get("/analytics/coverage?province=%7B%7B1%7D%7D%3Cscript%3E").status_code == 400
        r = c.get(f"/analytics/bottlenecks?as_of=2026-11-01&province={OTHER}", headers=planner)
        assert r.status_code == 403 and "11" in r.json()["detail"]


def test_the_dashboard_reports_and_maps_of_the_other_province(demo_db, tmp_path):
    add_second_province(demo_db)
    admin = {"Authorization": f"Bearer {token_for(demo_db, 'admin')}"}
    planner = {"Authorization": f"Bearer {token_for(demo_db, 'planner', '11')}"}
    theirs = {r[0] for r in sql(demo_db, f"SELECT code FROM parcels WHERE province_code = '{OTHER}' AND published")}
    with api_client(demo_db, tmp_path) as c:
        # the dashboard: its coverage table holds the other province's commune only; no target of Điện Biên's
        wb = openpyxl.load_workbook(
            io.BytesIO(c.get(f"/dashboard?as_of=2026-11-01&f=xlsx&province={OTHER}", headers=admin).content)
        )
        cells = {str(cell.value) for ws in wb.worksheets for row in ws.iter_rows() for cell in row}
        assert "Xã thử nghiệm" in cells and "Phường Mường Thanh" not in cells
        page = c.get(f"/dashboard?as_of=2026-11-01&province={OTHER}", headers={**admin, "Accept": "text/html"}).text
        assert f'name="province" value="{OTHER}"' in page  # filtering again stays on that province
        assert "Tỉnh thử nghiệm" in page and "Phường Mường Thanh" not in page
        cov = c.get(f"/reports/coverage?as_of=2026-11-01&province={OTHER}&f=csv").text
        assert "Xã thử nghiệm" in cov and "Mường Thanh" not in cov
        assert c.get(f"/reports/bottlenecks?province={OTHER}", headers=planner).status_code == 403
        # the other province's planner, asking for no province, sees their own (never a 403 for the deployment's)
        theirs_planner = {"Authorization": f"Bearer {token_for(demo_db, 'planner', '03999')}", "Accept": "text/html"}
        page = c.get("/dashboard?as_of=2026-11-01", headers=theirs_planner)
        assert page.status_code == 200 and "Tỉnh thử nghiệm" in page.text and "Phường Mường Thanh" not in page.text
        r = c.get("/reports/bottlenecks?as_of=2026-11-01", headers=theirs_planner)
        codes = set(re.findall(r"NOXH-[\w-]+", r.text))
        assert r.status_code == 200 and codes and all(code.endswith("-X") for code in codes), codes
        assert c.get("/dashboard?province=11", headers=theirs_planner).status_code == 403
        # the investor map of the other province: its sites only, its tiles asked for by province
        page = c.get(f"/maps/investor?province={OTHER}").text
        shown = set(re.findall(r"NOXH-[\w-]+", page))
        assert shown and shown <= theirs
        own = c.get("/maps/investor").text
        assert not any(code.endswith("-X") for code in re.findall(r"NOXH-[\w-]+", own))
        assert c.get(f"/maps/planner?province={OTHER}", headers=planner).status_code == 403
        # the national collection and its tiles pick a province by its code
        items = c.get(f"/collections/parcels/items?province_code={OTHER}&limit=1000").json()
        assert {f["properties"]["code"] for f in items["features"]} == theirs
        assert {f["properties"]["province_code"] for f in items["features"]} == {OTHER}


def test_the_export_of_one_province(env, tmp_path):
    import geopandas as gpd
    from typer.testing import CliRunner

    from gis_service.cli.main import app

    runner = CliRunner()
    assert runner.invoke(app, ["demo"]).exit_code == 0
    add_second_province(env)
    out = tmp_path / "other.gpkg"
    r = runner.invoke(app, ["export", str(out), "--province", OTHER])
    assert r.exit_code == 0, r.output
    frame = gpd.read_file(out)
    assert len(frame) == sql(env, f"SELECT count(*) FROM parcels WHERE province_code = '{OTHER}'")[0][0]
    assert set(frame["province_code"]) == {OTHER} and frame["code"].str.endswith("-X").all()
    r = runner.invoke(app, ["export", str(tmp_path / "x.gpkg"), "--province", "99"])
    assert r.exit_code == 1 and "99" in r.output and "11" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "x.gpkg").exists()
    r = runner.invoke(app, ["export", str(tmp_path / "r.gpkg"), "--layer", "roads", "--province", OTHER])
    assert r.exit_code == 1 and "roads" in r.output


def _pack(folder, *, stray: bool = False):
    """A province's folder as a GIS officer would hand it over: province.yaml, units, parcels, demand."""
    import geopandas as gpd
    from shapely.geometry import box

    folder.mkdir()
    (folder / "province.yaml").write_text(
        f'code: "{OTHER}"\nname: "Tỉnh thử nghiệm"\nbbox: [102.0, 22.65, 104.5, 24.0]\n'
        'cadastral_crs: "EPSG:9208"\nreform_date: "2025-07-01"\n',
        encoding="utf-8",
    )
    outline = box(102.0, 22.65, 104.5, 24.0)
    common = {"unit_type": None, "valid_to": None, "boundary_note": "test"}
    gpd.GeoDataFrame(
        [
            {
                **common,
                "code": OTHER,
                "name": "Tỉnh thử nghiệm",
                "level": "province",
                "parent_code": None,
                "valid_from": "2004-01-01",
            },
            {
                **common,
                "code": "03999",
                "name": "Xã thử nghiệm {{ x }} <script>",
                "level": "commune",
                "parent_code": OTHER,
                "valid_from": "2025-07-01",
            },
        ],
        geometry=[outline, outline],
        crs=4326,
    ).to_file(folder / "admin_units.geojson")
    points = [(103.0 + 0.01 * i, 23.0) for i in range(3)] + ([(103.02, 21.4)] if stray else [])  # 21.4°N: Điện Biên
    gpd.GeoDataFrame(
        [
            {"code": f"LC-{i}", "name": f'Khu {i} "{{{{ y }}}}" {{# <script>', "max_far": 1.5, "max_floors": 5}
            for i in range(len(points))
        ],
        geometry=[box(x, y, x + 0.002, y + 0.002) for x, y in points],
        crs=4326,
    ).to_file(folder / "parcels.geojson")
    (folder / "demand.csv").write_text(
        "admin_unit_code,year,eligible_group,households\n03999,2026,all,9000\n", encoding="utf-8"
    )
    return folder


def test_a_province_is_added_with_one_command(env, tmp_path):
    from typer.testing import CliRunner

    from gis_service.cli.main import app

    runner = CliRunner()
    assert runner.invoke(app, ["demo"]).exit_code == 0
    dien_bien = sql(env, "SELECT count(*), sum(area_m2) FROM parcels")[0]
    # a parcel outside the province (in Điện Biên) refuses the whole folder: nothing of it is written
    r = runner.invoke(app, ["province", "add", str(_pack(tmp_path / "bad", stray=True))])
    assert r.exit_code == 1 and "parcels.geojson" in r.output and "Traceback" not in r.output, r.output
    assert sql(env, f"SELECT count(*) FROM admin_units WHERE code IN ('{OTHER}', '03999')")[0][0] == 0
    assert sql(env, f"SELECT to_regclass('parcels_p{OTHER}')")[0][0] is None
    # the good one: its units, its parcels in a partition of their own (assigned to its commune), its demand
    r = runner.invoke(app, ["province", "add", str(_pack(tmp_path / "good"))])
    assert r.exit_code == 0, r.output
    assert f"Added province {OTHER}" in r.output and "3 parcels" in r.output
    assert sql(env, f"SELECT count(*), min(admin_unit_code), max(admin_unit_code) FROM parcels_p{OTHER}")[0] == (
        3,
        "03999",
        "03999",
    )
    assert sql(env, "SELECT count(*), sum(area_m2) FROM parcels WHERE province_code = '11'")[0] == dien_bien
    assert sql(env, f"SELECT count(*) FROM parcel_history WHERE province_code = '{OTHER}'")[0][0] == 3
    r = runner.invoke(app, ["province", "list"])
    assert r.exit_code == 0 and "11  Điện Biên" in r.output and f"{OTHER}  Tỉnh thử nghiệm: 3 parcel(s)" in r.output
    # twice: refused, nothing changed
    r = runner.invoke(app, ["province", "add", str(tmp_path / "good")])
    assert r.exit_code == 1 and f"already holds province {OTHER}" in r.output
    assert sql(env, f"SELECT count(*) FROM parcels WHERE province_code = '{OTHER}'")[0][0] == 3
    # a folder without province.yaml, or without units
    (tmp_path / "empty").mkdir()
    r = runner.invoke(app, ["province", "add", str(tmp_path / "empty")])
    assert r.exit_code == 1 and "province.yaml" in r.output


def test_the_other_province_s_parcels_speak_its_own_vn2000_zone(env, tmp_path):
    """A province loaded with `province add` keeps its province.yaml: its parcels' site sheet, investor dossier and
    page give coordinates and the certificate's grid area in its own VN-2000 zone (here TM-3 104-45, EPSG:9208),
    not the deployment's (EPSG:9205), computed independently here with pyproj; a surveyor's CSV uploaded on
    its edit form is read in that zone; and its edits and a planner's new parcels are checked against its own outline."""
    import numpy as np
    import shapely
    from pyproj import Transformer
    from shapely.geometry import box
    from typer.testing import CliRunner

    from gis_service.cli.main import app

    runner = CliRunner()
    assert runner.invoke(app, ["demo"]).exit_code == 0
    assert runner.invoke(app, ["province", "add", str(_pack(tmp_path / "good"))]).exit_code == 0
    theirs = sql(env, f"SELECT id FROM parcels WHERE province_code = '{OTHER}' AND code = 'LC-0'")[0][0]
    ours = sql(env, "SELECT id FROM parcels WHERE province_code = '11' ORDER BY id LIMIT 1")[0][0]
    assert sql(env, "SELECT code, description->>'cadastral_crs' FROM provinces") == [(OTHER, "EPSG:9208")]
    to_zone = Transformer.from_crs(4326, 9208, always_xy=True)
    easting, northing = to_zone.transform(103.0, 23.0)  # LC-0's south-west corner
    grid_area = shapely.transform(
        box(103.0, 23.0, 103.002, 23.002), lambda xy: np.column_stack(to_zone.transform(xy[:, 0], xy[:, 1]))
    ).area
    admin = {"Authorization": f"Bearer {token_for(env, 'admin')}"}
    with api_client(env, tmp_path) as c:
        sheet = c.get(f"/maps/parcels/{theirs}?lang=en", headers=admin)
        assert sheet.status_code == 200
        assert "VN-2000 / TM-3 104-45" in sheet.text and "TM-3 103-00" not in sheet.text
        num = r'<td class="num">([\d,]+(?:\.\d+)?)</td>'
        shown = [(float(n.replace(",", "")), float(e.replace(",", ""))) for n, e in re.findall(num + num, sheet.text)]
        # the sheet gives millimetres: the corner is there to within them
        assert any(abs(n - northing) < 0.002 and abs(e - easting) < 0.002 for n, e in shown), (northing, shown)
        dossier = c.get(f"/investors/sites/{theirs}?lang=en", headers=admin)
        assert dossier.status_code == 200 and "TM-3 104-45" in dossier.text and "crs=9208" in dossier.text
        page = c.get(f"/parcels/{theirs}?lang=en", headers=admin)
        assert page.status_code == 200 and "EPSG:9208" in page.text and "EPSG:9205" not in page.text
        m = re.search(r"EPSG:9208[^<]*</dt><dd>([\d,.]+)</dd>", page.text)
        assert m and abs(float(m.group(1).replace(",", "")) - grid_area) < 0.5, (m and m.group(1), grid_area)
        # Điện Biên's own parcels stay in EPSG:9205
        assert "TM-3 103-00" in c.get(f"/maps/parcels/{ours}?lang=en", headers=admin).text
        assert "EPSG:9205" in c.get(f"/parcels/{ours}?lang=en", headers=admin).text
    # a surveyor's CSV of VN-2000 coordinates (no .prj) uploaded on the parcel's edit form: read in its zone
    from conftest import sign_in, user_for
    from test_workspace import form_of_parcel

    e0, n0 = to_zone.transform(104.0005, 22.7005)  # within the zone's area of use
    text = "STT,X,Y\n" + "\n".join(
        f"{i},{n0 + dn:.3f},{e0 + de:.3f}" for i, (de, dn) in enumerate([(0, 0), (60, 0), (60, 50), (0, 50)], 1)
    )
    with api_client(env, tmp_path) as c:
        assert sign_in(c, user_for(env, "admin")).status_code == 303
        data = form_of_parcel(c, theirs)
        data.update(reason="ranh giới theo đo đạc", geometry_changed="1")
        r = c.post(
            f"/parcels/{theirs}/edit",
            data=data,
            files={"geometry_file": ("toa-do.csv", text.encode(), "text/csv")},
            follow_redirects=False,
        )
        assert r.status_code == 303, re.findall(r'id="error-[^"]*"[^>]*>[^<]*', r.text)
    lon, lat = sql(
        env,
        "SELECT ST_X(ST_StartPoint(ST_ExteriorRing(ST_GeometryN(geom, 1)))), "
        "ST_Y(ST_StartPoint(ST_ExteriorRing(ST_GeometryN(geom, 1)))) FROM parcels WHERE id = %s",
        [theirs],
    )[0]
    corners = {
        (round(x, 6), round(y, 6))
        for x, y in (
            Transformer.from_crs(9208, 4326, always_xy=True).transform(e0 + de, n0 + dn)
            for de, dn in [(0, 0), (60, 0), (60, 50), (0, 50)]
        )
    }
    assert (round(lon, 6), round(lat, 6)) in corners, (lon, lat, corners)
    # a planner of the other province adds a parcel through the API: checked against that province and its units,
    # written into its partition; the same parcel from Điện Biên's planner is refused as outside Điện Biên
    site = {
        "type": "Feature",
        "properties": {"code": "LC-NEW", "name": "Khu mới <b>{{ z }}</b>"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[103.3, 23.3], [103.302, 23.3], [103.302, 23.302], [103.3, 23.302], [103.3, 23.3]]],
        },
    }
    geojson = {"Content-Type": "application/geo+json"}
    with api_client(env, tmp_path) as c:
        mine = {"Authorization": f"Bearer {token_for(env, 'planner', '03999')}", **geojson}
        r = c.post("/collections/parcels/items", json=site, headers=mine)
        assert r.status_code == 201, r.text
        dien_bien = {"Authorization": f"Bearer {token_for(env, 'planner', '11')}", **geojson}
        r = c.post("/collections/parcels/items", json={**site, "properties": {"code": "LC-NEW-2"}}, headers=dien_bien)
        assert r.status_code in (400, 422) and r.headers["content-type"] == "application/problem+json", r.text
    assert sql(env, "SELECT province_code, admin_unit_code FROM parcels WHERE code = 'LC-NEW'") == [(OTHER, "03999")]
    assert sql(env, "SELECT count(*) FROM parcels WHERE code = 'LC-NEW-2'")[0][0] == 0


def test_a_file_of_the_other_province_is_imported_into_it(env, tmp_path):
    """After `province add`, later files of that province come in by `landfund import --province` (a GIS officer)
    or the workspace's import page (that province's planner): checked against its own outline and units, written
    into its partition. Without the option the same file is refused as outside Điện Biên, and writes nothing."""
    import json

    from conftest import csrf_of, sign_in, user_for
    from typer.testing import CliRunner

    from gis_service.cli.main import app

    runner = CliRunner()
    assert runner.invoke(app, ["demo"]).exit_code == 0
    assert runner.invoke(app, ["province", "add", str(_pack(tmp_path / "good"))]).exit_code == 0

    def collection(prefix: str, n: int, x0: float) -> bytes:
        return json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"code": f"{prefix}-{i}", "name": f'Khu "{i}" {{{{ x }}}} <script>'},
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [
                                [[x, 23.5], [x + 0.002, 23.5], [x + 0.002, 23.502], [x, 23.502], [x, 23.5]]
                                for x in [x0 + 0.01 * i]
                            ],
                        },
                    }
                    for i in range(n)
                ],
            }
        ).encode()

    path = tmp_path / "lc-them.geojson"
    path.write_bytes(collection("LC-FILE", 2, 103.5))
    before = sql(env, "SELECT count(*) FROM parcels")[0][0]
    r = runner.invoke(app, ["import", str(path)])  # the deployment's province: outside Điện Biên
    assert r.exit_code == 1 and "outside" in r.output and "Traceback" not in r.output, r.output
    r = runner.invoke(app, ["import", str(path), "--province", "99"])
    assert r.exit_code == 1 and "no province '99'" in r.output and OTHER in r.output, r.output
    assert sql(env, "SELECT count(*) FROM parcels")[0][0] == before
    wkt = tmp_path / "lc.csv"  # a surveyor's table without a CRS: told to name the province's own zone
    wkt.write_text('code,wkt\nLC-CSV,"POLYGON((103.6 23.5,103.602 23.5,103.602 23.502,103.6 23.5))"\n')
    r = runner.invoke(app, ["import", str(wkt), "--province", OTHER])
    assert r.exit_code == 1 and "--crs EPSG:9208 for VN-2000 / TM-3 104-45" in " ".join(r.output.split()), r.output
    r = runner.invoke(app, ["import", str(path), "--province", OTHER])
    assert r.exit_code == 0 and "Imported 2 row(s)" in r.output, r.output
    assert sql(env, f"SELECT count(*), min(admin_unit_code) FROM parcels_p{OTHER} WHERE code LIKE 'LC-FILE-%%'")[0] == (
        2,
        "03999",
    )
    # its planner's file, on the workspace's import page: their province, their unit
    with api_client(env, tmp_path) as c:
        planner = user_for(env, "planner", "03999")
        assert sign_in(c, planner).status_code == 303
        html = c.get("/parcels/import").text
        assert 'placeholder="EPSG:9208"' in html  # the CRS field suggests their province's zone
        r = c.post(
            "/parcels/import",
            data={"csrf": csrf_of(html)},
            files={"file": ("lc.csv", wkt.read_bytes(), "text/csv")},
        )
        assert r.status_code == 400 and "ví dụ EPSG:9208 cho tệp địa chính VN-2000 / TM-3 104-45" in r.text
        r = c.post(
            "/parcels/import",
            data={"csrf": csrf_of(html)},
            files={"file": ("quy-dat.geojson", collection("LC-WEB", 3, 103.55), "application/geo+json")},
        )
        assert r.status_code == 200 and "3" in r.text, re.findall(r"<td>[^<]*</td>", r.text)[:6]
        token = re.search(r'action="http://testserver/parcels/import/([\w-]+)"', r.text).group(1)
        done = c.post(f"/parcels/import/{token}", data={"csrf": csrf_of(r.text)}, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/parcels?done=imported:3"
    assert sql(
        env, "SELECT province_code, admin_unit_code, count(*) FROM parcels WHERE code LIKE 'LC-WEB-%%' GROUP BY 1, 2"
    ) == [(OTHER, "03999", 3)]
    assert sql(
        env,
        "SELECT DISTINCT h.actor, h.province_code FROM parcel_history h JOIN parcels p ON p.id = h.parcel_id "
        "WHERE p.code LIKE 'LC-WEB-%%'",
    ) == [(planner, OTHER)]


def test_an_admin_says_which_province_a_new_parcel_or_file_is_of(env, tmp_path):
    """An account without a unit (the admin) adds to any province the database holds: the import page and the
    new-parcel form offer the provinces (only once there are two), the API takes ?province=. A planner's own
    province is theirs: asking for another is refused."""
    import json

    from conftest import csrf_of, sign_in, user_for
    from typer.testing import CliRunner

    from gis_service.cli.main import app

    runner = CliRunner()
    assert runner.invoke(app, ["demo"]).exit_code == 0
    with api_client(env, tmp_path) as c:  # one province: nothing to choose
        assert sign_in(c, user_for(env, "admin")).status_code == 303
        assert 'name="province"' not in c.get("/parcels/import").text
        assert 'name="province"' not in c.get("/parcels/new").text
        # a province added while the service runs is offered at once, by its name, with its communes
        assert runner.invoke(app, ["province", "add", str(_pack(tmp_path / "good"))]).exit_code == 0
        sql(env, f"UPDATE admin_units SET name = 'Tỉnh <script>{{{{ 7*7 }}}}' WHERE code = '{OTHER}'")
        page = c.get("/parcels/import").text
        assert (
            f'<option value="{OTHER}" data-crs="EPSG:9208">Tỉnh &lt;script&gt;{{{{ 7*7 }}}} ({OTHER})</option>' in page
        )

    def square(x: float) -> dict:
        return {
            "type": "Polygon",
            "coordinates": [[[x, 23.6], [x + 0.002, 23.6], [x + 0.002, 23.602], [x, 23.602], [x, 23.6]]],
        }

    with api_client(env, tmp_path) as c:
        assert sign_in(c, user_for(env, "admin")).status_code == 303
        # the new-parcel form: the province chosen, its units and checks
        html = c.get("/parcels/new").text
        assert (
            'name="province"' in html
            and f'<option value="{OTHER}">Tỉnh &lt;script&gt;{{{{ 7*7 }}}} ({OTHER})</option>' in html
        )
        form = {
            "csrf": csrf_of(html),
            "code": "LC-FORM-1",
            "name": 'Khu "{{ a }}" <script>',
            "fund_source": "public_land",
            "geometry": json.dumps(square(103.6)),
            "geometry_changed": "1",
        }
        r = c.post("/parcels/new", data={**form, "province": "11"}, follow_redirects=False)
        assert r.status_code == 400 and "Nằm ngoài ranh giới tỉnh Điện Biên (11)" in r.text  # next to the map
        assert '<option value="11" selected>' in r.text
        r = c.post("/parcels/new", data={**form, "province": "{{ 6*7 }}<b>"}, follow_redirects=False)
        assert r.status_code == 400 and 'id="error-province"' in r.text and "{{ 6*7 }}" not in r.text
        r = c.post("/parcels/new", data={**form, "province": OTHER}, follow_redirects=False)
        assert r.status_code == 303, re.findall(r'id="error-[^"]*"[^>]*>[^<]*', r.text)
        # the import page: the province chosen travels from the check to the confirmation
        html = c.get("/parcels/import").text
        feature = {"type": "Feature", "properties": {"code": "LC-ADMIN-1"}, "geometry": square(103.7)}
        upload = json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()
        r = c.post(
            "/parcels/import",
            data={"csrf": csrf_of(html), "province": OTHER},
            files={"file": ("lc.geojson", upload, "application/geo+json")},
        )
        assert r.status_code == 200, re.findall(r"<td>[^<]*</td>", r.text)[:8]
        token = re.search(r'action="http://testserver/parcels/import/([\w-]+)"', r.text).group(1)
        done = c.post(f"/parcels/import/{token}", data={"csrf": csrf_of(r.text)}, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/parcels?done=imported:1"
        # the API
        admin = {"Authorization": f"Bearer {token_for(env, 'admin')}", "Content-Type": "application/geo+json"}
        site = {"type": "Feature", "properties": {"code": "LC-API-1"}, "geometry": square(103.8)}
        r = c.post("/collections/parcels/items", json=site, headers=admin)
        assert r.status_code in (400, 422) and r.headers["content-type"] == "application/problem+json"
        r = c.post(f"/collections/parcels/items?province={OTHER}", json=site, headers=admin)
        assert r.status_code == 201, r.text
        r = c.post("/collections/parcels/items?province=99", json={**site, "properties": {"code": "X"}}, headers=admin)
        assert r.status_code == 400 and "99" in r.json()["detail"]
        planner = {
            "Authorization": f"Bearer {token_for(env, 'planner', '03999')}",
            "Content-Type": "application/geo+json",
        }
        r = c.post(
            "/collections/parcels/items?province=11", json={**site, "properties": {"code": "X"}}, headers=planner
        )
        assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    got = sql(env, "SELECT code, province_code, admin_unit_code FROM parcels WHERE code LIKE 'LC-%%-1' ORDER BY 1")
    assert got == [("LC-ADMIN-1", OTHER, "03999"), ("LC-API-1", OTHER, "03999"), ("LC-FORM-1", OTHER, "03999")]
    assert sql(env, "SELECT count(*) FROM parcels WHERE code = 'X'")[0][0] == 0
