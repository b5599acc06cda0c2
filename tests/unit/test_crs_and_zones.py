"""Coordinate reference systems without a database: the VN-2000 check point, axis order, and the spatial reference
rows landfund gives PostGIS for every VN-2000 TM-3 zone, checked against pyproj's EPSG definitions."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import CRS, Transformer

from gis_service import crs as crsmod
from gis_service.core.bootstrap import TM3_ZONES, tm3_proj4

CHECK = (103.023, 21.386, 502188.696, 2365683.612)  # ../shared/domain/dien-bien.md


def test_the_vn2000_check_point_to_the_millimetre():
    e, n = Transformer.from_crs(4326, 9205, always_xy=True).transform(CHECK[0], CHECK[1])
    assert abs(e - CHECK[2]) < 0.001 and abs(n - CHECK[3]) < 0.001


@pytest.mark.parametrize("code", sorted(TM3_ZONES))
def test_every_tm3_zone_row_agrees_with_epsg(code):
    """The +towgs84 rows written into spatial_ref_sys (PostGIS 3.3 lacks these zones) match EPSG's VN-2000 to WGS 84
    (2) (EPSG:6960, the national onshore shift) within 1 cm at the middle of the zone's area. (In the Mekong delta
    EPSG also knows a local shift, VN-2000 to WGS 84 (1), which puts points about 0.8 m elsewhere.)"""
    from pyproj.transformer import TransformerGroup

    epsg = CRS.from_epsg(code)
    ours = CRS.from_proj4(tm3_proj4(TM3_ZONES[code][0]))
    aou = epsg.area_of_use
    lon, lat = (aou.west + aou.east) / 2, (aou.south + aou.north) / 2
    national = next(
        t for t in TransformerGroup(4326, epsg, always_xy=True).transformers if "VN-2000 to WGS 84 (2)" in t.description
    )
    a = national.transform(lon, lat)
    b = Transformer.from_crs(4326, ours, always_xy=True).transform(lon, lat)
    assert np.hypot(a[0] - b[0], a[1] - b[1]) < 0.01


def test_a_file_without_a_crs_is_asked_for_one():
    with pytest.raises(crsmod.CRSProblem, match="--crs EPSG:9205"):
        crsmod.resolve(None, None)


def test_swapped_axes_are_caught():
    square = shapely.box(CHECK[3], CHECK[2], CHECK[3] + 50, CHECK[2] + 50)  # northing in X, as survey tables write
    verdict = crsmod.check_axes(np.array([square], dtype=object), CRS.from_epsg(9205))
    assert verdict.verdict == "swapped"
    assert crsmod.check_axes(crsmod.swap_xy(np.array([square], dtype=object)), CRS.from_epsg(9205)).verdict == "ok"


ESRI_WGS84_TM3 = (  # a .prj as some desktop tools write VN-2000 / TM-3 103-00: the grid, but on "WGS 84"
    'PROJCS["VN_2000_TM3_103",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,'
    '298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
    'PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",103.0],'
    'PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]'
)


def test_a_vn2000_grid_declared_on_wgs84_is_refused_naming_the_zone():
    """Read as WGS 84, the check point would land this far off; the file is refused with the --crs to use."""
    as_wgs84 = Transformer.from_crs(CRS.from_wkt(ESRI_WGS84_TM3), 4326, always_xy=True).transform(CHECK[2], CHECK[3])
    off = Transformer.from_crs(4326, 9205, always_xy=True).transform(*as_wgs84)
    assert 200 < np.hypot(off[0] - CHECK[2], off[1] - CHECK[3]) < 240
    with pytest.raises(crsmod.CRSProblem, match="--crs EPSG:9205"):
        crsmod.resolve(CRS.from_wkt(ESRI_WGS84_TM3), None)
    assert crsmod.resolve(CRS.from_wkt(ESRI_WGS84_TM3), "EPSG:9205")[0].to_epsg() == 9205  # --crs decides
    # Sơn La's zone (104°00′) names EPSG:9206; real WGS 84 grids (UTM 48N) and VN-2000 itself pass
    son_la = CRS.from_proj4("+proj=tmerc +lat_0=0 +lon_0=104 +k=0.9999 +x_0=500000 +y_0=0 +datum=WGS84 +units=m")
    assert crsmod.vn2000_grid_on_wgs84(son_la) == 9206
    for fine in (32648, 9205, 4326, 3405):
        assert crsmod.vn2000_grid_on_wgs84(CRS.from_epsg(fine)) is None


def test_crs_problems_name_the_province_s_zone_and_read_in_vietnamese():
    """A file without a CRS is told to name its province's zone (not always Điện Biên's); both CRS refusals read
    in Vietnamese on a page, with the zone and the code to enter."""
    from gis_service.pages.messages import translated

    with pytest.raises(crsmod.CRSProblem) as none:
        crsmod.resolve(None, None, "EPSG:9208")
    assert "--crs EPSG:9208 for VN-2000 / TM-3 104-45 cadastral files" in str(none.value)
    assert translated(str(none.value), "vi") == (
        "Tệp không ghi hệ tọa độ: hãy ghi vào ô Hệ tọa độ, ví dụ EPSG:9208 cho tệp địa chính VN-2000 / TM-3 104-45, "
        "hoặc EPSG:4326 cho kinh độ/vĩ độ"
    )
    with pytest.raises(crsmod.CRSProblem, match="EPSG:9205 for VN-2000 / TM-3 103-00"):
        crsmod.resolve(None, None)  # the deployment's (Điện Biên's) by default
    with pytest.raises(crsmod.CRSProblem) as mislabelled:
        crsmod.resolve(CRS.from_wkt(ESRI_WGS84_TM3), None)
    vi = translated(str(mislabelled.value), "vi")
    assert vi.startswith("Tệp ghi hệ tọa độ 'VN_2000_TM3_103' là WGS 84 nhưng tọa độ nằm trên lưới VN-2000 / TM-3")
    assert "(VN-2000 / TM-3 103-00)" in vi and "220 m" in vi and vi.endswith("hãy ghi EPSG:9205 vào ô Hệ tọa độ")


def test_a_zone_is_named_as_surveyors_write_it():
    from pyproj import CRS

    from gis_service.crs import VN2000_TM3, zone_label

    assert zone_label(9205, "vi") == "VN-2000, kinh tuyến trục 103°00′, múi 3°"
    assert zone_label(9210, "vi") == "VN-2000, kinh tuyến trục 105°45′, múi 3°"
    for code in VN2000_TM3.values():  # the English form is EPSG's name where EPSG names the meridian
        name = CRS.from_epsg(code).name
        if "zone" not in name:
            assert zone_label(code, "en") == name
