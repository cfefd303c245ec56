"""Bad input is a 4xx in the error shape, never a 500: ids past a column's range, NUL bytes, lone surrogates."""

from __future__ import annotations

import json
import re

import pytest

from tests import factories

INT32_PAST = 2**31
INT64_PAST = 2**63
HUGE = 10**30
PARAMETER = re.compile(r"<([a-z_]+):int>")


def _int_routes(app) -> list[tuple[str, str, bool]]:
    """(method, path pattern, takes int8 ids) of every route of the app with an integer path parameter."""
    found = []
    for route in app.router.routes:
        if not PARAMETER.search(route.path):
            continue
        for method in route.methods:
            if method not in ("HEAD", "OPTIONS"):
                found.append((method, "/" + route.path.lstrip("/"), bool(getattr(route.ctx, "big_ids", False))))
    return sorted(set(found))


def _with(path: str, value: int) -> str:
    return PARAMETER.sub(str(value), path)


async def test_every_route_answers_404_for_ids_past_the_range_of_its_column(app, client):
    routes = _int_routes(app)
    assert len(routes) >= 30  # the walk found the app's routes, not an empty table
    for method, path, big_ids in routes:
        for value in (INT64_PAST, HUGE, -1) if big_ids else (INT32_PAST, INT64_PAST, HUGE, -1):
            response = await client.request(method, _with(path, value))
            assert response.status_code == 404, (method, path, value, response.text)
            assert response.json()["error"]["code"] == "NOT_FOUND"


async def test_an_int8_id_within_its_range_is_looked_up_not_refused(app, client):
    citizen = await factories.wechat_login(client)
    response = await client.post(f"/api/v1/me/messages/{INT32_PAST}/read", headers=citizen["headers"])
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "MESSAGE_NOT_FOUND"


@pytest.mark.parametrize("bad", ["a\x00b", "a\ud800b", "\udfff"])
async def test_nul_and_lone_surrogates_in_a_body_are_422_naming_the_field(client, bad):
    citizen = await factories.wechat_login(client)
    body = json.dumps({"kind": "consult", "content": bad}).encode()
    response = await client.post(
        "/api/v1/feedback", content=body, headers={**citizen["headers"], "Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["fields"] == [
        {"field": "content", "message": "不能包含空字符或无效的 Unicode 字符", "type": "string_unsafe"}
    ]


async def test_nul_in_a_login_name_and_in_a_nested_form_value_are_422(client):
    response = await client.post(
        "/api/v1/auth/staff",
        content=json.dumps({"username": "ad\x00min", "password": "whatever-long"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "username"
    citizen = await factories.real_name_citizen(client)
    response = await client.post(
        "/api/v1/cases",
        content=json.dumps({"matter_id": 1, "form": {"address": "路\ud800"}}).encode(),
        headers={**citizen["headers"], "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "form.address"


async def test_nul_in_a_search_query_is_422(client):
    response = await client.get("/api/v1/matters", params={"q": "社\x00保"})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "q"


@pytest.mark.parametrize("order_no", ["WX%00123", "W" * 33, "W" * 5000, "%ED%A0%80"])
async def test_order_numbers_that_cannot_exist_are_404(client, order_no):
    citizen = await factories.wechat_login(client)
    response = await client.get(f"/api/v1/payments/{order_no}", headers=citizen["headers"])
    assert response.status_code == 404, response.text


# Integers of queries and JSON bodies: every one the document describes is bounded by its column, and one past the
# bound is a 422 naming the field, before any query. The list comes from /openapi.json, so a new operation is covered.
INTEGER_FIELD_HAS_NO_BOUND = "an integer request field with no maximum can reach the database past its column"


def _resolve(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _integer_schema(document: dict, schema: dict) -> dict | None:
    """The integer branch of a (possibly nullable) property schema, None when it takes no integer."""
    schema = _resolve(document, schema)
    if schema.get("type") == "integer":
        return schema
    for branch in schema.get("anyOf", []):
        found = _integer_schema(document, branch)
        if found is not None:
            return found
    return None


def _integer_fields(document: dict) -> list[tuple[str, str, str, str, dict]]:
    """(method, path, where, field, integer schema) of every integer query parameter and JSON body property; a
    list of integers is named by its first item (field.0)."""
    found = []
    for path, operations in document["paths"].items():
        if path.startswith("/sim"):
            continue
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                integer = _integer_schema(document, parameter.get("schema", {}))
                if parameter["in"] == "query" and integer is not None:
                    found.append((method.upper(), path, "query", parameter["name"], integer))
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is None:
                continue
            for name, prop in _resolve(document, body["schema"]).get("properties", {}).items():
                integer = _integer_schema(document, prop)
                if integer is not None:
                    found.append((method.upper(), path, "body", name, integer))
                    continue
                prop = _resolve(document, prop)
                items = prop.get("items") if prop.get("type") == "array" else None
                integer = _integer_schema(document, items) if items else None
                if integer is not None:
                    found.append((method.upper(), path, "body", f"{name}.0", integer))
    return found


def _path_with_ones(path: str) -> str:
    return re.sub(r"\{[a-z_]+\}", "1", path)


async def test_every_integer_of_a_query_or_a_body_is_bounded_by_its_column(client, admin_headers):
    document = (await client.get("/openapi.json")).json()
    fields = _integer_fields(document)
    assert len(fields) >= 40, fields  # the walk found the document's fields, not an empty list
    unbounded = [
        (method, path, name)
        for method, path, _, name, integer in fields
        if "maximum" not in integer and "enum" not in integer
    ]
    assert unbounded == [], INTEGER_FIELD_HAS_NO_BOUND
    citizen = await factories.real_name_citizen(client)
    refused = 0
    for method, path, where, name, integer in fields:
        past = integer["maximum"] + 1 if "maximum" in integer else max(integer["enum"]) + 1
        assert past <= 2**31 or past == 2**63, (method, path, name, integer)  # an int4 or an int8 column
        if name.endswith(".0"):
            request = {"json": {name[:-2]: [past]}}
        elif where == "body":
            request = {"json": {name: past}}
        else:
            request = {"params": {name: str(past)}}
        for headers in (citizen["headers"], admin_headers):
            response = await client.request(method, _path_with_ones(path), headers=headers, **request)
            if response.status_code != 403:
                break
        # A route that answers 404 (its path id names nothing) or 403 before reading the input never used the value.
        assert response.status_code in (404, 403, 422), (method, path, name, response.status_code, response.text)
        if response.status_code == 422:
            error = response.json()["error"]
            assert error["code"] == "VALIDATION_FAILED", response.text
            assert name in [item["field"] for item in error["details"]["fields"]], (method, path, response.text)
            refused += 1
    assert refused >= 30, refused


@pytest.mark.parametrize("material_id", [str(INT32_PAST), str(INT64_PAST), "²", "0", "-1"])
async def test_a_multipart_material_id_that_no_column_holds_is_422_naming_it(client, material_id):
    citizen = await factories.real_name_citizen(client)
    upload = {"data": {"material_id": material_id}, "files": {"file": ("a.pdf", b"%PDF-1.4", "application/pdf")}}
    response = await client.post("/api/v1/cases/1/materials", headers=citizen["headers"], **upload)
    assert response.status_code == 422, response.text
    assert [item["field"] for item in response.json()["error"]["details"]["fields"]] == ["material_id"]
