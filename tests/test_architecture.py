"""The shape the code keeps: a newcomer adds a layer by adding files, map definitions are checked against the
catalogue (file and line), history records every parcel column, and SQL lives in stores and migrations only."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import yaml
from conftest import REPO, api_client, app_url, token_for

from gis_service.core.config import Settings
from gis_service.core.db import libpq_dsn

LANDFUND = str(Path(sys.executable).parent / "landfund")


def sql(url, q, params=None):
    with psycopg.connect(libpq_dsn(url)) as c:
        cur = c.execute(q, params)
        return cur.fetchall() if cur.description else []


@pytest.fixture
def newcomer_dirs(tmp_path):
    """Copies of layers/ and maps/ a newcomer edits."""
    s = Settings()
    layers, maps = tmp_path / "layers", tmp_path / "maps"
    shutil.copytree(s.layers_dir, layers)
    shutil.copytree(s.maps_dir, maps)
    return layers, maps


def test_a_newcomer_adds_a_hazard_layer_with_its_own_legend_by_adding_files(demo_db, newcomer_dirs, tmp_path):
    layers, maps = newcomer_dirs
    site_id, x, y = sql(
        demo_db,
        "SELECT id, ST_X(pos), ST_Y(pos) FROM parcels WHERE published AND status = "
        "'call_published' AND intersecting_hazards(geom) IS NULL ORDER BY id LIMIT 1",
    )[0]
    # 1. a catalogue entry with its role and style, and its file
    (layers / "catalogue" / "sinkholes.yaml").write_text(
        yaml.safe_dump(
            {
                "id": "sinkholes",
                "storage": "reference",
                "geometry_type": "MultiPolygon",
                "role": "hazard",
                "title": {"vi": "Vùng sụt lún karst", "en": "Karst subsidence zones"},
                "source": "demo/sinkholes.geojson",
                "attributes": [
                    {"name": "name", "type": "string", "title": {"vi": "Tên vùng", "en": "Name"}},
                    {
                        "name": "hazard",
                        "type": "string",
                        "required": True,
                        "title": {"vi": "Loại", "en": "Hazard"},
                        "values": {"subsidence": {"vi": "Sụt lún", "en": "Subsidence", "color": "#795548"}},
                    },
                    {
                        "name": "severity",
                        "type": "string",
                        "default": "high",
                        "title": {"vi": "Mức độ", "en": "Severity"},
                        "values": {"medium": {"vi": "Trung bình", "en": "Medium"}, "high": {"vi": "Cao", "en": "High"}},
                    },
                ],
                "style": {"by": "hazard", "fill_opacity": 0.3, "weight": 1},
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    d = 0.01
    (layers / "demo" / "sinkholes.geojson").write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"name": "Vùng sụt lún Thẩm Púa", "hazard": "subsidence"},
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [
                                [[x - d, y - d], [x + d, y - d], [x + d, y + d], [x - d, y + d], [x - d, y - d]]
                            ],
                        },
                    }
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    # 2. the layer on the planner map, with its legend
    planner = yaml.safe_load((maps / "planner.yaml").read_text(encoding="utf-8"))
    planner["layers"].append(
        {
            "id": "sinkholes",
            "kind": "reference",
            "collection": "sinkholes",
            "legend": True,
            "tooltip": ["name", "hazard", "severity"],
            "show": True,
        }
    )
    (maps / "planner.yaml").write_text(yaml.safe_dump(planner, allow_unicode=True), encoding="utf-8")
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": app_url(demo_db),
        "LANDFUND_HOME": str(tmp_path),
        "LANDFUND_LAYERS_DIR": str(layers),
        "LANDFUND_MAPS_DIR": str(maps),
    }
    assert subprocess.run([LANDFUND, "check"], env=env, capture_output=True, text=True).returncode == 0
    r = subprocess.run(
        [LANDFUND, "import", str(layers / "demo" / "sinkholes.geojson"), "--layer", "sinkholes"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    # 3. it is a collection, it counts as a hazard for the investor, and the planner map shows it with its legend
    with api_client(demo_db, tmp_path / "home", layers_dir=layers, maps_dir=maps) as c:
        assert "sinkholes" in [col["id"] for col in c.get("/collections").json()["collections"]]
        sites = c.get("/analytics/suitability?limit=1000").json()["sites"]
        site = next(s for s in sites if s["id"] == site_id)
        assert site["hazards"] == [{"hazard": "subsidence", "severity": "high", "name": "Vùng sụt lún Thẩm Púa"}]
        assert site["hazard_penalty"] > 0
        page = c.get("/maps/planner").text
    spec = json.loads(re.search(r'id="lf-map-spec">(.*?)</script>', page, re.S).group(1))
    layer = next(la for la in spec["layers"] if la["id"] == "sinkholes")
    assert layer["name"] == "Vùng sụt lún karst" and layer["legend"]["items"] == [["#795548", "Sụt lún"]]
    assert layer["data"]["features"][0]["properties"]["name"] == "Vùng sụt lún Thẩm Púa"


@pytest.mark.parametrize(
    "edit,message",
    [
        (
            lambda m: m["layers"][1].update(collection="parcles"),
            "planner.yaml:{line}: layers[1].collection: unknown collection 'parcles'",
        ),
        (lambda m: m["layers"][0].pop("title"), "planner.yaml:{line}: layers[0]: a coverage layer needs a title"),
        (
            lambda m: m["layers"][1]["tooltip"].append("areaha"),
            "layers[1].tooltip[4]: unknown field 'areaha' of parcels",
        ),
        (lambda m: m["layers"][1]["style"].update(by="nonsense"), "layers[1].style.by: 'nonsense' is not a field"),
        (lambda m: m.update(controls=["search", "compass"]), "controls[1]: Input should be"),
    ],
)
def test_a_mistake_in_a_map_definition_names_its_file_and_line(newcomer_dirs, tmp_path, edit, message):
    layers, maps = newcomer_dirs
    planner = yaml.safe_load((maps / "planner.yaml").read_text(encoding="utf-8"))
    edit(planner)
    text = yaml.safe_dump(planner, allow_unicode=True, sort_keys=False)
    (maps / "planner.yaml").write_text(text, encoding="utf-8")
    env = {
        "PATH": "/usr/bin:/bin",
        "LANDFUND_HOME": str(tmp_path),
        "LANDFUND_LAYERS_DIR": str(layers),
        "LANDFUND_MAPS_DIR": str(maps),
    }
    r = subprocess.run([LANDFUND, "check"], env=env, capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    got = " ".join(r.stderr.split())
    if "{line}" in message:
        lines = text.splitlines()
        key = "collection: parcles" if "parcles" in message else "- id: coverage"
        line = next(i for i, t in enumerate(lines, 1) if key in t)
        message = message.format(line=line)
    assert message in got, got
    from gis_service.api.app import create_app
    from gis_service.core.errors import LandfundError

    with pytest.raises(LandfundError, match="map definitions have mistakes"):  # and the service does not start
        create_app(Settings(database_url="postgresql://x@127.0.0.1:1/x", layers_dir=layers, maps_dir=maps))


def test_history_records_every_parcel_column(api_rw):
    """A parcel written with every field set: its history entry names each stored column (but the derived and
    bookkeeping ones), so a column added to parcels without adding it to the history triggers fails here."""
    admin = token_for(api_rw.db, "admin")
    from test_api_write import GEOJSON, auth, feature

    props = {
        "name": "Khu A",
        "map_sheet_no": "12",
        "parcel_no": "34",
        "fund_source": "public_land",
        "responsible_level": "commune",
        "responsible_agency": "UBND xã",
        "clearance_status": "in_progress",
        "max_far": 2.5,
        "max_density": 40.0,
        "max_floors": 9,
        "decision_no": "1/QĐ",
        "decision_date": "2026-01-02",
        "legal_area_m2": 1600.0,
        "internal_notes": "ghi chú",
        "approved_units": 20,
        "approved_floor_m2": 1000.0,
        "investor_name": "Công ty A",
        "selection_method": "bidding",
        "clearance_households": 3,
        "clearance_cost_vnd": 1_200_000_000,
        "tenure": "rent",
        "reserve_payment_vnd": 5_000_000,
        "reserve_replaced_by": "NOXH-X",
    }
    # the former commune whose successor holds the parcel (any other is refused)
    place = feature("ALL-COLUMNS", **props)
    props["former_commune_code"] = sql(
        api_rw.db,
        "SELECT f.former_code FROM former_units f JOIN admin_units a ON a.code = f.successor_code "
        "WHERE ST_Intersects(a.geom, ST_PointOnSurface(ST_GeomFromGeoJSON(%s))) ORDER BY 1 LIMIT 1",
        [json.dumps(place["geometry"])],
    )[0][0]
    r = api_rw.post("/collections/parcels/items", json=feature("ALL-COLUMNS", **props), headers=auth(admin, **GEOJSON))
    assert r.status_code == 201, r.text
    changes = api_rw.get(f"{r.headers['location']}/history", headers=auth(admin)).json()["entries"][0]["changes"]
    columns = {
        c
        for (c,) in sql(
            api_rw.db,
            "SELECT column_name FROM information_schema.columns WHERE table_name = "
            "'parcels' AND table_schema = 'public'",
        )
    }
    derived = {"id", "geom", "area_m2", "pos", "created_at", "updated_at", "version", "investor_interest_id"}
    assert columns - derived - set(changes) == set(), "history does not record these columns"


SQL = re.compile(
    r"\b(SELECT\s+[\w*(]|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX)|ALTER\s+TABLE)"
)


def test_sql_lives_in_stores_and_migrations_only():
    allowed = {"stores", "migrations"}
    allowed_files = {"core/bootstrap.py", "core/embedded.py"}  # the superuser's bootstrap (roles, database, PostGIS)
    offenders = []
    for path in sorted((REPO / "gis_service").rglob("*.py")):
        rel = path.relative_to(REPO / "gis_service").as_posix()
        if rel.split("/")[0] in allowed or rel in allowed_files:
            continue
        code = "\n".join(
            line for line in path.read_text(encoding="utf-8").splitlines() if not line.strip().startswith("#")
        )
        code = re.sub(r'"""[\s\S]*?"""', "", code)  # docstrings may speak of SQL
        if SQL.search(code):
            offenders.append(rel)
    assert offenders == []
