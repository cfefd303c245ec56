"""Appointments: booking behind the seat gate, reading, cancelling, no-shows and suspension; what ratings and the
published statistics ask of them.

Seats: the database is the truth (a conditional `UPDATE ... SET booked = booked + 1 WHERE booked < capacity` inside
the booking transaction). A per-slot seat counter in the cache is only a gate in front of it, so that the crowd of
refusals on a release morning costs no database transaction; a process that has seen a slot full refuses it from
memory for `full_memo_seconds`. A counter at 0 while the database has seats (a process killed between taking a seat
from the counter and booking or giving it back) heals: a refusal checks the database at most once a second per slot
and process, and the worker's seat_counters job sets every open slot's counter to the database's seats.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from app.booking.errors import (
    AlreadyBooked,
    AppointmentNotFound,
    AppointmentStateConflict,
    BookingClosed,
    BookingLimitReached,
    BookingSuspended,
    CancelClosed,
    SlotFull,
    SlotNotFound,
)
from app.booking.memos import memos
from app.booking.models import Appointment, AppointmentStatus, QueueTicket, Slot
from app.booking.slots import seat_key
from app.booking.workflow import APPOINTMENT_TABLE, CITIZEN, citizen_actor, move_all
from app.core import metrics, outbox, workdays
from app.core.aggregates import figures_by
from app.core.cache import Cache
from app.core.config import BookingSection
from app.core.db import dialect
from app.core.errors import IllegalTransition
from app.core.timeutil import as_utc, to_iso
from app.core.workflow import SYSTEM_ACTOR, allowed_actions, apply_move
from app.identity import service as identity

MAX_ACTIVE_APPOINTMENTS = 3
NO_SHOWS_TO_SUSPEND = 3
NO_SHOW_WINDOW = timedelta(days=90)
SUSPENSION = timedelta(days=30)
ACTIVE = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)
# Check-in codes: no 0/O, 1/I/L, so a clerk can type what the citizen reads out.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
# pg_advisory_xact_lock(namespace, citizen id): one booking per citizen at a time, so the total cap holds.
CITIZEN_LOCK_NAMESPACE = 4201


def _idempotency_key(citizen_id: int, key: str) -> str:
    return f"booking:idem:{citizen_id}:{key}"


def _real_name_key(citizen_id: int) -> str:
    return f"booking:real_name:{citizen_id}"


def appointment_view(appointment: Appointment, queue_number: str | None = None) -> dict:
    return {
        "id": appointment.id,
        "status": appointment.status.value,
        "code": appointment.code,
        "matter_id": appointment.matter_id,
        "hall_id": appointment.hall_id,
        "slot": {
            "id": appointment.slot_id,
            "hall_id": appointment.hall_id,
            "start": to_iso(appointment.start_at),
            "end": to_iso(appointment.end_at),
        },
        "cancel_closes_at": to_iso(appointment.cancel_closes_at),
        "created_at": to_iso(appointment.created_at),
        "ticket_number": queue_number,
        # What the citizen's app may offer, from the table (the times are checked when the citizen acts).
        "allowed_actions": allowed_actions(APPOINTMENT_TABLE, appointment.status, (CITIZEN,)),
    }


async def _require_real_name(citizen_id: int, cache: Cache) -> None:
    if citizen_id in memos.verified_citizens:
        return
    if await cache.get(_real_name_key(citizen_id)) is None:
        await identity.require_real_name(citizen_id)
        await cache.set(_real_name_key(citizen_id), "1", 30 * 86400)
    memos.verified_citizens[citizen_id] = True


async def _slot_facts_of(slot_id: int) -> dict:
    facts = memos.slot_facts.get(slot_id)
    if facts is None:
        slot = await Slot.get_or_none(id=slot_id)
        if slot is None:
            raise SlotNotFound()
        facts = {
            "id": slot.id,
            "matter_id": slot.matter_id,
            "hall_id": slot.hall_id,
            "day": slot.day,
            "start_at": slot.start_at,
            "end_at": slot.end_at,
            "opens_at": slot.opens_at,
            "closes_at": slot.closes_at,
            "cancel_closes_at": slot.cancel_closes_at,
        }
        memos.slot_facts[slot_id] = facts
    return facts


async def seats_in_database(slot_id: int) -> int | None:
    """The slot's remaining seats as the database has them (the truth), or None for no such slot."""
    row = await Slot.filter(id=slot_id).values("capacity", "booked")
    return max(0, row[0]["capacity"] - row[0]["booked"]) if row else None


async def _rebuild_seat_counter(slot_id: int, cache: Cache, ttl: int) -> None:
    seats = await seats_in_database(slot_id)
    if seats is not None:
        # add(), not set(): a counter another request rebuilt (and may already have taken from) is kept.
        await cache.add(seat_key(slot_id), str(seats), ttl)


async def resync_seat_counter(slot_id: int, cache: Cache, ttl: int) -> bool:
    """Set the slot's seat counter to the database's remaining seats; whether any remain."""
    seats = await seats_in_database(slot_id)
    if seats is None:
        return False
    # set(), not add(): the counter is known wrong. A booking in flight that took from it meanwhile leaves it a
    # little high for a moment, which only lets a few more reach the database's conditional UPDATE (never
    # overbooking); a counter left low would refuse seats that exist until it expired.
    await cache.set(seat_key(slot_id), str(seats), ttl)
    return seats > 0


async def _earlier_booking(citizen_id: int, idempotency_key: str | None) -> Appointment | None:
    if not idempotency_key:
        return None
    return await Appointment.get_or_none(citizen_id=citizen_id, idempotency_key=idempotency_key)


async def _refuse_full(citizen_id: int, idempotency_key: str | None) -> dict:
    earlier = await _earlier_booking(citizen_id, idempotency_key)
    if earlier is not None:
        return appointment_view(earlier)
    raise SlotFull()


async def book(
    *,
    citizen_id: int,
    slot_id: int,
    matter_id: int,
    idempotency_key: str | None,
    cache: Cache,
    tuning: BookingSection,
    now: datetime | None = None,
) -> dict:
    """Book a seat; a repeat with the same Idempotency-Key returns the first appointment."""
    now = as_utc(now)
    # A slot this process has just seen full is refused before anything else: the release-morning crowd's
    # answer costs no round trip beyond the login check (nobody can book it, verified or not).
    if not idempotency_key and memos.is_full(slot_id):
        metrics.SEAT_GATE_REFUSALS.labels("seen_full").inc()
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
    if memos.is_full(slot_id):
        metrics.SEAT_GATE_REFUSALS.labels("seen_full").inc()
        return await _refuse_full(citizen_id, idempotency_key)
    seats_left = await cache.decr_if_positive(seat_key(slot_id))
    if seats_left is None:
        await _rebuild_seat_counter(slot_id, cache, tuning.seat_counter_seconds)
        seats_left = await cache.decr_if_positive(seat_key(slot_id))
    if seats_left is not None and seats_left < 0 and memos.claim_seat_resync(slot_id):
        # A counter at 0 may be one a killed process left low (it took seats it neither booked nor gave back):
        # once a second per slot and process the database is asked, so such seats come back within a second
        # and a slot that really is full costs it one read a second, not one per refusal.
        if await resync_seat_counter(slot_id, cache, tuning.seat_counter_seconds):
            seats_left = await cache.decr_if_positive(seat_key(slot_id))
    if seats_left is not None and seats_left < 0:
        if tuning.full_memo_seconds:
            memos.mark_full(slot_id, tuning.full_memo_seconds)
        metrics.SEAT_GATE_REFUSALS.labels("no_seat_left").inc()
        return await _refuse_full(citizen_id, idempotency_key)

    holds_seat = seats_left is not None
    database_said_full = False
    try:
        async with in_transaction() as connection:
            if dialect() == "postgres":
                await connection.execute_query(
                    "SELECT pg_advisory_xact_lock($1, $2)", [CITIZEN_LOCK_NAMESPACE, citizen_id]
                )
            # One read serves every per-citizen rule: active ones, recent no-shows, and ended ones not yet marked.
            recent = now - NO_SHOW_WINDOW - SUSPENSION
            mine = (
                await Appointment.filter(
                    Q(status__in=ACTIVE) | Q(status=AppointmentStatus.NO_SHOW, end_at__gte=recent),
                    citizen_id=citizen_id,
                )
                .using_db(connection)
                .values("status", "matter_id", "day", "end_at")
            )
            unmarked = [a for a in mine if a["status"] == AppointmentStatus.BOOKED and a["end_at"] <= now]
            if unmarked:
                # This is a write already: the citizen's ended bookings become no-shows here rather than waiting
                # for the job, so their matter and day are free again and the suspension below counts them.
                await mark_no_shows(now=now, citizen_id=citizen_id, connection=connection)
            until = suspension_end(
                [a["end_at"] for a in mine if a["status"] == AppointmentStatus.NO_SHOW or a in unmarked], now=now
            )
            if until is not None:
                raise BookingSuspended(
                    f"因多次预约未到，{workdays.local_date(until).isoformat()} 前暂停预约",
                    details={"suspended_until": to_iso(until)},
                )
            active = [a for a in mine if a["status"] in ACTIVE and a not in unmarked]
            if any(a["matter_id"] == matter_id and a["day"] == facts["day"] for a in active):
                raise AlreadyBooked()
            if len(active) >= MAX_ACTIVE_APPOINTMENTS:
                raise BookingLimitReached(details={"max_active": MAX_ACTIVE_APPOINTMENTS})
            # closes_at in the condition too: a schedule closed in another process ends booking here at once.
            taken = (
                await Slot.filter(id=slot_id, booked__lt=F("capacity"), closes_at__gt=now)
                .using_db(connection)
                .update(booked=F("booked") + 1)
            )
            if not taken:
                database_said_full = True
                raise SlotFull()
            appointment = await Appointment.create(
                citizen_id=citizen_id,
                slot_id=slot_id,
                matter_id=matter_id,
                hall_id=facts["hall_id"],
                day=facts["day"],
                start_at=facts["start_at"],
                end_at=facts["end_at"],
                cancel_closes_at=facts["cancel_closes_at"],
                code=_new_code(),
                active_key=f"{citizen_id}:{matter_id}:{facts['day'].isoformat()}",
                idempotency_key=idempotency_key or None,
                using_db=connection,
            )
            await outbox.emit(
                "appointment.booked",
                aggregate_type="appointment",
                aggregate_id=appointment.id,
                citizen_id=citizen_id,
                connection=connection,
                payload={
                    "appointment_id": appointment.id,
                    "matter_id": matter_id,
                    "hall_id": facts["hall_id"],
                    "start": to_iso(facts["start_at"]),
                    "code": appointment.code,
                },
            )
    except (IntegrityError, AlreadyBooked):
        # A twin won: the same Idempotency-Key (return its appointment) or the same matter and day.
        if holds_seat:
            await cache.incr_if_exists(seat_key(slot_id))
        earlier = await _earlier_booking(citizen_id, idempotency_key)
        if earlier is not None:
            return appointment_view(earlier)
        raise AlreadyBooked() from None
    except BaseException:
        # The counter said yes but the database said full: the counter was high, so the seat is not put back.
        if holds_seat and not database_said_full:
            await cache.incr_if_exists(seat_key(slot_id))
        raise
    if idempotency_key:
        await cache.set(_idempotency_key(citizen_id, idempotency_key), str(appointment.id), tuning.idempotency_seconds)
    memos.drop_listings(matter_id)
    return appointment_view(appointment)


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


async def own_appointment(citizen_id: int, appointment_id: int) -> Appointment:
    """The citizen's appointment, or 404 (also for anyone else's)."""
    appointment = await Appointment.get_or_none(id=appointment_id, citizen_id=citizen_id)
    if appointment is None:
        raise AppointmentNotFound()
    return appointment


async def _queue_number(appointment_id: int) -> str | None:
    numbers = await QueueTicket.filter(appointment_id=appointment_id).values_list("number", flat=True)
    return numbers[0] if numbers else None


async def get_appointment(*, citizen_id: int, appointment_id: int) -> dict:
    """One of the citizen's appointments, as stored (the no-show job marks ended ones); anyone else's is 404."""
    appointment = await own_appointment(citizen_id, appointment_id)
    return appointment_view(appointment, await _queue_number(appointment.id))


async def list_appointments(*, citizen_id: int, status: str | None, offset: int, limit: int) -> tuple[list[dict], int]:
    """The citizen's appointments, soonest slot last booked first."""
    query = Appointment.filter(citizen_id=citizen_id)
    if status:
        query = query.filter(status=status)
    total = await query.count()
    rows = await query.order_by("-start_at", "-id").offset(offset).limit(limit)
    return [appointment_view(a) for a in rows], total


async def settle_no_show(appointment: Appointment, now: datetime) -> Appointment:
    """Before a write judges it: an appointment whose slot ended without a check-in is a no-show, job or no job."""
    if appointment.status == AppointmentStatus.BOOKED and appointment.end_at <= now:
        try:
            await apply_move(APPOINTMENT_TABLE, appointment, "no_show", actor=SYSTEM_ACTOR, at=now)
        except IllegalTransition:
            await appointment.refresh_from_db()  # moved meanwhile (checked in, or the job): judge what it is now
    return appointment


async def cancel(*, citizen_id: int, appointment_id: int, cache: Cache, now: datetime | None = None) -> dict:
    """Cancel before the cut-off; the seat is free again at once."""
    now = as_utc(now)
    appointment = await settle_no_show(await own_appointment(citizen_id, appointment_id), now)
    # Booking's own code for a state that cannot cancel, before the move (a lost race: ILLEGAL_TRANSITION).
    if appointment.status != AppointmentStatus.BOOKED:
        raise AppointmentStateConflict(details={"status": appointment.status.value})
    if now >= appointment.cancel_closes_at:
        raise CancelClosed(details={"cancel_closes_at": to_iso(appointment.cancel_closes_at)})
    # The move frees the seat in the database and records appointment.cancelled in its transaction.
    await apply_move(APPOINTMENT_TABLE, appointment, "cancel", actor=citizen_actor(citizen_id), at=now)
    await cache.incr_if_exists(seat_key(appointment.slot_id))
    memos.forget_slot(appointment.slot_id)
    memos.drop_listings(appointment.matter_id)
    await appointment.refresh_from_db()
    return appointment_view(appointment)


async def mark_no_shows(*, now: datetime | None = None, citizen_id: int | None = None, connection=None) -> int:
    """Booked appointments whose slot has ended without a check-in become no-shows; returns how many."""
    now = as_utc(now)
    ended = Appointment.filter(end_at__lte=now)
    if citizen_id is not None:
        ended = ended.filter(citizen_id=citizen_id)
    return await move_all(APPOINTMENT_TABLE, ended, "no_show", at=now, connection=connection)


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


async def suspended_until(citizen_id: int, *, now: datetime | None = None) -> datetime | None:
    """When the citizen's booking suspension ends, or None when they may book (ended bookings count as no-shows)."""
    now = as_utc(now)
    ended = await Appointment.filter(
        Q(status=AppointmentStatus.NO_SHOW) | Q(status=AppointmentStatus.BOOKED, end_at__lte=now),
        citizen_id=citizen_id,
        end_at__gte=now - NO_SHOW_WINDOW - SUSPENSION,
    ).values_list("end_at", flat=True)
    return suspension_end(list(ended), now=now)


async def booking_standing(citizen_id: int, *, now: datetime | None = None) -> dict:
    """What the citizen's no-shows mean for booking: how many count now, how many suspend, until when if suspended."""
    now = as_utc(now)
    recent = await Appointment.filter(
        Q(status=AppointmentStatus.NO_SHOW) | Q(status=AppointmentStatus.BOOKED, end_at__lte=now),
        citizen_id=citizen_id,
        end_at__gte=now - NO_SHOW_WINDOW,
    ).count()
    until = await suspended_until(citizen_id, now=now)
    return {
        "recent_no_shows": recent,
        "no_shows_to_suspend": NO_SHOWS_TO_SUSPEND,
        "window_days": NO_SHOW_WINDOW.days,
        "suspension_days": SUSPENSION.days,
        "suspended_until": to_iso(until) if until else None,
    }


async def service_facts(*, citizen_id: int, appointment_id: int) -> dict:
    """Where and when the citizen's appointment was served (404 for anyone else's): for its rating."""
    appointment = await own_appointment(citizen_id, appointment_id)
    served = appointment.status in (AppointmentStatus.CHECKED_IN, AppointmentStatus.DONE)
    return {
        "appointment_id": appointment.id,
        "matter_id": appointment.matter_id,
        "hall_id": appointment.hall_id,
        "status": appointment.status.value,
        "served_at": appointment.checked_in_at if served else None,
    }


async def figures(
    *,
    start: datetime,
    end: datetime,
    only: int | list[int] | None = None,
    connection: BaseDBAsyncClient | None = None,
) -> dict[int, dict]:
    """Per hall (or only some): appointments due in [start, end) that were served or missed, and how many missed
    (read on connection: None, the primary)."""
    due = Appointment.filter(
        start_at__gte=start,
        start_at__lt=end,
        status__in=[AppointmentStatus.CHECKED_IN, AppointmentStatus.DONE, AppointmentStatus.NO_SHOW],
    ).using_db(connection)
    return await figures_by(
        "hall_id", due, {"appointments_due": None, "no_shows": Q(status=AppointmentStatus.NO_SHOW)}, only=only
    )
