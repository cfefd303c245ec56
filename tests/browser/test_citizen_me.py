"""The citizen app's 我的 part in Chromium at a phone's size: real-name binding, elder mode, proxy grants, figures."""

from __future__ import annotations

import random
import re
import uuid
from datetime import date, timedelta

import httpx
import pytest
from playwright.sync_api import expect

from app.identity.id_number import check_digit, mask_id_number
from tests.browser.conftest import visit

pytestmark = pytest.mark.browser

# MIIT's 2021 rules for apps used by older people: base text at least 18 px, line height at least 1.3.
ELDER_MIN_FONT_PX = 18
ELDER_MIN_LINE_HEIGHT = 1.3

# Every element of the shown page that holds text of its own: the smallest font size and line height among them.
MEASURE_TEXT = """() => {
  const shell = [...document.querySelectorAll('.page-shell')].find((el) => el.getClientRects().length > 0);
  let font = Infinity, lineHeight = Infinity, where = '', lineWhere = '';
  for (const el of [shell, ...shell.querySelectorAll('*')]) {
    const ownText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!ownText || el.getClientRects().length === 0) continue;
    const style = getComputedStyle(el);
    const size = parseFloat(style.fontSize);
    const ratio = style.lineHeight === 'normal' ? 1.2 : parseFloat(style.lineHeight) / size;
    if (size < font) { font = size; where = el.className + ': ' + el.textContent.trim().slice(0, 20); }
    if (ratio < lineHeight) {
      lineHeight = ratio; lineWhere = el.className + ': ' + el.textContent.trim().slice(0, 20);
    }
  }
  return {font, lineHeight, where, lineWhere, shellFont: parseFloat(getComputedStyle(shell).fontSize)};
}"""


def new_id_number() -> str:
    """A valid ID number no earlier run has used (the browser server's database may outlive one test)."""
    born = (date(1950, 1, 1) + timedelta(days=random.randrange(20000))).strftime("%Y%m%d")
    first17 = "110105" + born + f"{random.randrange(1000):03d}"
    return first17 + check_digit(first17)


def new_phone() -> str:
    return f"139{random.randrange(10**8):08d}"


def texted_code(http: httpx.Client, phone: str) -> str:
    """The six digits of the last SMS the simulator's gateway took for this phone (what the person reads)."""
    items = http.get("/sim/sms/messages", params={"phone": phone}).json()["items"]
    assert items, "no SMS was sent"
    return re.search(r"[0-9]{6}", items[-1]["text"]).group(0)


def real_name_citizen_by_api(http: httpx.Client, name: str, number: str) -> None:
    """Another person, real-named through WeChat by the API as the mini-program would (the proxy to be)."""
    openid = "o" + uuid.uuid4().hex[:27]
    code = http.post("/sim/wechat/code", json={"openid": openid}).json()["code"]
    token = http.post("/api/v1/auth/wechat", json={"code": code}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (
        http.post("/sim/wechat/real-name", json={"openid": openid, "real_name": name, "id_number": number}).status_code
        == 200
    )
    phone = new_phone()
    claim = http.put("/api/v1/me/identity", headers=headers, json={"name": name, "id_number": number, "phone": phone})
    assert claim.status_code == 202, claim.text
    consent = http.post("/sim/wechat/real-name/consent", json={"openid": openid}).json()["code"]
    verification = claim.json()["verification"]["id"]
    confirmed = http.post(
        f"/api/v1/me/identity/verifications/{verification}/confirm",
        headers=headers,
        json={"code": consent, "sms_code": texted_code(http, phone)},
    )
    assert confirmed.status_code == 200, confirmed.text


def stored(page, key: str):
    """A value the app kept with Taro.setStorageSync (H5 wraps it as {"data": value} in localStorage)."""
    return page.evaluate(
        "(key) => { const raw = localStorage.getItem(key); return raw ? JSON.parse(raw).data : null; }", key
    )


def text_sizes(page) -> dict:
    return page.evaluate(MEASURE_TEXT)


def assert_elder_text(page) -> None:
    sizes = text_sizes(page)
    assert sizes["font"] >= ELDER_MIN_FONT_PX, f"elder mode text of {sizes['font']} px at {sizes['where']}"
    assert sizes["lineHeight"] >= ELDER_MIN_LINE_HEIGHT, (
        f"elder mode line height {sizes['lineHeight']:.2f} at {sizes['lineWhere']}"
    )


def elder_switch(page):
    return page.get_by_role("switch", name="长辈模式（大字体）").locator("visible=true")


def test_citizen__binds_a_real_name_uses_elder_mode_grants_a_proxy_and_reads_the_figures(server, phone):
    page = phone
    http = httpx.Client(base_url=server["base"], timeout=30)
    page.goto(f"{server['base']}/m/#/pages/me/index")
    expect(page.get_by_test_id("login-state")).to_have_text("已登录（微信）")
    expect(page.get_by_text("未实名认证")).to_be_visible()
    visit(page, "m-me")

    # The person's real name as WeChat Pay holds it (the simulator stands in for WeChat).
    openid = stored(page, "govhall.sim.openid")
    assert openid, "the H5 sim login keeps its openid"
    number, mobile = new_id_number(), new_phone()
    registered = http.post("/sim/wechat/real-name", json={"openid": openid, "real_name": "李华", "id_number": number})
    assert registered.status_code == 200, registered.text

    page.get_by_role("button", name="去实名认证").click()
    expect(page.get_by_text("1 填写身份信息")).to_be_visible()
    # a slip is named at its field before anything is sent
    page.get_by_role("button", name="下一步：开始核验").click()
    expect(page.get_by_text("身份证号码应为 18 位，最后一位可以是数字或 X")).to_be_visible()
    visit(page, "m-identity")

    # A name WeChat does not hold for this person: refused at the platform's check, explained, back to the form.
    page.get_by_label("姓名", exact=True).fill("李明")
    page.get_by_label("身份证号码", exact=True).fill(number)
    page.get_by_label("手机号码", exact=True).fill(mobile)
    page.get_by_role("button", name="下一步：开始核验").click()
    expect(page.get_by_text(f"短信验证码已发送至 {mobile[:3]}****{mobile[-4:]}")).to_be_visible()
    page.get_by_label("短信验证码", exact=True).fill(texted_code(http, mobile))
    page.get_by_role("button", name="前往微信授权并完成认证").click()
    page.locator(".taro-modal__foot").get_by_text("同意", exact=True).click()
    expect(page.get_by_test_id("identity-failure")).to_have_text(
        "姓名与您账号的实名信息不一致，请核对后重试。本次认证已结束，请核对后重新提交"
    )
    expect(page.get_by_text("1 填写身份信息")).to_be_visible()
    visit(page, "m-identity-mismatch")

    page.get_by_label("姓名", exact=True).fill("李华")
    page.get_by_role("button", name="下一步：开始核验").click()

    expect(page.get_by_text(f"短信验证码已发送至 {mobile[:3]}****{mobile[-4:]}")).to_be_visible()
    page.get_by_label("短信验证码", exact=True).fill(texted_code(http, mobile))
    visit(page, "m-identity-confirm")
    page.get_by_role("button", name="前往微信授权并完成认证").click()
    # the simulated WeChat consent page: the person agrees
    expect(page.get_by_text("微信实名授权（模拟）")).to_be_visible()
    page.locator(".taro-modal__foot").get_by_text("同意", exact=True).click()

    done = page.get_by_test_id("identity-done")
    expect(done).to_contain_text("实名认证已完成")
    expect(done).to_contain_text(f"身份证号 {mask_id_number(number)}")
    assert number not in page.content(), "the ID number is shown unmasked after saving"
    visit(page, "m-identity-done")

    page.get_by_role("button", name="返回").click()
    card = page.get_by_test_id("real-name-card").locator("visible=true")
    expect(card).to_contain_text("李华 · 已实名")
    expect(card).to_contain_text(mask_id_number(number))
    assert number not in page.content()

    # Elder mode: on from the switch on 我的, measured, remembered after a reload, then off again.
    normal = text_sizes(page)
    assert normal["shellFont"] < ELDER_MIN_FONT_PX
    elder_switch(page).click()
    expect(elder_switch(page)).to_have_attribute("aria-checked", "true")
    assert_elder_text(page)
    visit(page, "m-me-elder")
    page.reload()
    expect(page.get_by_test_id("login-state").locator("visible=true")).to_have_text("已登录（微信）")
    expect(elder_switch(page)).to_have_attribute("aria-checked", "true")
    assert_elder_text(page)

    # 首页 in elder mode: the same switch is there, on, and the common services come before the themes.
    page.goto(f"{server['base']}/m/#/pages/index/index")
    expect(elder_switch(page)).to_have_attribute("aria-checked", "true")
    common = page.get_by_text("常办事项", exact=True).locator("visible=true")
    themes = page.get_by_text("主题服务", exact=True).locator("visible=true")
    expect(common).to_be_visible()
    assert common.bounding_box()["y"] < themes.bounding_box()["y"], "elder mode puts the common services first"
    assert_elder_text(page)
    visit(page, "m-home-elder")

    page.goto(f"{server['base']}/m/#/pages-me/identity/index")
    expect(page.get_by_test_id("identity-done")).to_be_visible()
    assert_elder_text(page)
    visit(page, "m-identity-done-elder")

    # A proxy grant (elder mode still on): the other person is real-named already.
    proxy_number = new_id_number()
    real_name_citizen_by_api(http, "王芳", proxy_number)
    page.goto(f"{server['base']}/m/#/pages-me/proxies/index")
    expect(page.get_by_text("新增授权")).to_be_visible()
    assert_elder_text(page)
    page.get_by_label("代办事项", exact=True).fill("社保")
    page.get_by_role("button", name="查找事项").click()
    first_match = page.locator(".proxy-matches").get_by_role("button").first
    matter_name = first_match.inner_text().strip()
    first_match.click()
    expect(page.get_by_test_id("picked-matter")).to_have_text(f"已选事项：{matter_name}")
    page.get_by_label("代办人姓名", exact=True).fill("王芳")
    page.get_by_label("代办人身份证号码", exact=True).fill(proxy_number)
    page.get_by_role("button", name="授权代办").click()
    expect(page.get_by_test_id("proxy-message")).to_have_text(f"已授权 王芳 代办「{matter_name}」")
    row = page.get_by_test_id("proxy-row").filter(has_text=matter_name).first
    expect(row).to_contain_text(f"代办人：王芳（{mask_id_number(proxy_number)}）")
    expect(row).to_contain_text("有效")
    assert proxy_number not in page.content()
    visit(page, "m-proxies-elder")

    row.get_by_role("button", name=f"撤销「{matter_name}」的代办授权").click()
    page.locator(".taro-modal__foot").get_by_text("确定", exact=True).click()
    expect(page.get_by_test_id("proxy-message")).to_have_text("授权已撤销")
    expect(page.get_by_test_id("proxy-row").filter(has_text=matter_name).first).to_contain_text("已撤销")

    # The public figures, elder and normal.
    page.goto(f"{server['base']}/m/#/pages-me/figures/index")
    expect(page.get_by_text("政务服务好差评公示")).to_be_visible()
    expect(page.get_by_test_id("figures-place").first).to_contain_text("满意率")
    assert_elder_text(page)
    visit(page, "m-figures-elder")
    # ActionButton is a real button to the keyboard too: focused and pressed with Enter
    page.get_by_role("button", name="按大厅").press("Enter")
    expect(page.get_by_role("button", name="按大厅")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("figures-place").first).to_contain_text("预约守约率")
    visit(page, "m-figures-halls-elder")

    # Off again, from the same switch, and remembered off.
    page.goto(f"{server['base']}/m/#/pages/me/index")
    elder_switch(page).press("Space")
    expect(elder_switch(page)).to_have_attribute("aria-checked", "false")
    page.reload()
    expect(elder_switch(page)).to_have_attribute("aria-checked", "false")
    assert text_sizes(page)["shellFont"] < ELDER_MIN_FONT_PX
    visit(page, "m-me-verified")

    page.goto(f"{server['base']}/m/#/pages-me/proxies/index")
    expect(page.get_by_text("我授权的")).to_be_visible()
    visit(page, "m-proxies")
    page.goto(f"{server['base']}/m/#/pages-me/figures/index")
    expect(page.get_by_test_id("figures-place").first).to_contain_text("满意率")
    visit(page, "m-figures")

    # Logging out ends the token; the page offers to log in again.
    page.goto(f"{server['base']}/m/#/pages/me/index")
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_text("您已退出登录")).to_be_visible()
    assert not stored(page, "govhall.token"), "the token is kept after logging out"
    visit(page, "m-me-logged-out")
    page.get_by_role("button", name="重新登录").click()
    expect(page.get_by_test_id("real-name-card").locator("visible=true")).to_contain_text("李华 · 已实名")
    http.close()
