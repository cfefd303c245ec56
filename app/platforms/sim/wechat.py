"""The simulated WeChat server API: wx.login codes, code2Session, access tokens, subscribe messages and the city
service's real-name check (checkrealnameinfo against the real name registered for a user), answering like WeChat.

WeChat answers HTTP 200 with {"errcode", "errmsg"} on failure; so does this. State lives in the app's cache under
"sim:wechat:", so several workers on Redis share it. Subscribe messages are checked against the templates of
settings.notifications.wechat_templates with WeChat's rules for each keyword type, and kept for inspection.
"""

from __future__ import annotations

import base64
import hashlib
import json as jsonlib
import re
import secrets
import time
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from app.core.cache import Cache, get_json, set_json
from app.core.http import parse_body, parse_query
from app.core.openapi import doc
from app.platforms.sim import inbox
from app.platforms.sim.faults import TAG, platform_fault

CODE_TTL_SECONDS = 300
DEFAULT_TOKEN_TTL_SECONDS = 7200
# Expired tokens are remembered this much longer, so they answer 42001 (expired) rather than 40001 (invalid).
EXPIRED_TOKEN_MEMORY_SECONDS = 86400
COUNTER_TTL_SECONDS = 86400
TOKENS_ISSUED_KEY = "sim:wechat:tokens_issued"
TOKEN_TTL_KEY = "sim:wechat:token_ttl"

ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40013: "invalid appid",
    40029: "invalid code",
    40037: "invalid template_id",
    40125: "invalid appsecret",
    40163: "code been used",
    41001: "access_token missing",
    41008: "missing code",
    42001: "access_token expired",
    47001: "data format error",
    47003: "argument invalid!",
}
OPENID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"

# WeChat's rule for the value of each subscribe-message keyword type (subscribeMessage.send, 模板参数值限制).
_CJK = "\u4e00-\u9fff"
_MONTH, _DAY = r"(?:0?[1-9]|1[0-2])", r"(?:0?[1-9]|[12][0-9]|3[01])"
_DATE = rf"[0-9]{{4}}(?:年{_MONTH}月{_DAY}日|-{_MONTH}-{_DAY}|/{_MONTH}/{_DAY})"
_CLOCK = r"(?:[01]?[0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?"
_MOMENT = rf"(?:{_DATE}(?:\s*{_CLOCK})?|{_CLOCK})"
# A date and/or time of day; WeChat also takes a span of two joined by "~".
_TIME_OR_SPAN = re.compile(rf"{_MOMENT}(?:\s*~\s*{_MOMENT})?")
VALUE_RULES: dict[str, Callable[[str], object]] = {
    "thing": lambda value: len(value) <= 20,
    "number": lambda value: len(value) <= 32 and re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", value),
    "letter": re.compile(r"[A-Za-z]{1,32}").fullmatch,
    "symbol": re.compile(r"[!-/:-@\[-`{-~]{1,5}").fullmatch,
    "character_string": re.compile(r"[!-~]{1,32}").fullmatch,  # printable ASCII, no spaces
    "time": _TIME_OR_SPAN.fullmatch,
    "date": _TIME_OR_SPAN.fullmatch,
    # One currency sign, at most 10 digits, decimals allowed, 元 allowed at the end (1个币种符号+10位以内纯数字).
    "amount": re.compile(r"[¥￥$€£][0-9]{1,10}(?:\.[0-9]{1,2})?元?").fullmatch,
    "phone_number": re.compile(r"[0-9+-]{1,17}").fullmatch,
    # First and last may be Chinese (粤A8Z888挂), the rest letters and digits.
    "car_number": re.compile(rf"[{_CJK}A-Za-z0-9][A-Za-z0-9]{{0,6}}[{_CJK}A-Za-z0-9]?").fullmatch,
    # Up to 10 characters when any is Chinese, else up to 20 letters or symbols; never digits.
    "name": lambda value: (
        not re.search(r"[0-9]", value) and len(value) <= (10 if re.search(f"[{_CJK}]", value) else 20)
    ),
    "phrase": re.compile(rf"[{_CJK}]{{1,5}}").fullmatch,
}


class CodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    openid: str | None = Field(None, pattern=OPENID_PATTERN, description="The user; a new random one when absent")


class CodeOut(BaseModel):
    code: str


class Code2SessionQuery(BaseModel):
    appid: str | None = None
    secret: str | None = None
    js_code: str | None = None
    grant_type: str | None = None


class Code2SessionOut(BaseModel):
    openid: str | None = None
    session_key: str | None = None
    unionid: str | None = None
    errcode: int | None = None
    errmsg: str | None = None


class TokenQuery(BaseModel):
    grant_type: str | None = None
    appid: str | None = None
    secret: str | None = None


class TokenOut(BaseModel):
    access_token: str | None = None
    expires_in: int | None = None
    errcode: int | None = None
    errmsg: str | None = None


class AccessTokenQuery(BaseModel):
    access_token: str | None = None


class SubscribeMessageIn(BaseModel):
    """What subscribeMessage.send takes (documentation only: the handler answers bad input the way WeChat does)."""

    touser: str
    template_id: str
    page: str | None = None
    data: dict[str, dict[str, str]] = Field(description='{"thing1": {"value": "..."}, ...}')
    miniprogram_state: str | None = None
    lang: str | None = None
    client_msg_id: str | None = Field(None, description="our dedupe key: the simulator delivers a repeat once")


class SendOut(BaseModel):
    errcode: int
    errmsg: str
    msgid: int | None = None


class MessagesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    openid: str = Field(pattern=OPENID_PATTERN, description="The recipient")


class DeliveredMessage(BaseModel):
    template_id: str
    data: dict[str, str] = Field(description="Each keyword's value")
    page: str | None
    received_at: str


class MessagesOut(BaseModel):
    items: list[DeliveredMessage]


class TokenTtlIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: int = Field(ge=1, le=DEFAULT_TOKEN_TTL_SECONDS, description="Lifetime of tokens issued from now on")


async def issued_token_ttl(cache: Cache, key: str) -> int:
    """Lifetime of the tokens a simulated platform issues now (tests shorten it)."""
    return int(await cache.get(key) or DEFAULT_TOKEN_TTL_SECONDS)


async def set_issued_token_ttl(cache: Cache, key: str, seconds: int) -> None:
    """Shorten (or, at the default, restore) the lifetime of tokens issued from now on."""
    if seconds == DEFAULT_TOKEN_TTL_SECONDS:
        await cache.delete(key)
    else:
        await cache.set(key, str(seconds))


def _code_key(code: str) -> str:
    return f"sim:wechat:code:{code}"


def _code_used_key(code: str) -> str:
    return f"sim:wechat:code_used:{code}"


def _token_key(token: str) -> str:
    return f"sim:wechat:token:{token}"


def _error(errcode: int, errmsg: str | None = None) -> HTTPResponse:
    return json({"errcode": errcode, "errmsg": errmsg or ERRMSG.get(errcode, "system error")})


def unionid_of(openid: str) -> str:
    """The simulated unionid of an openid: stable, so tests can predict it."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(f"unionid:{openid}".encode()).digest()).decode("ascii")
    return "o" + digest[:27]


def _credentials_error(request: Request) -> int | None:
    wechat = request.app.ctx.settings.wechat
    if request.args.get("appid") != wechat.appid:
        return 40013
    if request.args.get("secret") != wechat.secret:
        return 40125
    return None


async def sim_check_access_token(cache: Cache, token: str | None) -> int:
    """The errcode WeChat would give this access token: 0 valid, 41001 missing, 40001 unknown, 42001 expired."""
    if not token:
        return 41001
    record = await get_json(cache, _token_key(token))
    if record is None:
        return 40001
    return 0 if record["expires_at"] > time.time() else 42001


@doc("模拟 wx.login：为 openid（缺省时新建）签发一次性登录 code，5 分钟有效", tag=TAG, body=CodeIn, response=CodeOut)
async def issue_code(request: Request):
    data = parse_body(request, CodeIn) if request.body else CodeIn()
    openid = data.openid or "o" + secrets.token_urlsafe(21)[:27]
    code = secrets.token_hex(16)
    await request.app.ctx.cache.set(_code_key(code), openid, CODE_TTL_SECONDS)
    return json({"code": code})


@doc("模拟 code2Session（sns/jscode2session）", tag=TAG, query=Code2SessionQuery, response=Code2SessionOut, errors=())
async def code_to_session(request: Request):
    cache = request.app.ctx.cache
    fault = await platform_fault(cache, "wechat")
    if fault is not None:
        return _error(fault.errcode if fault.errcode is not None else -1, "system error")
    credentials_error = _credentials_error(request)
    if credentials_error:
        return _error(credentials_error)
    if request.args.get("grant_type") != "authorization_code":
        return _error(40002)
    code = request.args.get("js_code")
    if not code:
        return _error(41008)
    openid = await cache.get(_code_key(code))
    if openid is None:
        return _error(40029)
    # add() is atomic, so of two concurrent uses of one code exactly one succeeds, as on WeChat.
    if not await cache.add(_code_used_key(code), "1", CODE_TTL_SECONDS):
        return _error(40163)
    session_key = base64.b64encode(secrets.token_bytes(16)).decode("ascii")
    return json({"session_key": session_key, "openid": openid, "unionid": unionid_of(openid)})


@doc("模拟获取接口调用凭证（cgi-bin/token）", tag=TAG, query=TokenQuery, response=TokenOut, errors=())
async def issue_access_token(request: Request):
    cache = request.app.ctx.cache
    fault = await platform_fault(cache, "wechat")
    if fault is not None:
        return _error(fault.errcode if fault.errcode is not None else -1, "system error")
    if request.args.get("grant_type") != "client_credential":
        return _error(40002)
    credentials_error = _credentials_error(request)
    if credentials_error:
        return _error(credentials_error)
    ttl = await issued_token_ttl(cache, TOKEN_TTL_KEY)
    token = secrets.token_urlsafe(96)
    await set_json(cache, _token_key(token), {"expires_at": time.time() + ttl}, ttl + EXPIRED_TOKEN_MEMORY_SECONDS)
    await cache.incr(TOKENS_ISSUED_KEY, COUNTER_TTL_SECONDS)
    return json({"access_token": token, "expires_in": ttl})


def _data_error(template_fields: dict[str, str], data: object) -> str | None:
    """What WeChat would say about the data of a message to this template (None: acceptable)."""
    if not isinstance(data, dict) or not data:
        return "argument invalid! data is empty"
    for key, entry in data.items():
        kind = template_fields.get(key)
        if kind is None:
            return f"argument invalid! data.{key} is not a keyword of the template"
        value = entry.get("value") if isinstance(entry, dict) else None
        if not isinstance(value, str) or not value.strip() or not VALUE_RULES[kind](value):
            return f"argument invalid! data.{key}.value invalid"
    return None


@doc(
    "模拟发送订阅消息（cgi-bin/message/subscribe/send）：模板须为 [notifications] 中配置的，各字段按其类型校验",
    tag=TAG,
    query=AccessTokenQuery,
    body=SubscribeMessageIn,
    response=SendOut,
    errors=(),
)
async def send_subscribe_message(request: Request):
    app = request.app
    fault = await platform_fault(app.ctx.cache, "wechat")
    if fault is not None:
        return _error(fault.errcode if fault.errcode is not None else -1, "system error")
    token_errcode = await sim_check_access_token(app.ctx.cache, request.args.get("access_token"))
    if token_errcode:
        return _error(token_errcode)
    try:
        message = jsonlib.loads(request.body or b"")
    except ValueError:
        return _error(47001)
    if not isinstance(message, dict) or not isinstance(message.get("page") or "", str):
        return _error(47001)
    openid = message.get("touser")
    if not isinstance(openid, str) or not re.fullmatch(OPENID_PATTERN, openid):
        return _error(40003)
    configured = app.ctx.settings.notifications.wechat_templates.values()
    template = next((template for template in configured if template.template_id == message.get("template_id")), None)
    if template is None:
        return _error(40037)
    data_error = _data_error(template.fields, message.get("data"))
    if data_error:
        return _error(47003, data_error)
    client_msg_id = message.get("client_msg_id")
    await inbox.record(
        app,
        "wechat",
        openid,
        {
            "template_id": template.template_id,
            "page": message.get("page"),
            "data": {key: entry["value"] for key, entry in message["data"].items()},
        },
        dedupe_key=client_msg_id if isinstance(client_msg_id, str) else None,
    )
    return json({"errcode": 0, "errmsg": "ok", "msgid": secrets.randbelow(2**53)})


@doc("测试辅助：发给某 openid 的订阅消息（按收到的顺序）", tag=TAG, query=MessagesQuery, response=MessagesOut)
async def list_messages(request: Request):
    query = parse_query(request, MessagesQuery)
    return json({"items": await inbox.messages(request.app, "wechat", query.openid)})


@doc("测试辅助：清空发给某 openid 的订阅消息", tag=TAG, query=MessagesQuery, response=MessagesOut)
async def clear_messages(request: Request):
    query = parse_query(request, MessagesQuery)
    await inbox.clear(request.app, "wechat", query.openid)
    return json({"items": []})


@doc("测试辅助：设置此后签发的 access_token 有效期（秒，7200 恢复默认）", tag=TAG, body=TokenTtlIn, response=TokenTtlIn)
async def set_token_ttl(request: Request):
    data = parse_body(request, TokenTtlIn)
    await set_issued_token_ttl(request.app.ctx.cache, TOKEN_TTL_KEY, data.seconds)
    return json(data.model_dump())


# ---- 城市服务实名信息校验 (checkrealnameinfo) ----

REAL_NAME_TTL_SECONDS = 30 * 86400


class RealNameIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    openid: str = Field(pattern=OPENID_PATTERN)
    real_name: str = Field(min_length=1, max_length=64, description="The name WeChat Pay holds for this user")
    id_number: str = Field(pattern=r"^[0-9]{17}[0-9Xx]$", description="The ID number WeChat Pay holds")


class ConsentCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    openid: str = Field(pattern=OPENID_PATTERN, description="The user who agreed on WeChat's consent page")


class CheckRealNameIn(BaseModel):
    """What checkrealnameinfo takes (documentation only: the handler answers bad input the way WeChat does)."""

    openid: str
    real_name: str
    cred_id: str
    cred_type: str = Field(description="1: resident ID card, the only kind WeChat checks")
    code: str = Field(description="extraData.code from the consent page")


class CheckRealNameOut(BaseModel):
    errcode: int
    errmsg: str
    verify_openid: str | None = None
    verify_real_name: str | None = None


def _real_name_key(openid: str) -> str:
    return f"sim:wechat:real_name:{openid}"


def _consent_code_key(code: str) -> str:
    return f"sim:wechat:consent_code:{code}"


@doc(
    "测试辅助：登记某 openid 在微信支付的实名（姓名、身份证号），供实名信息校验比对；未登记即「未实名」",
    tag=TAG,
    body=RealNameIn,
    response=RealNameIn,
)
async def register_real_name(request: Request):
    data = parse_body(request, RealNameIn)
    record = {"real_name": data.real_name, "id_number": data.id_number.upper()}
    await set_json(request.app.ctx.cache, _real_name_key(data.openid), record, REAL_NAME_TTL_SECONDS)
    return json(data.model_dump())


@doc(
    "模拟城市服务授权页（wx308bd2aeb83d3345）：用户同意后回跳带回的 extraData.code，5 分钟内一次有效",
    tag=TAG,
    body=ConsentCodeIn,
    response=CodeOut,
)
async def issue_consent_code(request: Request):
    data = parse_body(request, ConsentCodeIn)
    code = secrets.token_hex(16)
    await request.app.ctx.cache.set(_consent_code_key(code), data.openid, CODE_TTL_SECONDS)
    return json({"code": code})


@doc(
    "模拟实名信息校验（intp/realname/checkrealnameinfo）：比对该 openid 的微信支付实名",
    tag=TAG,
    query=AccessTokenQuery,
    body=CheckRealNameIn,
    response=CheckRealNameOut,
    errors=(),
)
async def check_real_name(request: Request):
    cache = request.app.ctx.cache
    fault = await platform_fault(cache, "wechat")
    if fault is not None:
        return _error(fault.errcode if fault.errcode is not None else -1, "system error")
    token_errcode = await sim_check_access_token(cache, request.args.get("access_token"))
    if token_errcode:
        return _error(token_errcode)
    try:
        body = jsonlib.loads(request.body or b"")
    except ValueError:
        return _error(47001)
    if not isinstance(body, dict) or not all(
        isinstance(body.get(key), str) and body[key] for key in ("openid", "real_name", "cred_id", "code")
    ):
        return _error(47001)
    if str(body.get("cred_type", "1")) != "1":
        return _error(47001, "data format error, only cred_type 1 (ID card) is supported")
    code = body["code"]
    # The code is the consent of one user: another openid's code, or a code used before, is refused.
    if await cache.get(_consent_code_key(code)) != body["openid"]:
        return _error(40029)
    if not await cache.add(_code_used_key(code), "1", CODE_TTL_SECONDS):
        return _error(40163)
    known = await get_json(cache, _real_name_key(body["openid"]))
    answer = {"errcode": 0, "errmsg": "ok"}
    if known is None:
        return json({**answer, "verify_openid": "V_OP_NA", "verify_real_name": ""})
    if known["real_name"] != body["real_name"]:
        return json({**answer, "verify_openid": "V_OP_NM_UM", "verify_real_name": ""})
    id_matches = known["id_number"] == body["cred_id"].upper()
    return json(
        {**answer, "verify_openid": "V_OP_NM_MA", "verify_real_name": "V_NM_ID_MA" if id_matches else "V_NM_ID_UM"}
    )


def add_routes(bp: Blueprint) -> None:
    """Mount the WeChat stand-in under /sim/wechat."""
    bp.add_route(issue_code, "/wechat/code", methods=["POST"], name="sim_wechat_code")
    bp.add_route(code_to_session, "/wechat/sns/jscode2session", methods=["GET"], name="sim_wechat_jscode2session")
    bp.add_route(issue_access_token, "/wechat/cgi-bin/token", methods=["GET"], name="sim_wechat_token")
    bp.add_route(set_token_ttl, "/wechat/token-ttl", methods=["POST"], name="sim_wechat_token_ttl")
    bp.add_route(
        send_subscribe_message,
        "/wechat/cgi-bin/message/subscribe/send",
        methods=["POST"],
        name="sim_wechat_subscribe_send",
    )
    bp.add_route(register_real_name, "/wechat/real-name", methods=["POST"], name="sim_wechat_real_name")
    bp.add_route(issue_consent_code, "/wechat/real-name/consent", methods=["POST"], name="sim_wechat_consent")
    bp.add_route(
        check_real_name,
        "/wechat/intp/realname/checkrealnameinfo",
        methods=["POST"],
        name="sim_wechat_checkrealnameinfo",
    )
    bp.add_route(list_messages, "/wechat/messages", methods=["GET"], name="sim_wechat_messages")
    bp.add_route(clear_messages, "/wechat/messages", methods=["DELETE"], name="sim_wechat_clear_messages")
