"""The administrators' audit log through HTTP: who changed what, when, before and after, filtered."""

from datetime import timedelta

from app.core.timeutil import now as clock_now
from app.core.workdays import local_date
from tests import factories as f
from tests.core.test_errors import assert_error_shape


async def test_an_admin_finds_a_staff_members_change_with_its_before_and_after(client, cache):
    setup = await f.case_setup(client, cache)
    case = await f.moved(client, await f.submitted_case(client, setup), setup["clerk"], "accept")
    admin = await f.shared_staff(client, "admin")
    today = local_date(clock_now()).isoformat()
    response = await client.get(
        "/api/v1/admin/audit",
        headers=admin["headers"],
        params={"staff_id": setup["clerk"]["id"], "object_type": "case", "object_id": str(case["id"]), "from": today},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == 1
    entry = body["items"][0]
    assert (entry["staff_id"], entry["object_type"], entry["object_id"]) == (
        setup["clerk"]["id"],
        "case",
        str(case["id"]),
    )
    assert entry["actor"] == f"staff:{setup['clerk']['id']}" and entry["at"]
    assert entry["before"]["status"] == "submitted" and entry["after"]["status"] == "accepted"
    # A period that ended before the change finds nothing of it.
    yesterday = (local_date(clock_now()) - timedelta(days=1)).isoformat()
    earlier = await client.get(
        "/api/v1/admin/audit",
        headers=admin["headers"],
        params={"staff_id": setup["clerk"]["id"], "to": yesterday},
    )
    assert earlier.json()["total"] == 0


async def test_only_admins_read_the_audit_log(client, cache):
    setup = await f.case_setup(client, cache)
    supervisor = await f.shared_staff(client, "supervisor")
    for who in (setup["clerk"], supervisor):
        assert_error_shape(await client.get("/api/v1/admin/audit", headers=who["headers"]), 403, "FORBIDDEN")
    assert (await client.get("/api/v1/admin/audit")).status_code == 401


async def test_a_bad_filter_is_422(client):
    admin = await f.shared_staff(client, "admin")
    for params in ({"from": "2026-13-01"}, {"staff_id": "0"}, {"to": "yesterday"}):
        response = await client.get("/api/v1/admin/audit", headers=admin["headers"], params=params)
        assert_error_shape(response, 422, "VALIDATION_FAILED")
