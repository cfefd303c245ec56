"""Window filing with scanned materials, the case desk previewing them, and a ticket assigned, in Chromium.

A window clerk files a walk-in citizen's case and uploads a PDF and an image for two of its materials (a wrong file
type is refused before sending; a lost upload is retried without filing twice); the receipt lists the paper checked
and the scans received; the case desk draws the PDF and shows the image; the department's admin assigns a
consultation to a clerk of the department.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests import factories as f
from tests.browser.conftest import visit
from tests.browser.test_console_cases import _log_in, _pdf, _png, _unique_name
from tests.browser.test_console_cases import api as api  # noqa: F401  (fixtures used by name)
from tests.browser.test_console_cases import matter as matter  # noqa: F401

pytestmark = pytest.mark.browser


def _pick_matter(page, name: str) -> None:
    page.get_by_label("事项", exact=True).click()
    page.get_by_label("事项", exact=True).fill(name)
    page.locator(".t-select-option:visible", has_text=name).first.click()
    # the filterable select's popup lingers over the form until the focus leaves it
    page.keyboard.press("Escape")
    page.get_by_role("heading", name="窗口收件").click()
    expect(page.locator(".t-select-option:visible")).to_have_count(0)


def test_window_clerk_files_with_scans_and_the_desk_previews_them(server, desktop, new_staff, api, matter):  # noqa: F811
    page = desktop
    clerk = new_staff("钱窗口", "clerk")
    _log_in(page, server["base"], clerk)
    page.get_by_role("navigation", name="主菜单").get_by_text("窗口收件", exact=True).click()
    expect(page.get_by_role("heading", name="窗口收件")).to_be_visible()

    name, number = _unique_name(), f.id_number()
    page.get_by_label("姓名（与身份证一致）").fill(name)
    page.get_by_label("身份证号码").fill(number)
    _pick_matter(page, matter["name"])
    page.get_by_label("申请事由（必填）").fill("现场办理，材料现场扫描")

    id_card = page.get_by_label("居民身份证 的扫描件")
    form = page.get_by_label("申请表 的扫描件")
    # A GIF is refused before anything is sent, naming the file.
    id_card.set_input_files(files=[{"name": "照片.gif", "mimeType": "image/gif", "buffer": b"GIF89a" + b"\0" * 32}])
    expect(page.get_by_test_id("scan-state").first).to_contain_text("不是 PDF、JPG 或 PNG")
    visit(page, "console-filing-scan-refused")
    id_card.set_input_files(files=[{"name": "身份证.pdf", "mimeType": "application/pdf", "buffer": _pdf("ID card")}])
    form.set_input_files(files=[{"name": "申请表.png", "mimeType": "image/png", "buffer": _png()}])
    # A good scan ticks its material.
    for material in ("居民身份证", "申请表"):
        expect(page.get_by_role("checkbox", name=re.compile(material))).to_be_checked()
    expect(page.get_by_text("身份证.pdf", exact=False)).to_contain_text("待上传")
    page.wait_for_timeout(300)  # TDesign's tick is drawn by a short transition: the screenshot shows it done
    visit(page, "console-filing-scans-chosen")

    # The first upload of the image is lost on the way: the case is filed once, the image is sent again on retry.
    lost = {"count": 0}

    def lose_the_first_image(route):
        body = route.request.post_data_buffer or b""
        if b"\x89PNG" in body and lost["count"] == 0:
            lost["count"] += 1
            route.abort()
        else:
            route.continue_()

    page.route("**/api/v1/staff/cases/*/materials", lose_the_first_image)
    page.get_by_role("button", name="提交并受理").click()
    expect(page.get_by_role("button", name="重试上传")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="已受理")).to_contain_text("有扫描件未上传成功")
    expect(page.get_by_text("申请表.png", exact=False)).to_contain_text("上传失败")
    expect(page.get_by_text("身份证.pdf", exact=False)).to_contain_text("已上传")
    expect(page.get_by_role("button", name="提交并受理")).to_have_count(0)
    visit(page, "console-filing-scan-failed")
    page.get_by_role("button", name="重试上传").click()

    receipt = page.get_by_role("article", name="受理回执")
    expect(receipt).to_be_visible()
    assert lost["count"] == 1
    receipt_no = page.get_by_test_id("receipt-no").inner_text()
    assert re.fullmatch(r"RS-\d{8}-\d{4}", receipt_no), receipt_no
    received = page.get_by_test_id("receipt-materials")
    expect(received.get_by_role("row").filter(has_text="居民身份证")).to_contain_text(
        re.compile(r"已核验.*身份证\.pdf（PDF")
    )
    expect(received.get_by_role("row").filter(has_text="申请表")).to_contain_text(
        re.compile(r"已核验.*申请表\.png（图片")
    )
    expect(receipt).not_to_contain_text(number)
    visit(page, "console-filing-receipt-scans")
    page.emulate_media(media="print")
    expect(received).to_be_visible()
    visit(page, "console-filing-receipt-scans-print")
    page.emulate_media(media="screen")

    # The filed case, exactly once, with one file per material.
    token = api.staff_token(clerk)
    found = api.call("GET", "/api/v1/staff/cases", token, params={"q": receipt_no}).json()["items"]
    assert [c["receipt_no"] for c in found] == [receipt_no]
    case = api.call("GET", f"/api/v1/staff/cases/{found[0]['id']}", token).json()
    files = {m["name"]: [x["file_name"] for x in m["files"]] for m in case["materials"]}
    assert files["居民身份证"] == ["身份证.pdf"] and files["申请表"] == ["申请表.png"]

    # The case desk previews both.
    page.get_by_role("link", name="打开办件").click()
    expect(page.get_by_role("heading", name="办件详情")).to_be_visible()
    expect(page.get_by_role("img", name="身份证.pdf 第 1 页")).to_be_visible()
    expect(page.get_by_text("PDF，共 1 页")).to_be_visible()
    visit(page, "console-case-desk-window-pdf")
    page.get_by_role("tab", name="申请表：申请表.png").click()
    expect(page.get_by_test_id("image-preview")).to_be_visible()
    assert page.evaluate("() => document.querySelector('[data-testid=image-preview]').naturalWidth") == 320
    visit(page, "console-case-desk-window-image")


def test_department_admin_assigns_a_ticket_to_a_clerk(server, desktop, new_staff, api, matter):  # noqa: F811
    page = desktop
    assignee_name = f"承办{uuid.uuid4().hex[:4]}"
    new_staff(assignee_name, "clerk")
    admin = new_staff("周科长", "dept_admin")
    citizen = api.citizen(_unique_name())
    content = f"请问{matter['name']}可以委托他人办理吗？{uuid.uuid4().hex[:6]}"
    ticket = api.call(
        "POST",
        "/api/v1/feedback",
        citizen["token"],
        expect_status=201,
        json={"kind": "consult", "content": content, "matter_id": matter["id"]},
    ).json()

    _log_in(page, server["base"], admin)
    page.goto(f"{server['base']}/console/tickets")
    expect(page.get_by_role("heading", name="工单与整改")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=content[:20])
    expect(row).to_contain_text("待处理")
    row.get_by_role("button").first.click()
    expect(page.get_by_role("heading", name=re.compile(rf"咨询 #{ticket['id']}"))).to_be_visible()
    expect(page.get_by_test_id("ticket-assignee")).to_contain_text("未指派")
    assign = page.get_by_role("form", name="指派承办人")
    expect(assign).to_be_visible()
    assign.locator(".t-select").click()
    page.locator(".t-select-option:visible", has_text=assignee_name).first.click()
    visit(page, "console-ticket-assign")
    assign.get_by_role("button", name="指派").click()
    expect(page.get_by_role("status")).to_contain_text(f"已指派给 {assignee_name}")
    expect(page.get_by_test_id("ticket-assignee")).to_have_text(assignee_name)
    expect(page.locator(".ticket-log")).to_contain_text(f"部门管理员 指派承办人：{assignee_name}")
    visit(page, "console-ticket-assigned")

    page.get_by_role("button", name="返回列表").click()
    expect(page.get_by_role("row").filter(has_text=content[:20])).to_contain_text(assignee_name)
    # The citizen's view never names who inside the department holds it.
    mine = api.call("GET", f"/api/v1/feedback/{ticket['id']}", citizen["token"]).json()
    assert "assignee_name" not in mine and assignee_name not in str(mine)
