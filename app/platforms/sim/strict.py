"""Strict mode of the simulator: rules the real platforms apply that a development set-up on plain http cannot meet.

WeChat Pay and Alipay send payment notifications only to an https:// notify_url; the simulator takes http:// so the
app can be tried on a laptop, unless told to act strictly as live does (tests of the live rules turn it on).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from sanic import Blueprint, Request
from sanic.response import json

from app.core.cache import Cache
from app.core.http import parse_body
from app.core.openapi import doc
from app.platforms.sim.faults import TAG

STRICT_KEY = "sim:strict"


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: bool


async def is_strict(cache: Cache) -> bool:
    """Whether the simulator applies the live platforms' rules that development set-ups cannot meet."""
    return await cache.get(STRICT_KEY) == "1"


def insecure_notify_url(url: str) -> bool:
    """A notify_url live WeChat Pay and Alipay refuse: anything but https://."""
    return not url.startswith("https://")


@doc(
    "严格模式：按线上规则拒绝 http:// 的 notify_url 等（测试线上规则时打开）", tag=TAG, body=StrictIn, response=StrictIn
)
async def set_strict(request: Request):
    data = parse_body(request, StrictIn)
    cache = request.app.ctx.cache
    if data.on:
        await cache.set(STRICT_KEY, "1")
    else:
        await cache.delete(STRICT_KEY)
    return json({"on": data.on})


def add_routes(bp: Blueprint) -> None:
    """Mount /sim/strict."""
    bp.add_route(set_strict, "/strict", methods=["POST"], name="sim_strict")
