"""Booking and the hall queue through HTTP, as the mini-program, the kiosk and the clerk's console use them.

These run on the real clock: slots are booked on the next working day, whose morning is always released (the
factory schedule releases 5 working days ahead at 00:00) and always bookable.
"""

import asyncio
import uuid
from datetime import datetime, timedelta

from app.booking import service as booking
from tests import factories
from tests.core.test_errors import assert_error_shape


async def ready(client, cache, **overrides):
    setup = await factories.bookable_matter(cache)
    setup["schedule"] = await factories.schedule(cache, setup, **overrides)
    setup["slot"] = await factories.open_slot(client, setup)
    return setup


def booking_body(setup, slot=None):
    return {"slot_id": (slot or setup["slot"])["id"], "matter_id": setup["matter"]["id"]}


# ---- slots ----


async def test_slot_listing_shows_capacity_and_remaining_seats(client, cache):
    setup = await ready(client, cache, capacity=4)
    slots = (await client.get(f"/api/v1/matters/{setup['matter']['id']}/slots")).json()
    assert set(slots[0]) == {
        "id",
        "hall_id",
        "matter_id",
        "date",
        "start",
        "end",
        "capacity",
        "remaining",
        "booking_closes_at",
    }
    assert all(s["capacity"] == 4 and s["remaining"] == 4 for s in slots)
    assert slots[0]["start"].endswith("+08:00")
    citizen = await factories.real_name_citizen(client)
    assert (
        await client.post("/api/v1/appointments", json=booking_body(setup), headers=citizen["headers"])
    ).status_code == 201
    after = (await client.get(f"/api/v1/matters/{setup['matter']['id']}/slots")).json()
    assert next(s for s in after if s["id"] == setup["slot"]["id"])["remaining"] == 3


async def test_slot_listing_of_unknown_matter_or_bad_dates(client, cache):
    assert_error_shape(await client.get("/api/v1/matters/999999/slots"), 404, "MATTER_NOT_FOUND")
    setup = await factories.bookable_matter(cache)
    path = f"/api/v1/matters/{setup['matter']['id']}/slots"
    assert_error_shape(await client.get(path, params={"date_from": "2026-13-01"}), 422, "VALIDATION_FAILED")
    assert_error_shape(
        await client.get(path, params={"date_from": "2026-10-10", "date_to": "2026-10-01"}), 422, "VALIDATION_FAILED"
    )
    assert (await client.get(path)).json() == []  # bookable, but no schedule yet


# ---- booking ----


async def test_real_name_citizen_books_and_sees_the_appointment(client, cache):
    setup = await ready(client, cache)
    citizen = await factories.real_name_citizen(client)
    response = await client.post("/api/v1/appointments", json=booking_body(setup), headers=citizen["headers"])
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["status"], created["allowed_actions"]) == ("booked", ["cancel", "check_in"])
    assert created["slot"]["id"] == setup["slot"]["id"] and created["slot"]["start"] == setup["slot"]["start"]
    assert len(created["code"]) == 8
    mine = (await client.get("/api/v1/appointments", headers=citizen["headers"])).json()
    assert [a["id"] for a in mine["items"]] == [created["id"]] and mine["total"] == 1
    one = await client.get(f"/api/v1/appointments/{created['id']}", headers=citizen["headers"])
    assert one.status_code == 200 and one.json() == created


async def test_another_citizens_appointment_is_not_found(client, cache):
    setup = await ready(client, cache)
    owner, stranger = await factories.real_name_citizen(client), await factories.real_name_citizen(client)
    created = (await client.post("/api/v1/appointments", json=booking_body(setup), headers=owner["headers"])).json()
    for response in (
        await client.get(f"/api/v1/appointments/{created['id']}", headers=stranger["headers"]),
        await client.post(f"/api/v1/appointments/{created['id']}/cancel", headers=stranger["headers"]),
        await client.post(f"/api/v1/appointments/{created['id']}/check-in", headers=stranger["headers"]),
    ):
        assert_error_shape(response, 404, "APPOINTMENT_NOT_FOUND")
    assert (await client.get("/api/v1/appointments", headers=stranger["headers"])).json()["total"] == 0


async def test_booking_needs_a_real_name_citizen(client, cache, app):
    setup = await ready(client, cache)
    assert_error_shape(await client.post("/api/v1/appointments", json=booking_body(setup)), 401, "UNAUTHORIZED")
    unverified = await factories.wechat_login(client)
    assert_error_shape(
        await client.post("/api/v1/appointments", json=booking_body(setup), headers=unverified["headers"]),
        403,
        "REAL_NAME_REQUIRED",
    )
    clerk = await factories.staff(client, "clerk", department_id=setup["department"]["id"])
    assert_error_shape(
        await client.post("/api/v1/appointments", json=booking_body(setup), headers=clerk["headers"]), 403, "FORBIDDEN"
    )


async def test_booking_refusals_in_the_error_shape(client, cache):
    setup = await ready(client, cache, capacity=1)
    first, second = await factories.real_name_citizen(client), await factories.real_name_citizen(client)
    assert (
        await client.post("/api/v1/appointments", json=booking_body(setup), headers=first["headers"])
    ).status_code == 201
    assert_error_shape(
        await client.post("/api/v1/appointments", json=booking_body(setup), headers=second["headers"]), 409, "SLOT_FULL"
    )
    later = next(
        s
        for s in (await client.get(f"/api/v1/matters/{setup['matter']['id']}/slots")).json()
        if s["date"] == setup["slot"]["date"] and s["id"] != setup["slot"]["id"]
    )
    assert_error_shape(
        await client.post("/api/v1/appointments", json=booking_body(setup, later), headers=first["headers"]),
        409,
        "ALREADY_BOOKED",
    )
    other = await factories.bookable_matter(cache)
    assert_error_shape(
        await client.post("/api/v1/appointments", json=booking_body(other, later), headers=first["headers"]),
        404,
        "SLOT_NOT_FOUND",
    )
    assert_error_shape(
        await client.post("/api/v1/appointments", json={"slot_id": "x", "matter_id": 1}, headers=first["headers"]),
        422,
        "VALIDATION_FAILED",
    )
    assert_error_shape(
        await client.post("/api/v1/appointments", content=b"{", headers=first["headers"]), 400, "MALFORMED_JSON"
    )


async def test_idempotency_key_repeat_returns_the_first_appointment(client, cache):
    setup = await ready(client, cache, capacity=1)
    citizen = await factories.real_name_citizen(client)
    headers = {**citizen["headers"], "Idempotency-Key": uuid.uuid4().hex}
    first = await client.post("/api/v1/appointments", json=booking_body(setup), headers=headers)
    again = await client.post("/api/v1/appointments", json=booking_body(setup), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert (await client.get("/api/v1/appointments", headers=citizen["headers"])).json()["total"] == 1
    assert_error_shape(
        await client.post(
            "/api/v1/appointments",
            json=booking_body(setup),
            headers={**citizen["headers"], "Idempotency-Key": "k" * 81},
        ),
        400,
        "BAD_REQUEST",
    )


async def test_cancel_frees_the_seat_and_cannot_happen_twice(client, cache):
    setup = await ready(client, cache, capacity=1)
    citizen, other = await factories.real_name_citizen(client), await factories.real_name_citizen(client)
    created = (await client.post("/api/v1/appointments", json=booking_body(setup), headers=citizen["headers"])).json()
    cancelled = await client.post(f"/api/v1/appointments/{created['id']}/cancel", headers=citizen["headers"])
    assert cancelled.status_code == 200
    assert (cancelled.json()["status"], cancelled.json()["allowed_actions"]) == ("cancelled", [])
    assert_error_shape(
        await client.post(f"/api/v1/appointments/{created['id']}/cancel", headers=citizen["headers"]),
        409,
        "APPOINTMENT_STATE_CONFLICT",
    )
    assert (
        await client.post("/api/v1/appointments", json=booking_body(setup), headers=other["headers"])
    ).status_code == 201


async def test_many_concurrent_bookings_for_the_last_seats_never_overbook(client, cache):
    setup = await ready(client, cache, capacity=8)
    early = [await factories.real_name_citizen(client) for _ in range(3)]
    for citizen in early:
        assert (
            await client.post("/api/v1/appointments", json=booking_body(setup), headers=citizen["headers"])
        ).status_code == 201
    crowd = [await factories.real_name_citizen(client) for _ in range(50)]
    # A cold counter too: the first of the crowd rebuilds it from the database while others race.
    await cache.delete(f"booking:seats:{setup['slot']['id']}")
    responses = await asyncio.gather(
        *(client.post("/api/v1/appointments", json=booking_body(setup), headers=c["headers"]) for c in crowd)
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 5 + [409] * 45
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"SLOT_FULL"}
    booking.memos.reset()
    listed = (await client.get(f"/api/v1/matters/{setup['matter']['id']}/slots")).json()
    assert next(s for s in listed if s["id"] == setup["slot"]["id"])["remaining"] == 0
    booked = [(await client.get("/api/v1/appointments", headers=c["headers"])).json()["total"] for c in crowd]
    assert sum(booked) == 5


async def test_get_requests_write_nothing_and_the_jobs_catch_up(client, cache):
    from datetime import timedelta

    from app.booking.models import Appointment, Schedule, Slot
    from app.core.timeutil import now

    setup = await ready(client, cache)
    citizen = await factories.real_name_citizen(client)
    created = (await client.post("/api/v1/appointments", json=booking_body(setup), headers=citizen["headers"])).json()
    # As if the slot had ended unattended and the schedule's last day were not drawn yet.
    await Appointment.filter(id=created["id"]).update(end_at=now() - timedelta(minutes=1))
    drawn = Slot.filter(schedule_id=setup["schedule"]["id"])
    last_day = (await drawn.order_by("-day").first()).day
    assert await Slot.filter(schedule_id=setup["schedule"]["id"], day=last_day).delete() == 3
    booking.memos.reset()
    slots_before = await drawn.count()

    reads = [
        f"/api/v1/matters/{setup['matter']['id']}/slots",
        "/api/v1/appointments",
        f"/api/v1/appointments/{created['id']}",
        f"/api/v1/halls/{setup['hall']['id']}/queue",
    ]
    for path in reads:
        response = await client.get(path, headers=citizen["headers"])
        assert response.status_code == 200, (path, response.text)
    assert (await client.get(f"/api/v1/appointments/{created['id']}", headers=citizen["headers"])).json()[
        "status"
    ] == "booked"
    assert await drawn.count() == slots_before
    assert (await Appointment.get(id=created["id"])).status == "booked"

    assert await booking.mark_no_shows(citizen_id=citizen["id"]) == 1
    assert await booking.ensure_slots(await Schedule.get(id=setup["schedule"]["id"]), now=now()) == 3
    assert (await client.get(f"/api/v1/appointments/{created['id']}", headers=citizen["headers"])).json()[
        "status"
    ] == "no_show"


# ---- schedules ----


async def test_department_admin_manages_schedules_of_own_department_only(client, cache):
    setup = await factories.bookable_matter(cache)
    body = {
        "hall_id": setup["hall"]["id"],
        "matter_id": setup["matter"]["id"],
        "ranges": [{"start": "14:00", "end": "17:00"}],
        "slot_minutes": 30,
        "capacity": 5,
    }
    outsider = await factories.staff(client, "dept_admin", department_id=(await factories.department(cache))["id"])
    assert_error_shape(
        await client.post("/api/v1/admin/schedules", json=body, headers=outsider["headers"]), 404, "MATTER_NOT_FOUND"
    )
    clerk = await factories.staff(client, "clerk", department_id=setup["department"]["id"])
    assert_error_shape(
        await client.post("/api/v1/admin/schedules", json=body, headers=clerk["headers"]), 403, "FORBIDDEN"
    )
    admin = await factories.staff(client, "dept_admin", department_id=setup["department"]["id"])
    created = await client.post("/api/v1/admin/schedules", json=body, headers=admin["headers"])
    assert created.status_code == 201, created.text
    assert created.json()["release_days"] == 5 and created.json()["release_time"] == "08:00"
    assert created.json()["cancel_cutoff_minutes"] == 120 and created.json()["booking_closes_minutes"] == 120
    assert_error_shape(
        await client.post("/api/v1/admin/schedules", json=body, headers=admin["headers"]), 409, "SCHEDULE_EXISTS"
    )
    mine = (await client.get("/api/v1/admin/schedules", headers=admin["headers"])).json()
    assert [s["id"] for s in mine["items"]] == [created.json()["id"]]
    assert (await client.get("/api/v1/admin/schedules", headers=outsider["headers"])).json()["total"] == 0


async def test_schedule_needs_a_bookable_matter_at_that_hall_and_sane_fields(client, cache, admin_headers):
    setup = await factories.bookable_matter(cache)
    elsewhere = await factories.hall(cache)
    body = {
        "hall_id": elsewhere["id"],
        "matter_id": setup["matter"]["id"],
        "ranges": [{"start": "09:00", "end": "12:00"}],
        "slot_minutes": 30,
        "capacity": 5,
    }
    assert_error_shape(
        await client.post("/api/v1/admin/schedules", json=body, headers=admin_headers), 422, "NOT_BOOKABLE_HERE"
    )
    for bad in (
        {"slot_minutes": 45},
        {"capacity": 0},
        {"ranges": [{"start": "12:00", "end": "09:00"}]},
        {"weekdays": [0]},
        {"release_time": "25:00"},
    ):
        assert_error_shape(
            await client.post("/api/v1/admin/schedules", json={**body, **bad}, headers=admin_headers),
            422,
            "VALIDATION_FAILED",
        )


# ---- the queue ----


async def test_kiosk_tickets_and_the_clerk_calls_them_in_order(client, cache, clock):
    setup = await factories.bookable_matter(cache, windows=2)
    clock.set(datetime.fromisoformat("2026-09-21T10:00:00+08:00"))  # a Monday morning: the hall is open
    hall_id = setup["hall"]["id"]
    tickets = await asyncio.gather(*(client.post(f"/api/v1/halls/{hall_id}/tickets", json={}) for _ in range(10)))
    assert sorted(t.json()["number"] for t in tickets) == [f"B{n:03d}" for n in range(1, 11)]
    assert (await client.get(f"/api/v1/halls/{hall_id}/queue")).json()["waiting"] == 10
    clerk = await factories.staff(client, "clerk", department_id=setup["department"]["id"])
    called = await client.post(f"/api/v1/staff/halls/{hall_id}/call-next", json={"window": 2}, headers=clerk["headers"])
    assert called.status_code == 200, called.text
    assert (called.json()["number"], called.json()["window"], called.json()["status"]) == ("B001", 2, "called")
    queue = (await client.get(f"/api/v1/halls/{hall_id}/queue")).json()
    assert queue["waiting"] == 9
    assert [(s["number"], s["window"]) for s in queue["serving"]] == [("B001", 2)]


async def test_queue_endpoints_refuse_the_wrong_caller_hall_window_or_state(client, cache):
    setup = await factories.bookable_matter(cache, windows=2)
    hall_id = setup["hall"]["id"]
    clerk = await factories.staff(client, "clerk", department_id=setup["department"]["id"])
    citizen = await factories.real_name_citizen(client)
    path = f"/api/v1/staff/halls/{hall_id}/call-next"
    assert_error_shape(await client.post(path, json={"window": 1}), 401, "UNAUTHORIZED")
    assert_error_shape(await client.post(path, json={"window": 1}, headers=citizen["headers"]), 403, "FORBIDDEN")
    approver = await factories.staff(client, "approver", department_id=setup["department"]["id"])
    assert_error_shape(await client.post(path, json={"window": 1}, headers=approver["headers"]), 403, "FORBIDDEN")
    assert_error_shape(
        await client.post("/api/v1/staff/halls/999999/call-next", json={"window": 1}, headers=clerk["headers"]),
        404,
        "HALL_NOT_FOUND",
    )
    assert_error_shape(await client.post(path, json={"window": 3}, headers=clerk["headers"]), 422, "VALIDATION_FAILED")
    assert_error_shape(await client.post(path, json={"window": 1}, headers=clerk["headers"]), 409, "QUEUE_EMPTY")
    assert_error_shape(await client.get("/api/v1/halls/999999/queue"), 404, "HALL_NOT_FOUND")
    assert_error_shape(await client.post("/api/v1/halls/999999/tickets", json={}), 404, "HALL_NOT_FOUND")


async def test_clerk_check_in_by_code_refusals(client, cache):
    setup = await ready(client, cache)
    citizen = await factories.real_name_citizen(client)
    created = (await client.post("/api/v1/appointments", json=booking_body(setup), headers=citizen["headers"])).json()
    clerk = await factories.staff(client, "clerk", department_id=setup["department"]["id"])
    assert_error_shape(
        await client.post("/api/v1/staff/checkins", json={"code": "NOSUCH99"}, headers=clerk["headers"]),
        404,
        "APPOINTMENT_NOT_FOUND",
    )
    assert_error_shape(
        await client.post("/api/v1/staff/checkins", json={"code": created["code"]}, headers=citizen["headers"]),
        403,
        "FORBIDDEN",
    )
    # The appointment is on the next working day, not today.
    assert_error_shape(
        await client.post("/api/v1/staff/checkins", json={"code": created["code"]}, headers=clerk["headers"]),
        409,
        "CHECKIN_NOT_OPEN",
    )
    assert_error_shape(
        await client.post(f"/api/v1/appointments/{created['id']}/check-in", headers=citizen["headers"]),
        409,
        "CHECKIN_NOT_OPEN",
    )
    assert (
        await client.post(f"/api/v1/appointments/{created['id']}/cancel", headers=citizen["headers"])
    ).status_code == 200
    assert_error_shape(
        await client.post("/api/v1/staff/checkins", json={"code": created["code"]}, headers=clerk["headers"]),
        409,
        "APPOINTMENT_STATE_CONFLICT",
    )


async def test_checking_in_on_the_day_gives_queue_numbers_in_order_and_a_repeat_the_same_number(client, cache, clock):
    setup = await ready(client, cache)
    first, second = await factories.real_name_citizen(client), await factories.real_name_citizen(client)
    at_window = (await client.post("/api/v1/appointments", json=booking_body(setup), headers=first["headers"])).json()
    by_phone = (await client.post("/api/v1/appointments", json=booking_body(setup), headers=second["headers"])).json()
    clerk = await factories.staff(client, "clerk", department_id=setup["department"]["id"])
    # The slot is on the next working day: the clock stands at five past its start.
    clock.set(datetime.fromisoformat(setup["slot"]["start"]) + timedelta(minutes=5))

    response = await client.post(
        "/api/v1/staff/checkins", json={"code": at_window["code"].lower()}, headers=clerk["headers"]
    )
    assert response.status_code == 200, response.text
    checked = response.json()
    assert checked["appointment_id"] == at_window["id"]
    assert checked["ticket"] | {"id": 0, "issued_at": ""} == {
        "id": 0,
        "number": "A001",
        "hall_id": setup["hall"]["id"],
        "kind": "appointment",
        "status": "waiting",
        "window": None,
        "ahead": 0,
        "issued_at": "",
        "called_at": None,
        "finished_at": None,
    }

    response = await client.post(f"/api/v1/appointments/{by_phone['id']}/check-in", headers=second["headers"])
    assert response.status_code == 200, response.text
    assert response.json()["ticket"]["number"] == "A002" and response.json()["ticket"]["ahead"] == 1
    assert (await client.get(f"/api/v1/appointments/{by_phone['id']}", headers=second["headers"])).json()[
        "status"
    ] == "checked_in"
    # A second scan of the same code hands out the same number, not a new one.
    again = await client.post("/api/v1/staff/checkins", json={"code": at_window["code"]}, headers=clerk["headers"])
    assert again.status_code == 200 and again.json()["ticket"]["id"] == checked["ticket"]["id"]
    queue = (await client.get(f"/api/v1/halls/{setup['hall']['id']}/queue")).json()
    assert queue["waiting_appointments"] == 2


async def test_booking_routes_are_in_the_openapi_document(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in (
        "/api/v1/matters/{matter_id}/slots",
        "/api/v1/appointments",
        "/api/v1/staff/checkins",
        "/api/v1/staff/halls/{hall_id}/call-next",
        "/api/v1/halls/{hall_id}/queue",
        "/api/v1/admin/calendar/{day}",
        "/api/v1/staff/halls/{hall_id}/appointments",
        "/api/v1/staff/queue-tickets/{ticket_id}/finish",
        "/api/v1/staff/queue-tickets/{ticket_id}/skip",
        "/api/v1/staff/queue-tickets/{ticket_id}/recall",
        "/api/v1/me/queue-tickets",
    ):
        assert path in paths, path


# ---- editing a schedule ----


def _rules(**changes):
    rules = {
        "weekdays": [1, 2, 3, 4, 5, 6, 7],
        "ranges": [{"start": "09:00", "end": "12:00"}],
        "slot_minutes": 60,
        "capacity": 2,
        "release_days": 5,
        "release_time": "00:00",
        "booking_closes_minutes": 0,
        "cancel_cutoff_minutes": 120,
    }
    rules.update(changes)
    return rules


async def test_editing_a_schedule_redraws_unreleased_slots_and_keeps_released_bookings(client, cache):
    from app.booking.models import Slot
    from app.core.timeutil import now

    setup = await ready(client, cache)
    admin = await factories.staff(client, "dept_admin", department_id=setup["department"]["id"])
    citizen = await factories.real_name_citizen(client)
    booked = await client.post("/api/v1/appointments", json=booking_body(setup), headers=citizen["headers"])
    assert booked.status_code == 201
    response = await client.put(
        f"/api/v1/admin/schedules/{setup['schedule']['id']}", headers=admin["headers"], json=_rules(capacity=7)
    )
    assert response.status_code == 200, response.text
    assert response.json()["capacity"] == 7

    slots = await Slot.filter(schedule_id=setup["schedule"]["id"])
    moment = now()
    released = [s for s in slots if s.opens_at <= moment]
    unreleased = [s for s in slots if s.opens_at > moment]
    assert released and unreleased
    assert {s.capacity for s in released} == {2}
    assert {s.capacity for s in unreleased} == {7}
    mine = (await client.get(f"/api/v1/appointments/{booked.json()['id']}", headers=citizen["headers"])).json()
    assert mine["status"] == "booked"


async def test_closing_a_schedule_stops_new_bookings_but_keeps_existing_ones(client, cache):
    setup = await ready(client, cache)
    admin = await factories.staff(client, "dept_admin", department_id=setup["department"]["id"])
    citizen = await factories.real_name_citizen(client)
    booked = await client.post("/api/v1/appointments", json=booking_body(setup), headers=citizen["headers"])
    assert booked.status_code == 201, booked.text
    response = await client.put(
        f"/api/v1/admin/schedules/{setup['schedule']['id']}", headers=admin["headers"], json=_rules(active=False)
    )
    assert response.status_code == 200 and response.json()["active"] is False
    listed = (await client.get(f"/api/v1/matters/{setup['matter']['id']}/slots")).json()
    assert listed == []
    mine = (await client.get(f"/api/v1/appointments/{booked.json()['id']}", headers=citizen["headers"])).json()
    assert mine["status"] == "booked"


async def test_editing_a_schedule_is_for_its_departments_admin(client, cache):
    setup = await ready(client, cache)
    url = f"/api/v1/admin/schedules/{setup['schedule']['id']}"
    outsider = await factories.staff(client, "dept_admin", department_id=(await factories.department(cache))["id"])
    clerk = await factories.staff(client, "clerk", department_id=setup["department"]["id"])
    admin = await factories.staff(client, "dept_admin", department_id=setup["department"]["id"])
    assert_error_shape(
        await client.put(url, json=_rules(capacity=9), headers=outsider["headers"]), 404, "SCHEDULE_NOT_FOUND"
    )
    assert_error_shape(await client.put(url, json=_rules(capacity=9), headers=clerk["headers"]), 403, "FORBIDDEN")
    assert_error_shape(await client.put(url, json=_rules(capacity=9)), 401, "UNAUTHORIZED")
    assert_error_shape(
        await client.put("/api/v1/admin/schedules/999999", json=_rules(), headers=admin["headers"]),
        404,
        "SCHEDULE_NOT_FOUND",
    )
    assert_error_shape(
        await client.put(url, json=_rules(slot_minutes=45), headers=admin["headers"]), 422, "VALIDATION_FAILED"
    )
    listed = (await client.get(f"/api/v1/matters/{setup['matter']['id']}/slots")).json()
    assert {s["capacity"] for s in listed} == {2}


async def test_a_closed_schedule_refuses_bookings_on_already_released_slots(client, cache):
    setup = await ready(client, cache)
    admin = await factories.staff(client, "dept_admin", department_id=setup["department"]["id"])
    closed = await client.put(
        f"/api/v1/admin/schedules/{setup['schedule']['id']}", headers=admin["headers"], json=_rules(active=False)
    )
    assert closed.status_code == 200, closed.text
    citizen = await factories.real_name_citizen(client)
    assert_error_shape(
        await client.post("/api/v1/appointments", json=booking_body(setup), headers=citizen["headers"]),
        409,
        "BOOKING_CLOSED",
    )


async def test_the_screen_sees_a_recalled_number_by_its_recall_count(client, cache, clock):
    setup = await factories.bookable_matter(cache, windows=3)
    clock.set(datetime.fromisoformat("2026-09-21T10:00:00+08:00"))  # a Monday morning: the hall is open
    hall_id = setup["hall"]["id"]
    assert (await client.post(f"/api/v1/halls/{hall_id}/tickets", json={})).status_code == 201
    clerk = await factories.staff(client, "clerk", department_id=setup["department"]["id"])
    called = (
        await client.post(f"/api/v1/staff/halls/{hall_id}/call-next", json={"window": 3}, headers=clerk["headers"])
    ).json()
    serving = (await client.get(f"/api/v1/halls/{hall_id}/queue")).json()["serving"]
    assert [(s["id"], s["number"], s["window"], s["recalls"]) for s in serving] == [(called["id"], "B001", 3, 0)]
    recalled = await client.post(
        f"/api/v1/staff/queue-tickets/{called['id']}/recall", json={"window": 1}, headers=clerk["headers"]
    )
    assert recalled.status_code == 200, recalled.text
    serving = (await client.get(f"/api/v1/halls/{hall_id}/queue")).json()["serving"]
    assert [(s["number"], s["window"], s["recalls"]) for s in serving] == [("B001", 1, 1)]


async def test_my_booking_standing_is_mine_and_for_citizens_only(client, cache):
    citizen = await factories.real_name_citizen(client)
    answer = await client.get("/api/v1/me/booking-standing", headers=citizen["headers"])
    assert answer.status_code == 200
    assert answer.json() == {
        "recent_no_shows": 0,
        "no_shows_to_suspend": 3,
        "window_days": 90,
        "suspension_days": 30,
        "suspended_until": None,
    }
    assert_error_shape(await client.get("/api/v1/me/booking-standing"), 401, "UNAUTHORIZED")
    supervisor = await factories.staff(client, "supervisor")
    assert_error_shape(await client.get("/api/v1/me/booking-standing", headers=supervisor["headers"]), 403, "FORBIDDEN")
