"""The simulated Alipay open platform gateway: it checks our RSA2 request signature and signs its answers.

A request arrives as the SDK sends it: common parameters (method, app_id, sign_type, timestamp, sign ...) in the
query string, business parameters in the form body. The answer is `{"<method>_response": {...}, "sign": "..."}`
where sign is RSA2 over the exact JSON text of the response object, signed with the simulated Alipay key.
A new gateway method is one entry in GATEWAY_METHODS. State lives in the app's cache under "sim:alipay:".
Template messages are checked against settings.notifications.alipay_templates and kept for inspection.
"""

from __future__ import annotations

import json as jsonlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Awaitable, Callable
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse, json

from app.core.http import parse_body, parse_query
from app.core.openapi import doc
from app.platforms.keys import ensure_sim_keys, rsa2_sign, rsa2_verify
from app.platforms.sim import inbox
from app.platforms.sim.faults import TAG, platform_fault

AUTH_CODE_TTL_SECONDS = 300
ACCESS_TOKEN_TTL_SECONDS = 1_296_000  # 15 days, what Alipay grants
REFRESH_TOKEN_TTL_SECONDS = 2_592_000  # 30 days
ALIPAY_TIMEZONE = ZoneInfo("Asia/Shanghai")
USER_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
# The simulated Alipay knows every user whose id has the real shape: 2088 and twelve digits.
KNOWN_USER_ID = re.compile(r"2088[0-9]{12}")


class AuthCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: str | None = Field(None, pattern=USER_ID_PATTERN, description="The user; a new 2088... id when absent")


class AuthCodeOut(BaseModel):
    auth_code: str


class MessagesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: str = Field(pattern=USER_ID_PATTERN, description="The recipient")


class DeliveredMessage(BaseModel):
    template_id: str
    data: dict[str, str] = Field(description="Each keyword's value (keyword1, keyword2 ...)")
    page: str | None
    received_at: str


class MessagesOut(BaseModel):
    items: list[DeliveredMessage]


class GatewayOut(BaseModel):
    """`<method with underscores>_response` (or error_response) holds the answer; sign is RSA2 over its JSON."""

    model_config = ConfigDict(extra="allow")
    sign: str


class GatewayError(Exception):
    """An Alipay error answer: code and msg of the class of error, sub_code and sub_msg of the case."""

    def __init__(self, code: str, msg: str, sub_code: str, sub_msg: str) -> None:
        super().__init__(sub_code)
        self.body = {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}


def missing_argument(sub_code: str, sub_msg: str) -> GatewayError:
    return GatewayError("40001", "Missing Required Arguments", sub_code, sub_msg)


def invalid_argument(sub_code: str, sub_msg: str) -> GatewayError:
    return GatewayError("40002", "Invalid Arguments", sub_code, sub_msg)


def business_failed(sub_code: str, sub_msg: str) -> GatewayError:
    return GatewayError("40004", "Business Failed", sub_code, sub_msg)


def service_unavailable() -> GatewayError:
    return GatewayError("20000", "Service Currently Unavailable", "isp.unknow-error", "系统繁忙")


@dataclass(frozen=True)
class GatewayCall:
    app: Sanic
    method: str
    params: dict[str, str]  # every request parameter, common and business, as sent

    @property
    def biz_content(self) -> dict[str, Any]:
        """The biz_content JSON of methods that take one."""
        try:
            content = jsonlib.loads(self.params.get("biz_content") or "{}")
        except ValueError:
            raise invalid_argument("isv.invalid-biz-content", "biz_content 不是合法的 JSON") from None
        if not isinstance(content, dict):
            raise invalid_argument("isv.invalid-biz-content", "biz_content 必须是 JSON 对象")
        return content


@dataclass(frozen=True)
class GatewayMethod:
    handler: Callable[[GatewayCall], Awaitable[dict[str, Any]]]
    # alipay.system.oauth.token answers its errors under "error_response" rather than under its own key.
    errors_as_error_response: bool = False


def _auth_code_key(auth_code: str) -> str:
    return f"sim:alipay:auth_code:{auth_code}"


def _auth_code_used_key(auth_code: str) -> str:
    return f"sim:alipay:auth_code_used:{auth_code}"


def _access_token_key(token: str) -> str:
    return f"sim:alipay:access_token:{token}"


async def _oauth_token(call: GatewayCall) -> dict[str, Any]:
    cache = call.app.ctx.cache
    if call.params.get("grant_type") != "authorization_code":
        raise invalid_argument("isv.grant-type-invalid", "grant_type 参数不正确")
    auth_code = call.params.get("code")
    if not auth_code:
        raise missing_argument("isv.missing-code", "缺少授权码 code")
    user_id = await cache.get(_auth_code_key(auth_code))
    # add() is atomic, so of two concurrent uses of one code exactly one succeeds.
    if user_id is None or not await cache.add(_auth_code_used_key(auth_code), "1", AUTH_CODE_TTL_SECONDS):
        raise invalid_argument("isv.code-invalid", "授权码code无效")
    access_token = "authusrB" + secrets.token_hex(16)
    await cache.set(_access_token_key(access_token), user_id, ACCESS_TOKEN_TTL_SECONDS)
    return {"user_id": user_id, "access_token": access_token, "expires_in": ACCESS_TOKEN_TTL_SECONDS,
            "refresh_token": "authusrB" + secrets.token_hex(16), "re_expires_in": REFRESH_TOKEN_TTL_SECONDS,
            "auth_start": datetime.now(ALIPAY_TIMEZONE).strftime("%Y-%m-%d %H:%M:%S")}


def _template_keyword_values(data_text: object, keywords: int) -> dict[str, str] | None:
    """keyword1..keywordN -> value from the data JSON text, when it fills exactly the template's keywords."""
    try:
        data = jsonlib.loads(data_text) if isinstance(data_text, str) else None
    except ValueError:
        return None
    if not isinstance(data, dict) or set(data) != {f"keyword{n}" for n in range(1, keywords + 1)}:
        return None
    values = {key: entry.get("value") if isinstance(entry, dict) else None for key, entry in data.items()}
    if not all(isinstance(value, str) for value in values.values()):
        return None
    return dict(sorted(values.items(), key=lambda item: int(item[0].removeprefix("keyword"))))


async def _template_message_send(call: GatewayCall) -> dict[str, Any]:
    content = call.biz_content
    user_id, template_id = content.get("to_user_id"), content.get("user_template_id")
    if not isinstance(user_id, str) or not KNOWN_USER_ID.fullmatch(user_id):
        raise business_failed("USER_NOT_EXIST", "用户不存在")
    configured = call.app.ctx.settings.notifications.alipay_templates.values()
    template = next((template for template in configured if template.template_id == template_id), None)
    if template is None:
        raise business_failed("USER_TEMPLATE_ILLEGAL", "模板非法")
    # Alipay: the placeholders must match the template's keywords one to one.
    values = _template_keyword_values(content.get("data"), template.keywords)
    if values is None:
        raise business_failed("INVALID_PARAMETER", f"data 须为 keyword1..keyword{template.keywords} 的取值")
    page = content.get("page")
    await inbox.record(call.app, "alipay", user_id, {"template_id": template.template_id, "data": values,
                                                     "page": page if isinstance(page, str) else None})
    return {"code": "10000", "msg": "Success"}


GATEWAY_METHODS: dict[str, GatewayMethod] = {
    "alipay.system.oauth.token": GatewayMethod(_oauth_token, errors_as_error_response=True),
    "alipay.open.app.mini.templatemessage.send": GatewayMethod(_template_message_send),
}


def response_key(method: str) -> str:
    """alipay.system.oauth.token -> alipay_system_oauth_token_response."""
    return method.replace(".", "_") + "_response"


def _signed_answer(app: Sanic, key: str, body: dict[str, Any]) -> HTTPResponse:
    # The signature covers the exact text between the key and ',"sign"', so the text is built, not re-serialised.
    content = jsonlib.dumps(body, ensure_ascii=False, separators=(",", ":"))
    sign = rsa2_sign(ensure_sim_keys(app.ctx.settings).alipay_platform.private_pem, content)
    text = f'{{"{key}":{content},"sign":"{sign}"}}'
    return HTTPResponse(text, content_type="application/json;charset=utf-8")


def _request_params(request: Request) -> dict[str, str]:
    params: dict[str, str] = {}
    for source in (request.get_args(keep_blank_values=True), request.get_form(keep_blank_values=True)):
        for name, values in source.items():
            params.setdefault(name, values[0])
    return params


def _sign_content(params: dict[str, str]) -> str:
    # Alipay's rule: every parameter but sign, empty ones left out, sorted by name, joined as k=v with &.
    return "&".join(f"{name}={value}" for name, value in sorted(params.items()) if name != "sign" and value != "")


def _check_request(app: Sanic, params: dict[str, str]) -> None:
    if params.get("app_id") != app.ctx.settings.alipay.app_id:
        raise invalid_argument("isv.invalid-app-id", "无效的AppID参数")
    if not params.get("sign"):
        raise missing_argument("isv.missing-signature", "缺少签名参数")
    if params.get("sign_type") != "RSA2":
        raise invalid_argument("isv.invalid-signature-type", "无效的签名类型")
    app_public_key = ensure_sim_keys(app.ctx.settings).alipay_app.public_pem
    if not rsa2_verify(app_public_key, _sign_content(params), params["sign"]):
        raise invalid_argument("isv.invalid-signature", "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配")


@doc("模拟 my.getAuthCode：为 user_id（缺省时新建）签发一次性 auth_code，5 分钟有效", tag=TAG, body=AuthCodeIn,
     response=AuthCodeOut)
async def issue_auth_code(request: Request):
    data = parse_body(request, AuthCodeIn) if request.body else AuthCodeIn()
    user_id = data.user_id or f"2088{secrets.randbelow(10**12):012d}"
    auth_code = secrets.token_hex(16)
    await request.app.ctx.cache.set(_auth_code_key(auth_code), user_id, AUTH_CODE_TTL_SECONDS)
    return json({"auth_code": auth_code})


@doc("模拟支付宝开放平台网关（表单参数，RSA2 验签；应答经模拟支付宝私钥签名）", tag=TAG, response=GatewayOut, errors=())
async def gateway(request: Request):
    app = request.app
    params = _request_params(request)
    method_name = params.get("method", "")
    method = GATEWAY_METHODS.get(method_name)
    error_key = "error_response" if method is None or method.errors_as_error_response else response_key(method_name)
    try:
        if await platform_fault(app.ctx.cache, "alipay") is not None:
            raise service_unavailable()
        if method is None:
            raise invalid_argument("isv.invalid-method", "不存在的方法名")
        _check_request(app, params)
        body = await method.handler(GatewayCall(app=app, method=method_name, params=params))
    except GatewayError as error:
        return _signed_answer(app, error_key, error.body)
    return _signed_answer(app, response_key(method_name), body)


@doc("测试辅助：发给某 user_id 的模板消息（按收到的顺序）", tag=TAG, query=MessagesQuery, response=MessagesOut)
async def list_messages(request: Request):
    query = parse_query(request, MessagesQuery)
    return json({"items": await inbox.messages(request.app, "alipay", query.user_id)})


@doc("测试辅助：清空发给某 user_id 的模板消息", tag=TAG, query=MessagesQuery, response=MessagesOut)
async def clear_messages(request: Request):
    query = parse_query(request, MessagesQuery)
    await inbox.clear(request.app, "alipay", query.user_id)
    return json({"items": []})


def add_routes(bp: Blueprint) -> None:
    """Mount the Alipay stand-in under /sim/alipay."""
    bp.add_route(issue_auth_code, "/alipay/auth_code", methods=["POST"], name="sim_alipay_auth_code")
    bp.add_route(gateway, "/alipay/gateway.do", methods=["POST"], name="sim_alipay_gateway")
    bp.add_route(list_messages, "/alipay/messages", methods=["GET"], name="sim_alipay_messages")
    bp.add_route(clear_messages, "/alipay/messages", methods=["DELETE"], name="sim_alipay_clear_messages")
