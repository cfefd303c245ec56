"""Alipay payments through alipay-sdk-python against the simulated gateway: fen and yuan, trades, notifications
(RSA2 both ways), close, refunds, the bill, and faults."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from alipay.aop.api.response.AlipayResponse import AlipayResponse

from app.core.config import ConfigError, load_settings
from app.platforms import PlatformError, PlatformUnavailable
from app.platforms.alipay import AlipayKeys
from app.platforms.alipay_pay import (
    ALIPAY_TIMEZONE,
    NOTIFY_PATH,
    AlipayPayProvider,
    AlipayTradeRefused,
    alipay_notify_url,
    fen_to_yuan,
    parse_trade_bill,
    raise_for_trade_code,
    yuan_to_fen,
)
from app.platforms.keys import ensure_sim_keys, generate_key_pair, rsa2_sign
from app.platforms.payment_types import BadNotification, BillRow
from app.platforms.sim.alipay import bill_archive, notification_sign_content, sign_notification
from tests.platforms.conftest import with_changes

BUYER = "2088000000000101"


# ---- fen and yuan ----


@pytest.mark.parametrize(
    ("fen", "yuan"),
    [
        (0, "0.00"),
        (1, "0.01"),
        (9, "0.09"),
        (10, "0.10"),
        (99, "0.99"),
        (100, "1.00"),
        (1250, "12.50"),
        (10000, "100.00"),
        (123456789, "1234567.89"),
        (10_000_000_000, "100000000.00"),
    ],
)
def test_fen_to_yuan__two_decimals_exactly(fen, yuan):
    assert fen_to_yuan(fen) == yuan


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (-1, ValueError),
        (True, TypeError),
        (False, TypeError),
        (1.0, TypeError),
        (0.1 + 0.2, TypeError),
        (Decimal("1"), TypeError),
        ("100", TypeError),
        (None, TypeError),
    ],
)
def test_fen_to_yuan__refuses_negatives_and_anything_but_int(value, error):
    with pytest.raises(error):
        fen_to_yuan(value)


@pytest.mark.parametrize(
    ("yuan", "fen"),
    [
        ("0", 0),
        ("0.00", 0),
        ("0.01", 1),
        ("0.1", 10),
        ("0.10", 10),
        ("1", 100),
        ("12.5", 1250),
        ("12.50", 1250),
        ("100", 10000),
        ("100.00", 10000),
        ("1234567.89", 123456789),
        ("100000000.00", 10_000_000_000),
    ],
)
def test_yuan_to_fen__exact_decimal_parsing(yuan, fen):
    assert yuan_to_fen(yuan) == fen


@pytest.mark.parametrize(
    "text",
    [
        "1.005",
        "0.001",
        "-1.00",
        "-0.01",
        "+1.00",
        "",
        " 1.00",
        "1.00 ",
        "1.",
        ".5",
        "01.00",
        "1e2",
        "1,000.00",
        "abc",
        "1.0.0",
        "NaN",
        "Infinity",
        "１.００",
        "1.00\n",
    ],
)
def test_yuan_to_fen__refuses_more_than_two_decimals_signs_and_garbage(text):
    with pytest.raises(ValueError):
        yuan_to_fen(text)


@pytest.mark.parametrize("value", [0.1 + 0.2, 12.5, 1, True, None, Decimal("12.50"), b"12.50"])
def test_yuan_to_fen__refuses_anything_but_text(value):
    with pytest.raises(TypeError):
        yuan_to_fen(value)


def test_fen_and_yuan__round_trip():
    for fen in (*range(0, 2000), *range(2000, 10**7, 9973)):
        assert yuan_to_fen(fen_to_yuan(fen)) == fen


# ---- a stand-in for our notify route ----


class Receiver:
    """Records every notification POSTed to it and answers `answer` (what our route would say)."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.content_types: list[str] = []
        self.answer = b"success"
        self.status = b"200 OK"
        self.url = ""
        self._arrived = asyncio.Condition()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"(?im)^content-length:\s*(\d+)", head).group(1))
        content_type = re.search(rb"(?im)^content-type:\s*([^\r\n]*)", head).group(1).decode()
        body = await reader.readexactly(length)
        writer.write(
            b"HTTP/1.1 %s\r\nContent-Type: text/plain\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (self.status, len(self.answer), self.answer)
        )
        await writer.drain()
        writer.close()
        async with self._arrived:
            self.bodies.append(body)
            self.content_types.append(content_type)
            self._arrived.notify_all()

    async def wait_for(self, count: int, timeout: float) -> None:
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: len(self.bodies) >= count), timeout)


@pytest.fixture
async def receiver():
    receiver = Receiver()
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    receiver.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/notify"
    yield receiver
    server.close()
    await server.wait_closed()


@pytest.fixture
async def make_provider(cache):
    """Build AlipayPayProvider clients (other settings or keys); closed after the test."""
    made: list[AlipayPayProvider] = []

    def make(settings, **kwargs) -> AlipayPayProvider:
        made.append(AlipayPayProvider(settings, cache, **kwargs))
        return made[-1]

    yield make
    for provider in made:
        await provider.aclose()


@pytest.fixture
def provider(settings, make_provider, receiver) -> AlipayPayProvider:
    """The provider with its notifications going to the receiver, not to the payments route."""
    return make_provider(with_changes(settings, alipay={"notify_url": receiver.url}))


def new_order_no() -> str:
    return "GHT" + secrets.token_hex(12)


def in_minutes(minutes: float) -> datetime:
    return datetime.now(ALIPAY_TIMEZONE) + timedelta(minutes=minutes)


async def open_trade(provider: AlipayPayProvider, amount_fen: int = 1250, **changes) -> tuple[str, str]:
    """A new trade at the simulated Alipay: (order_no, trade_no)."""
    order_no = new_order_no()
    created = await provider.create(
        **{
            "order_no": order_no,
            "amount_fen": amount_fen,
            "description": "居民身份证换领",
            "payer_id": BUYER,
            "expires_at": in_minutes(30),
            **changes,
        }
    )
    return order_no, created["trade_no"]


async def pay(client, order_no: str, **extra) -> dict:
    answer = await client.post("/sim/alipay/pay", json={"order_no": order_no, **extra})
    assert answer.status_code == 200, answer.text
    return answer.json()


def notification_form(settings, **changes) -> dict[str, str]:
    """A TRADE_SUCCESS notification's parameters, as the simulated Alipay would sign them."""
    params = {
        "notify_time": "2026-11-23 10:00:06",
        "notify_type": "trade_status_sync",
        "notify_id": "n1",
        "app_id": settings.alipay.app_id,
        "charset": "utf-8",
        "version": "1.0",
        "trade_no": "2026112322001000000000000001",
        "out_trade_no": "GH0001",
        "buyer_id": BUYER,
        "seller_id": "2088000000000000",
        "trade_status": "TRADE_SUCCESS",
        "total_amount": "12.50",
        "receipt_amount": "12.50",
        "subject": "居民身份证换领 & 补领=",
        "gmt_create": "2026-11-23 10:00:00",
        "gmt_payment": "2026-11-23 10:00:05",
        "fund_bill_list": '[{"amount":"12.50","fundChannel":"ALIPAYACCOUNT"}]',
        "passback_params": "",
    }
    params.update(changes)
    return {name: value for name, value in params.items() if value is not None}


def form_body(form: dict[str, str]) -> bytes:
    return urlencode(form).encode("ascii")


# ---- create and query ----


async def test_create__returns_the_trade_no_and_the_trade_waits_for_the_buyer(settings, provider):
    order_no, trade_no = await open_trade(provider, 1250)
    assert re.fullmatch(r"\d{28}", trade_no)
    trade = await provider.query(order_no)
    assert (trade.order_no, trade.status, trade.amount_fen, trade.transaction_id) == (
        order_no,
        "pending",
        1250,
        trade_no,
    )
    assert trade.merchant_id == settings.alipay.app_id
    assert trade.paid_at is None


async def test_create__the_same_order_again_is_the_same_trade_unless_it_differs(provider):
    order_no, trade_no = await open_trade(provider, 500)
    again = await provider.create(
        order_no=order_no, amount_fen=500, description="居民身份证换领", payer_id=BUYER, expires_at=in_minutes(30)
    )
    assert again == {"trade_no": trade_no}
    with pytest.raises(AlipayTradeRefused) as refused:
        await provider.create(
            order_no=order_no, amount_fen=501, description="居民身份证换领", payer_id=BUYER, expires_at=in_minutes(30)
        )
    assert refused.value.sub_code == "ACQ.CONTEXT_INCONSISTENT"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"amount_fen": 0}, ValueError),
        ({"amount_fen": -1}, ValueError),
        ({"amount_fen": True}, TypeError),
        ({"amount_fen": 12.5}, TypeError),
        ({"expires_at": datetime(2030, 1, 1, 12, 0)}, ValueError),
    ],
)
async def test_create__refuses_amounts_that_are_not_positive_fen_and_naive_times(provider, changes, error):
    with pytest.raises(error):
        await open_trade(provider, **changes)


async def test_create__a_buyer_alipay_does_not_know_is_refused(provider):
    with pytest.raises(AlipayTradeRefused) as refused:
        await open_trade(provider, payer_id="not-a-user")
    assert refused.value.sub_code == "ACQ.INVALID_PARAMETER"


async def test_query__an_order_never_created_is_a_platform_error(provider):
    with pytest.raises(PlatformError) as refused:
        await provider.query(new_order_no())
    assert refused.value.sub_code == "ACQ.TRADE_NOT_EXIST"
    assert refused.value.status_code == 502


async def test_pay__the_buyer_pays_and_the_query_says_paid(client, provider, receiver):
    order_no, trade_no = await open_trade(provider, 1250)
    assert await pay(client, order_no) == {"delivered": True, "status": 200, "body": "success"}
    trade = await provider.query(order_no)
    assert (trade.status, trade.amount_fen, trade.transaction_id) == ("paid", 1250, trade_no)
    assert trade.paid_at is not None and abs(trade.paid_at - datetime.now(ALIPAY_TIMEZONE)) < timedelta(minutes=1)
    assert trade.raw["trade_status"] == "TRADE_SUCCESS"
    again = await client.post("/sim/alipay/pay", json={"order_no": order_no})
    assert again.status_code == 409


async def test_pay__an_unknown_order_is_404(client):
    answer = await client.post("/sim/alipay/pay", json={"order_no": new_order_no()})
    assert answer.status_code == 404


async def test_pay__an_expired_trade_is_closed_and_cannot_be_paid(client, provider):
    order_no, _ = await open_trade(provider, expires_at=datetime.now(ALIPAY_TIMEZONE) + timedelta(seconds=1.2))
    # Closed within 2.3 s (1.2 s to pay, Alipay's whole seconds): asked until then, not slept through.
    closed_by = time.monotonic() + 2.3
    while (await provider.query(order_no)).status != "closed" and time.monotonic() < closed_by:
        await asyncio.sleep(0.05)
    assert (await provider.query(order_no)).status == "closed"
    assert (await client.post("/sim/alipay/pay", json={"order_no": order_no})).status_code == 409


# ---- notifications ----


async def test_notification__what_the_simulator_delivers_verifies_and_says_paid(settings, client, provider, receiver):
    order_no, trade_no = await open_trade(provider, 1250)
    await pay(client, order_no)
    assert len(receiver.bodies) == 1
    assert receiver.content_types[0].startswith("application/x-www-form-urlencoded")
    notification = await provider.parse_notification(headers={}, body=receiver.bodies[0])
    assert notification.kind == "trade" and notification.refund is None
    trade = notification.trade
    assert (trade.order_no, trade.status, trade.amount_fen, trade.transaction_id) == (order_no, "paid", 1250, trade_no)
    assert trade.merchant_id == settings.alipay.app_id
    assert trade.paid_at == (await provider.query(order_no)).paid_at
    assert "sign" not in trade.raw


async def test_notification__our_answer_decides_delivered(client, provider, receiver):
    receiver.answer = b"failure"
    order_no, _ = await open_trade(provider)
    assert await pay(client, order_no) == {"delivered": False, "status": 200, "body": "failure"}


async def test_notification__a_forged_signature_is_refused(client, provider, receiver):
    order_no, _ = await open_trade(provider)
    await pay(client, order_no, sign="bad")
    with pytest.raises(BadNotification):
        await provider.parse_notification(headers={}, body=receiver.bodies[0])


async def test_notification__an_amount_changed_after_signing_is_refused(client, provider, receiver):
    order_no, _ = await open_trade(provider, 1250)
    await pay(client, order_no, amount_fen=1)
    assert b"total_amount=0.01" in receiver.bodies[0]
    with pytest.raises(BadNotification):
        await provider.parse_notification(headers={}, body=receiver.bodies[0])
    # The buyer did pay the real amount; only the message was changed.
    assert (await provider.query(order_no)).amount_fen == 1250


async def test_parse_notification__genuine_form_signed_by_the_simulator(settings, provider):
    notification = await provider.parse_notification(
        headers={"content-type": "application/x-www-form-urlencoded; charset=utf-8"},
        body=form_body(sign_notification(settings, notification_form(settings))),
    )
    trade = notification.trade
    assert (notification.kind, trade.order_no, trade.status, trade.amount_fen) == ("trade", "GH0001", "paid", 1250)
    assert trade.transaction_id == "2026112322001000000000000001"
    assert trade.paid_at == datetime(2026, 11, 23, 10, 0, 5, tzinfo=ALIPAY_TIMEZONE)


async def test_parse_notification__trade_finished_is_paid_and_trade_closed_is_closed(settings, provider):
    finished = await provider.parse_notification(
        headers={},
        body=form_body(sign_notification(settings, notification_form(settings, trade_status="TRADE_FINISHED"))),
    )
    assert finished.trade.status == "paid"
    closed = await provider.parse_notification(
        headers={},
        body=form_body(
            sign_notification(settings, notification_form(settings, trade_status="TRADE_CLOSED", gmt_payment=None))
        ),
    )
    assert (closed.kind, closed.trade.status, closed.trade.paid_at) == ("trade", "closed", None)


async def test_parse_notification__a_refund_notification_is_a_refund(settings, provider):
    form = notification_form(
        settings,
        trade_status="TRADE_CLOSED",
        out_biz_no="RGH0001",
        refund_fee="12.50",
        gmt_refund="2026-11-24 09:00:00.123",
    )
    notification = await provider.parse_notification(headers={}, body=form_body(sign_notification(settings, form)))
    assert notification.kind == "refund" and notification.trade is None
    refund = notification.refund
    assert (refund.order_no, refund.refund_no, refund.status, refund.refund_fen) == (
        "GH0001",
        "RGH0001",
        "succeeded",
        1250,
    )


async def test_parse_notification__an_amount_changed_after_signing_is_refused(settings, provider):
    form = sign_notification(settings, notification_form(settings))
    form["total_amount"] = "0.01"
    with pytest.raises(BadNotification):
        await provider.parse_notification(headers={}, body=form_body(form))


async def test_parse_notification__a_sign_by_another_key_is_refused(settings, provider):
    form = sign_notification(settings, notification_form(settings))
    form["sign"] = rsa2_sign(generate_key_pair().private_pem, notification_sign_content(form))
    with pytest.raises(BadNotification):
        await provider.parse_notification(headers={}, body=form_body(form))


@pytest.mark.parametrize(
    "change",
    [
        lambda form: form.pop("sign"),
        lambda form: form.update(sign=""),
        lambda form: form.update(sign="not base64 at all!"),
        lambda form: form.update(sign="AAAA"),
        lambda form: form.pop("sign_type"),
        lambda form: form.update(sign_type="RSA"),
        lambda form: form.update(charset="no-such-charset"),
        lambda form: form.update(app_id="2021000000000001 "),
        lambda form: form.pop("passback_params"),  # an empty parameter is signed too
    ],
)
async def test_parse_notification__missing_or_broken_signature_is_refused(settings, provider, change):
    form = sign_notification(settings, notification_form(settings))
    change(form)
    with pytest.raises(BadNotification):
        await provider.parse_notification(headers={}, body=form_body(form))


@pytest.mark.parametrize(
    "changes",
    [
        {"total_amount": "12.505"},
        {"total_amount": "-12.50"},
        {"total_amount": None},
        {"trade_status": "WHATEVER"},
        {"out_trade_no": None},
        {"out_trade_no": ""},
        {"gmt_payment": "yesterday"},
        {"app_id": None},
    ],
)
async def test_parse_notification__genuine_but_unreadable_is_refused(settings, provider, changes):
    form = sign_notification(settings, notification_form(settings, **changes))
    with pytest.raises(BadNotification):
        await provider.parse_notification(headers={}, body=form_body(form))


@pytest.mark.parametrize("body", [b"", b"\xff\xfe", b"not a form", b"a=1&a=2", "sign=中文".encode()])
async def test_parse_notification__bodies_that_are_not_forms_are_refused(provider, body):
    with pytest.raises(BadNotification):
        await provider.parse_notification(headers={}, body=body)


async def test_parse_notification__a_parameter_given_twice_is_refused(settings, provider):
    body = form_body(sign_notification(settings, notification_form(settings))) + b"&total_amount=0.01"
    with pytest.raises(BadNotification):
        await provider.parse_notification(headers={}, body=body)


async def test_parse_notification__seller_id_is_checked_where_configured(settings, make_provider):
    checking = make_provider(with_changes(settings, alipay={"seller_id": "2088000000000999"}))
    body = form_body(sign_notification(settings, notification_form(settings)))
    with pytest.raises(BadNotification):
        await checking.parse_notification(headers={}, body=body)
    ours = form_body(sign_notification(settings, notification_form(settings, seller_id="2088000000000999")))
    assert (await checking.parse_notification(headers={}, body=ours)).trade.status == "paid"


async def test_parse_notification__verified_with_the_configured_alipay_key(settings, make_provider):
    stranger = generate_key_pair()
    sim_keys = ensure_sim_keys(settings)
    other = make_provider(
        settings,
        keys=AlipayKeys(app_private_key=sim_keys.alipay_app.private_pem, alipay_public_key=stranger.public_pem),
    )
    with pytest.raises(BadNotification):
        await other.parse_notification(
            headers={}, body=form_body(sign_notification(settings, notification_form(settings)))
        )


def test_acknowledge__the_literal_success_or_failure(provider):
    ok, refused, failed = (
        provider.acknowledge("accepted"),
        provider.acknowledge("refused"),
        provider.acknowledge("retry"),
    )
    assert (ok.status, ok.body) == (200, b"success")
    # Alipay knows no "refused for good": anything but success is failure, and it tries again.
    assert (refused.status, refused.body) == (200, b"failure") == (failed.status, failed.body)
    assert ok.content_type.startswith("text/plain")


def test_notify_url__defaults_to_the_payments_callback_route(settings):
    assert alipay_notify_url(settings) == settings.app.public_base_url + NOTIFY_PATH
    assert NOTIFY_PATH == "/api/v1/pay/notify/alipay"
    configured = with_changes(settings, alipay={"notify_url": "https://pay.example.gov.cn/alipay"})
    assert alipay_notify_url(configured) == "https://pay.example.gov.cn/alipay"


async def test_notify_faults__twice_never_and_late(client, provider, receiver, faults):
    await faults("alipay", 0, notify="twice")
    order_no, _ = await open_trade(provider)
    assert (await pay(client, order_no))["delivered"] is True
    assert len(receiver.bodies) == 2 and receiver.bodies[0] == receiver.bodies[1]

    await faults("alipay", 0, notify="never")
    order_no, _ = await open_trade(provider)
    assert await pay(client, order_no) == {"delivered": False, "status": None, "body": None}
    assert len(receiver.bodies) == 2
    assert (await provider.query(order_no)).status == "paid"

    await faults("alipay", 0, notify="late", delay_ms=300)
    order_no, _ = await open_trade(provider)
    assert await pay(client, order_no) == {"delivered": False, "status": None, "body": None}
    assert len(receiver.bodies) == 2
    await receiver.wait_for(3, timeout=5)
    assert (await provider.parse_notification(headers={}, body=receiver.bodies[2])).trade.order_no == order_no
    listed = (await client.get("/sim/faults")).json()["faults"]
    assert listed == [{"platform": "alipay", "error_rate": 0.0, "errcode": None, "delay_ms": 300, "notify": "late"}]


async def test_pay__an_unreachable_notify_url_is_not_delivered(settings, client, make_provider):
    unreachable = make_provider(with_changes(settings, alipay={"notify_url": "http://127.0.0.1:9/notify"}))
    order_no, _ = await open_trade(unreachable)
    assert await pay(client, order_no) == {"delivered": False, "status": None, "body": None}


# ---- close ----


async def test_close__an_open_trade_closes_and_closing_again_is_no_error(client, provider):
    order_no, _ = await open_trade(provider)
    await provider.close(order_no)
    assert (await provider.query(order_no)).status == "closed"
    await provider.close(order_no)
    assert (await client.post("/sim/alipay/pay", json={"order_no": order_no})).status_code == 409


async def test_close__an_order_alipay_never_saw_is_no_error(provider):
    order_no = new_order_no()
    assert await provider.close(order_no) is None
    # Closing opened nothing: Alipay still knows no such trade.
    with pytest.raises(AlipayTradeRefused) as refused:
        await provider.query(order_no)
    assert refused.value.sub_code == "ACQ.TRADE_NOT_EXIST"


async def test_close__a_paid_trade_cannot_be_closed(client, provider):
    order_no, _ = await open_trade(provider)
    await pay(client, order_no)
    with pytest.raises(AlipayTradeRefused) as refused:
        await provider.close(order_no)
    assert refused.value.sub_code == "ACQ.TRADE_STATUS_ERROR"
    assert (await provider.query(order_no)).status == "paid"


# ---- refunds ----


async def paid_trade(client, provider, amount_fen: int) -> tuple[str, str]:
    order_no, trade_no = await open_trade(provider, amount_fen)
    await pay(client, order_no)
    return order_no, trade_no


async def test_refund__partial_refunds_add_up_and_never_pass_what_was_paid(client, provider):
    order_no, _ = await paid_trade(client, provider, 1000)
    first = await provider.refund(
        order_no=order_no, refund_no=f"R{order_no}1", refund_fen=300, total_fen=1000, reason="部分退费"
    )
    assert (first.order_no, first.refund_no, first.status, first.refund_fen) == (
        order_no,
        f"R{order_no}1",
        "succeeded",
        300,
    )
    with pytest.raises(AlipayTradeRefused) as refused:
        await provider.refund(
            order_no=order_no, refund_no=f"R{order_no}2", refund_fen=701, total_fen=1000, reason="超额"
        )
    assert refused.value.sub_code == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
    assert (await provider.query(order_no)).status == "paid"
    rest = await provider.refund(
        order_no=order_no, refund_no=f"R{order_no}2", refund_fen=700, total_fen=1000, reason="余额退费"
    )
    assert rest.status == "succeeded"
    assert (await provider.query(order_no)).status == "refunded"


async def test_refund__asking_again_with_the_same_refund_no_refunds_once(client, provider):
    order_no, _ = await paid_trade(client, provider, 1000)
    arguments = {
        "order_no": order_no,
        "refund_no": f"R{order_no}",
        "refund_fen": 600,
        "total_fen": 1000,
        "reason": "办件未获批准",
    }
    assert (await provider.refund(**arguments)).status == "succeeded"
    again = await provider.refund(**arguments)
    assert (again.status, again.refund_fen) == ("succeeded", 600)
    assert again.raw["refund_status"] == "REFUND_SUCCESS"  # confirmed by the refund query: no money moved again
    # 600 refunded once: 400 are left, not -200.
    assert (
        await provider.refund(**{**arguments, "refund_no": f"R{order_no}b", "refund_fen": 400})
    ).status == "succeeded"
    with pytest.raises(AlipayTradeRefused) as refused:
        await provider.refund(**{**arguments, "refund_fen": 500})
    assert refused.value.sub_code == "ACQ.DISCORDANT_REPEAT_REQUEST"


async def test_refund__refunds_at_once_never_add_up_past_the_payment(client, provider):
    order_no, _ = await paid_trade(client, provider, 1000)
    results = await asyncio.gather(
        *(
            provider.refund(
                order_no=order_no, refund_no=f"R{order_no}{n}", refund_fen=300, total_fen=1000, reason="并发"
            )
            for n in range(6)
        ),
        return_exceptions=True,
    )
    succeeded = [result for result in results if not isinstance(result, Exception)]
    refused = [result for result in results if isinstance(result, AlipayTradeRefused)]
    assert len(succeeded) + len(refused) == 6
    assert sum(result.refund_fen for result in succeeded) <= 1000
    assert len(succeeded) == 3


async def test_refund__an_unpaid_trade_cannot_be_refunded(provider):
    order_no, _ = await open_trade(provider, 1000)
    with pytest.raises(AlipayTradeRefused) as refused:
        await provider.refund(
            order_no=order_no, refund_no=f"R{order_no}", refund_fen=100, total_fen=1000, reason="未支付"
        )
    assert refused.value.sub_code == "ACQ.TRADE_STATUS_ERROR"


async def test_query_refund__a_done_refund_is_succeeded(client, provider):
    order_no, _ = await paid_trade(client, provider, 1000)
    await provider.refund(order_no=order_no, refund_no=f"R{order_no}", refund_fen=600, total_fen=1000, reason="退费")
    state = await provider.query_refund(order_no=order_no, refund_no=f"R{order_no}")
    assert (state.order_no, state.refund_no, state.status, state.refund_fen) == (
        order_no,
        f"R{order_no}",
        "succeeded",
        600,
    )
    assert state.raw["refund_status"] == "REFUND_SUCCESS"


async def test_query_refund__a_refund_alipay_does_not_show_stays_processing(client, provider):
    # Alipay's docs: not shown means not done (yet), to be sent again with the same number; never "failed".
    order_no, _ = await paid_trade(client, provider, 1000)
    state = await provider.query_refund(order_no=order_no, refund_no=f"R{order_no}")
    assert (state.order_no, state.refund_no, state.status, state.refund_fen) == (
        order_no,
        f"R{order_no}",
        "processing",
        0,
    )


@pytest.mark.parametrize(
    ("refund_fen", "error"),
    [(0, ValueError), (1001, ValueError), (-5, ValueError), (True, TypeError), (1.5, TypeError)],
)
async def test_refund__amounts_outside_the_order_are_refused_before_asking(provider, refund_fen, error):
    with pytest.raises(error):
        await provider.refund(order_no="GH0001", refund_no="RGH0001", refund_fen=refund_fen, total_fen=1000, reason="x")


# ---- the bill ----


async def test_bill__lists_the_payment_and_the_refund_of_the_day(client, provider):
    order_no, trade_no = await paid_trade(client, provider, 1250)
    await provider.refund(
        order_no=order_no, refund_no=f"R{order_no}", refund_fen=250, total_fen=1250, reason="部分退费"
    )
    rows = await provider.bill(datetime.now(ALIPAY_TIMEZONE).date())
    assert BillRow(order_no=order_no, transaction_id=trade_no, status="paid", amount_fen=1250) in rows
    assert (
        BillRow(order_no=order_no, transaction_id=trade_no, status="refunded", amount_fen=250, refund_no=f"R{order_no}")
        in rows
    )


async def test_bill__a_day_alipay_has_no_bill_for_yet_is_unavailable(provider):
    with pytest.raises(PlatformUnavailable) as unavailable:
        await provider.bill(datetime.now(ALIPAY_TIMEZONE).date() + timedelta(days=2))
    assert unavailable.value.errcode == "isp.bill_not_exist"


async def test_bill__a_day_without_trades_is_empty(provider):
    assert await provider.bill(date(2001, 1, 1)) == []


def test_parse_trade_bill__reads_the_simulators_archive_with_commas_and_gbk():
    lines = [
        {
            "kind": "交易",
            "trade_no": "2026112322001000000000000001",
            "out_trade_no": "GH1",
            "subject": "营业执照, 补领",
            "gmt_create": "2026-11-23 10:00:00",
            "finished_at": "2026-11-23 10:00:05",
            "buyer_id": BUYER,
            "amount_fen": 100000,
            "out_request_no": "",
        },
        {
            "kind": "退款",
            "trade_no": "2026112322001000000000000001",
            "out_trade_no": "GH1",
            "subject": "营业执照, 补领",
            "gmt_create": "2026-11-23 10:00:00",
            "finished_at": "2026-11-23 11:00:00",
            "buyer_id": BUYER,
            "amount_fen": 1,
            "out_request_no": "RGH1",
        },
    ]
    archive = bill_archive("2088000000000000", date(2026, 11, 23), lines, exported_at=datetime(2026, 11, 24, 9))
    assert parse_trade_bill(archive) == [
        BillRow(order_no="GH1", transaction_id="2026112322001000000000000001", status="paid", amount_fen=100000),
        BillRow(
            order_no="GH1",
            transaction_id="2026112322001000000000000001",
            status="refunded",
            amount_fen=1,
            refund_no="RGH1",
        ),
    ]


@pytest.mark.parametrize("archive", [b"", b"not a zip", b"PK\x03\x04broken"])
def test_parse_trade_bill__what_is_not_a_bill_is_refused(archive):
    with pytest.raises(ValueError):
        parse_trade_bill(archive)


async def test_bill_link__expires_or_unknown_is_404(client):
    assert (await client.get("/sim/alipay/bill/nope")).status_code == 404


# ---- faults and outages ----


async def test_faults__a_failing_gateway_is_unavailable_for_every_call(provider, faults):
    order_no, _ = await open_trade(provider)
    await faults("alipay", 1)
    calls = [
        open_trade(provider),
        provider.query(order_no),
        provider.close(order_no),
        provider.refund(order_no=order_no, refund_no=f"R{order_no}", refund_fen=1, total_fen=1250, reason="x"),
        provider.bill(datetime.now(ALIPAY_TIMEZONE).date()),
    ]
    for call in calls:
        with pytest.raises(PlatformUnavailable) as unavailable:
            await call
        assert unavailable.value.errcode == "isp.unknow-error"
    await faults("alipay", 0)
    assert (await provider.query(order_no)).status == "pending"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (b"502 Bad Gateway", PlatformUnavailable),
        (b"503 Service Unavailable", PlatformUnavailable),
        (b"404 Not Found", PlatformError),
    ],
)
async def test_gateway_http_errors__5xx_is_unavailable_4xx_an_error(settings, make_provider, receiver, status, error):
    receiver.status = status
    provider = make_provider(with_changes(settings, alipay={"gateway_url": receiver.url}))
    with pytest.raises(error) as raised:
        await provider.query("GH0001")
    assert isinstance(raised.value, PlatformUnavailable) == (error is PlatformUnavailable)


@pytest.mark.parametrize(
    ("code", "sub_code", "error"),
    [
        ("40004", "ACQ.SYSTEM_ERROR", PlatformUnavailable),
        ("20000", "isp.unknow-error", PlatformUnavailable),
        ("40004", "isp.bill_not_exist", PlatformUnavailable),
        ("40004", "ACQ.TRADE_HAS_SUCCESS", AlipayTradeRefused),
        ("40002", "isv.invalid-signature", AlipayTradeRefused),
        ("40004", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", AlipayTradeRefused),
    ],
)
def test_trade_codes__alipays_trouble_is_unavailable_refusals_are_errors(code, sub_code, error):
    response = AlipayResponse()
    response.parse_response_content(f'{{"code":"{code}","msg":"m","sub_code":"{sub_code}","sub_msg":"s"}}')
    with pytest.raises(error) as raised:
        raise_for_trade_code("test", response)
    if error is AlipayTradeRefused:
        assert raised.value.sub_code == sub_code and raised.value.status_code == 502
    else:
        assert raised.value.errcode == sub_code and raised.value.status_code == 503


def test_settings__notify_url_and_seller_id_are_checked_at_start():
    assert load_settings(environ={"APP_ALIPAY__SELLER_ID": "2088000000000999"}).alipay.seller_id == "2088000000000999"
    with pytest.raises(ConfigError, match="alipay.seller_id"):
        load_settings(environ={"APP_ALIPAY__SELLER_ID": "2021000000000001"})
    with pytest.raises(ConfigError, match="alipay.notify_url"):
        load_settings(environ={"APP_ALIPAY__NOTIFY_URL": "https://pay.example.gov.cn/alipay?from=x"})


async def test_unreachable_gateway_is_unavailable(settings, make_provider):
    provider = make_provider(with_changes(settings, alipay={"gateway_url": "http://127.0.0.1:9/gateway.do"}))
    with pytest.raises(PlatformUnavailable):
        await provider.query("GH0001")


async def test_app_platforms_carry_the_alipay_provider(app):
    assert app.ctx.platforms.alipay_pay.channel == "alipay"
