"""Tables every domain shares: the outbox of domain events and the admin working-day calendar."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class OutboxEvent(Model):
    """A domain event written in the same transaction as the change it reports; the notifier delivers it later."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=48)
    aggregate_type = fields.CharField(max_length=24)
    aggregate_id = fields.BigIntField()
    # Who should hear of it, when known: the citizen and the department (staff alerts).
    citizen_id = fields.IntField(null=True)
    department_id = fields.IntField(null=True)
    payload = fields.JSONField(default=dict)
    # Set for events that must exist once whoever notices them first (a reminder, a deadline light).
    dedupe_key = fields.CharField(max_length=96, unique=True, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    dispatched_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_event"
        indexes = (("dispatched_at", "id"), ("aggregate_type", "aggregate_id"))


class WorkCalendarDay(Model):
    """An admin's word on one date, overriding chinesecalendar (and covering years it does not know)."""

    id = fields.IntField(primary_key=True)
    day = fields.DateField(unique=True)
    is_workday = fields.BooleanField()
    note = fields.CharField(max_length=64, default="")
    updated_by = fields.CharField(max_length=64, default="")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "work_calendar_day"
