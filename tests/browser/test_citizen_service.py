"""The citizen's way from finding a matter to being served at the hall, in the H5 build at a phone's size:
search 社保, the guide, booking a slot (and a slot filled meanwhile: SLOT_FULL explained), the appointment with its
check-in QR code, cancelling, a queue number with the people ahead that follows the hall's calls. Every page is
visited again in elder mode.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from datetime import date

import httpx
import pytest
from playwright.sync_api import expect

from app.core.timeutil import now
from app.core.workdays import local_date
from tests import factories
from tests.browser.conftest import STAFF_PASSWORD, visit
from tests.servers import ROOT

pytestmark = pytest.mark.browser

WEEKDAYS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
# Taro's H5 storage keeps each value as JSON {"data": value} in localStorage.
ELDER_ON = json.dumps({"data": "1"})
# The hall clerks call numbers at; walk-in numbers need an open hall, so the test's hall never closes (but on public
# holidays, which no hall works).
ALWAYS_OPEN = [{"weekdays": [1, 2, 3, 4, 5, 6, 7], "start": "00:00", "end": "23:59"}]


def day_label(iso_date: str) -> str:
    """The app's day label: 12月2日 周三."""
    day = date.fromisoformat(iso_date[:10])
    return f"{day.month}月{day.day}日 {WEEKDAYS[day.weekday()]}"


def settled(page) -> None:
    """Wait for Taro's page slide to end (the shown page is 'stationed'): clicks and screenshots land right."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('.taro_router > .taro_page.taro_page_show')]"
        ".every(p => p.classList.contains('taro_page_stationed'))"
    )


def unzoom(page) -> None:
    """Chromium's phone emulation zooms in on its own (a focused input, taps in a row) and keeps the zoom across
    reloads, after which its clicks land beside their target: back to scale 1, as a person would pinch."""
    session = page.context.new_cdp_session(page)
    session.send("Emulation.resetPageScaleFactor")
    session.detach()


def press(locator) -> None:
    """Scroll the control to the middle of the screen, then click it. Playwright's own scrolling inside Taro's page
    container (a scrolling box on a body that does not scroll) leaves it clicking where the control was before."""
    unzoom(locator.page)
    locator.evaluate("element => element.scrollIntoView({block: 'center'})")
    locator.click()


def tap(page, text: str) -> None:
    """Click a NutUI button (a Taro view on H5, not a <button>) by its text, once the page stands still."""
    settled(page)
    press(page.locator("taro-button-core", has_text=text))


def open_page(page, url: str) -> None:
    """Open an app URL as a fresh load: a hash change alone stacks another page over the ones already open."""
    page.goto(url)
    page.reload()
    settled(page)
    unzoom(page)


def stored(page, key: str) -> str:
    """A value the app keeps through Taro's storage."""
    return json.loads(page.evaluate(f"() => localStorage.getItem('{key}')"))["data"]


def staff_headers(base: str, username: str) -> dict:
    response = httpx.post(f"{base}/api/v1/auth/staff", json={"username": username, "password": STAFF_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def verify_real_name(base: str, token: str, openid: str, name: str) -> None:
    """The WeChat real-name check, as the app's identity page would drive it (tests/factories.verify_identity)."""
    headers = {"Authorization": f"Bearer {token}"}
    number, phone = factories.id_number(), factories.phone()
    registered = {"openid": openid, "real_name": name, "id_number": number}
    assert httpx.post(f"{base}/sim/wechat/real-name", json=registered).status_code == 200
    claim = httpx.put(
        f"{base}/api/v1/me/identity",
        headers=headers,
        json={"name": name, "id_number": number, "phone": phone, "method": "wechat"},
    )
    assert claim.status_code == 202, claim.text
    texts = httpx.get(f"{base}/sim/sms/messages", params={"phone": phone}).json()["items"]
    sms_code = re.search(r"[0-9]{6}", texts[-1]["text"]).group(0)
    consent = httpx.post(f"{base}/sim/wechat/real-name/consent", json={"openid": openid}).json()["code"]
    verification = claim.json()["verification"]["id"]
    confirmed = httpx.post(
        f"{base}/api/v1/me/identity/verifications/{verification}/confirm",
        headers=headers,
        json={"code": consent, "sms_code": sms_code},
    )
    assert confirmed.status_code == 200, confirmed.text


def other_citizen(base: str) -> dict:
    """Another real-name citizen, logged in through the simulator."""
    openid = "o" + uuid.uuid4().hex[:27]
    code = httpx.post(f"{base}/sim/wechat/code", json={"openid": openid}).json()["code"]
    token = httpx.post(f"{base}/api/v1/auth/wechat", json={"code": code}).json()["token"]
    verify_real_name(base, token, openid, "王五")
    return {"Authorization": f"Bearer {token}"}


def fill(base: str, slot: dict) -> None:
    """Other citizens book the slot until it is full."""
    for _ in range(12):
        answer = httpx.post(
            f"{base}/api/v1/appointments",
            headers=other_citizen(base),
            json={"slot_id": slot["id"], "matter_id": slot["matter_id"]},
        )
        if answer.status_code == 409 and answer.json()["error"]["code"] == "SLOT_FULL":
            return
        assert answer.status_code == 201, answer.text
    pytest.fail("the slot never filled")


def always_open_hall(server) -> dict:
    """A hall open every day (created as the demo loader does: halls have no HTTP write)."""
    script = (
        "import asyncio, json\n"
        "from app.__main__ import _with_db\n"
        "from app.core.config import get_settings\n"
        "from app.catalog import service as catalog\n"
        "async def work(cache):\n"
        f"    return await catalog.create_hall(code='H24{uuid.uuid4().hex[:6]}', name='江北24小时自助服务区',\n"
        "        district='江北区', address='临江市江北区滨江大道288号市民中心B座1层东侧',\n"
        "        opening_hours='每天 00:00-23:59（法定节假日除外）',\n"
        f"        opening_periods={ALWAYS_OPEN!r}, phone='0739-82368000', windows=4, cache=cache)\n"
        "print(json.dumps(asyncio.run(_with_db(get_settings(), work))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, **server["env"]},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def bookable(server, new_staff):
    """社会保障卡申领 (a 社保 matter) bookable at the 江南区 hall: every day's slots of two seats, released 5 working
    days ahead; the slots after today, as the API lists them."""
    base = server["base"]
    admin = staff_headers(base, new_staff("排班管理员", "admin"))
    matter = httpx.get(f"{base}/api/v1/matters", params={"q": "社会保障卡申领"}).json()["items"][0]
    halls = httpx.get(f"{base}/api/v1/halls", params={"page_size": 100}).json()["items"]
    hall = next(h for h in halls if h["code"] == "JN")
    rules = {
        "hall_id": hall["id"],
        "matter_id": matter["id"],
        "weekdays": [1, 2, 3, 4, 5, 6, 7],
        "ranges": [{"start": "09:00", "end": "12:00"}],
        "slot_minutes": 60,
        "capacity": 2,
        "release_days": 5,
        "release_time": "00:00",
        "booking_closes_minutes": 0,
        "cancel_cutoff_minutes": 120,
    }
    created = httpx.post(f"{base}/api/v1/admin/schedules", headers=admin, json=rules)
    assert created.status_code in (201, 409), created.text
    slots = httpx.get(f"{base}/api/v1/matters/{matter['id']}/slots", params={"hall_id": hall["id"]}).json()
    today = local_date(now()).isoformat()
    later = [s for s in slots if s["date"] > today and s["remaining"] > 0]
    days = sorted({s["date"] for s in later})
    assert len(days) >= 3, f"need three days of open slots, have {days}"
    first_of = {day: next(s for s in later if s["date"] == day) for day in days}
    return {"matter": matter, "hall": hall, "slots": [first_of[day] for day in days]}


def slot_button(page, slot: dict):
    return page.locator("[data-testid=slot]", has_text=f"{slot['start'][11:16]}-{slot['end'][11:16]}")


def open_booking_day(page, base: str, bookable: dict, slot: dict) -> None:
    open_page(page, f"{base}/m/#/pages-service/book/index?matter_id={bookable['matter']['id']}")
    press(page.locator(".svc-chip", has_text=bookable["hall"]["name"]))
    press(page.locator(".svc-chip", has_text=day_label(slot["date"])))
    press(slot_button(page, slot))


def test_citizen__finds_a_social_security_matter_books_cancels_and_takes_a_number(server, phone, bookable, new_staff):
    page, base = phone, server["base"]
    visited: list[tuple[str, str]] = []

    def seen(name: str) -> None:
        settled(page)
        visited.append((name, page.url))
        visit(page, name)

    page.goto(f"{base}/m/")
    expect(page.get_by_text("已登录")).to_be_visible()
    token, openid = stored(page, "govhall.token"), stored(page, "govhall.sim.openid")
    verify_real_name(base, token, openid, "李华")
    me = {"Authorization": f"Bearer {token}"}
    expect(page.get_by_text("我的待办（")).to_be_visible()
    seen("m-service-home")

    # search 社保 -> the guide
    page.get_by_role("textbox", name="搜索事项，如 社保、户籍、公积金").fill("社保")
    tap(page, "搜索")
    results = page.get_by_label("搜索结果")
    expect(results.get_by_text("社会保障卡申领")).to_be_visible()
    seen("m-service-search")
    results.get_by_text("社会保障卡申领").click()
    expect(page.get_by_text("申请材料（")).to_be_visible()
    expect(page.get_by_text("承诺办结时限")).to_be_visible()
    expect(page.get_by_text("必需").first).to_be_visible()
    expect(page.get_by_text("江南区政务服务中心")).to_be_visible()
    expect(page.get_by_text("不收费")).to_be_visible()
    expect(page.locator("taro-button-core", has_text="在线申请")).to_be_visible()
    seen("m-guide")

    # book the first open slot after today
    tap(page, "预约办理")
    first, full, third = bookable["slots"][:3]
    press(page.locator(".svc-chip", has_text=bookable["hall"]["name"]))
    press(page.locator(".svc-chip", has_text=day_label(first["date"])))
    press(slot_button(page, first))
    seen("m-book")
    tap(page, "确认预约")
    expect(page.get_by_text("预约成功")).to_be_visible()
    mine = httpx.get(f"{base}/api/v1/appointments", headers=me).json()["items"]
    assert [a["slot"]["id"] for a in mine] == [first["id"]]
    code = mine[0]["code"]
    expect(page.get_by_role("img", name=f"签到二维码，预约码 {code}")).to_be_visible()
    expect(page.get_by_test_id("code")).to_have_text(code)
    seen("m-appointment")

    # a slot the page showed free fills before the citizen confirms: SLOT_FULL explained, the slot greyed out
    open_booking_day(page, base, bookable, full)
    fill(base, full)
    tap(page, "确认预约")
    expect(page.get_by_role("alert")).to_contain_text("该时段已约满")
    expect(page.get_by_role("alert")).to_contain_text("请选择同一天的其他时段")
    expect(slot_button(page, full)).to_contain_text("已约满")
    seen("m-book-slot-full")

    # a second appointment (booked through the API), then my appointments; cancel the first
    second = httpx.post(
        f"{base}/api/v1/appointments", headers=me, json={"slot_id": third["id"], "matter_id": third["matter_id"]}
    )
    assert second.status_code == 201, second.text
    open_page(page, f"{base}/m/#/pages-service/appointments/index")
    expect(page.get_by_test_id("appointment")).to_have_count(2)
    seen("m-appointments")
    press(page.get_by_test_id("appointment").filter(has_text=day_label(first["date"])))
    tap(page, "取消预约")
    tap(page, "确认取消预约")
    expect(page.get_by_role("status")).to_contain_text("预约已取消")
    expect(page.get_by_text("已取消", exact=True)).to_be_visible()
    seen("m-appointment-cancelled")
    statuses = {a["id"]: a["status"] for a in httpx.get(f"{base}/api/v1/appointments", headers=me).json()["items"]}
    assert statuses == {mine[0]["id"]: "cancelled", second.json()["id"]: "booked"}

    # a queue number behind two walk-ins; the page follows the hall's calls by itself
    hall = always_open_hall(server)
    for _ in range(2):
        assert httpx.post(f"{base}/api/v1/halls/{hall['id']}/tickets").status_code == 201
    open_page(page, f"{base}/m/#/pages-service/queue/index?hall_id={hall['id']}")
    tap(page, f"在{hall['name']}取号")
    ticket = page.get_by_test_id("ticket")
    expect(ticket).to_contain_text("前面还有 2 人")
    seen("m-queue")
    clerk = staff_headers(base, new_staff("窗口人员", "clerk"))
    for _ in range(3):
        called = httpx.post(f"{base}/api/v1/staff/halls/{hall['id']}/call-next", headers=clerk, json={"window": 3})
        assert called.status_code == 200, called.text
    expect(ticket).to_contain_text("请到 3 号窗口办理", timeout=20_000)
    seen("m-queue-called")

    # every page again in elder mode
    page.evaluate(f"() => localStorage.setItem('govhall.elder', {json.dumps(ELDER_ON)})")
    for name, url in visited:
        open_page(page, url)
        expect(page.locator(".page-shell.elder")).to_be_visible()
        visit(page, f"{name}-elder")
