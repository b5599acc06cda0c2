"""Editing from QGIS 3.32+ (OGC API - Features Part 4), replayed byte for byte on a live server.

QGIS 3.22 (the Debian package the other tests drive) cannot edit an OGC API layer; 3.32 and later can. The
requests below are the ones its OAPIF provider builds (src/providers/wfs/oapif/ in the QGIS sources):
- qgsoapifprovider.cpp, computeCapabilities: OPTIONS on …/items (POST → add features), then OPTIONS on
  …/items/{id of the first feature} (PUT → change attributes and geometries, DELETE → delete, PATCH → use PATCH);
- qgsoapifcreatefeaturerequest.cpp: POST …/items, application/geo+json, the feature from QgsJsonExporter (without
  "id" and "bbox") as nlohmann::json dumps it (keys sorted, no spaces); the new id is read from Location;
- qgsoapifpatchfeaturerequest.cpp: PATCH …/items/{id}, application/merge-patch+json, {"properties": {…}} for an
  attribute change and {"geometry": …} for a geometry change, no If-Match;
- qgsoapifputfeaturerequest.cpp: PUT …/items/{id}, application/geo+json, the whole feature with "id" as a string,
  no If-Match (used when the server offers no PATCH);
- qgsoapifdeletefeaturerequest.cpp: DELETE …/items/{id}.
Credentials go as HTTP Basic (QgsAuthorizationSettings); the other headers are those Qt's network access manager
adds to every request.

QGIS never sends If-Match. The server accepts such writes only from users an admin marked as desktop editors,
checks each against the version that user last read, and marks the history entry as unconditional."""

from __future__ import annotations

import base64
import json
import socket
from http.client import HTTPResponse

import psycopg
from conftest import PASSWORD, LiveServer, app_url, token_for, user_for

from gis_service.core.db import libpq_dsn

QT_HEADERS = (
    b"Connection: Keep-Alive\r\n"
    b"Accept-Encoding: gzip, deflate\r\n"
    b"Accept-Language: en-US,*\r\n"
    b"User-Agent: Mozilla/5.0 QGIS/33400/Debian GNU/Linux 12 (bookworm)\r\n"
)


def qgis_json(obj) -> bytes:
    """JSON as nlohmann::json::dump() writes it: object keys in sorted order, no spaces."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Qgis:
    """Sends requests as QGIS's OAPIF provider does, as raw bytes on one keep-alive connection."""

    def __init__(self, server: LiveServer, user: str, password: str = PASSWORD):
        self.host = f"127.0.0.1:{server.port}".encode()
        self.auth = b"Basic " + base64.b64encode(f"{user}:{password}".encode())
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)

    def send(self, method: str, path: str, content_type: str | None = None, body: bytes = b"") -> HTTPResponse:
        head = f"{method} {path} HTTP/1.1\r\nHost: ".encode() + self.host + b"\r\n"
        if content_type:
            head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n".encode()
        head += b"Authorization: " + self.auth + b"\r\n" + QT_HEADERS + b"\r\n"
        self.sock.sendall(head + body)
        r = HTTPResponse(self.sock, method=method)
        r.begin()
        r.body = r.read()  # type: ignore[attr-defined]
        return r

    def close(self):
        self.sock.close()


def sql(url: str, query: str, params=None) -> list:
    with psycopg.connect(libpq_dsn(url), autocommit=True) as c:
        return c.execute(query, params).fetchall()


def desktop_editor(url: str, unit: str = "11") -> str:
    from gis_service.services import users

    name = user_for(url, "planner", unit)
    with psycopg.connect(libpq_dsn(url), autocommit=True) as c:
        users.set_desktop_editor(c, name, True)
    return name


ITEMS = "/collections/parcels/items"


def test_qgis_edits_through_part4_with_history_and_no_lost_update(demo_db, tmp_path):
    server = LiveServer(demo_db, tmp_path)
    editor = desktop_editor(demo_db)
    qgis = Qgis(server, editor)
    try:
        # QGIS loads the layer: its first page, then asks what it may do
        page = qgis.send("GET", ITEMS + "?limit=1000")
        assert page.status == 200
        features = json.loads(page.body)["features"]
        first = features[0]["id"]
        allow = qgis.send("OPTIONS", ITEMS)
        assert allow.status == 204 and "POST" in allow.getheader("Allow").split(", ")
        allow = qgis.send("OPTIONS", f"{ITEMS}/{first}")
        assert {"PUT", "PATCH", "DELETE"} <= set(allow.getheader("Allow").split(", "))

        # a new feature, as QgsJsonExporter writes it: every field QGIS holds, unset ones null, no id, no bbox
        fields = list(features[0]["properties"])
        props = dict.fromkeys(fields)
        props.update(code="NOXH-QGIS-001", name='Khu "mới" <b>QGIS</b> {{ x }}', land_use_code="ODT")
        square = [
            [[103.0152, 21.3921], [103.0162, 21.3921], [103.0162, 21.3929], [103.0152, 21.3929], [103.0152, 21.3921]]
        ]
        created = qgis.send(
            "POST",
            ITEMS,
            "application/geo+json",
            qgis_json(
                {"geometry": {"coordinates": [square], "type": "MultiPolygon"}, "properties": props, "type": "Feature"}
            ),
        )
        assert created.status == 201, created.body
        location = created.getheader("Location")
        new_id = int(location[location.rindex("/items/") + len("/items/") :])  # as QGIS reads it
        back = qgis.send("GET", f"{ITEMS}/{new_id}")  # QGIS refreshes the feature it added
        assert json.loads(back.body)["properties"]["name"] == 'Khu "mới" <b>QGIS</b> {{ x }}'

        # an attribute change, then a geometry change: merge patches without If-Match
        target = features[1]["id"]
        r = qgis.send(
            "PATCH",
            f"{ITEMS}/{target}",
            "application/merge-patch+json",
            qgis_json({"properties": {"name": "Sửa từ QGIS"}}),
        )
        assert r.status == 204 and r.body == b"", r.body
        moved = [
            [[[x + 0.00001, y] for x, y in ring] for ring in poly] for poly in features[1]["geometry"]["coordinates"]
        ]
        r = qgis.send(
            "PATCH",
            f"{ITEMS}/{target}",
            "application/merge-patch+json",
            qgis_json({"geometry": {"coordinates": moved, "type": "MultiPolygon"}}),
        )
        assert r.status == 204, r.body

        # a whole-feature PUT (QGIS without PATCH): "id" as a string, every property including computed ones
        other = features[2]
        put_props = {**other["properties"], "responsible_agency": "UBND phường (QGIS)"}
        r = qgis.send(
            "PUT",
            f"{ITEMS}/{other['id']}",
            "application/geo+json",
            qgis_json(
                {"geometry": other["geometry"], "id": str(other["id"]), "properties": put_props, "type": "Feature"}
            ),
        )
        assert r.status == 204, r.body

        # someone else changes a parcel in the web workspace (with its ETag) after QGIS read it:
        # QGIS's write is refused, and nothing is written
        victim = features[3]["id"]
        web = token_for(demo_db, "planner", "11")
        import httpx

        with httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {web}"}) as h:
            tag = h.get(f"{ITEMS}/{victim}").headers["etag"]
            ok = h.patch(
                f"{ITEMS}/{victim}",
                content=b'{"properties": {"name": "web edit"}}',
                headers={"Content-Type": "application/merge-patch+json", "If-Match": tag},
            )
            assert ok.status_code == 204
        before = sql(demo_db, "SELECT name, version FROM parcels WHERE id = %s", [victim])
        r = qgis.send(
            "PATCH", f"{ITEMS}/{victim}", "application/merge-patch+json", qgis_json({"properties": {"name": "lost"}})
        )
        assert r.status == 412 and r.getheader("Content-Type") == "application/problem+json"
        assert "changed after" in json.loads(r.body)["detail"] and "reload the layer" in json.loads(r.body)["detail"]
        assert sql(demo_db, "SELECT name, version FROM parcels WHERE id = %s", [victim]) == before
        # after reloading the layer, the same edit goes through
        assert qgis.send("GET", f"{ITEMS}/{victim}").status == 200
        r = qgis.send(
            "PATCH",
            f"{ITEMS}/{victim}",
            "application/merge-patch+json",
            qgis_json({"properties": {"name": "after reload"}}),
        )
        assert r.status == 204

        # delete the feature QGIS added
        r = qgis.send("DELETE", f"{ITEMS}/{new_id}")
        assert r.status == 204
        assert qgis.send("GET", f"{ITEMS}/{new_id}").status == 404
    finally:
        qgis.close()
        server.stop()

    rows = sql(
        demo_db,
        "SELECT parcel_id, action, actor, unconditional, changes ? 'name', geometry_changed FROM parcel_history "
        "WHERE actor <> 'demo' ORDER BY id",
    )
    ours = [(pid, action, uncond) for pid, action, actor, uncond, *_ in rows if actor == editor]
    assert ours == [
        (new_id, "insert", False),  # a POST needs no precondition
        (target, "update", True),
        (target, "update", True),
        (other["id"], "update", True),
        (victim, "update", True),
        (new_id, "delete", True),
    ]
    assert [r[5] for r in rows if r[0] == target] == [False, True]  # the attribute, then the boundary
    web_entry = [r for r in rows if r[0] == victim and r[2] != editor]
    assert len(web_entry) == 1 and web_entry[0][3] is False
    assert sql(demo_db, "SELECT name FROM parcels WHERE id = %s", [victim]) == [("after reload",)]
    agency = sql(demo_db, "SELECT responsible_agency, status FROM parcels WHERE id = %s", [other["id"]])
    assert agency == [("UBND phường (QGIS)", other["properties"]["status"])]


def test_without_if_match_only_desktop_editors_and_only_for_what_they_read(demo_db, tmp_path):
    server = LiveServer(demo_db, tmp_path)
    plain = user_for(demo_db, "planner", "11")
    editor = desktop_editor(demo_db)
    patch = qgis_json({"properties": {"name": "x"}})
    try:
        q = Qgis(server, plain)
        q.send("GET", ITEMS + "?limit=5")
        r = q.send("PATCH", f"{ITEMS}/1", "application/merge-patch+json", patch)
        assert r.status == 428 and "If-Match" in json.loads(r.body)["detail"]
        q.close()
        q = Qgis(server, editor)
        r = q.send("PATCH", f"{ITEMS}/1", "application/merge-patch+json", patch)  # never read it
        assert r.status == 428 and "was not read by" in json.loads(r.body)["detail"]
        assert q.send("DELETE", f"{ITEMS}/1").status == 428
        q.close()
        # an editor confined to a commune may read the whole province but not write outside their unit
        ward = desktop_editor(demo_db, "03127")
        q = Qgis(server, ward)
        outside = sql(
            demo_db, "SELECT id FROM parcels WHERE admin_unit_code <> '03127' AND published ORDER BY id LIMIT 1"
        )[0][0]
        q.send("GET", f"{ITEMS}/{outside}")
        assert q.send("PATCH", f"{ITEMS}/{outside}", "application/merge-patch+json", patch).status == 403
        q.close()
    finally:
        server.stop()
    assert sql(demo_db, "SELECT count(*) FROM parcel_history WHERE actor <> 'demo'") == [(0,)]


def test_desktop_editor_mark_from_the_cli(demo_db, tmp_path):
    import os
    import subprocess
    import sys

    name = user_for(demo_db, "planner", "11")
    investor = user_for(demo_db, "investor")
    env = {**os.environ, "DATABASE_URL": app_url(demo_db), "LANDFUND_HOME": str(tmp_path)}
    cli = [sys.executable, "-m", "gis_service.cli.main", "users"]
    r = subprocess.run([*cli, "set", name, "--desktop-editor"], env=env, capture_output=True, text=True)
    assert r.returncode == 0 and "may now edit from QGIS" in r.stdout, r.stderr
    listed = subprocess.run([*cli, "list"], env=env, capture_output=True, text=True).stdout
    assert any(line.startswith(name) and "(desktop editor)" in line for line in listed.splitlines())
    r = subprocess.run([*cli, "set", investor, "--desktop-editor"], env=env, capture_output=True, text=True)
    assert r.returncode == 1 and "only planners and admins edit" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([*cli, "set", name, "--no-desktop-editor"], env=env, capture_output=True, text=True)
    assert r.returncode == 0
    assert sql(demo_db, "SELECT desktop_editor FROM users WHERE name = %s", [name]) == [(False,)]
