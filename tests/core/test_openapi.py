"""The OpenAPI document as a whole: valid for the version it declares, every $ref resolving, schemas as pydantic
writes them (enums are enums, no model internals)."""

from __future__ import annotations

from openapi_spec_validator import validate

from app.core.openapi import path_template


def _walk(node, where="#"):
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from _walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{where}/{index}")


def _resolve(document: dict, ref: str):
    node = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


async def _document(client) -> dict:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


async def test_the_document_is_valid_openapi_3_1(client):
    document = await _document(client)
    assert document["openapi"] == "3.1.0"
    validate(document)


async def test_every_ref_resolves_and_no_model_internals_leak(client):
    document = await _document(client)
    refs = [(where, node["$ref"]) for where, node in _walk(document) if isinstance(node.get("$ref"), str)]
    assert refs, "components are referenced"
    for where, ref in refs:
        assert ref.startswith("#/components/"), (where, ref)
        assert _resolve(document, ref) is not None, (where, ref)
    for where, node in _walk(document):
        assert "$defs" not in node, where
        properties = node.get("properties")
        if isinstance(properties, dict) and node.get("type") == "object":
            assert "model_config" not in properties, where


async def test_enums_and_bounds_are_documented_with_their_values(client):
    document = await _document(client)
    case = document["components"]["schemas"]["CaseStatus"]
    assert case["type"] == "string" and "draft" in case["enum"]
    payment = document["paths"]["/api/v1/cases/{case_id}/payments"]["post"]
    channel = payment["requestBody"]["content"]["application/json"]["schema"]["properties"]["channel"]
    assert channel == {"enum": ["wechat", "alipay"], "type": "string"}
    refund = document["paths"]["/api/v1/admin/payments/{order_no}/refunds"]["post"]
    amount = refund["requestBody"]["content"]["application/json"]["schema"]["properties"]["amount_fen"]
    assert amount == {
        "exclusiveMinimum": 0,
        "maximum": 100_000_000,
        "type": "integer",
    }  # 3.1: a number, as JSON Schema 2020-12 has it
    listing = {p["name"]: p for p in document["paths"]["/api/v1/staff/cases"]["get"]["parameters"]}
    assert listing["status"]["schema"]["enum"] == case["enum"] and listing["status"]["required"] is False
    assert listing["light"]["schema"] == {"enum": ["green", "yellow", "red"], "type": "string"}
    assert listing["page_size"]["schema"] == {"default": 20, "maximum": 100, "minimum": 1, "type": "integer"}
    calendar = {p["name"]: p for p in document["paths"]["/api/v1/admin/calendar"]["get"]["parameters"]}
    assert calendar["year"]["required"] is True and calendar["year"]["schema"]["type"] == "integer"
    path = {p["name"]: p for p in document["paths"]["/api/v1/cases/{case_id}"]["get"]["parameters"]}
    assert path["case_id"] == {
        "name": "case_id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
    }
    order = {p["name"]: p for p in document["paths"]["/api/v1/payments/{order_no}"]["get"]["parameters"]}
    assert order["order_no"]["schema"] == {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"}


async def test_lists_are_documented_as_the_pages_they_return(client):
    document = await _document(client)
    for path in (
        "/api/v1/departments",
        "/api/v1/halls",
        "/api/v1/themes",
        "/api/v1/matters",
        "/api/v1/matters/{matter_id}/versions",
        "/api/v1/admin/schedules",
        "/api/v1/cases",
        "/api/v1/staff/tickets",
        "/api/v1/me/messages",
    ):
        schema = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert {"items", "total", "page", "page_size"} <= set(schema["required"]), path
        assert schema["properties"]["items"]["type"] == "array", path
        response = await client.get(path.replace("{matter_id}", "1"))
        if response.status_code == 200:
            assert set(response.json()) >= {"items", "total", "page", "page_size"}, path


async def test_errors_share_one_shape_and_any_other_status_is_documented_as_it(client):
    document = await _document(client)
    error = document["components"]["responses"]["Error"]["content"]["application/json"]["schema"]
    assert error["required"] == ["error"]
    assert set(error["properties"]["error"]["properties"]) == {"code", "message", "request_id", "details"}
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            assert operation["responses"]["default"]["$ref"] == "#/components/responses/Error", (method, path)


async def test_every_documented_route_is_in_the_document_once(app, client):
    document = await _document(client)
    operation_ids = [
        operation["operationId"] for methods in document["paths"].values() for operation in methods.values()
    ]
    assert len(operation_ids) == len(set(operation_ids))
    for route in app.router.routes:
        if route.path in ("openapi.json", "docs", "metrics") or route.path.startswith("docs/"):
            continue
        if route.path.split("/", 1)[0] in ("console", "m"):
            continue  # the built front ends' files (app/core/frontends.py): pages, not API operations
        for method in route.methods - {"HEAD", "OPTIONS"}:  # sanic-ext answers those itself, for every path
            assert method.lower() in document["paths"].get(path_template(route.path), {}), (method, route.path)


async def test_docs_page_shows_the_same_document(client):
    page = await client.get("/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert '"/openapi.json"' in page.text


async def test_docs_page_loads_swagger_ui_from_this_server_not_a_cdn(client):
    import re

    page = (await client.get("/docs")).text
    assert not re.search(r"(src|href)=\"(https?:)?//", page), "the page must work offline"
    linked = re.findall(r"(?:src|href)=\"(/docs/[^\"]+)\"", page)
    assert {"/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js"} <= set(linked)
    for path in linked:
        asset = await client.get(path)
        assert asset.status_code == 200 and asset.content, path
        assert asset.headers["cache-control"] == "public, max-age=86400"
    script = await client.get("/docs/swagger-ui-bundle.js")
    assert script.headers["content-type"].startswith("text/javascript") and b"SwaggerUIBundle" in script.content
    assert (await client.get("/docs/swagger-ui.css")).headers["content-type"].startswith("text/css")


async def test_docs_assets_are_only_swagger_uis_files_and_not_in_the_document(client):
    for path in ("/docs/index.html", "/docs/..%2Fconfig.toml", "/docs/swagger-editor.js"):
        assert (await client.get(path)).status_code == 404, path
    document = (await client.get("/openapi.json")).json()
    assert not [path for path in document["paths"] if path.startswith("/docs")]
