"""Booking's periodic jobs (app/worker.py runs them): drawing upcoming slots, marking no-shows, reminders."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.booking.appointments import mark_no_shows
from app.booking.models import Appointment, AppointmentStatus, Schedule
from app.booking.slots import ensure_slots
from app.core import outbox, workdays
from app.core.timeutil import as_utc, to_iso

__all__ = ["ensure_all_slots", "mark_no_shows", "remind_appointments"]

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
