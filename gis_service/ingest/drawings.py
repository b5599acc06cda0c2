"""One parcel's boundary as the files an investor's architect or surveyor opens: GeoJSON, KML and DXF (ezdxf, a
maintained DXF writer), in WGS 84 or in the province's VN-2000 TM-3 zone (reprojected by pyproj with the EPSG:6960
datum shift). Coordinates are easting, northing (x, y) in VN-2000, as CAD and GIS programs expect; the vertex
numbers are the site sheet's."""

from __future__ import annotations

import io
import json

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from .. import crs as crsmod
from ..core.errors import LandfundError

FORMATS = {"geojson": "application/geo+json", "kml": "application/vnd.google-earth.kml+xml", "dxf": "image/vnd.dxf"}


class DrawingError(LandfundError):
    pass


def _in(shape, crs_text: str):
    """The boundary (EPSG:4326, lon/lat) in `crs_text`, with its precision (decimals)."""
    target = crsmod.parse_crs(crs_text)
    if target.equals(crsmod.WGS84, ignore_axis_order=True):
        return shape, 7, target
    t = crsmod.transformer(crsmod.WGS84, target)
    moved = shapely.transform(shape, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))
    return moved, 3, target


def _rings(shape) -> list[list[tuple[float, float]]]:
    polys = shape.geoms if isinstance(shape, MultiPolygon) else [shape]
    out = []
    for p in polys:
        assert isinstance(p, Polygon)
        out.append(list(p.exterior.coords)[:-1])
        out += [list(r.coords)[:-1] for r in p.interiors]
    return out


def boundary_file(shape, fmt: str, crs_text: str, code: str, name: str) -> bytes:
    if fmt not in FORMATS:
        raise DrawingError(f"no boundary as .{fmt}; there are: {', '.join(FORMATS)}")
    geom, decimals, target = _in(shape, crs_text)
    epsg = target.to_epsg()
    if fmt == "geojson":
        feature = {
            "type": "Feature",
            "properties": {"code": code, "name": name},
            "geometry": json.loads(shapely.to_geojson(shapely.set_precision(geom, 10**-decimals))),
        }
        doc: dict[str, object] = {"type": "FeatureCollection", "name": code, "features": [feature]}
        if epsg != 4326:  # RFC 7946 is WGS 84 only; GDAL and QGIS read the 2008 form's named CRS
            doc["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{epsg}"}}
        return json.dumps(doc, ensure_ascii=False).encode()
    if fmt == "kml":
        if epsg != 4326:
            raise DrawingError("KML is always WGS 84 longitude/latitude (OGC KML 2.2); for VN-2000 take GeoJSON or DXF")
        return _kml(geom, code, name)
    return _dxf(geom, decimals, epsg, target.name, code, name)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _kml(geom, code: str, name: str) -> bytes:
    polys = geom.geoms if isinstance(geom, MultiPolygon) else [geom]

    def ring(coords) -> str:
        return " ".join(f"{x:.7f},{y:.7f},0" for x, y in coords)

    parts = []
    for p in polys:
        inner = "".join(
            f"<innerBoundaryIs><LinearRing><coordinates>{ring(r.coords)}</coordinates></LinearRing></innerBoundaryIs>"
            for r in p.interiors
        )
        parts.append(
            f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{ring(p.exterior.coords)}</coordinates>"
            f"</LinearRing></outerBoundaryIs>{inner}</Polygon>"
        )
    body = parts[0] if len(parts) == 1 else "<MultiGeometry>" + "".join(parts) + "</MultiGeometry>"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        f"<name>{_esc(code)}</name><Placemark><name>{_esc(code)}</name><description>{_esc(name)}</description>"
        f"{body}</Placemark></Document></kml>\n"
    ).encode()


def _mtext(text: str) -> str:
    """Text as MTEXT shows it literally: its backslash codes (\\P, \\f…) and braces are escaped, line breaks dropped."""
    return " ".join(text.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}").split())


def _dxf(geom, decimals: int, epsg: int | None, crs_name: str, code: str, name: str) -> bytes:
    import ezdxf
    from ezdxf import units

    doc = ezdxf.new("R2010", setup=True)
    doc.units = units.M if epsg != 4326 else 0  # metres in VN-2000; degrees have no DXF unit (0: unitless)
    doc.header["$MEASUREMENT"] = 1  # metric
    doc.layers.add("RANH_GIOI", color=1)  # the boundary (ranh giới)
    doc.layers.add("DINH_THUA", color=5)  # the vertex numbers (đỉnh thửa), as on the site sheet
    doc.layers.add("GHI_CHU", color=7)
    msp = doc.modelspace()
    size = 1.5 if epsg != 4326 else 0.00002
    n = 0
    for ring in _rings(geom):
        msp.add_lwpolyline(
            [(round(float(x), decimals), round(float(y), decimals)) for x, y in ring],
            close=True,
            dxfattribs={"layer": "RANH_GIOI"},
        )
        for x, y in ring:
            n += 1
            msp.add_text(str(n), height=size, dxfattribs={"layer": "DINH_THUA"}).set_placement((x, y))
    x0, _, _, y1 = geom.bounds
    msp.add_mtext(
        f"{_mtext(code)} — {_mtext(name)}\\P{crs_name} (EPSG:{epsg})",
        dxfattribs={"layer": "GHI_CHU", "char_height": size * 1.5},
    ).set_location((x0, y1 + size * 4))
    out = io.StringIO()
    doc.write(out)
    return out.getvalue().encode("utf-8")
