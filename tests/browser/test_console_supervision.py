"""The supervision and administration pages of the console in Chromium: a supervisor finds another department's
red case and opens it, a chart's table and an export say what GET /api/v1/stats says, the admin pages render, and a
clerk is told why these pages are closed to them."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import STAFF_PASSWORD, visit
from tests.factories import id_number

pytestmark = pytest.mark.browser

FILL = {"text": "现场办理", "number": 1, "date": "2026-01-01", "phone": "13800138000"}


def _log_in(page, server, username: str) -> None:
    page.goto(f"{server['base']}/console/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("who")).to_be_visible()


def _token(server, username: str) -> dict:
    answer = httpx.post(f"{server['base']}/api/v1/auth/staff", json={"username": username, "password": STAFF_PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def _red_case(server, clerk: str, code: str = "GA") -> dict:
    """A window-filed case of the clerk's department (公安局 unless told), its deadline moved into the past: red."""
    headers = _token(server, clerk)
    base = server["base"]
    departments = httpx.get(f"{base}/api/v1/departments", params={"page_size": 100}).json()["items"]
    police = next(item for item in departments if item["code"] == code)
    matter_id = httpx.get(f"{base}/api/v1/matters", params={"department_id": police["id"]}).json()["items"][0]["id"]
    guide = httpx.get(f"{base}/api/v1/matters/{matter_id}").json()
    number = id_number()
    form = {}
    for field in guide["form_fields"]:
        kind = field["type"]
        form[field["name"]] = (
            number if kind == "id_number" else field["options"][0] if kind == "select" else FILL.get(kind, "现场办理")
        )
    body = {
        "matter_id": matter_id,
        "applicant_name": "孙红",
        "id_number": number,
        "form": form,
        "materials_checked": [m["id"] for m in guide["materials"] if m["required"]],
    }
    if guide["hall_ids"]:
        body["hall_id"] = guide["hall_ids"][0]
    filed = httpx.post(f"{base}/api/v1/staff/cases", headers=headers, json=body)
    assert filed.status_code == 201, filed.text
    case = filed.json()
    assert case["status"] == "accepted", case["status"]

    async def move_deadline() -> None:
        # As the backend tests move the clock: accepted ten days ago, due yesterday.
        connection = await asyncpg.connect(server["env"]["APP_DATABASE__URL"])
        try:
            now = datetime.now(UTC)
            await connection.execute(
                "UPDATE case_file SET accepted_at = $1, deadline_at = $2 WHERE id = $3",
                now - timedelta(days=10),
                now - timedelta(days=1),
                case["id"],
            )
        finally:
            await connection.close()

    # The suite's own event loop runs in this thread: the update runs on a loop of its own, in another thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, move_deadline()).result()
    return {**case, "department_name": police["name"], "department_id": police["id"]}


def _table_cells(section) -> dict[str, list[str]]:
    """A section's table as {first cell: [every cell]}."""
    rows = {}
    for row in section.locator("tbody tr").all():
        cells = [cell.inner_text().strip() for cell in row.locator("td").all()]
        if cells and cells[0]:
            rows[cells[0]] = cells
    return rows


def _percent(rate) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def test_supervisor__sees_another_departments_red_case_and_figures_that_match_the_api(server, desktop, new_staff):
    clerk = new_staff("钱进", "clerk", department="GA")
    case = _red_case(server, clerk)
    supervisor = new_staff("周监", "supervisor", department="RS")
    page = desktop
    _log_in(page, server, supervisor)
    page.get_by_role("navigation", name="主菜单").get_by_text("监督看板", exact=True).click()
    expect(page.get_by_role("heading", name="监督看板（全市各部门）")).to_be_visible()
    red = page.get_by_test_id("red-cases")
    link = red.get_by_role("link", name=case["receipt_no"])
    expect(link).to_be_visible()
    row = red.locator("tbody tr", has=page.get_by_role("link", name=case["receipt_no"]))
    expect(row).to_contain_text(case["department_name"])
    # Counts are always drawn; a ranking by satisfaction only when the period has ratings (else its table says so).
    for name in ("weekly", "departments", "halls", "no-shows"):
        section = page.get_by_test_id(name)
        expect(section.locator("table")).to_be_visible()
        chart = section.get_by_role("img")
        if name in ("weekly", "no-shows") or chart.count():
            expect(chart).to_have_attribute("aria-label", re.compile("图表.*数据见下方表格"))
            expect(chart.locator("canvas")).to_have_count(1)
        else:
            expect(section.get_by_text("本期没有可画图的数据")).to_be_visible()
    visit(page, "console-supervision-dashboard")

    # The departments table says what the public report says for the same period.
    period = {
        "from": page.get_by_role("textbox", name="开始日期", exact=True).input_value(),
        "to": page.get_by_role("textbox", name="结束日期", exact=True).input_value(),
    }
    public = httpx.get(f"{server['base']}/api/v1/stats/departments", params=period).json()["items"]
    table = _table_cells(page.get_by_test_id("departments"))
    assert len(table) == len(public)
    for figures in public:
        cells = table[figures["department_name"]]
        assert cells[1] == _percent(figures["satisfaction_rate"])
        assert cells[2:5] == [str(figures[key]) for key in ("total_ratings", "bad_ratings", "rectifications")]
        assert cells[6:8] == [str(figures["complaints"]), str(figures["cases_decided"])]
        assert cells[9] == str(figures["cases_overdue_now"])
    assert int(table[case["department_name"]][9]) >= 1  # the red case is overdue now

    # The CSV export of that table holds the same figures.
    section = page.get_by_test_id("departments")
    with page.expect_download() as download_info:
        section.get_by_role("button", name="导出 CSV").click()
    download = download_info.value
    assert download.suggested_filename == f"departments-{period['from']}-{period['to']}.csv"
    lines = list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8-sig").read())))
    assert lines[0][:2] == ["部门", "满意率"]
    by_name = {line[0]: line for line in lines[1:]}
    for figures in public:
        line = by_name[figures["department_name"]]
        assert line[6:8] == [str(figures["complaints"]), str(figures["cases_decided"])]
        assert line[9] == str(figures["cases_overdue_now"])
    expect(section.get_by_text(f"已导出 {download.suggested_filename}")).to_be_visible()

    # The halls' Excel file holds the no-shows the public hall report publishes.
    halls = {
        item["hall_name"]: item
        for item in httpx.get(f"{server['base']}/api/v1/stats/halls", params=period).json()["items"]
    }
    with page.expect_download() as download_info:
        page.get_by_test_id("no-shows").get_by_role("button", name="导出 Excel").click()
    assert download_info.value.suggested_filename == f"halls-{period['from']}-{period['to']}.xlsx"
    # Playwright keeps the file without its extension, which openpyxl reads by name: hand it the bytes.
    sheet = load_workbook(io.BytesIO(download_info.value.path().read_bytes())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "大厅" and rows[0][7] == "爽约数"
    assert {row[0]: row[7] for row in rows[1:]} == {name: item["no_shows"] for name, item in halls.items()}

    # Drill-down: the case opens at the case desk.
    link.click()
    expect(page).to_have_url(re.compile(rf"/console/cases/{case['id']}$"))
    expect(page.get_by_role("alert").filter(has_text="无权访问")).to_have_count(0)


def test_dept_admin__the_dashboard_shows_their_own_department_only(server, desktop, new_staff):
    own = _red_case(server, new_staff("冯进", "clerk", department="GA"))
    other = _red_case(server, new_staff("陈进", "clerk", department="RS"), code="RS")
    dept_admin = new_staff("卫管", "dept_admin", department="GA")
    page = desktop
    _log_in(page, server, dept_admin)
    page.get_by_role("navigation", name="主菜单").get_by_text("监督看板", exact=True).click()
    expect(page.get_by_role("heading", name="监督看板（本部门）")).to_be_visible()
    red = page.get_by_test_id("red-cases")
    expect(red.get_by_role("link", name=own["receipt_no"])).to_be_visible()
    expect(red.get_by_role("link", name=other["receipt_no"])).to_have_count(0)
    expect(red).not_to_contain_text(other["department_name"])
    departments = page.get_by_test_id("departments")
    expect(departments.locator("tbody tr")).to_have_count(1)
    assert list(_table_cells(departments)) == [own["department_name"]]
    weekly = page.get_by_test_id("weekly")
    expect(weekly.get_by_role("img")).to_have_attribute("aria-label", re.compile("图表.*数据见下方表格"))
    visit(page, "console-supervision-dashboard-dept-admin")

    # What the page loaded is all the API gives this account: another department's figures are not found.
    headers = _token(server, dept_admin)
    refused = httpx.get(
        f"{server['base']}/api/v1/staff/stats/weekly", params={"department_id": other["department_id"]}, headers=headers
    )
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "DEPARTMENT_NOT_FOUND"
    mine = httpx.get(f"{server['base']}/api/v1/staff/cases", params={"light": "red", "page_size": 100}, headers=headers)
    assert {item["id"] for item in mine.json()["items"]} >= {own["id"]}
    assert other["id"] not in {item["id"] for item in mine.json()["items"]}


def test_admin__audit_log_dead_letters_and_payments_pages(server, desktop, new_staff):
    admin = new_staff("赵管", "admin", department="")
    page = desktop
    _log_in(page, server, admin)

    page.goto(f"{server['base']}/console/admin/audit")
    expect(page.get_by_role("heading", name="审计日志")).to_be_visible()
    # Creating the accounts above was audited: the log is not empty, and a filter by object narrows it.
    expect(page.get_by_text(re.compile(r"共 [1-9]\d* 条，最新的在前"))).to_be_visible()
    page.get_by_label("对象类型").fill("staff")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("tbody tr").first).to_contain_text("staff #")
    visit(page, "console-admin-audit")

    page.goto(f"{server['base']}/console/admin/deliveries")
    expect(page.get_by_role("heading", name="消息投递（失败推送）")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^共 \d+ 条。$"))).to_be_visible()
    visit(page, "console-admin-deliveries")

    page.goto(f"{server['base']}/console/admin/payments")
    expect(page.get_by_role("heading", name="对账与退款")).to_be_visible()
    expect(page.get_by_label("对账日期")).to_be_visible()
    page.get_by_label("订单号").fill("P-NOT-THERE")
    page.get_by_label("退款金额（元）").fill("1.50")
    page.get_by_label("原因").fill("测试")
    page.get_by_role("button", name="退款", exact=True).click()
    expect(page.get_by_text(re.compile("找不到这个支付订单"))).to_be_visible()
    visit(page, "console-admin-payments")


def test_clerk__cannot_open_supervision_or_administration_pages(server, desktop, new_staff):
    clerk = new_staff("吴窗", "clerk")
    page = desktop
    _log_in(page, server, clerk)
    menu = page.get_by_role("navigation", name="主菜单")
    for path, label in (
        ("/supervision", "监督看板"),
        ("/admin/audit", "审计日志"),
        ("/admin/deliveries", "消息投递"),
        ("/admin/payments", "对账与退款"),
    ):
        expect(menu.get_by_text(label, exact=True)).to_have_count(0)
        page.goto(f"{server['base']}/console{path}")
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text(f"无权访问「{label}」")
        expect(alert).to_contain_text("需要以下角色之一")
        expect(page.locator("table")).to_have_count(0)
        expect(page.locator("canvas")).to_have_count(0)
    visit(page, "console-supervision-forbidden-clerk")
