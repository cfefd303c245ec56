"""Staff admin over HTTP takes a department by its code, as the CLI does, or by its id."""

from __future__ import annotations

from tests import factories
from tests.core.test_errors import assert_error_shape


async def test_staff_admin_takes_the_department_code_or_id(client, cache):
    admin = await factories.shared_staff(client, "admin")
    department = await factories.department(cache)
    other = await factories.department(cache)
    body = {
        "username": factories.unique("clerk_"),
        "password": factories.STAFF_PASSWORD,
        "name": "李窗口",
        "roles": ["clerk"],
        "department_code": department["code"],
    }
    created = await client.post("/api/v1/admin/staff", json=body, headers=admin["headers"])
    assert created.status_code == 201, created.text
    assert created.json()["department_id"] == department["id"]

    listed = await client.get(
        "/api/v1/admin/staff", params={"department_code": department["code"]}, headers=admin["headers"]
    )
    assert [item["username"] for item in listed.json()["items"]] == [body["username"]]

    moved = await client.patch(
        f"/api/v1/admin/staff/{created.json()['id']}", json={"department_code": other["code"]}, headers=admin["headers"]
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["department_id"] == other["id"]
    by_id = await client.patch(
        f"/api/v1/admin/staff/{created.json()['id']}",
        json={"department_id": department["id"]},
        headers=admin["headers"],
    )
    assert by_id.json()["department_id"] == department["id"]


async def test_an_unknown_code_or_both_at_once_is_422(client, cache):
    admin = await factories.shared_staff(client, "admin")
    department = await factories.department(cache)
    body = {
        "username": factories.unique("clerk_"),
        "password": factories.STAFF_PASSWORD,
        "name": "李窗口",
        "roles": ["clerk"],
    }
    unknown = await client.post(
        "/api/v1/admin/staff", json={**body, "department_code": "NO-SUCH"}, headers=admin["headers"]
    )
    error = assert_error_shape(unknown, 422, "UNKNOWN_DEPARTMENT")
    assert error["details"]["fields"][0]["field"] == "department_code"
    both = {**body, "department_code": department["code"], "department_id": department["id"]}
    assert_error_shape(
        await client.post("/api/v1/admin/staff", json=both, headers=admin["headers"]), 422, "VALIDATION_FAILED"
    )
