"""Every status change reaches the citizen and the right staff exactly once, even when the platforms fail."""

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.core.models import OutboxEvent
from app.notifications import service as notifications
from app.notifications.models import Delivery, DeliveryStatus
from tests import factories as f
from tests.core.test_errors import assert_error_shape

ROOT = Path(__file__).resolve().parents[2]


def _quick(settings, **changes):
    """The run's settings with retries fast enough for a test."""
    tuning = {"backoff_base_seconds": 0.01, "backoff_max_seconds": 0.05, "max_attempts": 50, **changes}
    return settings.model_copy(update={"notifications": settings.notifications.model_copy(update=tuning)})


async def drain(app, settings, *, worker_id: str = "test-worker", seconds: float = 90) -> None:
    """Run the notifier until nothing is left to send.

    The database is shared by the whole run, so this may also send earlier tests' backlog (alerts to every
    supervisor), and wait out a lease or back-off another test left: hence a time budget, not a number of rounds.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await notifications.run_once(platforms=app.ctx.platforms, settings=settings, worker_id=worker_id)
        open_rows = await Delivery.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]).count()
        if not open_rows and not await OutboxEvent.filter(dispatched_at__isnull=True).exists():
            return
        await asyncio.sleep(0.02)
    stuck = (
        await Delivery.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING])
        .order_by("id")
        .limit(5)
        .values(
            "id",
            "channel",
            "purpose",
            "status",
            "attempts",
            "next_attempt_at",
            "claimed_by",
            "claimed_until",
            "last_error",
        )
    )
    undispatched = await OutboxEvent.filter(dispatched_at__isnull=True).order_by("id").limit(5).values("id", "kind")
    raise AssertionError(f"deliveries still open: {stuck}; events not dispatched: {undispatched}")


async def _subscribed_citizen(client, settings, purposes=("case_progress", "supplement_required"), times: int = 20):
    citizen = await f.real_name_citizen(client)
    catalogue = (await client.get("/api/v1/subscriptions/templates")).json()
    template_ids = [catalogue[p]["template_id"] for p in purposes]
    for _ in range(times):
        body = {"channel": "wechat", "results": dict.fromkeys(template_ids, "accept")}
        response = await client.post("/api/v1/me/subscriptions", headers=citizen["headers"], json=body)
        assert response.status_code == 200, response.text
    openid = await _openid(citizen["id"])
    return {**citizen, "openid": openid, "template_ids": template_ids}


async def _openid(citizen_id: int) -> str:
    from app.identity import service as identity

    return (await identity.push_targets(citizen_id))["wechat_openid"]


async def _sim_messages(client, openid: str) -> list[dict]:
    response = await client.get("/sim/wechat/messages", params={"openid": openid})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def _walk_a_case(client, setup: dict) -> dict:
    clerk, approver = setup["clerk"], setup["approver"]
    case = await f.submitted_case(client, setup)
    case = (await client.get(f"/api/v1/staff/cases/{case['id']}", headers=clerk["headers"])).json()
    case = await f.moved(client, case, clerk, "accept")
    case = await f.moved(client, case, approver, "start_review")
    case = await f.moved(client, case, approver, "approve")
    return await f.moved(client, case, clerk, "deliver", method="express", tracking_no="SF100200300")


async def test_a_case_walked_through_yields_the_expected_messages_in_order(app, client, cache, settings):
    setup = await f.case_setup(client, cache)
    citizen = await _subscribed_citizen(client, settings)
    setup["citizen"] = citizen
    case = await _walk_a_case(client, setup)
    await drain(app, _quick(settings))

    inbox = (await client.get("/api/v1/me/messages", headers=citizen["headers"])).json()
    titles = [m["title"] for m in reversed(inbox["items"])]
    assert titles == ["申请已提交", "申请已受理", "审查中", "准予许可", "办理结果已送达"]
    assert inbox["unread"] == 5 and all(m["subject"] == {"type": "case", "id": case["id"]} for m in inbox["items"])
    assert "SF100200300" in inbox["items"][0]["body"]
    pushed = await _sim_messages(client, citizen["openid"])
    assert len(pushed) == 5
    statuses = [next(v for k, v in _values(m).items() if k.startswith("phrase")) for m in pushed]
    assert statuses == ["已提交", "已受理", "审查中", "准予许可", "已寄出"]
    receipt = next(v for k, v in _values(pushed[1]).items() if k.startswith("character_string"))
    assert receipt == case["receipt_no"]
    # The department's clerk heard of the new case on WeChat Work, the approver did not.
    clerk_alerts = (await client.get("/sim/wecom/messages", params={"userid": setup["clerk"]["username"]})).json()
    assert any(str(case["id"]) in _content(m) for m in clerk_alerts["items"])
    approver_alerts = (await client.get("/sim/wecom/messages", params={"userid": setup["approver"]["username"]})).json()
    assert not any(str(case["id"]) in _content(m) for m in approver_alerts["items"])

    read = await client.post(f"/api/v1/me/messages/{inbox['items'][0]['id']}/read", headers=citizen["headers"])
    assert read.status_code == 200 and read.json()["read"] is True
    other = await f.real_name_citizen(client)
    assert_error_shape(
        await client.post(f"/api/v1/me/messages/{inbox['items'][1]['id']}/read", headers=other["headers"]),
        404,
        "MESSAGE_NOT_FOUND",
    )


def _values(message: dict) -> dict:
    data = message["data"]
    return {key: value["value"] if isinstance(value, dict) else value for key, value in data.items()}


def _content(message: dict) -> str:
    return message.get("content") or message.get("text", {}).get("content", "")


async def test_a_few_credits_go_to_the_result_not_to_the_early_steps(app, client, cache, settings):
    setup = await f.case_setup(client, cache)
    citizen = await _subscribed_citizen(client, settings, purposes=("case_progress",), times=2)
    setup["citizen"] = citizen
    await _walk_a_case(client, setup)  # five citizen messages, two credits
    await drain(app, _quick(settings))
    inbox = (await client.get("/api/v1/me/messages", headers=citizen["headers"])).json()
    assert inbox["total"] == 5
    pushed = await _sim_messages(client, citizen["openid"])
    statuses = [next(v for k, v in _values(m).items() if k.startswith("phrase")) for m in pushed]
    # 已提交 spent one; 已受理 and 审查中 left the last for what the citizen waits for: 准予许可.
    assert statuses == ["已提交", "准予许可"]
    credits = (await client.get("/api/v1/me/subscriptions", headers=citizen["headers"])).json()
    assert credits == [{"template_id": citizen["template_ids"][0], "remaining": 0}]
    # What was not pushed is recorded as such, not lost without a trace.
    unsent = await Delivery.filter(recipient=citizen["openid"], status=DeliveryStatus.NO_CREDIT).order_by("id")
    assert len(unsent) == 3
    assert all(row.last_error for row in unsent)


async def test_long_term_templates_push_every_move_without_spending_credits(app, client, cache, settings):
    templates = dict(settings.notifications.wechat_templates)
    templates["case_progress"] = templates["case_progress"].model_copy(update={"long_term": True})
    long_term = _quick(settings, wechat_templates=templates)
    setup = await f.case_setup(client, cache)
    citizen = await f.real_name_citizen(client)
    setup["citizen"] = citizen
    await _walk_a_case(client, setup)
    await drain(app, long_term)
    openid = await _openid(citizen["id"])
    assert len(await _sim_messages(client, openid)) == 5
    assert (await client.get("/api/v1/me/subscriptions", headers=citizen["headers"])).json() == []


async def test_the_pickup_message_says_where_and_when(app, client, cache, settings):
    hall = await f.hall(cache, name=f"临江市民中心{f.unique('')}", address="临江市江滨路 88 号")
    setup = await f.case_setup(client, cache, hall_ids=[hall["id"]])
    citizen = await _subscribed_citizen(client, settings, purposes=("case_progress",), times=10)
    setup["citizen"] = citizen
    clerk, approver = setup["clerk"], setup["approver"]
    case = await f.submitted_case(client, setup)
    case = (await client.get(f"/api/v1/staff/cases/{case['id']}", headers=clerk["headers"])).json()
    case = await f.moved(client, case, clerk, "accept")
    case = await f.moved(client, case, approver, "start_review")
    case = await f.moved(client, case, approver, "approve")
    elsewhere = await f.hall(cache)
    wrong = await f.move(client, case, clerk, "deliver", method="pickup", pickup_hall_id=elsewhere["id"])
    assert_error_shape(wrong, 422, "VALIDATION_FAILED")
    await f.moved(client, case, clerk, "deliver", method="pickup")
    await drain(app, _quick(settings))
    latest = (await client.get("/api/v1/me/messages", headers=citizen["headers"])).json()["items"][0]
    assert latest["title"] == "办理结果已送达"
    assert hall["name"] in latest["body"] and "江滨路 88 号" in latest["body"]
    assert hall["opening_hours"] in latest["body"]
    pushed = (await _sim_messages(client, citizen["openid"]))[-1]
    assert "待领取" in _values(pushed).values()


async def test_subscriptions_take_at_most_three_known_templates(client, settings):
    citizen = await f.real_name_citizen(client)
    url = "/api/v1/me/subscriptions"
    four = {"channel": "wechat", "results": {name: "accept" for name in "abcd"}}
    assert_error_shape(await client.post(url, headers=citizen["headers"], json=four), 422, "VALIDATION_FAILED")
    unknown = {"channel": "wechat", "results": {"not-ours": "accept"}}
    assert_error_shape(await client.post(url, headers=citizen["headers"], json=unknown), 422, "VALIDATION_FAILED")
    odd = {"channel": "wechat", "results": {"x": "maybe"}}
    assert_error_shape(await client.post(url, headers=citizen["headers"], json=odd), 422, "VALIDATION_FAILED")
    assert (await client.post(url, json=unknown)).status_code == 401
    # Only "accept" grants a message; reject, ban and filter are recorded as nothing.
    progress = settings.notifications.wechat_templates["case_progress"].template_id
    reply = settings.notifications.wechat_templates["feedback_reply"].template_id
    answered = {"channel": "wechat", "results": {progress: "accept", reply: "reject"}}
    credits = (await client.post(url, headers=citizen["headers"], json=answered)).json()
    assert credits == [{"template_id": progress, "remaining": 1}]


async def test_with_half_the_platform_calls_failing_every_message_arrives_once(app, client, cache, settings):
    setup = await f.case_setup(client, cache)
    citizen = await _subscribed_citizen(client, settings)
    setup["citizen"] = citizen
    await client.post("/sim/faults", json={"platform": "wechat", "error_rate": 0.5})
    await client.post("/sim/faults", json={"platform": "wecom", "error_rate": 0.5})
    try:
        for _ in range(3):
            await _walk_a_case(client, setup)
        await drain(app, _quick(settings))
    finally:
        await client.delete("/sim/faults")
    pushed = await _sim_messages(client, citizen["openid"])
    assert len(pushed) == 15
    keys = [(m["template_id"], tuple(sorted(_values(m).items()))) for m in pushed]
    assert len(set(keys)) == 15  # fifteen different messages, none of them twice
    retried = await Delivery.filter(recipient=citizen["openid"], attempts__gt=1).count()
    assert retried > 0  # the faults did bite, and retries carried the messages through
    assert await Delivery.filter(recipient=citizen["openid"], status=DeliveryStatus.SENT).count() == 15


async def test_permanent_refusal_stops_and_a_message_that_keeps_failing_goes_dead_until_retried(
    app, client, cache, settings
):
    setup = await f.case_setup(client, cache)
    citizen = await _subscribed_citizen(client, settings)
    setup["citizen"] = citizen
    await f.submitted_case(client, setup)
    await client.post("/sim/faults", json={"platform": "wechat", "error_rate": 1.0, "errcode": 43101})
    try:
        await drain(app, _quick(settings))
    finally:
        await client.delete("/sim/faults")
    refused = await Delivery.get(recipient=citizen["openid"])
    assert refused.status == DeliveryStatus.REJECTED and refused.attempts == 1 and "43101" in refused.last_error

    await f.submitted_case(client, setup)
    await client.post("/sim/faults", json={"platform": "wechat", "error_rate": 1.0})
    try:
        await drain(app, _quick(settings, max_attempts=3))
    finally:
        await client.delete("/sim/faults")
    dead = await Delivery.filter(recipient=citizen["openid"], status=DeliveryStatus.DEAD).first()
    assert dead is not None and dead.attempts == 3
    admin = await f.shared_staff(client, "admin")
    listed = (await client.get("/api/v1/staff/deliveries", params={"status": "dead"}, headers=admin["headers"])).json()
    assert dead.id in [d["id"] for d in listed["items"]]
    assert (await client.get("/api/v1/staff/deliveries", headers=citizen["headers"])).status_code == 403
    retried = await client.post(f"/api/v1/staff/deliveries/{dead.id}/retry", headers=admin["headers"])
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    assert_error_shape(
        await client.post(f"/api/v1/staff/deliveries/{dead.id}/retry", headers=admin["headers"]), 409, "CONFLICT"
    )
    await drain(app, _quick(settings))
    assert (await Delivery.get(id=dead.id)).status == DeliveryStatus.SENT
    assert len(await _sim_messages(client, citizen["openid"])) == 1


async def test_two_workers_draining_one_outbox_send_each_message_once(app, client, cache, settings):
    setup = await f.case_setup(client, cache)
    # One credit more than the twenty messages: two workers may reach a progress note after the results, and a
    # progress note never spends the last credit (what this test counts is each message sent once, not credits).
    citizen = await _subscribed_citizen(client, settings, times=21)
    setup["citizen"] = citizen
    for _ in range(4):
        await _walk_a_case(client, setup)
    quick = _quick(settings, batch_size=3)
    await asyncio.gather(drain(app, quick, worker_id="worker-a"), drain(app, quick, worker_id="worker-b"))
    pushed = await _sim_messages(client, citizen["openid"])
    assert len(pushed) == 20
    inbox = (await client.get("/api/v1/me/messages", headers=citizen["headers"], params={"page_size": 100})).json()
    assert inbox["total"] == 20
    by_worker = set(await Delivery.filter(recipient=citizen["openid"]).values_list("claimed_by", flat=True))
    assert by_worker <= {"worker-a", "worker-b"}


async def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(app, client, cache, settings, clock):
    setup = await f.case_setup(client, cache)
    citizen = await _subscribed_citizen(client, settings)
    setup["citizen"] = citizen
    for _ in range(3):
        await _walk_a_case(client, setup)
    # Every WeChat call takes a while, so the kill lands in the middle of the batch.
    await client.post("/sim/faults", json={"platform": "wechat", "error_rate": 0.0, "delay_ms": 150})
    env = dict(os.environ)
    env.update(
        {
            "APP_DATABASE__URL": settings.database.url,
            "APP_CACHE__URL": settings.cache.url,
            "APP_CACHE__KEY_PREFIX": settings.cache.key_prefix,
            "APP_APP__ENV": "test",
            "APP_APP__PUBLIC_BASE_URL": settings.app.public_base_url,
            "APP_NOTIFICATIONS__LEASE_SECONDS": "5",
            "APP_WORKER__NOTIFY_INTERVAL_SECONDS": "0.1",
            "APP_WORKER__SLOTS_INTERVAL_SECONDS": "3600",
            "APP_WORKER__CASE_LIGHTS_INTERVAL_SECONDS": "3600",
        }
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "app", "worker"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(await _sim_messages(client, citizen["openid"])) < 3:
            await asyncio.sleep(0.05)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    await client.delete("/sim/faults")
    sent_before = len(await _sim_messages(client, citizen["openid"]))
    assert 3 <= sent_before < 15, "the kill should land mid-batch"
    # What the dead worker held comes back after its lease (5 s, set above): the clock moves past it, no waiting.
    clock.set(datetime.now(UTC) + timedelta(seconds=5 + 1))
    await drain(app, _quick(settings))
    pushed = await _sim_messages(client, citizen["openid"])
    assert len(pushed) == 15
    assert await Delivery.filter(recipient=citizen["openid"], status=DeliveryStatus.SENT).count() == 15


async def test_alipay_users_get_alipay_template_messages(app, client, cache, settings):
    from app.identity import service as identity

    setup = await f.case_setup(client, cache)
    citizen = await f.alipay_login(client)
    bound = await f.verify_identity(client, citizen, name="钱八", number=f.id_number(), method="alipay")
    assert bound.status_code == 200, bound.text
    setup["citizen"] = citizen
    template_id = settings.notifications.alipay_templates["case_progress"].template_id
    catalogue = (await client.get("/api/v1/subscriptions/templates", params={"channel": "alipay"})).json()
    assert catalogue["case_progress"]["template_id"] == template_id
    # The citizen taps 订阅 in Alipay (my.requestSubscribeMessage); the app sends Alipay's answer to us.
    user_id = (await identity.push_targets(citizen["id"]))["alipay_user_id"]
    # Twice: a progress note (已提交) leaves the last credit for what the citizen waits for.
    for _ in range(2):
        tapped = await client.post("/sim/alipay/subscribe", json={"user_id": user_id, "template_ids": [template_id]})
        body = {"channel": "alipay", "results": tapped.json()["results"]}
        recorded = await client.post("/api/v1/me/subscriptions", headers=citizen["headers"], json=body)
        assert recorded.status_code == 200
    await f.submitted_case(client, setup)
    await drain(app, _quick(settings))
    pushed = (await client.get("/sim/alipay/messages", params={"user_id": user_id})).json()["items"]
    assert [m["template_id"] for m in pushed] == [template_id]
    keywords = settings.notifications.alipay_templates["case_progress"].keywords
    assert sorted(pushed[0]["data"]) == [f"keyword{i}" for i in range(1, keywords + 1)]


async def test_an_alipay_user_without_a_subscription_gets_no_push_but_the_inbox_message(app, client, cache, settings):
    from app.identity import service as identity

    setup = await f.case_setup(client, cache)
    citizen = await f.alipay_login(client)
    bound = await f.verify_identity(client, citizen, name="钱九", number=f.id_number(), method="alipay")
    assert bound.status_code == 200, bound.text
    setup["citizen"] = citizen
    await f.submitted_case(client, setup)
    await drain(app, _quick(settings))
    user_id = (await identity.push_targets(citizen["id"]))["alipay_user_id"]
    assert (await client.get("/sim/alipay/messages", params={"user_id": user_id})).json()["items"] == []
    # recorded as not sent for want of a subscription, never attempted
    statuses = set(await Delivery.filter(recipient=user_id).values_list("status", flat=True))
    assert statuses == {DeliveryStatus.NO_CREDIT}
    inbox = (await client.get("/api/v1/me/messages", headers=citizen["headers"])).json()
    assert inbox["total"] >= 1


async def test_the_alipay_simulator_refuses_a_message_to_a_user_who_did_not_subscribe(app, client, settings):
    from app.platforms import MessageRejected

    user_id = f"2088{uuid.uuid4().int % 10**12:012d}"
    template_id = settings.notifications.alipay_templates["case_progress"].template_id
    keywords = settings.notifications.alipay_templates["case_progress"].keywords
    data = {f"keyword{n}": "x" for n in range(1, keywords + 1)}
    with pytest.raises(MessageRejected) as refused:
        await app.ctx.platforms.alipay.send_template_message(user_id=user_id, template_id=template_id, data=data)
    assert refused.value.errcode == "USER_UNSUBSCRIBED"
    await client.post("/sim/alipay/subscribe", json={"user_id": user_id, "template_ids": [template_id]})
    await app.ctx.platforms.alipay.send_template_message(user_id=user_id, template_id=template_id, data=data)
    with pytest.raises(MessageRejected):  # one subscription, one message
        await app.ctx.platforms.alipay.send_template_message(user_id=user_id, template_id=template_id, data=data)


async def test_deadline_lights_alert_approvers_and_admins_and_red_also_supervisors(app, client, cache, settings):
    from datetime import datetime

    from app.cases import service as cases
    from app.core.auth import Principal
    from app.core.timeutil import CITY_TZ

    setup = await f.case_setup(client, cache)
    dept_admin = await f.staff(client, "dept_admin", department_id=setup["department"]["id"])
    supervisor = await f.shared_staff(client, "supervisor")
    case = await f.submitted_case(client, setup)
    clerk = Principal(kind="staff", id=setup["clerk"]["id"], roles=("clerk",), department_id=setup["department"]["id"])
    accepted_at = datetime(2026, 9, 29, 10, tzinfo=CITY_TZ)
    case = await cases.transition(
        clerk, case["id"], "accept", version=case["version"], cache=cache, guide_ttl=60, now=accepted_at
    )
    await drain(app, _quick(settings))  # the earlier events first, so the alerts below are the only new ones

    async def alerts(account) -> list[str]:
        items = (await client.get("/sim/wecom/messages", params={"userid": account["username"]})).json()["items"]
        return [m["content"] for m in items if case["receipt_no"] in m["content"]]

    await cases.announce_lights(now=datetime(2026, 10, 11, 12, tzinfo=CITY_TZ))
    await drain(app, _quick(settings))
    for account in (setup["approver"], dept_admin):
        assert len(await alerts(account)) == 1 and "黄灯" in (await alerts(account))[0]
    assert await alerts(supervisor) == [] and await alerts(setup["clerk"]) == []
    await cases.announce_lights(now=datetime(2026, 10, 14, 9, tzinfo=CITY_TZ))
    await drain(app, _quick(settings))
    assert ["红灯" in text for text in await alerts(setup["approver"])] == [False, True]
    assert len(await alerts(supervisor)) == 1 and "红灯" in (await alerts(supervisor))[0]
    assert await alerts(setup["clerk"]) == []


async def test_a_stopping_worker_returns_its_leases_and_keeps_others(app, client, cache, settings):
    from datetime import timedelta

    from app.core.timeutil import now as clock_now

    at = clock_now()
    rows = []
    for number, owner in enumerate(("worker-stopping", "worker-stopping", "worker-staying")):
        rows.append(
            await Delivery.create(
                event_id=0,
                channel="wechat",
                recipient=f"lease-test-{owner}-{number}",
                purpose="case_progress",
                dedupe_key=f"lease-test:{at.timestamp()}:{number}",
                status=DeliveryStatus.SENDING,
                next_attempt_at=at,
                claimed_until=at + timedelta(minutes=5),
                claimed_by=owner,
            )
        )
    assert await notifications.release_leases("worker-stopping", now=at) == 2
    returned = await Delivery.filter(id__in=[rows[0].id, rows[1].id])
    assert {(row.status, row.claimed_by, row.claimed_until) for row in returned} == {(DeliveryStatus.PENDING, "", None)}
    assert all(row.next_attempt_at <= at for row in returned)
    kept = await Delivery.get(id=rows[2].id)
    assert (kept.status, kept.claimed_by) == (DeliveryStatus.SENDING, "worker-staying")
    await Delivery.filter(id__in=[row.id for row in rows]).delete()
