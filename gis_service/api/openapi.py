"""OpenAPI 3.0 for the API. FastAPI writes 3.1 (JSON Schema 2020-12); GDAL, QGIS and the OGC test suite
expect 3.0, so the document is rewritten: nullable instead of type null, enum instead of const,
example instead of examples, boolean exclusive bounds."""

from __future__ import annotations

import copy

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi

from .render import OPENAPI, json_response


def _downgrade(node):
    if isinstance(node, list):
        return [_downgrade(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _downgrade(v) for k, v in node.items()}
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if isinstance(options, list) and any(o == {"type": "null"} for o in options):
            rest = [o for o in options if o != {"type": "null"}]
            node.pop(key)
            node["nullable"] = True
            if len(rest) == 1 and "$ref" not in rest[0]:
                node.update({k: v for k, v in rest[0].items() if k not in node})
            elif len(rest) == 1:
                node["allOf"] = rest
            else:
                node[key] = rest
    t = node.get("type")
    if isinstance(t, list):
        kinds = [k for k in t if k != "null"]
        if "null" in t:
            node["nullable"] = True
        node["type"] = kinds[0]  # OpenAPI 3.0 has one type per schema
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if isinstance(node.get("examples"), list):
        examples = node.pop("examples")
        if examples:
            node.setdefault("example", examples[0])
    for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(bound), (int, float)) and not isinstance(node.get(bound), bool):
            node[plain] = node.pop(bound)
            node[bound] = True
    for drop in ("$schema", "contentMediaType", "contentEncoding", "propertyNames"):
        node.pop(drop, None)
    return node


PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
}


def _enrich(doc: dict, app: FastAPI) -> None:
    """Path parameters with a closed set of values say so (GIS clients and fuzzers can use them), and every
    operation documents its errors: RFC 9457 problem details."""
    from ..maps.definition import map_names

    st = app.state
    values = {
        "collectionId": sorted(la.id for la in st.catalogue.spatial_layers),
        "tileMatrixSetId": ["WebMercatorQuad"],
        "name": [n for n in map_names(st.settings.maps_dir) if n != "site"],
    }
    doc.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    # How to prove who you are ("Authorize" in /api.html): a bearer token from `landfund users token`. Reading
    # needs none (the public view); what a token adds is said by each operation's 401/403.
    doc["components"]["securitySchemes"] = {
        "bearerToken": {
            "type": "http",
            "scheme": "bearer",
            "description": "A landfund token (lf_…) from `landfund users token NAME`; planners and admins see "
            "unpublished parcels and internal fields and may write, investors file expressions of interest.",
        }
    }
    doc["security"] = [{}, {"bearerToken": []}]  # optional everywhere: anonymous callers get the public view
    problem = {
        "description": "Problem details (RFC 9457)",
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for item in doc.get("paths", {}).values():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            if method in ("post", "put", "patch", "delete"):
                op["security"] = [{"bearerToken": []}]  # every change needs a token
            for param in op.get("parameters", []):
                if param.get("in") == "path" and param.get("name") in values:
                    param["schema"] = {"type": "string", "enum": values[param["name"]]}
                if param.get("name") == "filter-lang":
                    param["schema"] = {"type": "string", "enum": ["cql2-text", "cql2-json"], "default": "cql2-text"}
            op["responses"].pop("422", None)  # FastAPI's default; validation errors are 400 problems here
            op["responses"].setdefault("4XX", problem)
            op["responses"].setdefault("5XX", problem)


def _collection_paths(doc: dict, app: FastAPI) -> None:
    """One items path per collection, with a query parameter for each of its queryables (as pygeoapi does): GDAL's
    OGC API driver sends a `-where` to the server only for parameters it finds on the collection's own path, and
    otherwise downloads the whole collection to filter it itself."""
    from ..security import ANONYMOUS
    from ..stores.features import layer_sql
    from .deps import Collection
    from .routes.collections import attribute_schemas

    generic = doc["paths"].get("/collections/{collectionId}/items", {}).get("get")
    if generic is None:
        return
    st = app.state
    for layer in st.catalogue.spatial_layers:
        coll = Collection(layer, layer_sql(layer, st.settings), st.catalogue)
        op = copy.deepcopy(generic)
        op["operationId"] = f"{generic.get('operationId', 'get_items')}_{layer.id}"
        op["summary"] = f"Features of {layer.id} ({layer.title.en})"
        params = [p for p in op.get("parameters", []) if p.get("name") != "collectionId"]
        taken = {p["name"] for p in params}
        for name, schema in attribute_schemas(coll, ANONYMOUS).items():
            if name in taken or schema.get("readOnly"):
                continue
            kind = {k: v for k, v in schema.items() if k in ("type", "format", "enum", "minimum", "maximum")}
            params.append(
                {
                    "name": name,
                    "in": "query",
                    "required": False,
                    "style": "form",
                    "explode": False,
                    "description": f"Only features whose {name} is this value ({schema.get('title', name)}).",
                    "schema": kind,
                }
            )
        op["parameters"] = params
        doc["paths"][f"/collections/{layer.id}/items"] = {"get": op}


def openapi_30(app: FastAPI) -> dict:
    if getattr(app.state, "openapi_30", None) is None:
        doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        doc = _downgrade(copy.deepcopy(doc))
        doc["openapi"] = "3.0.3"
        doc.pop("jsonSchemaDialect", None)
        doc.pop("webhooks", None)
        _enrich(doc, app)
        _collection_paths(doc, app)
        app.state.openapi_30 = doc
    return app.state.openapi_30


def install(app: FastAPI) -> None:
    @app.get("/api", include_in_schema=False)
    def api_definition(request: Request):
        return json_response(openapi_30(request.app), media_type=OPENAPI)

    @app.get("/api.html", include_in_schema=False)
    def api_documentation(request: Request):
        from .render import html_response

        return html_response("swagger.html", request)  # Swagger UI started from a file, no inline script
