"""The staff console in Chromium: log in (wrong password and lockout explained), menus by role, log out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import MAX_FAILED_LOGINS, STAFF_PASSWORD, visit

pytestmark = pytest.mark.browser


def _log_in(page, username: str, password: str) -> None:
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_clerk__wrong_password_explained__then_home_with_name_and_role_menus(server, desktop, new_staff):
    username = new_staff("王敏", "clerk")
    page = desktop
    page.goto(f"{server['base']}/console/")
    expect(page).to_have_url(re.compile(r"/console/login$"))
    expect(page.get_by_role("heading", name="临江市政务服务 · 工作台")).to_be_visible()
    visit(page, "console-login")

    _log_in(page, username, "wrong-password-1")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("用户名或密码错误")
    expect(alert).to_contain_text("锁定")
    visit(page, "console-login-wrong-password")

    _log_in(page, username, STAFF_PASSWORD)
    expect(page.get_by_role("heading", name="您好，王敏")).to_be_visible()
    expect(page.get_by_test_id("who")).to_have_text("王敏（受理窗口）")
    expect(page.get_by_test_id("department")).to_have_text("临江市人力资源和社会保障局")
    menu = page.get_by_role("navigation", name="主菜单")
    for label in ("首页", "办件队列", "窗口叫号", "窗口收件", "工单与整改", "消息提醒"):
        expect(menu.get_by_text(label, exact=True)).to_be_visible()
    expect(menu.get_by_text("账号管理", exact=True)).to_have_count(0)
    visit(page, "console-home-clerk")

    # a deep link (a bookmark, a link in an alert) opens the app there, still logged in
    page.goto(f"{server['base']}/console/cases/5")
    expect(page.get_by_role("heading", name="办件详情")).to_be_visible()
    visit(page, "console-deep-link")

    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/console/login$"))
    page.goto(f"{server['base']}/console/")
    expect(page).to_have_url(re.compile(r"/console/login$"))


def test_admin__sees_account_management(server, desktop, new_staff):
    username = new_staff("赵磊", "admin", department="")
    page = desktop
    page.goto(f"{server['base']}/console/login")
    _log_in(page, username, STAFF_PASSWORD)
    expect(page.get_by_test_id("who")).to_have_text("赵磊（系统管理员）")
    expect(page.get_by_test_id("department")).to_have_text("全市（不限部门）")
    menu = page.get_by_role("navigation", name="主菜单")
    expect(menu.get_by_text("账号管理", exact=True)).to_be_visible()
    expect(menu.get_by_text("窗口收件", exact=True)).to_have_count(0)
    visit(page, "console-home-admin")


def test_lockout__explained_with_the_time_it_ends(server, desktop, new_staff):
    username = new_staff("李娜", "approver")
    page = desktop
    page.goto(f"{server['base']}/console/login")
    for attempt in range(MAX_FAILED_LOGINS):
        _log_in(page, username, f"wrong-{attempt}-password")
        expect(page.get_by_role("alert")).not_to_be_empty()
    expect(page.get_by_role("alert")).to_contain_text(re.compile(r"账号已锁定至 \d\d:\d\d（北京时间）"))
    visit(page, "console-login-locked")
    # the right password does not open a locked account
    _log_in(page, username, STAFF_PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("账号已锁定至")
