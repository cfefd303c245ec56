"""Booking's periodic jobs (app/worker.py runs them): drawing upcoming slots, marking no-shows, reminders, seat
counters set back to the database's seats."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.booking.appointments import mark_no_shows
from app.booking.models import Appointment, AppointmentStatus, Schedule, Slot
from app.booking.slots import ensure_slots, seat_key
from app.core import outbox, workdays
from app.core.cache import Cache
from app.core.timeutil import as_utc, to_iso

__all__ = ["ensure_all_slots", "mark_no_shows", "reconcile_seat_counters", "remind_appointments"]

# Reminders: the day before and an hour before, each only when the booking was made earlier than that.
REMINDERS = (("hour", timedelta(hours=1)), ("day", timedelta(hours=24)))


async def ensure_all_slots(*, now: datetime | None = None) -> int:
    """Draw upcoming slots of every active schedule up to its horizon; returns how many were new."""
    await workdays.ensure_overrides_fresh()
    created = 0
    for schedule in await Schedule.filter(active=True):
        created += await ensure_slots(schedule, now=as_utc(now))
    return created


async def remind_appointments(*, now: datetime | None = None) -> int:
    """Emit appointment.reminder events that are due, once per appointment and reminder; returns how many."""
    now = as_utc(now)
    emitted = 0
    upcoming = await Appointment.filter(
        status=AppointmentStatus.BOOKED, start_at__gt=now, start_at__lte=now + REMINDERS[-1][1]
    )
    for appointment in upcoming:
        for name, ahead in REMINDERS:  # the nearest first: an hour before replaces a day-before not yet sent
            if appointment.start_at - now > ahead or appointment.created_at > appointment.start_at - ahead:
                continue
            emitted += await outbox.emit_once(
                "appointment.reminder",
                dedupe_key=f"appointment:{appointment.id}:reminder:{name}",
                aggregate_type="appointment",
                aggregate_id=appointment.id,
                citizen_id=appointment.citizen_id,
                payload={
                    "appointment_id": appointment.id,
                    "matter_id": appointment.matter_id,
                    "hall_id": appointment.hall_id,
                    "start": to_iso(appointment.start_at),
                    "ahead": name,
                },
            )
            break
    return emitted


async def reconcile_seat_counters(*, cache: Cache, ttl_seconds: int, now: datetime | None = None) -> int:
    """Set each open slot's seat counter that differs from the database's remaining seats to them; returns how many."""
    now = as_utc(now)
    fixed = 0
    for slot in await Slot.filter(opens_at__lte=now, closes_at__gt=now).values("id", "capacity", "booked"):
        counter = await cache.get(seat_key(slot["id"]))
        if counter is None:
            continue  # no counter: the next booking builds it from the database
        seats = max(0, slot["capacity"] - slot["booked"])
        # A booking in flight between its counter and its commit makes a counter look one low for a moment;
        # raising it only lets one more reach the database's conditional UPDATE, which never overbooks.
        if int(counter) != seats:
            await cache.set(seat_key(slot["id"]), str(seats), ttl_seconds)
            fixed += 1
    return fixed
