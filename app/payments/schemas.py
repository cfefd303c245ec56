"""Payment request and response bodies."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.http import PositiveFen
from app.payments.models import RefundStatus

PaymentChannel = Literal["wechat", "alipay"]


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: PaymentChannel


class PaymentOut(BaseModel):
    order_no: str
    case_id: int
    channel: PaymentChannel
    amount_fen: int
    status: Literal["pending", "paid", "closed", "refunding", "refunded"]
    refunded_fen: int
    created_at: str
    expires_at: str
    paid_at: str | None
    # WeChat: appId, timeStamp, nonceStr, package, signType, paySign (wx.requestPayment); Alipay: trade_no.
    pay_params: dict[str, Any] | None = None


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    amount_fen: PositiveFen
    reason: str = Field(min_length=1, max_length=80)


class RefundOut(BaseModel):
    refund_no: str
    amount_fen: int
    status: RefundStatus
    reason: str
    created_at: str
    finished_at: str | None


class ReconciliationOut(BaseModel):
    id: int
    date: str
    channel: str
    summary: dict[str, Any]
    differences: list[dict[str, Any]]
    created_at: str


class ReconciliationQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
