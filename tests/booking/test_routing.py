"""Calling by what a window serves: a department's window calls its department's numbers, a window listing matters
only those, a general window any; numbers ahead count what the windows able to serve a number would call first."""

import asyncio
from datetime import datetime

import pytest

from app.booking import service as booking
from app.booking.errors import MatterNotServedHere, QueueEmpty
from app.catalog import halls as hall_admin
from app.catalog.schemas import WindowIn
from app.core.auth import STAFF, Principal
from app.core.models import OutboxEvent
from tests import factories
from tests.core.test_errors import assert_error_shape

MONDAY = datetime.fromisoformat("2026-09-21T10:00:00+08:00")  # a working day, the test hall open
ADMIN = Principal(kind=STAFF, id=1, roles=("admin",), name="测试管理员")


@pytest.fixture(autouse=True)
def fresh_memory():
    booking.memos.reset()
    yield
    booking.memos.reset()


async def hall_with_windows(cache, *windows: dict) -> dict:
    """A hall with these windows (number, department_id, matter_ids, open), and two departments' matters."""
    hall = await factories.hall(cache)
    for window in windows:
        body = {"name": f"{window['number']} 号窗口", "matter_ids": [], **window}
        await hall_admin.create_window(hall["id"], WindowIn.model_validate(body), actor=ADMIN, cache=cache)
    return hall


async def two_departments(cache) -> dict:
    """Two departments, two matters of the first (ga, ga2) and one of the second (rs)."""
    ga = await factories.department(cache)
    rs = await factories.department(cache)
    return {
        "ga_dept": ga["id"],
        "rs_dept": rs["id"],
        "ga": (await factories.matter(cache, department_id=ga["id"]))["id"],
        "ga2": (await factories.matter(cache, department_id=ga["id"]))["id"],
        "rs": (await factories.matter(cache, department_id=rs["id"]))["id"],
    }


async def take(hall: dict, matter_id: int | None, citizen_id: int | None = None, now=MONDAY) -> dict:
    return await booking.take_walk_in_queue_ticket(
        hall_id=hall["id"], matter_id=matter_id, citizen_id=citizen_id, now=now
    )


async def call(hall: dict, window: int, now=MONDAY) -> str:
    return (await booking.call_next(hall_id=hall["id"], window=window, now=now))["number"]


async def test_a_department_window_skips_another_departments_number(cache):
    d = await two_departments(cache)
    hall = await hall_with_windows(
        cache, {"number": 1, "department_id": d["ga_dept"]}, {"number": 2, "department_id": d["rs_dept"]}
    )
    await take(hall, d["rs"])  # B001
    await take(hall, d["rs"])  # B002
    ga = await take(hall, d["ga2"])  # B003
    # Only window 1 serves it, and it calls no 人社 number: nobody is ahead (hall-wide there would be 2).
    assert ga["ahead"] == 0
    assert await call(hall, 1) == "B003"
    with pytest.raises(QueueEmpty) as empty:
        await call(hall, 1)
    # Not the hall's empty queue: numbers wait for other windows, and the clerk is told so.
    assert empty.value.details == {"waiting_in_hall": 2}
    assert "本窗口" in empty.value.message
    assert [await call(hall, 2), await call(hall, 2)] == ["B001", "B002"]
    with pytest.raises(QueueEmpty) as empty:
        await call(hall, 2)
    assert empty.value.details == {"waiting_in_hall": 0}
    assert (await booking.queue_status(hall_id=hall["id"], now=MONDAY))["waiting"] == 0


async def test_a_matter_window_calls_only_its_matters_and_a_general_window_anything(cache):
    d = await two_departments(cache)
    hall = await hall_with_windows(
        cache,
        {"number": 1, "department_id": d["ga_dept"], "matter_ids": [d["ga"]]},
        {"number": 2},  # general: every department
    )
    await take(hall, d["ga2"])  # B001: same department, not window 1's matter
    await take(hall, d["rs"])  # B002
    await take(hall, None)  # B003: no matter given at the kiosk
    ga = await take(hall, d["ga"])  # B004
    # Windows 1 and 2 both serve it; the general window calls everything: all three count.
    assert ga["ahead"] == 3
    assert await call(hall, 1) == "B004"
    with pytest.raises(QueueEmpty):
        await call(hall, 1)  # a general window is open: the matter-less number is its
    assert [await call(hall, 2) for _ in range(3)] == ["B001", "B002", "B003"]
    # The hall screen's count stays hall-wide.
    await take(hall, d["rs"])
    await take(hall, d["ga"])
    assert (await booking.queue_status(hall_id=hall["id"], now=MONDAY))["waiting"] == 2


async def test_a_number_without_a_matter_goes_to_any_window_when_no_general_one_is_open(cache):
    d = await two_departments(cache)
    hall = await hall_with_windows(
        cache,
        {"number": 1, "department_id": d["ga_dept"]},
        {"number": 2, "open": False},  # the general window is closed
    )
    await take(hall, d["rs"])  # B001: no open window serves it; it waits
    unsorted = await take(hall, None)  # B002
    assert unsorted["ahead"] == 0  # window 1 would not call B001 first
    assert await call(hall, 1) == "B002"
    with pytest.raises(QueueEmpty) as empty:
        await call(hall, 1)
    assert empty.value.details == {"waiting_in_hall": 1}


async def test_two_department_windows_racing_never_call_one_number_twice(cache):
    d = await two_departments(cache)
    hall = await hall_with_windows(
        cache,
        {"number": 1, "department_id": d["ga_dept"]},
        {"number": 2, "department_id": d["ga_dept"]},
        {"number": 3, "department_id": d["rs_dept"]},
    )
    for index in range(8):
        await take(hall, d["ga"] if index % 2 else d["ga2"])
    other = await take(hall, d["rs"])
    called = []
    for _ in range(4):
        called += await asyncio.gather(call(hall, 1), call(hall, 2))
    assert sorted(called) == [f"B{n:03d}" for n in range(1, 9)]
    with pytest.raises(QueueEmpty):
        await call(hall, 2)
    assert await call(hall, 3) == other["number"]


async def test_the_citizen_is_told_when_three_numbers_they_wait_behind_are_left(client, cache):
    d = await two_departments(cache)
    hall = await hall_with_windows(
        cache, {"number": 1, "department_id": d["ga_dept"]}, {"number": 2, "department_id": d["rs_dept"]}
    )
    for _ in range(4):
        await take(hall, d["ga"])  # B001..B004
    for _ in range(3):
        await take(hall, d["rs"])  # B005..B007: not ahead of a 公安 number at these windows
    citizen = await factories.real_name_citizen(client)
    mine = await take(hall, d["ga2"], citizen_id=citizen["id"])  # B008, seven ahead hall-wide
    assert mine["ahead"] == 4
    assert await call(hall, 2) == "B005"  # another department's call: still four ahead, nobody told
    assert await _near_told(hall) == []
    assert await call(hall, 1) == "B001"
    assert await _near_told(hall) == [("B008", 3)]
    listed = await booking.my_queue_tickets(citizen_id=citizen["id"], now=MONDAY)
    assert [(t["number"], t["ahead"]) for t in listed] == [("B008", 3)]


async def _near_told(hall: dict) -> list[tuple[str, int]]:
    events = await OutboxEvent.filter(kind="queue.near").order_by("id")
    return [(e.payload["number"], e.payload["ahead"]) for e in events if e.payload["hall_id"] == hall["id"]]


async def test_call_next_over_http_says_when_the_others_wait_for_other_windows(client, cache, clock):
    clock.set(MONDAY)
    d = await two_departments(cache)
    hall = await hall_with_windows(
        cache, {"number": 1, "department_id": d["ga_dept"]}, {"number": 2, "department_id": d["rs_dept"]}
    )
    clerk = await factories.staff(client, "clerk", department_id=d["ga_dept"])
    path = f"/api/v1/staff/halls/{hall['id']}/call-next"
    taken = await client.post(f"/api/v1/halls/{hall['id']}/tickets", json={"matter_id": d["rs"]})
    assert taken.status_code == 201, taken.text
    error = assert_error_shape(
        await client.post(path, json={"window": 1}, headers=clerk["headers"]), 409, "QUEUE_EMPTY"
    )
    assert error["details"] == {"waiting_in_hall": 1}
    assert "其他窗口" in error["message"]
    called = await client.post(path, json={"window": 2}, headers=clerk["headers"])
    assert called.status_code == 200, called.text
    assert (called.json()["number"], called.json()["window"]) == ("B001", 2)
    error = assert_error_shape(
        await client.post(path, json={"window": 1}, headers=clerk["headers"]), 409, "QUEUE_EMPTY"
    )
    assert error["details"] == {"waiting_in_hall": 0}


async def test_no_number_is_given_for_a_matter_no_window_of_the_hall_handles(cache):
    d = await two_departments(cache)
    hall = await hall_with_windows(cache, {"number": 1, "department_id": d["ga_dept"]})
    with pytest.raises(MatterNotServedHere) as refused:
        await take(hall, d["rs"])  # 人社's matter: it would wait for a window that does not exist here
    assert refused.value.details == {"hall_id": hall["id"], "matter_id": d["rs"]}
    assert hall["name"] in refused.value.message
    assert (await booking.queue_status(hall_id=hall["id"], now=MONDAY))["waiting"] == 0
    assert (await take(hall, d["ga2"]))["number"] == "B001"
    assert (await take(hall, None))["number"] == "B002"  # no matter named: the clerk sorts it out


async def test_a_closed_window_still_counts_as_handling_its_matters(cache):
    d = await two_departments(cache)
    hall = await hall_with_windows(
        cache, {"number": 1, "department_id": d["ga_dept"]}, {"number": 2, "department_id": d["rs_dept"], "open": False}
    )
    assert (await take(hall, d["rs"]))["number"] == "B001"  # it waits for window 2 to open


async def test_a_hall_without_windows_set_up_takes_every_matter(cache):
    d = await two_departments(cache)
    hall = await factories.hall(cache)
    assert (await take(hall, d["rs"]))["number"] == "B001"


async def test_the_app_and_the_kiosk_are_told_the_hall_does_not_handle_the_matter(client, cache, clock):
    clock.set(MONDAY)
    d = await two_departments(cache)
    hall = await hall_with_windows(cache, {"number": 1, "department_id": d["ga_dept"]})
    citizen = await factories.real_name_citizen(client)
    mine = await client.post(
        "/api/v1/me/queue-tickets", json={"hall_id": hall["id"], "matter_id": d["rs"]}, headers=citizen["headers"]
    )
    error = assert_error_shape(mine, 409, "MATTER_NOT_SERVED_HERE")
    assert error["details"] == {"hall_id": hall["id"], "matter_id": d["rs"]}
    assert (await client.get("/api/v1/me/queue-tickets", headers=citizen["headers"])).json() == []
    kiosk = await client.post(f"/api/v1/halls/{hall['id']}/tickets", json={"matter_id": d["rs"]})
    assert_error_shape(kiosk, 409, "MATTER_NOT_SERVED_HERE")
    served = await client.post(f"/api/v1/halls/{hall['id']}/tickets", json={"matter_id": d["ga"]})
    assert served.status_code == 201, served.text
