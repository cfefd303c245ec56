"""The error contract every endpoint shares (API.md Conventions)."""

import logging


def assert_error_shape(response, status: int, code: str):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["error"]["request_id"] == response.headers["x-request-id"]
    return body["error"]


async def test_unknown_path_is_404_in_the_error_shape(client):
    assert_error_shape(await client.get("/api/v1/no-such-thing"), 404, "NOT_FOUND")


async def test_wrong_method_is_405(client):
    assert_error_shape(await client.delete("/api/v1/departments"), 405, "METHOD_NOT_ALLOWED")


async def test_malformed_json_is_400(client, admin_headers):
    response = await client.post("/api/v1/admin/matters", content=b'{"name": ', headers=admin_headers)
    assert_error_shape(response, 400, "MALFORMED_JSON")


async def test_json_that_is_not_an_object_is_400(client, admin_headers):
    response = await client.post("/api/v1/admin/matters", json=[1, 2, 3], headers=admin_headers)
    assert_error_shape(response, 400, "BAD_REQUEST")


async def test_wrong_types_are_422_with_field_details(client, admin_headers):
    response = await client.post(
        "/api/v1/admin/matters", json={"code": 12, "legal_days": "many"}, headers=admin_headers
    )
    error = assert_error_shape(response, 422, "VALIDATION_FAILED")
    fields = {item["field"] for item in error["details"]["fields"]}
    assert {"code", "legal_days", "name"} <= fields


async def test_bad_query_parameter_is_422_not_500(client):
    response = await client.get("/api/v1/matters", params={"page": "zero", "page_size": "1000"})
    error = assert_error_shape(response, 422, "VALIDATION_FAILED")
    assert {item["field"] for item in error["details"]["fields"]} == {"page", "page_size"}


async def test_request_id_from_client_is_echoed_and_otherwise_generated(client):
    response = await client.get("/healthz", headers={"X-Request-ID": "mini-program-123456"})
    assert response.headers["x-request-id"] == "mini-program-123456"
    generated = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert generated.headers["x-request-id"] != "bad id with spaces"
    assert len(generated.headers["x-request-id"]) == 32


async def test_access_log_has_request_id_but_no_token_or_query(client, admin_headers, caplog):
    caplog.set_level(logging.INFO, logger="app.access")
    response = await client.get("/api/v1/matters", params={"q": "110101199003074578"}, headers=admin_headers)
    assert response.status_code == 200
    lines = [r for r in caplog.records if r.name == "app.access"]
    assert lines, "an access log line is written"
    text = caplog.text
    assert "/api/v1/matters" in text
    assert "110101199003074578" not in text
    assert admin_headers["Authorization"].split()[1] not in text
    assert lines[-1].request_id == response.headers["x-request-id"]


async def test_unexpected_error_is_500_without_stack_trace(client, monkeypatch):
    from app.catalog import service as catalog

    async def broken(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(catalog, "list_halls", broken)
    response = await client.get("/api/v1/halls")
    error = assert_error_shape(response, 500, "INTERNAL")
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    assert error["message"]
