"""The formats an export writes (name → GDAL driver; GeoParquet through geopandas): a module of its own, so that
the command line can list them without loading GDAL and pandas."""

FORMATS = {"geojson": "GeoJSON", "gpkg": "GPKG", "shp": "ESRI Shapefile", "csv": "CSV", "parquet": None}
