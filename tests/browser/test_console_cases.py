"""The staff console's case pages in Chromium: queue, desk (file previews, actions, a lost race), window filing."""

from __future__ import annotations

import re
import struct
import uuid
import zlib

import httpx
import pytest
from playwright.sync_api import expect

from tests import factories as f
from tests.browser.conftest import DESKTOP, STAFF_PASSWORD, TIMEOUT_MS, visit

pytestmark = pytest.mark.browser

# Surnames and given names: the applicant names must be Chinese and unique in the run (the queue is searched by them).
_GIVEN = "安明华建国秀英桂兰志强晓东丽娜海燕宏伟"


def _unique_name() -> str:
    n = uuid.uuid4().int
    return "欧阳" + _GIVEN[n % 16] + _GIVEN[(n // 16) % 16]


def _pdf(text: str) -> bytes:
    """A real one-page PDF (pdf.js draws it) with a line of text and a frame."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET 60 60 480 700 re S".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _png(width: int = 320, height: int = 200) -> bytes:
    """A real PNG: a blue band over white, so a rotation shows."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + (b"\x00\x52\xd9" if y < height // 3 else b"\xff\xff\xff") * width for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


class Api:
    """The server's HTTP API, as the mini-program and a second clerk would call it."""

    def __init__(self, base: str):
        self.http = httpx.Client(base_url=base, timeout=30)

    def call(self, method: str, path: str, token: str | None = None, expect_status: int | None = 200, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.http.request(method, path, headers=headers, **kwargs)
        if expect_status is not None:
            assert response.status_code == expect_status, f"{method} {path}: {response.status_code} {response.text}"
        return response

    def staff_token(self, username: str) -> str:
        body = self.call("POST", "/api/v1/auth/staff", json={"username": username, "password": STAFF_PASSWORD}).json()
        return body["token"]

    def department_id(self, code: str) -> int:
        departments = self.call("GET", "/api/v1/departments").json()
        items = departments["items"] if isinstance(departments, dict) else departments
        return next(d["id"] for d in items if d["code"] == code)

    def citizen(self, name: str) -> dict:
        """A WeChat citizen whose real-name identity the simulator confirmed."""
        openid = "o" + uuid.uuid4().hex[:27]
        code = self.call("POST", "/sim/wechat/code", json={"openid": openid}).json()["code"]
        token = self.call("POST", "/api/v1/auth/wechat", json={"code": code}).json()["token"]
        number, phone = f.id_number(), f"139{uuid.uuid4().int % 100_000_000:08d}"
        self.call("POST", "/sim/wechat/real-name", json={"openid": openid, "real_name": name, "id_number": number})
        claim = self.call(
            "PUT",
            "/api/v1/me/identity",
            token,
            expect_status=202,
            json={"name": name, "id_number": number, "phone": phone, "method": "wechat"},
        ).json()
        texts = self.call("GET", "/sim/sms/messages", params={"phone": phone}).json()["items"]
        sms = re.search(r"[0-9]{6}", texts[-1]["text"]).group(0)
        consent = self.call("POST", "/sim/wechat/real-name/consent", json={"openid": openid}).json()["code"]
        verification = claim["verification"]["id"]
        self.call(
            "POST",
            f"/api/v1/me/identity/verifications/{verification}/confirm",
            token,
            json={"sms_code": sms, "code": consent},
        )
        return {"token": token, "name": name, "id_number": number}

    def upload(self, token: str, case_id: int, material_id: int, data: bytes, name: str) -> dict:
        return self.call(
            "POST",
            f"/api/v1/cases/{case_id}/materials",
            token,
            expect_status=201,
            data={"material_id": str(material_id)},
            files={"file": (name, data)},
        ).json()


@pytest.fixture
def api(server):
    client = Api(server["base"])
    yield client
    client.http.close()


@pytest.fixture
def matter(api, new_staff):
    """A matter of the RS department (the clerks' own) with the factories' guide: 身份证, 申请表 required."""
    admin = api.staff_token(new_staff("管理员", "admin", department=""))
    payload = {**f.guide_payload(api.department_id("RS")), "code": f.unique("B-")}
    payload["name"] = f"浏览器测试事项{uuid.uuid4().hex[:6]}"
    return api.call("POST", "/api/v1/admin/matters", admin, expect_status=201, json=payload).json()


def _submitted_case(api: Api, matter: dict) -> tuple[dict, dict]:
    """A citizen's case with a real PDF for the ID card and a PNG for the form, submitted."""
    citizen = api.citizen(_unique_name())
    case = api.call(
        "POST",
        "/api/v1/cases",
        citizen["token"],
        expect_status=201,
        json={"matter_id": matter["id"], "form": {"reason": "办理需要"}},
    ).json()
    id_card, form = (m["id"] for m in matter["materials"][:2])
    api.upload(citizen["token"], case["id"], id_card, _pdf("ID card scan"), "身份证.pdf")
    api.upload(citizen["token"], case["id"], form, _png(), "申请表.png")
    submitted = api.call("POST", f"/api/v1/cases/{case['id']}/submit", citizen["token"]).json()
    return submitted, citizen


def _log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/console/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("who")).to_be_visible()


def _second_page(desktop):
    context = desktop.context.browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


def _choose(page, label: str, option: str) -> None:
    """Pick an option of a TDesign Select by its label."""
    page.get_by_label(label, exact=True).click()
    page.locator(".t-select-option:visible", has_text=option).first.click()


def _status(page):
    return page.get_by_test_id("case-status")


def test_clerk_previews_requests_a_supplement_accepts_and_an_approver_approves(server, desktop, new_staff, api, matter):
    case, citizen = _submitted_case(api, matter)
    page = desktop
    _log_in(page, server["base"], new_staff("王敏", "clerk"))
    page.get_by_role("navigation", name="主菜单").get_by_text("办件队列", exact=True).click()
    expect(page.get_by_role("heading", name="办件队列")).to_be_visible()
    expect(page.get_by_test_id("count-green")).to_have_text(re.compile(r"^\d+$"))
    visit(page, "console-cases-queue")

    _choose(page, "状态", "待受理")
    expect(page.get_by_role("button", name="清除筛选")).to_be_visible()
    page.get_by_label("受理编号或申请人").fill(citizen["name"])
    page.get_by_role("button", name="查询").click()
    row_link = page.get_by_role("link", name=f"未受理（第 {case['id']} 号）")
    expect(row_link).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(1)
    visit(page, "console-cases-queue-search")
    row_link.click()

    expect(page.get_by_role("heading", name="办件详情")).to_be_visible()
    expect(_status(page)).to_have_text("待受理")
    # the PDF, drawn by pdf.js in its worker
    expect(page.get_by_role("img", name="身份证.pdf 第 1 页")).to_be_visible()
    expect(page.get_by_text("PDF，共 1 页")).to_be_visible()
    expect(page.get_by_test_id("case-form")).to_contain_text("办理需要")
    expect(page.get_by_role("cell", name="复印件 2 份")).to_be_visible()
    visit(page, "console-case-desk-pdf")
    page.get_by_role("tab", name="申请表：申请表.png").click()
    image = page.get_by_test_id("image-preview")
    expect(image).to_be_visible()
    assert page.evaluate("() => document.querySelector('[data-testid=image-preview]').naturalWidth") == 320
    page.get_by_role("button", name="放大").click()
    page.get_by_role("button", name="旋转").click()
    expect(page.get_by_test_id("image-state")).to_have_text("125% · 90°")
    visit(page, "console-case-desk-image")

    # one notice with both items: the ID card and the form
    page.get_by_role("button", name="一次性告知补正").click()
    page.get_by_role("button", name="添加一项").click()
    page.get_by_role("button", name="添加一项").click()
    _choose(page, "第 1 项材料", "居民身份证")
    page.get_by_label("第 1 项原因").fill("身份证反面不清晰，请重新扫描")
    _choose(page, "第 2 项材料", "申请表")
    page.get_by_label("第 2 项原因").fill("申请表缺少签名")
    page.get_by_label("补正说明（选填）").fill("请一并补交后再提交")
    visit(page, "console-case-desk-supplement-form")
    page.get_by_role("button", name="确认一次性告知补正").click()
    expect(_status(page)).to_have_text("待补正")
    expect(page.get_by_text("身份证反面不清晰，请重新扫描")).to_be_visible()
    visit(page, "console-case-desk-supplement-sent")

    mine = api.call("GET", f"/api/v1/cases/{case['id']}", citizen["token"]).json()
    assert [i["reason"] for i in mine["supplement_items"]] == ["身份证反面不清晰，请重新扫描", "申请表缺少签名"]
    id_card, form = (m["id"] for m in matter["materials"][:2])
    api.upload(citizen["token"], case["id"], id_card, _pdf("ID card again"), "身份证-重扫.pdf")
    api.upload(citizen["token"], case["id"], form, _png(240, 240), "申请表-签名.png")
    api.call("POST", f"/api/v1/cases/{case['id']}/submit", citizen["token"])

    page.reload()
    expect(_status(page)).to_have_text("待受理")
    expect(page.get_by_role("tab", name="居民身份证：身份证-重扫.pdf")).to_be_visible()
    page.get_by_role("button", name="受理", exact=True).click()
    page.get_by_role("button", name="确认受理").click()
    expect(_status(page)).to_have_text("已受理")
    expect(page.get_by_role("status")).to_contain_text("已受理")
    visit(page, "console-case-desk-accepted")
    page.get_by_role("button", name="退出登录").click()

    _log_in(page, server["base"], new_staff("李审批", "approver"))
    page.goto(f"{server['base']}/console/cases/{case['id']}")
    page.get_by_role("button", name="开始审查").click()
    page.get_by_role("button", name="确认开始审查").click()
    expect(_status(page)).to_have_text("审查中")
    page.get_by_role("button", name="准予许可").click()
    page.get_by_label("备注（选填）").fill("符合条件")
    page.get_by_role("button", name="确认准予许可").click()
    expect(_status(page)).to_have_text("已准予")
    expect(page.get_by_test_id("timeline")).to_contain_text("符合条件")
    visit(page, "console-case-desk-approved")


def test_second_clerk_sees_the_conflict_and_keeps_the_note(server, desktop, new_staff, api, matter):
    case, _ = _submitted_case(api, matter)
    first, second = new_staff("张一", "clerk"), new_staff("赵二", "clerk")
    page = desktop
    _log_in(page, server["base"], second)
    page.goto(f"{server['base']}/console/cases/{case['id']}")
    expect(_status(page)).to_have_text("待受理")
    page.get_by_role("button", name="不予受理").click()
    page.get_by_label("不予受理理由").fill("申请人不在本市居住，不属于本部门受理范围")

    # meanwhile the other clerk accepts it in their own browser
    context, other = _second_page(desktop)
    try:
        _log_in(other, server["base"], first)
        other.goto(f"{server['base']}/console/cases/{case['id']}")
        other.get_by_role("button", name="受理", exact=True).click()
        other.get_by_role("button", name="确认受理").click()
        expect(other.get_by_test_id("case-status")).to_have_text("已受理")
    finally:
        context.close()

    page.get_by_role("button", name="确认不予受理").click()
    conflict = page.get_by_test_id("conflict")
    expect(conflict).to_contain_text("办件已被他人处理，未提交您的操作")
    expect(conflict).to_contain_text("状态已由「待受理」变为「已受理」")
    expect(conflict).to_contain_text("受理")
    expect(_status(page)).to_have_text("已受理")
    expect(page.get_by_label("不予受理理由")).to_have_value("申请人不在本市居住，不属于本部门受理范围")
    expect(page.get_by_text("此操作现在不可用")).to_be_visible()
    visit(page, "console-case-desk-conflict")
    after = api.call("GET", f"/api/v1/staff/cases/{case['id']}", api.staff_token(first)).json()
    assert after["status"] == "accepted"


def test_clerk_of_another_department_sees_neither_the_case_nor_its_files(server, desktop, new_staff, api, matter):
    case, citizen = _submitted_case(api, matter)
    foreign = new_staff("钱多", "clerk", department="GA")
    page = desktop
    _log_in(page, server["base"], foreign)
    page.goto(f"{server['base']}/console/cases")
    page.get_by_label("受理编号或申请人").fill(citizen["name"])
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_text("没有符合条件的办件")).to_be_visible()
    visit(page, "console-cases-queue-foreign")

    page.goto(f"{server['base']}/console/cases/{case['id']}")
    expect(page.get_by_role("alert")).to_contain_text("未找到该办件")
    visit(page, "console-case-desk-foreign")
    token = api.staff_token(foreign)
    file_id = case["materials"][0]["files"][0]["id"]
    for path in (f"/api/v1/staff/cases/{case['id']}", f"/api/v1/staff/cases/{case['id']}/materials/{file_id}"):
        assert api.call("GET", path, token, expect_status=None).status_code == 404


def test_window_filing_prints_a_receipt(server, desktop, new_staff, api, matter):
    page = desktop
    _log_in(page, server["base"], new_staff("孙窗口", "clerk"))
    page.get_by_role("navigation", name="主菜单").get_by_text("窗口收件", exact=True).click()
    expect(page.get_by_role("heading", name="窗口收件")).to_be_visible()
    page.get_by_role("button", name="提交并受理").click()
    expect(page.get_by_role("alert")).to_contain_text("请选择办理事项")
    visit(page, "console-filing-empty")

    name, number = _unique_name(), f.id_number()
    page.get_by_label("姓名（与身份证一致）").fill(name)
    page.get_by_label("身份证号码").fill(number)
    page.get_by_label("事项").click()
    page.get_by_label("事项").fill(matter["name"])
    page.locator(".t-select-option:visible", has_text=matter["name"]).first.click()
    # the filterable select's popup lingers over the form until the focus leaves it
    page.keyboard.press("Escape")
    page.get_by_role("heading", name="窗口收件").click()
    expect(page.locator(".t-select-option:visible")).to_have_count(0)
    page.get_by_label("申请事由（必填）").fill("现场办理")
    for material in ("居民身份证", "申请表"):
        # TDesign draws its own box over the <input>: a clerk clicks the label
        page.locator("label.t-checkbox", has_text=material).click()
        expect(page.get_by_role("checkbox", name=re.compile(material))).to_be_checked()
    visit(page, "console-filing-filled")
    page.get_by_role("button", name="提交并受理").click()

    receipt = page.get_by_role("article", name="受理回执")
    expect(receipt).to_be_visible()
    receipt_no = page.get_by_test_id("receipt-no").inner_text()
    assert re.fullmatch(r"RS-\d{8}-\d{4}", receipt_no), receipt_no
    expect(receipt).to_contain_text(matter["name"])
    expect(page.get_by_test_id("promised")).to_contain_text("5 个工作日")
    expect(receipt).to_contain_text("关联窗口办件")
    expect(receipt).not_to_contain_text(number)
    visit(page, "console-filing-receipt")
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="打印回执")).to_be_hidden()
    expect(page.get_by_role("navigation", name="主菜单")).to_be_hidden()
    visit(page, "console-filing-receipt-print")
    page.emulate_media(media="screen")
