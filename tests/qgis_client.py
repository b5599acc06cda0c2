"""Drives QGIS (Debian's qgis and python3-qgis, PyQGIS) against a live landfund: run with the system Python,
`QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis_client.py BASE_URL OUT_DIR [USER PASSWORD]`. Prints one JSON
object of what QGIS saw; tests/test_qgis.py compares it with the database."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsCoordinateTransformContext,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProject,
    QgsRectangle,
    QgsVectorFileWriter,
    QgsVectorLayer,
    QgsVectorTileLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor


def oapif(base: str, name: str, user: str | None, password: str | None, page_size: int = 0) -> QgsVectorLayer:
    uri = f"url='{base}' typename='{name}' restrictToRequestBBOX='0'"
    if page_size:
        uri += f" pagingEnabled='true' pageSize='{page_size}'"
    if user:
        uri += f" username='{user}' password='{password}'"
    return QgsVectorLayer(uri, name, "OAPIF")


def main(base: str, out: Path, user: str | None = None, password: str | None = None) -> dict:
    import urllib.request

    ids = [c["id"] for c in json.load(urllib.request.urlopen(base + "/collections?f=json"))["collections"]]
    result: dict = {"version": __import__("qgis.core", fromlist=["Qgis"]).Qgis.QGIS_VERSION, "collections": {}}
    for name in ids:
        layer = oapif(base, name, user, password)
        fields = {f.name(): f.typeName() for f in layer.fields()} if layer.isValid() else {}
        count = sum(1 for _ in layer.getFeatures()) if layer.isValid() else None
        result["collections"][name] = {"valid": layer.isValid(), "count": count, "fields": fields}

    # a decimal beyond the first page survives a GeoPackage written by QGIS (pages of 5: the demo has a few dozen)
    parcels = oapif(base, "parcels", user, password, page_size=5)
    gpkg = out / "parcels.gpkg"
    opts = QgsVectorFileWriter.SaveVectorOptions()
    opts.driverName = "GPKG"
    err = QgsVectorFileWriter.writeAsVectorFormatV3(parcels, str(gpkg), QgsCoordinateTransformContext(), opts)
    saved = QgsVectorLayer(f"{gpkg}|layername=parcels", "saved", "ogr")
    values = [f["max_density"] for f in saved.getFeatures()]
    result["gpkg"] = {
        "error": int(err[0]),
        "message": err[1],
        "count": saved.featureCount(),
        "valid": saved.isValid(),
        "max_density_type": saved.fields().field("max_density").typeName() if saved.isValid() else None,
        "fractional": sum(1 for v in values if v is not None and float(v) % 1 != 0),
        "nulls": sum(1 for v in values if v is None),
    }

    # the vector tiles, drawn by QGIS's own renderer
    tiles = QgsVectorTileLayer(
        f"type=xyz&url={base}/collections/parcels/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}?f=mvt&zmin=0&zmax=16",
        "tiles",
    )
    settings = QgsMapSettings()
    settings.setLayers([tiles])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    # around the first parcels: where there is something to draw, at a zoom that draws polygons
    first = next(parcels.getFeatures()).geometry().boundingBox()
    to_3857 = QgsCoordinateTransform(parcels.crs(), QgsCoordinateReferenceSystem("EPSG:3857"), QgsProject.instance())
    centre = to_3857.transform(first.center())
    settings.setExtent(QgsRectangle(centre.x() - 1500, centre.y() - 1500, centre.x() + 1500, centre.y() + 1500))
    settings.setOutputSize(QSize(512, 512))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    png = out / "qgis-tiles.png"
    image.save(str(png))
    drawn = 0
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            if image.pixelColor(x, y).rgb() & 0xFFFFFF != 0xFFFFFF:
                drawn += 1
    result["tiles"] = {"valid": tiles.isValid(), "drawn_pixels": drawn, "png": str(png)}
    return result


if __name__ == "__main__":
    app = QgsApplication([], False)
    QgsApplication.setPrefixPath("/usr", True)
    app.initQgis()
    args = sys.argv[1:]
    report = main(args[0], Path(args[1]), *(args[2:4] if len(args) >= 4 else []))
    print("QGIS-RESULT " + json.dumps(report, ensure_ascii=False))
    app.exitQgis()
