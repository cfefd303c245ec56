"""The simulated WeChat Work (企业微信) server API: access tokens and application messages, answering like WeCom.

WeCom answers HTTP 200 with {"errcode", "errmsg"} (errcode 0 on success too). State lives in the app's cache under
"sim:wecom:", so several workers on Redis share it. Text messages are kept per member for inspection.
"""

from __future__ import annotations

import hashlib
import json as jsonlib
import re
import secrets
import time

from pydantic import BaseModel, ConfigDict, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from app.core.cache import Cache, get_json, set_json
from app.core.http import parse_body, parse_query
from app.core.openapi import doc
from app.platforms.sim import inbox
from app.platforms.sim.faults import TAG, platform_fault
from app.platforms.sim.wechat import TokenTtlIn, issued_token_ttl, set_issued_token_ttl

# Expired tokens are remembered this much longer, so they answer 42001 (expired) rather than 40014 (invalid).
EXPIRED_TOKEN_MEMORY_SECONDS = 86400
TOKEN_TTL_KEY = "sim:wecom:token_ttl"
# WeCom's duplicate check: 1800 s unless the call says otherwise, at most 4 hours.
DEFAULT_DUPLICATE_CHECK_SECONDS = 1800
MAX_DUPLICATE_CHECK_SECONDS = 14400
# A text message's content is cut at this many bytes, as WeCom does.
MAX_TEXT_BYTES = 2048

ERRMSG = {
    -1: "system busy",
    0: "ok",
    40001: "invalid secret",
    40008: "invalid message type",
    40013: "invalid corpid",
    40014: "invalid access_token",
    40056: "invalid agentid",
    40058: "invalid parameter",
    41001: "access_token missing",
    42001: "access_token expired",
    44004: "empty content",
    81013: "user & party & tag all invalid",
}
# WeCom's UserID rule: 1-64 characters of letters, digits and _-@., starting with a letter or digit.
USERID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_@.-]{0,63}$"


class GetTokenQuery(BaseModel):
    corpid: str | None = None
    corpsecret: str | None = None


class TokenOut(BaseModel):
    errcode: int
    errmsg: str
    access_token: str | None = None
    expires_in: int | None = None


class AccessTokenQuery(BaseModel):
    access_token: str | None = None


class TextIn(BaseModel):
    content: str


class MessageSendIn(BaseModel):
    """What message/send takes (documentation only: the handler answers bad input the way WeCom does)."""

    touser: str = Field(description='Members, "a|b|c"')
    toparty: str | None = None
    totag: str | None = None
    msgtype: str = Field(description="Only text in the simulator")
    agentid: int
    text: TextIn
    safe: int | None = None
    enable_duplicate_check: int | None = None
    duplicate_check_interval: int | None = None


class MessageSendOut(BaseModel):
    errcode: int
    errmsg: str
    invaliduser: str | None = None
    msgid: str | None = None


class MessagesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    userid: str = Field(pattern=USERID_PATTERN, description="The member")


class DeliveredMessage(BaseModel):
    agentid: int
    msgtype: str
    content: str
    received_at: str


class MessagesOut(BaseModel):
    items: list[DeliveredMessage]


def _token_key(token: str) -> str:
    return f"sim:wecom:token:{token}"


def _duplicate_key(agent_id: int, userid: str, content: str) -> str:
    digest = hashlib.sha256(f"{agent_id}\n{userid}\n{content}".encode()).hexdigest()
    return f"sim:wecom:sent:{digest}"


def _answer(errcode: int, errmsg: str | None = None, **extra: object) -> HTTPResponse:
    return json({"errcode": errcode, "errmsg": errmsg or ERRMSG.get(errcode, "system busy"), **extra})


async def sim_check_wecom_token(cache: Cache, token: str | None) -> int:
    """The errcode WeCom would give this access token: 0 valid, 41001 missing, 40014 unknown, 42001 expired."""
    if not token:
        return 41001
    record = await get_json(cache, _token_key(token))
    if record is None:
        return 40014
    return 0 if record["expires_at"] > time.time() else 42001


def _truncated(content: str) -> str:
    return content.encode("utf-8")[:MAX_TEXT_BYTES].decode("utf-8", errors="ignore")


def _duplicate_check_seconds(message: dict) -> int | None:
    """How long this message blocks an equal one (None: no duplicate check asked)."""
    if message.get("enable_duplicate_check") not in (1, "1"):
        return None
    interval = message.get("duplicate_check_interval")
    if not isinstance(interval, int) or interval <= 0:
        return DEFAULT_DUPLICATE_CHECK_SECONDS
    return min(interval, MAX_DUPLICATE_CHECK_SECONDS)


@doc("模拟获取企业微信 access_token（cgi-bin/gettoken）", tag=TAG, query=GetTokenQuery, response=TokenOut, errors=())
async def issue_access_token(request: Request):
    cache = request.app.ctx.cache
    fault = await platform_fault(cache, "wecom")
    if fault is not None:
        return _answer(fault.errcode if fault.errcode is not None else -1)
    wecom = request.app.ctx.settings.wecom
    if request.args.get("corpid") != wecom.corp_id:
        return _answer(40013)
    if request.args.get("corpsecret") != wecom.corp_secret:
        return _answer(40001)
    ttl = await issued_token_ttl(cache, TOKEN_TTL_KEY)
    token = secrets.token_urlsafe(96)
    await set_json(cache, _token_key(token), {"expires_at": time.time() + ttl}, ttl + EXPIRED_TOKEN_MEMORY_SECONDS)
    return _answer(0, access_token=token, expires_in=ttl)


@doc(
    "模拟发送企业微信应用消息（cgi-bin/message/send，仅 text）：touser 中每个成员收到一条",
    tag=TAG,
    query=AccessTokenQuery,
    body=MessageSendIn,
    response=MessageSendOut,
    errors=(),
)
async def send_message(request: Request):
    app = request.app
    cache = app.ctx.cache
    fault = await platform_fault(cache, "wecom")
    if fault is not None:
        return _answer(fault.errcode if fault.errcode is not None else -1)
    token_errcode = await sim_check_wecom_token(cache, request.args.get("access_token"))
    if token_errcode:
        return _answer(token_errcode)
    try:
        message = jsonlib.loads(request.body or b"")
    except ValueError:
        return _answer(40058)
    if not isinstance(message, dict) or not isinstance(message.get("touser") or "", str):
        return _answer(40058)
    agent_id = app.ctx.settings.wecom.agent_id
    if str(message.get("agentid")) != str(agent_id):
        return _answer(40056)
    if message.get("msgtype") != "text":
        return _answer(40008)
    text = message.get("text")
    content = text.get("content") if isinstance(text, dict) else None
    if not isinstance(content, str) or not content.strip():
        return _answer(44004)
    members = [userid for userid in (message.get("touser") or "").split("|") if userid]
    valid = [userid for userid in members if re.fullmatch(USERID_PATTERN, userid)]
    if not valid:
        return _answer(81013)
    content = _truncated(content)
    check_seconds = _duplicate_check_seconds(message)
    for userid in dict.fromkeys(valid):
        # An equal message to the same member within the interval is accepted but not delivered again.
        if check_seconds and not await cache.add(_duplicate_key(agent_id, userid, content), "1", check_seconds):
            continue
        await inbox.record(app, "wecom", userid, {"agentid": agent_id, "msgtype": "text", "content": content})
    invalid = [userid for userid in members if userid not in valid]
    return _answer(0, invaliduser="|".join(invalid), msgid=secrets.token_urlsafe(24))


@doc("测试辅助：某成员收到的企业微信应用消息（按收到的顺序）", tag=TAG, query=MessagesQuery, response=MessagesOut)
async def list_messages(request: Request):
    query = parse_query(request, MessagesQuery)
    return json({"items": await inbox.messages(request.app, "wecom", query.userid)})


@doc("测试辅助：清空某成员收到的企业微信应用消息", tag=TAG, query=MessagesQuery, response=MessagesOut)
async def clear_messages(request: Request):
    query = parse_query(request, MessagesQuery)
    await inbox.clear(request.app, "wecom", query.userid)
    return json({"items": []})


@doc(
    "测试辅助：设置此后签发的企业微信 access_token 有效期（秒，7200 恢复默认）",
    tag=TAG,
    body=TokenTtlIn,
    response=TokenTtlIn,
)
async def set_token_ttl(request: Request):
    data = parse_body(request, TokenTtlIn)
    await set_issued_token_ttl(request.app.ctx.cache, TOKEN_TTL_KEY, data.seconds)
    return json(data.model_dump())


def add_routes(bp: Blueprint) -> None:
    """Mount the WeCom stand-in under /sim/wecom."""
    bp.add_route(issue_access_token, "/wecom/cgi-bin/gettoken", methods=["GET"], name="sim_wecom_gettoken")
    bp.add_route(send_message, "/wecom/cgi-bin/message/send", methods=["POST"], name="sim_wecom_message_send")
    bp.add_route(list_messages, "/wecom/messages", methods=["GET"], name="sim_wecom_messages")
    bp.add_route(clear_messages, "/wecom/messages", methods=["DELETE"], name="sim_wecom_clear_messages")
    bp.add_route(set_token_ttl, "/wecom/token-ttl", methods=["POST"], name="sim_wecom_token_ttl")
