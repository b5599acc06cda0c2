"""The 129 communes before 1 July 2025 and the merge table: checked against the maintained list (the PyPI package
vietnamadminunits, read here on its own), an old address (former commune, map sheet, parcel number) that still finds
its parcel after the merger, a former commune that must have become the unit holding the parcel, and the demo's
communes drawn in the former district they came from."""

from __future__ import annotations

import collections
import json
import sys
from importlib import resources

import psycopg
from conftest import REPO, token_for
from helpers import CHECK_E
from test_api_write import GEOJSON, auth, feature

from gis_service.core.db import libpq_dsn


def sql(url, q, params=None):
    with psycopg.connect(libpq_dsn(url)) as c:
        return c.execute(q, params).fetchall()


def package_merge() -> dict[str, str]:
    """Former GSO code → successor GSO code, as the package states it: its merge table (converter_2025.json, by
    unit keys), each key turned into its GSO code by the package's own parser (legacy units, and units from 2025)."""
    from vietnamadminunits import ParseMode, parse_address

    def code(keys: list[str], mode) -> str:
        return parse_address(", ".join(reversed(keys)), mode=mode).ward_code

    data = resources.files("vietnamadminunits") / "data"
    merge = json.loads((data / "converter_2025.json").read_text(encoding="utf-8"))
    return {
        code(old.split("_"), ParseMode.LEGACY): code(["tinhdienbien", key], ParseMode.FROM_2025)
        for key, olds in merge["DICT_PROVINCE_WARD_NO_DIVIDED"]["tinhdienbien"].items()
        for old in olds
    }


def test_the_merge_table_is_the_official_one(demo_ro):
    stored = dict(sql(demo_ro, "SELECT former_code, successor_code FROM former_units"))
    assert stored == package_merge() and len(stored) == 129
    communes = {c for (c,) in sql(demo_ro, "SELECT code FROM admin_units WHERE level = 'commune' AND valid_to IS NULL")}
    assert set(stored.values()) == communes and len(communes) == 45  # 129 became 45, each from at least one
    assert sql(demo_ro, "SELECT DISTINCT valid_to::text FROM former_units") == [("2025-06-30",)]
    districts = {d for (d,) in sql(demo_ro, "SELECT former_district_code FROM former_units")}
    assert districts == {c for (c,) in sql(demo_ro, "SELECT code FROM admin_units WHERE level = 'district'")}


def test_the_demo_draws_each_commune_in_the_former_district_it_came_from(demo_ro):
    sys.path.insert(0, str(REPO / "scripts"))
    from demo_geo import COMMUNES

    came = collections.defaultdict(collections.Counter)
    for _former, district, successor in sql(
        demo_ro, "SELECT former_code, former_district_code, successor_code FROM former_units"
    ):
        came[successor][district] += 1
    for district, members in COMMUNES.items():
        for code, name, _ in members:
            most = max(came[code].values())
            assert came[code][district] == most, (code, name, district, dict(came[code]))
    # Mường Chà (03166) came from the former Nậm Pồ; the former Mường Chà township became Na Sang
    assert dict(came["03166"]) == {"103": 4}


def test_each_former_commune_is_drawn_in_the_unit_it_became_and_in_its_own_district(demo_ro):
    """The 129 former communes are units valid until 30 June 2025: each lies in the commune or ward it became (by the
    merge table) and in its own former district, the former communes of a new unit cover it, and each demo parcel's
    former commune is the one that holds it."""
    wrong = sql(
        demo_ro,
        """SELECT f.former_code, f.successor_code, f.former_district_code FROM former_units f
           JOIN admin_units o ON o.code = f.former_code AND o.valid_to = '2025-06-30' AND o.level = 'commune'
           JOIN admin_units n ON n.code = f.successor_code AND n.valid_to IS NULL AND n.level = 'commune'
           JOIN admin_units d ON d.code = f.former_district_code AND d.level = 'district'
           WHERE o.parent_code IS DISTINCT FROM f.former_district_code
              OR o.name <> regexp_replace(f.former_name, '^(Phường|Thị trấn|Xã) ', '')
              -- planar, in square degrees (1e-7 is about 1,000 m² here): a sliver's geodesic area would mostly
              -- measure how its long edges bend between the two outlines' different vertices
              OR ST_Area(ST_Difference(o.geom, n.geom)) > 1e-7
              OR ST_Area(ST_Difference(o.geom, d.geom)) > 1e-7""",
    )
    assert wrong == []
    assert sql(demo_ro, "SELECT count(*) FROM admin_units WHERE valid_to = '2025-06-30' AND level = 'commune'") == [
        (129,)
    ]
    uncovered = sql(
        demo_ro,
        """SELECT n.code FROM admin_units n WHERE n.level = 'commune' AND n.valid_to IS NULL
             AND ST_Area(ST_SymDifference(n.geom, (SELECT ST_Union(o.geom) FROM admin_units o
                 JOIN former_units f ON f.former_code = o.code AND o.valid_to = '2025-06-30' AND o.level = 'commune'
                 WHERE f.successor_code = n.code))) > 1e-5 * ST_Area(n.geom)""",
    )
    assert uncovered == []
    misplaced = sql(
        demo_ro,
        """SELECT p.code FROM parcels p JOIN admin_units o ON o.code = p.former_commune_code
             AND o.level = 'commune' AND o.valid_to = '2025-06-30'
           WHERE NOT ST_Intersects(o.geom, p.pos)""",
    )
    assert misplaced == [] and sql(demo_ro, "SELECT count(*) FROM parcels WHERE former_commune_code IS NOT NULL")[0][0]


def test_an_old_address_still_finds_its_parcel(api, demo_ro):
    fid, code, former, sheet, no, successor = sql(
        demo_ro,
        "SELECT p.id, p.code, p.former_commune_code, p.map_sheet_no, p.parcel_no, f.successor_code FROM parcels p "
        "JOIN former_units f ON f.former_code = p.former_commune_code WHERE p.published ORDER BY p.id LIMIT 1",
    )[0]
    page = api.get(f"/parcels?former={former}&q={sheet}/{no}").text
    assert f">{code}<" in page and "1 khu đất" in page
    # its page says its unit comes from a schematic boundary (the demo's are)
    parcel_page = api.get(f"/parcels/{fid}").text
    assert "được xác định theo ranh giới minh họa, không phải ranh giới pháp lý" in parcel_page
    former_name = sql(demo_ro, "SELECT former_name FROM former_units WHERE former_code = %s", [former])[0][0]
    assert f"{former} – {former_name}" in parcel_page  # the old commune by the name planners still use
    assert "Xã cũ (trước 01/7/2025)" in page and f'value="{former}" selected' in page
    # another former commune of the same new one: the sheet numbers are its own, so not this parcel
    other = sql(
        demo_ro,
        "SELECT former_code FROM former_units WHERE successor_code = %s AND former_code <> %s LIMIT 1",
        [successor, former],
    )
    if other:
        assert f">{code}<" not in api.get(f"/parcels?former={other[0][0]}&q={sheet}/{no}").text
    # the API's queryable too (what QGIS and GDAL filter on)
    items = api.get(f"/collections/parcels/items?former_commune_code={former}&limit=100").json()["features"]
    assert fid in {f["id"] for f in items}


def test_a_parcel_without_its_former_commune_is_found_through_the_unit_it_lies_in(api_rw):
    admin = token_for(api_rw.db, "admin")
    r = api_rw.post(
        "/collections/parcels/items",
        json=feature("OLD-1", map_sheet_no="41", parcel_no="212"),
        headers=auth(admin, **GEOJSON),
    )
    assert r.status_code == 201, r.text
    unit = sql(api_rw.db, "SELECT admin_unit_code FROM parcels WHERE code = 'OLD-1'")[0][0]
    formers = [f for (f,) in sql(api_rw.db, "SELECT former_code FROM former_units WHERE successor_code = %s", [unit])]
    elsewhere = sql(api_rw.db, "SELECT former_code FROM former_units WHERE successor_code <> %s LIMIT 1", [unit])[0][0]
    for former in formers:
        got = api_rw.get(f"/parcels?former={former}&q=41/212", headers=auth(admin)).text
        assert ">OLD-1<" in got
    assert ">OLD-1<" not in api_rw.get(f"/parcels?former={elsewhere}&q=41/212", headers=auth(admin)).text


def test_a_former_commune_must_have_become_the_unit_that_holds_the_parcel(api_rw):
    admin = token_for(api_rw.db, "admin")
    before = sql(api_rw.db, "SELECT count(*) FROM parcels")[0][0]
    place = feature("OLD-2", e=CHECK_E + 3300)
    unit = sql(
        api_rw.db,
        "SELECT code FROM admin_units WHERE level = 'commune' AND valid_to IS NULL "
        "AND ST_Intersects(geom, ST_PointOnSurface(ST_GeomFromGeoJSON(%s)))",
        [json.dumps(place["geometry"])],
    )[0][0]

    def post(former: str):
        body = {**place, "properties": {**place["properties"], "former_commune_code": former}}
        return api_rw.post("/collections/parcels/items", json=body, headers=auth(admin, **GEOJSON))

    r = post("99999")
    assert r.status_code == 400 and "unknown former commune '99999'" in r.json()["detail"]
    wrong, name, successor = sql(
        api_rw.db,
        "SELECT former_code, former_name, successor_code FROM former_units WHERE successor_code <> %s "
        "ORDER BY former_code LIMIT 1",
        [unit],
    )[0]
    r = post(wrong)
    detail = r.json()["detail"]
    assert r.status_code == 400 and f"former commune {wrong} ({name}) became {successor}" in detail
    assert f"does not hold this parcel; by its location it is in {unit}" in detail
    assert sql(api_rw.db, "SELECT count(*) FROM parcels")[0][0] == before  # nothing was written
    own = sql(api_rw.db, "SELECT former_code FROM former_units WHERE successor_code = %s LIMIT 1", [unit])[0][0]
    assert post(own).status_code == 201


def test_a_report_before_the_reform_shows_the_former_communes(api, demo_ro):
    """Coverage as of 30 June 2025 by commune lists the 129 former communes with the names planners knew, and their
    parcels add up to the districts' of that day; a day later, the 45 new units."""
    before = api.get("/analytics/coverage?as_of=2025-06-30&level=commune").json()
    names = dict(sql(demo_ro, "SELECT former_code, former_name FROM former_units"))
    got = {u["code"]: u for u in before["units"]}
    assert set(got) == set(names) and len(got) == 129
    assert got["03130"]["name"] == "Thanh Bình" and names["03130"] == "Phường Thanh Bình"
    districts = api.get("/analytics/coverage?as_of=2025-06-30&level=district").json()
    assert sum(u["parcels"] for u in before["units"]) == sum(u["parcels"] for u in districts["units"]) > 0
    after = api.get("/analytics/coverage?as_of=2025-07-01&level=commune").json()
    successors = {c for (c,) in sql(demo_ro, "SELECT DISTINCT successor_code FROM former_units")}
    assert {u["code"] for u in after["units"]} == successors and len(successors) == 45
