"""Access control and hostile input: tokens, the "never receive" list walked channel by channel, no lost
updates, 4xx for hostile input, CSP and CORS, no secrets in logs, and a schemathesis run."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import quote

import mapbox_vector_tile
import morecantile
import psycopg
import pytest
from conftest import LiveServer, api_client, token_for
from test_api_write import GEOJSON, auth, feature

from gis_service.core.db import libpq_dsn

SECRET_NOTE = "Hộ ông Bí Mật Văn Riêng chưa đồng ý bồi thường"


def sql(url, q, params=None):
    with psycopg.connect(libpq_dsn(url)) as c:
        cur = c.execute(q, params)
        return cur.fetchall() if cur.description else []


# -- tokens ----------------------------------------------------------------------------------------------


def test_tokens_are_hashed_expire_and_revoke(api_rw):
    token = token_for(api_rw.db, "admin")
    name = sql(api_rw.db, "SELECT u.name FROM users u ORDER BY id DESC LIMIT 1")[0][0]
    stored = sql(api_rw.db, "SELECT token_hash FROM api_tokens")
    assert all(token not in h for (h,) in stored) and len(stored[0][0]) == 64  # only a SHA-256 is kept
    post = lambda t: api_rw.post("/collections/parcels/items", json=feature("TK-1"), headers=auth(t, **GEOJSON))  # noqa: E731
    assert post(token).status_code == 201
    sql(api_rw.db, "UPDATE api_tokens SET expires_at = now() - interval '1 second'")
    assert post(token).status_code == 401
    fresh = token_for(api_rw.db, "admin")
    from typer.testing import CliRunner

    from gis_service.cli.main import app
    from gis_service.core.config import get_settings

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", api_rw.db)
        get_settings.cache_clear()
        name = sql(api_rw.db, "SELECT u.name FROM users u ORDER BY id DESC LIMIT 1")[0][0]
        r = CliRunner().invoke(app, ["users", "revoke", name])
        get_settings.cache_clear()
    assert r.exit_code == 0 and "Revoked 1 token(s)" in r.output
    r = api_rw.post("/collections/parcels/items", json=feature("TK-2"), headers=auth(fresh, **GEOJSON))
    assert r.status_code == 401 and "unknown, expired or revoked" in r.json()["detail"]  # at once: no cache
    assert api_rw.get("/collections/parcels/items", headers={"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 401


def test_cli_users(env):
    from typer.testing import CliRunner

    from gis_service.cli.main import app

    runner = CliRunner()
    from gis_service.ingest.demo import load_demo  # planners need a unit that exists

    r = runner.invoke(app, ["users", "add", "planner-094", "--role", "planner"])
    assert r.exit_code == 1 and "needs --unit" in r.output
    r = runner.invoke(app, ["users", "add", "investor-1", "--role", "investor", "--organisation", "Công ty A"])
    assert r.exit_code == 0
    r = runner.invoke(app, ["users", "add", "investor-1", "--role", "investor"])
    assert r.exit_code == 1 and "exists already" in r.output
    r = runner.invoke(app, ["users", "token", "investor-1", "--days", "30"])
    assert r.exit_code == 0 and r.output.startswith("lf_")
    assert "investor-1" in runner.invoke(app, ["users", "list"]).output
    assert load_demo  # imported for the reader: units come from the demo in other tests


# -- what the public never receives, channel by channel ------------------------------------------------------


@pytest.fixture(scope="module")
def secret_db(server_url, demo_template):
    """The demo with one unpublished parcel carrying a personal note, and a published one carrying one too."""
    from conftest import clone_database, db_url, drop_database

    name = clone_database(server_url, demo_template, "sec")
    url = db_url(server_url, name)
    sql(
        url,
        "UPDATE parcels SET internal_notes = %s WHERE id = (SELECT min(id) FROM parcels WHERE published)",
        [SECRET_NOTE],
    )
    sql(
        url,
        "UPDATE parcels SET internal_notes = %s WHERE id = (SELECT min(id) FROM parcels WHERE NOT published)",
        [SECRET_NOTE + " 2"],
    )
    yield url
    drop_database(server_url, name)


def test_the_public_never_receives_notes_personal_data_or_unpublished_parcels(secret_db, tmp_path):
    hidden = [r[0] for r in sql(secret_db, "SELECT code FROM parcels WHERE NOT published")]
    hidden_ids = [r[0] for r in sql(secret_db, "SELECT id FROM parcels WHERE NOT published")]
    assert hidden and len(hidden) > 10

    def clean(label, payload: bytes):
        text = payload.decode("utf-8", "replace")
        assert "Bí Mật" not in text, label
        assert "internal_notes" not in text, label
        leaked = [c for c in hidden if f'"{c}"' in text or f",{c}," in text or f">{c}<" in text]
        assert not leaked, (label, leaked[:3])

    with api_client(secret_db, tmp_path) as c:
        investor = token_for(secret_db, "investor")
        for who in ({}, {"Authorization": f"Bearer {investor}"}):

            def get(path, who=who):
                return c.get(path, headers=who)

            for path in (
                "/collections/parcels/items?limit=10000",
                "/collections/parcels/items?f=csv&limit=10000",
                "/collections/parcels/items?f=geojsonseq",
                "/collections/parcels/items?f=html&limit=10000",
                "/collections/parcels",
                "/collections/parcels/queryables",
                "/collections/parcels/schema",
                "/collections/parcels/tiles/WebMercatorQuad/tilejson.json",
                "/maps/planner",
                "/maps/investor",
                "/maps/planner?lang=en",
                "/analytics/suitability?limit=10000",
                "/api",
            ):
                r = get(path)
                assert r.status_code == 200, path
                clean(path, r.content)
            fgb = get("/collections/parcels/items?f=fgb").content
            (tmp_path / "p.fgb").write_bytes(fgb)
            import pyogrio

            frame = pyogrio.read_dataframe(tmp_path / "p.fgb")
            assert not set(frame["code"]) & set(hidden) and "internal_notes" not in frame.columns
            tms = morecantile.tms.get("WebMercatorQuad")
            for z in (8, 11):
                t = tms.tile(103.03, 21.40, z)
                tile = mapbox_vector_tile.decode(
                    get(f"/collections/parcels/tiles/WebMercatorQuad/{z}/{t.x}/{t.y}").content
                )
                feats = tile.get("parcels", {}).get("features", [])
                assert feats and not {f["properties"]["code"] for f in feats} & set(hidden)
                assert all("internal_notes" not in f["properties"] for f in feats)
            for fid in hidden_ids[:3]:  # a hidden parcel does not exist for you: 404, not 403
                for path in (
                    f"/collections/parcels/items/{fid}",
                    f"/collections/parcels/items/{fid}/history",
                    f"/maps/parcels/{fid}",
                    f"/interests/new?parcel={fid}",
                ):
                    r = get(path)
                    assert r.status_code == 404, path
                    clean(path, r.content)
            code = hidden[0]
            r = get(f"/collections/parcels/items?code={quote(code)}")  # the maps' search asks this
            assert r.json()["numberMatched"] == 0
            for path in (
                "/collections/parcels/items?filter=" + quote("internal_notes LIKE '%Bí%'"),
                "/collections/parcels/items?sortby=internal_notes",
                "/collections/parcels/items?properties=internal_notes",
                "/collections/parcels/items?internal_notes=x",
            ):
                r = get(path)
                assert r.status_code == 400, path
                clean(path, r.content.replace(b"'internal_notes'", b""))  # its own input echoed back, nothing more
            published_history = get(
                f"/collections/parcels/items/{sql(secret_db, 'SELECT min(id) FROM parcels WHERE published')[0][0]}/history"
            )
            assert published_history.status_code == 200
            clean("history", published_history.content)
        # planners do see them
        planner = token_for(secret_db, "planner", "11")
        r = c.get("/collections/parcels/items?limit=10000", headers={"Authorization": f"Bearer {planner}"})
        assert "Bí Mật" in r.text and hidden[0] in r.text
        public_cov = c.get("/analytics/coverage").json()["totals"]["parcels"]
        planner_cov = c.get("/analytics/coverage", headers={"Authorization": f"Bearer {planner}"}).json()["totals"][
            "parcels"
        ]
        assert public_cov < planner_cov  # the public's coverage counts published parcels only


def test_public_export_leaves_out_notes(secret_db, tmp_path):
    out = tmp_path / "public.geojson"
    r = subprocess.run(
        [str(Path(sys.executable).parent / "landfund"), "export", str(out), "--public"],
        env={"DATABASE_URL": secret_db, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    text = out.read_text(encoding="utf-8")
    assert "Bí Mật" not in text and "internal_notes" not in text
    assert len(json.loads(text)["features"]) == sql(secret_db, "SELECT count(*) FROM parcels WHERE published")[0][0]


# -- no lost updates --------------------------------------------------------------------------------------


def test_parallel_edits_with_one_etag_let_exactly_one_win(demo_db, tmp_path):
    server = LiveServer(demo_db, tmp_path)
    try:
        import httpx

        token = token_for(demo_db, "admin")
        fid = sql(demo_db, "SELECT id FROM parcels WHERE published ORDER BY id LIMIT 1")[0][0]
        url = f"{server.base}/collections/parcels/items/{fid}"
        tag = httpx.get(url, headers={"Authorization": f"Bearer {token}"}).headers["etag"]
        results = []
        barrier = threading.Barrier(8)

        def edit(i):
            barrier.wait()
            r = httpx.patch(
                url,
                json={"properties": {"name": f"Sửa lần {i}"}},
                timeout=30,
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/merge-patch+json",
                    "If-Match": tag,
                },
            )
            results.append(r.status_code)

        threads = [threading.Thread(target=edit, args=(i,)) for i in range(8)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert sorted(results) == [204] + [412] * 7
        assert sql(demo_db, "SELECT version FROM parcels WHERE id = %s", [fid])[0][0] == 2

        def increment(n):  # read, add one, write with If-Match; retry when someone else got there first
            done = 0
            with httpx.Client(timeout=30) as client:
                while done < n:
                    r = client.get(url, headers={"Authorization": f"Bearer {token}"})
                    count = int(r.json()["properties"]["parcel_no"] or 0)
                    w = client.patch(
                        url,
                        json={"properties": {"parcel_no": str(count + 1)}},
                        headers={
                            "Authorization": f"Bearer {token}",
                            "If-Match": r.headers["etag"],
                            "Content-Type": "application/merge-patch+json",
                        },
                    )
                    assert w.status_code in (204, 412)
                    done += w.status_code == 204

        sql(demo_db, "UPDATE parcels SET parcel_no = '0' WHERE id = %s", [fid])
        threads = [threading.Thread(target=increment, args=(5,)) for _ in range(6)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert sql(demo_db, "SELECT parcel_no FROM parcels WHERE id = %s", [fid])[0][0] == "30"
    finally:
        server.stop()


# -- hostile input ------------------------------------------------------------------------------------------

HOSTILE = [
    (
        "post",
        "/collections/parcels/items",
        b'{"type":"Feature","properties":{"code":"' + b"x" * 11_000_000 + b'"}}',
        GEOJSON,
        413,
    ),
    (
        "post",
        "/collections/parcels/items",
        b'{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[103.02,21.38],'
        b'[Infinity,21.38],[103.03,21.39],[103.02,21.38]]]},"properties":{"code":"I"}}',
        GEOJSON,
        400,
    ),
    (
        "post",
        "/collections/parcels/items",
        b'{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[103.02]]},"properties":{"code":"M"}}',
        GEOJSON,
        400,
    ),
    (
        "post",
        "/collections/parcels/items",
        b'{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[1e999,21],'
        b'[103,21],[103,22],[1e999,21]]]},"properties":{"code":"B"}}',
        GEOJSON,
        400,
    ),
    (
        "post",
        "/collections/parcels/items",
        b'{"type":"Feature","geometry":{"type":"Blob"},"properties":{"code":"T"}}',
        GEOJSON,
        400,
    ),
    ("post", "/collections/parcels/items", b"<xml/>", {"Content-Type": "application/xml"}, 415),
    ("post", "/interests", b'{"parcel_id":1}', {"Content-Type": "text/plain"}, 415),
    ("post", "/collections/parcels/items/1/transitions", b"x" * 200_000, {"Content-Type": "application/json"}, 413),
    ("get", "/collections/parcels/items?limit=99999999999999999999", None, {}, 400),
    ("get", "/collections/parcels/items?offset=99999999999999999999", None, {}, 400),
    ("get", "/collections/parcels/items?sortby=code;DROP%20TABLE%20parcels", None, {}, 400),
    ("get", "/collections/parcels/items?properties=code,(SELECT%201)", None, {}, 400),
    ("get", "/collections/parcels/items?code%3B%20DROP=1", None, {}, 400),
    ("get", "/collections/parcels/items?filter=code%3D%27x%27%3B%20DROP%20TABLE%20parcels", None, {}, 400),
    ("get", "/collections/parcels/items?filter=" + quote("1=1) OR (1=1"), None, {}, 400),
    ("get", "/collections/parcels/items?bbox=1e309,0,2,2", None, {}, 400),
    ("get", "/collections/parcels/items?bbox-crs=EPSG:9205&bbox=0,0,1e12,1e12", None, {}, 400),
    (
        "get",
        "/collections/parcels/items?filter-crs=EPSG:9205&filter=" + quote("S_INTERSECTS(geometry, POINT(1e15 1e15))"),
        None,
        {},
        400,
    ),
]


@pytest.mark.parametrize("method,path,body,headers,status", HOSTILE)
def test_hostile_input_gets_a_4xx_problem_and_writes_nothing(api_rw, method, path, body, headers, status):
    token = token_for(api_rw.db, "investor" if path.startswith("/interests") else "admin")
    before = sql(api_rw.db, "SELECT count(*), sum(version) FROM parcels")[0]
    r = getattr(api_rw, method if method != "post" else "post")(
        path, **({"content": body} if body is not None else {}), headers={**headers, **auth(token)}
    )
    assert r.status_code == status, r.text[:300]
    assert r.headers["content-type"] == "application/problem+json"
    assert sql(api_rw.db, "SELECT count(*), sum(version) FROM parcels")[0] == before


def test_too_many_vertices(api_rw):
    token = token_for(api_rw.db, "admin")
    import numpy as np
    from shapely.geometry import Polygon, mapping

    t = np.linspace(0, 2 * np.pi, 120_000, endpoint=False)
    ring = Polygon(np.column_stack([103.05 + 0.001 * np.cos(t), 21.35 + 0.001 * np.sin(t)]))  # 120,001 vertices
    r = api_rw.post(
        "/collections/parcels/items",
        json={"type": "Feature", "geometry": mapping(ring), "properties": {"code": "MANY"}},
        headers=auth(token, **GEOJSON),
    )
    assert r.status_code == 400 and "at most 5,000 are allowed" in r.json()["detail"]


# -- HTML hardening, CORS, logs --------------------------------------------------------------------------------


def test_html_pages_carry_a_content_security_policy(api):
    """Scripts: the service's own files, and inline ones only with the response's nonce (a fresh one each time),
    so an injected <script> would not run; no eval anywhere."""
    import re

    nonces = set()
    for path in (
        "/maps/planner",
        "/maps/investor",
        "/collections/parcels/items?f=html",
        "/api.html",
        "/collections?f=html",
    ):
        r = api.get(path)
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "object-src 'none'" in csp and "frame-ancestors 'self'" in csp
        assert "unsafe-eval" not in csp and "sha256" not in csp and "'unsafe-inline'" not in csp.split("style-src")[0]
        nonce = re.search(r"script-src 'self' 'nonce-([A-Za-z0-9_-]{20,})'", csp).group(1)
        nonces.add(nonce)
        for tag in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", r.text):  # inline scripts: nonced, or data
            assert f'nonce="{nonce}"' in tag or 'type="application/json"' in tag, (path, tag)
        assert "img-src 'self' data: https://tile.openstreetmap.org" in csp  # the default basemap
    assert len(nonces) == 5  # one per response
    assert "content-security-policy" not in api.get("/collections").headers  # JSON needs none
    page = api.get("/collections/parcels/items?f=html").text
    assert not re.findall(r"<script(?![^>]*\b(?:src|type)=)[^>]*>", page)  # data pages: no inline script at all


def test_cors_is_configurable(demo_ro, tmp_path):
    with api_client(demo_ro, tmp_path / "a") as plain:
        r = plain.get("/collections", headers={"Origin": "https://gis.example.vn"})
        assert "access-control-allow-origin" not in r.headers
    with api_client(demo_ro, tmp_path / "b", cors_origins=["https://gis.example.vn"]) as cors:
        r = cors.options(
            "/collections/parcels/items",
            headers={"Origin": "https://gis.example.vn", "Access-Control-Request-Method": "GET"},
        )
        assert r.headers["access-control-allow-origin"] == "https://gis.example.vn"
        r = cors.get("/collections", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers


def test_no_tokens_or_secrets_in_logs(api_rw, caplog):
    token = token_for(api_rw.db, "admin")
    with caplog.at_level(logging.DEBUG):
        api_rw.post("/collections/parcels/items", json=feature("LOG-1"), headers=auth(token, **GEOJSON))
        api_rw.get("/collections/parcels/items?limit=1", headers=auth(token))
        api_rw.get("/collections/parcels/items?limit=1", headers=auth(token + "x"))
        api_rw.get("/health")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert token not in text and token[:12] not in text
    password_like = [r for r in caplog.records if "password" in r.getMessage().lower()]
    assert not password_like


# -- schemathesis ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["anonymous", "planner", "admin"])
def test_schemathesis_finds_no_server_error_and_no_schema_violation(demo_db, tmp_path, who):
    """Property-based fuzzing of every operation in the OpenAPI document, anonymously, as a commune planner and as an
    admin (so writes are reached). The 'coverage' phase is left out: with this Python (3.11.7) it crashes inside
    hypothesis' source parser."""
    server = LiveServer(demo_db, tmp_path)
    try:
        headers = []
        if who != "anonymous":
            unit = sql(demo_db, "SELECT code FROM admin_units WHERE level = 'commune' ORDER BY code LIMIT 1")[0][0]
            headers = ["-H", f"Authorization: Bearer {token_for(demo_db, who, unit if who == 'planner' else None)}"]
        st = Path(sys.executable).parent / "st"
        r = subprocess.run(
            [
                str(st),
                "run",
                f"{server.base}/api",
                "--checks",
                "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
                "--phases",
                "examples,fuzzing",
                "--max-time",
                "40",
                "-w",
                "2",
                "--seed",
                "20261126",
                *headers,
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=400,
        )
        tail = r.stdout[-3000:]
        assert r.returncode == 0, tail
        assert "passed" in tail and "Server error" not in tail
    finally:
        server.stop()
