"""Payments through HTTP: pay by each channel, notifications applied once, forgeries refused, missed notifications
caught by querying, expiry, refunds and reconciliation."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.core import outbox
from app.core.timeutil import now as clock_now
from app.core.workdays import local_date
from app.payments import service as payments
from app.payments.models import PaymentOrder, Refund
from app.platforms import PlatformError
from tests import factories as f
from tests.core.test_errors import assert_error_shape

SIM_PAY = {"wechat": "/sim/wechatpay/pay", "alipay": "/sim/alipay/pay"}
SIM_PLATFORM = {"wechat": "wechatpay", "alipay": "alipay"}


async def _order(client, setup, channel: str = "wechat", *, status: int = 201):
    """POST a payment for the setup's case: 201 opens an order, 200 hands back the one still open."""
    response = await client.post(
        f"/api/v1/cases/{setup['case']['id']}/payments", json={"channel": channel}, headers=setup["citizen"]["headers"]
    )
    assert response.status_code == status, response.text
    return response.json()


async def _payment_events(case_id: int) -> list[str]:
    return [
        e["kind"] for e in await outbox.events_for("payment", (await PaymentOrder.filter(case_id=case_id).first()).id)
    ]


async def _deny(client, setup) -> None:
    """The setup's case accepted, reviewed and denied by its department."""
    clerk, approver = setup["clerk"], setup["approver"]
    case = (await client.get(f"/api/v1/staff/cases/{setup['case']['id']}", headers=clerk["headers"])).json()
    case = await f.moved(client, case, clerk, "accept")
    case = await f.moved(client, case, approver, "start_review")
    await f.moved(client, case, approver, "deny", note="不符合条件")


async def _mismatch_alerts(order_no: str) -> int:
    from app.core.models import OutboxEvent

    return sum(1 for e in await OutboxEvent.filter(kind="payment.mismatch") if e.payload.get("order_no") == order_no)


async def test_wechat_pay_end_to_end(client, cache):
    setup = await f.fee_case_setup(client, cache)
    order = await _order(client, setup)
    assert order["amount_fen"] == 1250 and order["status"] == "pending"
    assert set(order["pay_params"]) >= {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert order["pay_params"]["package"].startswith("prepay_id=")
    again = await _order(client, setup, status=200)
    assert again["order_no"] == order["order_no"]  # one open order per case and channel
    assert len(order["order_no"]) <= 32 and order["order_no"].isalnum()

    paid = await client.post(SIM_PAY["wechat"], json={"order_no": order["order_no"]})
    assert paid.status_code == 200 and paid.json()["delivered"] is True, paid.text
    status = (await client.get(f"/api/v1/payments/{order['order_no']}", headers=setup["citizen"]["headers"])).json()
    assert status["status"] == "paid" and status["case_id"] == setup["case"]["id"]
    case = (await client.get(f"/api/v1/cases/{setup['case']['id']}", headers=setup["citizen"]["headers"])).json()
    assert case["paid"] is True
    assert await _payment_events(setup["case"]["id"]) == ["payment.succeeded"]
    assert_error_shape(
        await client.post(
            f"/api/v1/cases/{setup['case']['id']}/payments",
            json={"channel": "wechat"},
            headers=setup["citizen"]["headers"],
        ),
        409,
        "NOTHING_TO_PAY",
    )


async def test_alipay_end_to_end(client, cache):
    setup = await f.fee_case_setup(client, cache, amount_fen=3001, channel="alipay")
    order = await _order(client, setup, "alipay")
    assert order["pay_params"]["trade_no"]
    paid = await client.post(SIM_PAY["alipay"], json={"order_no": order["order_no"]})
    assert paid.status_code == 200 and paid.json()["delivered"] is True, paid.text
    status = (await client.get(f"/api/v1/payments/{order['order_no']}", headers=setup["citizen"]["headers"])).json()
    assert status["status"] == "paid" and status["amount_fen"] == 3001


async def test_other_people_and_wrong_channels(client, cache):
    setup = await f.fee_case_setup(client, cache)
    other = await f.real_name_citizen(client)
    assert (
        await client.post(
            f"/api/v1/cases/{setup['case']['id']}/payments", json={"channel": "wechat"}, headers=other["headers"]
        )
    ).status_code == 404
    order = await _order(client, setup)
    assert_error_shape(
        await client.get(f"/api/v1/payments/{order['order_no']}", headers=other["headers"]), 404, "PAYMENT_NOT_FOUND"
    )
    no_alipay = await client.post(
        f"/api/v1/cases/{setup['case']['id']}/payments", json={"channel": "alipay"}, headers=setup["citizen"]["headers"]
    )
    assert_error_shape(no_alipay, 422, "CHANNEL_UNAVAILABLE")
    bad = await client.post(
        f"/api/v1/cases/{setup['case']['id']}/payments", json={"channel": "cash"}, headers=setup["citizen"]["headers"]
    )
    assert bad.status_code == 422


async def test_forged_tampered_and_foreign_notifications_change_nothing_and_alert(client, cache):
    setup = await f.fee_case_setup(client, cache)
    order = await _order(client, setup)
    forged = await client.post(SIM_PAY["wechat"], json={"order_no": order["order_no"], "sign": "bad"})
    assert forged.json()["status"] == 400
    tampered = await client.post(SIM_PAY["wechat"], json={"order_no": order["order_no"], "amount_fen": 1})
    assert tampered.json()["status"] == 400
    assert await _mismatch_alerts(order["order_no"]) == 1  # the amount; a forger's notification names no order we trust
    local = await PaymentOrder.get(order_no=order["order_no"])
    assert local.status.value == "pending"
    case = (await client.get(f"/api/v1/cases/{setup['case']['id']}", headers=setup["citizen"]["headers"])).json()
    assert case["paid"] is False


async def test_a_notification_that_never_comes_is_caught_by_the_query(client, cache):
    setup = await f.fee_case_setup(client, cache)
    order = await _order(client, setup)
    await client.post("/sim/faults", json={"platform": "wechatpay", "error_rate": 0.0, "notify": "never"})
    try:
        paid = await client.post(SIM_PAY["wechat"], json={"order_no": order["order_no"]})
        assert paid.json()["delivered"] is False
    finally:
        await client.delete("/sim/faults")
    assert (await PaymentOrder.get(order_no=order["order_no"])).status.value == "pending"
    status = (await client.get(f"/api/v1/payments/{order['order_no']}", headers=setup["citizen"]["headers"])).json()
    assert status["status"] == "paid"
    assert await _payment_events(setup["case"]["id"]) == ["payment.succeeded"]


async def test_the_sweep_pays_what_it_finds_paid_and_closes_what_expired(app, client, cache, settings):
    paid_setup = await f.fee_case_setup(client, cache)
    paid_order = await _order(client, paid_setup)
    await client.post("/sim/faults", json={"platform": "wechatpay", "error_rate": 0.0, "notify": "never"})
    try:
        await client.post(SIM_PAY["wechat"], json={"order_no": paid_order["order_no"]})
    finally:
        await client.delete("/sim/faults")
    idle_setup = await f.fee_case_setup(client, cache)
    idle_order = await _order(client, idle_setup)
    await payments.sweep(
        platforms=app.ctx.platforms, settings=settings, cache=cache, now=clock_now() + timedelta(minutes=31)
    )
    assert (await PaymentOrder.get(order_no=paid_order["order_no"])).status.value == "paid"
    assert (await PaymentOrder.get(order_no=idle_order["order_no"])).status.value == "closed"
    late = await client.post(SIM_PAY["wechat"], json={"order_no": idle_order["order_no"]})
    assert_error_shape(late, 409, "CONFLICT")
    fresh = await _order(client, idle_setup)
    assert fresh["order_no"] != idle_order["order_no"] and fresh["status"] == "pending"


async def test_a_notification_replayed_20_times_at_once_pays_once(app, client, cache, settings):
    from app.platforms.sim import wechatpay as sim_wechatpay

    setup = await f.fee_case_setup(client, cache)
    order = await _order(client, setup)
    await client.post("/sim/faults", json={"platform": "wechatpay", "error_rate": 0.0, "notify": "never"})
    try:
        await client.post(SIM_PAY["wechat"], json={"order_no": order["order_no"]})
    finally:
        await client.delete("/sim/faults")
    headers, body = await sim_wechatpay.signed_trade_notification(app, order["order_no"])
    answers = await asyncio.gather(
        *(client.post("/api/v1/pay/notify/wechat", content=body, headers=headers) for _ in range(20))
    )
    assert [a.status_code for a in answers] == [200] * 20
    assert await _payment_events(setup["case"]["id"]) == ["payment.succeeded"]


async def test_pay_before_acceptance_holds_the_clerk_until_paid(client, cache):
    setup = await f.fee_case_setup(client, cache, pay_before="acceptance")
    case = (await client.get(f"/api/v1/staff/cases/{setup['case']['id']}", headers=setup["clerk"]["headers"])).json()
    assert_error_shape(await f.move(client, case, setup["clerk"], "accept"), 409, "PAYMENT_REQUIRED")
    order = await _order(client, setup)
    await client.post(SIM_PAY["wechat"], json={"order_no": order["order_no"]})
    accepted = await f.moved(client, case, setup["clerk"], "accept")
    assert accepted["status"] == "accepted" and accepted["paid"] is True


async def test_a_denied_paid_case_is_refunded_in_full_and_refunds_never_exceed_the_payment(
    app, client, cache, settings
):
    setup = await f.fee_case_setup(client, cache)
    order = await _order(client, setup)
    await client.post(SIM_PAY["wechat"], json={"order_no": order["order_no"]})
    await _deny(client, setup)
    await payments.sweep(platforms=app.ctx.platforms, settings=settings, cache=cache)
    status = (await client.get(f"/api/v1/payments/{order['order_no']}", headers=setup["citizen"]["headers"])).json()
    assert status["status"] == "refunded" and status["refunded_fen"] == 1250
    mine = (await client.get(f"/api/v1/cases/{setup['case']['id']}", headers=setup["citizen"]["headers"])).json()
    assert mine["paid"] is False  # the whole fee went back
    assert await _payment_events(setup["case"]["id"]) == ["payment.succeeded", "payment.refunded"]
    await payments.sweep(
        platforms=app.ctx.platforms, settings=settings, cache=cache
    )  # a second pass refunds nothing more
    assert (await PaymentOrder.get(order_no=order["order_no"])).refunded_fen == 1250

    admin = await f.shared_staff(client, "admin")
    more = await client.post(
        f"/api/v1/admin/payments/{order['order_no']}/refunds",
        headers=admin["headers"],
        json={"amount_fen": 1, "reason": "多退"},
    )
    assert_error_shape(more, 409, "REFUND_EXCEEDS_PAID")


async def test_admin_partial_refunds_add_up_to_at_most_the_payment(client, cache):
    setup = await f.fee_case_setup(client, cache, amount_fen=1000)
    order = await _order(client, setup)
    await client.post(SIM_PAY["wechat"], json={"order_no": order["order_no"]})
    admin = await f.shared_staff(client, "admin")
    path = f"/api/v1/admin/payments/{order['order_no']}/refunds"
    first = await client.post(path, headers=admin["headers"], json={"amount_fen": 600, "reason": "部分退费"})
    assert first.status_code == 201 and first.json()["status"] == "succeeded", first.text
    too_much = await client.post(path, headers=admin["headers"], json={"amount_fen": 401, "reason": "超额"})
    assert_error_shape(too_much, 409, "REFUND_EXCEEDS_PAID")
    rest = await client.post(path, headers=admin["headers"], json={"amount_fen": 400, "reason": "余额"})
    assert rest.status_code == 201
    assert (
        await client.post(path, headers=setup["citizen"]["headers"], json={"amount_fen": 1, "reason": "x"})
    ).status_code == 403
    float_amount = await client.post(path, headers=admin["headers"], json={"amount_fen": 1.5, "reason": "x"})
    assert float_amount.status_code == 422


async def test_reconciliation_finds_a_planted_difference(app, client, cache):
    setup = await f.fee_case_setup(client, cache)
    order = await _order(client, setup)
    await client.post(SIM_PAY["wechat"], json={"order_no": order["order_no"]})
    # Planted: our record says this payment never happened, the provider's bill says it did.
    await PaymentOrder.filter(order_no=order["order_no"]).update(status="pending")
    reports = await payments.reconcile(local_date(clock_now()), platforms=app.ctx.platforms)
    wechat = next(r for r in reports if r["channel"] == "wechat")
    assert {
        "kind": "paid_there_not_here",
        "order_no": order["order_no"],
        "their_fen": 1250,
        "our_status": "pending",
    } in wechat["differences"]
    admin = await f.shared_staff(client, "admin")
    listed = (
        await client.get("/api/v1/admin/reconciliations", params={"date": wechat["date"]}, headers=admin["headers"])
    ).json()
    assert wechat["id"] in [r["id"] for r in listed]


async def test_a_day_with_payments_and_refunds_reconciles_without_differences(app, client, cache, faults):
    admin = await f.shared_staff(client, "admin")
    orders = []
    for _ in range(3):
        setup = await f.fee_case_setup(client, cache)
        orders.append(await _order(client, setup))
        await client.post(SIM_PAY["wechat"], json={"order_no": orders[-1]["order_no"]})

    async def refund(order, amount_fen: int) -> str:
        asked = await client.post(
            f"/api/v1/admin/payments/{order['order_no']}/refunds",
            headers=admin["headers"],
            json={"amount_fen": amount_fen, "reason": "对账测试"},
        )
        assert asked.status_code == 201, asked.text
        return asked.json()["refund_no"]

    refund_nos = [await refund(orders[0], 1250), await refund(orders[1], 250)]
    await faults("wechatpay", 0, refund="abnormal")
    abnormal_no = await refund(orders[2], 500)  # on the bill too, but no money back: neither side counts it
    await _until_refund_is(abnormal_no, "abnormal")
    ours = {o["order_no"] for o in orders} | set(refund_nos) | {abnormal_no}
    report = next(
        r
        for r in await payments.reconcile(local_date(clock_now()), platforms=app.ctx.platforms)
        if r["channel"] == "wechat"
    )
    assert [d for d in report["differences"] if ours & {d.get("order_no"), d.get("refund_no")}] == []
    assert report["summary"]["bill_rows"] >= 5  # three payments and two refunds of ours at least


async def test_a_genuine_notification_for_another_merchant_changes_nothing(app, client, cache, settings):
    from app.platforms.sim import wechatpay as sim_wechatpay

    setup = await f.fee_case_setup(client, cache)
    order = await _order(client, setup)
    resource = {
        "appid": settings.wechat.appid,
        "mchid": "1900000099",
        "out_trade_no": order["order_no"],
        "transaction_id": "4200000000202611230000000001",
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "OTHERS",
        "attach": "",
        "success_time": "2026-11-23T10:00:00+08:00",
        "payer": {"openid": "o-someone"},
        "amount": {"total": 1250, "payer_total": 1250, "currency": "CNY", "payer_currency": "CNY"},
    }
    headers, body = sim_wechatpay.signed_notification(settings, event_type="TRANSACTION.SUCCESS", resource=resource)
    answer = await client.post("/api/v1/pay/notify/wechat", content=body, headers=headers)
    # Refused in WeChat Pay's words: a 400 with {"code": "FAIL"}; trying again would not make it ours.
    assert (answer.status_code, answer.json()["code"]) == (400, "FAIL")
    assert (await PaymentOrder.get(order_no=order["order_no"])).status.value == "pending"
    assert await _mismatch_alerts(order["order_no"]) == 1


def _wechat_refusal(answer) -> None:
    """WeChat Pay's "not accepted, and retrying will not help": a 400 with {"code": "FAIL", "message"}."""
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "FAIL" and answer.json()["message"]


async def test_an_empty_or_junk_wechat_notification_is_refused_with_400(client, cache):
    _wechat_refusal(await client.post("/api/v1/pay/notify/wechat", content=b""))
    _wechat_refusal(
        await client.post(
            "/api/v1/pay/notify/wechat", content=b"\xff{not json", headers={"Content-Type": "application/json"}
        )
    )


async def test_a_wechat_notification_with_a_bad_signature_is_refused_with_400(app, client, cache, settings):
    from app.platforms.sim import wechatpay as sim_wechatpay

    setup = await f.fee_case_setup(client, cache)
    order = await _order(client, setup)
    resource = {
        "appid": settings.wechat.appid,
        "mchid": settings.wechatpay.mchid,
        "out_trade_no": order["order_no"],
        "transaction_id": "4200000000202611230000000002",
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "OTHERS",
        "attach": "",
        "success_time": "2026-11-23T10:00:00+08:00",
        "payer": {"openid": "o-someone"},
        "amount": {"total": 1250, "payer_total": 1250, "currency": "CNY", "payer_currency": "CNY"},
    }
    headers, body = sim_wechatpay.signed_notification(
        settings, event_type="TRANSACTION.SUCCESS", resource=resource, forged=True
    )
    _wechat_refusal(await client.post("/api/v1/pay/notify/wechat", content=body, headers=headers))
    assert (await PaymentOrder.get(order_no=order["order_no"])).status.value == "pending"


async def test_a_genuine_notification_we_fail_to_record_is_answered_500_and_the_retry_pays(
    app, client, cache, monkeypatch
):
    from tortoise.exceptions import OperationalError

    from app.platforms.sim import wechatpay as sim_wechatpay

    setup = await f.fee_case_setup(client, cache)
    order = await _order(client, setup)
    await client.post("/sim/faults", json={"platform": "wechatpay", "error_rate": 0.0, "notify": "never"})
    try:
        await client.post(SIM_PAY["wechat"], json={"order_no": order["order_no"]})
    finally:
        await client.delete("/sim/faults")
    headers, body = await sim_wechatpay.signed_trade_notification(app, order["order_no"])

    async def database_down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(payments, "apply_move", database_down)
    failed = await client.post("/api/v1/pay/notify/wechat", content=body, headers=headers)
    assert failed.status_code == 500 and failed.json()["code"] == "FAIL", failed.text
    assert (await PaymentOrder.get(order_no=order["order_no"])).status.value == "pending"
    monkeypatch.undo()
    retried = await client.post("/api/v1/pay/notify/wechat", content=body, headers=headers)
    assert retried.status_code == 200, retried.text
    assert (await PaymentOrder.get(order_no=order["order_no"])).status.value == "paid"


async def test_50_forged_notifications_alert_once_and_the_next_interval_tells_how_many_were_folded_in(
    app, client, cache, settings, clock
):
    from datetime import datetime

    from app.core.models import OutboxEvent
    from app.identity import service as identity
    from app.notifications import service as notifications
    from app.notifications.models import Delivery
    from app.platforms.sim import wechatpay as sim_wechatpay

    interval = settings.payments.alert_interval_seconds
    # The start of an interval no earlier test alerted in (their refusals not yet reported only add to the first
    # alert's count, never to the second's).
    clock.set(datetime.fromtimestamp((int(clock.now().timestamp()) // interval + 1) * interval, UTC))
    before = await OutboxEvent.filter(kind="payment.mismatch").order_by("-id").first()
    after_id = before.id if before else 0
    resource = {
        "mchid": settings.wechatpay.mchid,
        "out_trade_no": "GHFORGED",
        "trade_state": "SUCCESS",
        "amount": {"total": 1, "payer_total": 1},
    }
    headers, body = sim_wechatpay.signed_notification(
        settings, event_type="TRANSACTION.SUCCESS", resource=resource, forged=True
    )

    async def forge(times: int) -> None:
        for _ in range(times):
            answer = await client.post("/api/v1/pay/notify/wechat", content=body, headers=headers)
            assert answer.status_code == 400, answer.text

    async def new_alerts() -> list[OutboxEvent]:
        return [
            e
            for e in await OutboxEvent.filter(kind="payment.mismatch", id__gt=after_id).order_by("id")
            if e.payload["reason"] == "signature"
        ]

    await forge(50)
    [first] = await new_alerts()
    assert first.payload["count"] >= 1 and first.payload["order_no"] is None
    clock.advance(seconds=interval - 1)
    await forge(1)
    assert len(await new_alerts()) == 1  # still the same interval: counted, not told
    clock.advance(seconds=1)
    await forge(1)
    first, second = await new_alerts()
    assert second.payload["count"] == 51  # itself and the 50 folded in since the first alert

    # One WeChat Work alert per admin for each event, the count in its words (dispatched at the real time).
    admins = await identity.alert_recipients(department_id=None, roles=(), all_department_roles=("admin",))
    assert admins
    for _ in range(50):
        if not await OutboxEvent.filter(id__in=[first.id, second.id], dispatched_at__isnull=True).exists():
            break
        await notifications.dispatch_events(settings=settings, now=datetime.now(UTC))
    for event in (first, second):
        alerts = await Delivery.filter(event_id=event.id, channel="wecom")
        assert sorted(a.recipient for a in alerts) == sorted(admins)
    [text] = {a.payload["content"] for a in await Delivery.filter(event_id=second.id, channel="wecom")}
    assert "共 51 次" in text


async def test_wechat_pays_signature_probes_are_refused_without_alerting_but_forgeries_still_alert(
    client, settings, clock
):
    from datetime import datetime

    from app.core.models import OutboxEvent
    from app.platforms.sim import wechatpay as sim_wechatpay

    interval = settings.payments.alert_interval_seconds
    # The start of an interval no other test alerts in (they take the next ones).
    clock.set(datetime.fromtimestamp((int(clock.now().timestamp()) // interval + 100) * interval, UTC))
    resource = {
        "mchid": settings.wechatpay.mchid,
        "out_trade_no": "GHPROBE",
        "trade_state": "SUCCESS",
        "amount": {"total": 1, "payer_total": 1},
    }

    async def signature_alerts() -> list[OutboxEvent]:
        # by id: alerts[-1] must be the newest (PostgreSQL returns rows in no set order without it)
        events = await OutboxEvent.filter(kind="payment.mismatch").order_by("id")
        return [e for e in events if e.payload["reason"] == "signature"]

    async def post(*, probe: bool):
        headers, body = sim_wechatpay.signed_notification(
            settings, event_type="TRANSACTION.SUCCESS", resource=resource, forged=not probe
        )
        if probe:
            # WeChat Pay's probe: its real signature made wrong on purpose, behind the SIGNTEST prefix.
            headers["Wechatpay-Signature"] = "WECHATPAY/SIGNTEST/" + headers["Wechatpay-Signature"]
        return await client.post("/api/v1/pay/notify/wechat", content=body, headers=headers)

    before = len(await signature_alerts())
    for _ in range(3):
        answer = await post(probe=True)
        assert (answer.status_code, answer.json()) == (400, {"code": "FAIL", "message": "通知无效"})
    assert len(await signature_alerts()) == before  # refused, and no operator is woken for it
    assert (await post(probe=False)).status_code == 400
    assert len(await signature_alerts()) == before + 1  # a forger's notification still alerts
    # Next interval: probes again, then one forgery; its alert counts only itself, never the probes.
    clock.advance(seconds=interval)
    for _ in range(3):
        assert (await post(probe=True)).status_code == 400
    assert (await post(probe=False)).status_code == 400
    alerts = await signature_alerts()
    assert len(alerts) == before + 2 and alerts[-1].payload["count"] == 1


async def test_a_forged_alipay_notification_is_answered_failure(client, cache):
    setup = await f.fee_case_setup(client, cache, channel="alipay")
    order = await _order(client, setup, "alipay")
    forged = await client.post(SIM_PAY["alipay"], json={"order_no": order["order_no"], "sign": "bad"})
    assert forged.json()["body"] == "failure"
    assert (await PaymentOrder.get(order_no=order["order_no"])).status.value == "pending"


async def test_the_citizen_is_told_of_the_payment_and_the_refund(app, client, cache, settings):
    from tests.notifications.test_delivery import _quick, drain

    setup = await f.fee_case_setup(client, cache)
    order = await _order(client, setup)
    await client.post(SIM_PAY["wechat"], json={"order_no": order["order_no"]})
    admin = await f.shared_staff(client, "admin")
    refund = await client.post(
        f"/api/v1/admin/payments/{order['order_no']}/refunds",
        headers=admin["headers"],
        json={"amount_fen": 250, "reason": "多收的工本费"},
    )
    assert refund.status_code == 201, refund.text
    await asyncio.sleep(0.3)  # the simulated WeChat Pay sends its refund notification just after answering
    await drain(app, _quick(settings))
    inbox = (await client.get("/api/v1/me/messages", headers=setup["citizen"]["headers"])).json()
    bodies = {m["title"]: m["body"] for m in inbox["items"]}
    assert "12.50元" in bodies["缴费成功"] and "2.50元" in bodies["退款成功"]


async def test_a_case_paid_on_both_channels_gets_the_second_payment_back(app, client, cache, settings):
    import secrets

    from app.identity.models import Citizen

    setup = await f.fee_case_setup(client, cache)
    citizen = setup["citizen"]
    # The citizen has logged in with Alipay too, and opens a payment on each channel before paying either.
    await Citizen.filter(id=citizen["id"]).update(alipay_user_id=f"2088{secrets.randbelow(10**12):012d}")
    first, second = await _order(client, setup, "wechat"), await _order(client, setup, "alipay")
    for channel, order in (("wechat", first), ("alipay", second)):
        paid = await client.post(SIM_PAY[channel], json={"order_no": order["order_no"]})
        assert paid.status_code == 200 and paid.json()["delivered"] is True, paid.text

    await payments.sweep(platforms=app.ctx.platforms, settings=settings, cache=cache)

    def status_of(order):
        return client.get(f"/api/v1/payments/{order['order_no']}", headers=citizen["headers"])

    kept, returned = (await status_of(first)).json(), (await status_of(second)).json()
    assert (kept["status"], kept["refunded_fen"]) == ("paid", 0)
    assert (returned["status"], returned["refunded_fen"]) == ("refunded", 1250)
    case = (await client.get(f"/api/v1/cases/{setup['case']['id']}", headers=citizen["headers"])).json()
    assert case["paid"] is True  # the first payment stands
    second_order = await PaymentOrder.get(order_no=second["order_no"])
    refunds = [e for e in await outbox.events_for("payment", second_order.id) if e["kind"] == "payment.refunded"]
    assert len(refunds) == 1 and refunds[0]["payload"]["amount_fen"] == 1250
    await payments.sweep(platforms=app.ctx.platforms, settings=settings, cache=cache)  # nothing more goes back
    assert (await PaymentOrder.get(order_no=first["order_no"])).refunded_fen == 0

    # The case is then denied: the payment it kept goes back too, and only now is the case unpaid.
    await _deny(client, setup)
    await payments.sweep(platforms=app.ctx.platforms, settings=settings, cache=cache)
    assert (await status_of(first)).json()["refunded_fen"] == 1250
    case = (await client.get(f"/api/v1/cases/{setup['case']['id']}", headers=citizen["headers"])).json()
    assert case["paid"] is False


async def test_a_refund_left_processing_is_settled_by_asking_the_provider(app, client, cache, settings, faults):
    from tests.notifications.test_delivery import _quick, drain

    setup = await f.fee_case_setup(client, cache)
    order = await _order(client, setup)
    await client.post(SIM_PAY["wechat"], json={"order_no": order["order_no"]})
    # WeChat Pay accepts the refund as PROCESSING and its REFUND.SUCCESS notification never comes.
    await faults("wechatpay", 0, refund="processing")
    admin = await f.shared_staff(client, "admin")
    asked = await client.post(
        f"/api/v1/admin/payments/{order['order_no']}/refunds",
        headers=admin["headers"],
        json={"amount_fen": 1250, "reason": "重复收费"},
    )
    assert asked.status_code == 201 and asked.json()["status"] == "processing", asked.text
    mine = (await client.get(f"/api/v1/cases/{setup['case']['id']}", headers=setup["citizen"]["headers"])).json()
    assert mine["paid"] is True  # no money has moved yet

    # Too fresh to ask about: left alone.
    await payments.sweep(platforms=app.ctx.platforms, settings=settings, cache=cache)
    assert (await Refund.get(refund_no=asked.json()["refund_no"])).status == "processing"
    later = clock_now() + timedelta(seconds=settings.payments.query_after_seconds + 1)
    assert (await payments.sweep(platforms=app.ctx.platforms, settings=settings, cache=cache, now=later)).get(
        "refunds_settled"
    ) == 1
    refund = await Refund.get(refund_no=asked.json()["refund_no"])
    assert refund.status == "succeeded" and refund.finished_at is not None and refund.refund_id
    mine = (await client.get(f"/api/v1/cases/{setup['case']['id']}", headers=setup["citizen"]["headers"])).json()
    assert mine["paid"] is False
    await drain(app, _quick(settings))
    inbox = (await client.get("/api/v1/me/messages", headers=setup["citizen"]["headers"])).json()
    assert any(m["title"] == "退款成功" and "12.50元" in m["body"] for m in inbox["items"])
    assert not (await payments.sweep(platforms=app.ctx.platforms, settings=settings, cache=cache, now=later)).get(
        "refunds_settled"
    )


async def test_a_processing_refund_the_provider_does_not_know_keeps_its_amount_and_alerts(app, client, cache, settings):
    setup = await f.fee_case_setup(client, cache)
    order = await _order(client, setup)
    await client.post(SIM_PAY["wechat"], json={"order_no": order["order_no"]})
    paid = await PaymentOrder.get(order_no=order["order_no"])
    # A refund this service holds as processing that WeChat Pay answers 404 RESOURCE_NOT_EXISTS for.
    await PaymentOrder.filter(id=paid.id).update(refunded_fen=500)
    ghost = await Refund.create(
        refund_no=f"RGHOST{paid.id}", order_id=paid.id, amount_fen=500, reason="测试", requested_by="system"
    )
    later = clock_now() + timedelta(seconds=settings.payments.query_after_seconds + 1)
    for _ in range(2):
        await payments.sweep(platforms=app.ctx.platforms, settings=settings, cache=cache, now=later)
    assert (await Refund.get(id=ghost.id)).status == "processing"
    assert (await PaymentOrder.get(id=paid.id)).refunded_fen == 500  # not given back on an unsigned "not found"
    from app.core.models import OutboxEvent

    alerts = [
        e
        for e in await OutboxEvent.filter(kind="payment.mismatch", aggregate_id=paid.id)
        if e.payload.get("reason") == "refund_missing"
    ]
    assert len(alerts) == 1 and alerts[0].payload["refund_no"] == ghost.refund_no


async def _refund_status(refund_no: str) -> str:
    return (await Refund.get(refund_no=refund_no)).status.value


async def _until_refund_is(refund_no: str, status: str, seconds: float = 5.0) -> None:
    """Wait for the notification the simulated WeChat Pay sends just after answering to move the refund."""
    deadline = asyncio.get_running_loop().time() + seconds
    while await _refund_status(refund_no) != status:
        assert asyncio.get_running_loop().time() < deadline, f"the refund did not become {status} in time"
        await asyncio.sleep(0.05)


async def _abnormal_alerts(refund_no: str) -> list:
    from app.core.models import OutboxEvent

    return [
        e
        for e in await OutboxEvent.filter(kind="payment.mismatch")
        if e.payload.get("reason") == "refund_abnormal" and e.payload.get("refund_no") == refund_no
    ]


def _retry(client, refund_no: str, headers: dict, **body):
    return client.post(f"/api/v1/admin/payments/refunds/{refund_no}/abnormal-retry", headers=headers, json=body)


CARD = {"bank_type": "ICBC_DEBIT", "bank_account": "6222020200112233445", "real_name": "张三"}


async def test_an_abnormal_refund_keeps_its_amount_held_alerts_the_admins_and_is_sent_to_another_card(
    app, client, cache, settings, faults
):
    from app.identity import service as identity
    from app.notifications.models import Delivery
    from tests.notifications.test_delivery import _quick, drain

    setup = await f.fee_case_setup(client, cache)
    order = await _order(client, setup)
    await client.post(SIM_PAY["wechat"], json={"order_no": order["order_no"]})
    admin = await f.shared_staff(client, "admin")
    # WeChat Pay accepts the refund, then the bank sends the money back: the payer's card is closed.
    await faults("wechatpay", 0, refund="abnormal")
    asked = await client.post(
        f"/api/v1/admin/payments/{order['order_no']}/refunds",
        headers=admin["headers"],
        json={"amount_fen": 1000, "reason": "多收的工本费"},
    )
    assert asked.status_code == 201 and asked.json()["status"] == "processing", asked.text
    refund_no = asked.json()["refund_no"]
    await _until_refund_is(refund_no, "abnormal")  # REFUND.ABNORMAL came

    # The 10.00 stays held: only 2.50 of the 12.50 can still be refunded, and the citizen sees it on its way.
    mine = (await client.get(f"/api/v1/payments/{order['order_no']}", headers=setup["citizen"]["headers"])).json()
    assert (mine["status"], mine["refunded_fen"]) == ("refunding", 1000)
    too_much = await client.post(
        f"/api/v1/admin/payments/{order['order_no']}/refunds",
        headers=admin["headers"],
        json={"amount_fen": 251, "reason": "再退一次"},
    )
    assert_error_shape(too_much, 409, "REFUND_EXCEEDS_PAID")
    assert too_much.json()["error"]["details"]["refundable_fen"] == 250
    later = clock_now() + timedelta(seconds=settings.payments.query_after_seconds + 1)
    await payments.sweep(platforms=app.ctx.platforms, settings=settings, cache=cache, now=later)
    assert await _refund_status(refund_no) == "abnormal"  # the sweep's query agrees, and nothing is given back
    assert (await PaymentOrder.get(order_no=order["order_no"])).refunded_fen == 1000
    case = (await client.get(f"/api/v1/cases/{setup['case']['id']}", headers=setup["citizen"]["headers"])).json()
    assert case["paid"] is True

    # The admins are told once, on WeChat Work.
    [alert] = await _abnormal_alerts(refund_no)
    assert (alert.payload["order_no"], alert.payload["amount_fen"]) == (order["order_no"], 1000)
    await drain(app, _quick(settings))
    admins = await identity.alert_recipients(department_id=None, roles=(), all_department_roles=("admin",))
    sent = await Delivery.filter(event_id=alert.id, channel="wecom")
    assert admin["username"] in admins and sorted(d.recipient for d in sent) == sorted(admins)
    text = (await client.get("/sim/wecom/messages", params={"userid": admin["username"]})).json()["items"][-1]
    assert "退款异常" in str(text) and refund_no in str(text)

    # An admin sends it to another debit card of the payer's; WeChat Pay takes it and the money arrives.
    await faults("wechatpay", 0)
    retried = await _retry(client, refund_no, admin["headers"], to="user_bank_card", **CARD)
    assert retried.status_code == 200, retried.text
    assert (retried.json()["refund_no"], retried.json()["status"]) == (refund_no, "processing")
    await _until_refund_is(refund_no, "succeeded")  # REFUND.SUCCESS came
    refunded = (await client.get(f"/api/v1/payments/{order['order_no']}", headers=setup["citizen"]["headers"])).json()
    assert (refunded["status"], refunded["refunded_fen"]) == ("paid", 1000)
    assert_error_shape(
        await _retry(client, refund_no, admin["headers"], to="merchant_bank_card"), 409, "ILLEGAL_TRANSITION"
    )
    from app.audit.models import AuditEntry

    [entry] = await AuditEntry.filter(
        action="payment_refund.retry", object_id=str((await Refund.get(refund_no=refund_no)).id)
    )
    assert entry.after["to"] == "USER_BANK_CARD" and "6222020200112233445" not in str(entry.after)
    assert len(await _abnormal_alerts(refund_no)) == 1


async def test_an_abnormal_refund_found_by_querying_is_paid_back_through_our_bank_account(
    app, client, cache, settings, faults
):
    setup = await f.fee_case_setup(client, cache)
    order = await _order(client, setup)
    await client.post(SIM_PAY["wechat"], json={"order_no": order["order_no"]})
    admin, clerk = await f.shared_staff(client, "admin"), setup["clerk"]
    # Abnormal, and its notification lost: the sweep's query is what finds it.
    await faults("wechatpay", 0, refund="abnormal", notify="never")
    asked = await client.post(
        f"/api/v1/admin/payments/{order['order_no']}/refunds",
        headers=admin["headers"],
        json={"amount_fen": 1250, "reason": "办件未受理"},
    )
    refund_no = asked.json()["refund_no"]
    assert_error_shape(
        await _retry(client, refund_no, admin["headers"], to="merchant_bank_card"), 409, "ILLEGAL_TRANSITION"
    )
    later = clock_now() + timedelta(seconds=settings.payments.query_after_seconds + 1)
    for _ in range(2):
        await payments.sweep(platforms=app.ctx.platforms, settings=settings, cache=cache, now=later)
    assert await _refund_status(refund_no) == "abnormal"
    assert len(await _abnormal_alerts(refund_no)) == 1  # once, however often it is asked about
    assert (await PaymentOrder.get(order_no=order["order_no"])).refunded_fen == 1250

    # Who may not, what is not there, and what is not a way to send it back.
    assert_error_shape(await _retry(client, refund_no, clerk["headers"], to="merchant_bank_card"), 403, "FORBIDDEN")
    assert_error_shape(
        await _retry(client, "RNOSUCHREFUND", admin["headers"], to="merchant_bank_card"), 404, "REFUND_NOT_FOUND"
    )
    for body in ({"to": "user_bank_card"}, {"to": "merchant_bank_card", **CARD}, {"to": "cash"}):
        assert_error_shape(await _retry(client, refund_no, admin["headers"], **body), 422, "VALIDATION_FAILED")
    assert await _refund_status(refund_no) == "abnormal"
    # A card WeChat Pay does not take: refused there, so the refund is abnormal again, as it was (no new alert).
    refused = await _retry(
        client, refund_no, admin["headers"], to="user_bank_card", **{**CARD, "bank_type": "XYZ_DEBIT"}
    )
    assert refused.status_code == 502, refused.text
    assert await _refund_status(refund_no) == "abnormal" and len(await _abnormal_alerts(refund_no)) == 1
    # Another card of the payer's that the bank sends back as well: abnormal again, and the admins are told again.
    again = await _retry(client, refund_no, admin["headers"], to="user_bank_card", **CARD)
    assert again.status_code == 200 and again.json()["status"] == "processing", again.text
    await payments.sweep(platforms=app.ctx.platforms, settings=settings, cache=cache, now=later)
    assert await _refund_status(refund_no) == "abnormal" and len(await _abnormal_alerts(refund_no)) == 2
    assert (await PaymentOrder.get(order_no=order["order_no"])).refunded_fen == 1250

    # To our bank account, for staff to pay the citizen by hand; the query then finds it done.
    retried = await _retry(client, refund_no, admin["headers"], to="merchant_bank_card")
    assert retried.status_code == 200 and retried.json()["status"] == "processing", retried.text
    assert (await payments.sweep(platforms=app.ctx.platforms, settings=settings, cache=cache, now=later)).get(
        "refunds_settled"
    ) == 1
    assert await _refund_status(refund_no) == "succeeded"
    case = (await client.get(f"/api/v1/cases/{setup['case']['id']}", headers=setup["citizen"]["headers"])).json()
    assert case["paid"] is False  # all of it went back


async def test_an_unsigned_notification_is_refused_as_not_genuine_not_as_a_server_error(client):
    answer = await client.post("/api/v1/pay/notify/wechat", json={"event_type": "", "id": "", "resource": {}})
    # Still "not received" in WeChat Pay's words (any 4xx or 5xx), but the sender's fault: refused for good, a 400.
    assert (answer.status_code, answer.json()) == (400, {"code": "FAIL", "message": "通知无效"})


@pytest.fixture(params=["user_id", "open_id"])
async def alipay_id_mode(request, app, client, cache, settings):
    """Alipay naming users by user_id (older app ids) or open_id (app ids Alipay moved): the app's Alipay clients
    and the simulator both in that mode for the test."""
    from app.platforms.alipay import AlipayPlatform
    from app.platforms.alipay_pay import AlipayPayProvider

    mode = request.param
    configured = settings.model_copy(update={"alipay": settings.alipay.model_copy(update={"id_mode": mode})})
    originals = app.ctx.platforms.alipay, app.ctx.platforms.alipay_pay
    app.ctx.platforms.alipay = AlipayPlatform(configured, cache)
    app.ctx.platforms.alipay_pay = AlipayPayProvider(configured, cache)
    assert (await client.post("/sim/alipay/id-mode", json={"mode": mode})).status_code == 200
    try:
        yield mode
    finally:
        await client.post("/sim/alipay/id-mode", json={"mode": None})
        swapped = app.ctx.platforms.alipay, app.ctx.platforms.alipay_pay
        app.ctx.platforms.alipay, app.ctx.platforms.alipay_pay = originals
        await swapped[0].close()
        await swapped[1].aclose()


async def test_an_alipay_user_of_either_id_mode_logs_in_pays_and_gets_a_message(
    app, client, cache, settings, alipay_id_mode
):
    from app.identity import service as identity
    from tests.notifications.test_delivery import _quick, drain

    setup = await f.fee_case_setup(client, cache, amount_fen=1250, channel="alipay")
    citizen = setup["citizen"]
    alipay_id = (await identity.push_targets(citizen["id"]))["alipay_user_id"]
    if alipay_id_mode == "open_id":
        assert len(alipay_id) == 44 and alipay_id.startswith("0")  # no 2088 user_id is given out any more
    else:
        assert alipay_id.startswith("2088") and len(alipay_id) == 16
    template_id = settings.notifications.alipay_templates["payment"].template_id
    for _ in range(2):  # a payment receipt is a progress note: it leaves one credit for what the citizen waits for
        tapped = await client.post("/sim/alipay/subscribe", json={"user_id": alipay_id, "template_ids": [template_id]})
        subscribed = {"channel": "alipay", "results": tapped.json()["results"]}
        recorded = await client.post("/api/v1/me/subscriptions", headers=citizen["headers"], json=subscribed)
        assert recorded.status_code == 200, recorded.text

    order = await _order(client, setup, "alipay")
    paid = await client.post(SIM_PAY["alipay"], json={"order_no": order["order_no"]})
    assert paid.status_code == 200 and paid.json()["delivered"] is True, paid.text
    status = (await client.get(f"/api/v1/payments/{order['order_no']}", headers=citizen["headers"])).json()
    assert status["status"] == "paid"
    await drain(app, _quick(settings))
    pushed = (await client.get("/sim/alipay/messages", params={"user_id": alipay_id})).json()["items"]
    assert [m["template_id"] for m in pushed] == [template_id]
    assert "12.50" in " ".join(pushed[0]["data"].values())


async def test_the_simulator_refuses_the_buyer_field_of_the_other_id_mode(app, client, cache, settings):
    assert (await client.post("/sim/alipay/id-mode", json={"mode": "open_id"})).status_code == 200
    try:
        # The app still sends buyer_id (user_id mode) to an app id Alipay has moved to open_id.
        with pytest.raises(PlatformError):
            await app.ctx.platforms.alipay_pay.create(
                order_no=f"GHT{uuid.uuid4().hex[:20]}",
                amount_fen=100,
                description="测试",
                payer_id=f"2088{uuid.uuid4().int % 10**12:012d}",
                expires_at=datetime.now(UTC) + timedelta(minutes=30),
            )
    finally:
        await client.post("/sim/alipay/id-mode", json={"mode": None})


async def test_wechat_pay_refuses_an_http_notify_url_when_the_simulator_acts_as_live(client, cache):
    setup = await f.fee_case_setup(client, cache)
    assert (await client.post("/sim/strict", json={"on": True})).status_code == 200
    try:
        refused = await client.post(
            f"/api/v1/cases/{setup['case']['id']}/payments",
            json={"channel": "wechat"},
            headers=setup["citizen"]["headers"],
        )
        # Our test server's notify URL is http://127.0.0.1: live WeChat Pay would never confirm a payment.
        assert refused.status_code == 502, refused.text
    finally:
        await client.post("/sim/strict", json={"on": False})
    assert (await _order(client, setup))["order_no"]


async def test_admins_list_refunds_by_status_with_their_order(client, cache):
    setup = await f.fee_case_setup(client, cache, amount_fen=800)
    order = await _order(client, setup)
    await client.post(SIM_PAY["wechat"], json={"order_no": order["order_no"]})
    admin = await f.shared_staff(client, "admin")
    made = await client.post(
        f"/api/v1/admin/payments/{order['order_no']}/refunds",
        headers=admin["headers"],
        json={"amount_fen": 300, "reason": "部分退费"},
    )
    assert made.status_code == 201, made.text
    # Newest first: the refund just made is on the first page.
    listed = await client.get("/api/v1/admin/refunds", headers=admin["headers"], params={"status": "succeeded"})
    assert {item["status"] for item in listed.json()["items"]} == {"succeeded"}
    ours = [item for item in listed.json()["items"] if item["refund_no"] == made.json()["refund_no"]]
    assert ours == [{**made.json(), "order_no": order["order_no"], "case_id": setup["case"]["id"], "channel": "wechat"}]
    abnormal = await client.get("/api/v1/admin/refunds", headers=admin["headers"], params={"status": "abnormal"})
    assert made.json()["refund_no"] not in [item["refund_no"] for item in abnormal.json()["items"]]
    assert (await client.get("/api/v1/admin/refunds", headers=setup["clerk"]["headers"])).status_code == 403
    bad = await client.get("/api/v1/admin/refunds", headers=admin["headers"], params={"status": "lost"})
    assert_error_shape(bad, 422, "VALIDATION_FAILED")


async def test_can_pay_tells_the_citizen_when_the_fee_is_owed(client, cache):
    setup = await f.fee_case_setup(client, cache)
    citizen, case_id = setup["citizen"], setup["case"]["id"]
    assert setup["case"]["can_pay"] is True  # submitted with the fee unpaid
    draft = await f.draft(client, setup)
    assert draft["can_pay"] is False  # a draft owes nothing yet (CASE_NOT_SUBMITTED)
    clerk_view = (await client.get(f"/api/v1/staff/cases/{case_id}", headers=setup["clerk"]["headers"])).json()
    assert clerk_view["can_pay"] is False  # staff never pay
    other = await f.real_name_citizen(client)
    assert (await client.get(f"/api/v1/cases/{case_id}", headers=other["headers"])).status_code == 404
    order = await _order(client, setup)
    await client.post(SIM_PAY["wechat"], json={"order_no": order["order_no"]})
    paid = (await client.get(f"/api/v1/cases/{case_id}", headers=citizen["headers"])).json()
    assert (paid["paid"], paid["can_pay"]) == (True, False)  # NOTHING_TO_PAY once paid
    listed = (await client.get("/api/v1/cases", headers=citizen["headers"])).json()["items"]
    assert {item["id"]: item["can_pay"] for item in listed}[case_id] is False
