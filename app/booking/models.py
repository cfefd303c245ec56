"""Booking tables: schedules and their slots, appointments, and the hall queue (queue tickets are numbers)."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    CHECKED_IN = "checked_in"
    NO_SHOW = "no_show"
    DONE = "done"


class QueueTicketKind(StrEnum):
    APPOINTMENT = "appointment"
    WALK_IN = "walk_in"


class QueueTicketStatus(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    DONE = "done"  # served: the clerk finished it
    SKIPPED = "skipped"  # called, but nobody came to the window (it can be recalled)


class Schedule(Model):
    """When a hall serves a matter by appointment; slots are generated from it on working days."""

    id = fields.IntField(primary_key=True)
    # Catalog ids (another domain): plain integers, checked through the catalog service.
    hall_id = fields.IntField()
    matter_id = fields.IntField(db_index=True)
    department_id = fields.IntField(db_index=True)
    weekdays = fields.JSONField(default=list)  # ISO weekdays 1 (Monday) .. 7
    ranges = fields.JSONField(default=list)  # [{"start": "09:00", "end": "12:00"}], local wall-clock times
    slot_minutes = fields.IntField()
    capacity = fields.IntField()
    release_days = fields.IntField(default=5)
    release_time = fields.CharField(max_length=5, default="08:00")
    booking_closes_minutes = fields.IntField(default=120)
    cancel_cutoff_minutes = fields.IntField(default=120)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "booking_schedule"
        unique_together = (("hall_id", "matter_id"),)


class Slot(Model):
    """One bookable time window; `booked` never exceeds `capacity` (a conditional UPDATE is the only writer)."""

    id = fields.IntField(primary_key=True)
    schedule: fields.ForeignKeyRelation[Schedule] = fields.ForeignKeyField(
        "models.Schedule", related_name="slots", on_delete=fields.CASCADE
    )
    hall_id = fields.IntField()
    matter_id = fields.IntField()
    day = fields.DateField()
    start_at = fields.DatetimeField()
    end_at = fields.DatetimeField()
    # Fixed when the slot is generated, so booking checks need no schedule read.
    opens_at = fields.DatetimeField()
    closes_at = fields.DatetimeField()
    cancel_closes_at = fields.DatetimeField()
    capacity = fields.IntField()
    booked = fields.IntField(default=0)

    class Meta:
        table = "booking_slot"
        unique_together = (("schedule", "start_at"),)
        indexes = (("matter_id", "day"),)


class Appointment(Model):
    id = fields.IntField(primary_key=True)
    citizen_id = fields.IntField(db_index=True)
    slot: fields.ForeignKeyRelation[Slot] = fields.ForeignKeyField(
        "models.Slot", related_name="appointments", on_delete=fields.RESTRICT
    )
    matter_id = fields.IntField()
    hall_id = fields.IntField()
    day = fields.DateField()
    start_at = fields.DatetimeField()
    end_at = fields.DatetimeField(db_index=True)
    cancel_closes_at = fields.DatetimeField()
    status = fields.CharEnumField(AppointmentStatus, max_length=16, default=AppointmentStatus.BOOKED)
    code = fields.CharField(max_length=12, unique=True)
    # "citizen:matter:day" while booked or checked in, NULL after: the database refuses a second active one.
    active_key = fields.CharField(max_length=64, unique=True, null=True)
    idempotency_key = fields.CharField(max_length=80, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    cancelled_at = fields.DatetimeField(null=True)
    checked_in_at = fields.DatetimeField(null=True)
    no_show_at = fields.DatetimeField(null=True)
    done_at = fields.DatetimeField(null=True)

    class Meta:
        table = "booking_appointment"
        unique_together = (("citizen_id", "idempotency_key"),)
        # A hall's published no-show rate counts its appointments due in a period.
        indexes = (("hall_id", "start_at"),)


class QueueCounter(Model):
    """The last queue number given per hall, day and prefix; an UPDATE on this row serialises numbering."""

    id = fields.IntField(primary_key=True)
    hall_id = fields.IntField()
    day = fields.DateField()
    prefix = fields.CharField(max_length=1)
    last_seq = fields.IntField(default=0)

    class Meta:
        table = "queue_counter"
        unique_together = (("hall_id", "day", "prefix"),)


class QueueTicket(Model):
    """A queue number (A001 for an appointment, B001 for a walk-in) at a hall on one day."""

    id = fields.IntField(primary_key=True)
    hall_id = fields.IntField()
    day = fields.DateField()
    prefix = fields.CharField(max_length=1)
    seq = fields.IntField()
    number = fields.CharField(max_length=8)
    kind = fields.CharEnumField(QueueTicketKind, max_length=16)
    appointment_id = fields.IntField(null=True, unique=True)
    citizen_id = fields.IntField(null=True)
    matter_id = fields.IntField(null=True)
    status = fields.CharEnumField(QueueTicketStatus, max_length=16, default=QueueTicketStatus.WAITING)
    window = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # The first call: waiting time is created_at -> called_at, serving time called_at -> finished_at (served only).
    called_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    skipped_at = fields.DatetimeField(null=True)
    recalled_at = fields.DatetimeField(null=True)
    recalls = fields.IntField(default=0)
    # Set once the citizen was told three numbers are ahead, so a later call does not tell them again.
    near_notified_at = fields.DatetimeField(null=True)

    class Meta:
        table = "queue_ticket"
        unique_together = (("hall_id", "day", "number"),)
        indexes = (("hall_id", "day", "status"),)
