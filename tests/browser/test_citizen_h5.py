"""The citizen app's H5 build in Chromium at a phone's size: sim login, home, search."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import visit

pytestmark = pytest.mark.browser


def test_citizen__logs_in_by_the_simulator_and_sees_home_and_search(server, phone):
    page = phone
    page.goto(f"{server['base']}/m/")
    expect(page.get_by_text("您好，请先完成实名认证 · 已登录")).to_be_visible()
    expect(page.get_by_text("主题服务")).to_be_visible()
    expect(page.get_by_text("常办事项")).to_be_visible()
    visit(page, "m-home")

    page.get_by_role("textbox", name="搜索事项，如 社保、户籍、公积金").fill("社保")
    # NutUI's Button is a Taro view on H5, not a <button>: found by its text
    page.locator("taro-button-core", has_text="搜索").click()
    expect(page.get_by_text("搜索结果（")).to_be_visible()
    expect(page.get_by_text("没有找到相关事项")).to_have_count(0)
    visit(page, "m-search")

    # the same browser is the same citizen: a reload logs in again without a new account
    token = page.evaluate("() => localStorage.getItem('govhall.token')")
    assert token, "no token stored after the sim login"
