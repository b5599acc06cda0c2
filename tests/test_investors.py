"""The investor's portal on the demo database: the ranked list follows the weights, hazards and minimum area asked
for (and matches the API's ranking), compare takes two to four sites, the dossier lists what an investor needs, and
the boundary downloads (GeoJSON, KML, DXF) carry the parcel's own vertices in WGS 84 and VN-2000."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET

import ezdxf
import numpy as np
import psycopg
import pytest
import shapely
from conftest import REPO
from pyproj import Transformer

from gis_service.core.db import libpq_dsn
from gis_service.pages.render import LANG_COOKIE

TO_VN2000 = Transformer.from_crs("EPSG:4326", "EPSG:9205", always_xy=True)
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(autouse=True)
def vietnamese(api):
    api.cookies.delete(LANG_COOKIE)


def same_ring(got, expected, tol: float) -> bool:
    """The same vertices (the start of a ring is free), each within `tol`."""
    got, expected = np.asarray(got)[:, :2], np.asarray(expected)[:, :2]
    return len(got) == len(expected) and all(np.hypot(*(expected - p).T).min() < tol for p in got)


def listed(html: str) -> list[int]:
    """The site ids of the ranked list, in order."""
    return [int(x) for x in re.findall(r'<li class="lf-card lf-site" id="site-(\d+)"', html)]


def test_the_list_follows_the_weights_and_matches_the_ranking(api):
    default = api.get("/investors")
    assert default.status_code == 200
    ids = listed(default.text)
    api_ranked = [s["id"] for s in api.get("/analytics/suitability?limit=500").json()["sites"]]
    assert ids and ids == api_ranked[: len(ids)]
    # one criterion at a time: the list is the API's ranking for those weights, the same sites, and some criterion
    # orders them otherwise than the default weights do
    orders = {}
    for only in ("road", "town", "school", "health", "area", "clearance"):
        weights = "&".join(f"w_{k}={int(k == only)}" for k in ("road", "town", "school", "health", "area", "clearance"))
        orders[only] = listed(api.get(f"/investors?{weights}").text)
        ranked = [s["id"] for s in api.get(f"/analytics/suitability?limit=500&{weights}").json()["sites"]]
        assert orders[only] == ranked and sorted(orders[only]) == sorted(ids)
    assert any(order != ids for order in orders.values()), orders
    roads_only = "w_road=1&w_town=0&w_school=0&w_health=0&w_area=0&w_clearance=0"
    by_road = orders["road"]
    # the sliders show the weights asked for, and the map island carries the same ranking
    page = api.get(f"/investors?{roads_only}").text
    assert re.search(r'id="w-road"[^>]*value="1.0"', page) and re.search(r'id="w-area"[^>]*value="0.0"', page)
    island = json.loads(re.search(r'<script type="application/json" id="portal-data">(.*?)</script>', page, re.S)[1])
    ranks = {f["id"]: f["properties"]["rank"] for f in island["sites"]["features"]}
    assert [i for i, _ in sorted(ranks.items(), key=lambda kv: kv[1])] == by_road


def test_hazards_and_minimum_area(api, demo_ro):
    penalty = api.get("/analytics/suitability?limit=500").json()["sites"]
    in_hazard = {s["id"] for s in penalty if s["hazards"]}
    assert in_hazard, "the demo has sites in hazard zones"
    excluded = listed(api.get("/investors?hazards=exclude").text)
    assert not in_hazard & set(excluded) and len(excluded) == len(penalty) - len(in_hazard)
    page = api.get("/investors").text
    some = next(iter(in_hazard))
    item = page.split(f'id="site-{some}"', 1)[1].split("</li>", 1)[0]
    assert "⚠ Nằm trong vùng nguy cơ thiên tai" in item
    with psycopg.connect(libpq_dsn(demo_ro)) as c:
        big = {r[0] for r in c.execute("SELECT id FROM parcels WHERE area_m2 >= 20000").fetchall()}
    large = listed(api.get("/investors?min_area_ha=2").text)
    assert large and set(large) <= big and set(large) < set(listed(page))
    assert api.get("/investors?min_area_ha=-1", headers={"Accept": "application/json"}).status_code in (400, 422)


def test_each_site_says_why_in_words(api):
    page = api.get("/investors").text
    first = page.split('class="lf-card lf-site"', 2)[1]
    rows = re.findall(r'<tr data-criterion="(\w+)"><td>([^<]+)</td><td>([^<]+)', first)
    assert {k for k, _, _ in rows} == {"road", "town", "school", "health", "area", "clearance"}
    measured = {k: m for k, _, m in rows}
    assert re.search(r"\d[\d.,]* (m|km)", measured["road"]) and "ha" in measured["area"]


def test_compare_two_to_four_sites(api):
    ids = listed(api.get("/investors").text)[:4]
    r = api.get(f"/investors/compare?ids={ids[0]},{ids[1]},{ids[2]}")
    assert r.status_code == 200
    codes = [s["code"] for s in api.get("/analytics/suitability?limit=500").json()["sites"] if s["id"] in ids[:3]]
    for code in codes:
        assert code in r.text
    rows = set(re.findall(r'<tr data-row="(\w+)">', r.text))
    assert {"score", "area", "units", "road", "town", "school", "health", "clearance", "hazards", "max_far"} <= rows
    assert r.text.count('<td class="lf-num"><b>') == 3  # a score per site
    five = ",".join(str(i) for i in [*ids, 999999])
    for bad in ("", five):
        r = api.get(f"/investors/compare?ids={bad}", headers={"Accept": "application/json"})
        assert r.status_code == 400 and r.json()["detail"].startswith("ids:")
    assert api.get("/investors/compare?ids=999999", headers={"Accept": "application/json"}).status_code == 404


def site_shape(url: str, fid: int):
    with psycopg.connect(libpq_dsn(url)) as c:
        code, wkb = c.execute("SELECT code, ST_AsBinary(geom) FROM parcels WHERE id = %s", [fid]).fetchone()
    return code, shapely.from_wkb(bytes(wkb))


def test_dossier_page_and_pdf(api, demo_ro):
    fid = listed(api.get("/investors").text)[0]
    code, shape = site_shape(demo_ro, fid)
    r = api.get(f"/investors/sites/{fid}")
    assert r.status_code == 200 and code in r.text
    ring = list(shape.geoms[0].exterior.coords if hasattr(shape, "geoms") else shape.exterior.coords)[:-1]
    rows = re.findall(r"<tr><td>(\d+)</td><td[^>]*>([\d.,]+)</td><td[^>]*>([\d.,]+)</td>", r.text)
    assert len(rows) == len(ring)
    vn = np.column_stack(TO_VN2000.transform(*np.array(ring).T))
    for _, n, e in rows:  # northing first, as a survey table, in Vietnamese number format; to the millimetre
        north, east = (float(v.replace(".", "").replace(",", ".")) for v in (n, e))
        assert np.hypot(vn[:, 0] - east, vn[:, 1] - north).min() < 0.002
    for href in ("boundary.geojson", "boundary.kml", "boundary.dxf"):
        assert f"/investors/sites/{fid}/{href}" in r.text
    pdf = api.get(f"/investors/sites/{fid}?f=pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "dossier.pdf").write_bytes(pdf.content)
    import pypdf

    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert code in text and "VN-2000" in text and "Trang 1 /" in text


def test_boundary_files_in_wgs84_and_vn2000(api, demo_ro):
    fid = listed(api.get("/investors").text)[0]
    code, shape = site_shape(demo_ro, fid)
    ring = np.array(list(shape.geoms[0].exterior.coords if hasattr(shape, "geoms") else shape.exterior.coords))
    vn = np.column_stack(TO_VN2000.transform(ring[:, 0], ring[:, 1]))

    g = api.get(f"/investors/sites/{fid}/boundary.geojson")
    assert g.headers["content-type"].startswith("application/geo+json") and "crs" not in g.json()
    got = np.array(g.json()["features"][0]["geometry"]["coordinates"][0][0])
    assert same_ring(got, ring, 1e-6)
    g = api.get(f"/investors/sites/{fid}/boundary.geojson?crs=9205")
    assert g.json()["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::9205"
    got = np.array(g.json()["features"][0]["geometry"]["coordinates"][0][0])
    assert same_ring(got, vn, 0.002)  # easting, northing, to the millimetre
    assert 'filename="' in g.headers["content-disposition"] and "vn2000" in g.headers["content-disposition"]
    # any VN-2000 zone, against EPSG's national shift (pyproj), for a surveyor of another province
    from pyproj import Transformer

    to_9206 = Transformer.from_crs("EPSG:4326", "EPSG:9206", always_xy=True)
    g = api.get(f"/investors/sites/{fid}/boundary.geojson?crs=9206")
    got = np.array(g.json()["features"][0]["geometry"]["coordinates"][0][0])
    assert same_ring(got, np.column_stack(to_9206.transform(ring[:, 0], ring[:, 1])), 0.002)
    assert "vn2000-9206" in g.headers["content-disposition"]
    bad = api.get(f"/investors/sites/{fid}/boundary.geojson?crs=3857", headers={"Accept": "application/json"})
    assert bad.status_code == 400 and "9205" in bad.json()["detail"] and "9218" in bad.json()["detail"]
    # the dossier names the province's own zone, and offers its files in it
    dossier = api.get(f"/investors/sites/{fid}").text
    assert "Tọa độ đỉnh thửa (VN-2000, kinh tuyến trục 103°00′, múi 3°)" in dossier and "?crs=9205" in dossier

    k = api.get(f"/investors/sites/{fid}/boundary.kml")
    root = ET.fromstring(k.content)
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    assert root.find(".//k:Placemark/k:name", ns).text == code
    coords = root.find(".//k:outerBoundaryIs//k:coordinates", ns).text.split()
    assert same_ring([[float(v) for v in c.split(",")] for c in coords], ring, 1e-6)
    bad = api.get(f"/investors/sites/{fid}/boundary.kml?crs=9205", headers={"Accept": "application/json"})
    assert bad.status_code == 400 and "KML" in bad.json()["detail"]

    for crs, expected in (("4326", ring), ("9205", vn)):
        d = api.get(f"/investors/sites/{fid}/boundary.dxf?crs={crs}")
        assert d.status_code == 200
        doc = ezdxf.read(io.StringIO(d.content.decode()))
        lines = list(doc.modelspace().query("LWPOLYLINE"))
        assert lines and lines[0].closed
        pts = np.array([(x, y) for x, y, *_ in lines[0].get_points()])
        assert same_ring(pts, expected[:-1], 1e-6 if crs == "4326" else 0.002)
        labels = [t.dxf.text for t in doc.modelspace().query("TEXT MTEXT")]
        assert "1" in labels  # vertex numbers, as the site sheet numbers them
    if_missing = api.get(f"/investors/sites/{fid}/boundary.shp", headers={"Accept": "application/json"})
    assert if_missing.status_code == 404
    assert (
        api.get(f"/investors/sites/{fid}/boundary.dxf?crs=3857", headers={"Accept": "application/json"}).status_code
        == 400
    )


def test_hidden_parcels_have_no_dossier_for_the_public(api, demo_ro):
    with psycopg.connect(libpq_dsn(demo_ro)) as c:
        hidden = c.execute("SELECT id FROM parcels WHERE NOT published LIMIT 1").fetchone()[0]
    for path in (f"/investors/sites/{hidden}", f"/investors/sites/{hidden}/boundary.geojson"):
        assert api.get(path, headers={"Accept": "application/json"}).status_code == 404, path
