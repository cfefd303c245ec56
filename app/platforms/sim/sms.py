"""The simulated SMS gateway: checks the signature, the time stamp and the number as a provider does, and keeps
each message for inspection (the test, or the person trying the H5 app, reads the code here)."""

from __future__ import annotations

import hmac
import json as jsonlib
import re
import time

from pydantic import BaseModel, ConfigDict, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from app.core.http import parse_query
from app.core.openapi import doc
from app.platforms.sim import inbox
from app.platforms.sim.faults import TAG, platform_fault
from app.platforms.sms import sim_sms_secret, sim_sms_signature

MOBILE = r"^1[3-9][0-9]{9}$"
# A provider refuses a request signed more than five minutes from its own clock (replays).
TIMESTAMP_SKEW_SECONDS = 300
MAX_TEXT_LENGTH = 500


class SendIn(BaseModel):
    """What the gateway takes (documentation only: the handler answers bad input the way a provider does)."""

    phone: str
    text: str
    timestamp: str = Field(description="Unix seconds; signed with the number and text in X-Signature")


class SendOut(BaseModel):
    code: str
    message_id: str | None = None


class MessagesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = Field(pattern=MOBILE)


class TextMessage(BaseModel):
    text: str
    received_at: str


class MessagesOut(BaseModel):
    items: list[TextMessage]


def _refuse(status: int, code: str) -> HTTPResponse:
    return json({"code": code}, status=status)


@doc("模拟短信网关：验签、校验时间戳与手机号后记录短信", tag=TAG, body=SendIn, response=SendOut, errors=(400, 401, 503))
async def send(request: Request):
    app = request.app
    if await platform_fault(app.ctx.cache, "sms") is not None:
        return _refuse(503, "ServiceUnavailable")
    try:
        body = jsonlib.loads(request.body or b"")
    except ValueError:
        return _refuse(400, "InvalidParameter")
    if not isinstance(body, dict) or not all(isinstance(body.get(key), str) for key in ("phone", "text", "timestamp")):
        return _refuse(400, "InvalidParameter")
    expected = sim_sms_signature(
        sim_sms_secret(app.ctx.settings), timestamp=body["timestamp"], phone=body["phone"], text=body["text"]
    )
    if not hmac.compare_digest(expected, request.headers.get("X-Signature", "")):
        return _refuse(401, "AuthFailure.SignatureFailure")
    if not body["timestamp"].isdigit() or abs(time.time() - int(body["timestamp"])) > TIMESTAMP_SKEW_SECONDS:
        return _refuse(401, "AuthFailure.SignatureExpire")
    if not re.fullmatch(MOBILE, body["phone"]):
        return _refuse(400, "InvalidParameterValue.IncorrectPhoneNumber")
    if not body["text"] or len(body["text"]) > MAX_TEXT_LENGTH:
        return _refuse(400, "InvalidParameterValue.ContentLengthLimit")
    await inbox.record(app, "sms", body["phone"], {"text": body["text"]})
    return json({"code": "Ok", "message_id": f"sim-{time.time_ns()}"})


@doc("测试辅助：发到某手机号的短信（按收到的顺序）", tag=TAG, query=MessagesQuery, response=MessagesOut)
async def list_messages(request: Request):
    query = parse_query(request, MessagesQuery)
    return json({"items": await inbox.messages(request.app, "sms", query.phone)})


def add_routes(bp: Blueprint) -> None:
    """Mount the SMS stand-in under /sim/sms."""
    bp.add_route(send, "/sms/send", methods=["POST"], name="sim_sms_send")
    bp.add_route(list_messages, "/sms/messages", methods=["GET"], name="sim_sms_messages")
