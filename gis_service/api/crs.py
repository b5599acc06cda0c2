"""The CRSs the API speaks (OGC API – Features Part 2), with their URIs, axis order and precision."""

from __future__ import annotations

from functools import lru_cache

from pyproj import CRS, Transformer

from ..crs import VN2000_TM3, ApiCRS
from .errors import Problem

CRS84 = ApiCRS("http://www.opengis.net/def/crs/OGC/1.3/CRS84", 4326, False, 6, True)
EPSG4326 = ApiCRS("http://www.opengis.net/def/crs/EPSG/0/4326", 4326, True, 6, True)
EPSG3857 = ApiCRS("http://www.opengis.net/def/crs/EPSG/0/3857", 3857, False, 2, False)
# Every VN-2000 / TM-3 zone (each province has its own central meridian; Điện Biên's is EPSG:9205, 103°00′;
# Sơn La 9206, Hà Nội 5897, TP Hồ Chí Minh 9210, …): easting first, metres to the millimetre. PostGIS ships
# 5896–5899; landfund's bootstrap adds 9205–9218 with the EPSG:6960 datum shift (core/bootstrap.py).
VN2000 = tuple(
    ApiCRS(f"http://www.opengis.net/def/crs/EPSG/0/{c}", c, False, 3, False) for c in sorted(VN2000_TM3.values())
)
EPSG9205 = next(c for c in VN2000 if c.srid == 9205)  # VN-2000 / TM-3 103-00
SUPPORTED = (CRS84, EPSG4326, EPSG3857, *VN2000)
STORAGE = CRS84

_ALIASES = {
    "crs84": CRS84,
    "ogc:crs84": CRS84,
    "urn:ogc:def:crs:ogc:1.3:crs84": CRS84,
    "urn:ogc:def:crs:ogc::crs84": CRS84,
    "[ogc:crs84]": CRS84,
}
for _c in SUPPORTED:
    _ALIASES[_c.uri.lower()] = _c
    _ALIASES[_c.uri.lower().replace("http://", "https://")] = _c
    _code = _c.uri.rsplit("/", 1)[-1]
    if _c is not CRS84:
        for _form in (f"epsg:{_code}", f"urn:ogc:def:crs:epsg::{_code}", f"[epsg:{_code}]", _code):
            _ALIASES[_form] = _c


@lru_cache(maxsize=8)
def domain(srid: int) -> tuple[float, float, float, float]:
    """Where coordinates in `srid` make sense: its area of use (EPSG registry), widened generously. Beyond it
    PostGIS cannot transform (a 500 waiting to happen), so requests there are refused up front."""
    if srid == 4326:
        return (-180.0, -90.0, 180.0, 90.0)
    crs = CRS.from_epsg(srid)
    aou = crs.area_of_use
    west, south, east, north = (aou.west, aou.south, aou.east, aou.north) if aou else (-180, -85, 180, 85)
    x0, y0, x1, y1 = Transformer.from_crs(4326, crs, always_xy=True).transform_bounds(west, south, east, north)
    dx, dy = (x1 - x0), (y1 - y0)
    return (x0 - dx, y0 - dy, x1 + dx, y1 + dy)


def inside_domain(srid: int, x0: float, y0: float, x1: float, y1: float) -> bool:
    d = domain(srid)
    return d[0] <= x0 and x1 <= d[2] and d[1] <= y0 and y1 <= d[3]


def parse_crs(value: str | None, param: str = "crs", default: ApiCRS = CRS84) -> ApiCRS:
    if value is None or value == "":
        return default
    found = _ALIASES.get(value.strip().strip("<>").lower())
    if found is None:
        raise Problem(400, f"{param}: unsupported CRS {value!r}; supported: {', '.join(c.uri for c in SUPPORTED)}")
    return found


def content_crs_header(crs: ApiCRS) -> dict[str, str]:
    return {"Content-Crs": f"<{crs.uri}>"}
