"""Administration in the console (Chromium): guides published as new versions, the working-day calendar, staff
accounts closed mid-session, and none of it for a clerk."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, STAFF_PASSWORD, TIMEOUT_MS, visit
from tests.factories import id_number

pytestmark = pytest.mark.browser

ADMIN_PAGES = {
    "/admin/matters": "事项指南",
    "/admin/halls": "大厅与排班",
    "/admin/calendar": "工作日历",
    "/admin/staff": "账号管理",
}


def _log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/console/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("who")).to_be_visible()


def _api(server, username: str) -> httpx.Client:
    """An HTTP client logged in as this staff member (what the test arranges beside the browser)."""
    client = httpx.Client(base_url=server["base"], timeout=30)
    login = client.post("/api/v1/auth/staff", json={"username": username, "password": STAFF_PASSWORD})
    assert login.status_code == 200, login.text
    client.headers["Authorization"] = f"Bearer {login.json()['token']}"
    return client


def _department_id(client: httpx.Client, code: str) -> int:
    departments = client.get("/api/v1/departments", params={"page_size": 100}).json()["items"]
    return next(item["id"] for item in departments if item["code"] == code)


def _new_matter(admin: httpx.Client, department_id: int) -> dict:
    """A matter of its own for the test: one required material, promised in 5 working days, no form."""
    suffix = uuid.uuid4().hex[:6]
    body = {
        "code": f"BT-{suffix}",
        "name": f"浏览器测试证明{suffix}",
        "department_id": department_id,
        "kind": "public_service",
        "audience": "citizen",
        "materials": [{"name": "居民身份证", "required": True, "form": "original"}],
        "legal_days": 20,
        "promised_days": 5,
        "max_visits": 1,
        "online_depth": 2,
    }
    created = admin.post("/api/v1/admin/matters", json=body)
    assert created.status_code == 201, created.text
    return created.json()


def _file_at_window(clerk: httpx.Client, guide: dict) -> dict:
    body = {
        "matter_id": guide["id"],
        "applicant_name": "张三",
        "id_number": id_number(),
        "materials_checked": [m["id"] for m in guide["materials"] if m["required"]],
    }
    filed = clerk.post("/api/v1/staff/cases", json=body)
    assert filed.status_code == 201, filed.text
    return filed.json()


def test_dept_admin__adds_a_material_and_publishes__citizen_sees_it__earlier_case_keeps_its_version(
    server, desktop, new_staff
):
    admin = _api(server, new_staff("管理员甲", "admin", department=""))
    clerk = _api(server, new_staff("窗口乙", "clerk"))
    guide = _new_matter(admin, _department_id(admin, "RS"))
    earlier = _file_at_window(clerk, guide)
    assert earlier["guide_version"] == 1

    page = desktop
    _log_in(page, server["base"], new_staff("部门管理员丙", "dept_admin"))
    page.get_by_role("navigation", name="主菜单").get_by_text("事项指南", exact=True).click()
    expect(page.get_by_role("heading", name="事项指南")).to_be_visible()
    page.get_by_label("查找事项").fill(guide["name"])
    expect(page.get_by_role("row")).to_have_count(2)
    visit(page, "console-admin-matters")

    page.get_by_role("button", name=f"编辑指南「{guide['name']}」").click()
    expect(page.get_by_role("heading", name=f"编辑指南：{guide['name']}")).to_be_visible()
    expect(page.get_by_text("尚未修改。")).to_be_visible()
    page.get_by_label("新增材料名称").fill("户口簿")
    page.get_by_role("button", name="添加材料").click()
    page.get_by_label("收费项目").fill("工本费")
    page.get_by_label("金额（元）").fill("10.5")
    page.get_by_role("button", name="添加收费").click()
    diff = page.get_by_role("table", name="与已发布版本的差异")
    expect(diff).to_contain_text("户口簿（必交，1 份）")
    expect(diff).to_contain_text("工本费 ¥10.50")
    # a fee needs to say when it is paid: explained, nothing is published
    page.get_by_role("button", name="发布新版本").click()
    expect(page.get_by_role("alert").filter(has_text="缴费时点")).to_be_visible()
    page.get_by_role("button", name="删除收费「工本费」").click()
    expect(diff).not_to_contain_text("工本费")
    page.get_by_label("修改说明（群众可见的版本记录）").fill("增加户口簿")
    visit(page, "console-admin-guide-diff")
    page.get_by_role("button", name="发布新版本").click()
    expect(page.get_by_text("当前发布第 2 版")).to_be_visible()
    expect(page.get_by_text("增加户口簿")).to_be_visible()
    visit(page, "console-admin-guide-published")

    citizen_guide = httpx.get(f"{server['base']}/api/v1/matters/{guide['id']}").json()
    assert citizen_guide["version"] == 2
    assert [m["name"] for m in citizen_guide["materials"]] == ["居民身份证", "户口簿"]
    case_now = clerk.get(f"/api/v1/staff/cases/{earlier['id']}").json()
    assert case_now["guide_version"] == 1
    its_guide = httpx.get(f"{server['base']}/api/v1/matters/{guide['id']}", params={"version": 1}).json()
    assert [m["name"] for m in its_guide["materials"]] == ["居民身份证"]


def test_admin__a_holiday_added_in_the_calendar_moves_a_new_cases_deadline(server, desktop, new_staff):
    admin_name = new_staff("管理员丁", "admin", department="")
    admin = _api(server, admin_name)
    clerk = _api(server, new_staff("窗口戊", "clerk"))
    guide = _new_matter(admin, _department_id(admin, "RS"))
    before = _file_at_window(clerk, guide)
    # the first working day after today that nobody has set: it lies inside the new case's 5 working days
    holiday = date.today() + timedelta(days=1)
    while True:
        day = admin.get(f"/api/v1/calendar/{holiday.isoformat()}").json()
        if day["is_workday"] and day["source"] != "admin":
            break
        holiday += timedelta(days=1)

    page = desktop
    _log_in(page, server["base"], admin_name)
    page.get_by_role("navigation", name="主菜单").get_by_text("工作日历", exact=True).click()
    expect(page.get_by_role("heading", name="工作日历")).to_be_visible()
    if holiday.month != date.today().month:
        page.get_by_role("button", name="下个月").click()
    grid = page.get_by_role("table", name=f"{holiday.year} 年 {holiday.month} 月")
    try:
        grid.get_by_role("button", name=f"{holiday.isoformat()} 工作日").click()
        page.get_by_label("说明（如：国庆节、春节调休）").fill("临时休假")
        page.get_by_role("button", name="设为节假日（休）").click()
        expect(
            grid.get_by_role("button", name=f"{holiday.isoformat()} 休息日，本处设定的休息日：临时休假")
        ).to_be_visible()
        expect(page.get_by_label("说明（如：国庆节、春节调休）")).to_be_hidden()
        page.wait_for_timeout(400)  # the dialog's closing fade, for a readable screenshot
        visit(page, "console-admin-calendar")

        after = _file_at_window(clerk, guide)
        assert after["deadline"] > before["deadline"], (before["deadline"], after["deadline"])
        assert admin.get(f"/api/v1/calendar/{holiday.isoformat()}").json()["is_workday"] is False
    finally:
        admin.delete(f"/api/v1/admin/calendar/{holiday.isoformat()}")


def test_admin__closes_an_account__that_persons_open_console_session_ends(server, desktop, browser, new_staff):
    name = f"停用测试{uuid.uuid4().hex[:4]}"
    victim_username = new_staff(name, "dept_admin")
    victim_context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **DESKTOP)
    victim_context.set_default_timeout(TIMEOUT_MS)
    victim = victim_context.new_page()
    try:
        _log_in(victim, server["base"], victim_username)
        victim.get_by_role("navigation", name="主菜单").get_by_text("事项指南", exact=True).click()
        expect(victim.get_by_role("heading", name="事项指南")).to_be_visible()

        page = desktop
        _log_in(page, server["base"], new_staff("管理员己", "admin", department=""))
        page.get_by_role("navigation", name="主菜单").get_by_text("账号管理", exact=True).click()
        page.get_by_label("查找账号").fill(name)
        row = page.get_by_role("row").filter(has_text=name)
        expect(row).to_contain_text("在用")
        visit(page, "console-admin-staff")
        page.get_by_role("button", name=f"停用「{name}」").click()
        expect(page.get_by_text("停用后此人立即退出工作台")).to_be_visible()
        page.wait_for_timeout(400)  # the dialog's opening animation, for a readable screenshot
        visit(page, "console-admin-staff-close")
        page.get_by_role("button", name="停用", exact=True).click()
        expect(row).to_contain_text("已停用")

        # the closed account's next action in its open console lands on the login page, which says why
        victim.get_by_role("navigation", name="主菜单").get_by_text("大厅与排班", exact=True).click()
        expect(victim).to_have_url(re.compile(r"/console/login$"))
        expect(victim.get_by_role("alert")).to_contain_text("您的登录已失效")
        visit(victim, "console-login-session-ended")
    finally:
        victim_context.close()


def test_admin__halls_and_schedules_page(server, desktop, new_staff):
    page = desktop
    _log_in(page, server["base"], new_staff("部门管理员庚", "dept_admin"))
    page.get_by_role("navigation", name="主菜单").get_by_text("大厅与排班", exact=True).click()
    expect(page.get_by_role("heading", name="大厅与排班")).to_be_visible()
    expect(page.get_by_role("heading", name="预约排班（号源模板）")).to_be_visible()
    # a time range that ends before it starts is explained before anything is sent
    page.get_by_label("开始（如 09:00）").fill("12:00")
    page.get_by_label("结束（如 12:00）").fill("09:00")
    page.get_by_role("button", name="新建排班").click()
    expect(page.get_by_role("alert").filter(has_text="请选择大厅和事项")).to_be_visible()
    visit(page, "console-admin-halls")


def _choose(page, label: str, option: str) -> None:
    """Pick an option of a TDesign Select by its label."""
    page.get_by_label(label, exact=True).click()
    page.locator(".t-select-option:visible", has_text=option).first.click()


def test_dept_admin__adds_a_hall_and_its_window__the_citizens_hall_list_shows_it(server, desktop, new_staff):
    username = new_staff("部门管理员壬", "dept_admin")
    suffix = uuid.uuid4().hex[:6]
    name = f"测试便民中心{suffix}"
    page = desktop
    _log_in(page, server["base"], username)
    page.get_by_role("navigation", name="主菜单").get_by_text("大厅与排班", exact=True).click()
    expect(page.get_by_role("heading", name="本部门管理的大厅与窗口")).to_be_visible()
    page.get_by_role("button", name="新建大厅").click()
    # what is missing is said before anything is sent
    page.get_by_role("button", name="新建大厅").click()
    expect(page.get_by_role("alert").filter(has_text="请填写大厅名称")).to_be_visible()
    page.get_by_label("大厅编码", exact=True).fill(f"BT-{suffix}")
    page.get_by_label("大厅名称", exact=True).fill(name)
    page.get_by_label("所在区县", exact=True).fill("江北区")
    page.get_by_label("地址", exact=True).fill("临江市江北区测试路8号")
    page.get_by_label("办公时间", exact=True).fill("周一至周五 09:00-17:00")
    page.get_by_role("button", name="新建大厅").click()
    expect(page.get_by_role("heading", name=f"编辑大厅：{name}")).to_be_visible()

    page.get_by_label("窗口名称", exact=True).fill("社保综合窗口")
    page.get_by_role("button", name="添加窗口").click()
    windows = page.locator("table").filter(has_text="社保综合窗口")
    expect(windows).to_contain_text("1 号")
    expect(windows).to_contain_text("开放")
    page.get_by_label("窗口名称", exact=True).fill("备用窗口")
    page.get_by_role("button", name="添加窗口").click()
    expect(page.locator("table").filter(has_text="备用窗口")).to_contain_text("2 号")
    page.get_by_role("button", name="关闭 2 号窗口").click()
    expect(page.locator("table").filter(has_text="备用窗口")).to_contain_text("已关闭")
    visit(page, "console-admin-hall-windows")

    halls = httpx.get(f"{server['base']}/api/v1/halls", params={"page_size": 100}).json()["items"]
    hall = next(item for item in halls if item["name"] == name)
    assert hall["address"] == "临江市江北区测试路8号"
    assert [(w["number"], w["name"], w["open"]) for w in hall["service_windows"]] == [
        (1, "社保综合窗口", True),
        (2, "备用窗口", False),
    ]
    assert hall["windows"] == 2
    # Another department's admin does not find it.
    other = _api(server, new_staff("部门管理员癸", "dept_admin", department="GA"))
    assert other.delete(f"/api/v1/admin/halls/{hall['id']}").status_code == 404


def test_dept_admin__adds_form_fields_and_publishes__the_citizens_guide_asks_for_them(server, desktop, new_staff):
    admin = _api(server, new_staff("管理员子", "admin", department=""))
    guide = _new_matter(admin, _department_id(admin, "RS"))
    page = desktop
    _log_in(page, server["base"], new_staff("部门管理员丑", "dept_admin"))
    page.get_by_role("navigation", name="主菜单").get_by_text("事项指南", exact=True).click()
    page.get_by_label("查找事项").fill(guide["name"])
    page.get_by_role("button", name=f"编辑指南「{guide['name']}」").click()
    expect(page.get_by_role("heading", name="申请表字段")).to_be_visible()
    expect(page.get_by_text("无需填写申请表")).to_be_visible()

    page.get_by_label("新字段名称").fill("失业原因")
    page.get_by_role("button", name="添加字段").click()
    page.get_by_label("新字段名称").fill("申请方式")
    _choose(page, "字段类型", "单选")
    # a select without options is explained, not added
    page.get_by_role("button", name="添加字段").click()
    expect(page.get_by_role("alert").filter(has_text="单选字段要填写选项")).to_be_visible()
    page.get_by_label("选项（逗号或换行分开）").fill("本人，代办")
    page.get_by_role("button", name="添加字段").click()
    page.get_by_role("button", name="上移「申请方式」").click()
    diff = page.get_by_role("table", name="与已发布版本的差异")
    expect(diff).to_contain_text("申请方式（单选，必填，选项：本人/代办）")
    expect(diff).to_contain_text("失业原因（文字，必填）")
    expect(page.get_by_label("第 1 个字段的名称")).to_have_value("申请方式")
    page.get_by_label("修改说明（群众可见的版本记录）").fill("增加申请表")
    visit(page, "console-admin-guide-form-fields")
    page.get_by_role("button", name="发布新版本").click()
    expect(page.get_by_text("当前发布第 2 版")).to_be_visible()

    citizen_guide = httpx.get(f"{server['base']}/api/v1/matters/{guide['id']}").json()
    assert citizen_guide["version"] == 2
    fields = citizen_guide["form_fields"]
    assert [(f["label"], f["type"], f["required"]) for f in fields] == [
        ("申请方式", "select", True),
        ("失业原因", "text", True),
    ]
    assert fields[0]["options"] == ["本人", "代办"]
    # the published version is what the editor diffs against now
    page.get_by_role("button", name="删除字段「失业原因」").click()
    expect(diff).to_contain_text("失业原因（文字，必填）")
    expect(diff).not_to_contain_text("申请方式")


def test_admin__the_calendar_shows_the_statutory_national_day_and_its_make_up_saturday(server, desktop, new_staff):
    page = desktop
    _log_in(page, server["base"], new_staff("管理员寅", "admin", department=""))
    page.get_by_role("navigation", name="主菜单").get_by_text("工作日历", exact=True).click()
    expect(page.get_by_role("heading", name="工作日历")).to_be_visible()
    _choose(page, "年份", "2026 年")
    _choose(page, "月份", "10 月")
    grid = page.get_by_role("table", name="2026 年 10 月")
    national_day = grid.get_by_role("button", name="2026-10-01 休息日，法定节假日（国家公布）：国庆节")
    expect(national_day).to_be_visible()
    expect(national_day).to_contain_text("法定休")
    make_up = grid.get_by_role("button", name="2026-10-10 工作日，调休上班日（国家公布）：国庆节调休")
    expect(make_up).to_contain_text("调休班")
    expect(grid.get_by_role("button", name="2026-10-12 工作日")).not_to_contain_text("法定")
    legend = page.get_by_role("list", name="图例")
    expect(legend).to_contain_text("法定节假日（国家公布）")
    expect(legend).to_contain_text("调休上班日（国家公布）")
    visit(page, "console-admin-calendar-statutory")
    national_day.click()
    expect(page.get_by_text("此日为法定节假日（国家公布）：国庆节")).to_be_visible()


def test_clerk__cannot_open_any_admin_page(server, desktop, new_staff):
    page = desktop
    _log_in(page, server["base"], new_staff("窗口辛", "clerk"))
    menu = page.get_by_role("navigation", name="主菜单")
    for path, label in ADMIN_PAGES.items():
        expect(menu.get_by_text(label, exact=True)).to_have_count(0)
        page.goto(f"{server['base']}/console{path}")
        forbidden = page.get_by_role("alert")
        expect(forbidden).to_contain_text(f"无权访问「{label}」")
        expect(forbidden).to_contain_text("系统管理员")
        expect(page.get_by_role("table")).to_have_count(0)
        expect(page.get_by_role("heading", name=label, exact=True)).to_have_count(0)
    visit(page, "console-admin-forbidden-clerk")
