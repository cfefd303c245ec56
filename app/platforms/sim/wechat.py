"""The simulated WeChat server API: wx.login codes, code2Session and access tokens, answering like WeChat does.

WeChat answers HTTP 200 with {"errcode", "errmsg"} on failure; so does this. State lives in the app's cache under
"sim:wechat:", so several workers on Redis share it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time

from pydantic import BaseModel, ConfigDict, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from app.core.cache import Cache, get_json, set_json
from app.core.http import parse_body
from app.core.openapi import doc
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
    40013: "invalid appid",
    40029: "invalid code",
    40125: "invalid appsecret",
    40163: "code been used",
    41001: "access_token missing",
    41008: "missing code",
    42001: "access_token expired",
}
OPENID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


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


class TokenTtlIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: int = Field(ge=1, le=DEFAULT_TOKEN_TTL_SECONDS, description="Lifetime of tokens issued from now on")


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


@doc("模拟 code2Session（sns/jscode2session）", tag=TAG, query=Code2SessionQuery, response=Code2SessionOut,
     errors=())
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
    ttl = int(await cache.get(TOKEN_TTL_KEY) or DEFAULT_TOKEN_TTL_SECONDS)
    token = secrets.token_urlsafe(96)
    await set_json(cache, _token_key(token), {"expires_at": time.time() + ttl}, ttl + EXPIRED_TOKEN_MEMORY_SECONDS)
    await cache.incr(TOKENS_ISSUED_KEY, COUNTER_TTL_SECONDS)
    return json({"access_token": token, "expires_in": ttl})


@doc("测试辅助：设置此后签发的 access_token 有效期（秒，7200 恢复默认）", tag=TAG, body=TokenTtlIn,
     response=TokenTtlIn)
async def set_token_ttl(request: Request):
    data = parse_body(request, TokenTtlIn)
    cache = request.app.ctx.cache
    if data.seconds == DEFAULT_TOKEN_TTL_SECONDS:
        await cache.delete(TOKEN_TTL_KEY)
    else:
        await cache.set(TOKEN_TTL_KEY, str(data.seconds))
    return json(data.model_dump())


def add_routes(bp: Blueprint) -> None:
    """Mount the WeChat stand-in under /sim/wechat."""
    bp.add_route(issue_code, "/wechat/code", methods=["POST"], name="sim_wechat_code")
    bp.add_route(code_to_session, "/wechat/sns/jscode2session", methods=["GET"], name="sim_wechat_jscode2session")
    bp.add_route(issue_access_token, "/wechat/cgi-bin/token", methods=["GET"], name="sim_wechat_token")
    bp.add_route(set_token_ttl, "/wechat/token-ttl", methods=["POST"], name="sim_wechat_token_ttl")
