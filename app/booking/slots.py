"""Schedules and the slots drawn from them on working days; the citizen's slot listing (a read: it draws nothing)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from tortoise.transactions import in_transaction

from app.audit import service as audit
from app.booking.errors import NotBookableHere, ScheduleExists, ScheduleNotFound
from app.booking.memos import memos
from app.booking.models import Schedule, Slot
from app.booking.schemas import ScheduleIn, ScheduleRules
from app.catalog import service as catalog
from app.catalog.errors import MatterNotFound
from app.core import workdays
from app.core.auth import Principal
from app.core.cache import Cache, shared_load
from app.core.timeutil import CITY_TZ, as_utc, to_iso

# How far ahead a listing looks by default; slots are drawn at least this far, so every listed day exists.
DEFAULT_LISTING_DAYS = 14


def seat_key(slot_id: int) -> str:
    """The cache key of a slot's seat counter (the gate in front of the database)."""
    return f"booking:seats:{slot_id}"


def _parse_clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _local(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=CITY_TZ)


def schedule_view(schedule: Schedule) -> dict:
    return {
        "id": schedule.id,
        "hall_id": schedule.hall_id,
        "matter_id": schedule.matter_id,
        "department_id": schedule.department_id,
        "weekdays": list(schedule.weekdays),
        "ranges": list(schedule.ranges),
        "slot_minutes": schedule.slot_minutes,
        "capacity": schedule.capacity,
        "release_days": schedule.release_days,
        "release_time": schedule.release_time,
        "booking_closes_minutes": schedule.booking_closes_minutes,
        "cancel_cutoff_minutes": schedule.cancel_cutoff_minutes,
        "active": schedule.active,
    }


async def create_schedule(
    data: ScheduleIn, *, actor: Principal, cache: Cache, catalog_ttl: int, now: datetime | None = None
) -> dict:
    """A department admin opens a matter for booking at a hall, slots drawn at once; another department's is 404."""
    matter = await catalog.require_matter(data.matter_id)
    if not actor.covers_department(matter["department_id"]):
        raise MatterNotFound()
    guide = await catalog.get_guide(data.matter_id, cache=cache, ttl=catalog_ttl)
    if not guide["bookable"] or data.hall_id not in guide["hall_ids"] or await catalog.get_hall(data.hall_id) is None:
        raise NotBookableHere(details={"fields": [{"field": "hall_id", "message": "该事项不可在此大厅预约"}]})
    if await Schedule.exists(hall_id=data.hall_id, matter_id=data.matter_id):
        raise ScheduleExists()
    values = data.model_dump()
    values["weekdays"] = sorted(set(values["weekdays"]))
    await workdays.ensure_overrides_fresh()
    async with in_transaction() as connection:
        schedule = await Schedule.create(**values, department_id=matter["department_id"], using_db=connection)
        await audit.record(
            actor=actor.actor,
            staff_id=actor.id if actor.is_staff else None,
            action="schedule.create",
            object_type="schedule",
            object_id=schedule.id,
            after=schedule_view(schedule),
            connection=connection,
        )
        # In the admin's transaction: a citizen can book the moment the schedule exists.
        await ensure_slots(schedule, now=as_utc(now), connection=connection)
    return schedule_view(schedule)


async def update_schedule(
    schedule_id: int, data: ScheduleRules, *, actor: Principal, cache: Cache, now: datetime | None = None
) -> dict:
    """Change a schedule from now on: released slots keep times, seats and bookings; unreleased ones are redrawn."""
    schedule = await Schedule.get_or_none(id=schedule_id)
    if schedule is None or not actor.covers_department(schedule.department_id):
        raise ScheduleNotFound()
    moment = as_utc(now)
    before = schedule_view(schedule)
    values = data.model_dump()
    values["weekdays"] = sorted(set(values["weekdays"]))
    await workdays.ensure_overrides_fresh()
    async with in_transaction() as connection:
        for key, value in values.items():
            setattr(schedule, key, value)
        await schedule.save(using_db=connection)
        # A slot not yet released cannot hold a booking, so it is safe to draw again under the new rules.
        unreleased = Slot.filter(schedule_id=schedule.id, opens_at__gt=moment, booked=0).using_db(connection)
        redrawn = list(await unreleased.values_list("id", flat=True))
        await Slot.filter(id__in=redrawn).using_db(connection).delete()
        closed: list[int] = []
        if not schedule.active:
            # Closing stops new bookings on released slots too; their existing appointments stand.
            open_slots = Slot.filter(schedule_id=schedule.id, closes_at__gt=moment).using_db(connection)
            closed = list(await open_slots.values_list("id", flat=True))
            await Slot.filter(id__in=closed).using_db(connection).update(closes_at=moment)
        await audit.record(
            actor=actor.actor,
            staff_id=actor.id if actor.is_staff else None,
            action="schedule.update",
            object_type="schedule",
            object_id=schedule.id,
            before=before,
            after=schedule_view(schedule),
            connection=connection,
        )
        memos.forget_schedule(schedule.id)
        await ensure_slots(schedule, now=moment, connection=connection)
    for slot_id in [*redrawn, *closed]:
        memos.forget_slot(slot_id)
    if redrawn:
        await cache.delete(*(seat_key(slot_id) for slot_id in redrawn))
    memos.drop_listings(schedule.matter_id)
    return schedule_view(schedule)


async def list_schedules(
    *, actor: Principal, matter_id: int | None, hall_id: int | None, offset: int, limit: int
) -> tuple[list[dict], int]:
    """Schedules the staff member manages (their department's, or all for admins)."""
    query = Schedule.all()
    if not actor.sees_all_departments:
        query = query.filter(department_id=actor.department_id or 0)
    if matter_id is not None:
        query = query.filter(matter_id=matter_id)
    if hall_id is not None:
        query = query.filter(hall_id=hall_id)
    total = await query.count()
    return [schedule_view(s) for s in await query.order_by("id").offset(offset).limit(limit)], total


def _slot_rows(schedule: Schedule, day: date) -> list[Slot]:
    release_day = workdays.add_workdays(day, -schedule.release_days)
    opens_at = _local(release_day, _parse_clock(schedule.release_time))
    length = timedelta(minutes=schedule.slot_minutes)
    rows = []
    for window in schedule.ranges:
        start = _local(day, _parse_clock(window["start"]))
        end_of_range = _local(day, _parse_clock(window["end"]))
        while start + length <= end_of_range:
            rows.append(
                Slot(
                    schedule_id=schedule.id,
                    hall_id=schedule.hall_id,
                    matter_id=schedule.matter_id,
                    day=day,
                    start_at=start,
                    end_at=start + length,
                    opens_at=opens_at,
                    closes_at=start - timedelta(minutes=schedule.booking_closes_minutes),
                    cancel_closes_at=start - timedelta(minutes=schedule.cancel_cutoff_minutes),
                    capacity=schedule.capacity,
                )
            )
            start += length
    return rows


def _runs_on(schedule: Schedule, day: date) -> bool:
    if not workdays.is_workday(day):
        return False
    # A make-up working day (调休) on a weekend runs the schedule of a weekday.
    if day.isoweekday() > 5:
        return day.isoweekday() in schedule.weekdays or any(w <= 5 for w in schedule.weekdays)
    return day.isoweekday() in schedule.weekdays


def drawing_horizon(schedule: Schedule, today: date) -> date:
    """The last day whose slots must exist today: the listing window, and a working day past the next release."""
    # The extra working day has tomorrow's release-morning slots drawn before the crowd comes for them.
    return max(workdays.add_workdays(today, schedule.release_days + 1), today + timedelta(days=DEFAULT_LISTING_DAYS))


async def ensure_slots(schedule: Schedule, *, now: datetime, connection=None) -> int:
    """Draw the schedule's slots up to its horizon (idempotent); returns how many were new."""
    if not schedule.active:
        return 0
    today = workdays.local_date(now)
    last_day = drawing_horizon(schedule, today)
    generation = workdays.generation()
    if memos.drawn(schedule.id, generation) >= last_day:
        return 0
    rows: list[Slot] = []
    day = today
    while day <= last_day:
        if _runs_on(schedule, day):
            rows.extend(_slot_rows(schedule, day))
        day += timedelta(days=1)
    drawn = Slot.filter(schedule_id=schedule.id, day__gte=today).using_db(connection)
    before = await drawn.count()
    if rows:
        await Slot.bulk_create(rows, ignore_conflicts=True, using_db=connection)
    memos.mark_drawn(schedule.id, generation, last_day)
    return await drawn.count() - before


def _slot_view(slot: Slot) -> dict:
    return {
        "id": slot.id,
        "hall_id": slot.hall_id,
        "matter_id": slot.matter_id,
        "date": slot.day.isoformat(),
        "start": to_iso(slot.start_at),
        "end": to_iso(slot.end_at),
        "capacity": slot.capacity,
        "remaining": max(0, slot.capacity - slot.booked),
        "booking_closes_at": to_iso(slot.closes_at),
    }


async def list_slots(
    *,
    matter_id: int,
    hall_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    cache_seconds: float,
    now: datetime | None = None,
) -> list[dict]:
    """Released, still bookable slots of a matter with their remaining seats; served from memory for a moment."""
    memo_key = (matter_id, hall_id, date_from, date_to)
    remembered = memos.listing(memo_key)
    if remembered is not None:
        return remembered
    if not cache_seconds:
        return await _load_slots(matter_id, hall_id, date_from, date_to, as_utc(now))
    # One load per listing and process at a time: when the memory expires under load, the others wait for it
    # instead of all asking the database the same thing at once.
    slots = await shared_load(
        memos.listing_loads, memo_key, lambda: _load_slots(matter_id, hall_id, date_from, date_to, as_utc(now))
    )
    memos.remember_listing(memo_key, slots, cache_seconds)
    return slots


async def _load_slots(
    matter_id: int, hall_id: int | None, date_from: date | None, date_to: date | None, now: datetime
) -> list[dict]:
    await catalog.require_matter(matter_id)
    await workdays.ensure_overrides_fresh()
    today = workdays.local_date(now)
    first = max(date_from or today, today)
    last = date_to or today + timedelta(days=DEFAULT_LISTING_DAYS)
    query = Slot.filter(matter_id=matter_id, day__gte=first, day__lte=last, opens_at__lte=now, closes_at__gt=now)
    if hall_id is not None:
        query = query.filter(hall_id=hall_id)
    return [_slot_view(s) for s in await query.order_by("start_at", "hall_id") if workdays.is_workday(s.day)]
