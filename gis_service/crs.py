"""Coordinate reference systems with pyproj: choosing the source CRS, checking axis order, reprojecting.

Điện Biên's cadastral files are in VN-2000 / TM-3 103-00 (EPSG:9205). pyproj converts it to WGS 84 with
the EPSG:6960 seven-parameter shift; without the shift, points land about 222 m off. Files often carry a
CRS with no datum shift (a bare PROJ string, or a .prj without TOWGS84); when such a CRS matches an EPSG
definition that has a real shift, the EPSG definition is used instead, with a warning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from .core.bootstrap import TM3_ZONES
from .core.errors import LandfundError

WGS84 = CRS.from_epsg(4326)


class CRSProblem(LandfundError):
    pass


@dataclass(frozen=True)
class ApiCRS:
    """A CRS the API speaks (OGC API – Features Part 2): its URI, SRID, axis order and output precision."""

    uri: str
    srid: int
    lat_first: bool  # axis order of the CRS: EPSG:4326 is latitude, longitude
    precision: int  # decimals in output coordinates
    geographic: bool


def parse_crs(text: str) -> CRS:
    try:
        return CRS.from_user_input(text.strip())
    except (CRSError, TypeError, ValueError):
        raise CRSProblem(
            f"unknown CRS {text!r}; give an EPSG code such as EPSG:9205 (VN-2000 / TM-3 103-00) or EPSG:4326"
        ) from None


def label(crs: CRS) -> str:
    code = crs.to_epsg(min_confidence=100)
    return f"EPSG:{code} ({crs.name})" if code else crs.name


@lru_cache(maxsize=64)
def _transformer(src_wkt: str, dst_wkt: str) -> Transformer:
    return Transformer.from_crs(CRS.from_wkt(src_wkt), CRS.from_wkt(dst_wkt), always_xy=True)


def transformer(src: CRS, dst: CRS = WGS84) -> Transformer:
    return _transformer(src.to_wkt(), dst.to_wkt())


def _wgs84_datum(crs: CRS) -> bool:
    datum = crs.geodetic_crs.datum.name if crs.geodetic_crs and crs.geodetic_crs.datum else ""
    return datum.startswith("World Geodetic System 1984") or datum in ("WGS 84", "WGS_1984", "D_WGS_1984")


def _ballpark(src: CRS) -> bool:
    """Would src → WGS 84 use only a 'ballpark' (no datum shift) operation?"""
    if _wgs84_datum(src):
        return False
    t = transformer(src)
    t.transform(0, 0)  # some descriptions only exist once PROJ has chosen an operation
    return "ballpark" in t.description.lower()


def _epsg_substitute(crs: CRS) -> CRS | None:
    """An EPSG CRS to use instead of an unidentified one that carries no datum shift of its own.

    A .prj or PROJ string often describes VN-2000 / TM-3 only by its projection on the WGS 84 ellipsoid,
    which PROJ then treats as WGS 84 itself: no shift, about 222 m off. If it matches an EPSG CRS on
    another datum, that CRS (and its published shift) is what the file meant."""
    if crs.is_bound or crs.to_epsg(min_confidence=100) is not None:
        return None
    code = crs.to_epsg(min_confidence=70)
    if code is None:
        return None
    epsg = CRS.from_epsg(code)
    return None if _wgs84_datum(epsg) else epsg


# VN-2000 / TM-3 zones by central meridian (each province has its own): those landfund adds to PostGIS
# (core.bootstrap) and the four PostGIS ships (EPSG:5896-5899)
def zone_label(srid: int, lang: str) -> str:
    """A VN-2000 zone as a surveyor writes it: "VN-2000, kinh tuyến trục 105°45′, múi 3°" / "VN-2000 / TM-3 105-45"
    (every zone of VN2000_TM3 is a 3° zone, EPSG:5896–5898 included)."""
    lon0 = next((lon for lon, code in VN2000_TM3.items() if code == srid), None)
    if lon0 is None:
        return f"EPSG:{srid}"
    deg, minutes = int(lon0), round((lon0 - int(lon0)) * 60)
    if lang == "vi":
        return f"VN-2000, kinh tuyến trục {deg}°{minutes:02d}′, múi 3°"
    return f"VN-2000 / TM-3 {deg}-{minutes:02d}"


VN2000_TM3: dict[float, int] = {lon0: code for code, (lon0, _) in TM3_ZONES.items()} | {
    102.0: 5896,
    105.0: 5897,
    108.0: 5898,
    107.75: 5899,
}


def vn2000_grid_on_wgs84(crs: CRS) -> int | None:
    """The EPSG code of the VN-2000 / TM-3 zone whose grid `crs` describes while declaring the WGS 84 datum (a
    .prj written that way reads 222 m off), else None."""
    if not crs.is_projected or not _wgs84_datum(crs) or crs.is_bound:
        return None
    import warnings

    with warnings.catch_warnings():  # to_dict() warns that a PROJ string says less than WKT; we read 6 numbers
        warnings.simplefilter("ignore", UserWarning)
        p = crs.to_dict()
    if p.get("proj") != "tmerc" or abs(float(p.get("k", p.get("k_0", 1))) - 0.9999) > 1e-9:
        return None
    if float(p.get("x_0", 0)) != 500000 or float(p.get("y_0", 0)) != 0 or float(p.get("lat_0", 0)) != 0:
        return None
    return VN2000_TM3.get(round(float(p.get("lon_0", 0)), 6))


def resolve(file_crs: CRS | None, option: str | None, cadastral: str | None = None) -> tuple[CRS, list[str]]:
    """The CRS to read the coordinates in, and warnings to show. --crs wins over the file's CRS. `cadastral` is the
    province's VN-2000 zone (Điện Biên's unless said), named as the example when the file has no CRS."""
    cadastral = cadastral or "EPSG:9205"
    warnings: list[str] = []
    if option:
        crs = parse_crs(option)
        if file_crs is not None and not file_crs.equals(crs, ignore_axis_order=True):
            warnings.append(f"the file says its CRS is {label(file_crs)}; using {label(crs)} from --crs instead")
    elif file_crs is not None:
        crs = file_crs
        zone = vn2000_grid_on_wgs84(crs)
        if zone is not None:
            raise CRSProblem(
                f"the file's CRS ({crs.name!r}) says WGS 84 but its grid is VN-2000 / TM-3's "
                f"({CRS.from_epsg(zone).name}): read as WGS 84 every point would land about 220 m off. Cadastral "
                f"files on this grid are VN-2000: import with --crs EPSG:{zone}. (If the file really is on WGS 84, "
                "say so with --crs and its WKT.)"
            )
    else:
        raise CRSProblem(
            "the file has no CRS. Say which one its coordinates are in, for example "
            f"--crs {cadastral} for {parse_crs(cadastral).name} cadastral files, or --crs EPSG:4326 for "
            "longitude/latitude."
        )
    substitute = _epsg_substitute(crs)
    if substitute is not None:
        warnings.append(
            f"the CRS {crs.name!r} has no EPSG code and no datum shift to WGS 84; it matches "
            f"{label(substitute)}, whose published datum shift is used (without it, positions would be "
            "off by up to a few hundred metres)"
        )
        crs = substitute
    elif _ballpark(crs):
        warnings.append(f"no datum shift from {label(crs)} to WGS 84 is known; positions may be off by metres or more")
    return crs, warnings


@dataclass
class AxisVerdict:
    verdict: str  # "ok" | "swapped" | "outside"
    bounds: tuple[float, float, float, float]
    expected: tuple[float, float, float, float]


def _expected_bounds(crs: CRS) -> tuple[float, float, float, float]:
    """The CRS's area of use in its own (x = east, y = north) units, with a margin."""
    aou = crs.area_of_use
    if aou is None and not crs.is_geographic:
        return (-math.inf, -math.inf, math.inf, math.inf)  # unknown area of use: nothing to check against
    west, south, east, north = (aou.west, aou.south, aou.east, aou.north) if aou else (-180, -90, 180, 90)
    if crs.is_geographic:
        pad = 1.0
        return max(west - pad, -180), max(south - pad, -90), min(east + pad, 180), min(north + pad, 90)
    t = Transformer.from_crs(WGS84, crs, always_xy=True)
    xmin, ymin, xmax, ymax = t.transform_bounds(west, south, east, north, densify_pts=21)
    pad_x, pad_y = 0.25 * (xmax - xmin), 0.25 * (ymax - ymin)
    return xmin - pad_x, ymin - pad_y, xmax + pad_x, ymax + pad_y


def check_axes(geoms: np.ndarray, crs: CRS) -> AxisVerdict:
    """Do the coordinates fit the CRS's area of use as they are, only with x and y swapped, or neither?

    Vietnamese survey tables often label northing X and easting Y, so files arrive with the two swapped.
    The verdict follows the majority of geometries, so one mistyped row does not condemn a whole file
    (that row then fails the province check on its own)."""
    exp = _expected_bounds(crs)
    valid = geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)]
    b = shapely.bounds(valid) if len(valid) else np.empty((0, 4))
    b = b[np.isfinite(b).all(axis=1)]
    if not len(b):
        return AxisVerdict("ok", (0, 0, 0, 0), exp)
    overall = (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max()))

    def inside(x0, y0, x1, y1):
        return (exp[0] <= x0) & (x1 <= exp[2]) & (exp[1] <= y0) & (y1 <= exp[3])

    as_is = inside(b[:, 0], b[:, 1], b[:, 2], b[:, 3]).mean()
    swapped = inside(b[:, 1], b[:, 0], b[:, 3], b[:, 2]).mean()
    if as_is >= 0.5 and as_is >= swapped:
        return AxisVerdict("ok", overall, exp)
    if swapped > 0.5:
        return AxisVerdict("swapped", overall, exp)
    return AxisVerdict("outside", overall, exp)


def swap_xy(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(geoms, lambda c: c[:, ::-1])


def to_wgs84(geoms: np.ndarray, crs: CRS) -> np.ndarray:
    if crs.equals(WGS84, ignore_axis_order=True):
        return geoms
    t = transformer(crs)

    def f(c: np.ndarray) -> np.ndarray:
        x, y = t.transform(c[:, 0], c[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, f)
