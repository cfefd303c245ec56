"""Staff alerts: what WeChat Work tells staff is kept for the console, scoped like the cases, read per person."""

from app.notifications import service as notifications
from tests import factories as f


async def _alerts(client, staff: dict, **params) -> dict:
    response = await client.get("/api/v1/staff/alerts", headers=staff["headers"], params={"page_size": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()


async def _submitted_with_alert(client, cache, settings) -> tuple[dict, dict]:
    setup = await f.case_setup(client, cache)
    case = await f.submitted_case(client, setup)
    await notifications.dispatch_events(settings=settings, limit=1000)
    return setup, case


async def test_a_new_case_is_listed_for_its_department_and_read_per_person(client, cache, settings):
    setup, case = await _submitted_with_alert(client, cache, settings)
    clerk = setup["clerk"]

    listed = await _alerts(client, clerk)
    submitted = [a for a in listed["items"] if a["kind"] == "case.submitted"]
    assert [a["subject"] for a in submitted] == [{"type": "case", "id": case["id"]}]
    assert submitted[0]["read"] is False
    assert submitted[0]["department_id"] == setup["department"]["id"]
    assert setup["matter"]["name"] in submitted[0]["text"]
    unread_before = listed["unread"]
    count = await client.get("/api/v1/staff/alerts/unread-count", headers=clerk["headers"])
    assert count.json() == {"unread": unread_before}

    read = await client.post(f"/api/v1/staff/alerts/{submitted[0]['id']}/read", headers=clerk["headers"])
    assert read.status_code == 200, read.text
    assert read.json()["read"] is True
    after = await _alerts(client, clerk)
    assert after["unread"] == unread_before - 1
    assert submitted[0]["id"] not in [a["id"] for a in (await _alerts(client, clerk, unread="true"))["items"]]
    # Reading twice is harmless and counts once.
    again = await client.post(f"/api/v1/staff/alerts/{submitted[0]['id']}/read", headers=clerk["headers"])
    assert again.status_code == 200
    assert (await _alerts(client, clerk))["unread"] == unread_before - 1

    # The approver of the same department still has it unread: reading is one person's.
    approver_items = (await _alerts(client, setup["approver"]))["items"]
    assert next(a for a in approver_items if a["id"] == submitted[0]["id"])["read"] is False


async def test_read_all_leaves_nothing_unread(client, cache, settings):
    setup, _ = await _submitted_with_alert(client, cache, settings)
    clerk = setup["clerk"]
    assert (await _alerts(client, clerk))["unread"] >= 1
    marked = await client.post("/api/v1/staff/alerts/read-all", headers=clerk["headers"])
    assert marked.status_code == 200, marked.text
    assert marked.json()["marked"] >= 1
    assert marked.json()["unread"] == 0
    assert (await _alerts(client, clerk, unread="true"))["items"] == []


async def test_another_departments_alert_is_not_found_and_supervisors_see_all(client, cache, settings):
    setup, case = await _submitted_with_alert(client, cache, settings)
    mine = next(a for a in (await _alerts(client, setup["clerk"]))["items"] if a["subject"]["id"] == case["id"])

    elsewhere = await f.department(cache)
    other_clerk = await f.staff(client, "clerk", department_id=elsewhere["id"])
    assert mine["id"] not in [a["id"] for a in (await _alerts(client, other_clerk))["items"]]
    stranger = await client.post(f"/api/v1/staff/alerts/{mine['id']}/read", headers=other_clerk["headers"])
    assert stranger.status_code == 404
    assert stranger.json()["error"]["code"] == "ALERT_NOT_FOUND"

    supervisor = await f.staff(client, "supervisor")
    seen = await _alerts(client, supervisor)
    assert mine["id"] in [a["id"] for a in seen["items"]]


async def test_unknown_alert_is_not_found_and_citizens_are_refused(client, cache, settings):
    clerk = await f.shared_staff(client, "clerk", department_id=(await f.department(cache))["id"])
    missing = await client.post("/api/v1/staff/alerts/999999999/read", headers=clerk["headers"])
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "ALERT_NOT_FOUND"

    citizen = await f.real_name_citizen(client)
    refused = await client.get("/api/v1/staff/alerts", headers=citizen["headers"])
    assert refused.status_code == 403
    anonymous = await client.get("/api/v1/staff/alerts/unread-count")
    assert anonymous.status_code == 401


async def test_an_alert_is_kept_when_nobody_would_get_the_wechat_work_text(client, cache, settings):
    # A department with no staff at all: WeChat Work has no one to tell, the console still lists it (supervisors).
    dep = await f.department(cache)
    item = await f.matter(cache, department_id=dep["id"])
    setup = {
        "matter": item,
        "required": [m["id"] for m in item["materials"] if m["required"]],
        "citizen": await f.real_name_citizen(client),
    }
    case = await f.submitted_case(client, setup)
    await notifications.dispatch_events(settings=settings, limit=1000)
    supervisor = await f.staff(client, "supervisor")
    kinds = {(a["kind"], a["subject"]["id"]) for a in (await _alerts(client, supervisor))["items"]}
    assert ("case.submitted", case["id"]) in kinds
