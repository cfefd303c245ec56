"""WeChat Pay v3 through wechatpayv3 against the simulated api.mch.weixin.qq.com on this app's own port: signed
requests and answers both ways, notifications verified (public key or certificate) and decrypted, money in fen."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from app.core.config import ConfigError
from app.platforms import PlatformError, PlatformUnavailable
from app.platforms.keys import ensure_sim_keys, generate_key_pair, rsa2_verify
from app.platforms.payment_types import BadNotification, BillRow, SignatureProbe
from app.platforms.sim.wechatpay import signed_notification, signed_trade_notification
from app.platforms.wechatpay import (
    LIVE_API_BASE_URL,
    NOTIFY_PATH,
    WECHATPAY_TIMEZONE,
    WeChatPayKeys,
    WeChatPayProvider,
    WeChatPayRefused,
    WeChatPaySdk,
    _credentials,
    certificate_serial,
    parse_trade_bill,
    refusal,
    sim_platform_certificate,
    wechatpay_api_base_url,
    wechatpay_keys,
    wechatpay_notify_url,
)
from tests.platforms.conftest import platform_log, with_changes

OPENID = "oWxPayTester00000000000001"


class NotifyReceiver:
    """A stand-in for our notify URL: records every POST and answers with `status`."""

    def __init__(self) -> None:
        self.url = ""
        self.status = 200
        self.received: list[tuple[dict[str, str], bytes]] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            headers = {
                name.strip(): value.strip()
                for name, _, value in (line.partition(":") for line in head[1:] if ":" in line)
            }
            length = int(next((value for name, value in headers.items() if name.lower() == "content-length"), 0))
            self.received.append((headers, await reader.readexactly(length)))
            writer.write(f"HTTP/1.1 {self.status} Answer\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
        finally:
            writer.close()

    async def wait_for(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{len(self.received)} notifications arrived, not {count}"
            await asyncio.sleep(0.02)


@pytest.fixture
async def receiver():
    """A local notify URL that records what WeChat Pay (the simulator) posts to it."""
    state = NotifyReceiver()
    server = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/notify/wechat"
    yield state
    server.close()
    await server.wait_closed()


@pytest.fixture
async def make_wechatpay(cache):
    """Build extra WeChatPayProvider clients (other keys, other settings); closed after the test."""
    made: list[WeChatPayProvider] = []

    def make(settings, **kwargs) -> WeChatPayProvider:
        made.append(WeChatPayProvider(settings, cache, **kwargs))
        return made[-1]

    yield make
    for provider in made:
        await provider.aclose()


@pytest.fixture
def provider(settings, receiver, make_wechatpay) -> WeChatPayProvider:
    """The provider of this app's settings, its notifications going to the receiver."""
    return make_wechatpay(with_changes(settings, wechatpay={"notify_url": receiver.url}))


@pytest.fixture(scope="module")
def stranger_keys():
    """A key pair neither side of the simulator knows."""
    return generate_key_pair()


def new_order_no() -> str:
    return "WXT" + uuid.uuid4().hex[:24]


async def create(provider: WeChatPayProvider, order_no: str, amount_fen: int = 1250) -> dict:
    return await provider.create(
        order_no=order_no,
        amount_fen=amount_fen,
        description="不动产登记费",
        payer_id=OPENID,
        expires_at=datetime.now(UTC) + timedelta(minutes=30),
    )


async def sim_pay(client, order_no: str, **extra) -> dict:
    response = await client.post("/sim/wechatpay/pay", json={"order_no": order_no, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def transaction_resource(settings, order_no: str, total: object = 1250, **changes) -> dict:
    """A TRANSACTION.SUCCESS resource as WeChat Pay encrypts it."""
    return {
        "appid": settings.wechat.appid,
        "mchid": settings.wechatpay.mchid,
        "out_trade_no": order_no,
        "transaction_id": "4200000000000000000000000001",
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "OTHERS",
        "success_time": "2026-11-23T15:00:00+08:00",
        "payer": {"openid": OPENID},
        "amount": {"total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY"},
        **changes,
    }


def refund_resource(settings, order_no: str, refund_status: str = "SUCCESS") -> dict:
    """A REFUND.* resource as WeChat Pay encrypts it."""
    return {
        "mchid": settings.wechatpay.mchid,
        "out_trade_no": order_no,
        "transaction_id": "4200000000000000000001",
        "out_refund_no": "R" + order_no,
        "refund_id": "50300000000000000000000000001",
        "refund_status": refund_status,
        "success_time": "2026-11-23T15:10:00+08:00",
        "user_received_account": "支付用户零钱",
        "amount": {"total": 1250, "refund": 500, "payer_total": 1250, "payer_refund": 500},
    }


# ---- create ----


async def test_create__returns_the_five_request_payment_fields_signed_by_the_merchant_key(provider, settings):
    fields = await create(provider, new_order_no())
    assert set(fields) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign", "prepay_id"}
    assert fields["appId"] == settings.wechat.appid
    assert fields["package"] == f"prepay_id={fields['prepay_id']}" and fields["signType"] == "RSA"
    assert abs(int(fields["timeStamp"]) - time.time()) < 60 and len(fields["nonceStr"]) == 32
    signed = "".join(f"{fields[name]}\n" for name in ("appId", "timeStamp", "nonceStr", "package"))
    merchant_public_key = ensure_sim_keys(settings).wechatpay_merchant.public_pem
    assert rsa2_verify(merchant_public_key, signed, fields["paySign"])
    assert not rsa2_verify(merchant_public_key, signed.replace(fields["nonceStr"], "0" * 32), fields["paySign"])


async def test_create__the_same_order_again_keeps_its_prepay_id_another_amount_is_refused(provider):
    order_no = new_order_no()
    first = await create(provider, order_no)
    again = await create(provider, order_no)
    assert again["prepay_id"] == first["prepay_id"] and again["nonceStr"] != first["nonceStr"]
    with pytest.raises(WeChatPayRefused) as refused:
        await create(provider, order_no, amount_fen=999)
    assert refused.value.errcode == "OUT_TRADE_NO_USED"


async def test_create__money_is_positive_integer_fen_and_expiry_is_aware(provider):
    for amount in (0, -1, 12.5, True, "1250"):
        with pytest.raises(ValueError):
            await create(provider, new_order_no(), amount_fen=amount)
    with pytest.raises(ValueError):
        await provider.create(
            order_no=new_order_no(),
            amount_fen=1,
            description="x",
            payer_id=OPENID,
            expires_at=datetime.now() + timedelta(minutes=5),
        )


# ---- pay, query and the notification ----


async def test_query__pending_then_paid_and_the_notification_verifies(provider, client, receiver, settings):
    order_no = new_order_no()
    await create(provider, order_no, amount_fen=1250)
    pending = await provider.query(order_no)
    assert (pending.status, pending.amount_fen, pending.paid_at, pending.transaction_id) == ("pending", 1250, None, "")
    assert await sim_pay(client, order_no) == {"delivered": True, "status": 200}
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    notification = await provider.parse_notification(headers=headers, body=body)
    trade = notification.trade
    assert notification.kind == "trade" and trade is not None
    assert (trade.order_no, trade.status, trade.amount_fen) == (order_no, "paid", 1250)
    assert trade.merchant_id == settings.wechatpay.mchid and trade.transaction_id.startswith("4200")
    paid = await provider.query(order_no)
    assert (paid.status, paid.amount_fen, paid.transaction_id) == ("paid", 1250, trade.transaction_id)
    assert paid.paid_at == trade.paid_at and paid.paid_at.utcoffset() == timedelta(hours=8)
    assert abs((paid.paid_at - datetime.now(UTC)).total_seconds()) < 60
    listed = (await client.get("/sim/wechatpay/notifications", params={"order_no": order_no})).json()["items"]
    assert [(item["event_type"], item["delivered"], item["status"]) for item in listed] == [
        ("TRANSACTION.SUCCESS", True, 200)
    ]


async def test_pay__our_refusal_is_reported_and_a_paid_order_cannot_be_paid_again(provider, client, receiver):
    order_no = new_order_no()
    await create(provider, order_no)
    receiver.status = 500
    assert await sim_pay(client, order_no) == {"delivered": False, "status": 500}
    again = await client.post("/sim/wechatpay/pay", json={"order_no": order_no})
    assert again.status_code == 409
    unknown = await client.post("/sim/wechatpay/pay", json={"order_no": new_order_no()})
    assert unknown.status_code == 404


async def test_pay__a_tampered_amount_comes_genuinely_signed_the_query_keeps_the_real_one(provider, client, receiver):
    order_no = new_order_no()
    await create(provider, order_no, amount_fen=1250)
    await sim_pay(client, order_no, amount_fen=1)
    headers, body = receiver.received[0]
    notification = await provider.parse_notification(headers=headers, body=body)
    # Verification passes: comparing the amount with the order's is the payments domain's job.
    assert notification.trade.amount_fen == 1
    assert (await provider.query(order_no)).amount_fen == 1250


async def test_pay__a_forged_signature_is_a_bad_notification(provider, client, receiver, caplog):
    order_no = new_order_no()
    await create(provider, order_no)
    await sim_pay(client, order_no, sign="bad")
    headers, body = receiver.received[0]
    with caplog.at_level(logging.INFO), pytest.raises(BadNotification):
        await provider.parse_notification(headers=headers, body=body)
    assert "signature did not verify" in platform_log(caplog)
    # A forger paid nothing: the order is still there to be paid.
    assert (await provider.query(order_no)).status == "pending"
    assert await sim_pay(client, order_no) == {"delivered": True, "status": 200}


async def test_signed_trade_notification__replays_a_paid_orders_genuine_notification(app, provider, client):
    order_no = new_order_no()
    await create(provider, order_no, amount_fen=700)
    with pytest.raises(LookupError):
        await signed_trade_notification(app, order_no)
    await sim_pay(client, order_no)
    headers, body = await signed_trade_notification(app, order_no)
    trade = (await provider.parse_notification(headers=headers, body=body)).trade
    assert (trade.order_no, trade.status, trade.amount_fen) == (order_no, "paid", 700)


async def test_pay__signed_with_the_platform_certificate_verifies_too(provider, client, receiver, settings):
    order_no = new_order_no()
    await create(provider, order_no)
    await sim_pay(client, order_no, signer="certificate")
    headers, body = receiver.received[0]
    serial = next(value for name, value in headers.items() if name.lower() == "wechatpay-serial")
    assert serial == certificate_serial(sim_platform_certificate(settings))
    assert (await provider.parse_notification(headers=headers, body=body)).trade.status == "paid"


# ---- parse_notification on notifications made by the simulator's own signing and encryption ----


@pytest.mark.parametrize("signer", ["public_key", "certificate"])
async def test_parse_notification__the_serial_picks_the_public_key_or_the_certificate(app, settings, signer):
    headers, body = signed_notification(
        settings, event_type="TRANSACTION.SUCCESS", signer=signer, resource=transaction_resource(settings, "WXT0001")
    )
    notification = await app.ctx.platforms.wechatpay.parse_notification(headers=headers, body=body)
    assert notification.kind == "trade"
    assert notification.trade.paid_at == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


async def test_parse_notification__header_names_in_any_case(app, settings):
    headers, body = signed_notification(
        settings, event_type="TRANSACTION.SUCCESS", resource=transaction_resource(settings, "WXT0002")
    )
    lowered = {name.lower(): value for name, value in headers.items()}
    notification = await app.ctx.platforms.wechatpay.parse_notification(headers=lowered, body=body)
    assert notification.trade.order_no == "WXT0002"


async def test_parse_notification__a_serial_signing_with_the_other_key_does_not_verify(app, settings):
    # Signed by the certificate's key but naming the public key: the serial says which key must verify it.
    headers, body = signed_notification(
        settings,
        event_type="TRANSACTION.SUCCESS",
        signer="certificate",
        resource=transaction_resource(settings, "WXT0003"),
    )
    public_key_headers, _ = signed_notification(
        settings, event_type="TRANSACTION.SUCCESS", resource=transaction_resource(settings, "WXT0003")
    )
    headers["Wechatpay-Serial"] = public_key_headers["Wechatpay-Serial"]
    with pytest.raises(BadNotification):
        await app.ctx.platforms.wechatpay.parse_notification(headers=headers, body=body)


def _tampered(body: bytes) -> bytes:
    notification = json.loads(body)
    ciphertext = bytearray(base64.b64decode(notification["resource"]["ciphertext"]))
    ciphertext[0] ^= 1
    notification["resource"]["ciphertext"] = base64.b64encode(bytes(ciphertext)).decode()
    return json.dumps(notification, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    "case",
    [
        "forged",
        "tampered_body",
        "stale",
        "ahead",
        "unknown_serial",
        "other_apiv3_key",
        "no_signature",
        "not_utf8",
        "signature_probe",
    ],
)
async def test_parse_notification__refuses_what_is_not_wechat_pays(app, settings, case, caplog):
    now = int(time.time())
    headers, body = signed_notification(
        settings,
        event_type="TRANSACTION.SUCCESS",
        resource=transaction_resource(settings, "WXT0004"),
        forged=case == "forged",
        timestamp={"stale": now - 301, "ahead": now + 301}.get(case),
        apiv3_key="0123456789abcdef0123456789abcdef" if case == "other_apiv3_key" else None,
    )
    if case == "tampered_body":
        body = _tampered(body)
    elif case == "unknown_serial":
        headers["Wechatpay-Serial"] = "PUB_KEY_ID_0000000000000000000000000000"
    elif case == "no_signature":
        del headers["Wechatpay-Signature"]
    elif case == "not_utf8":
        body = b"\xff" + body
    elif case == "signature_probe":
        headers["Wechatpay-Signature"] = "WECHATPAY/SIGNTEST/" + headers["Wechatpay-Signature"]
    with caplog.at_level(logging.INFO), pytest.raises(BadNotification):
        await app.ctx.platforms.wechatpay.parse_notification(headers=headers, body=body)
    assert "notification refused" in platform_log(caplog)


async def test_parse_notification__a_signature_probe_is_told_apart(app, settings):
    headers, body = signed_notification(
        settings, event_type="TRANSACTION.SUCCESS", resource=transaction_resource(settings, "WXT0004")
    )
    headers["Wechatpay-Signature"] = "WECHATPAY/SIGNTEST/" + headers["Wechatpay-Signature"]
    with pytest.raises(SignatureProbe):
        await app.ctx.platforms.wechatpay.parse_notification(headers=headers, body=body)
    headers, body = signed_notification(
        settings, event_type="TRANSACTION.SUCCESS", resource=transaction_resource(settings, "WXT0004"), forged=True
    )
    with pytest.raises(BadNotification) as refused:
        await app.ctx.platforms.wechatpay.parse_notification(headers=headers, body=body)
    assert not isinstance(refused.value, SignatureProbe)  # a forgery is not taken for a probe


@pytest.mark.parametrize(
    ("event_type", "refund_status", "status"),
    [
        ("REFUND.SUCCESS", "SUCCESS", "succeeded"),
        ("REFUND.ABNORMAL", "ABNORMAL", "abnormal"),  # not final: the money is held up at the bank
        ("REFUND.CLOSED", "CLOSED", "failed"),
    ],
)
async def test_parse_notification__refund_events(app, settings, event_type, refund_status, status):
    headers, body = signed_notification(
        settings, event_type=event_type, resource=refund_resource(settings, "WXT0005", refund_status)
    )
    notification = await app.ctx.platforms.wechatpay.parse_notification(headers=headers, body=body)
    assert notification.kind == "refund" and notification.trade is None
    refund = notification.refund
    assert (refund.order_no, refund.refund_no, refund.status, refund.refund_fen) == ("WXT0005", "RWXT0005", status, 500)
    assert refund.refund_id == "50300000000000000000000000001"


@pytest.mark.parametrize(
    ("event_type", "resource_changes"),
    [
        ("REFUND.SUCCESS", {"refund_status": "ABNORMAL"}),  # the event and its resource disagree
        ("TRANSACTION.SUCCESS", {"trade_state": "NOTPAY"}),
        ("TRANSACTION.SUCCESS", {"amount": {"total": 12.5, "currency": "CNY"}}),  # never a float
        ("TRANSACTION.SUCCESS", {"amount": {"total": 1250, "currency": "USD"}}),
        ("TRANSACTION.SUCCESS", {"success_time": "2026-11-23 15:00:00"}),
        ("MCHTRANSFER.BILL.FINISHED", {}),
    ],
)
async def test_parse_notification__genuine_but_unreadable_is_refused(app, settings, event_type, resource_changes):
    base = (
        refund_resource(settings, "WXT0006")
        if event_type.startswith("REFUND")
        else transaction_resource(settings, "WXT0006")
    )
    headers, body = signed_notification(settings, event_type=event_type, resource={**base, **resource_changes})
    with pytest.raises(BadNotification):
        await app.ctx.platforms.wechatpay.parse_notification(headers=headers, body=body)


def test_acknowledge__200_without_body_400_refused_500_retry_later(app):
    provider = app.ctx.platforms.wechatpay
    ok = provider.acknowledge("accepted")
    assert (ok.status, ok.body) == (200, b"")
    refused, retry = provider.acknowledge("refused"), provider.acknowledge("retry")
    assert (refused.status, retry.status) == (400, 500)
    for answer in (refused, retry):
        assert answer.content_type.startswith("application/json")
        assert set(json.loads(answer.body)) == {"code", "message"} and json.loads(answer.body)["code"] == "FAIL"


# ---- notify faults ----


async def test_notify_faults__never_twice_and_late(provider, client, receiver, faults):
    never, twice, late = new_order_no(), new_order_no(), new_order_no()
    for order_no in (never, twice, late):
        await create(provider, order_no)
    await faults("wechatpay", 0, notify="never")
    assert await sim_pay(client, never) == {"delivered": False, "status": None}
    assert receiver.received == []
    await faults("wechatpay", 0, notify="twice")
    assert await sim_pay(client, twice) == {"delivered": True, "status": 200}
    assert len(receiver.received) == 2
    first, second = (json.loads(body) for _, body in receiver.received)
    assert first["id"] == second["id"]  # one notification, delivered twice
    await faults("wechatpay", 0, notify="late", delay_ms=300)
    assert await sim_pay(client, late) == {"delivered": False, "status": None}
    assert len(receiver.received) == 2
    await receiver.wait_for(3)
    notification = await provider.parse_notification(headers=receiver.received[2][0], body=receiver.received[2][1])
    assert notification.trade.order_no == late


# ---- close ----


async def test_close__closes_and_closing_again_is_fine_a_paid_order_is_refused(provider, client):
    order_no = new_order_no()
    await create(provider, order_no)
    await provider.close(order_no)
    assert (await provider.query(order_no)).status == "closed"
    await provider.close(order_no)
    closed_pay = await client.post("/sim/wechatpay/pay", json={"order_no": order_no})
    assert closed_pay.status_code == 409
    paid = new_order_no()
    await create(provider, paid)
    await sim_pay(client, paid)
    with pytest.raises(WeChatPayRefused) as refused:
        await provider.close(paid)
    assert refused.value.errcode == "ORDERPAID"


async def test_query__an_order_never_created_is_a_platform_error(provider):
    with pytest.raises(WeChatPayRefused) as refused:
        await provider.query(new_order_no())
    assert refused.value.errcode == "ORDER_NOT_EXIST" and refused.value.message == "微信支付中没有这笔订单"


# ---- refund ----


async def test_refund__succeeds_notifies_and_the_order_shows_refunded(provider, client, receiver):
    order_no = new_order_no()
    await create(provider, order_no, amount_fen=1250)
    await sim_pay(client, order_no)
    refund = await provider.refund(
        order_no=order_no, refund_no="R" + order_no, refund_fen=500, total_fen=1250, reason="办件未受理"
    )
    assert (refund.order_no, refund.refund_no, refund.status, refund.refund_fen) == (
        order_no,
        "R" + order_no,
        "succeeded",
        500,
    )
    assert refund.refund_id
    again = await provider.refund(
        order_no=order_no, refund_no="R" + order_no, refund_fen=500, total_fen=1250, reason="办件未受理"
    )
    assert again.refund_id == refund.refund_id
    state = await provider.query(order_no)
    assert (state.status, state.amount_fen) == ("refunded", 1250)
    await receiver.wait_for(2)  # the payment's, then the refund's (sent after the refund's answer)
    notification = await provider.parse_notification(headers=receiver.received[1][0], body=receiver.received[1][1])
    assert notification.kind == "refund"
    assert (notification.refund.refund_no, notification.refund.status, notification.refund.refund_fen) == (
        "R" + order_no,
        "succeeded",
        500,
    )


async def test_refund__more_than_is_left_or_of_an_unpaid_order_is_refused(provider, client):
    order_no = new_order_no()
    await create(provider, order_no, amount_fen=1000)
    with pytest.raises(WeChatPayRefused):
        await provider.refund(order_no=order_no, refund_no="A" + order_no, refund_fen=100, total_fen=1000, reason="")
    await sim_pay(client, order_no)
    await provider.refund(order_no=order_no, refund_no="B" + order_no, refund_fen=600, total_fen=1000, reason="")
    with pytest.raises(WeChatPayRefused) as refused:
        await provider.refund(order_no=order_no, refund_no="C" + order_no, refund_fen=500, total_fen=1000, reason="")
    assert refused.value.errcode == "PARAM_ERROR"
    with pytest.raises(ValueError):
        await provider.refund(order_no=order_no, refund_no="D" + order_no, refund_fen=1001, total_fen=1000, reason="")


# ---- refund query ----


async def test_query_refund__a_refund_that_succeeded_is_succeeded(provider, client):
    order_no = new_order_no()
    await create(provider, order_no, amount_fen=1250)
    await sim_pay(client, order_no)
    refund = await provider.refund(
        order_no=order_no, refund_no="R" + order_no, refund_fen=500, total_fen=1250, reason=""
    )
    state = await provider.query_refund(order_no=order_no, refund_no="R" + order_no)
    assert (state.order_no, state.refund_no, state.status, state.refund_fen, state.refund_id) == (
        order_no,
        "R" + order_no,
        "succeeded",
        500,
        refund.refund_id,
    )
    # The refund number is another order's: never taken as this order's refund.
    with pytest.raises(PlatformError):
        await provider.query_refund(order_no=new_order_no(), refund_no="R" + order_no)


async def test_query_refund__a_refund_answered_processing_and_never_notified_succeeds_when_queried(
    provider, client, receiver, faults
):
    order_no = new_order_no()
    await create(provider, order_no, amount_fen=1250)
    await sim_pay(client, order_no)
    await faults("wechatpay", 0, refund="processing")
    refund = await provider.refund(
        order_no=order_no, refund_no="R" + order_no, refund_fen=500, total_fen=1250, reason=""
    )
    assert (refund.status, refund.refund_fen) == ("processing", 500) and "success_time" not in refund.raw
    again = await provider.refund(
        order_no=order_no, refund_no="R" + order_no, refund_fen=500, total_fen=1250, reason=""
    )
    assert (again.status, again.refund_id) == ("processing", refund.refund_id)
    await asyncio.sleep(0.3)  # a REFUND.SUCCESS notification would follow the answer within this
    assert len(receiver.received) == 1  # the payment's only
    state = await provider.query_refund(order_no=order_no, refund_no="R" + order_no)
    assert (state.status, state.refund_fen, state.refund_id) == ("succeeded", 500, refund.refund_id)
    assert (await provider.query_refund(order_no=order_no, refund_no="R" + order_no)).status == "succeeded"
    listed = (await client.get("/sim/wechatpay/notifications", params={"order_no": order_no})).json()["items"]
    assert [item["event_type"] for item in listed] == ["TRANSACTION.SUCCESS"]
    rows = await provider.bill(datetime.now(WECHATPAY_TIMEZONE).date())
    assert [(row.status, row.amount_fen) for row in rows if row.order_no == order_no] == [
        ("paid", 1250),
        ("refunded", 500),
    ]


# ---- abnormal refunds (the bank would not take the money back) ----

CARD = {"bank_type": "ICBC_DEBIT", "bank_account": "6222020200112233445", "real_name": "张三"}


async def abnormal_refund(provider, client, receiver, faults, order_no: str):
    """A paid order whose refund of 500 WeChat Pay accepts and then reports ABNORMAL."""
    await create(provider, order_no, amount_fen=1250)
    await sim_pay(client, order_no)
    await faults("wechatpay", 0, refund="abnormal")
    refund = await provider.refund(
        order_no=order_no, refund_no="R" + order_no, refund_fen=500, total_fen=1250, reason=""
    )
    assert (refund.status, refund.refund_fen) == ("processing", 500)  # accepted; the bank answers later
    return refund


async def test_abnormal_refund__notified_and_queried_abnormal_then_sent_to_another_card(
    provider, client, receiver, faults
):
    order_no = new_order_no()
    refund = await abnormal_refund(provider, client, receiver, faults, order_no)
    await receiver.wait_for(2)  # the payment's, then REFUND.ABNORMAL
    notification = await provider.parse_notification(headers=receiver.received[1][0], body=receiver.received[1][1])
    assert (notification.refund.refund_no, notification.refund.status) == ("R" + order_no, "abnormal")
    state = await provider.query_refund(order_no=order_no, refund_no="R" + order_no)
    assert (state.status, state.refund_id) == ("abnormal", refund.refund_id)
    assert (await provider.query_refund(order_no=order_no, refund_no="R" + order_no)).status == "abnormal"  # stays

    # While the bank still sends everything back, the other card fails as well (REFUND.ABNORMAL again).
    again = await provider.retry_abnormal_refund(
        order_no=order_no, refund_no="R" + order_no, refund_id=refund.refund_id, to="USER_BANK_CARD", **CARD
    )
    assert (again.status, again.refund_fen) == ("processing", 500)
    assert (await provider.query_refund(order_no=order_no, refund_no="R" + order_no)).status == "abnormal"
    await receiver.wait_for(3)
    await faults("wechatpay", 0)
    again = await provider.retry_abnormal_refund(
        order_no=order_no, refund_no="R" + order_no, refund_id=refund.refund_id, to="USER_BANK_CARD", **CARD
    )
    assert (again.status, again.refund_fen) == ("processing", 500)
    state = await provider.query_refund(order_no=order_no, refund_no="R" + order_no)
    assert state.status == "succeeded" and state.raw["user_received_account"] == "ICBC借记卡3445"
    await receiver.wait_for(4)
    events = [
        (await provider.parse_notification(headers=headers, body=body)).refund.status
        for headers, body in receiver.received[1:]
    ]
    assert events == ["abnormal", "abnormal", "succeeded"]
    with pytest.raises(WeChatPayRefused) as refused:  # no longer abnormal: nothing to send again
        await provider.retry_abnormal_refund(
            order_no=order_no, refund_no="R" + order_no, refund_id=refund.refund_id, to="MERCHANT_BANK_CARD"
        )
    assert refused.value.errcode == "INVALID_REQUEST"


async def test_abnormal_refund__to_our_bank_account_with_the_platform_certificate(
    settings, client, receiver, faults, make_wechatpay
):
    keys = wechatpay_keys(settings)
    # A merchant that knows only the platform certificate: the SDK names its serial, the simulator decrypts with it.
    provider = make_wechatpay(
        with_changes(settings, wechatpay={"notify_url": receiver.url}),
        keys=WeChatPayKeys(
            merchant_private_key=keys.merchant_private_key, platform_certificate=keys.platform_certificate
        ),
    )
    order_no = new_order_no()
    refund = await abnormal_refund(provider, client, receiver, faults, order_no)
    card = await provider.retry_abnormal_refund(
        order_no=order_no, refund_no="R" + order_no, refund_id=refund.refund_id, to="USER_BANK_CARD", **CARD
    )
    assert card.status == "processing"

    order_no = new_order_no()
    refund = await abnormal_refund(provider, client, receiver, faults, order_no)
    ours = await provider.retry_abnormal_refund(
        order_no=order_no, refund_no="R" + order_no, refund_id=refund.refund_id, to="MERCHANT_BANK_CARD"
    )
    assert ours.status == "processing"
    state = await provider.query_refund(order_no=order_no, refund_no="R" + order_no)
    assert (state.status, state.raw["user_received_account"]) == ("succeeded", "商户银行账户")


async def test_abnormal_refund__the_simulator_refuses_what_wechat_pay_would(
    settings, provider, client, receiver, faults, stranger_keys, make_wechatpay
):
    order_no = new_order_no()
    refund = await abnormal_refund(provider, client, receiver, faults, order_no)
    retry = {"order_no": order_no, "refund_no": "R" + order_no}
    with pytest.raises(WeChatPayRefused) as refused:  # another refund's id
        await provider.retry_abnormal_refund(
            **retry, refund_id="50300000000000000000000000009", to="MERCHANT_BANK_CARD"
        )
    assert refused.value.errcode == "RESOURCE_NOT_EXISTS"
    with pytest.raises(WeChatPayRefused) as refused:  # a bank whose cards it does not take
        await provider.retry_abnormal_refund(
            **retry, refund_id=refund.refund_id, to="USER_BANK_CARD", **{**CARD, "bank_type": "XYZ_DEBIT"}
        )
    assert refused.value.errcode == "PARAM_ERROR"
    keys = wechatpay_keys(settings)
    # Account and name encrypted with a key that is not WeChat Pay's: it cannot read them.
    careless = make_wechatpay(
        settings,
        keys=WeChatPayKeys(
            merchant_private_key=keys.merchant_private_key,
            platform_public_key=stranger_keys.public_pem,
            platform_public_key_id=keys.platform_public_key_id,
        ),
    )
    with pytest.raises(WeChatPayRefused) as refused:
        await careless.retry_abnormal_refund(**retry, refund_id=refund.refund_id, to="USER_BANK_CARD", **CARD)
    assert refused.value.errcode == "PARAM_ERROR"
    with pytest.raises(ValueError):  # the payer's card without its details is never sent
        await provider.retry_abnormal_refund(**retry, refund_id=refund.refund_id, to="USER_BANK_CARD")
    assert (await provider.query_refund(**retry)).status == "abnormal"  # nothing of that moved it


async def test_query_refund__a_refund_wechat_pay_does_not_have_is_failed(provider, client):
    order_no = new_order_no()
    await create(provider, order_no)
    await sim_pay(client, order_no)
    state = await provider.query_refund(order_no=order_no, refund_no="R" + order_no)
    assert (state.order_no, state.refund_no, state.status, state.refund_fen) == (order_no, "R" + order_no, "failed", 0)
    assert state.raw["code"] == "RESOURCE_NOT_EXISTS"
    with pytest.raises(ValueError):
        await provider.query_refund(order_no=order_no, refund_no="R/../" + order_no)


async def test_query_refund__wechat_pay_in_trouble_is_unavailable_not_failed(provider, faults):
    await faults("wechatpay", 1.0)
    with pytest.raises(PlatformUnavailable):
        await provider.query_refund(order_no=new_order_no(), refund_no="R" + new_order_no())


# ---- bill ----


async def test_bill__lists_the_paid_order_and_the_refund(provider, client):
    order_no = new_order_no()
    await create(provider, order_no, amount_fen=1250)
    await sim_pay(client, order_no)
    transaction_id = (await provider.query(order_no)).transaction_id
    await provider.refund(order_no=order_no, refund_no="R" + order_no, refund_fen=250, total_fen=1250, reason="")
    rows = await provider.bill(datetime.now(WECHATPAY_TIMEZONE).date())
    assert [row for row in rows if row.order_no == order_no] == [
        BillRow(order_no=order_no, transaction_id=transaction_id, status="paid", amount_fen=1250),
        BillRow(
            order_no=order_no,
            transaction_id=transaction_id,
            status="refunded",
            amount_fen=250,
            refund_no="R" + order_no,
        ),
    ]


async def test_bill__refunds_are_billed_when_accepted_in_their_state_and_counted_in_the_summary(
    provider, client, faults
):
    order_no = new_order_no()
    await create(provider, order_no, amount_fen=1250)
    await sim_pay(client, order_no)
    await provider.refund(order_no=order_no, refund_no="A" + order_no, refund_fen=100, total_fen=1250, reason="")
    await faults("wechatpay", 0, refund="abnormal")
    await provider.refund(order_no=order_no, refund_no="B" + order_no, refund_fen=200, total_fen=1250, reason="")
    await faults("wechatpay", 0, refund="processing")
    await provider.refund(order_no=order_no, refund_no="C" + order_no, refund_fen=300, total_fen=1250, reason="")
    today = datetime.now(WECHATPAY_TIMEZONE).date()
    # Three refund lines besides the payment's: the summary counts all four (parse_trade_bill checks it), and only
    # the refund that succeeded is money back.
    rows = [row for row in await provider.bill(today) if row.order_no == order_no]
    assert [(row.status, row.amount_fen, row.refund_no) for row in rows] == [
        ("paid", 1250, ""),
        ("refunded", 100, "A" + order_no),
    ]
    await provider.query_refund(order_no=order_no, refund_no="C" + order_no)  # the processing one succeeds now
    rows = [row for row in await provider.bill(today) if row.order_no == order_no]
    assert [row.refund_no for row in rows if row.status == "refunded"] == ["A" + order_no, "C" + order_no]


async def test_bill__a_day_without_business_is_empty(provider):
    assert await provider.bill(date(2020, 1, 1)) == []


BILL_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
    "应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
    "手续费,费率,订单金额,申请退款金额,费率备注"
)


def _line(*fields: str) -> str:
    return ",".join("`" + field for field in fields)


def _bill(*lines: str, count: int | None = None) -> str:
    summary = _line(str(len(lines) if count is None else count), "0.00", "0.00", "0.00", "0.00000", "0.00", "0.00")
    return (
        "\ufeff"
        + "\r\n".join(
            [
                BILL_HEADER,
                *lines,
                "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额",
                summary,
            ]
        )
        + "\r\n"
    )


def _bill_line(
    state: str,
    order_no: str,
    settled: str,
    refund_no: str = "0",
    refunded: str = "0.00",
    refund_state: str = "",
    ordered: str = "",
    asked: str = "0.00",
) -> str:
    return _line(
        "2026-11-23 15:00:00",
        "wx5im0000000000001",
        "1900000109",
        "0",
        "",
        "4200000000000000000000000009",
        order_no,
        OPENID,
        "JSAPI",
        state,
        "OTHERS",
        "CNY",
        settled,
        "0.00",
        "503" if refund_no != "0" else "0",
        refund_no,
        refunded,
        "0.00",
        "ORIGINAL" if refund_no != "0" else "",
        refund_state,
        "登记费, 含工本费",
        "",
        "0.00750",
        "0.60%",
        ordered or settled,
        asked,
        "",
    )


def test_parse_trade_bill__payments_and_successful_refunds_in_exact_fen():
    text = _bill(
        _bill_line("SUCCESS", "GH1", "12.50"),
        _bill_line("SUCCESS", "GH2", "0.01", ordered="0.01"),
        _bill_line("REFUND", "GH1", "12.50", refund_no="RGH1", refunded="2.50", refund_state="SUCCESS", asked="2.50"),
        _bill_line(
            "REFUND", "GH1", "12.50", refund_no="RGH1b", refunded="1.00", refund_state="PROCESSING", asked="1.00"
        ),
        _bill_line("REFUND", "GH2", "0.01", refund_no="RGH2", refunded="0.01", refund_state="ABNORMAL", asked="0.01"),
        _bill_line("REVOKED", "GH3", "3.00"),
    )
    assert text.splitlines()[-1].startswith("`6,")  # 总交易单数: three payment records and three refund records
    assert parse_trade_bill(text) == [
        BillRow(order_no="GH1", transaction_id="4200000000000000000000000009", status="paid", amount_fen=1250),
        BillRow(order_no="GH2", transaction_id="4200000000000000000000000009", status="paid", amount_fen=1),
        BillRow(
            order_no="GH1",
            transaction_id="4200000000000000000000000009",
            status="refunded",
            amount_fen=250,
            refund_no="RGH1",
        ),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "",
        _bill(_bill_line("SUCCESS", "GH1", "12.50"), count=2),  # the summary counts a line that is not there
        # The summary leaves the refund out (总交易单数 counts refund records too): a line too many, so cut wrong.
        _bill(
            _bill_line("SUCCESS", "GH1", "12.50"),
            _bill_line("REFUND", "GH1", "12.50", refund_no="RGH1", refunded="2.50", refund_state="SUCCESS"),
            count=1,
        ),
        _bill(_bill_line("SUCCESS", "GH1", "12.50")).split("总交易单数")[0],  # cut short: no summary
        _bill(_bill_line("SUCCESS", "GH1", "12.5.0")),
        _bill(_bill_line("SUCCESS", "GH1", "-1.00")),
        _bill(_bill_line("SUCCESS", "GH1", "12.50")[:-30]),  # fields missing
        _bill(_bill_line("SUCCESS", "GH1", "12.50").lstrip("`")),
    ],
)
def test_parse_trade_bill__malformed_or_cut_short_is_refused(text):
    with pytest.raises(ValueError):
        parse_trade_bill(text)


# ---- signatures both ways, errors, configuration ----


async def test_our_request_signed_with_a_wrong_key_is_refused_with_401(settings, stranger_keys, make_wechatpay, caplog):
    keys = wechatpay_keys(settings)
    sdk = WeChatPaySdk(
        mchid=settings.wechatpay.mchid,
        appid=settings.wechat.appid,
        merchant_serial_no=settings.wechatpay.merchant_serial_no,
        credentials=_credentials(
            WeChatPayKeys(
                merchant_private_key=stranger_keys.private_pem,
                platform_public_key=keys.platform_public_key,
                platform_public_key_id=keys.platform_public_key_id,
            )
        ),
        apiv3_key=settings.wechatpay.apiv3_key,
        notify_url=wechatpay_notify_url(settings),
        gateway=wechatpay_api_base_url(settings).rstrip("/"),
        timeout_seconds=5,
    )
    status, body = await asyncio.to_thread(sdk.query, out_trade_no=new_order_no())
    assert status == 401 and json.loads(body)["code"] == "SIGN_ERROR"
    provider = make_wechatpay(
        settings,
        keys=WeChatPayKeys(
            merchant_private_key=stranger_keys.private_pem,
            platform_public_key=keys.platform_public_key,
            platform_public_key_id=keys.platform_public_key_id,
        ),
    )
    with caplog.at_level(logging.INFO), pytest.raises(PlatformError):
        await provider.query(new_order_no())
    assert "SIGN_ERROR" in platform_log(caplog)


async def test_an_answer_not_signed_by_wechat_pay_is_refused(settings, stranger_keys, make_wechatpay, caplog):
    keys = wechatpay_keys(settings)
    provider = make_wechatpay(
        settings,
        keys=WeChatPayKeys(
            merchant_private_key=keys.merchant_private_key,
            platform_public_key=stranger_keys.public_pem,
            platform_public_key_id=keys.platform_public_key_id,
        ),
    )
    with caplog.at_level(logging.INFO), pytest.raises(PlatformError):
        await create(provider, new_order_no())
    assert "signature did not verify" in platform_log(caplog)


async def test_a_merchant_with_the_platform_certificate_only(settings, client, make_wechatpay, receiver):
    keys = wechatpay_keys(settings)
    provider = make_wechatpay(
        with_changes(settings, wechatpay={"notify_url": receiver.url}),
        keys=WeChatPayKeys(
            merchant_private_key=keys.merchant_private_key, platform_certificate=keys.platform_certificate
        ),
    )
    order_no = new_order_no()
    await create(provider, order_no)
    await sim_pay(client, order_no, signer="certificate")
    headers, body = receiver.received[0]
    assert (await provider.parse_notification(headers=headers, body=body)).trade.status == "paid"
    assert (await provider.query(order_no)).status == "paid"
    # No public key configured: a notification signed with it names a serial this merchant does not know.
    headers, body = signed_notification(
        settings, event_type="TRANSACTION.SUCCESS", resource=transaction_resource(settings, order_no)
    )
    with pytest.raises(BadNotification):
        await provider.parse_notification(headers=headers, body=body)


async def test_faults__every_call_failing_is_platform_unavailable(provider, faults):
    order_no = new_order_no()
    await create(provider, order_no)
    await faults("wechatpay", 1.0)
    with pytest.raises(PlatformUnavailable) as unavailable:
        await provider.query(order_no)
    assert unavailable.value.errcode == "SYSTEM_ERROR"
    with pytest.raises(PlatformUnavailable):
        await create(provider, new_order_no())


async def test_unreachable_wechat_pay_is_unavailable(settings, make_wechatpay):
    provider = make_wechatpay(with_changes(settings, wechatpay={"api_base_url": "http://127.0.0.1:9/"}))
    with pytest.raises(PlatformUnavailable):
        await provider.query(new_order_no())


@pytest.mark.parametrize(
    ("status", "code", "unavailable"),
    [
        (500, "SYSTEM_ERROR", True),
        (429, "FREQUENCY_LIMITED", True),
        (400, "FREQUENCY_LIMITED", True),
        (502, "", True),
        (400, "PARAM_ERROR", False),
        (403, "NO_AUTH", False),
        (401, "SIGN_ERROR", False),
    ],
)
def test_refusal__transient_codes_are_unavailable_the_rest_platform_errors(status, code, unavailable):
    error = refusal("test", status, json.dumps({"code": code, "message": "m"}) if code else "<html>")
    assert isinstance(error, PlatformUnavailable) == unavailable
    assert isinstance(error, PlatformError) != unavailable


def test_base_and_notify_urls__sim_mode_uses_this_app_live_mode_uses_wechat_pay(settings):
    assert wechatpay_api_base_url(settings) == settings.app.public_base_url + "/sim/wechatpay/"
    assert wechatpay_api_base_url(with_changes(settings, platforms={"mode": "live"})) == LIVE_API_BASE_URL
    assert wechatpay_notify_url(settings) == settings.app.public_base_url + NOTIFY_PATH
    configured = with_changes(settings, wechatpay={"notify_url": "https://hall.example.cn/pay/wx"})
    assert wechatpay_notify_url(configured) == "https://hall.example.cn/pay/wx"


def test_live_mode_reads_key_files_and_needs_a_platform_key(settings, tmp_path, stranger_keys):
    live = with_changes(settings, platforms={"mode": "live"})
    with pytest.raises(ConfigError, match="wechatpay.merchant_private_key_path"):
        wechatpay_keys(live)
    (tmp_path / "apiclient_key.pem").write_text(stranger_keys.private_pem)
    (tmp_path / "pub_key.pem").write_text(stranger_keys.public_pem)
    with_merchant = with_changes(live, wechatpay={"merchant_private_key_path": str(tmp_path / "apiclient_key.pem")})
    with pytest.raises(ConfigError, match="platform_public_key_path"):
        wechatpay_keys(with_merchant)
    keys = wechatpay_keys(
        with_changes(
            with_merchant,
            wechatpay={
                "platform_public_key_path": str(tmp_path / "pub_key.pem"),
                "platform_public_key_id": "PUB_KEY_ID_01",
            },
        )
    )
    assert keys.platform_public_key == stranger_keys.public_pem and not keys.platform_certificate
    missing = with_changes(with_merchant, wechatpay={"platform_cert_path": str(tmp_path / "none.pem")})
    with pytest.raises(ConfigError, match="wechatpay.platform_cert_path"):
        wechatpay_keys(missing)


def test_the_apiv3_key_must_be_32_characters_and_is_never_shown(settings):
    from app.core.config import load_settings

    with pytest.raises(ConfigError, match="wechatpay.apiv3_key"):
        load_settings(environ={"APP_WECHATPAY__APIV3_KEY": "too-short"})
    loaded = load_settings(environ={"APP_WECHATPAY__APIV3_KEY": "k" * 32})
    assert "k" * 32 not in repr(loaded.wechatpay)
    with pytest.raises(ConfigError, match="platform_public_key"):
        load_settings(environ={"APP_WECHATPAY__PLATFORM_PUBLIC_KEY_ID": "PUB_KEY_ID_01"})
