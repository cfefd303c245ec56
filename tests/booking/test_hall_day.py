"""The hall's day: opening hours for walk-in numbers, finishing, skipping and recalling a called number, a citizen's
own numbers and their pushes, the hall's appointments of the day for the window staff, and the queue's times."""

from datetime import datetime, timedelta

import pytest

from app.booking import service as booking
from app.booking.errors import HallClosed, HallNotFound, QueueTicketNotFound
from app.catalog.hours import DEFAULT_PERIODS, parse_text
from app.core.errors import IllegalTransition
from app.core.models import OutboxEvent
from app.notifications.routing import route_for, template_values
from app.stats import service as stats
from tests import factories
from tests.core.test_errors import assert_error_shape

DEMO_TEXT = "周一至周五 09:00-12:00, 13:30-17:30；周六 09:00-12:00（综合受理、户政、社保窗口）"


def at(day: str, clock: str = "09:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}:00+08:00")


MONDAY = at("2026-09-21", "10:00")


@pytest.fixture(autouse=True)
def fresh_memory():
    booking.memos.reset()
    yield
    booking.memos.reset()


async def _events(kind: str, hall_id: int) -> list[OutboxEvent]:
    return [e for e in await OutboxEvent.filter(kind=kind).order_by("id") if e.payload.get("hall_id") == hall_id]


# ---- opening hours ----


def test_opening_hours_are_read_from_the_halls_wording():
    assert parse_text(DEMO_TEXT) == [
        {"weekdays": [1, 2, 3, 4, 5], "start": "09:00", "end": "12:00"},
        {"weekdays": [1, 2, 3, 4, 5], "start": "13:30", "end": "17:30"},
        {"weekdays": [6], "start": "09:00", "end": "12:00"},
    ]
    assert parse_text("工作日 8:30-17:00") == [{"weekdays": [1, 2, 3, 4, 5], "start": "08:30", "end": "17:00"}]
    assert parse_text("全天候服务") == []


async def test_walk_in_numbers_only_while_the_hall_is_open(cache):
    hall = await factories.hall(cache, opening_hours=DEMO_TEXT)
    # Open: a weekday morning, a Saturday morning, and the make-up working days (Sunday 09-20, Saturday 10-10) with
    # weekday hours.
    for moment in (
        at("2026-09-21", "09:00"),
        at("2026-09-12", "11:59"),
        at("2026-09-20", "14:00"),
        at("2026-10-10", "14:00"),
    ):
        taken = await booking.take_walk_in_queue_ticket(hall_id=hall["id"], matter_id=None, now=moment)
        assert taken["status"] == "waiting"
    closed = {
        at("2026-09-21", "12:30"): "2026-09-21T13:30:00+08:00",  # lunch break
        at("2026-09-21", "23:11"): "2026-09-22T09:00:00+08:00",  # night
        at("2026-09-13", "10:00"): "2026-09-14T09:00:00+08:00",  # Sunday
        at("2026-09-25", "10:00"): "2026-09-28T09:00:00+08:00",  # Mid-Autumn Festival, its Saturday too
        at("2026-10-03", "10:00"): "2026-10-08T09:00:00+08:00",  # a Saturday inside National Day
    }
    for moment, opens in closed.items():
        with pytest.raises(HallClosed) as refused:
            await booking.take_walk_in_queue_ticket(hall_id=hall["id"], matter_id=None, now=moment)
        assert refused.value.details["opens_at"] == opens, moment
        assert opens[:10] in refused.value.message and opens[11:16] in refused.value.message
    assert [q["number"] for q in await _numbers_of(hall["id"])] == ["B001"] * 4


async def _numbers_of(hall_id: int) -> list[dict]:
    from app.booking.models import QueueTicket

    return [{"number": t.number} for t in await QueueTicket.filter(hall_id=hall_id).order_by("id")]


async def test_structured_periods_win_over_the_text_and_unreadable_text_means_weekdays_nine_to_five(cache):
    evening = await factories.hall(
        cache, opening_hours="见公告", opening_periods=[{"weekdays": [1], "start": "18:00", "end": "21:00"}]
    )
    assert (
        await booking.take_walk_in_queue_ticket(hall_id=evening["id"], matter_id=None, now=at("2026-09-21", "20:00"))
    )["number"] == "B001"
    with pytest.raises(HallClosed):
        await booking.take_walk_in_queue_ticket(hall_id=evening["id"], matter_id=None, now=at("2026-09-22", "10:00"))
    unreadable = await factories.hall(cache, opening_hours="见公告")
    assert unreadable["opening_periods"] == DEFAULT_PERIODS
    with pytest.raises(HallClosed):
        await booking.take_walk_in_queue_ticket(hall_id=unreadable["id"], matter_id=None, now=at("2026-09-21", "17:00"))
    with pytest.raises(HallNotFound):
        await booking.take_walk_in_queue_ticket(hall_id=999999, matter_id=None, now=MONDAY)
    for wrong in (
        {"weekdays": [8], "start": "09:00", "end": "17:00"},
        {"weekdays": [1], "start": "17:00", "end": "09:00"},
    ):
        with pytest.raises(ValueError):  # a hall is never stored with periods no moment could be judged by
            await factories.hall(cache, opening_periods=[wrong])


# ---- finish, skip, recall ----


async def test_a_called_number_is_finished_skipped_or_recalled_and_the_hall_sees_its_times(client, cache):
    hall = await factories.hall(cache)
    citizen = await factories.real_name_citizen(client)
    mine = await booking.take_walk_in_queue_ticket(
        hall_id=hall["id"], matter_id=None, citizen_id=citizen["id"], now=MONDAY
    )
    other = await booking.take_walk_in_queue_ticket(hall_id=hall["id"], matter_id=None, now=MONDAY)
    with pytest.raises(IllegalTransition) as refused:  # not called yet
        await booking.skip_queue_ticket(ticket_id=mine["id"], now=MONDAY)
    assert refused.value.details["allowed_actions"] == ["call"]

    called = await booking.call_next(hall_id=hall["id"], window=2, now=MONDAY + timedelta(minutes=10))
    assert called["id"] == mine["id"] and called["called_at"] == "2026-09-21T10:10:00+08:00"
    skipped = await booking.skip_queue_ticket(ticket_id=mine["id"], now=MONDAY + timedelta(minutes=12))
    assert (skipped["status"], skipped["window"]) == ("skipped", 2)
    with pytest.raises(IllegalTransition):  # a skipped number is not served
        await booking.finish_queue_ticket(ticket_id=mine["id"], now=MONDAY + timedelta(minutes=13))
    # The citizen comes late: recalled at window 3, told again where to go; the first call's time stays.
    recalled = await booking.recall_queue_ticket(ticket_id=mine["id"], window=3, now=MONDAY + timedelta(minutes=14))
    assert (recalled["status"], recalled["window"], recalled["called_at"]) == ("called", 3, called["called_at"])
    calls = await _events("queue.called", hall["id"])
    assert [(e.payload["number"], e.payload["window"], e.citizen_id) for e in calls] == [
        ("B001", 2, citizen["id"]),
        ("B001", 3, citizen["id"]),
    ]
    served = await booking.finish_queue_ticket(ticket_id=mine["id"], now=MONDAY + timedelta(minutes=19))
    assert (served["status"], served["finished_at"]) == ("done", "2026-09-21T10:19:00+08:00")
    with pytest.raises(IllegalTransition) as refused:
        await booking.recall_queue_ticket(ticket_id=mine["id"], now=MONDAY + timedelta(minutes=20))
    assert (refused.value.code, refused.value.details["status"]) == ("ILLEGAL_TRANSITION", "done")
    with pytest.raises(QueueTicketNotFound):
        await booking.finish_queue_ticket(ticket_id=999999, now=MONDAY)

    # The other one is called at once and nobody comes.
    await booking.call_next(hall_id=hall["id"], window=1, now=MONDAY + timedelta(minutes=20))
    await booking.skip_queue_ticket(ticket_id=other["id"], now=MONDAY + timedelta(minutes=22))
    queue = await booking.queue_status(hall_id=hall["id"], now=MONDAY + timedelta(minutes=30))
    # Waited 10 minutes (taken -> first called), served 9 (called -> finished); the skipped one is no average.
    assert {
        k: queue[k] for k in ("queue_served", "queue_skipped", "average_wait_minutes", "average_serve_minutes")
    } == {
        "queue_served": 1,
        "queue_skipped": 1,
        "average_wait_minutes": 10.0,
        "average_serve_minutes": 9.0,
    }
    report = await stats.report(
        "halls",
        date_from="2026-09-21",
        date_to="2026-09-21",
        only_id=hall["id"],
        cache=cache,
        cache_seconds=0,
        catalog_ttl=0,
        now=MONDAY + timedelta(hours=1),
    )
    (item,) = report["items"]
    assert (item["queue_served"], item["queue_skipped"], item["average_wait_minutes"]) == (1, 1, 10.0)
    assert item["average_serve_minutes"] == 9.0


async def test_finishing_an_appointments_number_finishes_the_appointment(client, cache, settings):
    setup, booked = await _booked_monday(client, cache, 1, settings.booking)
    checked = await booking.check_in_by_code(code=booked[0]["code"], now=at("2026-09-21", "09:05"))
    await booking.call_next(hall_id=setup["hall"]["id"], window=1, now=at("2026-09-21", "09:10"))
    await booking.finish_queue_ticket(ticket_id=checked["ticket"]["id"], now=at("2026-09-21", "09:20"))
    done = await booking.get_appointment(citizen_id=booked[0]["citizen"]["id"], appointment_id=booked[0]["id"])
    assert done["status"] == "done"


# ---- a citizen's number ----


async def test_a_citizens_number_is_listed_with_people_ahead_and_pushed_when_three_are_ahead(client, cache):
    hall = await factories.hall(cache)
    people = [await factories.wechat_login(client) for _ in range(5)]
    numbers = []
    for index, person in enumerate(people):
        citizen_id = person["id"] if index != 3 else None  # the fourth is a kiosk number
        numbers.append(
            await booking.take_walk_in_queue_ticket(
                hall_id=hall["id"], matter_id=None, citizen_id=citizen_id, now=MONDAY
            )
        )
    last = people[4]["id"]
    (mine,) = await booking.my_queue_tickets(citizen_id=last, now=MONDAY)
    assert (mine["number"], mine["ahead"], mine["status"]) == ("B005", 4, "waiting")
    assert await booking.my_queue_tickets(citizen_id=last, now=MONDAY + timedelta(days=1)) == []  # today's only

    await booking.call_next(hall_id=hall["id"], window=1, now=MONDAY)
    near = await _events("queue.near", hall["id"])
    assert [(e.payload["number"], e.payload["ahead"], e.citizen_id) for e in near] == [("B005", 3, last)]
    await booking.call_next(hall_id=hall["id"], window=2, now=MONDAY)  # told once; nobody else is fourth now
    assert len(await _events("queue.near", hall["id"])) == 1
    (mine,) = await booking.my_queue_tickets(citizen_id=last, now=MONDAY)
    assert mine["ahead"] == 2

    # What the citizen reads and what the push template gets.
    payload = {**near[0].payload, "hall_name": hall["name"]}
    assert route_for("queue.near").purpose == "queue_called"
    assert "前面还有 3 人" in route_for("queue.near").body(payload)
    assert template_values("queue.near", payload, "2026-09-21 10:00")[:3] == ["B005", "前面还有3人", hall["name"]]


# ---- the hall's appointments of the day ----


async def _booked_monday(client, cache, count: int, tuning):
    setup = await factories.bookable_matter(cache)
    await factories.schedule(cache, setup, now=at("2026-09-18"))
    slots = await booking.list_slots(
        matter_id=setup["matter"]["id"], hall_id=setup["hall"]["id"], cache_seconds=0, now=at("2026-09-18")
    )
    first = next(s for s in slots if s["start"] == "2026-09-21T09:00:00+08:00")
    booked = []
    for _ in range(count):
        citizen = await factories.real_name_citizen(client)
        appointment = await booking.book(
            citizen_id=citizen["id"],
            slot_id=first["id"],
            matter_id=setup["matter"]["id"],
            idempotency_key=None,
            cache=cache,
            tuning=tuning,
            now=at("2026-09-18"),
        )
        booked.append(appointment | {"citizen": citizen})
    return setup, booked


async def test_window_staff_see_the_halls_appointments_of_the_day(client, cache, settings):
    setup, booked = await _booked_monday(client, cache, 2, settings.booking)
    hall_id = setup["hall"]["id"]
    await booking.check_in_by_code(code=booked[0]["code"], now=at("2026-09-21", "09:05"))

    items, total = await booking.hall_appointments(
        hall_id=hall_id, day=None, status=None, offset=0, limit=20, now=at("2026-09-21", "09:30")
    )
    assert total == 2
    first, second = items
    assert (first["status"], first["ticket_number"], first["ticket_status"]) == ("checked_in", "A001", "waiting")
    assert (second["status"], second["ticket_number"], second["checked_in_at"]) == ("booked", None, None)
    assert first["start"] == "2026-09-21T09:00:00+08:00" and first["matter_name"] == setup["matter"]["name"]
    assert first["citizen_name"] == booked[0]["citizen"]["name"]
    number = booked[0]["citizen"]["id_number"]
    assert first["id_number_masked"] == number[:3] + "*" * 11 + number[-4:]

    # The slot has ended: the one who did not come shows as no-show, before the sweep has run.
    later = at("2026-09-21", "10:30")
    items, total = await booking.hall_appointments(
        hall_id=hall_id, day=None, status="no_show", offset=0, limit=20, now=later
    )
    assert (total, [i["id"] for i in items], items[0]["status"]) == (1, [booked[1]["id"]], "no_show")
    items, total = await booking.hall_appointments(
        hall_id=hall_id, day=None, status="booked", offset=0, limit=20, now=later
    )
    assert total == 0
    # Paging, and another day.
    items, total = await booking.hall_appointments(hall_id=hall_id, day=None, status=None, offset=1, limit=1, now=later)
    assert (total, [i["id"] for i in items]) == (2, [booked[1]["id"]])
    items, total = await booking.hall_appointments(
        hall_id=hall_id, day=at("2026-09-22").date(), status=None, offset=0, limit=20, now=later
    )
    assert (items, total) == ([], 0)
    with pytest.raises(HallNotFound):
        await booking.hall_appointments(hall_id=999999, day=None, status=None, offset=0, limit=20, now=later)


# ---- over HTTP ----


async def test_staff_routes_of_the_hall_day_and_their_refusals(client, cache, clock, settings):
    setup, booked = await _booked_monday(client, cache, 1, settings.booking)
    hall_id = setup["hall"]["id"]
    clock.set(at("2026-09-21", "10:00"))
    clerk = await factories.staff(client, "clerk", department_id=setup["department"]["id"])
    approver = await factories.staff(client, "approver", department_id=setup["department"]["id"])
    citizen = await factories.real_name_citizen(client)

    path = f"/api/v1/staff/halls/{hall_id}/appointments"
    response = await client.get(path, headers=clerk["headers"])
    assert response.status_code == 200, response.text
    assert (response.json()["total"], response.json()["items"][0]["status"]) == (1, "no_show")
    response = await client.get(path, params={"date": "2026-09-22"}, headers=clerk["headers"])
    assert response.json()["total"] == 0
    assert_error_shape(await client.get(path), 401, "UNAUTHORIZED")
    assert_error_shape(await client.get(path, headers=citizen["headers"]), 403, "FORBIDDEN")
    assert_error_shape(await client.get(path, headers=approver["headers"]), 403, "FORBIDDEN")
    assert_error_shape(
        await client.get("/api/v1/staff/halls/999999/appointments", headers=clerk["headers"]), 404, "HALL_NOT_FOUND"
    )
    assert_error_shape(await client.get(path, params={"date": "x"}, headers=clerk["headers"]), 422, "VALIDATION_FAILED")

    taken = await client.post(f"/api/v1/halls/{hall_id}/tickets", json={})
    assert taken.status_code == 201, taken.text
    ticket_id = taken.json()["id"]
    actions = f"/api/v1/staff/queue-tickets/{ticket_id}"
    assert_error_shape(await client.post(f"{actions}/finish", headers=clerk["headers"]), 409, "ILLEGAL_TRANSITION")
    called = await client.post(f"/api/v1/staff/halls/{hall_id}/call-next", json={"window": 1}, headers=clerk["headers"])
    assert called.json()["id"] == ticket_id
    assert_error_shape(await client.post(f"{actions}/skip"), 401, "UNAUTHORIZED")
    assert_error_shape(await client.post(f"{actions}/skip", headers=citizen["headers"]), 403, "FORBIDDEN")
    assert_error_shape(await client.post(f"{actions}/skip", headers=approver["headers"]), 403, "FORBIDDEN")
    assert_error_shape(
        await client.post("/api/v1/staff/queue-tickets/999999/skip", headers=clerk["headers"]),
        404,
        "QUEUE_TICKET_NOT_FOUND",
    )
    skipped = await client.post(f"{actions}/skip", headers=clerk["headers"])
    assert (skipped.status_code, skipped.json()["status"]) == (200, "skipped")
    assert_error_shape(
        await client.post(f"{actions}/recall", json={"window": 99}, headers=clerk["headers"]), 422, "VALIDATION_FAILED"
    )
    recalled = await client.post(f"{actions}/recall", headers=clerk["headers"])
    assert (recalled.status_code, recalled.json()["status"], recalled.json()["window"]) == (200, "called", 1)
    finished = await client.post(f"{actions}/finish", headers=clerk["headers"])
    assert (finished.status_code, finished.json()["status"]) == (200, "done")
    assert_error_shape(await client.post(f"{actions}/skip", headers=clerk["headers"]), 409, "ILLEGAL_TRANSITION")
    queue = (await client.get(f"/api/v1/halls/{hall_id}/queue")).json()
    assert (queue["queue_served"], queue["queue_skipped"]) == (1, 0)


async def test_a_citizen_takes_a_number_in_the_app_and_sees_it_and_the_closed_hall_says_when_it_opens(
    client, cache, clock
):
    hall = await factories.hall(cache)
    citizen = await factories.wechat_login(client)
    clerk = await factories.shared_staff(client, "clerk", department_id=(await factories.department(cache))["id"])
    path = "/api/v1/me/queue-tickets"
    clock.set(at("2026-09-21", "10:00"))
    taken = await client.post(path, json={"hall_id": hall["id"]}, headers=citizen["headers"])
    assert taken.status_code == 201, taken.text
    mine = await client.get(path, headers=citizen["headers"])
    assert mine.status_code == 200
    assert [(t["number"], t["ahead"], t["hall_id"]) for t in mine.json()] == [("B001", 0, hall["id"])]
    other = await factories.wechat_login(client)
    assert (await client.get(path, headers=other["headers"])).json() == []
    assert_error_shape(await client.get(path), 401, "UNAUTHORIZED")
    assert_error_shape(await client.get(path, headers=clerk["headers"]), 403, "FORBIDDEN")
    assert_error_shape(await client.post(path, json={"hall_id": hall["id"]}), 401, "UNAUTHORIZED")
    assert_error_shape(
        await client.post(path, json={"hall_id": 999999}, headers=citizen["headers"]), 404, "HALL_NOT_FOUND"
    )
    clock.set(at("2026-09-21", "23:11"))
    for refused in (
        await client.post(path, json={"hall_id": hall["id"]}, headers=citizen["headers"]),
        await client.post(f"/api/v1/halls/{hall['id']}/tickets", json={}),
    ):
        assert_error_shape(refused, 409, "HALL_CLOSED")
        assert refused.json()["error"]["details"]["opens_at"] == "2026-09-22T09:00:00+08:00"
        assert "2026-09-22 09:00" in refused.json()["error"]["message"]


async def test_the_citizen_reads_and_is_pushed_three_ahead_and_called(app, client, cache, settings):
    from tests.notifications.test_delivery import _quick, _sim_messages, _subscribed_citizen, _values, drain

    hall = await factories.hall(cache)
    citizen = await _subscribed_citizen(client, settings, purposes=("queue_called",), times=5)
    for _ in range(4):
        await booking.take_walk_in_queue_ticket(hall_id=hall["id"], matter_id=None, now=MONDAY)
    mine = await booking.take_walk_in_queue_ticket(
        hall_id=hall["id"], matter_id=None, citizen_id=citizen["id"], now=MONDAY
    )
    for window in (1, 2, 3, 4, 5):  # the first call leaves three ahead; the fifth calls B005
        called = await booking.call_next(hall_id=hall["id"], window=window, now=MONDAY)
    assert called["id"] == mine["id"]
    await drain(app, _quick(settings))

    inbox = (await client.get("/api/v1/me/messages", headers=citizen["headers"])).json()
    assert [m["title"] for m in reversed(inbox["items"])] == ["即将叫到您的号", "请到窗口办理"]
    assert hall["name"] in inbox["items"][1]["body"] and "5号窗口" in inbox["items"][0]["body"]
    pushed = [_values(m) for m in await _sim_messages(client, citizen["openid"])]
    assert [next(v for k, v in p.items() if k.startswith("thing2")) for p in pushed] == ["前面还有3人", "5号窗口"]
