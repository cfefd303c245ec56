"""Alipay as a payment provider through alipay-sdk-python: JSAPI trades for the mini-program (alipay.trade.create,
paid with my.tradePay), RSA2-verified asynchronous notifications, query, close, refund, refund query and the
daily bill.

Money is integer fen on our side and a yuan string ("12.50") on Alipay's: fen_to_yuan and yuan_to_fen are the one
crossing, exact and without float. The gateway client (keys, URL, thread pool, error mapping) is alipay.py's.
"""

from __future__ import annotations

import binascii
import csv
import io
import json
import logging
import re
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from alipay.aop.api.domain.AlipayDataDataserviceBillDownloadurlQueryModel import (
    AlipayDataDataserviceBillDownloadurlQueryModel,
)
from alipay.aop.api.domain.AlipayTradeCloseModel import AlipayTradeCloseModel
from alipay.aop.api.domain.AlipayTradeCreateModel import AlipayTradeCreateModel
from alipay.aop.api.domain.AlipayTradeFastpayRefundQueryModel import AlipayTradeFastpayRefundQueryModel
from alipay.aop.api.domain.AlipayTradeQueryModel import AlipayTradeQueryModel
from alipay.aop.api.domain.AlipayTradeRefundModel import AlipayTradeRefundModel
from alipay.aop.api.request.AlipayDataDataserviceBillDownloadurlQueryRequest import (
    AlipayDataDataserviceBillDownloadurlQueryRequest,
)
from alipay.aop.api.request.AlipayTradeCloseRequest import AlipayTradeCloseRequest
from alipay.aop.api.request.AlipayTradeCreateRequest import AlipayTradeCreateRequest
from alipay.aop.api.request.AlipayTradeFastpayRefundQueryRequest import AlipayTradeFastpayRefundQueryRequest
from alipay.aop.api.request.AlipayTradeQueryRequest import AlipayTradeQueryRequest
from alipay.aop.api.request.AlipayTradeRefundRequest import AlipayTradeRefundRequest
from alipay.aop.api.response.AlipayDataDataserviceBillDownloadurlQueryResponse import (
    AlipayDataDataserviceBillDownloadurlQueryResponse,
)
from alipay.aop.api.response.AlipayResponse import AlipayResponse
from alipay.aop.api.response.AlipayTradeCloseResponse import AlipayTradeCloseResponse
from alipay.aop.api.response.AlipayTradeCreateResponse import AlipayTradeCreateResponse
from alipay.aop.api.response.AlipayTradeFastpayRefundQueryResponse import AlipayTradeFastpayRefundQueryResponse
from alipay.aop.api.response.AlipayTradeQueryResponse import AlipayTradeQueryResponse
from alipay.aop.api.response.AlipayTradeRefundResponse import AlipayTradeRefundResponse
from alipay.aop.api.util.SignatureUtils import verify_with_rsa
from rsa import VerificationError

from app.core.cache import Cache
from app.core.config import Settings
from app.platforms import PlatformError
from app.platforms.alipay import (
    AlipayKeys,
    AnyResponse,
    alipay_keys,
    execute_request,
    is_success,
    is_transient,
    raise_for_code,
    run_sdk,
    sdk_config,
    sdk_executor,
)
from app.platforms.payment_types import (
    Acknowledgement,
    BadNotification,
    BillRow,
    Notification,
    RefundState,
    TradeState,
    TradeStatus,
    Verdict,
)

log = logging.getLogger("app.platforms.alipay_pay")

# Alipay's clock is Beijing time: time_expire, gmt_payment, send_pay_date and bill dates are all read in it.
ALIPAY_TIMEZONE = ZoneInfo("Asia/Shanghai")
ALIPAY_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# The payments domain's callback route (API.md); settings.alipay.notify_url overrides it.
NOTIFY_PATH = "/api/v1/pay/notify/alipay"
# A trade created for a mini-program buyer and paid with my.tradePay.
PRODUCT_CODE = "JSAPI_PAY"
PAID_TRADE_STATUSES = frozenset({"TRADE_SUCCESS", "TRADE_FINISHED"})
# The trade bill: each day's payments and refunds of this merchant (the other type, signcustomer, is the ledger).
BILL_TYPE = "trade"
# Alipay's bill files are GBK; the detail file is the one with this header cell (the other is the day's summary).
BILL_ENCODING = "gbk"
BILL_HEADER_FIRST = "支付宝交易号"
BILL_COLUMNS = {
    "transaction_id": "支付宝交易号",
    "order_no": "商户订单号",
    "kind": "业务类型",
    "amount": "订单金额（元）",
    "refund_no": "退款批次号/请求号",
}
BILL_PAYMENT, BILL_REFUND = "交易", "退款"
# What a refusal means to the person who caused the call; every other one gets PlatformError's generic text.
REFUSAL_MESSAGES = {
    "ACQ.TRADE_NOT_EXIST": "支付宝中没有这笔交易",
    "ACQ.TRADE_HAS_SUCCESS": "这笔交易已支付",
    "ACQ.TRADE_HAS_CLOSE": "这笔交易已关闭",
    "ACQ.TRADE_STATUS_ERROR": "交易状态不允许此操作",
    "ACQ.CONTEXT_INCONSISTENT": "订单信息与支付宝中已有的交易不一致",
    "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL": "退款金额超过可退金额",
    "ACQ.DISCORDANT_REPEAT_REQUEST": "退款请求号已用于另一笔金额不同的退款",
}
_YUAN = re.compile(r"(0|[1-9][0-9]*)(?:\.([0-9]{1,2}))?", re.ASCII)


class AlipayTradeRefused(PlatformError):
    """Alipay refused a trade call for a business reason (sub_code says which); the same call again cannot help."""

    def __init__(self, sub_code: str, message: str | None = None) -> None:
        super().__init__(message or REFUSAL_MESSAGES.get(sub_code))
        self.sub_code = sub_code


def fen_to_yuan(fen: int) -> str:
    """Integer fen as Alipay's yuan text with two decimals: 1 -> "0.01", 1250 -> "12.50"."""
    # type() rather than isinstance(): True is an int, and must not become "0.01".
    if type(fen) is not int:
        raise TypeError(f"amount must be integer fen, not {type(fen).__name__}")
    if fen < 0:
        raise ValueError("amount must not be negative")
    return f"{fen // 100}.{fen % 100:02d}"


def yuan_to_fen(text: str) -> int:
    """Alipay's yuan text as integer fen, exactly: "12.5" -> 1250, "0.01" -> 1; no sign, at most two decimals."""
    if type(text) is not str:
        raise TypeError(f"amount must be yuan text, not {type(text).__name__}")
    match = _YUAN.fullmatch(text)
    if match is None:
        raise ValueError(f"not a yuan amount with at most two decimals: {text[:32]!r}")
    whole, decimals = match.groups()
    return int(whole) * 100 + int((decimals or "").ljust(2, "0"))


def alipay_notify_url(settings: Settings) -> str:
    """settings.alipay.notify_url, or this service's callback route under app.public_base_url."""
    return settings.alipay.notify_url or settings.app.public_base_url.rstrip("/") + NOTIFY_PATH


def alipay_time(moment: datetime) -> str:
    """A moment as Alipay writes times: "yyyy-MM-dd HH:mm:ss" in Beijing time."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime is ambiguous; give its time zone")
    return moment.astimezone(ALIPAY_TIMEZONE).strftime(ALIPAY_TIME_FORMAT)


def parse_alipay_time(text: str) -> datetime:
    """Alipay's "yyyy-MM-dd HH:mm:ss" (Beijing time) as an aware datetime; ValueError when it is not one."""
    return datetime.strptime(text, ALIPAY_TIME_FORMAT).replace(tzinfo=ALIPAY_TIMEZONE)


def notification_sign_content(params: dict[str, str]) -> str:
    """What an asynchronous notification's sign covers: every parameter but sign and sign_type, sorted, k=v&k=v."""
    # Unlike a gateway request, empty values stay in (Alipay: every parameter it sent, but those two).
    return "&".join(f"{name}={value}" for name, value in sorted(params.items()) if name not in ("sign", "sign_type"))


def parse_trade_bill(archive: bytes) -> list[BillRow]:
    """The payments and refunds of a trade bill as Alipay serves it: a zip holding GBK CSV files."""
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
            texts = [
                bundle.read(info).decode(BILL_ENCODING)
                for info in bundle.infolist()
                if info.filename.lower().endswith(".csv")
            ]
    except (zipfile.BadZipFile, UnicodeDecodeError, OSError) as exc:
        raise ValueError(f"not a bill archive ({exc.__class__.__name__})") from None
    # Member names are GBK without the zip's UTF-8 flag, so they are told apart by content, not by name.
    details = [text for text in texts if any(line.startswith(BILL_HEADER_FIRST) for line in text.splitlines())]
    if len(details) != 1:
        raise ValueError(f"expected one detail file in the bill, found {len(details)}")
    return _bill_rows(details[0])


def _bill_rows(text: str) -> list[BillRow]:
    # Comment lines (#) frame the table; cells carry a trailing tab so spreadsheets keep long numbers as text.
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    table = [[cell.strip() for cell in row] for row in csv.reader(lines)]
    if not table or table[0][:1] != [BILL_HEADER_FIRST]:
        raise ValueError("bill detail without its header")
    header = table[0]
    try:
        column = {name: header.index(title) for name, title in BILL_COLUMNS.items()}
    except ValueError:
        raise ValueError("bill header lacks a needed column") from None
    rows = []
    for cells in table[1:]:
        if len(cells) != len(header):
            raise ValueError("bill row with a different number of cells than its header")
        kind = cells[column["kind"]]
        # Refund rows show the refunded amount as a negative number.
        amount_fen = yuan_to_fen(cells[column["amount"]].removeprefix("-"))
        if kind == BILL_PAYMENT:
            rows.append(
                BillRow(
                    order_no=cells[column["order_no"]],
                    transaction_id=cells[column["transaction_id"]],
                    status="paid",
                    amount_fen=amount_fen,
                )
            )
        elif kind == BILL_REFUND:
            rows.append(
                BillRow(
                    order_no=cells[column["order_no"]],
                    transaction_id=cells[column["transaction_id"]],
                    status="refunded",
                    amount_fen=amount_fen,
                    refund_no=cells[column["refund_no"]],
                )
            )
        else:
            log.warning("alipay bill: row of business type %r left out", kind)
    return rows


class AlipayPayProvider:
    """PaymentProvider for Alipay mini-program payments; keys come from settings unless given (tests)."""

    channel = "alipay"

    def __init__(self, settings: Settings, cache: Cache, *, keys: AlipayKeys | None = None) -> None:
        # cache: the platform clients' common signature; Alipay payments keep no state of their own.
        self._id_mode = settings.alipay.id_mode
        self._app_id = settings.alipay.app_id
        self._seller_id = settings.alipay.seller_id
        self._notify_url = alipay_notify_url(settings)
        config = sdk_config(settings, keys or alipay_keys(settings))
        self._alipay_public_key = config.alipay_public_key
        # A pool of its own, so a burst of message sends never queues a payment call behind it.
        self._executor = sdk_executor(settings, config, name="alipay_pay")

    async def aclose(self) -> None:
        """Stop the SDK clients (close(order_no) is PaymentProvider's: it closes a trade)."""
        await self._executor.close()

    async def create(
        self, *, order_no: str, amount_fen: int, description: str, payer_id: str, expires_at: datetime
    ) -> dict[str, Any]:
        """alipay.trade.create for the buyer; {"trade_no"}, which the mini-program passes to my.tradePay."""
        total_amount = fen_to_yuan(amount_fen)
        if amount_fen == 0:
            raise ValueError("Alipay takes no trade of 0")
        model = AlipayTradeCreateModel()
        model.out_trade_no = order_no
        model.total_amount = total_amount
        model.subject = description
        # The payer's id as login gave it: a 2088 user_id, or an open_id for an app in open_id mode.
        if self._id_mode == "open_id":
            model.buyer_open_id = payer_id
        else:
            model.buyer_id = payer_id
        model.product_code = PRODUCT_CODE
        model.time_expire = alipay_time(expires_at)
        if self._seller_id:
            model.seller_id = self._seller_id
        request = AlipayTradeCreateRequest(biz_model=model)
        request.notify_url = self._notify_url
        response = await self._call("trade_create", request, AlipayTradeCreateResponse)
        if not response.trade_no or response.out_trade_no not in (None, order_no):
            log.warning("alipay trade_create: answer without trade_no or for another order")
            raise PlatformError()
        return {"trade_no": response.trade_no}

    async def parse_notification(self, *, headers: dict[str, str], body: bytes) -> Notification:
        """Verify (RSA2 over the form, Alipay's public key) and decode an asynchronous notification."""
        # headers: Alipay's form carries its charset and signature itself; nothing in the headers is needed.
        params = self._notification_params(body)
        signature = params.get("sign")
        if not signature or params.get("sign_type") != "RSA2":
            raise self._refuse("no RSA2 signature")
        charset = params.get("charset") or "utf-8"
        try:
            genuine = verify_with_rsa(
                self._alipay_public_key, notification_sign_content(params).encode(charset), signature
            )
        except (VerificationError, binascii.Error, ValueError, LookupError):
            # The SDK raises rather than answers False for a bad sign; LookupError: a charset nobody knows.
            genuine = False
        if not genuine:
            raise self._refuse("signature did not verify")
        if self._seller_id and params.get("seller_id") != self._seller_id:
            # Genuine, but money that went to another merchant account: never counted as ours.
            raise self._refuse("seller_id is not ours")
        try:
            return self._notification(params)
        except (KeyError, ValueError, TypeError) as exc:
            raise self._refuse(f"unreadable fields ({exc.__class__.__name__})") from None

    def acknowledge(self, verdict: Verdict) -> Acknowledgement:
        """Alipay stops retrying on the literal text success; anything else is tried again later (it has no word for
        refused for good, so a refusal is answered failure too)."""
        return Acknowledgement(
            status=200,
            body=b"success" if verdict == "accepted" else b"failure",
            content_type="text/plain; charset=utf-8",
        )

    async def query(self, order_no: str) -> TradeState:
        """alipay.trade.query; AlipayTradeRefused (ACQ.TRADE_NOT_EXIST) for an order never created at Alipay."""
        model = AlipayTradeQueryModel()
        model.out_trade_no = order_no
        response = await self._call("trade_query", AlipayTradeQueryRequest(biz_model=model), AlipayTradeQueryResponse)
        try:
            return self._trade_state(order_no, response)
        except (KeyError, ValueError, TypeError) as exc:
            log.warning("alipay trade_query: unreadable answer (%s)", exc.__class__.__name__)
            raise PlatformError() from None

    async def close(self, order_no: str) -> None:
        """alipay.trade.close; nothing to do when the trade is already closed or was never opened at Alipay."""
        model = AlipayTradeCloseModel()
        model.out_trade_no = order_no
        response = await execute_request(
            self._executor, "trade_close", AlipayTradeCloseRequest(biz_model=model), AlipayTradeCloseResponse
        )
        if response.sub_code == "ACQ.TRADE_NOT_EXIST":
            return
        if response.sub_code == "ACQ.TRADE_STATUS_ERROR":
            # Closed already, or paid: only the first is fine, and only a query tells them apart.
            if (await self.query(order_no)).status == "closed":
                return
            raise AlipayTradeRefused("ACQ.TRADE_STATUS_ERROR", "这笔交易已支付，不能关闭")
        raise_for_trade_code("trade_close", response)

    async def refund(
        self, *, order_no: str, refund_no: str, refund_fen: int, total_fen: int, reason: str
    ) -> RefundState:
        """alipay.trade.refund with refund_no as out_request_no, so asking again never refunds twice."""
        refund_amount = fen_to_yuan(refund_fen)
        if refund_fen == 0 or refund_fen > total_fen:
            raise ValueError("a refund is more than 0 and at most the order's total")
        model = AlipayTradeRefundModel()
        model.out_trade_no = order_no
        model.out_request_no = refund_no
        model.refund_amount = refund_amount
        model.refund_reason = reason
        response = await self._call(
            "trade_refund", AlipayTradeRefundRequest(biz_model=model), AlipayTradeRefundResponse
        )
        if response.fund_change == "Y":
            return RefundState(
                order_no=order_no, refund_no=refund_no, status="succeeded", refund_fen=refund_fen, raw=_raw(response)
            )
        # N (or absent) is not a failure: a repeat of a done refund moves no money; Alipay says to ask what happened.
        return await self._refund_query(order_no, refund_no, refund_fen)

    async def query_refund(self, *, order_no: str, refund_no: str) -> RefundState:
        """alipay.trade.fastpay.refund.query; processing while Alipay shows no such refund (it says: not done yet)."""
        # Alipay's docs: an answer without the refund means it has not succeeded and may be sent again with the same
        # out_request_no, and a query soon after the refund may not see it yet. Never "failed": that would give back
        # an amount a refund still under way may take.
        return await self._refund_query(order_no, refund_no, None)

    async def bill(self, day: date) -> list[BillRow]:
        """The trade bill of one day (Beijing time) from alipay.data.dataservice.bill.downloadurl.query."""
        model = AlipayDataDataserviceBillDownloadurlQueryModel()
        model.bill_type = BILL_TYPE
        model.bill_date = day.isoformat()
        response = await self._call(
            "bill_url",
            AlipayDataDataserviceBillDownloadurlQueryRequest(biz_model=model),
            AlipayDataDataserviceBillDownloadurlQueryResponse,
        )
        if not response.bill_download_url:
            log.warning("alipay bill_url: answer without bill_download_url")
            raise PlatformError()
        url = response.bill_download_url
        # The link lives 30 seconds: fetched at once, on the same pool and with the same timeout as gateway calls.
        archive = await run_sdk(self._executor, "bill_download", lambda client: client.download(url))
        try:
            return parse_trade_bill(archive)
        except ValueError as exc:
            log.warning("alipay bill of %s: unreadable (%s)", day.isoformat(), exc)
            raise PlatformError() from None

    async def _refund_query(self, order_no: str, refund_no: str, refund_fen: int | None) -> RefundState:
        """The refund as Alipay shows it; refund_fen, when given, is the amount it must be of."""
        model = AlipayTradeFastpayRefundQueryModel()
        model.out_trade_no = order_no
        model.out_request_no = refund_no
        response = await self._call(
            "refund_query", AlipayTradeFastpayRefundQueryRequest(biz_model=model), AlipayTradeFastpayRefundQueryResponse
        )
        # Alipay: an answer naming the refund, with refund_status empty or REFUND_SUCCESS, is a refund done.
        found = response.out_request_no == refund_no and response.refund_amount
        if found and response.refund_status in (None, "", "REFUND_SUCCESS"):
            try:
                refunded_fen = yuan_to_fen(response.refund_amount)
            except (TypeError, ValueError):
                log.warning("alipay refund_query: unreadable refund_amount")
                raise PlatformError() from None
            if refund_fen is not None and refunded_fen != refund_fen:
                log.warning("alipay refund_query: refund %s is of another amount", refund_no)
                raise AlipayTradeRefused("ACQ.DISCORDANT_REPEAT_REQUEST")
            return RefundState(
                order_no=order_no, refund_no=refund_no, status="succeeded", refund_fen=refunded_fen, raw=_raw(response)
            )
        # Not (yet) there: still open; the same refund_no may be sent again safely. The amount is ours when known:
        # Alipay names none for a refund it does not show.
        return RefundState(
            order_no=order_no, refund_no=refund_no, status="processing", refund_fen=refund_fen or 0, raw=_raw(response)
        )

    async def _call(self, what: str, request, response_type: Callable[[], AnyResponse]) -> AnyResponse:
        response = await execute_request(self._executor, what, request, response_type)
        raise_for_trade_code(what, response)
        return response

    def _trade_state(self, order_no: str, response: AlipayTradeQueryResponse) -> TradeState:
        if response.out_trade_no not in (None, order_no):
            raise ValueError("answer for another order")
        paid_at = parse_alipay_time(response.send_pay_date) if response.send_pay_date else None
        return TradeState(
            order_no=order_no,
            status=_query_status(response.trade_status, paid=paid_at is not None),
            amount_fen=yuan_to_fen(response.total_amount),
            merchant_id=self._app_id,
            transaction_id=response.trade_no or "",
            paid_at=paid_at,
            raw=_raw(response),
        )

    def _notification_params(self, body: bytes) -> dict[str, str]:
        try:
            # A urlencoded form is ASCII; the percent-escapes decode in the charset the form names (utf-8 here).
            text = body.decode("ascii")
            pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True, errors="strict")
            charset = dict(pairs).get("charset") or "utf-8"
            if charset.lower().replace("-", "") != "utf8":
                pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True, encoding=charset, errors="strict")
        except (UnicodeDecodeError, ValueError, LookupError) as exc:
            raise self._refuse(f"not a form ({exc.__class__.__name__})") from None
        params = dict(pairs)
        if len(params) != len(pairs):
            raise self._refuse("a parameter given twice")
        return params

    def _notification(self, params: dict[str, str]) -> Notification:
        order_no = params["out_trade_no"]
        if not order_no:
            raise ValueError("no out_trade_no")
        status = _notified_status(params["trade_status"])
        if params.get("out_biz_no") and params.get("refund_fee"):
            # A refund's notification: trade_status is TRADE_CLOSED after a full refund, TRADE_SUCCESS after a
            # partial one. Alipay's refund_fee is the trade's refunded total so far, not this refund alone.
            return Notification(
                kind="refund",
                refund=RefundState(
                    order_no=order_no,
                    refund_no=params["out_biz_no"],
                    status="succeeded",
                    refund_fen=yuan_to_fen(params["refund_fee"]),
                    raw=_without_sign(params),
                ),
            )
        paid_at = parse_alipay_time(params["gmt_payment"]) if params.get("gmt_payment") else None
        return Notification(
            kind="trade",
            trade=TradeState(
                order_no=order_no,
                status=status,
                amount_fen=yuan_to_fen(params["total_amount"]),
                merchant_id=params["app_id"],
                transaction_id=params.get("trade_no", ""),
                paid_at=paid_at if status == "paid" else None,
                raw=_without_sign(params),
            ),
        )

    @staticmethod
    def _refuse(reason: str) -> BadNotification:
        log.warning("alipay notification refused: %s", reason)
        return BadNotification()


def raise_for_trade_code(what: str, response: AlipayResponse) -> None:
    """Nothing on success; PlatformUnavailable for Alipay's own trouble; AlipayTradeRefused for any refusal."""
    if is_success(response):
        return
    if is_transient(response):
        raise_for_code(what, response)  # PlatformUnavailable, logged there
    sub_code = response.sub_code or response.code or ""
    log.warning("alipay %s: refused, code %s sub_code %s", what, response.code, sub_code)
    raise AlipayTradeRefused(sub_code)


def _query_status(trade_status: str | None, *, paid: bool) -> TradeStatus:
    if trade_status == "WAIT_BUYER_PAY":
        return "pending"
    if trade_status in PAID_TRADE_STATUSES:
        return "paid"
    if trade_status == "TRADE_CLOSED":
        # Closed after money came in means refunded in full; closed without ever being paid is just closed.
        return "refunded" if paid else "closed"
    raise ValueError(f"unknown trade_status {trade_status!r}")


def _notified_status(trade_status: str) -> TradeStatus:
    if trade_status in PAID_TRADE_STATUSES:
        return "paid"
    if trade_status == "TRADE_CLOSED":
        return "closed"
    if trade_status == "WAIT_BUYER_PAY":  # sent only to merchants who asked for it
        return "pending"
    raise ValueError(f"unknown trade_status {trade_status!r}")


def _raw(response: AlipayResponse) -> dict[str, Any]:
    # Decimal, not float, for any number Alipay might one day send unquoted.
    return json.loads(response.body, parse_float=Decimal) if response.body else {}


def _without_sign(params: dict[str, str]) -> dict[str, Any]:
    return {name: value for name, value in params.items() if name not in ("sign", "sign_type")}
