"""The conformance classes this API really implements (and nothing more)."""

FEATURES = "http://www.opengis.net/spec/ogcapi-features"
CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf"
TILES = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf"

CONFORMS_TO = [
    f"{FEATURES}-1/1.0/conf/core",
    f"{FEATURES}-1/1.0/conf/geojson",
    f"{FEATURES}-1/1.0/conf/html",
    f"{FEATURES}-1/1.0/conf/oas30",
    f"{FEATURES}-2/1.0/conf/crs",
    f"{FEATURES}-3/1.0/conf/queryables",
    f"{FEATURES}-3/1.0/conf/queryables-query-parameters",
    f"{FEATURES}-3/1.0/conf/filter",
    f"{FEATURES}-3/1.0/conf/features-filter",
    f"{FEATURES}-4/1.0/conf/create-replace-delete",
    f"{FEATURES}-4/1.0/conf/update",
    f"{FEATURES}-4/1.0/conf/features",
    f"{FEATURES}-5/1.0/conf/schemas",
    f"{FEATURES}-5/1.0/conf/core-roles-features",
    f"{CQL2}/cql2-text",
    f"{CQL2}/cql2-json",
    f"{CQL2}/basic-cql2",
    f"{CQL2}/advanced-comparison-operators",
    f"{CQL2}/case-insensitive-comparison",
    f"{CQL2}/basic-spatial-functions",
    f"{CQL2}/basic-spatial-functions-plus",
    f"{CQL2}/spatial-functions",
    f"{CQL2}/property-property",
    f"{TILES}/core",
    f"{TILES}/tileset",
    f"{TILES}/tilesets-list",
    f"{TILES}/geodata-tilesets",
    f"{TILES}/mvt",
    f"{TILES}/oas30",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
]
