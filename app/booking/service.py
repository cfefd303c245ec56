"""Booking rules: schedules and slots on working days, appointments that never overbook, and the hall queue.

Seats: the database is the truth (a conditional `UPDATE ... SET booked = booked + 1 WHERE booked < capacity` inside
the booking transaction). A per-slot seat counter in the cache is only a gate in front of it, so that the crowd of
refusals on a release morning costs no database transaction; a process that has seen a slot full refuses it from
memory for `full_memo_seconds`.
"""

from __future__ import annotations

import asyncio
import secrets
import time as monotonic_clock
from datetime import date, datetime, time, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from app.audit import service as audit
from app.booking.errors import (AlreadyBooked, AppointmentNotFound, AppointmentStateConflict, BookingClosed,
                                BookingLimitReached, BookingSuspended, CancelClosed, CheckInNotOpen, HallNotFound,
                                NotBookableHere, QueueEmpty, ScheduleExists, ScheduleNotFound, SlotFull,
                                SlotNotFound)
from app.booking.models import (Appointment, AppointmentStatus, QueueCounter, Schedule, Slot, Ticket,
                                TicketKind, TicketStatus, WorkCalendarDay)
from app.booking.schemas import ScheduleIn, ScheduleRules
from app.catalog import service as catalog
from app.catalog.errors import MatterNotFound
from app.core import outbox, workdays
from app.core.aggregates import figures_by
from app.core.auth import Principal
from app.core.cache import Cache, shared_load
from app.core.config import BookingSection
from app.core.db import dialect
from app.core.errors import ValidationFailed
from app.core.timeutil import CITY_TZ, as_utc, to_iso
from app.identity import service as identity

MAX_ACTIVE_APPOINTMENTS = 3
NO_SHOWS_TO_SUSPEND = 3
NO_SHOW_WINDOW = timedelta(days=90)
SUSPENSION = timedelta(days=30)
SELF_CHECK_IN_BEFORE = timedelta(minutes=30)
DEFAULT_LISTING_DAYS = 14
ACTIVE = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)
APPOINTMENT_PREFIX = "A"
WALK_IN_PREFIX = "B"
# Check-in codes: no 0/O, 1/I/L, so a clerk can type what the citizen reads out.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
# pg_advisory_xact_lock(namespace, citizen id): one booking per citizen at a time, so the total cap holds.
CITIZEN_LOCK_NAMESPACE = 4201

# Appointment state machine: action -> (states it may start from, state it leads to).
APPOINTMENT_TRANSITIONS: dict[str, tuple[frozenset[AppointmentStatus], AppointmentStatus]] = {
    "cancel": (frozenset({AppointmentStatus.BOOKED}), AppointmentStatus.CANCELLED),
    "check_in": (frozenset({AppointmentStatus.BOOKED}), AppointmentStatus.CHECKED_IN),
    "no_show": (frozenset({AppointmentStatus.BOOKED}), AppointmentStatus.NO_SHOW),
    "finish": (frozenset({AppointmentStatus.CHECKED_IN}), AppointmentStatus.DONE),
}
# Ticket state machine, same shape.
TICKET_TRANSITIONS: dict[str, tuple[frozenset[TicketStatus], TicketStatus]] = {
    "call": (frozenset({TicketStatus.WAITING}), TicketStatus.CALLED),
    "finish": (frozenset({TicketStatus.CALLED}), TicketStatus.DONE),
}

# Per-process memory: immutable slot facts, citizens known to be verified (a verified identity never becomes
# unverified), slots seen full, short-lived listings, and schedules whose slots exist up to a date.
_slot_facts: dict[int, dict] = {}
_verified: set[int] = set()
_full_until: dict[int, float] = {}
_listings: dict[tuple, tuple[float, list[dict]]] = {}
_materialised: dict[int, date] = {}
_listing_loads: dict[tuple, asyncio.Future] = {}
_MEMO_LIMIT = 50_000


def forget_process_memory() -> None:
    """Drop what this process remembers (tests that move the clock; calendar edits)."""
    _slot_facts.clear()
    _full_until.clear()
    _listings.clear()
    _materialised.clear()


def _bounded(memo: dict | set) -> None:
    if len(memo) > _MEMO_LIMIT:
        memo.clear()


def _seat_key(slot_id: int) -> str:
    return f"booking:seats:{slot_id}"


def _idempotency_key(citizen_id: int, key: str) -> str:
    return f"booking:idem:{citizen_id}:{key}"


def _real_name_key(citizen_id: int) -> str:
    return f"booking:real_name:{citizen_id}"


def _drop_listings(matter_id: int) -> None:
    for key in [key for key in _listings if key[0] == matter_id]:
        _listings.pop(key, None)




def _parse_clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _local(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=CITY_TZ)


# ---- schedules and slots ----

def schedule_view(schedule: Schedule) -> dict:
    return {"id": schedule.id, "hall_id": schedule.hall_id, "matter_id": schedule.matter_id,
            "department_id": schedule.department_id, "weekdays": list(schedule.weekdays),
            "ranges": list(schedule.ranges), "slot_minutes": schedule.slot_minutes, "capacity": schedule.capacity,
            "release_days": schedule.release_days, "release_time": schedule.release_time,
            "booking_closes_minutes": schedule.booking_closes_minutes,
            "cancel_cutoff_minutes": schedule.cancel_cutoff_minutes, "active": schedule.active}


async def create_schedule(data: ScheduleIn, *, actor: Principal, cache: Cache, catalog_ttl: int,
                          now: datetime | None = None) -> dict:
    """A department admin opens a matter for booking at a hall; another department's matter is 404."""
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
    async with in_transaction() as connection:
        schedule = await Schedule.create(**values, department_id=matter["department_id"], using_db=connection)
        await audit.record(actor=actor.actor, staff_id=actor.id if actor.is_staff else None,
                           action="schedule.create", object_type="schedule", object_id=schedule.id,
                           after=schedule_view(schedule), connection=connection)
    await ensure_slots(schedule, now=as_utc(now))
    return schedule_view(schedule)


async def update_schedule(schedule_id: int, data: ScheduleRules, *, actor: Principal, cache: Cache,
                          now: datetime | None = None) -> dict:
    """Change a schedule from now on: released slots keep their times, seats and bookings; unreleased ones are redrawn."""
    schedule = await Schedule.get_or_none(id=schedule_id)
    if schedule is None or not actor.covers_department(schedule.department_id):
        raise ScheduleNotFound()
    moment = as_utc(now)
    before = schedule_view(schedule)
    values = data.model_dump()
    values["weekdays"] = sorted(set(values["weekdays"]))
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
        await audit.record(actor=actor.actor, staff_id=actor.id if actor.is_staff else None,
                           action="schedule.update", object_type="schedule", object_id=schedule.id,
                           before=before, after=schedule_view(schedule), connection=connection)
    for slot_id in [*redrawn, *closed]:
        _slot_facts.pop(slot_id, None)
        _full_until.pop(slot_id, None)
    if redrawn:
        await cache.delete(*(_seat_key(slot_id) for slot_id in redrawn))
    _materialised.pop(schedule.id, None)
    _drop_listings(schedule.matter_id)
    await ensure_slots(schedule, now=moment)
    return schedule_view(schedule)


async def list_schedules(*, actor: Principal, matter_id: int | None, hall_id: int | None, offset: int,
                         limit: int) -> tuple[list[dict], int]:
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
            rows.append(Slot(schedule_id=schedule.id, hall_id=schedule.hall_id, matter_id=schedule.matter_id,
                             day=day, start_at=start, end_at=start + length, opens_at=opens_at,
                             closes_at=start - timedelta(minutes=schedule.booking_closes_minutes),
                             cancel_closes_at=start - timedelta(minutes=schedule.cancel_cutoff_minutes),
                             capacity=schedule.capacity))
            start += length
    return rows


def _runs_on(schedule: Schedule, day: date) -> bool:
    if not workdays.is_workday(day):
        return False
    # A make-up working day (调休) on a weekend runs the schedule of a weekday.
    if day.isoweekday() > 5:
        return day.isoweekday() in schedule.weekdays or any(w <= 5 for w in schedule.weekdays)
    return day.isoweekday() in schedule.weekdays


async def ensure_slots(schedule: Schedule, *, now: datetime) -> int:
    """Create the schedule's slots up to the next release (idempotent); returns how many were new."""
    if not schedule.active:
        return 0
    today = workdays.local_date(now)
    # One working day beyond today's release, so tomorrow's release-morning slots exist before the crowd.
    last_day = workdays.add_workdays(today, schedule.release_days + 1)
    if _materialised.get(schedule.id, date.min) >= last_day:
        return 0
    await workdays.ensure_overrides_fresh()
    rows: list[Slot] = []
    day = today
    while day <= last_day:
        if _runs_on(schedule, day):
            rows.extend(_slot_rows(schedule, day))
        day += timedelta(days=1)
    before = await Slot.filter(schedule_id=schedule.id, day__gte=today).count()
    if rows:
        await Slot.bulk_create(rows, ignore_conflicts=True)
    _materialised[schedule.id] = last_day
    return await Slot.filter(schedule_id=schedule.id, day__gte=today).count() - before


async def ensure_all_slots(*, now: datetime | None = None) -> int:
    """Create upcoming slots of every active schedule (the worker's job)."""
    created = 0
    for schedule in await Schedule.filter(active=True):
        created += await ensure_slots(schedule, now=as_utc(now))
    return created


def _slot_view(slot: Slot) -> dict:
    return {"id": slot.id, "hall_id": slot.hall_id, "matter_id": slot.matter_id, "date": slot.day.isoformat(),
            "start": to_iso(slot.start_at), "end": to_iso(slot.end_at), "capacity": slot.capacity,
            "remaining": max(0, slot.capacity - slot.booked), "booking_closes_at": to_iso(slot.closes_at)}


async def list_slots(*, matter_id: int, hall_id: int | None = None, date_from: date | None = None,
                     date_to: date | None = None,
                     cache_seconds: float, now: datetime | None = None) -> list[dict]:
    """Released, still bookable slots of a matter with their remaining seats; served from memory for a moment."""
    memo_key = (matter_id, hall_id, date_from, date_to)
    remembered = _listings.get(memo_key)
    if remembered is not None and remembered[0] > monotonic_clock.monotonic():
        return remembered[1]
    if not cache_seconds:
        return await _load_slots(matter_id, hall_id, date_from, date_to, as_utc(now))
    # One load per listing and process at a time: when the memory expires under load, the others wait for it
    # instead of all asking the database the same thing at once.
    slots = await shared_load(_listing_loads, memo_key,
                              lambda: _load_slots(matter_id, hall_id, date_from, date_to, as_utc(now)))
    _bounded(_listings)
    _listings[memo_key] = (monotonic_clock.monotonic() + cache_seconds, slots)
    return slots


async def _load_slots(matter_id: int, hall_id: int | None, date_from: date | None, date_to: date | None,
                      now: datetime) -> list[dict]:
    await catalog.require_matter(matter_id)
    await workdays.ensure_overrides_fresh()
    schedules = Schedule.filter(matter_id=matter_id, active=True)
    if hall_id is not None:
        schedules = schedules.filter(hall_id=hall_id)
    for schedule in await schedules:
        await ensure_slots(schedule, now=now)
    today = workdays.local_date(now)
    first = max(date_from or today, today)
    last = date_to or today + timedelta(days=DEFAULT_LISTING_DAYS)
    query = Slot.filter(matter_id=matter_id, day__gte=first, day__lte=last, opens_at__lte=now, closes_at__gt=now)
    if hall_id is not None:
        query = query.filter(hall_id=hall_id)
    return [_slot_view(s) for s in await query.order_by("start_at", "hall_id") if workdays.is_workday(s.day)]


# ---- booking ----

def appointment_view(appointment: Appointment, ticket_number: str | None = None) -> dict:
    return {"id": appointment.id, "status": appointment.status.value, "code": appointment.code,
            "matter_id": appointment.matter_id, "hall_id": appointment.hall_id,
            "slot": {"id": appointment.slot_id, "hall_id": appointment.hall_id,
                     "start": to_iso(appointment.start_at), "end": to_iso(appointment.end_at)},
            "cancel_closes_at": to_iso(appointment.cancel_closes_at), "created_at": to_iso(appointment.created_at),
            "ticket_number": ticket_number}


async def _require_real_name(citizen_id: int, cache: Cache) -> None:
    if citizen_id in _verified:
        return
    if await cache.get(_real_name_key(citizen_id)) is None:
        await identity.require_real_name(citizen_id)
        await cache.set(_real_name_key(citizen_id), "1", 30 * 86400)
    _bounded(_verified)
    _verified.add(citizen_id)


async def _slot_facts_of(slot_id: int) -> dict:
    facts = _slot_facts.get(slot_id)
    if facts is None:
        slot = await Slot.get_or_none(id=slot_id)
        if slot is None:
            raise SlotNotFound()
        facts = {"id": slot.id, "matter_id": slot.matter_id, "hall_id": slot.hall_id, "day": slot.day,
                 "start_at": slot.start_at, "end_at": slot.end_at, "opens_at": slot.opens_at,
                 "closes_at": slot.closes_at, "cancel_closes_at": slot.cancel_closes_at}
        _bounded(_slot_facts)
        _slot_facts[slot_id] = facts
    return facts


async def _rebuild_seat_counter(slot_id: int, cache: Cache, ttl: int) -> None:
    row = await Slot.filter(id=slot_id).values("capacity", "booked")
    if row:
        # add(), not set(): a counter another request rebuilt (and may already have taken from) is kept.
        await cache.add(_seat_key(slot_id), str(max(0, row[0]["capacity"] - row[0]["booked"])), ttl)


async def _earlier_booking(citizen_id: int, idempotency_key: str | None) -> Appointment | None:
    if not idempotency_key:
        return None
    return await Appointment.get_or_none(citizen_id=citizen_id, idempotency_key=idempotency_key)


async def _refuse_full(citizen_id: int, idempotency_key: str | None) -> dict:
    earlier = await _earlier_booking(citizen_id, idempotency_key)
    if earlier is not None:
        return appointment_view(earlier)
    raise SlotFull()


async def book(*, citizen_id: int, slot_id: int, matter_id: int, idempotency_key: str | None, cache: Cache,
               tuning: BookingSection, now: datetime | None = None) -> dict:
    """Book a seat; a repeat with the same Idempotency-Key returns the first appointment."""
    now = as_utc(now)
    # A slot this process has just seen full is refused before anything else: the release-morning crowd's
    # answer costs no round trip beyond the login check (nobody can book it, verified or not).
    if not idempotency_key and _full_until.get(slot_id, 0.0) > monotonic_clock.monotonic():
        raise SlotFull()
    await _require_real_name(citizen_id, cache)
    if idempotency_key:
        earlier_id = await cache.get(_idempotency_key(citizen_id, idempotency_key))
        if earlier_id is not None:
            earlier = await Appointment.get_or_none(id=int(earlier_id), citizen_id=citizen_id)
            if earlier is not None:
                return appointment_view(earlier)
    facts = await _slot_facts_of(slot_id)
    if facts["matter_id"] != matter_id:
        raise SlotNotFound()
    if not facts["opens_at"] <= now < facts["closes_at"] or not workdays.is_workday(facts["day"]):
        raise BookingClosed(details={"opens_at": to_iso(facts["opens_at"]), "closes_at": to_iso(facts["closes_at"])})

    # The gate: refusals on a full slot end here without touching the database.
    if _full_until.get(slot_id, 0.0) > monotonic_clock.monotonic():
        return await _refuse_full(citizen_id, idempotency_key)
    seats_left = await cache.decr_if_positive(_seat_key(slot_id))
    if seats_left is None:
        await _rebuild_seat_counter(slot_id, cache, tuning.seat_counter_seconds)
        seats_left = await cache.decr_if_positive(_seat_key(slot_id))
    if seats_left is not None and seats_left < 0:
        if tuning.full_memo_seconds:
            _bounded(_full_until)
            _full_until[slot_id] = monotonic_clock.monotonic() + tuning.full_memo_seconds
        return await _refuse_full(citizen_id, idempotency_key)

    holds_seat = seats_left is not None
    database_said_full = False
    try:
        async with in_transaction() as connection:
            if dialect() == "postgres":
                await connection.execute_query("SELECT pg_advisory_xact_lock($1, $2)",
                                               [CITIZEN_LOCK_NAMESPACE, citizen_id])
            # One read serves every per-citizen rule: active ones, recent no-shows, and ended ones not yet marked.
            recent = now - NO_SHOW_WINDOW - SUSPENSION
            mine = await Appointment.filter(
                Q(status__in=ACTIVE) | Q(status=AppointmentStatus.NO_SHOW, end_at__gte=recent),
                citizen_id=citizen_id).using_db(connection).values("status", "matter_id", "day", "end_at")
            unmarked = [a for a in mine if a["status"] == AppointmentStatus.BOOKED and a["end_at"] <= now]
            if unmarked:
                await mark_no_shows(now=now, citizen_id=citizen_id, connection=connection)
            until = suspension_end([a["end_at"] for a in mine
                                    if a["status"] == AppointmentStatus.NO_SHOW or a in unmarked], now=now)
            if until is not None:
                raise BookingSuspended(f"因多次预约未到，{workdays.local_date(until).isoformat()} 前暂停预约",
                                       details={"suspended_until": to_iso(until)})
            active = [a for a in mine if a["status"] in ACTIVE and a not in unmarked]
            if any(a["matter_id"] == matter_id and a["day"] == facts["day"] for a in active):
                raise AlreadyBooked()
            if len(active) >= MAX_ACTIVE_APPOINTMENTS:
                raise BookingLimitReached(details={"max_active": MAX_ACTIVE_APPOINTMENTS})
            # closes_at in the condition too: a schedule closed in another process ends booking here at once.
            taken = await Slot.filter(id=slot_id, booked__lt=F("capacity"), closes_at__gt=now).using_db(
                connection).update(booked=F("booked") + 1)
            if not taken:
                database_said_full = True
                raise SlotFull()
            appointment = await Appointment.create(
                citizen_id=citizen_id, slot_id=slot_id, matter_id=matter_id, hall_id=facts["hall_id"],
                day=facts["day"], start_at=facts["start_at"], end_at=facts["end_at"],
                cancel_closes_at=facts["cancel_closes_at"], code=_new_code(),
                active_key=f"{citizen_id}:{matter_id}:{facts['day'].isoformat()}",
                idempotency_key=idempotency_key or None, using_db=connection)
            await outbox.emit("appointment.booked", aggregate_type="appointment", aggregate_id=appointment.id,
                              citizen_id=citizen_id, connection=connection,
                              payload={"appointment_id": appointment.id, "matter_id": matter_id,
                                       "hall_id": facts["hall_id"], "start": to_iso(facts["start_at"]),
                                       "code": appointment.code})
    except (IntegrityError, AlreadyBooked):
        # A twin won: the same Idempotency-Key (return its appointment) or the same matter and day.
        if holds_seat:
            await cache.incr_if_exists(_seat_key(slot_id))
        earlier = await _earlier_booking(citizen_id, idempotency_key)
        if earlier is not None:
            return appointment_view(earlier)
        raise AlreadyBooked() from None
    except BaseException:
        # The counter said yes but the database said full: the counter was high, so the seat is not put back.
        if holds_seat and not database_said_full:
            await cache.incr_if_exists(_seat_key(slot_id))
        raise
    if idempotency_key:
        await cache.set(_idempotency_key(citizen_id, idempotency_key), str(appointment.id),
                        tuning.idempotency_seconds)
    _drop_listings(matter_id)
    return appointment_view(appointment)


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


async def _own_appointment(citizen_id: int, appointment_id: int) -> Appointment:
    appointment = await Appointment.get_or_none(id=appointment_id, citizen_id=citizen_id)
    if appointment is None:
        raise AppointmentNotFound()
    return appointment


async def _ticket_number(appointment_id: int) -> str | None:
    numbers = await Ticket.filter(appointment_id=appointment_id).values_list("number", flat=True)
    return numbers[0] if numbers else None


async def get_appointment(*, citizen_id: int, appointment_id: int, now: datetime | None = None) -> dict:
    """One of the citizen's appointments; anyone else's is 404."""
    await mark_no_shows(now=as_utc(now), citizen_id=citizen_id)
    appointment = await _own_appointment(citizen_id, appointment_id)
    return appointment_view(appointment, await _ticket_number(appointment.id))


async def list_appointments(*, citizen_id: int, status: str | None, offset: int, limit: int,
                            now: datetime | None = None) -> tuple[list[dict], int]:
    """The citizen's appointments, soonest slot last booked first."""
    await mark_no_shows(now=as_utc(now), citizen_id=citizen_id)
    query = Appointment.filter(citizen_id=citizen_id)
    if status:
        query = query.filter(status=status)
    total = await query.count()
    rows = await query.order_by("-start_at", "-id").offset(offset).limit(limit)
    return [appointment_view(a) for a in rows], total


async def _transition(appointment_id: int, action: str, connection, **changes) -> None:
    sources, target = APPOINTMENT_TRANSITIONS[action]
    if target not in ACTIVE:
        changes["active_key"] = None
    moved = await Appointment.filter(id=appointment_id, status__in=list(sources)).using_db(connection).update(
        status=target, **changes)
    if not moved:
        raise AppointmentStateConflict()


async def cancel(*, citizen_id: int, appointment_id: int, cache: Cache, now: datetime | None = None) -> dict:
    """Cancel before the cut-off; the seat is free again at once."""
    now = as_utc(now)
    await mark_no_shows(now=now, citizen_id=citizen_id)
    appointment = await _own_appointment(citizen_id, appointment_id)
    if appointment.status != AppointmentStatus.BOOKED:
        raise AppointmentStateConflict(details={"status": appointment.status.value})
    if now >= appointment.cancel_closes_at:
        raise CancelClosed(details={"cancel_closes_at": to_iso(appointment.cancel_closes_at)})
    async with in_transaction() as connection:
        await _transition(appointment.id, "cancel", connection, cancelled_at=now)
        await Slot.filter(id=appointment.slot_id, booked__gt=0).using_db(connection).update(booked=F("booked") - 1)
        await outbox.emit("appointment.cancelled", aggregate_type="appointment", aggregate_id=appointment.id,
                          citizen_id=citizen_id, connection=connection,
                          payload={"appointment_id": appointment.id, "matter_id": appointment.matter_id,
                                   "hall_id": appointment.hall_id, "start": to_iso(appointment.start_at),
                                   "reason": "本人取消"})
    await cache.incr_if_exists(_seat_key(appointment.slot_id))
    _full_until.pop(appointment.slot_id, None)
    _drop_listings(appointment.matter_id)
    await appointment.refresh_from_db()
    return appointment_view(appointment)


async def mark_no_shows(*, now: datetime | None = None, citizen_id: int | None = None, connection=None) -> int:
    """Booked appointments whose slot has ended without a check-in become no-shows; returns how many."""
    now = as_utc(now)
    query = Appointment.filter(status=AppointmentStatus.BOOKED, end_at__lte=now)
    if citizen_id is not None:
        query = query.filter(citizen_id=citizen_id)
    return await query.using_db(connection).update(status=AppointmentStatus.NO_SHOW, active_key=None, no_show_at=now)


async def suspended_until(citizen_id: int, *, now: datetime | None = None) -> datetime | None:
    """When the citizen's booking suspension ends, or None when they may book."""
    now = as_utc(now)
    await mark_no_shows(now=now, citizen_id=citizen_id)
    ended = await Appointment.filter(citizen_id=citizen_id, status=AppointmentStatus.NO_SHOW,
                                     end_at__gte=now - NO_SHOW_WINDOW - SUSPENSION).values_list("end_at", flat=True)
    return suspension_end(list(ended), now=now)


def suspension_end(no_show_ends: list[datetime], *, now: datetime) -> datetime | None:
    """30 days after the no-show that made three within 90 days, if that is still ahead of now."""
    ended = sorted(no_show_ends)
    until = None
    for index in range(NO_SHOWS_TO_SUSPEND - 1, len(ended)):
        if ended[index] - ended[index - NO_SHOWS_TO_SUSPEND + 1] <= NO_SHOW_WINDOW:
            candidate = ended[index] + SUSPENSION
            if candidate > now and (until is None or candidate > until):
                until = candidate
    return until


# ---- the queue ----

async def _ahead(ticket: Ticket) -> int:
    waiting = Ticket.filter(hall_id=ticket.hall_id, day=ticket.day, status=TicketStatus.WAITING)
    if ticket.prefix == APPOINTMENT_PREFIX:
        return await waiting.filter(prefix=APPOINTMENT_PREFIX, seq__lt=ticket.seq).count()
    return await waiting.filter(Q(prefix=APPOINTMENT_PREFIX) | Q(prefix=ticket.prefix, seq__lt=ticket.seq)).count()


async def ticket_view(ticket: Ticket) -> dict:
    ahead = await _ahead(ticket) if ticket.status == TicketStatus.WAITING else 0
    return {"id": ticket.id, "number": ticket.number, "hall_id": ticket.hall_id, "kind": ticket.kind.value,
            "status": ticket.status.value, "window": ticket.window, "ahead": ahead,
            "issued_at": to_iso(ticket.created_at)}


async def _issue_ticket(connection, *, hall_id: int, day: date, prefix: str, kind: TicketKind,
                        appointment_id: int | None = None, citizen_id: int | None = None,
                        matter_id: int | None = None) -> Ticket:
    # The UPDATE locks the counter row until commit, so concurrent check-ins get consecutive numbers.
    await QueueCounter.bulk_create([QueueCounter(hall_id=hall_id, day=day, prefix=prefix, last_seq=0)],
                                   ignore_conflicts=True, using_db=connection)
    counter = QueueCounter.filter(hall_id=hall_id, day=day, prefix=prefix).using_db(connection)
    await counter.update(last_seq=F("last_seq") + 1)
    seq = (await counter.values_list("last_seq", flat=True))[0]
    return await Ticket.create(hall_id=hall_id, day=day, prefix=prefix, seq=seq, number=f"{prefix}{seq:03d}",
                               kind=kind, appointment_id=appointment_id, citizen_id=citizen_id,
                               matter_id=matter_id, using_db=connection)


async def _check_in(appointment: Appointment, now: datetime) -> dict:
    async with in_transaction() as connection:
        await _transition(appointment.id, "check_in", connection, checked_in_at=now)
        ticket = await _issue_ticket(connection, hall_id=appointment.hall_id, day=appointment.day,
                                     prefix=APPOINTMENT_PREFIX, kind=TicketKind.APPOINTMENT,
                                     appointment_id=appointment.id, citizen_id=appointment.citizen_id,
                                     matter_id=appointment.matter_id)
    return {"ticket": await ticket_view(ticket), "appointment_id": appointment.id}


async def _already_checked_in(appointment: Appointment) -> dict | None:
    if appointment.status != AppointmentStatus.CHECKED_IN:
        return None
    ticket = await Ticket.get(appointment_id=appointment.id)
    return {"ticket": await ticket_view(ticket), "appointment_id": appointment.id}


async def check_in_by_code(*, code: str, now: datetime | None = None) -> dict:
    """A clerk checks a citizen in by their code on the appointment's day, until the slot ends."""
    now = as_utc(now)
    await mark_no_shows(now=now)
    appointment = await Appointment.get_or_none(code=code.strip().upper())
    if appointment is None:
        raise AppointmentNotFound()
    repeated = await _already_checked_in(appointment)
    if repeated is not None:
        return repeated
    if appointment.status != AppointmentStatus.BOOKED:
        raise AppointmentStateConflict(details={"status": appointment.status.value})
    if workdays.local_date(now) != appointment.day:
        raise CheckInNotOpen("只能在预约当天签到")
    return await _check_in(appointment, now)


async def self_check_in(*, citizen_id: int, appointment_id: int, now: datetime | None = None) -> dict:
    """The citizen checks in on arrival, from 30 minutes before the slot until it ends."""
    now = as_utc(now)
    await mark_no_shows(now=now, citizen_id=citizen_id)
    appointment = await _own_appointment(citizen_id, appointment_id)
    repeated = await _already_checked_in(appointment)
    if repeated is not None:
        return repeated
    if appointment.status != AppointmentStatus.BOOKED:
        raise AppointmentStateConflict(details={"status": appointment.status.value})
    if not appointment.start_at - SELF_CHECK_IN_BEFORE <= now < appointment.end_at:
        raise CheckInNotOpen(details={"from": to_iso(appointment.start_at - SELF_CHECK_IN_BEFORE),
                                      "until": to_iso(appointment.end_at)})
    return await _check_in(appointment, now)


async def _require_hall(hall_id: int) -> dict:
    hall = await catalog.get_hall(hall_id)
    if hall is None:
        raise HallNotFound()
    return hall


async def take_walk_in_ticket(*, hall_id: int, matter_id: int | None, citizen_id: int | None = None,
                              now: datetime | None = None) -> dict:
    """A kiosk ticket for someone without an appointment (B numbers, called after appointments)."""
    now = as_utc(now)
    await _require_hall(hall_id)
    if matter_id is not None:
        await catalog.require_matter(matter_id)
    async with in_transaction() as connection:
        ticket = await _issue_ticket(connection, hall_id=hall_id, day=workdays.local_date(now),
                                     prefix=WALK_IN_PREFIX, kind=TicketKind.WALK_IN, citizen_id=citizen_id,
                                     matter_id=matter_id)
    return await ticket_view(ticket)


async def _finish_ticket(ticket: Ticket, now: datetime, connection) -> None:
    sources, target = TICKET_TRANSITIONS["finish"]
    moved = await Ticket.filter(id=ticket.id, status__in=list(sources)).using_db(connection).update(
        status=target, finished_at=now)
    if moved and ticket.appointment_id is not None:
        await Appointment.filter(id=ticket.appointment_id, status=AppointmentStatus.CHECKED_IN).using_db(
            connection).update(status=AppointmentStatus.DONE, active_key=None, done_at=now)


async def call_next(*, hall_id: int, window: int, now: datetime | None = None) -> dict:
    """Finish what this window was serving and call the next ticket: appointments first, then in order."""
    now = as_utc(now)
    hall = await _require_hall(hall_id)
    if window > hall["windows"]:
        raise ValidationFailed(details={"fields": [{"field": "window", "message": f"该大厅只有 {hall['windows']} 个窗口"}]})
    day = workdays.local_date(now)
    sources, target = TICKET_TRANSITIONS["call"]
    async with in_transaction() as connection:
        for serving in await Ticket.filter(hall_id=hall_id, day=day, status=TicketStatus.CALLED,
                                           window=window).using_db(connection):
            await _finish_ticket(serving, now, connection)
    while True:
        async with in_transaction() as connection:
            candidate = await Ticket.filter(hall_id=hall_id, day=day, status__in=list(sources)).order_by(
                "prefix", "seq").using_db(connection).first()
            if candidate is None:
                raise QueueEmpty()
            # Two windows may pick the same ticket; the conditional update lets exactly one have it.
            called = await Ticket.filter(id=candidate.id, status__in=list(sources)).using_db(connection).update(
                status=target, window=window, called_at=now)
            if not called:
                continue
            await outbox.emit("queue.called", aggregate_type="ticket", aggregate_id=candidate.id,
                              citizen_id=candidate.citizen_id, connection=connection,
                              payload={"ticket_id": candidate.id, "hall_id": hall_id, "window": window,
                                       "number": candidate.number})
        await candidate.refresh_from_db()
        return await ticket_view(candidate)


async def queue_status(*, hall_id: int, now: datetime | None = None) -> dict:
    """How many wait today at a hall, and which numbers are being served at which windows."""
    now = as_utc(now)
    await _require_hall(hall_id)
    day = workdays.local_date(now)
    today = Ticket.filter(hall_id=hall_id, day=day)
    appointments = await today.filter(status=TicketStatus.WAITING, prefix=APPOINTMENT_PREFIX).count()
    walk_ins = await today.filter(status=TicketStatus.WAITING, prefix=WALK_IN_PREFIX).count()
    serving = await today.filter(status=TicketStatus.CALLED).order_by("window")
    return {"hall_id": hall_id, "date": day.isoformat(), "waiting": appointments + walk_ins,
            "waiting_appointments": appointments, "waiting_walk_ins": walk_ins,
            "serving": [{"number": t.number, "window": t.window, "called_at": to_iso(t.called_at)} for t in serving]}


# Reminders: the day before and an hour before, each only when the booking was made earlier than that.
REMINDERS = (("hour", timedelta(hours=1)), ("day", timedelta(hours=24)))


async def remind_appointments(*, now: datetime | None = None) -> int:
    """Emit appointment.reminder events that are due, once per appointment and reminder; returns how many."""
    now = as_utc(now)
    emitted = 0
    upcoming = await Appointment.filter(status=AppointmentStatus.BOOKED, start_at__gt=now,
                                        start_at__lte=now + REMINDERS[-1][1])
    for appointment in upcoming:
        for name, ahead in REMINDERS:  # the nearest first: an hour before replaces a day-before not yet sent
            if appointment.start_at - now > ahead or appointment.created_at > appointment.start_at - ahead:
                continue
            emitted += await outbox.emit_once(
                "appointment.reminder", dedupe_key=f"appointment:{appointment.id}:reminder:{name}",
                aggregate_type="appointment", aggregate_id=appointment.id, citizen_id=appointment.citizen_id,
                payload={"appointment_id": appointment.id, "matter_id": appointment.matter_id,
                         "hall_id": appointment.hall_id, "start": to_iso(appointment.start_at), "ahead": name})
            break
    return emitted


# ---- the admin working-day calendar ----

def _calendar_view(day: date) -> dict:
    row = workdays.describe(day)
    return {"date": day.isoformat(), "is_workday": row["is_workday"], "note": row["note"], "source": row["source"]}


async def calendar_day(day: date) -> dict:
    """Whether a date is a working day, and who says so."""
    await workdays.ensure_overrides_fresh()
    return _calendar_view(day)


async def set_calendar_day(day: date, *, is_workday: bool, note: str, actor: Principal) -> dict:
    """An admin marks a date as a working day or a holiday (overriding chinesecalendar)."""
    async with in_transaction() as connection:
        existing = await WorkCalendarDay.get_or_none(day=day).using_db(connection)
        before = None if existing is None else {"is_workday": existing.is_workday, "note": existing.note}
        if existing is None:
            await WorkCalendarDay.create(day=day, is_workday=is_workday, note=note, updated_by=actor.actor,
                                         using_db=connection)
        else:
            await WorkCalendarDay.filter(id=existing.id).using_db(connection).update(
                is_workday=is_workday, note=note, updated_by=actor.actor)
        await audit.record(actor=actor.actor, staff_id=actor.id if actor.is_staff else None,
                           action="calendar.set", object_type="calendar_day", object_id=day.isoformat(),
                           before=before, after={"is_workday": is_workday, "note": note}, connection=connection)
    await workdays.load_overrides()
    forget_process_memory()
    return _calendar_view(day)


async def delete_calendar_day(day: date, *, actor: Principal) -> dict:
    """Remove an admin's word on a date: chinesecalendar (or Monday-Friday) decides again."""
    deleted = await WorkCalendarDay.filter(day=day).delete()
    if deleted:
        await audit.record(actor=actor.actor, staff_id=actor.id if actor.is_staff else None,
                           action="calendar.delete", object_type="calendar_day", object_id=day.isoformat())
    await workdays.load_overrides()
    forget_process_memory()
    return _calendar_view(day)


async def list_calendar(year: int) -> list[dict]:
    """The admin's overrides in a year."""
    rows = await WorkCalendarDay.filter(day__gte=date(year, 1, 1), day__lte=date(year, 12, 31)).order_by("day")
    return [{"date": r.day.isoformat(), "is_workday": r.is_workday, "note": r.note, "source": "admin"}
            for r in rows]


# ---- what ratings need to know ----

async def service_facts(*, citizen_id: int, appointment_id: int) -> dict:
    """Where and when the citizen's appointment was served (404 for anyone else's): for its rating."""
    appointment = await _own_appointment(citizen_id, appointment_id)
    served = appointment.status in (AppointmentStatus.CHECKED_IN, AppointmentStatus.DONE)
    return {"appointment_id": appointment.id, "matter_id": appointment.matter_id, "hall_id": appointment.hall_id,
            "status": appointment.status.value, "served_at": appointment.checked_in_at if served else None}


async def figures(*, start: datetime, end: datetime, only: int | list[int] | None = None) -> dict[int, dict]:
    """Per hall (or only some): appointments due in [start, end) that were served or missed, and how many missed."""
    due = Appointment.filter(start_at__gte=start, start_at__lt=end,
                             status__in=[AppointmentStatus.CHECKED_IN, AppointmentStatus.DONE,
                                         AppointmentStatus.NO_SHOW])
    return await figures_by("hall_id", due, {"appointments_due": None,
                                             "no_shows": Q(status=AppointmentStatus.NO_SHOW)}, only=only)
