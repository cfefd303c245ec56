"""What every payment provider (WeChat Pay v3, Alipay) offers the payments domain: one small interface.

Money is integer fen everywhere on this side; a provider converts at its own edge (Alipay's yuan strings).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, Protocol

from app.core.errors import AppError

TradeStatus = Literal["pending", "paid", "closed", "refunded"]
# abnormal (WeChat Pay): accepted, but the bank could not pay it back (the payer's card closed ...): not final, the
# money is still out of our hands until the merchant sends it again (another card, or our bank account).
RefundStatus = Literal["processing", "succeeded", "failed", "abnormal"]
# What became of a notification: recorded; refused for good (forged, junk, not ours: a retry cannot succeed); or not
# recorded because of a failure on our side (the provider should try again later).
Verdict = Literal["accepted", "refused", "retry"]


class BadNotification(AppError):
    """A notification that is not the provider's (signature, certificate, format): it changes nothing."""

    status_code = 400
    code = "BAD_NOTIFICATION"
    message = "通知验签失败"


class SignatureProbe(BadNotification):
    """The provider's own wrongly signed notification, sent to check that we verify: refused, but no one's attack."""


@dataclass(frozen=True)
class TradeState:
    """What the provider says of one order (from a query, or from a payment notification)."""

    order_no: str
    status: TradeStatus
    amount_fen: int  # what the payer paid (or would pay), in fen
    merchant_id: str  # WeChat Pay mchid / Alipay app_id (or seller id) the money went to
    transaction_id: str = ""  # the provider's own number for the payment
    paid_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class RefundState:
    """What the provider says of one refund."""

    order_no: str
    refund_no: str
    status: RefundStatus
    refund_fen: int
    refund_id: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # False when the provider answered that it has no such refund at all (an unsigned "not found").
    found: bool = True


@dataclass(frozen=True)
class Notification:
    """A verified notification: a payment (trade) or a refund."""

    kind: Literal["trade", "refund"]
    trade: TradeState | None = None
    refund: RefundState | None = None


@dataclass(frozen=True)
class BillRow:
    """One line of the provider's daily bill."""

    order_no: str
    transaction_id: str
    status: Literal["paid", "refunded"]
    amount_fen: int  # paid amount for "paid" rows, refunded amount for "refunded" rows
    refund_no: str = ""


@dataclass(frozen=True)
class Acknowledgement:
    """The HTTP answer the provider expects to a notification."""

    status: int
    body: bytes
    content_type: str


class PaymentProvider(Protocol):
    """create, parse-and-verify a notification, query, close, refund, query a refund, bill."""

    channel: str  # "wechat" | "alipay"

    async def create(
        self, *, order_no: str, amount_fen: int, description: str, payer_id: str, expires_at: datetime
    ) -> dict[str, Any]:
        """Open the order at the provider; the fields the front end needs to show the payment sheet."""

    async def parse_notification(self, *, headers: dict[str, str], body: bytes) -> Notification:
        """Verify (signature first) and decode a notification; BadNotification when it is not genuine."""

    def acknowledge(self, verdict: Verdict) -> Acknowledgement:
        """The answer to a notification in the provider's words: accepted, refused, or failed here (retry later)."""

    async def query(self, order_no: str) -> TradeState:
        """The order as the provider sees it now."""

    async def close(self, order_no: str) -> None:
        """Close an unpaid order so it can no longer be paid (no error when already closed)."""

    async def refund(
        self, *, order_no: str, refund_no: str, refund_fen: int, total_fen: int, reason: str
    ) -> RefundState:
        """Ask for a refund of refund_fen of the order's total_fen."""

    async def query_refund(self, *, order_no: str, refund_no: str) -> RefundState:
        """The refund as the provider sees it now (for one answered processing whose notification never came)."""

    async def bill(self, day: date) -> list[BillRow]:
        """The provider's bill of one day (city time): every payment and refund it recorded."""
