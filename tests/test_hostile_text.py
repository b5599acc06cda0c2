"""Hostile text in every map: values a planner can type (Jinja delimiters, an unclosed comment, quotes, script
and image tags) reach every map (served and written by `landfund map`) as data. Each map answers 200 and shows
the text literally in a real browser, and nothing in it runs."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import yaml
from conftest import LiveServer, clone_database, db_url, drop_database
from test_maps_browser import Page, browser, click_feature  # noqa: F401 - the browser fixture

from gis_service.core.db import libpq_dsn

HOSTILE = [
    "{{ 7*7 }}",
    "{% if 1 %}x{% endif %}",
    "Khu {# 2 (tam)",
    "Khu \"A\" 'B'",
    "</script><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
]
FIELDS = ("name", "code", "responsible_agency", "decision_no")


def sql(url, q, params=None):
    with psycopg.connect(libpq_dsn(url)) as c:
        cur = c.execute(q, params)
        return cur.fetchall() if cur.description else []


def hostile_value(i: int, field: str) -> str:
    text = HOSTILE[i]
    return f"H{i} {text}" if field == "code" else text  # codes stay unique


@pytest.fixture(scope="module")
def hostile_db(server_url, demo_template):
    """The demo where six published sites open for investment carry hostile text in their name, code, agency and
    decision number, a commune's name and a facility's name are hostile too."""
    name = clone_database(server_url, demo_template, "hostile")
    url = db_url(server_url, name)
    ids = [
        r[0]
        for r in sql(
            url,
            "SELECT id FROM parcels WHERE published AND status = 'open_for_investment' ORDER BY area_m2 DESC LIMIT %s",
            [len(HOSTILE)],
        )
    ]
    assert len(ids) == len(HOSTILE)
    for i, fid in enumerate(ids):
        sql(
            url,
            "UPDATE parcels SET name = %s, code = %s, responsible_agency = %s, decision_no = %s WHERE id = %s",
            [*(hostile_value(i, f) for f in FIELDS), fid],
        )
    sql(
        url,
        "UPDATE admin_units SET name = %s WHERE code = (SELECT admin_unit_code FROM parcels WHERE id = %s)",
        ["Xã {{ 6*7 }} <b>đậm</b>", ids[0]],
    )
    sql(
        url,
        "UPDATE reference_features SET properties = properties || jsonb_build_object('name', %s::text) "
        "WHERE id = (SELECT id FROM reference_features WHERE layer = 'facilities' ORDER BY id LIMIT 1)",
        ["Trường {% raw %} </script>"],
    )
    yield url, ids
    drop_database(server_url, name)


def spec_of(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="lf-map-spec">(.*?)</script>', html, re.S)
    return json.loads(m.group(1))


def test_served_maps_answer_200_and_carry_the_text_as_data(hostile_db, tmp_path):
    from conftest import api_client

    url, ids = hostile_db
    with api_client(url, tmp_path) as c:
        pages = [("/maps/planner", HOSTILE), ("/maps/planner?lang=en", HOSTILE), ("/maps/investor", HOSTILE)]
        pages += [(f"/maps/parcels/{fid}", [HOSTILE[i]]) for i, fid in enumerate(ids)]
        for path, expected in pages:
            r = c.get(path)
            assert r.status_code == 200, (path, r.text[:500])
            page = r.text
            for text in expected:  # as written: in the JSON document (maps) or escaped HTML (the sheet)
                assert (
                    json.dumps(text)[1:-1].replace("<", "\\u003c").replace(">", "\\u003e").replace("'", "\\u0027")
                    in page
                    or html.escape(text) in page
                ), (path, text)
            assert "<script>alert(1)" not in page and "<img src=x" not in page  # never raw HTML
            csp = r.headers["content-security-policy"]
            nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
            assert "unsafe-eval" not in csp and "sha256" not in csp
            for tag in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page):  # every inline script carries the nonce
                assert f'nonce="{nonce}"' in tag or 'type="application/json"' in tag, tag
        texts = json.dumps(spec_of(c.get("/maps/investor").text), ensure_ascii=False)
        for i in range(len(HOSTILE)):
            assert json.dumps(hostile_value(i, "code"), ensure_ascii=False) in texts


def test_map_titles_from_yaml_are_data_too(hostile_db, tmp_path):
    """maps/*.yaml is edited by planners: a hostile title or legend is shown as written."""
    from conftest import api_client

    from gis_service.core.config import Settings

    maps = tmp_path / "maps"
    shutil.copytree(Settings().maps_dir, maps)
    planner = yaml.safe_load((maps / "planner.yaml").read_text(encoding="utf-8"))
    planner["title"]["vi"] = "Bản đồ {{ 7*7 }} {# </script>"
    planner["layers"][1]["title"]["vi"] = "Lớp <img src=x onerror=alert(1)>"
    (maps / "planner.yaml").write_text(yaml.safe_dump(planner, allow_unicode=True), encoding="utf-8")
    url, _ = hostile_db
    with api_client(url, tmp_path / "home", maps_dir=maps) as c:
        r = c.get("/maps/planner")
    assert r.status_code == 200
    assert "<title>Bản đồ {{ 7*7 }} {# &lt;/script&gt;</title>" in r.text
    assert "Lớp <img" not in r.text and spec_of(r.text)["layers"][1]["name"] == "Lớp <img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def hostile_server(hostile_db, tmp_path_factory):
    url, _ = hostile_db
    s = LiveServer(url, tmp_path_factory.mktemp("hostile"), map_basemap="none")
    yield s
    s.stop()


def _guard(p: Page) -> list[str]:
    """Record every dialog (alert) and every request for the injected image's 'x'."""
    fired: list[str] = []
    p.page.on("dialog", lambda d: (fired.append(d.message), d.dismiss()))
    p.page.on("request", lambda r: r.url.rstrip("/").endswith("/x") and fired.append(r.url))
    return fired


@pytest.mark.browser
def test_every_served_map_shows_the_text_literally_and_runs_nothing(browser, hostile_server, hostile_db):  # noqa: F811
    _, ids = hostile_db
    for width, height, label in ((1280, 860, "desktop"), (390, 844, "phone")):
        for path in ("/maps/investor", "/maps/planner"):
            p = Page(browser)
            p.page.set_viewport_size({"width": width, "height": height})
            fired = _guard(p)
            p.open(hostile_server.base + path)
            for i, fid in enumerate(ids[:3] if label == "phone" else ids):
                text = click_feature(p, fid=fid)
                assert hostile_value(i, "code") in text and HOSTILE[i] in text, (path, text)
                p.page.keyboard.press("Escape")
            p.shot(f"hostile-{path.strip('/').replace('/', '-')}-{label}")
            assert fired == [] and p.errors == [], (path, fired, p.errors)
            p.close()
    # the search box lists a hostile code literally
    p = Page(browser)
    fired = _guard(p)
    p.open(hostile_server.base + "/maps/investor")
    p.page.fill(".lf-search input", "H4")
    p.page.wait_for_selector(".lf-search-results li a", timeout=5000)
    assert hostile_value(4, "code") in p.page.inner_text(".lf-search-results")
    assert fired == [] and p.errors == []
    p.close()


@pytest.mark.browser
def test_every_site_sheet_shows_the_text_literally(browser, hostile_server, hostile_db):  # noqa: F811
    _, ids = hostile_db
    for i, fid in enumerate(ids):
        p = Page(browser)
        fired = _guard(p)
        p.open(f"{hostile_server.base}/maps/parcels/{fid}")
        table = p.page.inner_text(".lf-attributes")
        for field in FIELDS:
            assert hostile_value(i, field) in table, (field, table)
        if i == 0:
            assert "Xã {{ 6*7 }} <b>đậm</b>" in table  # the commune is named, its hostile name shown as text
            p.shot("hostile-site-sheet")
        assert fired == [] and p.errors == [], fired
        p.close()


@pytest.mark.browser
def test_static_maps_written_by_the_cli_show_the_text_literally(browser, hostile_db, tmp_path):  # noqa: F811
    url, ids = hostile_db
    env = {"DATABASE_URL": url, "LANDFUND_MAP_BASEMAP": "none", "PATH": "/usr/bin:/bin"}
    landfund = str(Path(sys.executable).parent / "landfund")
    for name, extra in (("planner", []), ("investor", []), ("site", ["--parcel", str(ids[4])])):
        out = tmp_path / f"{name}.html"
        r = subprocess.run(
            [landfund, "map", name, "--out", str(out), *extra], capture_output=True, text=True, env=env, timeout=300
        )
        assert r.returncode == 0, r.stderr
        p = Page(browser, allow_loopback=False)
        fired = _guard(p)
        p.open(out.as_uri())
        if name == "site":
            assert hostile_value(4, "name") in p.page.inner_text(".lf-attributes")
        else:
            text = click_feature(p, fid=ids[4])
            assert hostile_value(4, "code") in text
        assert fired == [] and p.errors == [] and p.blocked == []
        p.close()
