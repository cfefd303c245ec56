"""The citizen's cases in the H5 build at a phone's size: apply (told what is missing), follow, pay by WeChat Pay and
Alipay, rate badly and follow the rectification, feedback, inbox; another citizen's case is not found.

Identity and staff moves go through the API (as the mini-program and the console would); the outbox is turned into
inbox messages by a worker process started for the moment it is needed (the test server runs none).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from tests import factories as f
from tests.browser.conftest import PHONE, STAFF_PASSWORD, visit
from tests.servers import ROOT, kill_group

pytestmark = pytest.mark.browser

FEE_FEN = 1250
FEE_TEXT = "¥12.50"


class Api:
    """The real server over HTTP, as the apps call it."""

    def __init__(self, base: str):
        self.http = httpx.Client(base_url=base, timeout=30)

    def call(self, method: str, path: str, token: str | None = None, expect_status: int = 200, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.http.request(method, path, headers=headers, **kwargs)
        assert response.status_code == expect_status, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None


def _sms_code(api: Api, phone: str) -> str:
    items = api.call("GET", "/sim/sms/messages", params={"phone": phone})["items"]
    return re.search(r"[0-9]{6}", items[-1]["text"]).group(0)


def wechat_citizen(api: Api, name: str) -> dict:
    """A WeChat citizen whose real name WeChat confirmed (the H5 sim login plays the same openid)."""
    openid = "o" + uuid.uuid4().hex[:27]
    code = api.call("POST", "/sim/wechat/code", json={"openid": openid})["code"]
    token = api.call("POST", "/api/v1/auth/wechat", json={"code": code})["token"]
    number, phone = f.id_number(), f.phone()
    api.call("POST", "/sim/wechat/real-name", json={"openid": openid, "real_name": name, "id_number": number})
    claim = api.call(
        "PUT",
        "/api/v1/me/identity",
        token,
        202,
        json={"name": name, "id_number": number, "phone": phone, "method": "wechat"},
    )
    consent = api.call("POST", "/sim/wechat/real-name/consent", json={"openid": openid})["code"]
    api.call(
        "POST",
        f"/api/v1/me/identity/verifications/{claim['verification']['id']}/confirm",
        token,
        json={"sms_code": _sms_code(api, phone), "code": consent},
    )
    storage = {"govhall.token": token, "govhall.sim.openid": openid}
    return {"token": token, "storage": storage, "name": name}


def alipay_citizen(api: Api, name: str) -> dict:
    """An Alipay citizen whose face Alipay verified (the H5 entry set to play Alipay)."""
    user_id = f"2088{uuid.uuid4().int % 10**12:012d}"
    auth_code = api.call("POST", "/sim/alipay/auth_code", json={"user_id": user_id})["auth_code"]
    token = api.call("POST", "/api/v1/auth/alipay", json={"auth_code": auth_code})["token"]
    number, phone = f.id_number(), f.phone()
    claim = api.call(
        "PUT",
        "/api/v1/me/identity",
        token,
        202,
        json={"name": name, "id_number": number, "phone": phone, "method": "alipay"},
    )
    verification = claim["verification"]
    api.call(
        "POST",
        "/sim/alipay/certify/face",
        json={"certify_id": verification["alipay"]["certify_id"], "real_name": name, "id_number": number},
    )
    api.call(
        "POST",
        f"/api/v1/me/identity/verifications/{verification['id']}/confirm",
        token,
        json={"sms_code": _sms_code(api, phone)},
    )
    storage = {"govhall.token": token, "govhall.sim.channel": "alipay", "govhall.sim.alipay_user_id": user_id}
    return {"token": token, "storage": storage, "name": name}


def staff_token(api: Api, username: str) -> str:
    return api.call("POST", "/api/v1/auth/staff", json={"username": username, "password": STAFF_PASSWORD})["token"]


def move(api: Api, token: str, case_id: int, action: str, **body) -> dict:
    case = api.call("GET", f"/api/v1/staff/cases/{case_id}", token)
    return api.call(
        "POST",
        f"/api/v1/staff/cases/{case_id}/transitions",
        token,
        json={"action": action, "version": case["version"], **body},
    )


def as_citizen(page, citizen: dict) -> None:
    """The browser holds this citizen's login, in Taro H5's storage format ({"data": value} as JSON)."""
    entries = {key: json.dumps({"data": value}) for key, value in citizen["storage"].items()}
    script = (
        "(() => { const entries = ENTRIES; if (localStorage.getItem('govhall.token')) return;"
        " for (const [k, v] of Object.entries(entries)) localStorage.setItem(k, v); })()"
    )
    page.add_init_script(script.replace("ENTRIES", json.dumps(entries)))
    # No page slides: a click or a screenshot during one meets two pages at once.
    page.add_init_script(
        "document.addEventListener('DOMContentLoaded', () => { const style = document.createElement('style');"
        " style.textContent = '.taro_page { transition: none !important; }'; document.head.appendChild(style); })"
    )


def elder(page, on: bool) -> None:
    page.evaluate("on => localStorage.setItem('govhall.elder', JSON.stringify({data: on ? '1' : '0'}))", on)
    page.reload()


def settled(page) -> None:
    """Wait for Taro's page slide to end: a screenshot mid-animation shows two half pages."""
    page.wait_for_function(
        "() => { const top = [...document.querySelectorAll('.taro_router > .taro_page')].pop();"
        " if (!top) return false; const t = getComputedStyle(top).transform;"
        " return t === 'none' || t === 'matrix(1, 0, 0, 1, 0, 0)'; }"
    )


def shot(page, name: str) -> None:
    """visit() once the page stands still."""
    settled(page)
    visit(page, name)


def visit_both(page, name: str, ready) -> None:
    """Screenshot and axe the page as it is, then again in elder mode (remembered, so after a reload), then back."""
    shot(page, name)
    elder(page, True)
    expect(here(page).locator(".page-shell.elder")).to_be_attached()
    expect(ready()).to_be_visible()
    shot(page, f"{name}-elder")
    elder(page, False)
    expect(page.locator(".page-shell.elder")).to_have_count(0)
    expect(ready()).to_be_visible()


def here(page):
    """The page on top: Taro's H5 router keeps the pages below it in the document, hidden."""
    return page.locator(".taro_router > .taro_page").last


def button(page, text: str):
    # NutUI's Button is a Taro view on H5, not a <button>: found by its text
    return here(page).locator("taro-button-core", has_text=text)


def run_notifier_until(server, condition, timeout: float = 60) -> None:
    """A worker process on the server's database until the condition holds (it turns outbox events into messages)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "worker"],
        cwd=ROOT,
        env={**os.environ, **server["env"]},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, "the worker wrote no inbox message in time"
            time.sleep(0.5)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        finally:
            kill_group(process)


@pytest.fixture
def hall_setup(server, new_staff):
    """A fee-charging matter of the RS department (fee before delivery), its clerk, approver and dept admin."""
    api = Api(server["base"])
    department = next(
        d for d in api.call("GET", "/api/v1/departments", params={"page_size": 100})["items"] if d["code"] == "RS"
    )
    admin = staff_token(api, new_staff("周敏", "dept_admin"))
    payload = f.guide_payload(
        department["id"], fees=[{"name": "工本费", "amount_fen": FEE_FEN}], pay_before="delivery", code=f.unique("B-")
    )
    payload["name"] = f"社保卡补办{f.unique('')}"
    matter = api.call("POST", "/api/v1/admin/matters", admin, 201, json=payload)
    return {
        "api": api,
        "matter": matter,
        "clerk": staff_token(api, new_staff("吴清", "clerk")),
        "approver": staff_token(api, new_staff("郑远", "approver")),
    }


def test_citizen__applies_follows_pays_rates_and_reads_the_inbox(server, phone, browser, hall_setup):
    api, matter = hall_setup["api"], hall_setup["matter"]
    by_name = {m["name"]: m["id"] for m in matter["materials"]}
    citizen = wechat_citizen(api, "林晓")
    page = phone
    as_citizen(page, citizen)
    base = f"{server['base']}/m/#"

    # ---- apply: the e-licence stands for the ID card, the application form is forgotten ----
    page.goto(f"{base}/pages-cases/apply/index?matter_id={matter['id']}")
    expect(here(page).get_by_text(matter["name"])).to_be_visible()
    visit_both(page, "m-apply-start", lambda: button(page, "开始填写申请"))
    button(page, "开始填写申请").click()
    expect(here(page).get_by_text("申请材料")).to_be_visible()
    here(page).get_by_role("textbox", name="请输入申请事由").fill("社保卡遗失，申请补办")
    id_card = here(page).get_by_test_id(f"material-{by_name['居民身份证']}")
    id_card.locator("taro-button-core", has_text="用电子证照").click()
    expect(id_card.get_by_text("已提供：居民身份证（电子证照）")).to_be_visible()
    # a Word file is refused before sending, with what to do instead
    form_row = here(page).get_by_test_id(f"material-{by_name['申请表']}")
    with page.expect_file_chooser() as chooser:
        form_row.locator("taro-button-core", has_text="上传文件").click()
    chooser.value.set_files({"name": "申请表.docx", "mimeType": "application/msword", "buffer": b"PK\x03\x04 word"})
    expect(form_row.get_by_role("alert")).to_contain_text("不是 PDF、JPG 或 PNG 文件")
    shot(page, "m-apply-form")

    button(page, "提交申请").click()
    missing = here(page).get_by_test_id("missing")
    expect(missing).to_contain_text("还缺少以下必交材料")
    expect(missing).to_contain_text("申请表")
    expect(missing).not_to_contain_text("居民身份证")
    shot(page, "m-apply-missing")

    with page.expect_file_chooser() as chooser:
        form_row.locator("taro-button-core", has_text="上传文件").click()
    chooser.value.set_files({"name": "申请表.pdf", "mimeType": "application/pdf", "buffer": f.PDF_BYTES})
    expect(form_row.get_by_text("已提供：申请表.pdf")).to_be_visible()
    expect(here(page).get_by_test_id("missing")).to_have_count(0)
    button(page, "提交申请").click()

    # ---- the case: submitted; staff accept; the timeline moves and the inbox says so ----
    expect(here(page).get_by_test_id("case-notice")).to_contain_text("申请已提交")
    expect(here(page).get_by_test_id("status")).to_have_text("已提交")
    case_id = int(re.search(r"[?&]id=(\d+)", page.url).group(1))
    credits = api.call("GET", "/api/v1/me/subscriptions", citizen["token"])
    assert sum(c["remaining"] for c in credits) >= 1, "the tap on submit subscribed to no progress message"
    shot(page, "m-case-submitted")

    # ---- the clerk asks for the form again; the citizen uploads it and sends the supplement ----
    move(
        api,
        hall_setup["clerk"],
        case_id,
        "request_supplement",
        items=[{"material_id": by_name["申请表"], "reason": "申请表缺少本人签名"}],
    )
    page.reload()
    expect(here(page).get_by_test_id("status")).to_have_text("待补正")
    expect(here(page).get_by_text("补正要求：申请表缺少本人签名")).to_be_visible()
    supplement_row = here(page).get_by_test_id(f"material-{by_name['申请表']}")
    with page.expect_file_chooser() as chooser:
        supplement_row.locator("taro-button-core", has_text="重新上传").click()
    chooser.value.set_files({"name": "申请表-已签名.pdf", "mimeType": "application/pdf", "buffer": f.PDF_BYTES})
    expect(supplement_row.get_by_text("申请表-已签名.pdf", exact=False)).to_be_visible()
    shot(page, "m-case-supplement")
    button(page, "提交补正材料").click()
    expect(here(page).get_by_test_id("case-notice")).to_have_text("补正材料已提交，请等待工作人员审核")
    expect(here(page).get_by_test_id("status")).to_have_text("已提交")

    accepted = move(api, hall_setup["clerk"], case_id, "accept")
    page.reload()
    expect(here(page).get_by_test_id("status")).to_have_text("已受理")
    expect(here(page).get_by_test_id("receipt-no")).to_have_text(accepted["receipt_no"])
    expect(here(page).get_by_test_id("timeline").get_by_text("已受理")).to_be_visible()
    expect(here(page).get_by_test_id("light")).to_contain_text("绿灯")
    expect(button(page, "撤回申请")).to_have_count(0)  # the server no longer allows it once accepted
    visit_both(page, "m-case-accepted", lambda: here(page).get_by_test_id("timeline"))

    run_notifier_until(
        server,
        lambda: any(
            m["title"] == "申请已受理" for m in api.call("GET", "/api/v1/me/messages", citizen["token"])["items"]
        ),
    )
    page.goto(f"{base}/pages/inbox/index")
    message = here(page).get_by_role("link", name=re.compile("申请已受理.*未读"))
    expect(message).to_be_visible()
    expect(here(page).get_by_text(f"受理编号 {accepted['receipt_no']}", exact=False)).to_be_visible()
    visit_both(page, "m-inbox", lambda: here(page).get_by_text("申请已受理"))
    here(page).get_by_role("link", name=re.compile("申请已受理")).first.click()
    expect(here(page).get_by_test_id("receipt-no")).to_have_text(accepted["receipt_no"])

    # ---- pay with WeChat Pay (H5: the simulator's cashier) ----
    expect(here(page).get_by_role("radio", name="微信支付")).to_have_attribute("aria-checked", "true")
    button(page, f"缴费 {FEE_TEXT}").click()
    expect(here(page).get_by_test_id("case-notice")).to_have_text(f"已支付 {FEE_TEXT}（微信支付）")
    expect(here(page).get_by_test_id("fee")).to_have_text(f"{FEE_TEXT} · 已缴清")
    expect(button(page, "缴费")).to_have_count(0)
    shot(page, "m-case-paid")

    # ---- my cases ----
    page.goto(f"{base}/pages/cases/index")
    card = here(page).get_by_test_id(f"case-{case_id}")
    expect(card).to_contain_text(matter["name"])
    expect(card).to_contain_text("已受理")
    expect(card).to_contain_text(accepted["receipt_no"])
    visit_both(page, "m-cases", lambda: here(page).get_by_test_id(f"case-{case_id}"))

    # ---- decided and delivered; rated 2 with a reason; the rectification ticket follows ----
    move(api, hall_setup["approver"], case_id, "start_review")
    move(api, hall_setup["approver"], case_id, "approve")
    move(api, hall_setup["clerk"], case_id, "deliver", method="pickup")
    card.click()
    expect(here(page).get_by_test_id("status")).to_have_text("已送达")
    button(page, "评价").click()
    expect(here(page).get_by_text("您对本次办理满意吗？")).to_be_visible()
    visit_both(page, "m-rate", lambda: here(page).get_by_text("您对本次办理满意吗？"))
    # After the elder-mode reload Playwright's hit check on the pages with a Taro Textarea reports each control
    # covered by its own section (Chromium's elementFromPoint finds the control itself): clicks are dispatched.
    here(page).get_by_role("radio", name="不满意", exact=True).dispatch_event("click")
    button(page, "提交评价").dispatch_event("click")
    expect(here(page).get_by_role("alert")).to_contain_text("请写明原因")
    here(page).get_by_role("checkbox", name="办理时间长").dispatch_event("click")
    here(page).get_by_role("textbox", name="请输入评价内容").fill("窗口让我跑了两次才拿到卡")
    button(page, "提交评价").dispatch_event("click")
    expect(here(page).get_by_test_id("rate-done")).to_contain_text("整改工单")
    expect(here(page).get_by_test_id("my-score")).to_have_text("不满意")
    expect(here(page).get_by_test_id("ticket-status")).to_have_text("待回访整改")
    shot(page, "m-rate-rectification")
    page.go_back()
    page.reload()
    expect(here(page).get_by_test_id("rectification")).to_have_text("待回访整改")
    expect(button(page, "评价")).to_have_count(0)
    shot(page, "m-case-rated")

    # ---- feedback about the case ----
    page.goto(f"{base}/pages-cases/feedback/index?case_id={case_id}")
    here(page).get_by_role("radio", name="咨询").click()
    here(page).get_by_role("textbox", name="请写下您要咨询、投诉或建议的内容").fill("补办的社保卡多久可以激活？")
    button(page, "提交").first.click()
    expect(here(page).get_by_text("已提交咨询")).to_be_visible()
    visit_both(page, "m-feedback", lambda: here(page).get_by_text("补办的社保卡多久可以激活？"))
    here(page).get_by_role("link", name=re.compile("咨询 #")).first.dispatch_event("click")  # see the rating above
    expect(here(page).get_by_text("尚未答复")).to_be_visible()
    visit_both(page, "m-feedback-detail", lambda: here(page).get_by_text("尚未答复"))
    # the department answers; the citizen confirms it solved the question
    ticket = api.call("GET", "/api/v1/feedback", citizen["token"])["items"][0]
    api.call(
        "POST",
        f"/api/v1/staff/tickets/{ticket['id']}/reply",
        hall_setup["clerk"],
        json={"content": "补办的社保卡领取后即可在银行网点激活"},
    )
    page.reload()
    expect(here(page).get_by_text("补办的社保卡领取后即可在银行网点激活")).to_be_visible()
    expect(here(page).get_by_test_id("ticket-status")).to_have_text("已答复，待您确认")
    shot(page, "m-feedback-replied")
    button(page, "已解决，确认答复").dispatch_event("click")  # see the rating above
    expect(here(page).get_by_test_id("ticket-status")).to_have_text("已办结")
    expect(button(page, "已解决，确认答复")).to_have_count(0)

    page.goto(f"{base}/pages-cases/link/index")
    expect(button(page, "关联并查看")).to_be_visible()
    visit_both(page, "m-case-link", lambda: button(page, "关联并查看"))

    # ---- another case paid with Alipay, by an Alipay citizen; who cannot see the first citizen's case ----
    other = alipay_citizen(api, "陈曦")
    draft = api.call(
        "POST", "/api/v1/cases", other["token"], 201, json={"matter_id": matter["id"], "form": {"reason": "补办"}}
    )
    for material in matter["materials"]:
        if material["required"]:
            api.call(
                "POST",
                f"/api/v1/cases/{draft['id']}/materials",
                other["token"],
                201,
                data={"material_id": str(material["id"])},
                files={"file": ("scan.pdf", f.PDF_BYTES)},
            )
    api.call("POST", f"/api/v1/cases/{draft['id']}/submit", other["token"], json={})
    move(api, hall_setup["clerk"], draft["id"], "accept")

    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **PHONE)
    try:
        alipay_page = context.new_page()
        as_citizen(alipay_page, other)
        alipay_page.goto(f"{base}/pages-cases/detail/index?id={draft['id']}")
        expect(here(alipay_page).get_by_role("radio", name="支付宝")).to_have_attribute("aria-checked", "true")
        shot(alipay_page, "m-case-pay-alipay")
        button(alipay_page, f"缴费 {FEE_TEXT}").click()
        expect(here(alipay_page).get_by_test_id("case-notice")).to_have_text(f"已支付 {FEE_TEXT}（支付宝）")
        assert api.call("GET", f"/api/v1/cases/{draft['id']}", other["token"])["paid"] is True

        alipay_page.goto(f"{base}/pages-cases/detail/index?id={case_id}")
        expect(here(alipay_page).get_by_test_id("not-found")).to_have_text("未找到该办件")
        expect(here(alipay_page).get_by_text(matter["name"])).to_have_count(0)
        visit_both(alipay_page, "m-case-not-found", lambda: here(alipay_page).get_by_test_id("not-found"))
    finally:
        context.close()
