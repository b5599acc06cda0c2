"""`landfund boundaries`: the province's legal boundaries (as a province's dataset comes: a GeoPackage in VN-2000
with Vietnamese column names) in place of the schematic ones, all or nothing; the parcels now in another commune
are listed, and reassigned on request, in their history."""

from __future__ import annotations

import geopandas as gpd
import psycopg
import shapely
from typer.testing import CliRunner

from gis_service.cli.main import app
from gis_service.core.db import libpq_dsn

runner = CliRunner()
MAP = ["--map", "MaXa=code", "--map", "TenXa=name"]


def sql(url, q, params=None):
    with psycopg.connect(libpq_dsn(url)) as c:
        return c.execute(q, params).fetchall()


def test_the_legal_boundaries_replace_the_schematic_ones(env, tmp_path):
    assert runner.invoke(app, ["demo"]).exit_code == 0
    units = sql(env, "SELECT code, name, ST_AsBinary(geom) FROM admin_units WHERE valid_to IS NULL ORDER BY code")
    shapes = {code: shapely.from_wkb(bytes(wkb)) for code, _, wkb in units}
    names = {code: name for code, name, _ in units}
    # the legal Mường Thanh (03334) gives one of its sites to Điện Biên Phủ (03127)
    pid, pcode, x, y = sql(
        env,
        "SELECT id, code, ST_X(pos), ST_Y(pos) FROM parcels WHERE admin_unit_code = '03334' ORDER BY id LIMIT 1",
    )[0]
    piece = shapely.Point(x, y).buffer(0.004)
    shapes["03127"] = shapes["03127"].union(piece & shapes["03334"])
    shapes["03334"] = shapes["03334"].difference(piece)
    legal = gpd.GeoDataFrame(
        {"MaXa": list(shapes), "TenXa": [names[c] for c in shapes]}, geometry=list(shapes.values()), crs=4326
    ).to_crs(9205)
    good = tmp_path / "dia_gioi.gpkg"
    legal.to_file(good, driver="GPKG")
    partial = tmp_path / "thieu.gpkg"
    legal[legal.MaXa != "03169"].to_file(partial, driver="GPKG")

    r = runner.invoke(app, ["boundaries", str(partial), *MAP])
    assert r.exit_code == 1 and "lacks 1 of the communes and wards in force (03169)" in r.output
    assert "Traceback" not in r.output
    assert sql(env, "SELECT count(*) FROM admin_units WHERE boundary_note ILIKE 'schematic%'")[0][0] == 185  # untouched

    r = runner.invoke(app, ["boundaries", str(good), *MAP, "--dry-run"])
    assert r.exit_code == 0 and "nothing was written" in r.output
    r = runner.invoke(app, ["boundaries", str(good), *MAP])
    assert r.exit_code == 0, r.output
    assert f"Replaced the boundaries of {len(shapes)} unit(s)" in r.output
    assert f"parcel {pcode}: recorded in 03334, now in 03127" in r.output and "--reassign" in r.output
    assert (
        sql(env, "SELECT count(*) FROM admin_units WHERE boundary_note ILIKE 'schematic%' AND valid_to IS NULL")[0][0]
        == 0
    )
    stored = shapely.from_wkb(
        bytes(sql(env, "SELECT ST_AsBinary(geom) FROM admin_units WHERE code = '03127' AND valid_to IS NULL")[0][0])
    )
    assert stored.hausdorff_distance(shapes["03127"]) < 2e-7  # the file's boundary through VN-2000, within 2 cm
    # a parcel recorded where it no longer lies is reassigned only when asked, in its history
    assert sql(env, "SELECT admin_unit_code FROM parcels WHERE id = %s", [pid])[0][0] == "03334"
    r = runner.invoke(app, ["boundaries", str(good), *MAP, "--reassign"])
    assert r.exit_code == 0 and "(reassigned)" in r.output
    assert sql(env, "SELECT admin_unit_code FROM parcels WHERE id = %s", [pid])[0][0] == "03127"
    actor, reason, changes = sql(
        env, "SELECT actor, reason, changes FROM parcel_history WHERE parcel_id = %s ORDER BY id DESC LIMIT 1", [pid]
    )[0]
    assert (
        actor == "landfund boundaries"
        and "dia_gioi.gpkg" in reason
        and changes["admin_unit_code"] == ["03334", "03127"]
    )


def test_a_unit_not_in_force_is_refused(env, tmp_path):
    assert runner.invoke(app, ["demo"]).exit_code == 0
    code, wkb = sql(env, "SELECT code, ST_AsBinary(geom) FROM admin_units WHERE code = '094'")[0]  # a former district
    frame = gpd.GeoDataFrame({"MaXa": [code], "TenXa": ["x"]}, geometry=[shapely.from_wkb(bytes(wkb))], crs=4326)
    path = tmp_path / "cu.geojson"
    frame.to_file(path, driver="GeoJSON")
    r = runner.invoke(app, ["boundaries", str(path), *MAP])
    assert r.exit_code == 1 and "no unit '094' is in force today" in r.output
