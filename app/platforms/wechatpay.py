"""WeChat Pay API v3 as a payment provider through wechatpayv3: JSAPI orders for the mini-program (paid with
wx.requestPayment), verified and decrypted notifications, query, close, refund, refund query and the daily
trade bill.

wechatpayv3 signs every request with the merchant key (WECHATPAY2-SHA256-RSA2048), verifies every answer and every
notification with the WeChat Pay public key or the platform certificate that Wechatpay-Serial names, decrypts
notification resources (AEAD_AES_256_GCM under the APIv3 key) and computes wx.requestPayment's paySign. Two things
change around it: its gateway (hard-coded to api.mch.weixin.qq.com) is our configured base URL, and platform
certificates come from configuration only, never downloaded (PinnedCore). The SDK is synchronous: every call runs on
SdkExecutor threads. Money is integer fen here and in WeChat Pay's JSON; only the bill writes yuan ("12.50"), read
exactly, without float.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.core import Core

from app.core.cache import Cache
from app.core.config import PROJECT_ROOT, ConfigError, Settings
from app.core.errors import AppError
from app.platforms import PlatformError, PlatformUnavailable
from app.platforms.executor import SdkExecutor
from app.platforms.keys import (
    ensure_sim_keys,
    load_private_key,
    load_public_key,
    public_pem_of,
    self_signed_certificate,
)
from app.platforms.payment_types import (
    Acknowledgement,
    BadNotification,
    BillRow,
    Notification,
    RefundState,
    RefundStatus,
    SignatureProbe,
    TradeState,
    TradeStatus,
    Verdict,
)
from app.platforms.wechat import platform_base_url

log = logging.getLogger("app.platforms.wechatpay")
Result = TypeVar("Result")

LIVE_API_BASE_URL = "https://api.mch.weixin.qq.com/"
# The payments domain's callback route (API.md); settings.wechatpay.notify_url overrides it.
NOTIFY_PATH = "/api/v1/pay/notify/wechat"
# WeChat Pay's clock is Beijing time: time_expire, success_time and bill dates are all in it.
WECHATPAY_TIMEZONE = ZoneInfo("Asia/Shanghai")
CURRENCY = "CNY"
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
# A notification signed longer ago (or further ahead) than this is refused: a replay, or a clock gone wrong.
NOTIFICATION_MAX_AGE_SECONDS = 300
# WeChat Pay signs some notifications wrongly on purpose, with a signature starting so, to see that merchants verify.
SIGNATURE_PROBE_PREFIX = "WECHATPAY/SIGNTEST/"
SIM_CERTIFICATE_NAME = "WeChat Pay simulator platform certificate"
SIM_PUBLIC_KEY_ID_PREFIX = "PUB_KEY_ID_"

TRADE_STATUSES: dict[str, TradeStatus] = {
    "SUCCESS": "paid",
    "NOTPAY": "pending",
    "USERPAYING": "pending",
    "CLOSED": "closed",
    "REVOKED": "closed",
    "PAYERROR": "closed",
    "REFUND": "refunded",
}
REFUND_STATUSES: dict[str, RefundStatus] = {
    "SUCCESS": "succeeded",
    "PROCESSING": "processing",
    # Not final (WeChat Pay: 退款异常): the bank refused the money (the payer's card closed ...); it waits for the
    # merchant to send it again (apply-abnormal-refund) and is never a failure that gives the amount back.
    "ABNORMAL": "abnormal",
    "CLOSED": "failed",
}
# What each refund notification says of its refund; its resource's refund_status must agree.
REFUND_EVENTS: dict[str, RefundStatus] = {
    "REFUND.SUCCESS": "succeeded",
    "REFUND.ABNORMAL": "abnormal",
    "REFUND.CLOSED": "failed",
}
TRADE_EVENT = "TRANSACTION.SUCCESS"
# WeChat Pay's own trouble, worth another try later (besides any HTTP 5xx or 429).
TRANSIENT_CODES = frozenset(
    {"SYSTEM_ERROR", "SYSTEMERROR", "FREQUENCY_LIMITED", "BANK_ERROR", "BANKERROR", "STATEMENT_CREATING"}
)
ALREADY_CLOSED_CODES = frozenset({"ORDER_CLOSED", "ORDERCLOSED"})
NO_BILL_CODES = frozenset({"NO_STATEMENT_EXIST"})
# Where an abnormal refund may be sent again (发起异常退款): another debit card of the payer's (bank_type, bank_account
# and real_name, the last two encrypted with WeChat Pay's public key), or the merchant's bank account, to be paid
# back by hand.
ABNORMAL_REFUND_TYPES = frozenset({"USER_BANK_CARD", "MERCHANT_BANK_CARD"})
# WeChat Pay's refund_id (it goes into the path of apply-abnormal-refund).
REFUND_ID = re.compile(r"[0-9A-Za-z]{1,32}")
# A refund query answered 404 with one of these: WeChat Pay has no refund under that number, so none will ever move.
REFUND_NOT_FOUND_CODES = frozenset({"RESOURCE_NOT_EXISTS", "NOT_FOUND"})
# WeChat Pay's characters of an out_refund_no; wechatpayv3 puts it in the query's path as it is.
OUT_REFUND_NO = re.compile(r"[0-9A-Za-z_\-|*@]{1,64}")
# What a refusal means to the person who caused the call; every other one gets PlatformError's generic text.
REFUSAL_MESSAGES = {
    "ORDER_NOT_EXIST": "微信支付中没有这笔订单",
    "ORDERNOTEXIST": "微信支付中没有这笔订单",
    "RESOURCE_NOT_EXISTS": "微信支付中没有这笔订单",
    "ORDERPAID": "这笔订单已支付",
    "ORDER_CLOSED": "这笔订单已关闭",
    "ORDERCLOSED": "这笔订单已关闭",
    "OUT_TRADE_NO_USED": "订单号已用于另一笔内容不同的订单",
    "NOT_ENOUGH": "商户可用余额不足，暂时无法退款",
}

# The trade bill (bill_type ALL): a header line, one line per payment or refund with every field prefixed by a
# backtick, then a summary header and the summary line. Columns are found by name, so added columns do no harm.
# WeChat Pay bills a payment on the day it succeeded and a refund on the day it was accepted, as records of their
# own (a payment refunded the same day is two lines), a refund with its state when the bill was made (PROCESSING,
# SUCCESS, ABNORMAL ...). The summary's 总交易单数 counts every record line, refunds included whatever their state:
# the REFUND bill, which holds nothing but refunds, has the same 总交易单数 first in its summary.
BILL_SUMMARY_FIRST = "总交易单数"
BILL_ORDER_NO, BILL_TRANSACTION_ID, BILL_STATE = "商户订单号", "微信订单号", "交易状态"
BILL_REFUND_NO, BILL_REFUND_STATE = "商户退款单号", "退款状态"
# The order's total (what query and notifications call amount.total); bills older than that column have only the
# settled amount, the same figure when no merchant coupon was used.
BILL_ORDER_AMOUNT_COLUMNS = ("订单金额", "应结订单金额")
# The refund as asked for; the settled refund without that column.
BILL_REFUND_AMOUNT_COLUMNS = ("申请退款金额", "退款金额")
_YUAN = re.compile(r"(0|[1-9][0-9]*)(?:\.([0-9]{1,2}))?", re.ASCII)


class WeChatPayRefused(PlatformError):
    """WeChat Pay refused a call for a reason of its own (errcode says which); the same call again cannot help."""

    def __init__(self, errcode: str, message: str | None = None) -> None:
        super().__init__(message or REFUSAL_MESSAGES.get(errcode))
        self.errcode = errcode


@dataclass(frozen=True)
class WeChatPayKeys:
    """Our merchant key and what checks WeChat Pay's signatures: its certificate, its public key, or both (PEM)."""

    merchant_private_key: str
    platform_certificate: str = ""
    platform_public_key: str = ""
    platform_public_key_id: str = ""  # what Wechatpay-Serial says when WeChat Pay signs with that public key


def wechatpay_api_base_url(settings: Settings) -> str:
    """settings.wechatpay.api_base_url, or this app's /sim/wechatpay/ in sim mode and WeChat Pay's in live mode."""
    return platform_base_url(
        settings.wechatpay.api_base_url, settings, sim_path="/sim/wechatpay/", live_base_url=LIVE_API_BASE_URL
    )


def wechatpay_notify_url(settings: Settings) -> str:
    """settings.wechatpay.notify_url, or this service's callback route under app.public_base_url."""
    return settings.wechatpay.notify_url or settings.app.public_base_url.rstrip("/") + NOTIFY_PATH


def sim_public_key_id(public_pem: str) -> str:
    """The id the simulator gives its WeChat Pay public key, derived from the key so every process agrees."""
    number = int.from_bytes(hashlib.sha256(public_pem.encode("ascii")).digest()[:16], "big")
    return f"{SIM_PUBLIC_KEY_ID_PREFIX}{number % 10**28:028d}"


def sim_platform_certificate(settings: Settings) -> str:
    """The simulator's platform certificate (PEM), derived from its key so every process agrees."""
    return self_signed_certificate(ensure_sim_keys(settings).wechatpay_platform.private_pem, SIM_CERTIFICATE_NAME)


def certificate_serial(certificate_pem: str) -> str:
    """A certificate's serial number as WeChat Pay writes it in Wechatpay-Serial (upper-case hex)."""
    return format(x509.load_pem_x509_certificate(certificate_pem.encode("ascii")).serial_number, "X")


def wechatpay_keys(settings: Settings) -> WeChatPayKeys:
    """Sim mode: the simulator's generated keys; live mode: the files named by settings.wechatpay.*_path."""
    if settings.platforms.mode == "sim":
        sim_keys = ensure_sim_keys(settings)
        public_pem = sim_keys.wechatpay_public_key.public_pem
        return WeChatPayKeys(
            merchant_private_key=sim_keys.wechatpay_merchant.private_pem,
            platform_certificate=sim_platform_certificate(settings),
            platform_public_key=public_pem,
            platform_public_key_id=sim_public_key_id(public_pem),
        )
    section = settings.wechatpay
    if not section.merchant_private_key_path:
        raise ConfigError("config: wechatpay.merchant_private_key_path is required when platforms.mode = live")
    if not section.platform_cert_path and not section.platform_public_key_path:
        raise ConfigError(
            "config: wechatpay.platform_public_key_path (with platform_public_key_id) or "
            "wechatpay.platform_cert_path is required when platforms.mode = live"
        )
    return WeChatPayKeys(
        merchant_private_key=_read_file("merchant_private_key_path", section.merchant_private_key_path),
        platform_certificate=(
            _read_file("platform_cert_path", section.platform_cert_path) if section.platform_cert_path else ""
        ),
        platform_public_key=(
            _read_file("platform_public_key_path", section.platform_public_key_path)
            if section.platform_public_key_path
            else ""
        ),
        platform_public_key_id=section.platform_public_key_id,
    )


def _read_file(setting: str, value: str) -> str:
    path = Path(value) if Path(value).is_absolute() else PROJECT_ROOT / value
    try:
        return path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config: wechatpay.{setting}: cannot read {path} ({exc.__class__.__name__})") from None


@dataclass(frozen=True)
class _Credentials:
    """The keys in the forms wechatpayv3 loads, checked once when the provider is built."""

    merchant_private_key: str  # PKCS#8 PEM: wechatpayv3 reads no other form
    public_key: str | None  # SubjectPublicKeyInfo PEM
    public_key_id: str | None
    certificates: tuple[x509.Certificate, ...]


def _credentials(keys: WeChatPayKeys) -> _Credentials:
    try:
        private_key = load_private_key(keys.merchant_private_key)
        public_key = public_pem_of(load_public_key(keys.platform_public_key)) if keys.platform_public_key else None
        certificates = (
            (x509.load_pem_x509_certificate(keys.platform_certificate.strip().encode("ascii")),)
            if keys.platform_certificate
            else ()
        )
    except (ValueError, TypeError) as exc:  # TypeError: a private key that wants a password
        raise ConfigError(f"config: wechatpay keys are not usable ({exc})") from None
    if bool(public_key) != bool(keys.platform_public_key_id):
        raise ConfigError("config: wechatpay.platform_public_key_path and platform_public_key_id go together")
    if public_key is None and not certificates:
        raise ConfigError("config: wechatpay needs the WeChat Pay public key or the platform certificate")
    pkcs8 = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    return _Credentials(
        merchant_private_key=pkcs8,
        public_key=public_key,
        public_key_id=keys.platform_public_key_id or None,
        certificates=certificates,
    )


class PinnedCore(Core):
    """wechatpayv3's Core on our gateway, checking signatures with the configured public key and certificate only.

    Core downloads platform certificates (GET /v3/certificates) when it starts without a public key and again for
    every serial it does not know. Here a serial we were not configured with simply does not verify: a notification
    with a made-up serial must not make us call WeChat Pay, and which keys we trust stays a configuration decision.
    """

    def __init__(self, *, gateway: str, certificates: tuple[x509.Certificate, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._gate_way = gateway  # Core's every request goes to _gate_way + path
        self._certificates = list(certificates)

    def _init_certificates(self) -> None:
        """Core's start-up download, skipped: __init__ puts the configured certificates in place."""

    def _update_certificates(self) -> None:
        """Core's download on an unknown serial, skipped: the signature then fails to verify."""


class WeChatPaySdk(WeChatPay):
    """wechatpayv3's WeChatPay for a direct merchant's mini-program, over PinnedCore."""

    def __init__(
        self,
        *,
        mchid: str,
        appid: str,
        merchant_serial_no: str,
        credentials: _Credentials,
        apiv3_key: str,
        notify_url: str,
        gateway: str,
        timeout_seconds: float,
    ) -> None:
        # WeChatPay.__init__ (2.0.4) sets exactly these, then builds a Core that would download certificates.
        self._type = WeChatPayType.MINIPROG
        self._mchid = mchid
        self._appid = appid
        self._notify_url = notify_url
        self._partner_mode = False
        self._core = PinnedCore(
            gateway=gateway,
            certificates=credentials.certificates,
            mchid=mchid,
            cert_serial_no=merchant_serial_no,
            private_key=credentials.merchant_private_key,
            apiv3_key=apiv3_key,
            timeout=timeout_seconds,
            public_key=credentials.public_key,
            public_key_id=credentials.public_key_id,
        )


class _Client:
    """One executor thread's SDK client."""

    def __init__(self, sdk: WeChatPaySdk) -> None:
        self.sdk = sdk

    def close(self) -> None:
        """Nothing to release: wechatpayv3 sends through requests' module functions, a connection per call."""


def fen(value: Any) -> int:
    """An amount of WeChat Pay's JSON as integer fen; ValueError for anything else (floats, text, booleans)."""
    # type() rather than isinstance(): True is an int, and must not become 1 fen.
    if type(value) is not int or value < 0:
        raise ValueError("amount is not a non-negative integer of fen")
    return value


def yuan_to_fen(text: str) -> int:
    """A bill's yuan text as integer fen, exactly: "12.5" -> 1250, "0.01" -> 1; ValueError for anything else."""
    match = _YUAN.fullmatch(text)
    if match is None:
        raise ValueError(f"not a yuan amount with at most two decimals: {text[:32]!r}")
    whole, decimals = match.groups()
    return int(whole) * 100 + int((decimals or "").ljust(2, "0"))


def rfc3339(moment: datetime) -> str:
    """A moment as WeChat Pay writes times: RFC 3339 in Beijing time, to the second ("2026-11-23T15:00:00+08:00")."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime is ambiguous; give its time zone")
    return moment.astimezone(WECHATPAY_TIMEZONE).isoformat(timespec="seconds")


def parse_rfc3339(text: Any) -> datetime:
    """WeChat Pay's RFC 3339 time as an aware datetime; ValueError when it is not one."""
    if not isinstance(text, str):
        raise ValueError("time is not text")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("time without offset")
    return moment


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} missing")
    return value


def trade_state_of(data: dict[str, Any]) -> TradeState:
    """A TradeState from a query answer or a decrypted transaction resource; ValueError when it is not one."""
    status = TRADE_STATUSES.get(data.get("trade_state"))  # type: ignore[arg-type]
    if status is None:
        raise ValueError("unknown trade_state")
    amount = data.get("amount") or {}
    if not isinstance(amount, dict) or amount.get("currency", CURRENCY) != CURRENCY:
        raise ValueError("amount is not in CNY")
    paid = status in ("paid", "refunded")
    # amount.total is the order's amount (payer_total is less only when a coupon paid part of it). An unpaid
    # order's answer may leave it out; 0 then, and only then.
    total = fen(amount["total"]) if paid or "total" in amount else 0
    return TradeState(
        order_no=_text(data, "out_trade_no"),
        status=status,
        amount_fen=total,
        merchant_id=_text(data, "mchid"),
        transaction_id=_text(data, "transaction_id") if paid else str(data.get("transaction_id") or ""),
        paid_at=parse_rfc3339(data.get("success_time")) if paid else None,
        raw=data,
    )


def _refund_answered(what: str, answer: dict[str, Any], order_no: str, refund_no: str) -> RefundState:
    """The RefundState of a refund answer, which must be about this order's refund; PlatformError otherwise."""
    try:
        state = refund_state_of(answer, status_key="status")
    except (KeyError, ValueError, TypeError) as exc:
        log.warning("wechatpay %s: unreadable answer (%s)", what, exc)
        raise PlatformError() from None
    if (state.order_no, state.refund_no) != (order_no, refund_no):
        log.warning("wechatpay %s: answer for another order or refund", what)
        raise PlatformError()
    return state


def refund_state_of(data: dict[str, Any], *, status_key: str) -> RefundState:
    """A RefundState from a refund answer (status) or a decrypted refund resource (refund_status)."""
    status = REFUND_STATUSES.get(data.get(status_key))  # type: ignore[arg-type]
    if status is None:
        raise ValueError(f"unknown {status_key}")
    amount = data.get("amount")
    if not isinstance(amount, dict):
        raise ValueError("amount missing")
    return RefundState(
        order_no=_text(data, "out_trade_no"),
        refund_no=_text(data, "out_refund_no"),
        status=status,
        refund_fen=fen(amount.get("refund")),
        refund_id=str(data.get("refund_id") or ""),
        raw=data,
    )


def notification_of(data: dict[str, Any]) -> Notification:
    """The Notification a verified, decrypted callback says; ValueError when it is none we handle."""
    event_type, resource = data.get("event_type"), data.get("resource")
    if not isinstance(resource, dict):
        raise ValueError("resource missing")
    if event_type == TRADE_EVENT:
        trade = trade_state_of(resource)
        if trade.status != "paid":
            raise ValueError(f"{TRADE_EVENT} of a trade that is {trade.status}")
        return Notification(kind="trade", trade=trade)
    if event_type in REFUND_EVENTS:
        refund = refund_state_of(resource, status_key="refund_status")
        if refund.status != REFUND_EVENTS[event_type]:
            raise ValueError(f"{event_type} of a refund that is {refund.status}")
        return Notification(kind="refund", refund=refund)
    raise ValueError(f"event_type {str(event_type)[:40]!r} is not handled")


def parse_trade_bill(text: str) -> list[BillRow]:
    """The paid and successfully refunded lines of WeChat Pay's trade bill; ValueError when it is malformed or cut
    short (the summary's 总交易单数 must be the number of payment and refund lines, refunds in any state)."""
    lines = [line for line in text.lstrip("\ufeff").splitlines() if line.strip()]
    if not lines:
        raise ValueError("empty bill")
    header = [name.strip() for name in lines[0].split(",")]
    column = {name: index for index, name in enumerate(header)}
    missing = {BILL_ORDER_NO, BILL_TRANSACTION_ID, BILL_STATE, BILL_REFUND_NO, BILL_REFUND_STATE} - set(column)
    if (
        missing
        or not any(name in column for name in BILL_ORDER_AMOUNT_COLUMNS)
        or not any(name in column for name in BILL_REFUND_AMOUNT_COLUMNS)
    ):
        raise ValueError("bill header lacks the columns it must have")
    order_amount = column[next(name for name in BILL_ORDER_AMOUNT_COLUMNS if name in column)]
    refund_amount = column[next(name for name in BILL_REFUND_AMOUNT_COLUMNS if name in column)]
    rows: list[BillRow] = []
    payments = refunds = 0
    for number, line in enumerate(lines[1:], start=2):
        if line.startswith(BILL_SUMMARY_FIRST):
            if number >= len(lines):
                raise ValueError("bill summary header without its line")
            counted = int(_bill_fields(lines[number])[0])
            if counted != payments + refunds:
                raise ValueError(
                    f"bill summary counts {counted} records; the bill has {payments} payments and {refunds} refunds"
                )
            return rows
        fields = _bill_fields(line)
        if len(fields) != len(header):
            raise ValueError(f"bill line {number} has {len(fields)} fields, the header {len(header)}")
        state = fields[column[BILL_STATE]]
        if state == "REFUND":
            refunds += 1
        else:
            payments += 1  # paid, or paid and then revoked: the payment's record either way
        if state == "SUCCESS":
            rows.append(
                BillRow(
                    order_no=fields[column[BILL_ORDER_NO]],
                    transaction_id=fields[column[BILL_TRANSACTION_ID]],
                    status="paid",
                    amount_fen=yuan_to_fen(fields[order_amount]),
                )
            )
        elif state == "REFUND" and fields[column[BILL_REFUND_STATE]] == "SUCCESS":
            # Refunds still processing (or failed) are money that has not moved: not refunded on this day.
            rows.append(
                BillRow(
                    order_no=fields[column[BILL_ORDER_NO]],
                    transaction_id=fields[column[BILL_TRANSACTION_ID]],
                    status="refunded",
                    amount_fen=yuan_to_fen(fields[refund_amount]),
                    refund_no=fields[column[BILL_REFUND_NO]],
                )
            )
    raise ValueError("bill without its summary: cut short")


def _bill_fields(line: str) -> list[str]:
    # Every field starts with a backtick (so spreadsheets keep long numbers as text); a comma inside a product name
    # is not a separator, a comma followed by a backtick is.
    if not line.startswith("`"):
        raise ValueError("bill line does not start with a backtick")
    return [field.strip() for field in line[1:].split(",`")]


def _error_fields(body: Any) -> tuple[str, str]:
    """WeChat Pay's {"code", "message"} of an error answer, ("", "") when it has none."""
    try:
        data = json.loads(body) if body else {}
    except (ValueError, UnicodeDecodeError):
        return "", ""
    if not isinstance(data, dict):
        return "", ""
    return str(data.get("code") or ""), str(data.get("message") or "")


def refusal(what: str, status: int, body: Any) -> AppError:
    """The error for a WeChat Pay answer that is not 2xx: PlatformUnavailable when trying later may help."""
    code, message = _error_fields(body)
    if status >= 500 or status == 429 or code in TRANSIENT_CODES:
        log.warning("wechatpay %s: HTTP %s %s, try again later", what, status, code)
        return PlatformUnavailable(errcode=code or str(status))
    # WeChat Pay's message names the field or rule at fault (never a key or a payer's data): worth an operator's eye.
    log.warning("wechatpay %s: HTTP %s %s %s", what, status, code, message[:200])
    return WeChatPayRefused(code or str(status))


class WeChatPayProvider:
    """PaymentProvider for WeChat Pay JSAPI payments in the mini-program; keys come from settings unless given."""

    channel = "wechat"

    def __init__(self, settings: Settings, cache: Cache, *, keys: WeChatPayKeys | None = None) -> None:
        # cache: the platform clients' common signature; WeChat Pay v3 has no access token or other shared state.
        section = settings.wechatpay
        self._mchid = section.mchid
        self._appid = section.appid or settings.wechat.appid
        self._notify_url = wechatpay_notify_url(settings)
        self._gateway = wechatpay_api_base_url(settings).rstrip("/")
        credentials = _credentials(keys or wechatpay_keys(settings))
        self._public_key_id = credentials.public_key_id
        self._certificate_serials = frozenset(certificate.serial_number for certificate in credentials.certificates)
        timeout_seconds = settings.platforms.timeout_seconds

        def new_client() -> _Client:
            return _Client(
                WeChatPaySdk(
                    mchid=section.mchid,
                    appid=self._appid,
                    merchant_serial_no=section.merchant_serial_no,
                    credentials=credentials,
                    apiv3_key=section.apiv3_key,
                    notify_url=self._notify_url,
                    gateway=self._gateway,
                    timeout_seconds=timeout_seconds,
                )
            )

        # A pool of its own: payment calls never queue behind message sends to the other platforms.
        self._executor: SdkExecutor[_Client] = SdkExecutor(
            "wechatpay", threads=settings.platforms.sdk_threads, timeout_seconds=timeout_seconds, new_client=new_client
        )

    async def aclose(self) -> None:
        """Stop the SDK clients (close(order_no) is PaymentProvider's: it closes an order)."""
        await self._executor.close()

    async def create(
        self, *, order_no: str, amount_fen: int, description: str, payer_id: str, expires_at: datetime
    ) -> dict[str, Any]:
        """JSAPI prepay for the payer's openid; the five wx.requestPayment fields, plus prepay_id."""
        if fen(amount_fen) == 0:
            raise ValueError("WeChat Pay takes no order of 0")
        time_expire = rfc3339(expires_at)
        answer = self._ok(
            "create",
            await self._call(
                "create",
                lambda sdk: sdk.pay(
                    description=description,
                    out_trade_no=order_no,
                    amount={"total": amount_fen, "currency": CURRENCY},
                    payer={"openid": payer_id},
                    time_expire=time_expire,
                    pay_type=WeChatPayType.JSAPI,
                ),
            ),
        )
        prepay_id = answer.get("prepay_id")
        if not isinstance(prepay_id, str) or not prepay_id:
            log.warning("wechatpay create: answer without prepay_id")
            raise PlatformError()
        time_stamp, nonce, package = str(int(time.time())), secrets.token_hex(16), f"prepay_id={prepay_id}"
        # SHA256withRSA by the merchant key over "appId\ntimeStamp\nnonceStr\npackage\n": the SDK's own sign().
        pay_sign = await self._call("create", lambda sdk: sdk.sign([self._appid, time_stamp, nonce, package]))
        return {
            "appId": self._appid,
            "timeStamp": time_stamp,
            "nonceStr": nonce,
            "package": package,
            "signType": "RSA",
            "paySign": pay_sign,
            "prepay_id": prepay_id,
        }

    async def parse_notification(self, *, headers: dict[str, str], body: bytes) -> Notification:
        """Verify the signature (key named by Wechatpay-Serial, fresh timestamp), decrypt the resource, decode it."""
        # Header names arrive in whatever case the server kept; wechatpayv3 looks them up in this spelling.
        lowered = {name.lower(): value for name, value in headers.items()}
        wanted = {
            name: lowered.get(name.lower(), "")
            for name in (
                "Wechatpay-Signature",
                "Wechatpay-Timestamp",
                "Wechatpay-Nonce",
                "Wechatpay-Serial",
                "Wechatpay-Signature-Type",
            )
        }
        if not all(wanted.values()):
            raise self._refuse("Wechatpay-* headers missing")
        if wanted["Wechatpay-Signature"].startswith(SIGNATURE_PROBE_PREFIX):
            # Refused like any signature that does not verify (that is what the probe checks), but expected: no
            # operator needs to hear of it. Whoever copies the prefix gains nothing: the notification is refused.
            log.info("wechatpay notification refused: WeChat Pay's signature probe")
            raise SignatureProbe()
        timestamp = wanted["Wechatpay-Timestamp"]
        if (
            not (timestamp.isascii() and timestamp.isdigit())
            or abs(time.time() - int(timestamp)) > NOTIFICATION_MAX_AGE_SECONDS
        ):
            raise self._refuse("timestamp more than 5 minutes away")
        if not self._knows_serial(wanted["Wechatpay-Serial"]):
            raise self._refuse(f"signed by serial {wanted['Wechatpay-Serial'][:64]!r}, which is not configured")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise self._refuse("body is not UTF-8") from None
        verified = await self._executor.run(lambda client: _verified_callback(client.sdk, wanted, text))
        if isinstance(verified, str):
            raise self._refuse(verified)
        try:
            return notification_of(verified)
        except (KeyError, ValueError, TypeError) as exc:
            raise self._refuse(f"unreadable resource ({exc})") from None

    def acknowledge(self, verdict: Verdict) -> Acknowledgement:
        """WeChat Pay stops at any 2xx (200, no body); otherwise it retries, and reads {"code", "message"}: a 4xx for
        a notification refused for good, a 5xx for our own failure."""
        if verdict == "accepted":
            return Acknowledgement(status=200, body=b"", content_type="text/plain; charset=utf-8")
        status, message = (400, "通知无效") if verdict == "refused" else (500, "暂时无法处理，请稍后重发")
        body = json.dumps({"code": "FAIL", "message": message}, ensure_ascii=False).encode("utf-8")
        return Acknowledgement(status=status, body=body, content_type="application/json; charset=utf-8")

    async def query(self, order_no: str) -> TradeState:
        """The order by out-trade-no; WeChatPayRefused (ORDER_NOT_EXIST) for an order never created there."""
        answer = self._ok("query", await self._call("query", lambda sdk: sdk.query(out_trade_no=order_no)))
        try:
            state = trade_state_of(answer)
        except (KeyError, ValueError, TypeError) as exc:
            log.warning("wechatpay query: unreadable answer (%s)", exc)
            raise PlatformError() from None
        if state.order_no != order_no:
            log.warning("wechatpay query: answer for another order")
            raise PlatformError()
        return state

    async def close(self, order_no: str) -> None:
        """Close an unpaid order (WeChatPayRefused ORDERPAID when it was paid); an already closed one is fine."""
        status, body = await self._call("close", lambda sdk: sdk.close(out_trade_no=order_no))
        if 200 <= status < 300 or _error_fields(body)[0] in ALREADY_CLOSED_CODES:
            return
        raise refusal("close", status, body)

    async def refund(
        self, *, order_no: str, refund_no: str, refund_fen: int, total_fen: int, reason: str
    ) -> RefundState:
        """Refund refund_fen of the order's total_fen (a repeat of refund_no answers the same refund)."""
        if fen(refund_fen) == 0 or refund_fen > fen(total_fen):
            raise ValueError("a refund is 1 fen up to the order's total")
        amount = {"refund": refund_fen, "total": total_fen, "currency": CURRENCY}
        answer = self._ok(
            "refund",
            await self._call(
                "refund",
                lambda sdk: sdk.refund(
                    out_refund_no=refund_no, amount=amount, out_trade_no=order_no, reason=reason or None
                ),
            ),
        )
        return _refund_answered("refund", answer, order_no, refund_no)

    async def query_refund(self, *, order_no: str, refund_no: str) -> RefundState:
        """The refund by out-refund-no; failed when WeChat Pay has none of that number (404 RESOURCE_NOT_EXISTS)."""
        if not OUT_REFUND_NO.fullmatch(refund_no):
            raise ValueError("a refund number is 1-64 of 0-9 A-Z a-z _-|*@")
        status, body = await self._call("refund_query", lambda sdk: sdk.query_refund(out_refund_no=refund_no))
        code, message = _error_fields(body) if status == 404 else ("", "")
        if code in REFUND_NOT_FOUND_CODES:
            # Never accepted (the refund call did not reach WeChat Pay, or was refused): nothing was refunded, and
            # the amount it held may be given back. A bare 404 without WeChat Pay's code is a wrong gateway instead.
            log.warning("wechatpay refund_query: no refund %s at WeChat Pay (%s)", refund_no, code)
            return RefundState(
                order_no=order_no,
                refund_no=refund_no,
                status="failed",
                refund_fen=0,
                raw={"code": code, "message": message},
                found=False,
            )
        return _refund_answered("refund_query", self._ok("refund_query", (status, body)), order_no, refund_no)

    async def retry_abnormal_refund(
        self,
        *,
        order_no: str,
        refund_no: str,
        refund_id: str,
        to: str,
        bank_type: str = "",
        bank_account: str = "",
        real_name: str = "",
    ) -> RefundState:
        """Send an ABNORMAL refund again (apply-abnormal-refund): to another card of the payer's (USER_BANK_CARD; the
        SDK encrypts account and name with WeChat Pay's public key) or to our bank account (MERCHANT_BANK_CARD)."""
        if to not in ABNORMAL_REFUND_TYPES:
            raise ValueError(f"an abnormal refund goes to one of {sorted(ABNORMAL_REFUND_TYPES)}")
        if to == "USER_BANK_CARD" and not (bank_type and bank_account and real_name):
            raise ValueError("a refund to the payer's card needs bank_type, bank_account and real_name")
        if not REFUND_ID.fullmatch(refund_id) or not OUT_REFUND_NO.fullmatch(refund_no):
            raise ValueError("refund_id is 1-32 letters or digits; the refund number 1-64 of 0-9 A-Z a-z _-|*@")
        user_card = to == "USER_BANK_CARD"
        answer = self._ok(
            "abnormal_refund",
            await self._call(
                "abnormal_refund",
                lambda sdk: sdk.abnormal_refund(
                    refund_id=refund_id,
                    out_refund_no=refund_no,
                    type=to,
                    bank_type=bank_type if user_card else None,
                    bank_account=bank_account if user_card else None,
                    real_name=real_name if user_card else None,
                ),
            ),
        )
        return _refund_answered("abnormal_refund", answer, order_no, refund_no)

    async def bill(self, day: date) -> list[BillRow]:
        """The trade bill of a Beijing day (ALL: payments and refunds), downloaded through the signed client."""
        status, body = await self._call(
            "bill", lambda sdk: sdk.trade_bill(bill_date=day.isoformat(), bill_type="ALL", tar_type="GZIP")
        )
        if not 200 <= status < 300 and _error_fields(body)[0] in NO_BILL_CODES:
            return []  # a day without a single payment or refund has no bill
        answer = self._ok("bill", (status, body))
        download_url, hash_type, hash_value = (answer.get(key) for key in ("download_url", "hash_type", "hash_value"))
        if not all(isinstance(value, str) and value for value in (download_url, hash_type, hash_value)):
            log.warning("wechatpay bill: answer without download_url or hash")
            raise PlatformError()
        url = self._on_gateway(download_url)
        status, content = await self._call("bill_download", lambda sdk: sdk.download_bill(url))
        if not 200 <= status < 300:
            raise refusal("bill_download", status, content)
        data = content.encode("utf-8") if isinstance(content, str) else content
        if data[:2] == b"\x1f\x8b":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError):
                log.warning("wechatpay bill_download: not a complete gzip file")
                raise PlatformError() from None
        # The download is not signed; the hash that came in the signed answer vouches for it (over the bill itself,
        # not its gzip).
        if hash_type.upper() != "SHA1" or hashlib.sha1(data).hexdigest() != hash_value.lower():
            log.warning("wechatpay bill_download: %s hash does not match", hash_type)
            raise PlatformError()
        try:
            return parse_trade_bill(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            log.warning("wechatpay bill_download: unreadable bill (%s)", exc)
            raise PlatformError() from None

    def _knows_serial(self, serial: str) -> bool:
        if self._public_key_id is not None and serial == self._public_key_id:
            return True
        try:
            return int(serial, 16) in self._certificate_serials
        except ValueError:
            return False

    def _on_gateway(self, url: str) -> str:
        # WeChat Pay names its own host; the download must go where our calls go (the simulator, a proxy). A URL on
        # any other host is refused: our signed request is for WeChat Pay only.
        for base in (self._gateway + "/", LIVE_API_BASE_URL):
            if url.startswith(base):
                return self._gateway + "/" + url[len(base) :]
        log.warning("wechatpay bill: download_url on an unexpected host")
        raise PlatformError()

    async def _call(self, what: str, operation: Callable[[WeChatPaySdk], Result]) -> Result:
        try:
            return await self._executor.run(lambda client: operation(client.sdk))
        except AppError:
            raise  # the executor's deadline: PlatformUnavailable
        except (requests.ConnectionError, requests.Timeout) as exc:
            log.warning("wechatpay %s: %s", what, exc.__class__.__name__)
            raise PlatformUnavailable() from None
        except requests.RequestException as exc:
            log.warning("wechatpay %s: %s", what, exc.__class__.__name__)
            raise PlatformError() from None
        except Exception as exc:
            if type(exc) is not Exception:
                log.exception("wechatpay %s: unexpected %s", what, exc.__class__.__name__)
            elif "verify the signature" in str(exc):
                log.warning("wechatpay %s: answer refused, its signature did not verify", what)
            else:
                # wechatpayv3 raises plain Exception with fixed texts for what it refuses to send or accept.
                log.warning("wechatpay %s: SDK refused (%s)", what, str(exc)[:200])
            raise PlatformError() from None

    @staticmethod
    def _ok(what: str, answer: tuple[int, Any]) -> dict[str, Any]:
        status, body = answer
        if not 200 <= status < 300:
            raise refusal(what, status, body)
        try:
            data = json.loads(body) if body else {}
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            log.warning("wechatpay %s: answer is not a JSON object", what)
            raise PlatformError()
        return data

    @staticmethod
    def _refuse(reason: str) -> BadNotification:
        log.warning("wechatpay notification refused: %s", reason)
        return BadNotification()


def _verified_callback(sdk: WeChatPaySdk, headers: dict[str, str], text: str) -> dict[str, Any] | str:
    """The callback with its resource decrypted (wechatpayv3's callback()), or why it was refused."""
    core = sdk._core
    try:
        # Checked first on its own so the log can tell a forgery from a wrong APIv3 key; callback() checks it again.
        if not core._verify_signature(headers, text):
            return "signature did not verify"
        data = sdk.callback(headers, text)
    except Exception as exc:  # wechatpayv3 raises plain Exception (algorithm); a malformed body raises others
        return f"unreadable ({exc.__class__.__name__})"
    if not isinstance(data, dict):
        return "resource did not decrypt (APIv3 key?) or is not an encrypt-resource"
    return data
