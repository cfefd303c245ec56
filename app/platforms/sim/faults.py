"""Faults the simulated platforms can be told to show: an error rate, a delay, how payment notifications go and
(WeChat Pay) how refunds end, per platform, kept in the cache."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sanic import Blueprint, Request
from sanic.response import json

from app.core.cache import Cache, get_json, set_json
from app.core.http import parse_body
from app.core.openapi import doc

# The simulated platforms that take faults.
SimPlatform = Literal["wechat", "alipay", "wecom", "wechatpay", "sms", "licences"]
SIM_PLATFORMS: tuple[str, ...] = get_args(SimPlatform)
# How a payment platform's notifications go: sent twice, late (after delay_ms, in the background) or never.
NotifyMode = Literal["twice", "late", "never"]
# How the WeChat Pay simulator answers a new refund: processing: PROCESSING, never notified, turning SUCCESS when
# next queried (a refund whose notification is lost, for the payments sweep to settle); abnormal: accepted
# (PROCESSING), then ABNORMAL, as when the payer's card is closed: REFUND.ABNORMAL is notified and queries say so
# until the refund is sent again (apply-abnormal-refund).
RefundMode = Literal["processing", "abnormal"]
TAG = "simulator"


class FaultIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    platform: SimPlatform
    error_rate: float = Field(ge=0, le=1, description="Share of calls that fail; 0 (with delay_ms 0) clears")
    errcode: int | None = Field(
        None,
        description="WeChat / WeCom errcode of a failed call (default -1 system "
        "error); Alipay always answers its system error",
    )
    delay_ms: int = Field(0, ge=0, le=60_000, description="Every server API call of the platform waits this long")
    notify: NotifyMode | None = Field(
        None,
        description="Payment notifications are sent twice, late (after delay_ms, "
        "in the background) or never; absent: once, at once",
    )
    refund: RefundMode | None = Field(
        None,
        description="WeChat Pay only: processing: new refunds are answered PROCESSING with no "
        "notification and succeed when next queried; abnormal: they are answered PROCESSING, then end "
        "ABNORMAL (REFUND.ABNORMAL notified) until sent again by apply-abnormal-refund; absent: they "
        "succeed at once",
    )

    @model_validator(mode="after")
    def _refund_only_for_wechatpay(self) -> FaultIn:
        # Only the WeChat Pay simulator has refunds that stay open: elsewhere the fault would silently do nothing.
        if self.refund is not None and self.platform != "wechatpay":
            raise ValueError("refund is a WeChat Pay fault")
        return self


class FaultsOut(BaseModel):
    faults: list[FaultIn]


@dataclass(frozen=True)
class Fault:
    """The errcode of a call that fails; for notify_fault, also how notifications go and the delay of late ones."""

    errcode: int | None
    notify: NotifyMode | None = None
    delay_ms: int = 0


def _key(platform: str) -> str:
    return f"sim:faults:{platform}"


async def platform_fault(cache: Cache, platform: str) -> Fault | None:
    """Wait the platform's configured delay, then say whether this call fails (None: answer normally)."""
    setting = await get_json(cache, _key(platform))
    if setting is None:
        return None
    if setting["delay_ms"]:
        await asyncio.sleep(setting["delay_ms"] / 1000)
    if random.random() < setting["error_rate"]:
        return Fault(errcode=setting["errcode"])
    return None


async def refund_fault(cache: Cache, platform: str) -> RefundMode | None:
    """How the platform answers a new refund when told otherwise than succeeded at once (no wait, no dice)."""
    setting = await get_json(cache, _key(platform))
    return setting.get("refund") if setting is not None else None


async def notify_fault(cache: Cache, platform: str) -> Fault | None:
    """How the platform's payment notifications go when told otherwise than once and at once (no wait, no dice)."""
    setting = await get_json(cache, _key(platform))
    if setting is None or not setting.get("notify"):
        return None
    return Fault(errcode=setting["errcode"], notify=setting["notify"], delay_ms=setting["delay_ms"])


def _shown(fault: FaultIn) -> dict:
    # Faults without a notification or refund behaviour keep the shape they had before those existed.
    data = fault.model_dump()
    for optional in ("notify", "refund"):
        if data[optional] is None:
            del data[optional]
    return data


@doc(
    "让模拟平台出错、变慢、改变支付通知或让微信支付退款处理中、退款异常（error_rate、delay_ms 为 0 且无 notify、refund "
    "时清除）",
    tag=TAG,
    body=FaultIn,
    response=FaultIn,
)
async def set_fault(request: Request):
    fault = parse_body(request, FaultIn)
    cache = request.app.ctx.cache
    if fault.error_rate == 0 and fault.delay_ms == 0 and fault.notify is None and fault.refund is None:
        await cache.delete(_key(fault.platform))
    else:
        await set_json(cache, _key(fault.platform), _shown(fault))
    return json(_shown(fault))


@doc("当前的模拟故障", tag=TAG, response=FaultsOut, errors=())
async def list_faults(request: Request):
    cache = request.app.ctx.cache
    stored = [await get_json(cache, _key(platform)) for platform in SIM_PLATFORMS]
    return json({"faults": [fault for fault in stored if fault is not None]})


@doc("清除全部模拟故障", tag=TAG, response=FaultsOut, errors=())
async def clear_faults(request: Request):
    await request.app.ctx.cache.delete(*(_key(platform) for platform in SIM_PLATFORMS))
    return json({"faults": []})


def add_routes(bp: Blueprint) -> None:
    """Mount /sim/faults."""
    bp.add_route(set_fault, "/faults", methods=["POST"], name="sim_set_fault")
    bp.add_route(list_faults, "/faults", methods=["GET"], name="sim_list_faults")
    bp.add_route(clear_faults, "/faults", methods=["DELETE"], name="sim_clear_faults")
