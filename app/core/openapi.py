"""The OpenAPI 3.1 document, built from the route table and pydantic's own JSON Schema of every route's models."""

from __future__ import annotations

import copy
import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema
from sanic import Request, Sanic
from sanic.response import file, html, json

from app.core.errors import NotFound
from app.core.http import INT32_MAX, INT64_MAX, response_adapter

OPENAPI_VERSION = "3.1.0"
REF_TEMPLATE = "#/components/schemas/{model}"
ERROR_RESPONSE = "#/components/responses/Error"
_REF_PREFIX = REF_TEMPLATE.split("{", 1)[0]
# <name>, <name:type> or <name:regular expression>
_PATH_PARAMETER = re.compile(r"<([A-Za-z_][A-Za-z0-9_]*)(?::([^<>]+))?>")
# Sanic's path parameter types as JSON Schema; anything else is a string in the URL.
_PATH_TYPES = {"int": {"type": "integer"}, "float": {"type": "number"}}


class ErrorDetail(BaseModel):
    code: str
    message: str
    request_id: str | None
    details: dict | None = None


class ErrorOut(BaseModel):
    """The shared error shape of API.md."""

    error: ErrorDetail


@dataclass(frozen=True)
class Raw:
    """A body that is not one of our JSON models: media type -> JSON Schema (an empty dict: no content)."""

    content: dict[str, dict]


BINARY = {"type": "string", "format": "binary"}
FILE = Raw({"application/pdf": {"schema": BINARY}, "image/jpeg": {"schema": BINARY}, "image/png": {"schema": BINARY}})
NO_CONTENT = Raw({})


@dataclass(frozen=True)
class Operation:
    """What doc() says of one route."""

    summary: str
    tag: str
    body: Any = None
    body_required: bool | None = None
    response: Any = None
    status: int = 200
    responses: dict[int, Any] = field(default_factory=dict)
    errors: tuple[int, ...] = (400, 422)
    secured: bool = False
    query: type[BaseModel] | None = None


_OPERATION = "openapi_operation"


def doc(
    summary: str,
    *,
    tag: str,
    body: Any = None,
    body_required: bool | None = None,
    response: Any = None,
    status: int = 200,
    responses: dict[int, Any] | None = None,
    errors: tuple[int, ...] = (400, 422),
    secured: bool = False,
    query: type[BaseModel] | None = None,
):
    """Document a route: summary, tag, body, query, response by status, the error statuses it may answer."""
    operation = Operation(
        summary, tag, body, body_required, response, status, dict(responses or {}), errors, secured, query
    )

    def wrap(handler):
        setattr(handler, _OPERATION, operation)
        return handler

    return wrap


def documented(handler: Any) -> Operation | None:
    """The doc() of a route handler, if it has one."""
    return getattr(handler, _OPERATION, None)


def path_template(route_path: str) -> str:
    """A Sanic route path as an OpenAPI path: api/v1/cases/<case_id:int> -> /api/v1/cases/{case_id}."""
    return "/" + _PATH_PARAMETER.sub(r"{\1}", route_path).lstrip("/")


def build_document(app: Sanic, *, title: str, version: str, description: str) -> dict:
    """The whole document: every documented route of the app, its schemas inlined, every model in components."""
    operations = sorted(
        (
            (path_template(route.path), method.lower(), route, operation)
            for route in app.router.routes
            if (operation := documented(route.handler)) is not None
            for method in route.methods
            if method not in ("HEAD", "OPTIONS")
        ),
        key=lambda item: (item[0], item[1]),
    )
    schemas, components = _schemas(operation for *_, operation in operations)
    paths: dict[str, dict] = {}
    used_ids: set[str] = set()
    for path, method, route, operation in operations:
        operation_id = _unique(route.name.split(".", 1)[-1].replace(".", "_"), method, used_ids)
        paths.setdefault(path, {})[method] = _operation(route, operation, operation_id, schemas, components)
    tags = sorted({operation.tag for *_, operation in operations})
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version, "description": description},
        "tags": [{"name": tag} for tag in tags],
        "paths": paths,
        "components": {
            "schemas": components,
            "responses": {"Error": _response(ErrorOut, 400, schemas, components)},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _unique(name: str, method: str, used: set[str]) -> str:
    candidate = name if name not in used else f"{name}_{method}"
    used.add(candidate)
    return candidate


def _shapes(operation: Operation):
    if operation.body is not None and not isinstance(operation.body, Raw):
        yield operation.body, "validation"
    if operation.query is not None:
        yield operation.query, "validation"
    for shape in (operation.response, *operation.responses.values()):
        if shape is not None and not isinstance(shape, Raw):
            yield shape, "serialization"


def _schemas(operations) -> tuple[dict, dict]:
    """JSON Schemas of every shape the operations name, by (shape, mode), and the named ones for components."""
    wanted = {(ErrorOut, "serialization")}
    for operation in operations:
        wanted.update(_shapes(operation))
    inputs = [((shape, mode), mode, response_adapter(shape)) for shape, mode in wanted]
    by_key, definitions = TypeAdapter.json_schemas(inputs, ref_template=REF_TEMPLATE, schema_generator=_UntitledFields)
    return {key: schema for (key, _mode), schema in by_key.items()}, definitions.get("$defs", {})


class _UntitledFields(GenerateJsonSchema):
    """Models keep their titles (generators name types by them); a field's title would only repeat its name."""

    def field_title_should_be_set(self, schema) -> bool:
        return False


def _inline(schema: Any, components: dict, seen: tuple[str, ...] = ()) -> Any:
    """The schema with every $ref replaced by what it names (a recursive model keeps its $ref)."""
    if isinstance(schema, list):
        return [_inline(item, components, seen) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
        name = ref[len(_REF_PREFIX) :]
        if name not in seen:
            siblings = {key: value for key, value in schema.items() if key != "$ref"}
            target = _inline(components[name], components, (*seen, name))
            return {**target, **_inline(siblings, components, seen)}
    return {key: _inline(value, components, seen) for key, value in schema.items()}


def _json_content(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _response(shape: Any, status: int, schemas: dict, components: dict) -> dict:
    described = {"description": _STATUS_TEXT.get(status, "Response")}
    if isinstance(shape, Raw):
        if shape.content:
            described["content"] = copy.deepcopy(shape.content)
    elif shape is not None:
        described["content"] = _json_content(_inline(schemas[(shape, "serialization")], components))
    return described


def _operation(route, operation: Operation, operation_id: str, schemas: dict, components: dict) -> dict:
    described: dict[str, Any] = {"operationId": operation_id, "summary": operation.summary, "tags": [operation.tag]}
    parameters = _path_parameters(route) + _query_parameters(operation.query, schemas, components)
    if parameters:
        described["parameters"] = parameters
    if operation.body is not None:
        described["requestBody"] = _request_body(operation, schemas, components)
    responses = {str(operation.status): _response(operation.response, operation.status, schemas, components)}
    for status, shape in operation.responses.items():
        responses[str(status)] = _response(shape, status, schemas, components)
    for status in operation.errors:
        responses.setdefault(str(status), {"$ref": ERROR_RESPONSE, "description": _STATUS_TEXT.get(status, "Error")})
    # Whatever else goes wrong (a 401 of a decorator, a 405, a 500) answers the same shape.
    responses["default"] = {"$ref": ERROR_RESPONSE, "description": "Any other status: the shared error shape"}
    described["responses"] = responses
    if operation.secured:
        described["security"] = [{"bearer": []}]
    return described


def _request_body(operation: Operation, schemas: dict, components: dict) -> dict:
    if isinstance(operation.body, Raw):
        return {"required": operation.body_required is not False, "content": copy.deepcopy(operation.body.content)}
    schema = _inline(schemas[(operation.body, "validation")], components)
    required = operation.body_required
    if required is None:
        # A body whose every field may be left out may be left out itself (those routes read an empty body as {}).
        required = bool(schema.get("required"))
    return {"required": required, "content": _json_content(schema)}


def _path_parameters(route) -> list[dict]:
    return [
        {"name": name, "in": "path", "required": True, "schema": _path_schema(kind, route)}
        for name, kind in _PATH_PARAMETER.findall(route.path)
    ]


def _path_schema(kind: str, route) -> dict:
    """A path parameter's schema: an id within its column's range (core.http refuses others), or its pattern."""
    if kind == "int":
        largest = INT64_MAX if getattr(route.ctx, "big_ids", False) else INT32_MAX
        return {"type": "integer", "minimum": 0, "maximum": largest}
    if kind in _PATH_TYPES:
        return dict(_PATH_TYPES[kind])
    if not kind or re.fullmatch(r"[a-z]+", kind):
        return {"type": "string"}
    return {"type": "string", "pattern": f"^{kind}$"}


def _query_parameters(query: type[BaseModel] | None, schemas: dict, components: dict) -> list[dict]:
    if query is None:
        return []
    schema = _inline(schemas[(query, "validation")], components)
    required = set(schema.get("required", ()))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        prop = {key: value for key, value in prop.items() if key != "title"}
        description = prop.pop("description", None)
        if name not in required:
            prop = _without_null(prop)
        parameter = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _without_null(schema: dict) -> dict:
    """An optional query parameter is left out, never sent as null: drop the null branch and the null default."""
    branches = schema.get("anyOf")
    if isinstance(branches, list):
        kept = [branch for branch in branches if branch != {"type": "null"}]
        if len(kept) == 1:
            rest = {key: value for key, value in schema.items() if key != "anyOf"}
            schema = {**kept[0], **rest}
    if schema.get("default", 0) is None:
        schema = {key: value for key, value in schema.items() if key != "default"}
    return schema


_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Malformed request",
    401: "Not logged in",
    403: "Wrong role or not allowed",
    404: "Not found (or not yours)",
    405: "Method not allowed",
    409: "Conflict with the current state",
    413: "Body too large",
    415: "Unsupported file type",
    422: "Validation failed (details name the fields)",
    429: "Rate limited",
    500: "Server error",
    502: "The platform answered an error",
    503: "Unavailable",
}

_DOCS_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="UTF-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="openapi"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>
window.onload = function () {
  SwaggerUIBundle({url: "/openapi.json", dom_id: "#openapi", deepLinking: true});
};
</script>
</body>
</html>
"""


# Swagger UI's files as the pinned swagger-ui-py package ships them: /docs works offline, with no CDN.
_DOCS_ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}


def docs_assets_dir() -> Path:
    """The folder of Swagger UI's files in the installed swagger-ui-py package (found without importing it)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed: pip install -c requirements.lock -e .")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def install_openapi(app: Sanic, *, title: str, version: str, description: str) -> None:
    """Serve the document at /openapi.json (built once, on first request) and Swagger UI at /docs (files: a package)."""
    # sanic-ext's own builder would publish a second, different document under /docs.
    app.config.OAS = False

    @app.get("/openapi.json", name="openapi_document")
    async def openapi_document(request: Request):
        document = getattr(request.app.ctx, "openapi_document", None)
        if document is None:
            document = build_document(request.app, title=title, version=version, description=description)
            request.app.ctx.openapi_document = document
        return json(document)

    @app.get("/docs", name="openapi_ui")
    async def openapi_ui(request: Request):
        return html(_DOCS_PAGE.replace("__TITLE__", title))

    assets = docs_assets_dir()

    @app.get("/docs/<asset:str>", name="openapi_ui_asset")
    async def openapi_ui_asset(request: Request, asset: str):
        if asset not in _DOCS_ASSETS:
            raise NotFound()
        # The files change only with the package's pin: a day of caching spares the 1.5 MB bundle on every visit.
        return await file(assets / asset, mime_type=_DOCS_ASSETS[asset], max_age=86400)
