"""Payment request and response bodies."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.http import Page, PageQuery, PositiveFen
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


class AbnormalRetryIn(BaseModel):
    """Where a refund WeChat Pay called abnormal goes now: another debit card of the payer's (all three fields), or
    the merchant's bank account, from which staff pay the citizen back by hand."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    to: Literal["user_bank_card", "merchant_bank_card"]
    bank_type: str | None = Field(
        None, pattern=r"^[A-Z]{2,10}_DEBIT$", description="WeChat Pay's bank type (ICBC_DEBIT)"
    )
    bank_account: str | None = Field(None, pattern=r"^[0-9]{12,30}$", description="The payer's debit card number")
    real_name: str | None = Field(None, min_length=1, max_length=32, description="The card holder's name")

    @model_validator(mode="after")
    def _card_fields_go_with_the_payers_card(self) -> AbnormalRetryIn:
        card = (self.bank_type, self.bank_account, self.real_name)
        if self.to == "user_bank_card" and not all(card):
            raise ValueError("user_bank_card needs bank_type, bank_account and real_name")
        if self.to == "merchant_bank_card" and any(card):
            raise ValueError("merchant_bank_card takes no card")
        return self


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


class RefundListItemOut(RefundOut):
    order_no: str
    case_id: int
    channel: PaymentChannel


class RefundPageOut(Page[RefundListItemOut]):
    pass


class RefundQuery(PageQuery):
    status: RefundStatus | None = None
