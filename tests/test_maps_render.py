"""Map definitions → Folium HTML, without a browser: assets, labels, filters, inline or tiles."""

from __future__ import annotations

import re
from datetime import date

import psycopg
import pytest

from gis_service.catalogue import load_catalogue
from gis_service.core.config import Settings
from gis_service.core.db import libpq_dsn
from gis_service.maps import data
from gis_service.maps.assets import VENDORED, AssetError, OfflineFigure, check_offline
from gis_service.maps.build import render
from gis_service.maps.definition import load_map, map_names
from gis_service.maps.i18n import number
from gis_service.security import ANONYMOUS, Principal

CDN = re.compile(r"cdn\.jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare\.com|code\.jquery\.com|bootstrapcdn|fontawesome")


@pytest.fixture(scope="module")
def conn(demo_ro):
    with psycopg.connect(libpq_dsn(demo_ro)) as c:
        yield c


def page(conn, name, lang="vi", filters=None, who=ANONYMOUS, api="http://127.0.0.1:9", parcel=None, **overrides):
    s = Settings(**overrides)
    ctx = data.Context(conn, s, load_catalogue(s.layers_dir), who, lang, filters or data.Filters(), api_base=api,
                       asset_base="http://127.0.0.1:9/static", parcel_id=parcel)
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
    assert {"leaflet", "landfund_js", "d3" if name == "planner" else "leaflet"} <= fig.used


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
    approved, _ = page(conn, "planner", who=Principal("admin"), filters=data.Filters(status=["approved"]))
    count = lambda h: len(re.findall(r'"code": ?"NOXH-', h))  # noqa: E731
    n095 = conn.execute("SELECT count(*) FROM parcels p, admin_units a WHERE a.code = '095' "
                        "AND ST_Intersects(a.geom, p.pos)").fetchone()[0]
    napp = conn.execute("SELECT count(*) FROM parcels WHERE status = 'approved'").fetchone()[0]
    assert count(everything) == conn.execute("SELECT count(*) FROM parcels").fetchone()[0]
    assert count(one_unit) == n095 and count(approved) == napp


def test_as_of_switches_districts_and_communes(conn):
    before, _ = page(conn, "planner", filters=data.Filters(as_of=date(2025, 6, 30)))
    after, _ = page(conn, "planner", filters=data.Filters(as_of=date(2025, 7, 1)))
    assert '"code": "094"' in before and '"code": "03127"' not in before
    assert '"code": "03127"' in after and '"code": "094"' not in after


def test_big_land_funds_come_as_vector_tiles(conn):
    html, fig = page(conn, "planner", map_inline_max_features=10, filters=data.Filters(status=["approved", "proposed"]))
    assert "L.vectorGrid.protobuf" in html and "vectorGrid" in fig.used
    assert "/collections/parcels/tiles/WebMercatorQuad/{z}/{x}/{y}?filter=status+IN" in html
    assert "LF.bindTiles" in html and "LF.apiSearch" in html
    assert not re.search(r'"code": ?"NOXH-', html)  # no parcel is inline
    static, _ = page(conn, "planner", map_inline_max_features=10, api=None)
    assert "L.vectorGrid" not in static  # without a server a map keeps its parcels inline


def test_big_reference_layers_come_as_vector_tiles(conn):
    """Roads and facilities above the threshold are tiles too (styled by their category); smaller ones stay inline."""
    n = {layer: conn.execute("SELECT count(*) FROM reference_features WHERE layer = %s", [layer]).fetchone()[0]
         for layer in ("roads", "facilities", "hazard_zones")}
    cap = sorted(n.values())[1]  # the middle one: the biggest layer is tiled, the smallest inline
    html, _ = page(conn, "planner", map_inline_max_features=cap)
    tiled = {layer for layer in n if f"/collections/{layer}/tiles/WebMercatorQuad/" in html}
    assert tiled == {layer for layer, k in n.items() if k > cap} and tiled
    assert "lf_reference" in html and '"geometry": "line"' in html or "roads" not in tiled


def test_a_big_investor_map_holds_the_best_ranked_sites(conn):
    """Sites stay inline (their score is not in the tiles); above the threshold only the best-ranked ones,
    and the map says so."""
    from gis_service.analytics import suitability

    ranked = suitability.rank(conn, Settings(), suitability.Request(limit=None))
    assert len(ranked) > 3
    html, _ = page(conn, "investor", lang="en", map_inline_max_features=3)
    codes = set(re.findall(r'"code": ?"(NOXH-[0-9-]+)"', html))
    assert codes == {r["code"] for r in ranked[:3]}
    assert f"Showing the 3 best-ranked of {len(ranked):,} sites" in html
    full, _ = page(conn, "investor", lang="en")
    assert "best-ranked of" not in full


def test_investor_map_holds_only_published_open_sites(conn):
    html, _ = page(conn, "investor")
    codes = set(re.findall(r'"code": ?"(NOXH-[0-9-]+)"', html))
    expected = {r[0] for r in conn.execute("SELECT code FROM parcels WHERE published AND status = 'open_for_investment'")}
    assert codes == expected and expected
    assert '"score":' in html and "road_m" in html


def test_site_sheet(conn):
    pid = conn.execute("SELECT id FROM parcels WHERE published ORDER BY id LIMIT 1").fetchone()[0]
    html, _ = page(conn, "site", parcel=pid)
    assert "Phiếu thông tin khu đất" in html and "VN-2000" in html and "@page { size: A4 portrait" in html
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

    r = subprocess.run([sys.executable, str(REPO / "scripts" / "fetch_assets.py"), "--check"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout
    assert " 0 mismatches" in r.stdout
    import json

    lock = json.loads((REPO / "gis_service" / "static" / "vendor" / "assets.lock.json").read_text())
    names = {p["name"] for p in lock["packages"]}
    assert {"leaflet", "leaflet.vectorgrid", "leaflet-search", "leaflet-measure", "leaflet-minimap",
            "leaflet.fullscreen", "d3", "swagger-ui-dist"} <= names
    for p in lock["packages"]:  # every package keeps its licence
        assert any(f.split("/")[-1].lower().startswith(("license", "readme")) for f in p["files"]), p["name"]
