"""Booking and queue rules at the service level, on a fixed clock (release, cut-offs and no-shows need one)."""

import asyncio
from datetime import date, datetime, timedelta

import pytest

from app.booking import service as booking
from app.booking.errors import (
    AlreadyBooked,
    AppointmentNotFound,
    AppointmentStateConflict,
    BookingClosed,
    BookingLimitReached,
    BookingSuspended,
    CancelClosed,
    CheckInNotOpen,
    QueueEmpty,
    SlotFull,
    SlotNotFound,
)
from app.catalog import halls as hall_admin
from app.catalog.schemas import WindowIn
from app.core.auth import STAFF, Principal
from app.core.models import OutboxEvent
from app.core.timeutil import CITY_TZ
from tests import factories

# Monday 2026-09-21, 09:00 in the city. Friday 09-25 is the Mid-Autumn Festival; 10-01..10-07 National Day;
# Saturday 10-10 is a make-up working day.
MONDAY = datetime(2026, 9, 21, 9, 0, tzinfo=CITY_TZ)


def at(day: str, clock: str = "09:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}:00+08:00")


@pytest.fixture
def tuning(settings):
    return settings.booking


@pytest.fixture(autouse=True)
def fresh_memory():
    # Tests move the clock back and forth; the process memos assume it only moves forward.
    booking.memos.reset()
    yield
    booking.memos.reset()


async def slots_of(setup, now, **kwargs):
    return await booking.list_slots(
        matter_id=setup["matter"]["id"], hall_id=setup["hall"]["id"], cache_seconds=0, now=now, **kwargs
    )


async def book(citizen, slot, setup, cache, tuning, now, key=None):
    return await booking.book(
        citizen_id=citizen["id"],
        slot_id=slot["id"],
        matter_id=setup["matter"]["id"],
        idempotency_key=key,
        cache=cache,
        tuning=tuning,
        now=now,
    )


async def ready(cache, now=MONDAY, **overrides):
    setup = await factories.bookable_matter(cache)
    setup["schedule"] = await factories.schedule(cache, setup, now=now, **overrides)
    return setup


# ---- working days and release ----


async def test_slots_skip_national_day_and_open_on_the_make_up_saturday(cache):
    now = at("2026-09-30")
    setup = await ready(cache, now=now)
    days = {s["date"] for s in await slots_of(setup, now, date_from=date(2026, 10, 1), date_to=date(2026, 10, 13))}
    assert days == {"2026-10-08", "2026-10-09", "2026-10-10", "2026-10-12", "2026-10-13"}


async def test_schedule_weekdays_limit_the_days_served(cache):
    setup = await ready(cache, weekdays=[1, 3])
    days = {s["date"] for s in await slots_of(setup, MONDAY)}
    assert days == {"2026-09-21", "2026-09-23", "2026-09-28"}


async def test_slots_are_released_at_the_set_time_n_working_days_ahead(cache):
    setup = await ready(cache, now=at("2026-09-21", "07:00"), release_time="08:00", release_days=5)
    before = {s["date"] for s in await slots_of(setup, at("2026-09-21", "07:59"))}
    after = {s["date"] for s in await slots_of(setup, at("2026-09-21", "08:00"))}
    # Five working days after Monday 09-21 skip the Mid-Autumn Friday: 22, 23, 24, 28, 29.
    assert max(before) == "2026-09-28"
    assert max(after) == "2026-09-29"
    assert "2026-09-25" not in after


async def test_listing_shows_capacity_and_remaining_and_hides_closed_slots(client, cache, tuning):
    setup = await ready(cache, capacity=3, booking_closes_minutes=120)
    listed = await slots_of(setup, at("2026-09-21", "08:30"))
    first = listed[0]
    # 09:00 and 10:00 closed two hours before they start.
    assert (first["start"], first["end"]) == ("2026-09-21T11:00:00+08:00", "2026-09-21T12:00:00+08:00")
    assert (first["capacity"], first["remaining"]) == (3, 3)
    citizen = await factories.real_name_citizen(client)
    await book(citizen, first, setup, cache, tuning, at("2026-09-21", "07:30"))
    again = await slots_of(setup, at("2026-09-21", "07:30"))
    assert [s["remaining"] for s in again if s["id"] == first["id"]] == [2]


async def test_booking_before_release_or_inside_the_closing_window_is_refused(client, cache, tuning):
    setup = await ready(cache, now=at("2026-09-21", "07:00"), release_time="08:00", booking_closes_minutes=120)
    citizen = await factories.real_name_citizen(client)
    late = next(s for s in await slots_of(setup, at("2026-09-21", "08:00")) if s["date"] == "2026-09-29")
    with pytest.raises(BookingClosed):
        await book(citizen, late, setup, cache, tuning, at("2026-09-21", "07:59"))
    assert (await book(citizen, late, setup, cache, tuning, at("2026-09-21", "08:00")))["status"] == "booked"
    soon = next(s for s in await slots_of(setup, at("2026-09-21", "06:00")) if s["date"] == "2026-09-21")
    with pytest.raises(BookingClosed):  # 10:00 slot closes at 08:00
        await book(citizen, soon, setup, cache, tuning, at("2026-09-21", "08:00"))


# ---- booking ----


async def test_booking_takes_a_seat_and_gives_a_short_check_in_code(client, cache, tuning):
    setup = await ready(cache)
    slot = (await slots_of(setup, MONDAY))[0]
    citizen = await factories.real_name_citizen(client)
    appointment = await book(citizen, slot, setup, cache, tuning, MONDAY)
    assert appointment["status"] == "booked"
    assert len(appointment["code"]) == 8 and appointment["code"].isalnum()
    assert appointment["slot"]["id"] == slot["id"]
    assert (await slots_of(setup, MONDAY))[0]["remaining"] == slot["remaining"] - 1


async def test_full_slot_refuses_and_a_wrong_counter_never_overbooks(client, cache, tuning):
    setup = await ready(cache, capacity=1)
    slot = (await slots_of(setup, MONDAY))[0]
    first, second, third = [await factories.real_name_citizen(client) for _ in range(3)]
    await book(first, slot, setup, cache, tuning, MONDAY)
    with pytest.raises(SlotFull):
        await book(second, slot, setup, cache, tuning, MONDAY)
    # The cache's counter is only a gate: even when it wrongly says there are seats, the database refuses.
    booking.memos.reset()
    await cache.set(f"booking:seats:{slot['id']}", "5", 60)
    with pytest.raises(SlotFull):
        await book(third, slot, setup, cache, tuning, MONDAY)
    assert (await slots_of(setup, MONDAY))[0]["remaining"] == 0


async def test_lost_seat_counter_is_rebuilt_from_the_database(client, cache, tuning):
    setup = await ready(cache, capacity=2)
    slot = (await slots_of(setup, MONDAY))[0]
    citizens = [await factories.real_name_citizen(client) for _ in range(3)]
    await book(citizens[0], slot, setup, cache, tuning, MONDAY)
    await cache.delete(f"booking:seats:{slot['id']}")
    await book(citizens[1], slot, setup, cache, tuning, MONDAY)
    with pytest.raises(SlotFull):
        await book(citizens[2], slot, setup, cache, tuning, MONDAY)


def clock_on_memos(monkeypatch) -> list[float]:
    """The booking memos on a clock the test moves (the full and resync memos expire on it)."""
    clock = [1000.0]
    monkeypatch.setattr(booking.memos, "timer", lambda: clock[0])
    booking.memos.reset()
    return clock


async def test_a_seat_counter_a_crash_left_at_zero_heals_on_the_next_booking(client, cache, tuning, monkeypatch):
    clock_on_memos(monkeypatch)
    setup = await ready(cache, capacity=3)
    slot = (await slots_of(setup, MONDAY))[0]
    first, second = [await factories.real_name_citizen(client) for _ in range(2)]
    await book(first, slot, setup, cache, tuning, MONDAY)
    # A process killed after taking the last two seats from the counter: 0 in the cache, 2 in the database.
    await cache.set(f"booking:seats:{slot['id']}", "0", 600)
    appointment = await book(second, slot, setup, cache, tuning, MONDAY)
    assert appointment["status"] == "booked"
    assert (await slots_of(setup, MONDAY))[0]["remaining"] == 1
    assert await cache.get(f"booking:seats:{slot['id']}") == "1"


async def test_a_healed_counter_never_books_past_capacity_under_a_crowd(client, cache, tuning, monkeypatch):
    clock = clock_on_memos(monkeypatch)
    setup = await ready(cache, capacity=3)
    slot = (await slots_of(setup, MONDAY))[0]
    citizens = [await factories.real_name_citizen(client) for _ in range(8)]
    await cache.set(f"booking:seats:{slot['id']}", "0", 600)
    booked: list[dict] = []
    for _ in range(2):  # the second round after the memos' second: whatever the first round refused may heal
        waiting = [c for c in citizens if c["id"] not in {a["citizen_id"] for a in booked}]
        results = await asyncio.gather(
            *(book(c, slot, setup, cache, tuning, MONDAY) for c in waiting), return_exceptions=True
        )
        assert all(isinstance(r, (dict, SlotFull)) for r in results), results
        booked += [{"citizen_id": c["id"], **r} for c, r in zip(waiting, results, strict=True) if isinstance(r, dict)]
        assert 1 <= len(booked) <= 3
        clock[0] += 1.0
    assert len(booked) == 3
    assert (await slots_of(setup, MONDAY))[0]["remaining"] == 0


async def test_a_counter_rightly_at_zero_refuses_and_asks_the_database_once_a_second(
    client, cache, tuning, monkeypatch
):
    clock = clock_on_memos(monkeypatch)
    no_full_memo = tuning.model_copy(update={"full_memo_seconds": 0})  # every refusal reaches the seat counter
    setup = await ready(cache, capacity=1)
    slot = (await slots_of(setup, MONDAY))[0]
    citizens = [await factories.real_name_citizen(client) for _ in range(6)]
    await book(citizens[0], slot, setup, cache, no_full_memo, MONDAY)
    from app.booking import appointments

    reads: list[int] = []
    real_seats_in_database = appointments.seats_in_database

    async def counted(slot_id):
        reads.append(slot_id)
        return await real_seats_in_database(slot_id)

    monkeypatch.setattr(appointments, "seats_in_database", counted)
    for citizen in citizens[1:4]:
        with pytest.raises(SlotFull) as refused:
            await book(citizen, slot, setup, cache, no_full_memo, MONDAY)
        assert (refused.value.code, refused.value.status_code) == ("SLOT_FULL", 409)
        clock[0] += 0.3
    assert reads == [slot["id"]]
    clock[0] = 1001.0  # a second after the first check
    for citizen in citizens[4:]:
        with pytest.raises(SlotFull):
            await book(citizen, slot, setup, cache, no_full_memo, MONDAY)
    assert reads == [slot["id"]] * 2
    assert await cache.get(f"booking:seats:{slot['id']}") == "0"


async def test_the_seat_counter_job_sets_wrong_counters_to_the_database(client, cache, tuning):
    setup = await ready(cache, capacity=3)
    first, second = (await slots_of(setup, MONDAY))[:2]
    citizen = await factories.real_name_citizen(client)
    await book(citizen, first, setup, cache, tuning, MONDAY)
    key = f"booking:seats:{first['id']}"
    for wrong in ("0", "9"):  # too low (a crash) and too high
        await cache.set(key, wrong, 600)
        assert await booking.reconcile_seat_counters(ttl_seconds=600, cache=cache, now=MONDAY) >= 1
        assert await cache.get(key) == "2"
    # A slot nobody booked has no counter: the job leaves building it to the next booking.
    assert await cache.get(f"booking:seats:{second['id']}") is None


async def test_slot_of_another_matter_or_unknown_slot_is_not_found(client, cache, tuning):
    setup = await ready(cache)
    other = await ready(cache)
    slot = (await slots_of(other, MONDAY))[0]
    citizen = await factories.real_name_citizen(client)
    with pytest.raises(SlotNotFound):
        await book(citizen, slot, setup, cache, tuning, MONDAY)
    with pytest.raises(SlotNotFound):
        await book(citizen, {"id": 10**9}, setup, cache, tuning, MONDAY)


async def test_one_active_appointment_per_matter_per_day(client, cache, tuning):
    setup = await ready(cache)
    first, second, *_ = await slots_of(setup, MONDAY)
    tomorrow = next(s for s in await slots_of(setup, MONDAY) if s["date"] == "2026-09-22")
    citizen = await factories.real_name_citizen(client)
    await book(citizen, first, setup, cache, tuning, MONDAY)
    with pytest.raises(AlreadyBooked):
        await book(citizen, second, setup, cache, tuning, MONDAY)
    assert (await book(citizen, tomorrow, setup, cache, tuning, MONDAY))["status"] == "booked"
    # The refused attempt gave its seat back.
    assert next(s for s in await slots_of(setup, MONDAY) if s["id"] == second["id"])["remaining"] == 2


async def test_at_most_three_active_appointments(client, cache, tuning):
    setup = await ready(cache)
    days = {}
    for s in await slots_of(setup, MONDAY):
        if s["date"] != "2026-09-21":  # today's are past their cancel cut-off
            days.setdefault(s["date"], s)
    citizen = await factories.real_name_citizen(client)
    slots = list(days.values())
    for slot in slots[:3]:
        await book(citizen, slot, setup, cache, tuning, MONDAY)
    with pytest.raises(BookingLimitReached):
        await book(citizen, slots[3], setup, cache, tuning, MONDAY)
    first = (await booking.list_appointments(citizen_id=citizen["id"], status=None, offset=0, limit=10))[0][-1]
    await booking.cancel(citizen_id=citizen["id"], appointment_id=first["id"], cache=cache, now=MONDAY)
    assert (await book(citizen, slots[3], setup, cache, tuning, MONDAY))["status"] == "booked"


async def test_idempotency_key_returns_the_same_appointment(client, cache, tuning):
    setup = await ready(cache, capacity=1)
    slot = (await slots_of(setup, MONDAY))[0]
    citizen, other = await factories.real_name_citizen(client), await factories.real_name_citizen(client)
    first = await book(citizen, slot, setup, cache, tuning, MONDAY, key="k-1")
    # Even once the slot is full, and even without the cache's memory of the key.
    await cache.delete(f"booking:idem:{citizen['id']}:k-1")
    again = await book(citizen, slot, setup, cache, tuning, MONDAY, key="k-1")
    assert again["id"] == first["id"] and again["code"] == first["code"]
    with pytest.raises(SlotFull):  # keys are per citizen
        await book(other, slot, setup, cache, tuning, MONDAY, key="k-1")


async def test_concurrent_retries_with_one_key_make_one_appointment(client, cache, tuning):
    setup = await ready(cache, capacity=5)
    slot = (await slots_of(setup, MONDAY))[0]
    citizen = await factories.real_name_citizen(client)
    results = await asyncio.gather(*(book(citizen, slot, setup, cache, tuning, MONDAY, key="same") for _ in range(5)))
    assert len({r["id"] for r in results}) == 1
    assert (await slots_of(setup, MONDAY))[0]["remaining"] == 4


# ---- cancel, no-shows, suspension ----


async def test_cancel_before_the_cut_off_frees_the_seat_at_once(client, cache, tuning):
    setup = await ready(cache, capacity=1)
    slot = next(s for s in await slots_of(setup, MONDAY) if s["date"] == "2026-09-22")
    citizen, other = await factories.real_name_citizen(client), await factories.real_name_citizen(client)
    appointment = await book(citizen, slot, setup, cache, tuning, MONDAY)
    with pytest.raises(SlotFull):
        await book(other, slot, setup, cache, tuning, MONDAY)
    with pytest.raises(AppointmentNotFound):
        await booking.cancel(citizen_id=other["id"], appointment_id=appointment["id"], cache=cache, now=MONDAY)
    cancelled = await booking.cancel(
        citizen_id=citizen["id"], appointment_id=appointment["id"], cache=cache, now=MONDAY
    )
    assert cancelled["status"] == "cancelled"
    with pytest.raises(AppointmentStateConflict):
        await booking.cancel(citizen_id=citizen["id"], appointment_id=appointment["id"], cache=cache, now=MONDAY)
    assert (await book(other, slot, setup, cache, tuning, MONDAY))["status"] == "booked"


async def test_cancel_after_the_cut_off_is_refused(client, cache, tuning):
    setup = await ready(cache, cancel_cutoff_minutes=120)
    slot = next(s for s in await slots_of(setup, MONDAY) if s["start"] == "2026-09-22T09:00:00+08:00")
    citizen = await factories.real_name_citizen(client)
    appointment = await book(citizen, slot, setup, cache, tuning, MONDAY)
    with pytest.raises(CancelClosed):
        await booking.cancel(
            citizen_id=citizen["id"], appointment_id=appointment["id"], cache=cache, now=at("2026-09-22", "07:00")
        )
    cancelled = await booking.cancel(
        citizen_id=citizen["id"], appointment_id=appointment["id"], cache=cache, now=at("2026-09-22", "06:59")
    )
    assert cancelled["status"] == "cancelled"


async def test_not_checked_in_by_the_slot_end_is_a_no_show(client, cache, tuning):
    setup = await ready(cache)
    slot = (await slots_of(setup, MONDAY))[0]  # 10:00-11:00
    citizen = await factories.real_name_citizen(client)
    appointment = await book(citizen, slot, setup, cache, tuning, MONDAY)
    assert await booking.mark_no_shows(now=at("2026-09-21", "10:59"), citizen_id=citizen["id"]) == 0
    assert await booking.mark_no_shows(now=at("2026-09-21", "11:00"), citizen_id=citizen["id"]) == 1
    seen = await booking.get_appointment(citizen_id=citizen["id"], appointment_id=appointment["id"])
    assert seen["status"] == "no_show"
    with pytest.raises(AppointmentStateConflict):
        await booking.self_check_in(
            citizen_id=citizen["id"], appointment_id=appointment["id"], now=at("2026-09-21", "11:05")
        )


async def _no_shows(client, cache, tuning, days: list[str]):
    citizen = await factories.real_name_citizen(client)
    for day in days:
        setup = await ready(cache, now=at(day, "08:00"))
        slot = next(s for s in await slots_of(setup, at(day, "08:00")) if s["date"] == day)
        await book(citizen, slot, setup, cache, tuning, at(day, "08:00"))
        booking.memos.reset()
    return citizen


async def test_three_no_shows_in_90_days_suspend_booking_for_30_days(client, cache, tuning):
    citizen = await _no_shows(client, cache, tuning, ["2026-09-21", "2026-09-22", "2026-09-23"])
    later = at("2026-09-28", "08:00")
    setup = await ready(cache, now=later)
    slot = (await slots_of(setup, later))[0]
    # No worker ran: booking marks the no-shows itself before judging.
    with pytest.raises(BookingSuspended) as refused:
        await book(citizen, slot, setup, cache, tuning, later)
    assert refused.value.details["suspended_until"] == "2026-10-23T10:00:00+08:00"
    assert "2026-10-23" in refused.value.message
    after = at("2026-10-23", "10:00")
    booking.memos.reset()
    setup = await ready(cache, now=after)
    slot = next(s for s in await slots_of(setup, after, date_from=date(2026, 10, 26)))
    assert (await book(citizen, slot, setup, cache, tuning, after))["status"] == "booked"


async def test_no_shows_spread_over_more_than_90_days_do_not_suspend(client, cache, tuning):
    citizen = await _no_shows(client, cache, tuning, ["2026-06-01", "2026-08-03", "2026-09-21"])
    later = at("2026-09-28", "08:00")
    setup = await ready(cache, now=later)
    slot = (await slots_of(setup, later))[0]
    assert (await book(citizen, slot, setup, cache, tuning, later))["status"] == "booked"


# ---- the queue ----


async def _booked_today(client, cache, tuning, setup, count: int) -> list[dict]:
    slot = (await slots_of(setup, MONDAY))[0]
    citizens = [await factories.real_name_citizen(client) for _ in range(count)]
    return [await book(c, slot, setup, cache, tuning, MONDAY) | {"citizen": c} for c in citizens]


async def test_check_in_and_calling_order_appointments_first_then_by_number(client, cache, tuning):
    setup = await ready(cache, capacity=2)
    hall_id = setup["hall"]["id"]
    first, second = await _booked_today(client, cache, tuning, setup, 2)
    walk_in = await booking.take_walk_in_queue_ticket(hall_id=hall_id, matter_id=None, now=MONDAY)
    assert (walk_in["number"], walk_in["ahead"]) == ("B001", 0)
    checked = await booking.check_in_by_code(code=first["code"].lower(), now=MONDAY)
    assert (checked["ticket"]["number"], checked["ticket"]["ahead"]) == ("A001", 0)
    assert (await booking.check_in_by_code(code=first["code"], now=MONDAY))["ticket"]["number"] == "A001"
    self_checked = await booking.self_check_in(
        citizen_id=second["citizen"]["id"], appointment_id=second["id"], now=at("2026-09-21", "09:30")
    )
    assert (self_checked["ticket"]["number"], self_checked["ticket"]["ahead"]) == ("A002", 1)
    queue = await booking.queue_status(hall_id=hall_id, now=MONDAY)
    assert (queue["waiting"], queue["waiting_appointments"], queue["waiting_walk_ins"]) == (3, 2, 1)

    called = [await booking.call_next(hall_id=hall_id, window=1, now=MONDAY) for _ in range(2)]
    called.append(await booking.call_next(hall_id=hall_id, window=2, now=MONDAY))
    assert [(t["number"], t["window"], t["status"]) for t in called] == [
        ("A001", 1, "called"),
        ("A002", 1, "called"),
        ("B001", 2, "called"),
    ]
    queue = await booking.queue_status(hall_id=hall_id, now=MONDAY)
    assert queue["waiting"] == 0
    assert [(s["number"], s["window"]) for s in queue["serving"]] == [("A002", 1), ("B001", 2)]
    # Calling the next at a window finishes the one served there: that appointment is done.
    done = await booking.get_appointment(citizen_id=first["citizen"]["id"], appointment_id=first["id"])
    assert (done["status"], done["ticket_number"]) == ("done", "A001")
    events = [
        e for e in await OutboxEvent.filter(kind="queue.called").order_by("id") if e.payload["hall_id"] == hall_id
    ]
    assert [(e.payload["number"], e.payload["window"], e.citizen_id) for e in events] == [
        ("A001", 1, first["citizen"]["id"]),
        ("A002", 1, second["citizen"]["id"]),
        ("B001", 2, None),
    ]
    with pytest.raises(QueueEmpty):
        await booking.call_next(hall_id=hall_id, window=1, now=MONDAY)


async def test_a_department_window_calls_its_appointments_first_and_leaves_other_departments_numbers(
    client, cache, tuning
):
    setup = await ready(cache, capacity=2)
    hall_id = setup["hall"]["id"]
    other = await factories.matter(cache, hall_ids=[hall_id])  # another department's matter at this hall
    admin = Principal(kind=STAFF, id=1, roles=("admin",), name="测试管理员")
    for number, department_id in ((1, setup["department"]["id"]), (2, None)):
        window = WindowIn.model_validate({"number": number, "department_id": department_id})
        await hall_admin.create_window(hall_id, window, actor=admin, cache=cache)
    (first,) = await _booked_today(client, cache, tuning, setup, 1)
    await booking.take_walk_in_queue_ticket(hall_id=hall_id, matter_id=other["id"], now=MONDAY)  # B001
    await booking.take_walk_in_queue_ticket(hall_id=hall_id, matter_id=setup["matter"]["id"], now=MONDAY)  # B002
    checked = await booking.check_in_by_code(code=first["code"], now=MONDAY)  # A001
    assert (checked["ticket"]["number"], checked["ticket"]["ahead"]) == ("A001", 0)
    called = [(await booking.call_next(hall_id=hall_id, window=1, now=MONDAY))["number"] for _ in range(2)]
    assert called == ["A001", "B002"]
    with pytest.raises(QueueEmpty):
        await booking.call_next(hall_id=hall_id, window=1, now=MONDAY)
    assert (await booking.call_next(hall_id=hall_id, window=2, now=MONDAY))["number"] == "B001"


async def test_check_in_only_on_the_day_and_self_check_in_from_30_minutes_before(client, cache, tuning):
    setup = await ready(cache)
    slot = next(s for s in await slots_of(setup, MONDAY) if s["start"] == "2026-09-22T10:00:00+08:00")
    citizen = await factories.real_name_citizen(client)
    appointment = await book(citizen, slot, setup, cache, tuning, MONDAY)
    with pytest.raises(CheckInNotOpen):
        await booking.check_in_by_code(code=appointment["code"], now=MONDAY)
    with pytest.raises(CheckInNotOpen):
        await booking.self_check_in(
            citizen_id=citizen["id"], appointment_id=appointment["id"], now=at("2026-09-22", "09:29")
        )
    with pytest.raises(AppointmentNotFound):
        await booking.self_check_in(
            citizen_id=citizen["id"] + 10**6, appointment_id=appointment["id"], now=at("2026-09-22", "09:30")
        )
    checked = await booking.self_check_in(
        citizen_id=citizen["id"], appointment_id=appointment["id"], now=at("2026-09-22", "09:30")
    )
    assert checked["ticket"]["number"] == "A001"
    with pytest.raises(AppointmentNotFound):
        await booking.check_in_by_code(code="NOSUCH99", now=MONDAY)


async def test_concurrent_check_ins_get_distinct_consecutive_numbers(client, cache, tuning):
    setup = await ready(cache, capacity=8)
    appointments = await _booked_today(client, cache, tuning, setup, 8)
    results = await asyncio.gather(*(booking.check_in_by_code(code=a["code"], now=MONDAY) for a in appointments))
    assert sorted(r["ticket"]["number"] for r in results) == [f"A{n:03d}" for n in range(1, 9)]


async def test_cancelled_appointment_cannot_check_in(client, cache, tuning):
    setup = await ready(cache)
    slot = next(s for s in await slots_of(setup, MONDAY) if s["date"] == "2026-09-22")
    citizen = await factories.real_name_citizen(client)
    appointment = await book(citizen, slot, setup, cache, tuning, MONDAY)
    await booking.cancel(citizen_id=citizen["id"], appointment_id=appointment["id"], cache=cache, now=MONDAY)
    with pytest.raises(AppointmentStateConflict):
        await booking.check_in_by_code(code=appointment["code"], now=at("2026-09-22", "09:00"))


async def test_mark_no_shows_leaves_checked_in_and_future_appointments_alone(client, cache, tuning):
    setup = await ready(cache, capacity=2)
    first, second = await _booked_today(client, cache, tuning, setup, 2)
    await booking.check_in_by_code(code=first["code"], now=MONDAY)

    async def status_of(appointment) -> str:
        return (
            await booking.get_appointment(citizen_id=appointment["citizen"]["id"], appointment_id=appointment["id"])
        )["status"]

    assert await booking.mark_no_shows(now=MONDAY + timedelta(hours=1), citizen_id=second["citizen"]["id"]) == 0
    assert (await status_of(first), await status_of(second)) == ("checked_in", "booked")
    assert await booking.mark_no_shows(now=MONDAY + timedelta(hours=2), citizen_id=second["citizen"]["id"]) == 1
    assert await booking.mark_no_shows(now=MONDAY + timedelta(hours=2), citizen_id=first["citizen"]["id"]) == 0
    assert (await status_of(first), await status_of(second)) == ("checked_in", "no_show")


# ---- reads write nothing; the jobs do the writing ----


async def test_reading_slots_the_queue_and_appointments_writes_nothing(client, cache, tuning):
    from app.booking.models import Appointment, AppointmentStatus, QueueTicket, Schedule, Slot

    setup = await ready(cache)
    slot = (await slots_of(setup, MONDAY))[0]  # 10:00-11:00
    citizen = await factories.real_name_citizen(client)
    appointment = await book(citizen, slot, setup, cache, tuning, MONDAY)
    # Wednesday noon: the slot ended unattended, and the drawing horizon has moved past the days drawn on Monday.
    later = at("2026-09-23", "12:00")
    drawn = Slot.filter(schedule_id=setup["schedule"]["id"])
    slots_before, queue_before = await drawn.count(), await QueueTicket.filter(hall_id=setup["hall"]["id"]).count()
    events_before = await OutboxEvent.filter(citizen_id=citizen["id"]).count()

    await slots_of(setup, later)
    await booking.list_slots(matter_id=setup["matter"]["id"], cache_seconds=5, now=later)
    assert (await booking.get_appointment(citizen_id=citizen["id"], appointment_id=appointment["id"]))[
        "status"
    ] == "booked"
    assert [
        a["status"]
        for a in (await booking.list_appointments(citizen_id=citizen["id"], status=None, offset=0, limit=10))[0]
    ] == ["booked"]
    assert (await booking.queue_status(hall_id=setup["hall"]["id"], now=later))["waiting"] == 0

    row = await Appointment.get(id=appointment["id"])
    assert (row.status, row.no_show_at, row.active_key is not None) == (AppointmentStatus.BOOKED, None, True)
    assert await drawn.count() == slots_before
    assert await QueueTicket.filter(hall_id=setup["hall"]["id"]).count() == queue_before
    assert await OutboxEvent.filter(citizen_id=citizen["id"]).count() == events_before

    # The jobs: the no-show is marked, and the slots of the days now within the horizon are drawn.
    assert await booking.mark_no_shows(now=later, citizen_id=citizen["id"]) == 1
    schedule = await Schedule.get(id=setup["schedule"]["id"])
    new_slots = await booking.ensure_slots(schedule, now=later)
    assert new_slots == 2 * 3  # the horizon went from 10-05 to 10-09: three morning slots on 10-08 and 10-09
    assert await drawn.count() == slots_before + new_slots
    assert (await Appointment.get(id=appointment["id"])).status == AppointmentStatus.NO_SHOW


async def test_a_new_schedule_is_drawn_for_the_listing_window_or_past_its_release(cache):
    from app.booking.models import Slot

    monday = at("2026-11-02", "07:00")

    def weekdays_until(last: date) -> list[date]:
        span = (date(2026, 11, 2) + timedelta(days=n) for n in range((last - date(2026, 11, 2)).days + 1))
        return [day for day in span if day.isoweekday() <= 5]  # November 2026 has no holidays

    # Listed: released days within the 14-day listing window (release 20 days ahead: the window ends it).
    for release_days, last_drawn, last_listed in (
        (5, date(2026, 11, 16), date(2026, 11, 9)),
        (20, date(2026, 12, 1), date(2026, 11, 16)),
    ):
        setup = await ready(cache, now=monday, release_days=release_days)
        days = sorted(set(await Slot.filter(schedule_id=setup["schedule"]["id"]).values_list("day", flat=True)))
        # 14 days of listing, or one working day beyond the release, whichever is further; working days only.
        assert days == weekdays_until(last_drawn)
        # Bookable the moment the admin's write returns.
        listed = {s["date"] for s in await slots_of(setup, monday)}
        assert listed == {day.isoformat() for day in weekdays_until(last_listed)}


async def test_a_make_up_day_set_by_an_admin_is_drawn_by_the_slots_job(cache):
    from app.booking.models import Schedule, Slot
    from app.core import calendar

    monday = at("2026-11-02", "07:00")
    saturday = date(2026, 11, 7)
    setup = await ready(cache, now=monday, weekdays=[1, 2, 3, 4, 5])
    drawn = Slot.filter(schedule_id=setup["schedule"]["id"], day=saturday)
    assert await drawn.count() == 0
    try:
        await calendar.set_calendar_day(saturday, is_workday=True, note="调休上班", actor=factories.SYSTEM)
        # The calendar changed under the memo of what was drawn: the job draws the Saturday, once.
        schedule = await Schedule.get(id=setup["schedule"]["id"])
        assert await booking.ensure_slots(schedule, now=monday) == 3
        assert await booking.ensure_slots(schedule, now=monday) == 0
        assert await drawn.count() == 3
    finally:
        await calendar.delete_calendar_day(saturday, actor=factories.SYSTEM)


async def test_booking_standing_tells_the_no_shows_and_the_suspension(client, cache, tuning):
    citizen = await _no_shows(client, cache, tuning, ["2026-09-21", "2026-09-22", "2026-09-23"])
    standing = await booking.booking_standing(citizen["id"], now=at("2026-09-28", "08:00"))
    assert standing == {
        "recent_no_shows": 3,
        "no_shows_to_suspend": 3,
        "window_days": 90,
        "suspension_days": 30,
        "suspended_until": "2026-10-23T10:00:00+08:00",
    }
    # once the suspension is over the no-shows still count, but booking is open
    later = await booking.booking_standing(citizen["id"], now=at("2026-10-24", "08:00"))
    assert (later["recent_no_shows"], later["suspended_until"]) == (3, None)
    # past the 90-day window nothing counts any more
    assert (await booking.booking_standing(citizen["id"], now=at("2027-01-10", "08:00")))["recent_no_shows"] == 0
