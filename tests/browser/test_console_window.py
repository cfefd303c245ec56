"""The window desk, the hall's screen, tickets and staff alerts in Chromium, against a real server.

A window clerk checks an appointment in and calls the next number while the screen, open in a second browser,
shows it within seconds and reads it out (speech synthesis stubbed to record the text); recall and skip; a ticket is
answered; an alert is listed and the unread count drops once it is read. Appointments, cases and feedback are made
through the API, as the citizen's app would.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import expect

from tests import factories as f
from tests.browser.conftest import STAFF_PASSWORD, TIMEOUT_MS, visit
from tests.servers import ROOT

pytestmark = pytest.mark.browser

# Recorded instead of spoken: what the screen asked the browser to say.
SPEECH_STUB = """
window.__spoken = [];
Object.defineProperty(window, 'speechSynthesis', {
  configurable: true,
  value: { speak: (utterance) => window.__spoken.push(utterance.text), cancel: () => {}, getVoices: () => [] },
});
"""


def _run(coroutine_factory):
    """Run an async setup on its own event loop in a thread (sync Playwright owns this thread's loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(coroutine_factory())).result(timeout=120)


async def _staff_login(client, username: str) -> dict:
    response = await client.post("/api/v1/auth/staff", json={"username": username, "password": STAFF_PASSWORD})
    assert response.status_code == 200, response.text
    headers = {"Authorization": f"Bearer {response.json()['token']}"}
    me = (await client.get("/api/v1/staff/me", headers=headers)).json()
    return {**me, "headers": headers}


async def _hall_day(base: str, admin_username: str, citizens: int) -> dict:
    """A matter of the admin's department bookable all day today at a demo hall, and citizens booked on it."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        admin = await _staff_login(client, admin_username)
        halls = (await client.get("/api/v1/halls", params={"page_size": 100})).json()["items"]
        hall = max(halls, key=lambda h: h["windows"])
        payload = f.guide_payload(admin["department_id"], [hall["id"]], code=f.unique("W-"))
        created = await client.post("/api/v1/admin/matters", json=payload, headers=admin["headers"])
        assert created.status_code == 201, created.text
        matter = created.json()
        rules = {
            "hall_id": hall["id"],
            "matter_id": matter["id"],
            "weekdays": [1, 2, 3, 4, 5, 6, 7],
            "ranges": [{"start": "00:00", "end": "23:59"}],
            "slot_minutes": 30,
            "capacity": 5,
            "release_days": 5,
            "release_time": "00:00",
            "booking_closes_minutes": 0,
            "cancel_cutoff_minutes": 0,
        }
        schedule = await client.post("/api/v1/admin/schedules", json=rules, headers=admin["headers"])
        assert schedule.status_code == 201, schedule.text
        slots = (await client.get(f"/api/v1/matters/{matter['id']}/slots", params={"hall_id": hall["id"]})).json()
        soon = datetime.now(UTC) + timedelta(minutes=2)
        today = (datetime.now(UTC) + timedelta(hours=8)).date().isoformat()
        slot = next(s for s in slots if s["date"] == today and datetime.fromisoformat(s["start"]) > soon)
        booked = []
        for _ in range(citizens):
            citizen = await f.real_name_citizen(client)
            answer = await client.post(
                "/api/v1/appointments",
                json={"slot_id": slot["id"], "matter_id": matter["id"]},
                headers=citizen["headers"],
            )
            assert answer.status_code == 201, answer.text
            booked.append({**citizen, "appointment": answer.json()})
        return {"hall": hall, "matter": matter, "booked": booked, "admin": admin}


def _log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/console/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("who")).to_be_visible()


def _choose(page, label: str, option: str) -> None:
    page.get_by_role("textbox", name=label).click()
    page.locator(".t-select-option", has_text=option).first.click()
    _dropdown_closed(page)


def _dropdown_closed(page) -> None:
    # The closing dropdown fades out over the page; a screenshot taken before it has gone shows it half drawn.
    expect(page.locator(".t-select-option:visible")).to_have_count(0)


def _spoken(page) -> list[str]:
    return page.evaluate("window.__spoken")


def test_window_clerk_calls_and_the_hall_screen_shows_and_says_it(server, desktop, browser, new_staff):
    base = server["base"]
    admin = new_staff("周敏", "dept_admin")
    clerk = new_staff("陈静", "clerk")
    day = _run(lambda: _hall_day(base, admin, citizens=2))
    hall = day["hall"]
    # The demo hall's window of the admin's department (社保窗口): it calls the matter's numbers, not the others'.
    window = next(
        w
        for w in hall["service_windows"]
        if w["open"] and w["department_id"] == day["admin"]["department_id"] and not w["matter_ids"]
    )["number"]
    first_code = day["booked"][0]["appointment"]["code"]

    # The hall's screen on the TV: another browser, no login, sound allowed with its one click.
    tv_context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1920, "height": 1080}
    )
    tv_context.set_default_timeout(TIMEOUT_MS)
    tv_context.add_init_script(SPEECH_STUB)
    tv = tv_context.new_page()
    try:
        tv.goto(f"{base}/console/halls/{hall['id']}/screen")
        expect(tv.get_by_role("heading", name=f"{hall['name']} · 叫号")).to_be_visible()
        expect(tv.get_by_test_id("waiting")).not_to_have_text("—")
        tv.get_by_role("button", name="开启语音播报").click()
        expect(tv.get_by_text("语音播报已开启")).to_be_visible()
        visit(tv, "console-hall-screen-idle")

        page = desktop
        _log_in(page, base, clerk)
        page.goto(f"{base}/console/window")
        expect(page.get_by_role("heading", name="窗口叫号")).to_be_visible()
        _choose(page, "我的大厅", hall["name"])
        # Listed as the hall sets its windows up: number, name and whom it serves; a closed one is not offered.
        page.get_by_role("textbox", name="我的窗口").click()
        expect(page.locator(".t-select-option", has_text="已关闭").first).to_have_class(re.compile("t-is-disabled"))
        page.locator(".t-select-option", has_text=re.compile(rf"^{window} 号窗口 · ")).first.click()
        _dropdown_closed(page)
        expect(page.get_by_role("textbox", name="我的窗口")).to_have_value(re.compile(rf"^{window} 号窗口 · .*人社"))
        expect(page.get_by_role("table")).to_contain_text(day["booked"][0]["name"])
        visit(page, "console-window-desk")

        # a wrong code is explained
        page.get_by_label("预约码").fill("ZZZZ9999")
        page.get_by_role("button", name="签到取号").click()
        expect(page.get_by_role("alert")).to_contain_text("核对")

        page.get_by_label("预约码").fill(first_code)
        page.get_by_role("button", name="签到取号").click()
        expect(page.get_by_test_id("desk-notice")).to_contain_text(re.compile(r"签到成功：排队号 A\d{3}"))
        _run(lambda: _check_in(base, clerk, day["booked"][1]["appointment"]["code"]))

        page.get_by_role("button", name="叫下一个号").click()
        expect(page.get_by_test_id("desk-notice")).to_contain_text("已叫")
        called = page.get_by_test_id("my-number").inner_text()
        assert re.fullmatch(r"[AB]\d{3}", called), called
        visit(page, "console-window-called")

        # The screen shows it within a few seconds, and says it.
        started = time.monotonic()
        row = tv.get_by_test_id("serving-row").filter(has_text=called)
        expect(row).to_contain_text(f"{window} 号窗口", timeout=5000)
        assert time.monotonic() - started < 5
        sentence = f"请 {called} 号到 {window} 号窗口"
        expect(tv.get_by_test_id("latest-call")).to_have_text(sentence)
        _wait_for(lambda: sentence in _spoken(tv))
        said_once = _spoken(tv).count(sentence)
        visit(tv, "console-hall-screen-called")

        # Recall: said again. Skip: gone from the screen.
        page.get_by_role("button", name="重新叫号").click()
        expect(page.get_by_test_id("desk-notice")).to_contain_text(f"已重新叫 {called} 号")
        _wait_for(lambda: _spoken(tv).count(sentence) > said_once)
        # A reload keeps the hall, the window and the number being served there.
        page.reload()
        expect(page.get_by_test_id("my-number")).to_have_text(called)
        page.get_by_role("button", name="过号").click()
        expect(page.get_by_test_id("desk-notice")).to_contain_text(f"{called} 号已过号")
        expect(tv.get_by_test_id("serving-row").filter(has_text=called)).to_have_count(0, timeout=5000)
        visit(page, "console-window-skipped")

        # A wrong address on the TV says so instead of waiting for a network that is fine.
        tv.goto(f"{base}/console/halls/999999/screen")
        expect(tv.get_by_role("heading", name="没有这个大厅")).to_be_visible()
        visit(tv, "console-hall-screen-unknown")
    finally:
        tv_context.close()


async def _check_in(base: str, username: str, code: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        clerk = await _staff_login(client, username)
        answer = await client.post("/api/v1/staff/checkins", json={"code": code}, headers=clerk["headers"])
        assert answer.status_code == 200, answer.text


def _wait_for(condition, seconds: float = 8) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


async def _ticket_and_case(base: str, admin_username: str, clerk_username: str) -> dict:
    """A consultation about a matter of the clerk's department, and a case submitted there (its alert to come)."""
    day = await _hall_day(base, admin_username, citizens=0)
    matter = day["matter"]
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        citizen = await f.real_name_citizen(client)
        content = f"请问办理{matter['name']}需要本人到场吗？{f.unique('')}"
        filed = await client.post(
            "/api/v1/feedback",
            json={"kind": "consult", "content": content, "matter_id": matter["id"]},
            headers=citizen["headers"],
        )
        assert filed.status_code == 201, filed.text
        setup = {
            "matter": matter,
            "required": [m["id"] for m in matter["materials"] if m["required"]],
            "citizen": citizen,
        }
        case = await f.submitted_case(client, setup)
        clerk = await _staff_login(client, clerk_username)
        return {"ticket": filed.json(), "content": content, "case": case, "clerk_headers": clerk["headers"]}


async def _alert_listed(base: str, headers: dict, case_id: int) -> bool:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        items = (await client.get("/api/v1/staff/alerts", params={"page_size": 100}, headers=headers)).json()["items"]
        return any(a["subject"] == {"type": "case", "id": case_id} for a in items)


def _dispatch_alerts_until(server, done) -> None:
    """Runs the worker (the browser server runs no jobs of its own) until done(), then stops it."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "app", "worker"],
        cwd=ROOT,
        env={**os.environ, **server["env"], "APP_WORKER__NOTIFY_INTERVAL_SECONDS": "0.5"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for(done, seconds=60)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=20)


def test_clerk_answers_a_ticket_and_reads_an_alert(server, desktop, new_staff):
    base = server["base"]
    admin = new_staff("周敏", "dept_admin")
    clerk = new_staff("陈静", "clerk")
    made = _run(lambda: _ticket_and_case(base, admin, clerk))
    _dispatch_alerts_until(server, lambda: _run(lambda: _alert_listed(base, made["clerk_headers"], made["case"]["id"])))

    page = desktop
    _log_in(page, base, clerk)
    page.goto(f"{base}/console/tickets")
    expect(page.get_by_role("heading", name="工单与整改")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=made["content"][:20])
    expect(row).to_contain_text("待处理")
    expect(row).to_contain_text("正常")
    visit(page, "console-tickets")
    row.get_by_role("button").first.click()
    expect(page.get_by_role("heading", name=re.compile(rf"咨询 #{made['ticket']['id']}"))).to_be_visible()
    page.get_by_label("答复内容").fill("需要本人到场办理，请携带身份证原件；也可在小程序预约后到窗口直接办理。")
    visit(page, "console-ticket-detail")
    page.get_by_role("button", name="答复").click()
    expect(page.get_by_role("status")).to_contain_text("已提交")
    expect(page.locator(".ticket-detail")).to_contain_text("已答复")
    expect(page.locator(".ticket-detail")).to_contain_text("携带身份证原件")
    visit(page, "console-ticket-answered")

    page.goto(f"{base}/console/alerts")
    expect(page.get_by_role("heading", name="消息提醒")).to_be_visible()
    counter = page.get_by_test_id("unread-count")
    expect(counter).to_contain_text("条未读")
    before = int(re.search(r"\d+", counter.inner_text()).group(0))
    expect(page.get_by_test_id("menu-unread")).to_have_text(str(before) if before <= 99 else "99+")
    mine = page.get_by_test_id("alert-item").filter(has_text=f"办件号 {made['case']['id']}）")
    expect(mine.first).to_contain_text("未读")
    visit(page, "console-alerts")
    mine.first.get_by_role("button", name="标为已读").click()
    expect(mine.first).to_contain_text("已读")
    expected = f"{before - 1} 条未读" if before > 1 else "全部已读"
    expect(counter).to_have_text(expected)
    expect(page.get_by_test_id("header-unread")).to_have_text(
        f"消息提醒（{before - 1} 条未读）" if before > 1 else "消息提醒"
    )
    visit(page, "console-alerts-read")
