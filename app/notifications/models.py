"""Notification tables: the citizen's inbox, push deliveries (one per message, channel and recipient), and the
subscription credits a WeChat user granted."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class InboxMessage(Model):
    """What the citizen reads in the mini-program; written once per event and citizen."""

    id = fields.BigIntField(primary_key=True)
    citizen_id = fields.IntField()
    event_id = fields.BigIntField()
    kind = fields.CharField(max_length=48)
    title = fields.CharField(max_length=64)
    body = fields.CharField(max_length=500)
    # What the message is about, for the mini-program to open: {"type": "case", "id": 12}.
    subject = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "inbox_message"
        unique_together = (("event_id", "citizen_id"),)
        indexes = (("citizen_id", "id"),)


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    SENDING = "sending"  # claimed by a worker until claimed_until
    SENT = "sent"
    REJECTED = "rejected"  # the platform refused it for good (no credit, bad user, bad data)
    DEAD = "dead"  # kept failing: staff may retry it
    NO_CREDIT = "no_credit"  # not sent: the citizen holds no subscription for it (the inbox has the message)


class Delivery(Model):
    """One push of one message to one recipient on one platform."""

    id = fields.BigIntField(primary_key=True)
    event_id = fields.BigIntField()
    channel = fields.CharField(max_length=8)  # wechat | alipay | wecom
    recipient = fields.CharField(max_length=64)
    purpose = fields.CharField(max_length=32)
    template_id = fields.CharField(max_length=64, default="")
    payload = fields.JSONField(default=dict)
    # The same message to the same recipient is one row, whatever retries or workers do.
    dedupe_key = fields.CharField(max_length=128, unique=True)
    status = fields.CharEnumField(DeliveryStatus, max_length=12, default=DeliveryStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    claimed_until = fields.DatetimeField(null=True)
    claimed_by = fields.CharField(max_length=64, default="")
    last_error = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notification_delivery"
        indexes = (("status", "next_attempt_at"),)


class SubscriptionCredit(Model):
    """How many one-time subscribe messages of a template the citizen has granted and we have not spent."""

    id = fields.IntField(primary_key=True)
    citizen_id = fields.IntField()
    template_id = fields.CharField(max_length=64)
    remaining = fields.IntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "subscription_credit"
        unique_together = (("citizen_id", "template_id"),)


class StaffAlert(Model):
    """What WeChat Work told (or would have told) staff of an event, kept so the console lists it too: a clerk
    without WeChat Work, or with it unconfigured, misses nothing. Seen by the event's department (all: supervisors,
    admins), read per staff member."""

    id = fields.BigIntField(primary_key=True)
    event_id = fields.BigIntField(unique=True)
    kind = fields.CharField(max_length=48)
    title = fields.CharField(max_length=64)
    text = fields.CharField(max_length=500)
    department_id = fields.IntField(null=True)
    # What the alert is about, for the console to open: {"type": "case", "id": 12}.
    subject = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "staff_alert"
        indexes = (("department_id", "id"),)


class StaffAlertRead(Model):
    """That one staff member read one alert."""

    id = fields.BigIntField(primary_key=True)
    alert_id = fields.BigIntField()
    staff_id = fields.IntField()
    read_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "staff_alert_read"
        unique_together = (("alert_id", "staff_id"),)
        indexes = (("staff_id", "alert_id"),)
