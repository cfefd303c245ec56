"""Payment tables: orders at a provider, their refunds, and the daily reconciliation reports."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class OrderStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    CLOSED = "closed"  # expired or cancelled before payment


class PaymentOrder(Model):
    id = fields.IntField(primary_key=True)
    # <= 32 characters of [0-9A-Za-z]: both providers take it as out_trade_no.
    order_no = fields.CharField(max_length=32, unique=True)
    case_id = fields.IntField(db_index=True)
    citizen_id = fields.IntField(db_index=True)
    department_id = fields.IntField()
    channel = fields.CharField(max_length=8)  # wechat | alipay
    amount_fen = fields.IntField()
    description = fields.CharField(max_length=64, default="")  # the matter's name, as the payer saw it
    status = fields.CharEnumField(OrderStatus, max_length=8, default=OrderStatus.PENDING)
    # "case:channel" while pending, NULL after: the database refuses a second open order for a case and channel.
    open_key = fields.CharField(max_length=32, unique=True, null=True)
    refunded_fen = fields.IntField(default=0)
    transaction_id = fields.CharField(max_length=64, default="")
    checkout = fields.JSONField(default=dict)  # what the front end needs to show the payment sheet
    expires_at = fields.DatetimeField()
    paid_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    # Set once the automatic refund rule has looked at this paid order after its case ended.
    refund_checked_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "payment_order"
        indexes = (("status", "created_at"),)


class RefundStatus(StrEnum):
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # WeChat Pay's 退款异常: the bank would not take the money back (the payer's card closed ...). Not final: the
    # amount stays held until an admin sends it again (another card, or our bank account) and it succeeds.
    ABNORMAL = "abnormal"


class Refund(Model):
    id = fields.IntField(primary_key=True)
    refund_no = fields.CharField(max_length=32, unique=True)
    order: fields.ForeignKeyRelation[PaymentOrder] = fields.ForeignKeyField(
        "models.PaymentOrder", related_name="refunds", on_delete=fields.RESTRICT
    )
    amount_fen = fields.IntField()
    reason = fields.CharField(max_length=80)
    status = fields.CharEnumField(RefundStatus, max_length=12, default=RefundStatus.PROCESSING)
    requested_by = fields.CharField(max_length=32)
    refund_id = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "payment_refund"


class ReconciliationReport(Model):
    id = fields.IntField(primary_key=True)
    day = fields.DateField()
    channel = fields.CharField(max_length=8)
    differences = fields.JSONField(default=list)
    summary = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "payment_reconciliation"
        indexes = (("day", "channel"),)
