"""Appointment, reminder and queue messages, and template values cut to WeChat's limits."""

from datetime import UTC, datetime, timedelta

import pytest

from app.booking import service as booking
from app.core import outbox
from app.core.timeutil import now as clock_now
from app.notifications.models import Delivery, DeliveryStatus
from app.notifications.templates import fit, render
from app.platforms.sim.wechat import VALUE_RULES
from tests import factories as f
from tests.notifications.test_delivery import _quick, _sim_messages, _subscribed_citizen, _values, drain


async def _inbox_titles(client, citizen) -> list[str]:
    inbox = (await client.get("/api/v1/me/messages", headers=citizen["headers"], params={"page_size": 100})).json()
    return [m["title"] for m in reversed(inbox["items"])]


async def test_booking_and_cancelling_reach_the_citizen(app, client, cache, settings):
    setup = await f.bookable_matter(cache)
    await f.schedule(cache, setup)
    citizen = await _subscribed_citizen(
        # two each: a progress note leaves the last credit of its template for what the citizen waits for
        client,
        settings,
        purposes=("appointment_booked", "appointment_cancelled"),
        times=2,
    )
    slot = await f.open_slot(client, setup)
    booked = await client.post(
        "/api/v1/appointments",
        headers=citizen["headers"],
        json={"slot_id": slot["id"], "matter_id": setup["matter"]["id"]},
    )
    assert booked.status_code == 201, booked.text
    appointment = booked.json()
    cancelled = await client.post(f"/api/v1/appointments/{appointment['id']}/cancel", headers=citizen["headers"])
    assert cancelled.status_code == 200, cancelled.text
    await drain(app, _quick(settings))

    assert await _inbox_titles(client, citizen) == ["预约成功", "预约已取消"]
    pushed = await _sim_messages(client, citizen["openid"])
    assert [m["template_id"] for m in pushed] == citizen["template_ids"]
    booked_values = _values(pushed[0])
    assert booked_values["character_string4"] == appointment["code"]
    assert booked_values["thing2"] == fit(setup["hall"]["name"], "thing")
    assert booked_values["time3"] == slot["start"][:16].replace("T", " ")


async def test_reminders_come_the_day_before_and_an_hour_before_once_each(app, client, cache, settings):
    setup = await f.bookable_matter(cache)
    await f.schedule(cache, setup)
    citizen = await f.real_name_citizen(client)
    slots = (
        await client.get(f"/api/v1/matters/{setup['matter']['id']}/slots", params={"hall_id": setup["hall"]["id"]})
    ).json()
    later = next(s for s in slots if datetime.fromisoformat(s["start"]) > clock_now() + timedelta(hours=26))
    booked = await client.post(
        "/api/v1/appointments",
        headers=citizen["headers"],
        json={"slot_id": later["id"], "matter_id": setup["matter"]["id"]},
    )
    assert booked.status_code == 201, booked.text
    appointment_id = booked.json()["id"]
    start = datetime.fromisoformat(later["start"])

    async def reminders() -> list[str]:
        return [
            e["payload"]["ahead"]
            for e in await outbox.events_for("appointment", appointment_id)
            if e["kind"] == "appointment.reminder"
        ]

    await booking.remind_appointments(now=start - timedelta(hours=30))
    assert await reminders() == []
    for hours in (23, 20):
        await booking.remind_appointments(now=start - timedelta(hours=hours))
    assert await reminders() == ["day"]
    for minutes in (50, 10):
        await booking.remind_appointments(now=start - timedelta(minutes=minutes))
    assert await reminders() == ["day", "hour"]
    await drain(app, _quick(settings))
    assert await _inbox_titles(client, citizen) == ["预约成功", "预约提醒", "预约提醒"]


async def test_no_day_before_reminder_for_a_booking_made_within_the_day(app, client, cache):
    from app.booking.models import Appointment

    setup = await f.bookable_matter(cache)
    await f.schedule(cache, setup)
    citizen = await f.real_name_citizen(client)
    slot = (
        await client.get(f"/api/v1/matters/{setup['matter']['id']}/slots", params={"hall_id": setup["hall"]["id"]})
    ).json()[-1]
    booked = await client.post(
        "/api/v1/appointments",
        headers=citizen["headers"],
        json={"slot_id": slot["id"], "matter_id": setup["matter"]["id"]},
    )
    appointment_id = booked.json()["id"]
    start = datetime.fromisoformat(slot["start"])
    # As if booked three hours before the slot: a "tomorrow" reminder would come after the booking itself.
    await Appointment.filter(id=appointment_id).update(created_at=start - timedelta(hours=3))
    await booking.remind_appointments(now=start - timedelta(hours=2))
    await booking.remind_appointments(now=start - timedelta(minutes=30))
    reminders = [
        e["payload"]["ahead"]
        for e in await outbox.events_for("appointment", appointment_id)
        if e["kind"] == "appointment.reminder"
    ]
    assert reminders == ["hour"]


async def test_a_called_ticket_tells_the_citizen_which_window(app, client, cache, settings):
    from tortoise.transactions import in_transaction

    place = await f.hall(cache)
    citizen = await f.real_name_citizen(client)
    async with in_transaction() as connection:
        await outbox.emit(
            "queue.called",
            aggregate_type="ticket",
            aggregate_id=987654,
            citizen_id=citizen["id"],
            connection=connection,
            payload={"ticket_id": 987654, "hall_id": place["id"], "window": 3, "number": "A017"},
        )
    await drain(app, _quick(settings))
    inbox = (await client.get("/api/v1/me/messages", headers=citizen["headers"])).json()
    assert inbox["items"][0]["title"] == "请到窗口办理"
    assert "A017" in inbox["items"][0]["body"] and "3号窗口" in inbox["items"][0]["body"]
    assert place["name"] in inbox["items"][0]["body"]


async def test_over_long_values_are_cut_to_the_limits_and_wechat_accepts_them(app, client, cache, settings):
    dep = await f.department(cache)
    long_name = "个人住房公积金异地转移接续及贷款提前部分还款与结清证明开具"  # 30 characters
    item = await f.matter(cache, department_id=dep["id"], name=long_name)
    setup = {
        "department": dep,
        "matter": item,
        "required": [m["id"] for m in item["materials"] if m["required"]],
        "optional": [],
        "clerk": await f.staff(client, "clerk", department_id=dep["id"]),
    }
    citizen = await _subscribed_citizen(client, settings, purposes=("case_progress",), times=2)
    setup["citizen"] = citizen
    await f.submitted_case(client, setup)
    await drain(app, _quick(settings))
    delivery = await Delivery.get(recipient=citizen["openid"])
    assert delivery.status == DeliveryStatus.SENT, delivery.last_error
    pushed = _values((await _sim_messages(client, citizen["openid"]))[0])
    assert pushed["thing1"] == long_name[:19] + "…" and len(pushed["thing1"]) == 20


def test_fit_respects_every_field_type():
    assert fit("一" * 25, "thing") == "一" * 19 + "…"
    assert fit("受理编号：RS-20261123-0001 办件", "character_string") == "RS-20261123-0001"
    assert fit("不予许可（材料不全）", "phrase") == "不予许可材"
    assert len(fit("张" * 12, "name")) == 10
    assert fit("A" * 40, "character_string") == "A" * 32
    assert fit("2026-11-23T15:04:05+08:00", "time") == "2026-11-23 15:04"
    assert fit("  多余的   空白 ", "thing") == "多余的 空白"
    assert fit("", "thing") == "-"
    assert render({"thing1": "thing", "phrase2": "phrase"}, ["a" * 30, "已受理了吗"]) == {
        "thing1": "a" * 19 + "…",
        "phrase2": "已受理了吗",
    }


# Times and dates are only ever filled with moments (below); car numbers are not in any template of ours.
@pytest.mark.parametrize("kind", sorted(set(VALUE_RULES) - {"time", "date", "car_number"}))
@pytest.mark.parametrize(
    "value",
    [
        "12.50元",
        "¥12.50",
        "共 3 件，合计 1,234.5 元",
        "",
        None,
        "张三 13912345678",
        "A-1 号窗口",
        "x" * 60,
        12345678901234,
    ],
)
def test_fit_gives_every_type_a_value_its_wechat_rule_accepts(kind, value):
    # The simulator's rules are WeChat's documented formats: a value they refuse would be a 47003 live.
    fitted = fit(value, kind)
    assert VALUE_RULES[kind](fitted), (kind, value, fitted)


@pytest.mark.parametrize("kind", ["time", "date"])
@pytest.mark.parametrize("value", [datetime(2026, 11, 23, 7, 4, tzinfo=UTC), "2026-11-23T15:04:05+08:00", "2026-11-23"])
def test_fit_gives_moments_a_form_wechat_accepts(kind, value):
    assert VALUE_RULES[kind](fit(value, kind)), (kind, value)


def test_amounts_carry_a_currency_sign_and_two_decimals():
    assert fit("12.50元", "amount") == "¥12.50"
    assert fit("¥7", "amount") == "¥7.00"
    assert fit("共 1,234.5 元", "amount") == "¥1234.50"


def test_dates_take_the_chinese_form():
    assert fit("2026-11-23T15:04:05+08:00", "date") == "2026年11月23日"


async def test_a_feedback_reply_is_pushed_with_the_feedback_reply_template(app, client, cache, settings):
    setup = await f.rating_setup(client, cache)
    citizen = await _subscribed_citizen(client, settings, purposes=("feedback_reply",), times=2)
    question = "请问新生儿落户需要父母双方都到场吗？还是一方带齐材料即可办理？"  # longer than a thing value
    filed = await client.post(
        "/api/v1/feedback",
        headers=citizen["headers"],
        json={"kind": "consult", "content": question, "matter_id": setup["matter"]["id"]},
    )
    assert filed.status_code == 201, filed.text
    reply = await client.post(
        f"/api/v1/staff/tickets/{filed.json()['id']}/reply",
        headers=setup["clerk"]["headers"],
        json={"content": "一方带齐材料即可办理"},
    )
    assert reply.status_code == 200, reply.text
    await drain(app, _quick(settings))

    pushed = await _sim_messages(client, citizen["openid"])
    template_id = settings.notifications.wechat_templates["feedback_reply"].template_id
    assert [m["template_id"] for m in pushed] == [template_id]  # the filing itself is an inbox message only
    values = _values(pushed[0])
    assert values["thing1"] == question[:19] + "…" and values["thing2"] == "一方带齐材料即可办理"
    assert await _inbox_titles(client, citizen) == ["留言已受理", "留言已答复"]
    # The department admin heard of the new consultation on WeChat Work; the clerk who answered did not need to.
    alerts = (await client.get("/sim/wecom/messages", params={"userid": setup["dept_admin"]["username"]})).json()
    assert any(f"工单 {filed.json()['id']}" in m["content"] for m in alerts["items"])


def test_every_staff_alert_in_config_names_an_event_with_staff_words(settings):
    from app.notifications.routing import route_for

    for kind in settings.notifications.staff_alerts:
        route = route_for(kind)
        assert route is not None and route.staff_text is not None, kind
