"""The simulated Alipay open platform gateway: it checks our RSA2 request signature and signs its answers.

A request arrives as the SDK sends it: common parameters (method, app_id, sign_type, timestamp, sign ...) in the
query string, business parameters in the form body. The answer is `{"<method>_response": {...}, "sign": "..."}`
where sign is RSA2 over the exact JSON text of the response object, signed with the simulated Alipay key.
A new gateway method is one entry in GATEWAY_METHODS. State lives in the app's cache under "sim:alipay:".
Template messages are checked against settings.notifications.alipay_templates and kept for inspection.

Payments: alipay.trade.create opens a JSAPI trade, POST /sim/alipay/pay is the buyer paying it (the RSA2-signed
form notification goes to the trade's notify_url before the helper answers), and query, close, refund, refund query
and the bill download behave as Alipay's do. Unlike Alipay, a day's bill is served at once, today's included.

Identity: alipay.user.certify.open.initialize opens a face verification of the claimed person; the certify URL (a
signed GET of alipay.user.certify.open.certify) shows a page standing in for the camera, and POST
/sim/alipay/certify/face says whose face was scanned; alipay.user.certify.open.query answers passed T or F.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import html
import io
import json as jsonlib
import logging
import re
import secrets
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
from pydantic import BaseModel, ConfigDict, Field
from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse, json, raw

from app.core.cache import Cache, get_json, set_json
from app.core.config import Settings
from app.core.errors import Conflict, NotFound
from app.core.http import parse_body, parse_query
from app.core.openapi import doc
from app.platforms.alipay_pay import fen_to_yuan, yuan_to_fen
from app.platforms.keys import ensure_sim_keys, rsa2_sign, rsa2_verify
from app.platforms.sim import inbox
from app.platforms.sim.faults import TAG, notify_fault, platform_fault

log = logging.getLogger("app.platforms.sim.alipay")

AUTH_CODE_TTL_SECONDS = 300
ACCESS_TOKEN_TTL_SECONDS = 1_296_000  # 15 days, what Alipay grants
REFRESH_TOKEN_TTL_SECONDS = 2_592_000  # 30 days
ALIPAY_TIMEZONE = ZoneInfo("Asia/Shanghai")
USER_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
# The simulated Alipay knows every user whose id has the real shape: 2088 and twelve digits.
KNOWN_USER_ID = re.compile(r"2088[0-9]{12}")
ALIPAY_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# How far a request's timestamp may be from the gateway's clock (Beijing time).
TIMESTAMP_SKEW_SECONDS = 600
# Alipay's out_trade_no and out_request_no: up to 64 letters, digits and underscores.
MERCHANT_NO_PATTERN = r"^[0-9A-Za-z_]{1,64}$"
PRODUCT_CODE = "JSAPI_PAY"
MAX_TRADE_FEN = 10_000_000_000  # Alipay's ceiling: 100000000.00 yuan
# Trades, refunds and bill lines live a week here (Alipay keeps them for years): enough for development and tests.
TRADE_TTL_SECONDS = 7 * 86400
# Alipay's bill links work for 30 seconds.
BILL_LINK_TTL_SECONDS = 30
# The simulated merchant's PID, the seller of every trade when alipay.seller_id is empty.
SIM_SELLER_ID = "2088000000000000"
BILL_HEADER = (
    "支付宝交易号",
    "商户订单号",
    "业务类型",
    "商品名称",
    "创建时间",
    "完成时间",
    "门店编号",
    "门店名称",
    "操作员",
    "终端号",
    "对方账户",
    "订单金额（元）",
    "商家实收（元）",
    "支付宝红包（元）",
    "集分宝（元）",
    "支付宝优惠（元）",
    "商家优惠（元）",
    "券核销金额（元）",
    "券名称",
    "商家红包消费金额（元）",
    "卡消费金额（元）",
    "退款批次号/请求号",
    "服务费（元）",
    "分润（元）",
    "备注",
)


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


class PayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_no: str = Field(pattern=MERCHANT_NO_PATTERN, description="Our order number (the trade's out_trade_no)")
    amount_fen: int | None = Field(
        None, ge=0, le=MAX_TRADE_FEN, description="Tamper: the notification says this amount, changed after signing"
    )
    sign: Literal["bad"] | None = Field(None, description="bad: the notification is signed with a key not Alipay's")


class PayOut(BaseModel):
    delivered: bool = Field(description="Our service answered 200 with the text success")
    status: int | None = Field(description="The HTTP status we answered; null when nothing was sent or reached us")
    body: str | None = Field(description="The text we answered")


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


# ---- which id Alipay gives this app: user_id (2088...) or, for new app ids, open_id ----

ID_MODE_KEY = "sim:alipay:id_mode"
OPEN_ID = re.compile(r"0[A-Za-z0-9_-]{43}")


async def id_mode(app: Sanic) -> str:
    """The mode the simulated Alipay answers in: set by /sim/alipay/id-mode, else the app's alipay.id_mode."""
    return await app.ctx.cache.get(ID_MODE_KEY) or app.ctx.settings.alipay.id_mode


def open_id_of(app: Sanic, user_id: str) -> str:
    """The simulated open_id of a user for this app: stable, so tests can predict it."""
    digest = hashlib.sha256(f"{app.ctx.settings.alipay.app_id}:{user_id}".encode()).digest()
    return "0" + base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _known_user(mode: str, value: object) -> bool:
    return isinstance(value, str) and bool((OPEN_ID if mode == "open_id" else KNOWN_USER_ID).fullmatch(value))


class IdModeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["user_id", "open_id"] | None = Field(description="null: back to the app's alipay.id_mode")


@doc(
    "测试辅助：模拟支付宝按 user_id 还是 open_id 标识用户（null 恢复为配置的 alipay.id_mode）",
    tag=TAG,
    body=IdModeIn,
    response=IdModeIn,
)
async def set_id_mode(request: Request):
    data = parse_body(request, IdModeIn)
    if data.mode is None:
        await request.app.ctx.cache.delete(ID_MODE_KEY)
    else:
        await request.app.ctx.cache.set(ID_MODE_KEY, data.mode)
    return json({"mode": data.mode})


SUBSCRIPTION_TTL_SECONDS = 30 * 86400


def _subscription_key(recipient: str, template_id: str) -> str:
    return f"sim:alipay:subscription:{recipient}:{template_id}"


class SubscribeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: str = Field(pattern=USER_ID_PATTERN, description="The user, by the id of the id mode (user_id or open_id)")
    template_ids: list[str] = Field(min_length=1, max_length=3)


class SubscribeOut(BaseModel):
    results: dict[str, str] = Field(description="What my.requestSubscribeMessage answers the mini-program")


@doc(
    "模拟用户在 my.requestSubscribeMessage 中同意订阅（每个模板一次发送额度）；应答即客户端拿到的结果",
    tag=TAG,
    body=SubscribeIn,
    response=SubscribeOut,
)
async def subscribe(request: Request):
    data = parse_body(request, SubscribeIn)
    cache = request.app.ctx.cache
    configured = {template.template_id for template in request.app.ctx.settings.notifications.alipay_templates.values()}
    results = {}
    for template_id in dict.fromkeys(data.template_ids):
        if template_id in configured:
            await cache.incr(_subscription_key(data.user_id, template_id), SUBSCRIPTION_TTL_SECONDS)
            results[template_id] = "accept"
        else:
            results[template_id] = "filter"
    return json({"results": results})


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
    # An app in open_id mode is told the user's open_id only; user_id is no longer given out.
    who = {"open_id": open_id_of(call.app, user_id)} if await id_mode(call.app) == "open_id" else {"user_id": user_id}
    return {
        **who,
        "access_token": access_token,
        "expires_in": ACCESS_TOKEN_TTL_SECONDS,
        "refresh_token": "authusrB" + secrets.token_hex(16),
        "re_expires_in": REFRESH_TOKEN_TTL_SECONDS,
        "auth_start": datetime.now(ALIPAY_TIMEZONE).strftime("%Y-%m-%d %H:%M:%S"),
    }


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
    mode = await id_mode(call.app)
    recipient_field, other_field = ("to_open_id", "to_user_id") if mode == "open_id" else ("to_user_id", "to_open_id")
    user_id, template_id = content.get(recipient_field), content.get("user_template_id")
    if content.get(other_field) or not _known_user(mode, user_id):
        raise business_failed("USER_NOT_EXIST", f"用户不存在（本应用须用 {recipient_field}）")
    configured = call.app.ctx.settings.notifications.alipay_templates.values()
    template = next((template for template in configured if template.template_id == template_id), None)
    if template is None:
        raise business_failed("USER_TEMPLATE_ILLEGAL", "模板非法")
    # A subscribe message goes only to a user who subscribed to the template (my.requestSubscribeMessage); each
    # subscription carries one message.
    left = await call.app.ctx.cache.decr_if_positive(_subscription_key(user_id, template.template_id))
    if left is None or left < 0:
        raise business_failed("USER_UNSUBSCRIBED", "用户未订阅该模板或订阅次数已用完")
    # Alipay: the placeholders must match the template's keywords one to one.
    values = _template_keyword_values(content.get("data"), template.keywords)
    if values is None:
        raise business_failed("INVALID_PARAMETER", f"data 须为 keyword1..keyword{template.keywords} 的取值")
    page = content.get("page")
    await inbox.record(
        call.app,
        "alipay",
        user_id,
        {"template_id": template.template_id, "data": values, "page": page if isinstance(page, str) else None},
    )
    return {"code": "10000", "msg": "Success"}


# ---- identity: face verification (alipay.user.certify.open.*) ----

CERTIFY_TTL_SECONDS = 86400
CERTIFY_BIZ_CODES = frozenset({"FACE", "CERT_PHOTO", "CERT_PHOTO_FACE", "SMART_FACE"})
OUTER_ORDER_NO = re.compile(r"[A-Za-z0-9]{1,32}")
ID_CARD_NUMBER = re.compile(r"[0-9]{17}[0-9Xx]")


def _certify_key(certify_id: str) -> str:
    return f"sim:alipay:certify:{certify_id}"


def _certify_order_key(outer_order_no: str) -> str:
    return f"sim:alipay:certify_order:{outer_order_no}"


def _json_object(content: dict[str, Any], name: str) -> dict[str, Any]:
    value = content.get(name)
    if isinstance(value, str):
        try:
            value = jsonlib.loads(value)
        except ValueError:
            value = None
    if not isinstance(value, dict):
        raise missing_argument(f"isv.missing-{name.replace('_', '-')}", f"缺少参数 {name}")
    return value


async def _certify_initialize(call: GatewayCall) -> dict[str, Any]:
    content = call.biz_content
    outer_order_no = content.get("outer_order_no")
    if not isinstance(outer_order_no, str) or not OUTER_ORDER_NO.fullmatch(outer_order_no):
        raise invalid_argument("isv.invalid-outer-order-no", "outer_order_no 须为 1-32 位字母数字")
    if content.get("biz_code") not in CERTIFY_BIZ_CODES:
        raise invalid_argument("isv.invalid-biz-code", "biz_code 不在签约的认证场景内")
    identity = _json_object(content, "identity_param")
    merchant = _json_object(content, "merchant_config")
    if identity.get("identity_type") != "CERT_INFO" or identity.get("cert_type") != "IDENTITY_CARD":
        raise invalid_argument(
            "isv.invalid-identity-param", "identity_type 须为 CERT_INFO，cert_type 须为 IDENTITY_CARD"
        )
    cert_name, cert_no = identity.get("cert_name"), identity.get("cert_no")
    if not isinstance(cert_name, str) or not cert_name or not isinstance(cert_no, str):
        raise missing_argument("isv.missing-cert-info", "缺少 cert_name 或 cert_no")
    if not ID_CARD_NUMBER.fullmatch(cert_no):
        raise invalid_argument("isv.invalid-cert-no", "证件号码格式错误")
    if not isinstance(merchant.get("return_url"), str) or not merchant["return_url"]:
        raise missing_argument("isv.missing-return-url", "merchant_config 缺少 return_url")
    cache = call.app.ctx.cache
    certify_id = secrets.token_hex(16)
    # One outer_order_no opens one verification, as on Alipay.
    if not await cache.add(_certify_order_key(outer_order_no), certify_id, CERTIFY_TTL_SECONDS):
        raise business_failed("OUTER_ORDER_NO_DUPLICATE", "外部订单号重复")
    record = {"cert_name": cert_name, "cert_no": cert_no.upper(), "passed": None}
    await set_json(cache, _certify_key(certify_id), record, CERTIFY_TTL_SECONDS)
    return {"code": "10000", "msg": "Success", "certify_id": certify_id}


async def _certify_query(call: GatewayCall) -> dict[str, Any]:
    certify_id = call.biz_content.get("certify_id")
    if not isinstance(certify_id, str) or not certify_id:
        raise missing_argument("isv.missing-certify-id", "缺少 certify_id")
    record = await get_json(call.app.ctx.cache, _certify_key(certify_id))
    if record is None:
        raise business_failed("CERTIFY_ID_INVALID", "认证 ID 不存在")
    # Unfinished and failed alike answer "F", as Alipay does.
    return {"code": "10000", "msg": "Success", "passed": "T" if record["passed"] else "F"}


class FaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    certify_id: str = Field(min_length=1, max_length=64)
    real_name: str = Field(min_length=1, max_length=64, description="The person whose face is before the camera")
    id_number: str = Field(pattern=r"^[0-9]{17}[0-9Xx]$", description="That person's ID number")


class FaceOut(BaseModel):
    passed: bool


@doc(
    "模拟 my.startAPVerify 的刷脸：镜头前是谁（姓名、身份证号）；与初始化时的身份一致即通过",
    tag=TAG,
    body=FaceIn,
    response=FaceOut,
)
async def scan_face(request: Request):
    data = parse_body(request, FaceIn)
    passed = await _finish_certify(
        request.app.ctx.cache,
        data.certify_id,
        lambda record: data.real_name == record["cert_name"] and data.id_number.upper() == record["cert_no"],
    )
    return json({"passed": passed})


async def _finish_certify(cache: Cache, certify_id: str, verdict: Callable[[dict[str, Any]], bool]) -> bool:
    """Record the face scan of an open verification: 404 unknown, 409 already scanned; the verdict."""
    record = await get_json(cache, _certify_key(certify_id))
    if record is None:
        raise NotFound("认证 ID 不存在")
    if record["passed"] is not None:
        raise Conflict("该次认证已完成")
    passed = verdict(record)
    await set_json(cache, _certify_key(certify_id), {**record, "passed": passed}, CERTIFY_TTL_SECONDS)
    return passed


@doc(
    "模拟 alipay.user.certify.open.certify 的认证页（my.startAPVerify 打开的 URL，验签后显示刷脸按钮）",
    tag=TAG,
    errors=(400, 404),
)
async def certify_page(request: Request):
    params = _request_params(request)
    try:
        if params.get("method") != "alipay.user.certify.open.certify":
            raise invalid_argument("isv.invalid-method", "不存在的方法名")
        _check_request(request.app, params)
        certify_id = GatewayCall(app=request.app, method=params["method"], params=params).biz_content.get("certify_id")
    except GatewayError as error:
        return json(error.body, status=400)
    record = await get_json(request.app.ctx.cache, _certify_key(str(certify_id)))
    if record is None:
        return json({"code": "40004", "sub_code": "CERTIFY_ID_INVALID"}, status=404)
    body = CERTIFY_PAGE.replace("{certify_id}", html.escape(str(certify_id), quote=True))
    return HTTPResponse(body, content_type="text/html; charset=utf-8")


CERTIFY_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>支付宝刷脸认证（模拟）</title></head>
<body style="font: 18px/1.5 sans-serif; padding: 24px">
<h1 style="font-size: 22px">刷脸认证（模拟）</h1>
<p>模拟器中不会打开摄像头。请选择镜头前的人：</p>
<button id="self" style="min-height: 48px; font-size: 18px">本人刷脸</button>
<button id="other" style="min-height: 48px; font-size: 18px">他人刷脸</button>
<p id="result" role="status"></p>
<script>
const certifyId = "{certify_id}";
async function scan(self) {
  const response = await fetch("certify/face-as-claimed", {
    method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({certify_id: certifyId, self: self}),
  });
  const body = await response.json();
  document.getElementById("result").textContent = body.passed ? "认证通过，请返回办事页面" : "认证未通过";
}
document.getElementById("self").onclick = () => scan(true);
document.getElementById("other").onclick = () => scan(false);
</script></body></html>"""


class FaceAsClaimedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    certify_id: str = Field(min_length=1, max_length=64)
    self: bool = Field(description="true: the claimed person stands before the camera; false: someone else")


@doc("模拟认证页的按钮：本人（通过）或他人（不通过）刷脸", tag=TAG, body=FaceAsClaimedIn, response=FaceOut)
async def scan_face_as_claimed(request: Request):
    data = parse_body(request, FaceAsClaimedIn)
    passed = await _finish_certify(request.app.ctx.cache, data.certify_id, lambda record: data.self)
    return json({"passed": passed})


# ---- payments: trades, refunds, bills ----


def _trade_key(out_trade_no: str) -> str:
    return f"sim:alipay:trade:{out_trade_no}"


def _outcome_key(out_trade_no: str) -> str:
    # Set once (add): "paid" or "closed", so a payment and a close can never both win.
    return f"sim:alipay:trade:{out_trade_no}:outcome"


def _refunded_key(out_trade_no: str) -> str:
    return f"sim:alipay:trade:{out_trade_no}:refunded_fen"


def _refund_key(out_trade_no: str, out_request_no: str) -> str:
    return f"sim:alipay:trade:{out_trade_no}:refund:{out_request_no}"


def _bill_count_key(day: date) -> str:
    return f"sim:alipay:bill:{day.isoformat()}:count"


def _bill_line_key(day: date, number: int) -> str:
    return f"sim:alipay:bill:{day.isoformat()}:{number}"


def _bill_link_key(token: str) -> str:
    return f"sim:alipay:bill_link:{token}"


def _now() -> datetime:
    return datetime.now(ALIPAY_TIMEZONE)


def _alipay_time(moment: datetime) -> str:
    return moment.astimezone(ALIPAY_TIMEZONE).strftime(ALIPAY_TIME_FORMAT)


def _parse_alipay_time(text: str) -> datetime:
    return datetime.strptime(text, ALIPAY_TIME_FORMAT).replace(tzinfo=ALIPAY_TIMEZONE)


def _buyer(trade: dict[str, Any], user_id_field: str) -> dict[str, str]:
    """The buyer as Alipay names them in answers: buyer_open_id in open_id mode, else user_id_field."""
    if trade.get("buyer_field") == "buyer_open_id":
        return {"buyer_open_id": trade["buyer_id"]}
    return {user_id_field: trade["buyer_id"]}


def _trade_not_exist() -> GatewayError:
    return business_failed("ACQ.TRADE_NOT_EXIST", "交易不存在")


def _merchant_no(content: dict[str, Any], name: str) -> str:
    value = content.get(name)
    if value is None or value == "":
        raise missing_argument(f"isv.missing-{name.replace('_', '-')}", f"缺少参数 {name}")
    if not isinstance(value, str) or not re.fullmatch(MERCHANT_NO_PATTERN, value):
        raise business_failed("ACQ.INVALID_PARAMETER", f"{name} 须为不超过 64 位的字母、数字或下划线")
    return value


def _amount_fen(content: dict[str, Any], name: str) -> int:
    try:
        fen = yuan_to_fen(content.get(name))
    except (TypeError, ValueError):
        raise business_failed("ACQ.INVALID_PARAMETER", f"{name} 须为最多两位小数的金额（元）") from None
    if not 0 < fen <= MAX_TRADE_FEN:
        raise business_failed("ACQ.INVALID_PARAMETER", f"{name} 须在 0.01 与 100000000.00 之间")
    return fen


async def _existing_trade(cache: Cache, content: dict[str, Any]) -> dict[str, Any]:
    trade = await get_json(cache, _trade_key(_merchant_no(content, "out_trade_no")))
    if trade is None:
        raise _trade_not_exist()
    return trade


async def _outcome(cache: Cache, trade: dict[str, Any]) -> dict[str, str] | None:
    """{"status": "paid" | "closed", "at"} once the trade was paid or closed; an unpaid trade closes at expiry."""
    outcome = await get_json(cache, _outcome_key(trade["out_trade_no"]))
    if outcome is None and _now() >= _parse_alipay_time(trade["time_expire"]):
        # Alipay closes an unpaid trade when it expires; whoever notices first writes it, the rest read it.
        await _add_outcome(cache, trade, "closed", trade["time_expire"])
        outcome = await get_json(cache, _outcome_key(trade["out_trade_no"]))
    return outcome


async def _add_outcome(cache: Cache, trade: dict[str, Any], status: str, at: str) -> bool:
    return await cache.add(
        _outcome_key(trade["out_trade_no"]), jsonlib.dumps({"status": status, "at": at}), TRADE_TTL_SECONDS
    )


async def _trade_status(cache: Cache, trade: dict[str, Any]) -> tuple[str, dict[str, str] | None]:
    outcome = await _outcome(cache, trade)
    if outcome is None:
        return "WAIT_BUYER_PAY", None
    if outcome["status"] == "closed":
        return "TRADE_CLOSED", outcome
    refunded_fen = int(await cache.get(_refunded_key(trade["out_trade_no"])) or 0)
    # A trade refunded in full is closed; a partly refunded one stays a success.
    return ("TRADE_CLOSED" if refunded_fen >= trade["total_fen"] else "TRADE_SUCCESS"), outcome


async def _record_bill_line(cache: Cache, day: date, line: dict[str, Any]) -> None:
    number = await cache.incr(_bill_count_key(day), TRADE_TTL_SECONDS)
    await set_json(cache, _bill_line_key(day, number), line, TRADE_TTL_SECONDS)


async def _bill_lines(cache: Cache, day: date) -> list[dict[str, Any]]:
    count = int(await cache.get(_bill_count_key(day)) or 0)
    found = await asyncio.gather(*(get_json(cache, _bill_line_key(day, number)) for number in range(1, count + 1)))
    # A slot can be empty for a moment: numbered by one worker, not yet written.
    return [line for line in found if line is not None]


async def _trade_create(call: GatewayCall) -> dict[str, Any]:
    content, cache = call.biz_content, call.app.ctx.cache
    out_trade_no = _merchant_no(content, "out_trade_no")
    if content.get("product_code") != PRODUCT_CODE:
        raise business_failed("ACQ.INVALID_PARAMETER", f"小程序支付的 product_code 须为 {PRODUCT_CODE}")
    total_fen = _amount_fen(content, "total_amount")
    mode = await id_mode(call.app)
    buyer_field, other_field = ("buyer_open_id", "buyer_id") if mode == "open_id" else ("buyer_id", "buyer_open_id")
    subject, buyer_id = content.get("subject"), content.get(buyer_field)
    if not isinstance(subject, str) or not 0 < len(subject) <= 256:
        raise business_failed("ACQ.INVALID_PARAMETER", "subject 须为 1 到 256 个字符")
    if content.get(other_field) or not _known_user(mode, buyer_id):
        raise business_failed("ACQ.INVALID_PARAMETER", f"{buyer_field} 无效（本应用须用 {buyer_field}）")
    try:
        time_expire = _parse_alipay_time(content.get("time_expire"))
    except (TypeError, ValueError):
        raise business_failed("ACQ.INVALID_PARAMETER", "time_expire 须为 yyyy-MM-dd HH:mm:ss") from None
    if time_expire <= _now():
        raise business_failed("ACQ.INVALID_PARAMETER", "time_expire 已过")
    trade = {
        "out_trade_no": out_trade_no,
        "trade_no": f"{_now():%Y%m%d}22001{secrets.randbelow(10**15):015d}",
        "total_fen": total_fen,
        "subject": subject,
        "buyer_id": buyer_id,
        "buyer_field": buyer_field,
        "seller_id": content.get("seller_id") or call.app.ctx.settings.alipay.seller_id or SIM_SELLER_ID,
        "notify_url": call.params.get("notify_url", ""),
        "time_expire": _alipay_time(time_expire),
        "gmt_create": _alipay_time(_now()),
    }
    if not await cache.add(_trade_key(out_trade_no), jsonlib.dumps(trade, ensure_ascii=False), TRADE_TTL_SECONDS):
        # The same out_trade_no again: Alipay answers the open trade when nothing differs, and refuses otherwise.
        existing = await get_json(cache, _trade_key(out_trade_no))
        outcome = await _outcome(cache, existing)
        if outcome is not None and outcome["status"] == "paid":
            raise business_failed("ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
        if outcome is not None:
            raise business_failed("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
        if any(existing[name] != trade[name] for name in ("total_fen", "subject", "buyer_id", "seller_id")):
            raise business_failed("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
        trade = existing
    return {"code": "10000", "msg": "Success", "out_trade_no": out_trade_no, "trade_no": trade["trade_no"]}


async def _trade_query(call: GatewayCall) -> dict[str, Any]:
    cache = call.app.ctx.cache
    trade = await _existing_trade(cache, call.biz_content)
    status, outcome = await _trade_status(cache, trade)
    total = fen_to_yuan(trade["total_fen"])
    body = {
        "code": "10000",
        "msg": "Success",
        "trade_no": trade["trade_no"],
        "out_trade_no": trade["out_trade_no"],
        **_buyer(trade, "buyer_user_id"),
        "trade_status": status,
        "total_amount": total,
    }
    if outcome is not None and outcome["status"] == "paid":
        body.update(send_pay_date=outcome["at"], receipt_amount=total, buyer_pay_amount=total, invoice_amount=total)
    return body


async def _trade_close(call: GatewayCall) -> dict[str, Any]:
    cache = call.app.ctx.cache
    trade = await _existing_trade(cache, call.biz_content)
    # Only an open trade can be closed: paid, closed and expired ones are all "not in a state to close".
    if await _outcome(cache, trade) is not None or not await _add_outcome(cache, trade, "closed", _alipay_time(_now())):
        raise business_failed("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
    return {"code": "10000", "msg": "Success", "trade_no": trade["trade_no"], "out_trade_no": trade["out_trade_no"]}


def _refund_answer(trade: dict[str, Any], refunded_fen: int, *, fund_change: bool, at: str) -> dict[str, Any]:
    # refund_fee is the trade's refunded total, not this refund's amount (Alipay's definition).
    return {
        "code": "10000",
        "msg": "Success",
        "trade_no": trade["trade_no"],
        "out_trade_no": trade["out_trade_no"],
        **_buyer(trade, "buyer_user_id"),
        "fund_change": "Y" if fund_change else "N",
        "refund_fee": fen_to_yuan(refunded_fen),
        "gmt_refund_pay": at,
    }


async def _trade_refund(call: GatewayCall) -> dict[str, Any]:
    content, cache = call.biz_content, call.app.ctx.cache
    trade = await _existing_trade(cache, content)
    out_trade_no = trade["out_trade_no"]
    refund_fen = _amount_fen(content, "refund_amount")
    out_request_no = content.get("out_request_no") or out_trade_no  # Alipay's default: one refund, named as the trade
    if not re.fullmatch(MERCHANT_NO_PATTERN, out_request_no):
        raise business_failed("ACQ.INVALID_PARAMETER", "out_request_no 须为不超过 64 位的字母、数字或下划线")
    refund_key = _refund_key(out_trade_no, out_request_no)
    earlier = await get_json(cache, refund_key)
    if earlier is None:
        status, _ = await _trade_status(cache, trade)
        if status != "TRADE_SUCCESS":
            raise business_failed("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        # Counted first and taken back when over: two refunds at once can never together pass what was paid.
        refunded_fen = await cache.incr_if_exists(_refunded_key(out_trade_no), refund_fen)
        if refunded_fen is None:
            raise business_failed("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        if refunded_fen > trade["total_fen"]:
            await cache.incr_if_exists(_refunded_key(out_trade_no), -refund_fen)
            raise business_failed("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
        moment = _now()
        at = _alipay_time(moment)
        if await cache.add(refund_key, jsonlib.dumps({"refund_fen": refund_fen, "at": at}), TRADE_TTL_SECONDS):
            await _record_bill_line(
                cache,
                moment.date(),
                {
                    "kind": "退款",
                    "trade_no": trade["trade_no"],
                    "out_trade_no": out_trade_no,
                    "subject": trade["subject"],
                    "gmt_create": trade["gmt_create"],
                    "finished_at": at,
                    "buyer_id": trade["buyer_id"],
                    "amount_fen": refund_fen,
                    "out_request_no": out_request_no,
                },
            )
            return _refund_answer(trade, refunded_fen, fund_change=True, at=at)
        # The same out_request_no at the same moment: the other one refunded; this one takes its count back.
        await cache.incr_if_exists(_refunded_key(out_trade_no), -refund_fen)
        earlier = await get_json(cache, refund_key)
    if earlier["refund_fen"] != refund_fen:
        raise business_failed("ACQ.DISCORDANT_REPEAT_REQUEST", "退款请求号对应的退款金额与之前不一致")
    # A repeat of a refund already done: answered again, no money moves.
    refunded_fen = int(await cache.get(_refunded_key(out_trade_no)) or 0)
    return _refund_answer(trade, refunded_fen, fund_change=False, at=earlier["at"])


async def _refund_query(call: GatewayCall) -> dict[str, Any]:
    content, cache = call.biz_content, call.app.ctx.cache
    trade = await _existing_trade(cache, content)
    out_request_no = content.get("out_request_no") or trade["out_trade_no"]
    refund = await get_json(cache, _refund_key(trade["out_trade_no"], str(out_request_no)))
    if refund is None:
        # Alipay answers success with no refund fields for a refund it does not know.
        return {"code": "10000", "msg": "Success"}
    return {
        "code": "10000",
        "msg": "Success",
        "trade_no": trade["trade_no"],
        "out_trade_no": trade["out_trade_no"],
        "out_request_no": out_request_no,
        "total_amount": fen_to_yuan(trade["total_fen"]),
        "refund_amount": fen_to_yuan(refund["refund_fen"]),
        "refund_status": "REFUND_SUCCESS",
        "gmt_refund_pay": refund["at"],
    }


async def _bill_download_url(call: GatewayCall) -> dict[str, Any]:
    content = call.biz_content
    if content.get("bill_type") != "trade":
        raise invalid_argument("isv.invalid-arguments", "bill_type 仅支持 trade")
    bill_date = content.get("bill_date")
    if not isinstance(bill_date, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", bill_date):
        raise invalid_argument("isv.invalid-arguments", "bill_date 须为 yyyy-MM-dd（模拟器只提供日账单）")
    try:
        day = date.fromisoformat(bill_date)
    except ValueError:
        raise invalid_argument("isv.invalid-arguments", "bill_date 不是有效日期") from None
    if day > _now().date():
        raise business_failed("isp.bill_not_exist", "账单不存在")
    token = secrets.token_urlsafe(24)
    await call.app.ctx.cache.set(_bill_link_key(token), day.isoformat(), BILL_LINK_TTL_SECONDS)
    url = call.app.ctx.settings.app.public_base_url.rstrip("/") + f"/sim/alipay/bill/{token}"
    return {"code": "10000", "msg": "Success", "bill_download_url": url}


GATEWAY_METHODS: dict[str, GatewayMethod] = {
    "alipay.system.oauth.token": GatewayMethod(_oauth_token, errors_as_error_response=True),
    "alipay.open.app.mini.templatemessage.send": GatewayMethod(_template_message_send),
    "alipay.user.certify.open.initialize": GatewayMethod(_certify_initialize),
    "alipay.user.certify.open.query": GatewayMethod(_certify_query),
    "alipay.trade.create": GatewayMethod(_trade_create),
    "alipay.trade.query": GatewayMethod(_trade_query),
    "alipay.trade.close": GatewayMethod(_trade_close),
    "alipay.trade.refund": GatewayMethod(_trade_refund),
    "alipay.trade.fastpay.refund.query": GatewayMethod(_refund_query),
    "alipay.data.dataservice.bill.downloadurl.query": GatewayMethod(_bill_download_url),
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
    # The gateway reads `timestamp` as Beijing time and refuses one far from its clock (a host-time stamp on a
    # server in another zone is hours off).
    try:
        stamped = datetime.strptime(params.get("timestamp", ""), ALIPAY_TIME_FORMAT).replace(tzinfo=ALIPAY_TIMEZONE)
    except ValueError:
        raise missing_argument("isv.missing-timestamp", "缺少时间戳参数") from None
    if abs((stamped - datetime.now(ALIPAY_TIMEZONE)).total_seconds()) > TIMESTAMP_SKEW_SECONDS:
        raise invalid_argument("isv.invalid-timestamp", "非法的时间戳参数")


@doc(
    "模拟 my.getAuthCode：为 user_id（缺省时新建）签发一次性 auth_code，5 分钟有效",
    tag=TAG,
    body=AuthCodeIn,
    response=AuthCodeOut,
)
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


def notification_sign_content(params: dict[str, str]) -> str:
    """What a notification's sign covers: every parameter but sign and sign_type, empty ones too, sorted by name."""
    return "&".join(f"{name}={value}" for name, value in sorted(params.items()) if name not in ("sign", "sign_type"))


def sign_notification(settings: Settings, params: dict[str, str]) -> dict[str, str]:
    """The notification form as Alipay sends it: params plus sign_type RSA2 and a sign by the simulated Alipay."""
    sign = rsa2_sign(ensure_sim_keys(settings).alipay_platform.private_pem, notification_sign_content(params))
    return {**params, "sign_type": "RSA2", "sign": sign}


def trade_notification(settings: Settings, trade: dict[str, Any], *, paid_at: str) -> dict[str, str]:
    """The unsigned parameters of a trade's TRADE_SUCCESS notification."""
    total = fen_to_yuan(trade["total_fen"])
    return {
        "notify_time": _alipay_time(_now()),
        "notify_type": "trade_status_sync",
        "notify_id": secrets.token_hex(16),
        "app_id": settings.alipay.app_id,
        "charset": "utf-8",
        "version": "1.0",
        "trade_no": trade["trade_no"],
        "out_trade_no": trade["out_trade_no"],
        **_buyer(trade, "buyer_id"),
        "seller_id": trade["seller_id"],
        "trade_status": "TRADE_SUCCESS",
        "total_amount": total,
        "receipt_amount": total,
        "buyer_pay_amount": total,
        "invoice_amount": total,
        "subject": trade["subject"],
        "gmt_create": trade["gmt_create"],
        "gmt_payment": paid_at,
        "fund_bill_list": jsonlib.dumps([{"amount": total, "fundChannel": "ALIPAYACCOUNT"}], separators=(",", ":")),
    }


async def deliver_notification(url: str, form: dict[str, str], *, timeout_seconds: float) -> dict[str, Any]:
    """POST the form to url as Alipay does; delivered only when the answer is 200 and the text success."""
    if not url:
        return {"delivered": False, "status": None, "body": None}
    try:
        async with httpx.AsyncClient(timeout=timeout_seconds) as http:
            answer = await http.post(
                url,
                content=urlencode(form).encode("ascii"),
                headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            )
    except httpx.HTTPError as exc:
        log.info("sim alipay: notification to %s not delivered (%s)", url, exc.__class__.__name__)
        return {"delivered": False, "status": None, "body": None}
    text = answer.text[:2000]
    return {
        "delivered": answer.status_code == 200 and text.strip() == "success",
        "status": answer.status_code,
        "body": text,
    }


# Late notifications run after the helper answered; kept here so the event loop does not drop them half-way.
_late_deliveries: set[asyncio.Task] = set()


async def _deliver_late(url: str, form: dict[str, str], *, delay_ms: int, timeout_seconds: float) -> None:
    await asyncio.sleep(delay_ms / 1000)
    await deliver_notification(url, form, timeout_seconds=timeout_seconds)


@doc(
    "模拟买家用 my.tradePay 付款：交易变为 TRADE_SUCCESS，先把 RSA2 签名的异步通知 POST 到 notify_url 再应答"
    "（amount_fen：签名后篡改金额；sign=bad：伪造签名）",
    tag=TAG,
    body=PayIn,
    response=PayOut,
    errors=(400, 404, 409, 422),
)
async def pay_trade(request: Request):
    data = parse_body(request, PayIn)
    cache, settings = request.app.ctx.cache, request.app.ctx.settings
    trade = await get_json(cache, _trade_key(data.order_no))
    if trade is None:
        raise NotFound("模拟支付宝中没有这笔交易")
    # The refund counter first (add: never resets one), so a refund racing the payment finds it.
    await cache.add(_refunded_key(trade["out_trade_no"]), "0", TRADE_TTL_SECONDS)
    moment = _now()
    paid_at = _alipay_time(moment)
    if await _outcome(cache, trade) is not None or not await _add_outcome(cache, trade, "paid", paid_at):
        raise Conflict("这笔交易已支付、已关闭或已过期")
    await _record_bill_line(
        cache,
        moment.date(),
        {
            "kind": "交易",
            "trade_no": trade["trade_no"],
            "out_trade_no": trade["out_trade_no"],
            "subject": trade["subject"],
            "gmt_create": trade["gmt_create"],
            "finished_at": paid_at,
            "buyer_id": trade["buyer_id"],
            "amount_fen": trade["total_fen"],
            "out_request_no": "",
        },
    )
    form = sign_notification(settings, trade_notification(settings, trade, paid_at=paid_at))
    if data.sign == "bad":
        # Signed, but by a key that is not Alipay's: what a forger could make.
        sim_keys = ensure_sim_keys(settings)
        form["sign"] = rsa2_sign(sim_keys.alipay_app.private_pem, notification_sign_content(form))
    if data.amount_fen is not None:
        # Changed after signing, as a man in the middle would: the signature still covers the real amount.
        tampered = fen_to_yuan(data.amount_fen)
        form.update(total_amount=tampered, receipt_amount=tampered, buyer_pay_amount=tampered, invoice_amount=tampered)
    fault = await notify_fault(cache, "alipay")
    mode = fault.notify if fault is not None else None
    timeout_seconds = settings.platforms.timeout_seconds
    if mode == "never":
        return json({"delivered": False, "status": None, "body": None})
    if mode == "late":
        task = asyncio.create_task(
            _deliver_late(trade["notify_url"], form, delay_ms=fault.delay_ms, timeout_seconds=timeout_seconds)
        )
        _late_deliveries.add(task)
        task.add_done_callback(_late_deliveries.discard)
        return json({"delivered": False, "status": None, "body": None})
    result = await deliver_notification(trade["notify_url"], form, timeout_seconds=timeout_seconds)
    if mode == "twice":
        # Alipay may repeat a notification our service already answered: the second answer is the one shown.
        result = await deliver_notification(trade["notify_url"], form, timeout_seconds=timeout_seconds)
    return json(result)


def _bill_csv_line(line: dict[str, Any]) -> list[str]:
    refund = line["kind"] == "退款"
    amount = ("-" if refund else "") + fen_to_yuan(line["amount_fen"])
    buyer = line["buyer_id"][:4] + "****" + line["buyer_id"][-4:]
    # Identifiers end in a tab, as in Alipay's files, so spreadsheets keep them as text.
    return [
        line["trade_no"] + "\t",
        line["out_trade_no"] + "\t",
        line["kind"],
        line["subject"],
        line["gmt_create"],
        line["finished_at"],
        "",
        "",
        "",
        "",
        buyer,
        amount,
        amount,
        "0.00",
        "0.00",
        "0.00",
        "0.00",
        "0.00",
        "",
        "0.00",
        "0.00",
        line["out_request_no"] + "\t" if refund else "",
        "0.00",
        "0.00",
        "",
    ]


def bill_archive(seller_id: str, day: date, lines: list[dict[str, Any]], *, exported_at: datetime) -> bytes:
    """A day's trade bill as Alipay serves it: a zip of the detail and the summary CSV files, GBK-encoded."""
    payments = [line for line in lines if line["kind"] == "交易"]
    refunds = [line for line in lines if line["kind"] == "退款"]
    period = f"#起始日期：[{day:%Y年%m月%d日} 00:00:00]   终止日期：[{day + timedelta(days=1):%Y年%m月%d日} 00:00:00]"
    exported = f"#导出时间：[{exported_at:%Y年%m月%d日 %H:%M:%S}]"
    detail = io.StringIO()
    detail.write(f"#支付宝业务明细查询\n#账号：[{seller_id}0156]\n{period}\n")
    detail.write("#-----------------------------------------业务明细列表----------------------------------------\n")
    writer = csv.writer(detail, lineterminator="\n")
    writer.writerow(BILL_HEADER)
    writer.writerows(_bill_csv_line(line) for line in lines)
    detail.write("#-----------------------------------------业务明细列表结束------------------------------------\n")
    detail.write(f"#交易合计：{len(payments)}笔，退款合计：{len(refunds)}笔\n{exported}\n")
    paid_fen = sum(line["amount_fen"] for line in payments)
    refunded_fen = sum(line["amount_fen"] for line in refunds)
    summary = io.StringIO()
    summary.write(f"#支付宝业务汇总查询\n#账号：[{seller_id}0156]\n{period}\n")
    summary_writer = csv.writer(summary, lineterminator="\n")
    summary_writer.writerow(
        ("门店编号", "门店名称", "交易订单总笔数", "退款订单总笔数", "订单金额（元）", "商家实收（元）")
    )
    summary_writer.writerow(
        (
            "合计",
            "",
            len(payments),
            len(refunds),
            fen_to_yuan(paid_fen),
            ("-" if refunded_fen > paid_fen else "") + fen_to_yuan(abs(paid_fen - refunded_fen)),
        )
    )
    summary.write(f"#结束\n{exported}\n")
    name = f"{seller_id}_{day:%Y%m%d}"
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        # errors="replace": a subject GBK cannot write (an emoji) must not keep the whole bill from downloading.
        bundle.writestr(f"{name}_业务明细.csv", detail.getvalue().encode("gbk", errors="replace"))
        bundle.writestr(f"{name}_业务明细(汇总).csv", summary.getvalue().encode("gbk", errors="replace"))
    return archive.getvalue()


@doc(
    "模拟支付宝账单下载地址（alipay.data.dataservice.bill.downloadurl.query 给出，30 秒内有效）：zip 内 GBK 编码的 CSV",
    tag=TAG,
    errors=(404,),
)
async def download_bill(request: Request, token: str):
    cache, settings = request.app.ctx.cache, request.app.ctx.settings
    day_text = await cache.get(_bill_link_key(token))
    if day_text is None:
        raise NotFound("账单下载地址无效或已过期")
    day = date.fromisoformat(day_text)
    seller_id = settings.alipay.seller_id or SIM_SELLER_ID
    content = bill_archive(seller_id, day, await _bill_lines(cache, day), exported_at=_now())
    return raw(
        content,
        content_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{seller_id}_{day:%Y%m%d}.csv.zip"'},
    )


def add_routes(bp: Blueprint) -> None:
    """Mount the Alipay stand-in under /sim/alipay."""
    bp.add_route(issue_auth_code, "/alipay/auth_code", methods=["POST"], name="sim_alipay_auth_code")
    bp.add_route(set_id_mode, "/alipay/id-mode", methods=["POST"], name="sim_alipay_id_mode")
    bp.add_route(subscribe, "/alipay/subscribe", methods=["POST"], name="sim_alipay_subscribe")
    bp.add_route(gateway, "/alipay/gateway.do", methods=["POST"], name="sim_alipay_gateway")
    bp.add_route(certify_page, "/alipay/gateway.do", methods=["GET"], name="sim_alipay_certify_page")
    bp.add_route(scan_face, "/alipay/certify/face", methods=["POST"], name="sim_alipay_certify_face")
    bp.add_route(
        scan_face_as_claimed, "/alipay/certify/face-as-claimed", methods=["POST"], name="sim_alipay_certify_self"
    )
    bp.add_route(list_messages, "/alipay/messages", methods=["GET"], name="sim_alipay_messages")
    bp.add_route(clear_messages, "/alipay/messages", methods=["DELETE"], name="sim_alipay_clear_messages")
    bp.add_route(pay_trade, "/alipay/pay", methods=["POST"], name="sim_alipay_pay")
    bp.add_route(download_bill, "/alipay/bill/<token:str>", methods=["GET"], name="sim_alipay_bill")
