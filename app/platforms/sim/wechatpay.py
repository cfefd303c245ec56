"""The simulated WeChat Pay API v3 (api.mch.weixin.qq.com): it checks our request signatures, signs its answers,
keeps orders and refunds, sends signed and encrypted notifications and writes trade bills in WeChat Pay's format.

Every API call must carry our Authorization: WECHATPAY2-SHA256-RSA2048 over "METHOD\\nURL\\ntimestamp\\nnonce\\nbody\\n"
(URL: the path below /sim/wechatpay with its query string), by the simulated merchant key, with our mchid and
merchant serial number and a timestamp within 5 minutes; otherwise 401 SIGN_ERROR. Every answer is signed over
"timestamp\\nnonce\\nbody\\n": with the WeChat Pay public key when the request's Wechatpay-Serial names it (what
wechatpayv3 sends in public-key mode), with the platform certificate's key otherwise. Errors are WeChat Pay's
{"code", "message"} with its HTTP statuses. State lives in the app's cache under "sim:wechatpay:", so several workers
on Redis share it; the changes of one order are serialised by a short lock in the cache.

Helpers for tests and local development: POST /sim/wechatpay/pay (the user pays; the notification goes to the
order's notify_url before the helper answers; or a forger's notification, the order unpaid), signed_trade_notification
(a paid order's genuine notification, to replay), GET /sim/wechatpay/notifications (what was sent for an order), and
POST /sim/faults with platform "wechatpay" (errors, delays; notify twice / late / never; refund processing). Refunds
succeed at once and their notification follows in the background, after the answer, as WeChat Pay's does; under the
refund fault "processing" a new refund is answered PROCESSING, never notified, and succeeds when it is next queried
(GET /v3/refund/domestic/refunds/{out_refund_no}); under "abnormal" it is answered PROCESSING and is then ABNORMAL
(REFUND.ABNORMAL notified, queries say so) until apply-abnormal-refund sends it again (another debit card of the
payer's, its account and name decrypted with the key Wechatpay-Serial names, or the merchant's bank account), after
which it succeeds and REFUND.SUCCESS follows (a card of the payer's while the fault still says abnormal: ABNORMAL
again). WeChat Pay's own retries of an unanswered notification are not
simulated: the payments domain's queries are what catch a lost one.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import json as jsonlib
import logging
import re
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict, Field
from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse, json

from app.core.cache import Cache, get_json, set_json
from app.core.config import Settings
from app.core.errors import AppError, Conflict, NotFound
from app.core.http import parse_body, parse_query
from app.core.openapi import doc
from app.platforms.keys import ensure_sim_keys, load_private_key, rsa2_sign, rsa2_verify
from app.platforms.sim import inbox
from app.platforms.sim.faults import TAG, notify_fault, platform_fault, refund_fault
from app.platforms.sim.strict import insecure_notify_url, is_strict
from app.platforms.wechatpay import (
    SIGNATURE_TYPE,
    WECHATPAY_TIMEZONE,
    certificate_serial,
    rfc3339,
    sim_platform_certificate,
    sim_public_key_id,
)

log = logging.getLogger("app.platforms.sim.wechatpay")

PATH_PREFIX = "/sim/wechatpay"
ORDER_TTL_SECONDS = 30 * 86400
BILL_TTL_SECONDS = 30 * 86400
DOWNLOAD_TTL_SECONDS = 300
# WeChat Pay refuses a request signed further than this from its clock.
CLOCK_SKEW_SECONDS = 300
# WeChat Pay waits this long for our answer to a notification.
NOTIFY_TIMEOUT_SECONDS = 5.0
LOCK_TTL_SECONDS = 5
LOCK_WAIT_SECONDS = 5.0
LOCK_POLL_SECONDS = 0.01
OUT_TRADE_NO_PATTERN = r"^[0-9A-Za-z_\-*|]{6,32}$"
OUT_REFUND_NO = re.compile(r"[0-9A-Za-z_\-|*@]{1,64}")
PAID_STATES = frozenset({"SUCCESS", "REFUND"})
TRADE_STATE_DESC = {"NOTPAY": "订单未支付", "SUCCESS": "支付成功", "CLOSED": "订单已关闭", "REFUND": "转入退款"}
MAX_DESCRIPTION_BYTES = 127
MAX_REASON_CHARACTERS = 80
# What the simulated WeChat Pay charges: 0.60%, kept in 1/100000 yuan (the bill's unit for fees) so it stays integer.
FEE_UNITS_PER_FEN = 6

BILL_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
    "货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,"
    "商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
)
BILL_SUMMARY_HEADER = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
BILL_TYPES = {"ALL": ("paid", "refund"), "SUCCESS": ("paid",), "REFUND": ("refund",)}

Signer = Literal["public_key", "certificate"]
_AUTHORIZATION = re.compile(r"WECHATPAY2-SHA256-RSA2048\s+(.+)", re.DOTALL)
_AUTHORIZATION_PARAM = re.compile(r'(\w+)="([^"]*)"')


class ApiError(Exception):
    """A WeChat Pay error answer: HTTP status, code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


class SimBusy(AppError):
    """The order's lock stayed taken (another change of it hung)."""

    status_code = 503
    code = "SIM_BUSY"
    message = "模拟微信支付繁忙，请重试"


def param_error(message: str) -> ApiError:
    return ApiError(400, "PARAM_ERROR", message)


def system_error() -> ApiError:
    return ApiError(500, "SYSTEM_ERROR", "系统错误")


class PayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_no: str = Field(pattern=OUT_TRADE_NO_PATTERN, description="Our out_trade_no")
    amount_fen: int | None = Field(
        None,
        ge=0,
        strict=True,
        description="Say this amount in the notification instead of the order's "
        "(a tampered amount; the order itself keeps its own)",
    )
    sign: Literal["bad"] | None = Field(
        None,
        description='"bad": a forger\'s notification, signed by a key that is '
        "not WeChat Pay's; the order stays unpaid",
    )
    signer: Signer = Field("public_key", description="Which WeChat Pay key signs the notification")


class PayOut(BaseModel):
    delivered: bool = Field(description="Our notify URL answered 2xx (every time, when sent twice)")
    status: int | None = Field(description="Our last HTTP status; null when not sent yet (late), never or unreachable")


class NotificationsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_no: str = Field(pattern=OUT_TRADE_NO_PATTERN, description="Our out_trade_no")


class SentNotification(BaseModel):
    event_type: str
    out_refund_no: str | None
    delivered: bool
    status: int | None
    received_at: str


class NotificationsOut(BaseModel):
    items: list[SentNotification]


class WeChatPayAnswer(BaseModel):
    """WeChat Pay's answers are its own JSON, signed in the Wechatpay-* headers; errors are {"code", "message"}."""

    model_config = ConfigDict(extra="allow")


@dataclass(frozen=True)
class ApiCall:
    app: Sanic
    request: Request
    mchid: str  # whose signature verified

    @property
    def cache(self) -> Cache:
        return self.app.ctx.cache

    @property
    def settings(self) -> Settings:
        return self.app.ctx.settings

    def body(self) -> dict[str, Any]:
        """The JSON object of the request body."""
        try:
            data = jsonlib.loads(self.request.body or b"")
        except ValueError:
            raise param_error("请求体不是合法的 JSON") from None
        if not isinstance(data, dict):
            raise param_error("请求体必须是 JSON 对象")
        return data


@dataclass(frozen=True)
class Delivery:
    """One notification to send: where, what, signed how."""

    order_no: str
    notify_url: str
    event_type: str
    body: str
    signer: Signer = "public_key"
    forged: bool = False
    out_refund_no: str | None = None


# ---- signatures and encryption, as WeChat Pay makes them (also used by tests to build notifications) ----


def _signing_key(settings: Settings, signer: Signer) -> tuple[str, str]:
    """(serial, private PEM) of the simulated WeChat Pay key a signer names."""
    sim_keys = ensure_sim_keys(settings)
    if signer == "public_key":
        return sim_public_key_id(sim_keys.wechatpay_public_key.public_pem), sim_keys.wechatpay_public_key.private_pem
    return certificate_serial(sim_platform_certificate(settings)), sim_keys.wechatpay_platform.private_pem


def signature_headers(
    settings: Settings, body: str, *, signer: Signer = "public_key", timestamp: int | None = None, forged: bool = False
) -> dict[str, str]:
    """The Wechatpay-* headers of an answer or notification: SHA256withRSA over "timestamp\\nnonce\\nbody\\n"."""
    serial, private_pem = _signing_key(settings, signer)
    if forged:
        # Signed, but by a key that is not WeChat Pay's (our merchant key): what a forger could make.
        private_pem = ensure_sim_keys(settings).wechatpay_merchant.private_pem
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = secrets.token_hex(16).upper()
    return {
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Serial": serial,
        "Wechatpay-Signature-Type": SIGNATURE_TYPE,
        "Wechatpay-Signature": rsa2_sign(private_pem, f"{stamp}\n{nonce}\n{body}\n"),
        "Wechatpay-Timestamp": stamp,
    }


def encrypt_resource(apiv3_key: str, plaintext: str, *, original_type: str) -> dict[str, str]:
    """A notification resource: AEAD_AES_256_GCM under the APIv3 key, associated_data naming the resource type."""
    # WeChat Pay's nonce is 12 characters of text; its UTF-8 bytes are the GCM nonce.
    nonce = secrets.token_urlsafe(9)[:12]
    ciphertext = AESGCM(apiv3_key.encode("utf-8")).encrypt(
        nonce.encode("ascii"), plaintext.encode("utf-8"), original_type.encode("ascii")
    )
    return {
        "original_type": original_type,
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(ciphertext).decode("ascii"),
        "associated_data": original_type,
        "nonce": nonce,
    }


def notification_body(
    settings: Settings, *, event_type: str, resource: dict[str, Any], apiv3_key: str | None = None
) -> str:
    """The JSON text of a notification: the event and its resource encrypted under the APIv3 key."""
    original_type = "transaction" if event_type.startswith("TRANSACTION.") else "refund"
    summary = {
        "TRANSACTION.SUCCESS": "支付成功",
        "REFUND.SUCCESS": "退款成功",
        "REFUND.ABNORMAL": "退款异常",
        "REFUND.CLOSED": "退款关闭",
    }.get(event_type, event_type)
    plaintext = jsonlib.dumps(resource, ensure_ascii=False, separators=(",", ":"))
    notification = {
        "id": str(uuid.uuid4()),
        "create_time": rfc3339(_now()),
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": summary,
        "resource": encrypt_resource(apiv3_key or settings.wechatpay.apiv3_key, plaintext, original_type=original_type),
    }
    return jsonlib.dumps(notification, ensure_ascii=False, separators=(",", ":"))


def signed_notification(
    settings: Settings,
    *,
    event_type: str,
    resource: dict[str, Any],
    signer: Signer = "public_key",
    timestamp: int | None = None,
    forged: bool = False,
    apiv3_key: str | None = None,
) -> tuple[dict[str, str], bytes]:
    """(headers, body) of a notification exactly as WeChat Pay would POST it."""
    body = notification_body(settings, event_type=event_type, resource=resource, apiv3_key=apiv3_key)
    headers = {
        "Content-Type": "application/json",
        **signature_headers(settings, body, signer=signer, timestamp=timestamp, forged=forged),
    }
    return headers, body.encode("utf-8")


def _check_signature(request: Request) -> str:
    """The mchid of a request whose Authorization verifies with our merchant key; ApiError 401 otherwise."""
    settings: Settings = request.app.ctx.settings
    match = _AUTHORIZATION.fullmatch(request.headers.get("authorization", "").strip())
    if match is None:
        raise ApiError(401, "SIGN_ERROR", "Authorization 缺失或认证类型不是 WECHATPAY2-SHA256-RSA2048")
    params = dict(_AUTHORIZATION_PARAM.findall(match.group(1)))
    if not all(params.get(name) for name in ("mchid", "nonce_str", "signature", "timestamp", "serial_no")):
        raise ApiError(401, "SIGN_ERROR", "Authorization 缺少 mchid、nonce_str、signature、timestamp 或 serial_no")
    if params["mchid"] != settings.wechatpay.mchid:
        raise ApiError(401, "SIGN_ERROR", "商户号不存在")
    if params["serial_no"].upper() != settings.wechatpay.merchant_serial_no.upper():
        raise ApiError(401, "SIGN_ERROR", "商户证书序列号有误")
    stamp = params["timestamp"]
    if not (stamp.isascii() and stamp.isdigit()) or abs(time.time() - int(stamp)) > CLOCK_SKEW_SECONDS:
        raise ApiError(401, "SIGN_ERROR", "请求的时间戳已过期")
    try:
        body = (request.body or b"").decode("utf-8")
    except UnicodeDecodeError:
        raise param_error("请求体不是 UTF-8") from None
    url = request.path[len(PATH_PREFIX) :] + (f"?{request.query_string}" if request.query_string else "")
    message = f"{request.method}\n{url}\n{stamp}\n{params['nonce_str']}\n{body}\n"
    merchant_public_pem = ensure_sim_keys(settings).wechatpay_merchant.public_pem
    if not rsa2_verify(merchant_public_pem, message, params["signature"]):
        raise ApiError(401, "SIGN_ERROR", "签名错误，请检查签名串与商户API私钥是否匹配")
    return params["mchid"]


def _answer_signer(request: Request) -> Signer:
    # wechatpayv3 sends Wechatpay-Serial (its public key id) in public-key mode; a merchant without it is answered
    # with the platform certificate, as WeChat Pay does during the move from certificates to the public key.
    public_key_id = sim_public_key_id(ensure_sim_keys(request.app.ctx.settings).wechatpay_public_key.public_pem)
    return "public_key" if request.headers.get("wechatpay-serial") == public_key_id else "certificate"


def _signed_answer(request: Request, status: int, body: dict[str, Any] | None) -> HTTPResponse:
    # Signed over the exact bytes sent, so they are built here, never re-serialised by the framework.
    text = "" if body is None else jsonlib.dumps(body, ensure_ascii=False, separators=(",", ":"))
    headers = {
        "Request-ID": secrets.token_hex(16),
        **signature_headers(request.app.ctx.settings, text, signer=_answer_signer(request)),
    }
    if body is None:
        return HTTPResponse(status=status, headers=headers)
    return HTTPResponse(
        text.encode("utf-8"), status=status, headers=headers, content_type="application/json; charset=utf-8"
    )


async def _api(
    request: Request, handler: Callable[[ApiCall], Awaitable[tuple[int, dict[str, Any] | None]]]
) -> HTTPResponse:
    """Faults, our signature, the handler, and a signed answer (errors too)."""
    app = request.app
    try:
        if await platform_fault(app.ctx.cache, "wechatpay") is not None:
            raise system_error()
        call = ApiCall(app=app, request=request, mchid=_check_signature(request))
        status, body = await handler(call)
    except ApiError as error:
        status, body = error.status, {"code": error.code, "message": error.message}
    return _signed_answer(request, status, body)


# ---- state ----


def _now() -> datetime:
    return datetime.now(WECHATPAY_TIMEZONE)


def _order_key(mchid: str, out_trade_no: str) -> str:
    return f"sim:wechatpay:order:{mchid}:{out_trade_no}"


def _refund_key(mchid: str, out_refund_no: str) -> str:
    # The order a refund number belongs to: WeChat Pay finds a refund by its number alone.
    return f"sim:wechatpay:refund:{mchid}:{out_refund_no}"


def _bill_count_key(mchid: str, day: date) -> str:
    return f"sim:wechatpay:bill:{mchid}:{day.isoformat()}:count"


def _bill_entry_key(mchid: str, day: date, number: int) -> str:
    return f"sim:wechatpay:bill:{mchid}:{day.isoformat()}:{number}"


def _download_key(token: str) -> str:
    return f"sim:wechatpay:download:{token}"


@asynccontextmanager
async def _locked(cache: Cache, key: str) -> AsyncIterator[None]:
    """Hold the order's lock (a cache key with a short TTL, so a crashed holder frees it)."""
    lock_key = f"{key}:lock"
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while not await cache.add(lock_key, "1", LOCK_TTL_SECONDS):
        if time.monotonic() >= deadline:
            raise system_error()
        await asyncio.sleep(LOCK_POLL_SECONDS)
    try:
        yield
    finally:
        await cache.delete(lock_key)


async def _add_bill_entry(cache: Cache, mchid: str, moment: datetime, entry: dict[str, str]) -> None:
    day = moment.astimezone(WECHATPAY_TIMEZONE).date()
    number = await cache.incr(_bill_count_key(mchid, day), BILL_TTL_SECONDS)
    await set_json(cache, _bill_entry_key(mchid, day, number), entry, BILL_TTL_SECONDS)


async def _bill_entries(cache: Cache, mchid: str, day: date) -> list[dict[str, str]]:
    count = int(await cache.get(_bill_count_key(mchid, day)) or 0)
    found = await asyncio.gather(
        *(get_json(cache, _bill_entry_key(mchid, day, number)) for number in range(1, count + 1))
    )
    # A slot can be empty for a moment: numbered by one worker, not yet written.
    return [entry for entry in found if entry is not None]


def _transaction(order: dict[str, Any], *, amount_fen: int | None = None) -> dict[str, Any]:
    """The order as WeChat Pay shows it (query answer and TRANSACTION.SUCCESS resource)."""
    total = order["total"] if amount_fen is None else amount_fen
    data: dict[str, Any] = {
        "appid": order["appid"],
        "mchid": order["mchid"],
        "out_trade_no": order["out_trade_no"],
        "trade_type": "JSAPI",
        "trade_state": order["trade_state"],
        "trade_state_desc": TRADE_STATE_DESC[order["trade_state"]],
        "attach": "",
        "payer": {"openid": order["openid"]},
        "amount": {"total": total, "currency": "CNY"},
    }
    if order["trade_state"] in PAID_STATES:
        data.update(transaction_id=order["transaction_id"], bank_type="OTHERS", success_time=order["success_time"])
        data["amount"].update(payer_total=total, payer_currency="CNY")
    return data


def _refund_answer(order: dict[str, Any], refund: dict[str, Any]) -> dict[str, Any]:
    answer = {
        "refund_id": refund["refund_id"],
        "out_refund_no": refund["out_refund_no"],
        "transaction_id": order["transaction_id"],
        "out_trade_no": order["out_trade_no"],
        "channel": "ORIGINAL",
        "user_received_account": refund.get("user_received_account", "支付用户零钱"),
        "success_time": refund["success_time"],
        "create_time": refund["create_time"],
        "status": refund["status"],
        "funds_account": "AVAILABLE",
        "amount": {
            "total": order["total"],
            "refund": refund["refund"],
            "payer_total": order["total"],
            "payer_refund": refund["refund"],
            "settlement_total": order["total"],
            "settlement_refund": refund["refund"],
            "discount_refund": 0,
            "currency": "CNY",
        },
    }
    if answer["success_time"] is None:
        del answer["success_time"]  # WeChat Pay gives it only once the refund succeeded
    return answer


def _refund_resource(order: dict[str, Any], refund: dict[str, Any]) -> dict[str, Any]:
    return {
        "mchid": order["mchid"],
        "out_trade_no": order["out_trade_no"],
        "transaction_id": order["transaction_id"],
        "out_refund_no": refund["out_refund_no"],
        "refund_id": refund["refund_id"],
        "refund_status": refund["status"],
        "success_time": refund["success_time"],
        "user_received_account": refund.get("user_received_account", "支付用户零钱"),
        "amount": {
            "total": order["total"],
            "refund": refund["refund"],
            "payer_total": order["total"],
            "payer_refund": refund["refund"],
        },
    }


def _amount(value: Any, name: str, *, minimum: int = 1) -> int:
    # type() rather than isinstance(): JSON true is no amount.
    if type(value) is not int or value < minimum:
        raise param_error(f"{name} 必须是不小于 {minimum} 的整数（分）")
    return value


def _short_text(data: dict[str, Any], name: str, *, max_bytes: int) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value or len(value.encode("utf-8")) > max_bytes:
        raise param_error(f"{name} 必填，且不超过 {max_bytes} 字节")
    return value


# ---- notifications ----

# Notifications sent after the answer; kept here so the event loop does not drop them half-way.
_background: set[asyncio.Task] = set()


def _in_background(work: Awaitable[Any]) -> None:
    task = asyncio.ensure_future(work)
    _background.add(task)
    task.add_done_callback(_background.discard)


async def _send(app: Sanic, delivery: Delivery) -> int | None:
    """POST the notification (freshly signed, as each of WeChat Pay's attempts is); our HTTP status, or None."""
    headers = {
        "Content-Type": "application/json",
        **signature_headers(app.ctx.settings, delivery.body, signer=delivery.signer, forged=delivery.forged),
    }
    try:
        async with httpx.AsyncClient(timeout=NOTIFY_TIMEOUT_SECONDS) as http:
            answer = await http.post(delivery.notify_url, content=delivery.body.encode("utf-8"), headers=headers)
    except httpx.HTTPError as exc:
        log.info("sim wechatpay: notification to %s not delivered (%s)", delivery.notify_url, exc.__class__.__name__)
        status = None
    else:
        status = answer.status_code
    await inbox.record(
        app,
        "wechatpay",
        delivery.order_no,
        {
            "event_type": delivery.event_type,
            "out_refund_no": delivery.out_refund_no,
            "delivered": status is not None and 200 <= status < 300,
            "status": status,
        },
    )
    return status


async def _send_times(app: Sanic, delivery: Delivery, times: int, *, delay_ms: int = 0) -> tuple[bool, int | None]:
    if delay_ms:
        await asyncio.sleep(delay_ms / 1000)
    statuses = [await _send(app, delivery) for _ in range(times)]
    return all(status is not None and 200 <= status < 300 for status in statuses), statuses[-1]


async def _notify(app: Sanic, delivery: Delivery, *, wait: bool) -> tuple[bool, int | None]:
    """Send as the wechatpay notify fault says (once, twice, late or never); wait: before answering the caller."""
    fault = await notify_fault(app.ctx.cache, "wechatpay")
    mode = fault.notify if fault is not None else None
    if mode == "never":
        return False, None
    times = 2 if mode == "twice" else 1
    if mode == "late":
        _in_background(_send_times(app, delivery, times, delay_ms=fault.delay_ms if fault else 0))
        return False, None
    if not wait:
        _in_background(_send_times(app, delivery, times))
        return False, None
    return await _send_times(app, delivery, times)


# ---- the API ----


async def _prepay(call: ApiCall) -> tuple[int, dict[str, Any]]:
    data = call.body()
    settings = call.settings
    if data.get("mchid") != call.mchid or data.get("appid") != (settings.wechatpay.appid or settings.wechat.appid):
        raise ApiError(400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配")
    description = _short_text(data, "description", max_bytes=MAX_DESCRIPTION_BYTES)
    out_trade_no = data.get("out_trade_no")
    if not isinstance(out_trade_no, str) or not re.fullmatch(OUT_TRADE_NO_PATTERN, out_trade_no):
        raise param_error("out_trade_no 须为 6-32 位数字、大小写字母或 _-*|")
    notify_url = data.get("notify_url")
    if not isinstance(notify_url, str) or not re.fullmatch(r"https?://[^\s?#]+", notify_url):
        raise param_error("notify_url 须为不带参数的 http(s) 地址")
    if await is_strict(call.app.ctx.cache) and insecure_notify_url(notify_url):
        raise param_error("notify_url 须为 https 地址")
    amount, payer = data.get("amount"), data.get("payer")
    if not isinstance(amount, dict) or amount.get("currency", "CNY") != "CNY":
        raise param_error("amount 须为 {total, currency: CNY}")
    total = _amount(amount.get("total"), "amount.total")
    openid = payer.get("openid") if isinstance(payer, dict) else None
    if not isinstance(openid, str) or not openid:
        raise param_error("JSAPI 下单须有 payer.openid")
    time_expire = data.get("time_expire")
    if time_expire is not None:
        try:
            expires_at = datetime.fromisoformat(time_expire) if isinstance(time_expire, str) else None
        except ValueError:
            expires_at = None
        if expires_at is None or expires_at.tzinfo is None:
            raise param_error("time_expire 须为 RFC 3339 时间（如 2026-11-23T15:00:00+08:00）")
        if expires_at <= _now():
            raise param_error("time_expire 已过")
    key = _order_key(call.mchid, out_trade_no)
    async with _locked(call.cache, key):
        order = await get_json(call.cache, key)
        if order is not None:
            if order["trade_state"] in PAID_STATES:
                raise ApiError(400, "ORDERPAID", "该订单已支付")
            if order["trade_state"] == "CLOSED":
                raise ApiError(400, "ORDER_CLOSED", "该订单已关闭")
            if (order["total"], order["openid"], order["description"]) != (total, openid, description):
                raise ApiError(403, "OUT_TRADE_NO_USED", "商户订单号重复")
            # The same order asked again: the same prepay_id, as WeChat Pay answers.
            return 200, {"prepay_id": order["prepay_id"]}
        now = _now()
        order = {
            "appid": data["appid"],
            "mchid": call.mchid,
            "out_trade_no": out_trade_no,
            "description": description,
            "total": total,
            "openid": openid,
            "notify_url": notify_url,
            "time_expire": time_expire,
            "trade_state": "NOTPAY",
            "created_at": rfc3339(now),
            "prepay_id": f"wx{now:%d%H%M%S}{secrets.token_hex(13)}",
            "transaction_id": "",
            "success_time": None,
            "refunded": 0,
            "refunds": {},
        }
        await set_json(call.cache, key, order, ORDER_TTL_SECONDS)
    return 200, {"prepay_id": order["prepay_id"]}


def _path_order_no(call: ApiCall) -> str:
    out_trade_no = call.request.match_info.get("out_trade_no", "")
    if not re.fullmatch(OUT_TRADE_NO_PATTERN, out_trade_no):
        raise param_error("out_trade_no 格式有误")
    return out_trade_no


async def _query(call: ApiCall) -> tuple[int, dict[str, Any]]:
    if call.request.args.get("mchid") != call.mchid:
        raise param_error("mchid 须为请求方的商户号")
    order = await get_json(call.cache, _order_key(call.mchid, _path_order_no(call)))
    if order is None:
        raise ApiError(404, "ORDER_NOT_EXIST", "订单不存在")
    return 200, _transaction(order)


async def _close(call: ApiCall) -> tuple[int, None]:
    if call.body().get("mchid") != call.mchid:
        raise param_error("mchid 须为请求方的商户号")
    key = _order_key(call.mchid, _path_order_no(call))
    async with _locked(call.cache, key):
        order = await get_json(call.cache, key)
        if order is None:
            raise ApiError(404, "ORDER_NOT_EXIST", "订单不存在")
        if order["trade_state"] in PAID_STATES:
            raise ApiError(400, "ORDERPAID", "订单已支付，不能关闭")
        if order["trade_state"] != "CLOSED":
            order["trade_state"] = "CLOSED"
            await set_json(call.cache, key, order, ORDER_TTL_SECONDS)
    return 204, None


async def _refund(call: ApiCall) -> tuple[int, dict[str, Any]]:
    data = call.body()
    out_refund_no, out_trade_no = data.get("out_refund_no"), data.get("out_trade_no")
    if not isinstance(out_refund_no, str) or not OUT_REFUND_NO.fullmatch(out_refund_no):
        raise param_error("out_refund_no 须为 1-64 位数字、大小写字母或 _-|*@")
    if not isinstance(out_trade_no, str) or not re.fullmatch(OUT_TRADE_NO_PATTERN, out_trade_no):
        raise param_error("须有 out_trade_no（模拟器不按 transaction_id 退款）")
    amount = data.get("amount")
    if not isinstance(amount, dict) or amount.get("currency", "CNY") != "CNY":
        raise param_error("amount 须为 {refund, total, currency: CNY}")
    refund_fen, total = _amount(amount.get("refund"), "amount.refund"), _amount(amount.get("total"), "amount.total")
    reason = data.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON_CHARACTERS):
        raise param_error(f"reason 不超过 {MAX_REASON_CHARACTERS} 个字符")
    notify_url = data.get("notify_url")
    if notify_url is not None and (
        not isinstance(notify_url, str) or not re.fullmatch(r"https?://[^\s?#]+", notify_url)
    ):
        raise param_error("notify_url 须为不带参数的 http(s) 地址")
    key = _order_key(call.mchid, out_trade_no)
    async with _locked(call.cache, key):
        order = await get_json(call.cache, key)
        if order is None:
            raise ApiError(404, "RESOURCE_NOT_EXISTS", "订单不存在")
        existing = order["refunds"].get(out_refund_no)
        if existing is not None:
            if existing["refund"] != refund_fen:
                raise ApiError(400, "INVALID_REQUEST", "退款单号已用于金额不同的退款")
            # The same refund asked again: the same refund, nothing moves twice.
            return 200, _refund_answer(order, existing)
        if order["trade_state"] not in PAID_STATES:
            raise ApiError(400, "INVALID_REQUEST", "订单未支付，不能退款")
        if total != order["total"]:
            raise param_error("订单金额与原订单不一致")
        if refund_fen > order["total"] - order["refunded"]:
            raise param_error("申请退款金额超过订单可退金额")
        # A refund number is the merchant's one refund (the query finds it by the number alone), never two orders'.
        refund_key = _refund_key(call.mchid, out_refund_no)
        if (
            not await call.cache.add(refund_key, out_trade_no, ORDER_TTL_SECONDS)
            and await call.cache.get(refund_key) != out_trade_no
        ):
            raise ApiError(400, "INVALID_REQUEST", "退款单号已用于另一笔订单")
        now = _now()
        mode = await refund_fault(call.cache, "wechatpay")
        processing, abnormal = mode == "processing", mode == "abnormal"
        refund = {
            "refund_id": f"503{secrets.randbelow(10**26):026d}",
            "out_refund_no": out_refund_no,
            "refund": refund_fen,
            "reason": reason or "",
            # Abnormal: the bank sends the money back at once (the payer's card is closed); the call itself was
            # accepted, so its answer still says PROCESSING.
            "status": "PROCESSING" if processing else "ABNORMAL" if abnormal else "SUCCESS",
            "create_time": rfc3339(now),
            "success_time": None if processing or abnormal else rfc3339(now),
            "notify_url": notify_url or "",
            "user_received_account": "支付用户零钱",
        }
        # Held from the refundable amount at once, processing or not, as WeChat Pay holds it.
        order["refunds"][out_refund_no] = refund
        order["refunded"] += refund_fen
        order["trade_state"] = "REFUND"
        await set_json(call.cache, key, order, ORDER_TTL_SECONDS)
        # Billed on the day it was accepted, whatever becomes of it (the line shows its state when the bill is made).
        await _add_bill_entry(
            call.cache,
            call.mchid,
            now,
            {"kind": "refund", "out_trade_no": out_trade_no, "out_refund_no": out_refund_no},
        )
    if not processing:
        await _notify_refund(call, order, refund)
    return 200, _refund_answer(order, {**refund, "status": "PROCESSING"} if abnormal else refund)


async def _notify_refund(call: ApiCall, order: dict[str, Any], refund: dict[str, Any]) -> None:
    """REFUND.SUCCESS or REFUND.ABNORMAL to the refund's notify_url (if it gave one), after the answer."""
    if not refund.get("notify_url"):
        return
    event_type = f"REFUND.{refund['status']}"
    await _notify(
        call.app,
        Delivery(
            order_no=order["out_trade_no"],
            notify_url=refund["notify_url"],
            event_type=event_type,
            out_refund_no=refund["out_refund_no"],
            body=notification_body(call.settings, event_type=event_type, resource=_refund_resource(order, refund)),
        ),
        wait=False,
    )


async def _query_refund(call: ApiCall) -> tuple[int, dict[str, Any]]:
    out_refund_no = call.request.match_info.get("out_refund_no", "")
    if not OUT_REFUND_NO.fullmatch(out_refund_no):
        raise param_error("out_refund_no 须为 1-64 位数字、大小写字母或 _-|*@")
    out_trade_no = await call.cache.get(_refund_key(call.mchid, out_refund_no))
    if out_trade_no is None:
        raise ApiError(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
    key = _order_key(call.mchid, out_trade_no)
    async with _locked(call.cache, key):
        order = await get_json(call.cache, key)
        refund = order["refunds"].get(out_refund_no) if order is not None else None
        if refund is None:
            raise ApiError(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
        if refund["status"] == "PROCESSING":
            # The refund fault's open refund finishes now, so the query that looks is the one that finds it done;
            # its notification stays lost.
            refund.update(status="SUCCESS", success_time=rfc3339(_now()))
            await set_json(call.cache, key, order, ORDER_TTL_SECONDS)
    return 200, _refund_answer(order, refund)


# The banks whose debit cards an abnormal refund may go to (WeChat Pay's bank types).
ABNORMAL_REFUND_BANKS = frozenset(
    {
        "CMB_DEBIT",
        "COMM_DEBIT",
        "ABC_DEBIT",
        "CCB_DEBIT",
        "ICBC_DEBIT",
        "BOC_DEBIT",
        "PAB_DEBIT",
        "SPDB_DEBIT",
        "CITIC_DEBIT",
        "CEB_DEBIT",
        "CMBC_DEBIT",
        "CIB_DEBIT",
        "GDB_DEBIT",
        "PSBC_DEBIT",
        "NBCB_DEBIT",
    }
)


def _decrypted(request: Request, data: dict[str, Any], name: str) -> str:
    """A sensitive field, decrypted with the private half of the key the request's Wechatpay-Serial names (the WeChat
    Pay public key or the platform certificate): RSA-OAEP with SHA-1, base64; PARAM_ERROR when it does not decrypt."""
    settings: Settings = request.app.ctx.settings
    sim_keys = ensure_sim_keys(settings)
    serial = request.headers.get("wechatpay-serial", "")
    if serial == sim_public_key_id(sim_keys.wechatpay_public_key.public_pem):
        private_pem = sim_keys.wechatpay_public_key.private_pem
    elif serial.upper() == certificate_serial(sim_platform_certificate(settings)):
        private_pem = sim_keys.wechatpay_platform.private_pem
    else:
        raise param_error("Wechatpay-Serial 须为加密敏感字段所用的微信支付公钥 ID 或平台证书序列号")
    value = data.get(name)
    try:
        plain = load_private_key(private_pem).decrypt(
            base64.b64decode(value, validate=True),
            padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None),
        )
        return plain.decode("utf-8")
    except (TypeError, ValueError, UnicodeDecodeError):
        raise param_error(f"{name} 须用微信支付公钥（或平台证书）加密") from None


async def _apply_abnormal_refund(call: ApiCall) -> tuple[int, dict[str, Any]]:
    """发起异常退款: an ABNORMAL refund sent again, to another debit card of the payer's or to the merchant's bank
    account; accepted as PROCESSING, it succeeds at once and REFUND.SUCCESS follows the answer (to the payer's card
    under the refund fault "abnormal": ABNORMAL again, and REFUND.ABNORMAL)."""
    refund_id = call.request.match_info.get("refund_id", "")
    data = call.body()
    out_refund_no, kind = data.get("out_refund_no"), data.get("type")
    if not isinstance(out_refund_no, str) or not OUT_REFUND_NO.fullmatch(out_refund_no):
        raise param_error("out_refund_no 须为 1-64 位数字、大小写字母或 _-|*@")
    if kind not in ("USER_BANK_CARD", "MERCHANT_BANK_CARD"):
        raise param_error("type 须为 USER_BANK_CARD 或 MERCHANT_BANK_CARD")
    if kind == "USER_BANK_CARD":
        if data.get("bank_type") not in ABNORMAL_REFUND_BANKS:
            raise param_error("退款至用户银行卡须有 bank_type，且仅支持所列银行的借记卡")
        account, name = _decrypted(call.request, data, "bank_account"), _decrypted(call.request, data, "real_name")
        if not re.fullmatch(r"[0-9]{12,30}", account) or not name.strip():
            raise param_error("bank_account 须为银行卡号，real_name 须为收款用户姓名")
        received = f"{data['bank_type'].removesuffix('_DEBIT')}借记卡{account[-4:]}"
    else:
        received = "商户银行账户"
    out_trade_no = await call.cache.get(_refund_key(call.mchid, out_refund_no))
    if out_trade_no is None:
        raise ApiError(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
    key = _order_key(call.mchid, out_trade_no)
    async with _locked(call.cache, key):
        order = await get_json(call.cache, key)
        refund = order["refunds"].get(out_refund_no) if order is not None else None
        if refund is None or refund["refund_id"] != refund_id:
            raise ApiError(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
        if refund["status"] != "ABNORMAL":
            raise ApiError(400, "INVALID_REQUEST", "退款单状态不是退款异常，不能发起异常退款")
        # While the refund fault still says abnormal, the payer's other card fails too; our own account never does.
        again = kind == "USER_BANK_CARD" and await refund_fault(call.cache, "wechatpay") == "abnormal"
        if again:
            refund.update(user_received_account=received)
        else:
            refund.update(status="SUCCESS", success_time=rfc3339(_now()), user_received_account=received)
        await set_json(call.cache, key, order, ORDER_TTL_SECONDS)
    await _notify_refund(call, order, refund)
    return 200, _refund_answer(order, {**refund, "status": "PROCESSING", "success_time": None})


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _fee(units: int) -> str:
    sign = "-" if units < 0 else ""
    return f"{sign}{abs(units) // 100000}.{abs(units) % 100000:05d}"


def _bill_time(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(WECHATPAY_TIMEZONE).strftime("%Y-%m-%d %H:%M:%S")


def _bill_line(fields: list[str]) -> str:
    # Every field behind a backtick; a backtick inside one would end it early, so none is left in.
    return ",".join("`" + field.replace("`", "'") for field in fields)


def trade_bill(orders: dict[str, dict[str, Any]], entries: list[dict[str, str]], kinds: tuple[str, ...]) -> str:
    """The trade bill text of these entries, in WeChat Pay's format: header, lines, summary header, summary (its
    总交易单数 counting every line). A refund is on the day it was accepted, in the state it is in now."""
    lines, settled, refunded, fees, ordered, asked = [], 0, 0, 0, 0, 0
    for entry in entries:
        order = orders.get(entry["out_trade_no"])
        if order is None or entry["kind"] not in kinds:
            continue
        common = [
            order["appid"],
            order["mchid"],
            "0",
            "",
            order["transaction_id"],
            order["out_trade_no"],
            order["openid"],
            "JSAPI",
        ]
        if entry["kind"] == "paid":
            total, fee = order["total"], order["total"] * FEE_UNITS_PER_FEN
            lines.append(
                _bill_line(
                    [
                        _bill_time(order["success_time"]),
                        *common,
                        "SUCCESS",
                        "OTHERS",
                        "CNY",
                        _yuan(total),
                        "0.00",
                        "0",
                        "0",
                        "0.00",
                        "0.00",
                        "",
                        "",
                        order["description"],
                        "",
                        _fee(fee),
                        "0.60%",
                        _yuan(total),
                        "0.00",
                        "",
                    ]
                )
            )
            settled, ordered, fees = settled + total, ordered + total, fees + fee
        else:
            refund = order["refunds"][entry["out_refund_no"]]
            amount, fee = refund["refund"], -refund["refund"] * FEE_UNITS_PER_FEN
            lines.append(
                _bill_line(
                    [
                        _bill_time(refund["create_time"]),  # when it was accepted, not when it succeeded
                        *common,
                        "REFUND",
                        "OTHERS",
                        "CNY",
                        _yuan(order["total"]),
                        "0.00",
                        refund["refund_id"],
                        refund["out_refund_no"],
                        _yuan(amount),
                        "0.00",
                        "ORIGINAL",
                        refund["status"],
                        order["description"],
                        "",
                        _fee(fee),
                        "0.60%",
                        _yuan(order["total"]),
                        _yuan(amount),
                        "",
                    ]
                )
            )
            refunded, asked, fees = refunded + amount, asked + amount, fees + fee
    summary = _bill_line(
        [str(len(lines)), _yuan(settled), _yuan(refunded), "0.00", _fee(fees), _yuan(ordered), _yuan(asked)]
    )
    return "\r\n".join([BILL_HEADER, *lines, BILL_SUMMARY_HEADER, summary]) + "\r\n"


async def _tradebill(call: ApiCall) -> tuple[int, dict[str, Any]]:
    args = call.request.args
    try:
        day = date.fromisoformat(args.get("bill_date") or "")
    except ValueError:
        raise param_error("bill_date 须为 yyyy-MM-DD") from None
    bill_type, tar_type = args.get("bill_type") or "ALL", args.get("tar_type")
    if bill_type not in BILL_TYPES or tar_type not in (None, "GZIP"):
        raise param_error("bill_type 须为 ALL、SUCCESS 或 REFUND，tar_type 须为 GZIP 或不填")
    # Today's bill too (WeChat Pay has it after 10:00 the next day): so a test or a developer can reconcile at once.
    if day > _now().date():
        raise ApiError(400, "INVALID_REQUEST", "账单日期不能晚于今天")
    entries = await _bill_entries(call.cache, call.mchid, day)
    order_nos = sorted({entry["out_trade_no"] for entry in entries})
    found = await asyncio.gather(*(get_json(call.cache, _order_key(call.mchid, no)) for no in order_nos))
    orders = {no: order for no, order in zip(order_nos, found, strict=True) if order is not None}
    if not any(entry["kind"] in BILL_TYPES[bill_type] and entry["out_trade_no"] in orders for entry in entries):
        raise ApiError(400, "NO_STATEMENT_EXIST", "账单文件不存在")
    text = trade_bill(orders, entries, BILL_TYPES[bill_type])
    token = secrets.token_urlsafe(24)
    await set_json(call.cache, _download_key(token), {"bill": text, "gzip": tar_type == "GZIP"}, DOWNLOAD_TTL_SECONDS)
    # On the host the request came to, as WeChat Pay names its own; the hash is of the bill, not of its gzip.
    base = f"{call.request.scheme}://{call.request.host}{PATH_PREFIX}"
    return 200, {
        "hash_type": "SHA1",
        "hash_value": hashlib.sha1(text.encode("utf-8")).hexdigest(),
        "download_url": f"{base}/v3/billdownload/file?token={token}",
    }


# ---- routes ----


@doc(
    "模拟微信支付 JSAPI 下单（/v3/pay/transactions/jsapi，验我方签名，应答经模拟微信支付签名）",
    tag=TAG,
    response=WeChatPayAnswer,
    errors=(),
)
async def api_jsapi(request: Request):
    return await _api(request, _prepay)


@doc("模拟微信支付按商户订单号查询订单", tag=TAG, response=WeChatPayAnswer, errors=())
async def api_query(request: Request, out_trade_no: str):
    return await _api(request, _query)


@doc("模拟微信支付关闭订单（204；已关闭的再关也是 204，已支付的 400 ORDERPAID）", tag=TAG, errors=())
async def api_close(request: Request, out_trade_no: str):
    return await _api(request, _close)


@doc(
    "模拟微信支付申请退款（立即成功，有 notify_url 时应答后发 REFUND.SUCCESS 通知；refund 故障 processing 时处理中、"
    "不通知）",
    tag=TAG,
    response=WeChatPayAnswer,
    errors=(),
)
async def api_refund(request: Request):
    return await _api(request, _refund)


@doc(
    "模拟微信支付按商户退款单号查询退款（处理中的退款此时成功；没有的退款单 404 RESOURCE_NOT_EXISTS）",
    tag=TAG,
    response=WeChatPayAnswer,
    errors=(),
)
async def api_query_refund(request: Request, out_refund_no: str):
    return await _api(request, _query_refund)


@doc(
    "模拟微信支付发起异常退款（仅退款异常的退款；退至用户银行卡时解密 bank_account、real_name；受理为处理中，随即成功，"
    "应答后发 REFUND.SUCCESS 通知）",
    tag=TAG,
    response=WeChatPayAnswer,
    errors=(),
)
async def api_apply_abnormal_refund(request: Request, refund_id: str):
    return await _api(request, _apply_abnormal_refund)


@doc("模拟微信支付申请交易账单（当天的账单也给）", tag=TAG, response=WeChatPayAnswer, errors=())
async def api_tradebill(request: Request):
    return await _api(request, _tradebill)


@doc("模拟微信支付下载账单文件（验我方签名；文件本身不签名，由账单应答中的 SHA1 校验）", tag=TAG, errors=())
async def api_billdownload(request: Request):
    try:
        if await platform_fault(request.app.ctx.cache, "wechatpay") is not None:
            raise system_error()
        _check_signature(request)
        stored = await get_json(request.app.ctx.cache, _download_key(request.args.get("token") or ""))
        if stored is None:
            raise ApiError(400, "INVALID_REQUEST", "下载链接已失效")
    except ApiError as error:
        return _signed_answer(request, error.status, {"code": error.code, "message": error.message})
    data = stored["bill"].encode("utf-8")
    if stored["gzip"]:
        return HTTPResponse(gzip.compress(data, mtime=0), content_type="application/x-gzip")
    return HTTPResponse(data, content_type="text/plain; charset=utf-8")


@doc(
    "模拟用户完成微信支付：订单变为 SUCCESS，先把签名并加密的 TRANSACTION.SUCCESS 通知 POST 到 notify_url 再应答"
    "（amount_fen：通知里改金额；sign=bad：伪造者的通知，订单不变；signer：用公钥或平台证书签名）",
    tag=TAG,
    body=PayIn,
    response=PayOut,
    errors=(400, 404, 409, 422),
)
async def pay_order(request: Request):
    data = parse_body(request, PayIn)
    app, cache, settings = request.app, request.app.ctx.cache, request.app.ctx.settings
    key = _order_key(settings.wechatpay.mchid, data.order_no)
    if data.sign == "bad":
        order = await get_json(cache, key)
        if order is None:
            raise NotFound("模拟微信支付中没有这笔订单")
        # A forger's notification: WeChat Pay saw no payment, so the order stays as it is, and may still be paid.
        order = {
            **order,
            "trade_state": "SUCCESS",
            "success_time": rfc3339(_now()),
            "transaction_id": order["transaction_id"] or f"4200{secrets.randbelow(10**24):024d}",
        }
    else:
        order = await _pay(cache, key)
    delivered, status = await _notify(
        app,
        Delivery(
            order_no=order["out_trade_no"],
            notify_url=order["notify_url"],
            event_type="TRANSACTION.SUCCESS",
            body=notification_body(
                settings, event_type="TRANSACTION.SUCCESS", resource=_transaction(order, amount_fen=data.amount_fen)
            ),
            signer=data.signer,
            forged=data.sign == "bad",
        ),
        wait=True,
    )
    return json({"delivered": delivered, "status": status})


async def _pay(cache: Cache, key: str) -> dict[str, Any]:
    """The user pays the order: SUCCESS, with its transaction id and time, and a line in the day's bill."""
    try:
        async with _locked(cache, key):
            order = await get_json(cache, key)
            if order is None:
                raise NotFound("模拟微信支付中没有这笔订单")
            if order["trade_state"] != "NOTPAY":
                raise Conflict("这笔订单已支付或已关闭")
            if order["time_expire"] and datetime.fromisoformat(order["time_expire"]) <= _now():
                raise Conflict("这笔订单已过支付期限")
            now = _now()
            order.update(
                trade_state="SUCCESS", success_time=rfc3339(now), transaction_id=f"4200{secrets.randbelow(10**24):024d}"
            )
            await set_json(cache, key, order, ORDER_TTL_SECONDS)
            await _add_bill_entry(cache, order["mchid"], now, {"kind": "paid", "out_trade_no": order["out_trade_no"]})
    except ApiError:
        raise SimBusy() from None
    return order


async def signed_trade_notification(
    app: Sanic, order_no: str, *, signer: Signer = "public_key"
) -> tuple[dict[str, str], bytes]:
    """(headers, body) of a paid order's TRANSACTION.SUCCESS notification as WeChat Pay sends it (tests replay it)."""
    settings = app.ctx.settings
    order = await get_json(app.ctx.cache, _order_key(settings.wechatpay.mchid, order_no))
    if order is None or order["trade_state"] not in PAID_STATES:
        raise LookupError(f"the simulated WeChat Pay has no paid order {order_no}")
    return signed_notification(
        settings,
        event_type="TRANSACTION.SUCCESS",
        signer=signer,
        resource=_transaction({**order, "trade_state": "SUCCESS"}),
    )


@doc(
    "测试辅助：模拟微信支付为某订单发出的通知（按发出的顺序）",
    tag=TAG,
    query=NotificationsQuery,
    response=NotificationsOut,
)
async def list_notifications(request: Request):
    query = parse_query(request, NotificationsQuery)
    return json({"items": await inbox.messages(request.app, "wechatpay", query.order_no)})


def add_routes(bp: Blueprint) -> None:
    """Mount the WeChat Pay stand-in under /sim/wechatpay."""
    bp.add_route(api_jsapi, "/wechatpay/v3/pay/transactions/jsapi", methods=["POST"], name="sim_wechatpay_jsapi")
    bp.add_route(
        api_query,
        "/wechatpay/v3/pay/transactions/out-trade-no/<out_trade_no:str>",
        methods=["GET"],
        name="sim_wechatpay_query",
    )
    bp.add_route(
        api_close,
        "/wechatpay/v3/pay/transactions/out-trade-no/<out_trade_no:str>/close",
        methods=["POST"],
        name="sim_wechatpay_close",
    )
    bp.add_route(api_refund, "/wechatpay/v3/refund/domestic/refunds", methods=["POST"], name="sim_wechatpay_refund")
    bp.add_route(
        api_query_refund,
        "/wechatpay/v3/refund/domestic/refunds/<out_refund_no:str>",
        methods=["GET"],
        name="sim_wechatpay_query_refund",
    )
    bp.add_route(
        api_apply_abnormal_refund,
        "/wechatpay/v3/refund/domestic/refunds/<refund_id:str>/apply-abnormal-refund",
        methods=["POST"],
        name="sim_wechatpay_apply_abnormal_refund",
    )
    bp.add_route(api_tradebill, "/wechatpay/v3/bill/tradebill", methods=["GET"], name="sim_wechatpay_tradebill")
    bp.add_route(
        api_billdownload, "/wechatpay/v3/billdownload/file", methods=["GET"], name="sim_wechatpay_billdownload"
    )
    bp.add_route(pay_order, "/wechatpay/pay", methods=["POST"], name="sim_wechatpay_pay")
    bp.add_route(list_notifications, "/wechatpay/notifications", methods=["GET"], name="sim_wechatpay_notifications")
