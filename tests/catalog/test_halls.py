"""Halls and their windows as a department admin keeps them: through HTTP (the console) and at the service."""

from datetime import datetime

import pytest

from app.audit import service as audit
from app.catalog import halls as hall_admin
from app.catalog.errors import HallInUse, HallNotFound, WindowBusy
from app.catalog.schemas import HallIn, WindowIn
from app.core.auth import STAFF, Principal
from app.core.errors import Forbidden
from tests import factories
from tests.core.test_errors import assert_error_shape

MONDAY_MORNING = datetime.fromisoformat("2026-09-21T10:00:00+08:00")  # a working day, the hall open


def hall_body(**overrides) -> dict:
    body = {
        "code": factories.unique("H")[:16],
        "name": "测试便民服务中心",
        "district": "江北区",
        "address": "临江市江北区测试路1号",
        "opening_hours": "周一至周五 09:00-17:00",
        "opening_periods": [{"weekdays": [1, 2, 3, 4, 5], "start": "09:00", "end": "17:00"}],
        "phone": "0739-1234567",
    }
    body.update(overrides)
    return body


def window_body(number: int = 1, **overrides) -> dict:
    return {"number": number, "name": f"{number} 号综合窗口", "matter_ids": [], "open": True, **overrides}


async def own_hall(client, cache) -> dict:
    """A department, its dept_admin and a hall they created (with window 1)."""
    department = await factories.department(cache)
    admin = await factories.staff(client, "dept_admin", department_id=department["id"])
    created = await client.post("/api/v1/admin/halls", json=hall_body(), headers=admin["headers"])
    assert created.status_code == 201, created.text
    hall = created.json()
    window = await client.post(
        f"/api/v1/admin/halls/{hall['id']}/windows", json=window_body(), headers=admin["headers"]
    )
    assert window.status_code == 201, window.text
    return {"department": department, "admin": admin, "hall": hall, "window": window.json()}


# ---- HTTP ----


async def test_dept_admin_creates_a_hall_and_window_the_citizen_sees(client, cache):
    setup = await own_hall(client, cache)
    hall, admin = setup["hall"], setup["admin"]
    assert hall["department_id"] == setup["department"]["id"]
    matter = await factories.matter(cache, department_id=setup["department"]["id"])
    second = await client.post(
        f"/api/v1/admin/halls/{hall['id']}/windows",
        json=window_body(2, name="公积金窗口", department_id=setup["department"]["id"], matter_ids=[matter["id"]]),
        headers=admin["headers"],
    )
    assert second.status_code == 201, second.text

    public = await factories.every_item(client, "/api/v1/halls")
    seen = next(item for item in public if item["id"] == hall["id"])
    assert seen["windows"] == 2
    assert [(w["number"], w["name"], w["matter_ids"], w["open"]) for w in seen["service_windows"]] == [
        (1, "1 号综合窗口", [], True),
        (2, "公积金窗口", [matter["id"]], True),
    ]
    mine = (await client.get("/api/v1/admin/halls", headers=admin["headers"])).json()["items"]
    assert [item["id"] for item in mine] == [hall["id"]]

    renamed = await client.put(
        f"/api/v1/admin/halls/{hall['id']}",
        json=hall_body(code=hall["code"], name="改名后的中心"),
        headers=admin["headers"],
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "改名后的中心"
    assert [w["number"] for w in renamed.json()["service_windows"]] == [1, 2]

    actions = [e["action"] for e in await audit.entries_for("hall", hall["id"])]
    assert actions == ["hall.create", "hall.update"]
    window_entries = await audit.entries_for("hall_window", second.json()["id"])
    assert window_entries[0]["action"] == "hall_window.create"
    assert window_entries[0]["staff_id"] == admin["id"]


async def test_another_departments_hall_and_windows_are_not_found(client, cache, admin_headers):
    setup = await own_hall(client, cache)
    hall, window = setup["hall"], setup["window"]
    other_department = await factories.department(cache)
    other = await factories.staff(client, "dept_admin", department_id=other_department["id"])
    base = f"/api/v1/admin/halls/{hall['id']}"
    for response in [
        await client.put(base, json=hall_body(code=hall["code"]), headers=other["headers"]),
        await client.delete(base, headers=other["headers"]),
        await client.post(f"{base}/windows", json=window_body(5), headers=other["headers"]),
        await client.put(f"{base}/windows/{window['id']}", json=window_body(), headers=other["headers"]),
        await client.delete(f"{base}/windows/{window['id']}", headers=other["headers"]),
    ]:
        assert_error_shape(response, 404, "HALL_NOT_FOUND")
    assert (await client.get("/api/v1/admin/halls", headers=other["headers"])).json()["items"] == []
    # The same requests from the hall's own admin find it; unknown ids are 404 too.
    assert_error_shape(
        await client.put("/api/v1/admin/halls/999999", json=hall_body(), headers=admin_headers), 404, "HALL_NOT_FOUND"
    )
    assert_error_shape(
        await client.delete(f"{base}/windows/999999", headers=setup["admin"]["headers"]), 404, "WINDOW_NOT_FOUND"
    )
    # A window addressed through another hall is not found either.
    elsewhere = await client.post("/api/v1/admin/halls", json=hall_body(), headers=setup["admin"]["headers"])
    assert_error_shape(
        await client.put(
            f"/api/v1/admin/halls/{elsewhere.json()['id']}/windows/{window['id']}",
            json=window_body(),
            headers=setup["admin"]["headers"],
        ),
        404,
        "WINDOW_NOT_FOUND",
    )
    # An admin keeps every hall.
    assert (await client.put(base, json=hall_body(code=hall["code"]), headers=admin_headers)).status_code == 200


async def test_clerks_citizens_and_other_departments_are_refused(client, cache):
    setup = await own_hall(client, cache)
    hall = setup["hall"]
    clerk = await factories.staff(client, "clerk", department_id=setup["department"]["id"])
    citizen = await factories.real_name_citizen(client)
    for headers in (clerk["headers"], citizen["headers"]):
        assert_error_shape(await client.get("/api/v1/admin/halls", headers=headers), 403, "FORBIDDEN")
        assert_error_shape(
            await client.post("/api/v1/admin/halls", json=hall_body(), headers=headers), 403, "FORBIDDEN"
        )
        assert_error_shape(
            await client.post(f"/api/v1/admin/halls/{hall['id']}/windows", json=window_body(3), headers=headers),
            403,
            "FORBIDDEN",
        )
    assert_error_shape(await client.get("/api/v1/admin/halls"), 401, "UNAUTHORIZED")
    other_department = await factories.department(cache)
    assert_error_shape(
        await client.post(
            "/api/v1/admin/halls",
            json=hall_body(department_id=other_department["id"]),
            headers=setup["admin"]["headers"],
        ),
        403,
        "FORBIDDEN",
    )


async def test_hall_and_window_fields_are_checked(client, cache):
    setup = await own_hall(client, cache)
    headers, hall = setup["admin"]["headers"], setup["hall"]
    windows = f"/api/v1/admin/halls/{hall['id']}/windows"
    assert_error_shape(await client.post(windows, json=window_body(1), headers=headers), 409, "WINDOW_NUMBER_TAKEN")
    assert_error_shape(await client.post(windows, json=window_body(0), headers=headers), 422, "VALIDATION_FAILED")
    assert_error_shape(
        await client.post(windows, json=window_body(4, matter_ids=[2_000_000_000]), headers=headers),
        422,
        "UNKNOWN_REFERENCE",
    )
    assert_error_shape(
        await client.post("/api/v1/admin/halls", json=hall_body(code=hall["code"]), headers=headers),
        409,
        "HALL_CODE_TAKEN",
    )
    bad_period = hall_body(opening_periods=[{"weekdays": [1], "start": "12:00", "end": "09:00"}])
    assert_error_shape(
        await client.post("/api/v1/admin/halls", json=bad_period, headers=headers), 422, "VALIDATION_FAILED"
    )


async def test_a_window_serving_a_number_cannot_be_closed_or_removed(client, cache, clock):
    clock.set(MONDAY_MORNING)
    setup = await own_hall(client, cache)
    headers, hall, window = setup["admin"]["headers"], setup["hall"], setup["window"]
    path = f"/api/v1/admin/halls/{hall['id']}/windows/{window['id']}"
    ticket = await client.post(f"/api/v1/halls/{hall['id']}/tickets", json={})
    assert ticket.status_code == 201, ticket.text
    await client.post(f"/api/v1/halls/{hall['id']}/tickets", json={})
    clerk = await factories.staff(client, "clerk", department_id=setup["department"]["id"])
    # A window not set up at this hall calls nobody.
    assert_error_shape(
        await client.post(f"/api/v1/staff/halls/{hall['id']}/call-next", json={"window": 2}, headers=clerk["headers"]),
        422,
        "VALIDATION_FAILED",
    )
    called = await client.post(
        f"/api/v1/staff/halls/{hall['id']}/call-next", json={"window": 1}, headers=clerk["headers"]
    )
    assert called.status_code == 200, called.text

    error = assert_error_shape(
        await client.put(path, json=window_body(open=False), headers=headers), 409, "WINDOW_BUSY"
    )
    assert "1 号窗口" in error["message"]
    assert assert_error_shape(await client.delete(path, headers=headers), 409, "WINDOW_BUSY")["details"]["serving"] == 1
    # Renaming it is fine; it stays open.
    renamed = await client.put(path, json=window_body(name="改名窗口"), headers=headers)
    assert renamed.status_code == 200 and renamed.json()["open"] is True

    # Served: still the hall's last open window while a number waits.
    finished = await client.post(f"/api/v1/staff/queue-tickets/{called.json()['id']}/finish", headers=clerk["headers"])
    assert finished.status_code == 200, finished.text
    error = assert_error_shape(
        await client.put(path, json=window_body(open=False), headers=headers), 409, "WINDOW_BUSY"
    )
    assert error["details"]["waiting"] == 1
    # With a second open window it may close, and a closed window calls nobody.
    second = await client.post(f"/api/v1/admin/halls/{hall['id']}/windows", json=window_body(2), headers=headers)
    assert second.status_code == 201
    closed = await client.put(path, json=window_body(open=False), headers=headers)
    assert closed.status_code == 200 and closed.json()["open"] is False
    assert_error_shape(
        await client.post(f"/api/v1/staff/halls/{hall['id']}/call-next", json={"window": 1}, headers=clerk["headers"]),
        422,
        "VALIDATION_FAILED",
    )
    assert (await client.delete(path, headers=headers)).status_code == 200
    assert [e["action"] for e in await audit.entries_for("hall_window", window["id"])] == [
        "hall_window.create",
        "hall_window.update",
        "hall_window.update",
        "hall_window.delete",
    ]


async def test_a_hall_with_appointments_to_come_cannot_be_deleted(client, cache, admin_headers):
    setup = await factories.bookable_matter(cache)
    await factories.schedule(cache, setup)
    slot = await factories.open_slot(client, setup)
    citizen = await factories.real_name_citizen(client)
    booked = await client.post(
        "/api/v1/appointments",
        json={"slot_id": slot["id"], "matter_id": setup["matter"]["id"]},
        headers=citizen["headers"],
    )
    assert booked.status_code == 201, booked.text
    error = assert_error_shape(
        await client.delete(f"/api/v1/admin/halls/{setup['hall']['id']}", headers=admin_headers), 409, "HALL_IN_USE"
    )
    assert error["details"]["future_appointments"] == 1
    assert "预约" in error["message"]


async def test_an_unused_hall_is_deleted_with_its_windows(client, cache):
    setup = await own_hall(client, cache)
    hall = setup["hall"]
    deleted = await client.delete(f"/api/v1/admin/halls/{hall['id']}", headers=setup["admin"]["headers"])
    assert deleted.status_code == 200, deleted.text
    assert hall["id"] not in [item["id"] for item in await factories.every_item(client, "/api/v1/halls")]
    assert [e["action"] for e in await audit.entries_for("hall", hall["id"])] == ["hall.create", "hall.delete"]


# ---- the service ----


def dept_admin(department_id: int) -> Principal:
    return Principal(kind=STAFF, id=1, roles=("dept_admin",), department_id=department_id, name="测试管理员")


async def test_service_scopes_halls_to_the_department(cache):
    department = await factories.department(cache)
    other = await factories.department(cache)
    hall = await hall_admin.create_hall(
        HallIn.model_validate(hall_body()), actor=dept_admin(department["id"]), cache=cache
    )
    assert hall["department_id"] == department["id"]
    with pytest.raises(HallNotFound):
        await hall_admin.create_window(
            hall["id"], WindowIn.model_validate(window_body()), actor=dept_admin(other["id"]), cache=cache
        )
    with pytest.raises(Forbidden):
        await hall_admin.create_hall(
            HallIn.model_validate(hall_body(department_id=other["id"])), actor=dept_admin(department["id"]), cache=cache
        )
    city_hall = await factories.hall(cache)  # no department: the city's admins only
    with pytest.raises(HallNotFound):
        await hall_admin.delete_hall(city_hall["id"], actor=dept_admin(department["id"]), cache=cache)


async def test_service_refuses_to_remove_a_busy_window_or_a_hall_in_use(cache, clock):
    clock.set(MONDAY_MORNING)
    from app.booking import service as booking

    department = await factories.department(cache)
    actor = dept_admin(department["id"])
    hall = await hall_admin.create_hall(HallIn.model_validate(hall_body()), actor=actor, cache=cache)
    window = await hall_admin.create_window(
        hall["id"], WindowIn.model_validate(window_body()), actor=actor, cache=cache
    )
    await booking.take_walk_in_queue_ticket(hall_id=hall["id"], matter_id=None)
    with pytest.raises(WindowBusy):
        await hall_admin.delete_window(hall["id"], window["id"], actor=actor, cache=cache)
    with pytest.raises(HallInUse) as refused:
        await hall_admin.delete_hall(hall["id"], actor=actor, cache=cache)
    assert refused.value.details["waiting"] == 1


async def test_a_window_is_not_closed_while_numbers_wait_that_only_it_serves(cache, clock):
    clock.set(MONDAY_MORNING)
    from app.booking import service as booking

    police = await factories.department(cache)
    social = await factories.department(cache)
    actor = dept_admin(police["id"])
    hall = await hall_admin.create_hall(HallIn.model_validate(hall_body()), actor=actor, cache=cache)
    windows = {}
    for number, department in ((1, police), (2, social)):
        body = WindowIn.model_validate(window_body(number, department_id=department["id"]))
        windows[number] = await hall_admin.create_window(hall["id"], body, actor=actor, cache=cache)
    matter = await factories.matter(cache, department_id=police["id"])
    await booking.take_walk_in_queue_ticket(hall_id=hall["id"], matter_id=matter["id"])
    # Window 2 is open, but it calls no 公安 number: the one waiting waits for window 1.
    closing = WindowIn.model_validate(window_body(1, department_id=police["id"], open=False))
    with pytest.raises(WindowBusy) as refused:
        await hall_admin.update_window(hall["id"], windows[1]["id"], closing, actor=actor, cache=cache)
    assert refused.value.details == {"window": 1, "serving": 0, "waiting": 1}
    with pytest.raises(WindowBusy):
        await hall_admin.delete_window(hall["id"], windows[1]["id"], actor=actor, cache=cache)
    # Window 2 serves nobody who waits: it closes. With a general window open, window 1 may close too.
    closing_two = WindowIn.model_validate(window_body(2, department_id=social["id"], open=False))
    await hall_admin.update_window(hall["id"], windows[2]["id"], closing_two, actor=actor, cache=cache)
    await hall_admin.create_window(hall["id"], WindowIn.model_validate(window_body(3)), actor=actor, cache=cache)
    closed = await hall_admin.update_window(hall["id"], windows[1]["id"], closing, actor=actor, cache=cache)
    assert closed["open"] is False
