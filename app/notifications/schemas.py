"""Notification request and response bodies."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.http import Page, PageQuery
from app.notifications.models import DeliveryStatus

SubscribeResult = Literal["accept", "reject", "ban", "filter"]


class SubscriptionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Literal["wechat", "alipay"] = "wechat"
    # What wx.requestSubscribeMessage / my.requestSubscribeMessage answered, as it answered it: at most 3 templates
    # a time, each accept, reject, ban or filter. Only "accept" grants a message.
    results: dict[str, SubscribeResult] = Field(min_length=1, max_length=3)


class TemplatesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Literal["wechat", "alipay"] = "wechat"


class CreditOut(BaseModel):
    template_id: str
    remaining: int


class TemplateOut(BaseModel):
    template_id: str
    fields: list[str]


class MessageOut(BaseModel):
    id: int
    kind: str
    title: str
    body: str
    subject: dict[str, Any]
    created_at: str
    read: bool


class MessagePageOut(Page[MessageOut]):
    """A page of the inbox, with the count of unread messages in all of it."""

    unread: int


class MessageQuery(PageQuery):
    unread: bool = False


class DeliveryOut(BaseModel):
    id: int
    event_id: int
    channel: str
    purpose: str
    status: DeliveryStatus
    attempts: int
    last_error: str
    created_at: str
    next_attempt_at: str | None
    sent_at: str | None


class DeliveryPageOut(Page[DeliveryOut]):
    """A page of deliveries."""


class DeliveryQuery(PageQuery):
    status: Literal["pending", "sending", "sent", "rejected", "dead", "no_credit"] | None = None


class AlertOut(BaseModel):
    """A staff alert: what WeChat Work was (or would have been) told, as the console lists it."""

    id: int
    kind: str = Field(description="the event: case.submitted, case.deadline_warning, case.overdue, rating.bad, ...")
    title: str
    text: str = Field(description="the WeChat Work text, ID and mobile numbers masked")
    department_id: int | None
    subject: dict[str, Any] = Field(description='what it is about: {"type": "case", "id": 12}')
    created_at: str
    read: bool = Field(description="read by the calling staff member")


class AlertPageOut(Page[AlertOut]):
    """A page of alerts, with how many of all of them the calling staff member has not read."""

    unread: int


class AlertQuery(PageQuery):
    unread: bool = Field(False, description="true: only the unread ones")


class AlertCountOut(BaseModel):
    unread: int


class AlertsReadOut(BaseModel):
    marked: int = Field(description="how many alerts were marked read by this call")
    unread: int
