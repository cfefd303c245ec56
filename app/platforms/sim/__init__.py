"""The platform simulator under /sim (platforms.mode = "sim"): stand-ins for the WeChat, WeChat Pay, WeChat Work,
Alipay and SMS servers our clients call, what they delivered (messages, for inspection), plus helpers for tests and
local development (login codes, real names, faults). State lives in the app's cache."""

from __future__ import annotations

from sanic import Blueprint

from app.platforms.sim import alipay, faults, licences, sms, strict, wechat, wechatpay, wecom
from app.platforms.sim.wechat import sim_check_access_token

__all__ = ["bp", "sim_check_access_token"]

bp = Blueprint("sim", url_prefix="/sim")
for _module in (faults, strict, wechat, wecom, alipay, wechatpay, sms, licences):
    _module.add_routes(bp)
