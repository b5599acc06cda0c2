"""Map definitions → Folium HTML, without a browser: assets, labels, filters, inline or tiles."""

from __future__ import annotations

import re
from datetime import date

import psycopg
import pytest

from gis_service.catalogue import load_catalogue
from gis_service.core.config import Settings
from gis_service.core.db import libpq_dsn
from gis_service.i18n import number
from gis_service.maps import data
from gis_service.maps.assets import VENDORED, AssetError, OfflineFigure, check_offline
from gis_service.maps.build import render
from gis_service.maps.definition import load_map, map_names
from gis_service.security import ANONYMOUS, Principal

CDN = re.compile(r"cdn\.jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare\.com|code\.jquery\.com|bootstrapcdn|fontawesome")


@pytest.fixture(scope="module")
def conn(demo_ro):
    with psycopg.connect(libpq_dsn(demo_ro)) as c:
        yield c


def spec_of(html: str) -> dict:
    """The map's JSON document, as the browser reads it."""
    import json

    m = re.search(r'<script type="application/json" id="lf-map-spec">(.*?)</script>', html, re.S)
    return json.loads(m.group(1))


def codes_in(html: str, kind: str | None = None) -> list[str]:
    """Parcel codes inline in a map (every layer, or the layers of one kind)."""
    return [
        f["properties"]["code"]
        for la in spec_of(html)["layers"]
        if la["data"] and (kind is None or la["kind"] == kind)
        for f in la["data"]["features"]
        if "code" in f["properties"] and "level" not in f["properties"]
    ]


def page(conn, name, lang="vi", filters=None, who=ANONYMOUS, api="http://127.0.0.1:9", parcel=None, **overrides):
    s = Settings(**overrides)
    ctx = data.Context(
        conn,
        s,
        load_catalogue(s.layers_dir),
        who,
        lang,
        filters or data.Filters(),
        api_base=api,
        asset_base="http://127.0.0.1:9/static",
        parcel_id=parcel,
    )
    return render(ctx, load_map(s.maps_dir, name))


def test_definitions_load():
    s = Settings()
    assert map_names(s.maps_dir) == ["investor", "planner", "site"]
    planner = load_map(s.maps_dir, "planner")
    assert planner.title.vi.startswith("Bản đồ") and planner.filters == ["admin_unit", "status", "as_of"]
    assert [la.kind for la in planner.layers][:2] == ["coverage", "parcels"]


@pytest.mark.parametrize("name", ["planner", "investor"])
def test_no_cdn_anywhere(conn, name):
    html, fig = page(conn, name)
    assert not CDN.search(html), CDN.search(html)
    check_offline(html, allowed_prefixes=("http://127.0.0.1:9/",))
    srcs = re.findall(r'<script src="([^"]+)"', html) + re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert srcs and all(u.startswith("http://127.0.0.1:9/static/") for u in srcs)
    assert "jquery" not in html.lower() and "bootstrap" not in html.lower()
    assert {"leaflet", "landfund_js", "landfund_css"} <= fig.used


def test_an_asset_without_a_vendored_copy_stops_the_render():
    import folium
    from branca.element import JavascriptLink

    fig = OfflineFigure("/static")
    m = folium.Map(tiles=None)
    fig.add_child(m)
    fig.header.add_child(JavascriptLink("https://cdn.example.org/x.js"), name="mystery")
    with pytest.raises(AssetError, match="has no vendored copy"):
        fig.render()
    with pytest.raises(AssetError, match="from the network"):
        check_offline('<script src="https://cdn.example.org/x.js"></script>')
    for path in VENDORED.values():
        from gis_service.maps.assets import STATIC

        assert (STATIC / path).is_file(), path


def test_language_and_number_formats(conn):
    vi, _ = page(conn, "planner")
    en, _ = page(conn, "planner", lang="en")
    assert '<html lang="vi">' in vi and "Bản đồ rà soát quỹ đất nhà ở xã hội" in vi and "Trạng thái" in vi
    assert '<html lang="en">' in en and "Social-housing land fund review" in en and "Đề xuất" not in en
    assert number(1234.5, "vi", 1) == "1.234,5" and number(1234.5, "en", 1) == "1,234.5"
    assert number(0.5, "vi", 2) == "0,5" and number(82_735_000_000 / 1e9, "vi", 3) == "82,735"


def test_filters_reduce_the_parcels(conn):
    everything, _ = page(conn, "planner", who=Principal("admin"))
    one_unit, _ = page(conn, "planner", who=Principal("admin"), filters=data.Filters(admin_unit="095"))
    approved, _ = page(conn, "planner", who=Principal("admin"), filters=data.Filters(status=["programmed"]))
    count = lambda h: len(codes_in(h, "parcels"))  # noqa: E731
    n095 = conn.execute(
        "SELECT count(*) FROM parcels p, admin_units a WHERE a.code = '095' AND ST_Intersects(a.geom, p.pos)"
    ).fetchone()[0]
    napp = conn.execute("SELECT count(*) FROM parcels WHERE status = 'programmed'").fetchone()[0]
    assert count(everything) == conn.execute("SELECT count(*) FROM parcels").fetchone()[0]
    assert count(one_unit) == n095 and count(approved) == napp


def test_as_of_switches_districts_and_communes(conn):
    before, _ = page(conn, "planner", filters=data.Filters(as_of=date(2025, 6, 30)))
    after, _ = page(conn, "planner", filters=data.Filters(as_of=date(2025, 7, 1)))

    def unit_codes(h):
        return {f["id"] for la in spec_of(h)["layers"] if la["kind"] == "coverage" for f in la["data"]["features"]}

    assert "094" in unit_codes(before) and "03127" not in unit_codes(before)
    assert "03127" in unit_codes(after) and "094" not in unit_codes(after)


def test_big_land_funds_come_as_vector_tiles(conn):
    html, fig = page(
        conn,
        "planner",
        map_inline_max_features=3,
        filters=data.Filters(status=["call_published", "under_construction"]),
    )
    parcels = next(la for la in spec_of(html)["layers"] if la["kind"] == "parcels")
    assert "vectorGrid" in fig.used and parcels["data"] is None
    url = parcels["tiles"]["url"]  # the tiles are national; the map asks for its province's
    assert "/collections/parcels/tiles/WebMercatorQuad/{z}/{x}/{y}?province_code=11&filter=status+IN" in url
    assert spec_of(html)["search"]["api"] == "http://127.0.0.1:9/collections/parcels/items"
    assert not codes_in(html, "parcels")  # no parcel is inline
    static, fig = page(conn, "planner", map_inline_max_features=3, api=None)
    assert "vectorGrid" not in fig.used and codes_in(static, "parcels")  # without a server parcels stay inline


def test_big_reference_layers_come_as_vector_tiles(conn):
    """Roads and facilities above the threshold are tiles too (styled by their category); smaller ones stay inline."""
    n = {
        layer: conn.execute("SELECT count(*) FROM reference_features WHERE layer = %s", [layer]).fetchone()[0]
        for layer in ("roads", "facilities", "hazard_zones")
    }
    cap = sorted(n.values())[1]  # the middle one: the biggest layer is tiled, the smallest inline
    html, _ = page(conn, "planner", map_inline_max_features=cap)
    layers = {la["id"]: la for la in spec_of(html)["layers"] if la["kind"] == "reference"}
    tiled = {layer for layer in n if layers[layer]["tiles"]}
    assert tiled == {layer for layer, k in n.items() if k > cap} and tiled
    assert all(layers[la]["pane"] == "reference" for la in layers) and layers["roads"]["geometry"] == "line"


def test_a_big_investor_map_holds_the_best_ranked_sites(conn):
    """Sites stay inline (their score is not in the tiles); above the threshold only the best-ranked ones,
    and the map says so."""
    from gis_service.analytics import suitability

    ranked = suitability.rank(conn, Settings(), suitability.Request(limit=None))
    assert len(ranked) > 1
    html, _ = page(conn, "investor", lang="en", map_inline_max_features=1)
    codes = set(codes_in(html, "sites"))
    assert codes == {r["code"] for r in ranked[:1]}
    assert f"Showing the 1 best-ranked of {len(ranked):,} sites" in html
    full, _ = page(conn, "investor", lang="en")
    assert "best-ranked of" not in full


def test_investor_map_holds_only_published_open_sites(conn):
    html, _ = page(conn, "investor")
    codes = set(codes_in(html, "sites"))
    expected = {r[0] for r in conn.execute("SELECT code FROM parcels WHERE published AND status = 'call_published'")}
    assert codes == expected and expected
    site = next(la for la in spec_of(html)["layers"] if la["kind"] == "sites")["data"]["features"][0]["properties"]
    assert "score" in site and "road_m" in site


def test_site_sheet(conn):
    pid = conn.execute("SELECT id FROM parcels WHERE published ORDER BY id LIMIT 1").fetchone()[0]
    html, _ = page(conn, "site", parcel=pid)
    assert "Phiếu thông tin khu đất" in html and "VN-2000" in html and "landfund/maps.css" in html
    # the vertices are in the province's own zone, and the sheet says which (layers/province.yaml cadastral_crs)
    assert "Tọa độ đỉnh thửa (VN-2000, kinh tuyến trục 103°00′, múi 3°)" in html
    assert "Vertex coordinates (VN-2000 / TM-3 103-00)" in page(conn, "site", lang="en", parcel=pid)[0]
    from gis_service.maps.assets import STATIC

    assert "@page { size: A4 portrait" in (STATIC / "landfund" / "maps.css").read_text()
    hidden = conn.execute("SELECT id FROM parcels WHERE NOT published LIMIT 1").fetchone()[0]
    from gis_service.core.errors import NotFound

    with pytest.raises(NotFound):
        page(conn, "site", parcel=hidden)
    page(conn, "site", parcel=hidden, who=Principal("planner", admin_unit_code="11"))


def test_vendored_assets_match_their_lock_offline():
    """scripts/fetch_assets.py --check: every committed copy has the SHA-256 recorded when it was fetched."""
    import subprocess
    import sys

    from conftest import REPO

    r = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "fetch_assets.py"), "--check"], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stdout
    assert " 0 mismatches" in r.stdout
    import json

    lock = json.loads((REPO / "gis_service" / "static" / "vendor" / "assets.lock.json").read_text())
    names = {p["name"] for p in lock["packages"]}
    assert {
        "leaflet",
        "leaflet.vectorgrid",
        "leaflet-search",
        "leaflet-measure",
        "leaflet-minimap",
        "leaflet.fullscreen",
        "d3",
        "swagger-ui-dist",
    } <= names
    for p in lock["packages"]:  # every package keeps its licence
        assert any(f.split("/")[-1].lower().startswith(("license", "readme")) for f in p["files"]), p["name"]
