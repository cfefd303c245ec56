"""The supervisors' dashboard figures through HTTP: the weekly series counted by hand, exports that say what the
public report says, and who may ask (supervisors for all, a department administrator for their own)."""

import csv
import io
from datetime import timedelta

from openpyxl import load_workbook

from app.core.timeutil import now as clock_now
from app.core.workdays import local_date
from tests import factories as f
from tests.core.test_errors import assert_error_shape


async def _accepted(client, setup: dict) -> dict:
    return await f.moved(client, await f.submitted_case(client, setup), setup["clerk"], "accept")


async def _decided(client, setup: dict, case: dict) -> dict:
    case = await f.moved(client, case, setup["approver"], "start_review")
    return await f.moved(client, case, setup["approver"], "approve")


def _monday(day):
    return day - timedelta(days=day.weekday())


async def _late_and_on_time(client, cache, clock) -> tuple[dict, object, object]:
    """A department with one case accepted 30 days ago and decided now (late), and one accepted and decided now."""
    setup = await f.case_setup(client, cache)
    now = clock_now()
    clock.set(now - timedelta(days=30))
    late = await _accepted(client, setup)
    clock.resume()
    await _decided(client, setup, late)
    await _decided(client, setup, await _accepted(client, setup))
    today = local_date(now)
    return setup, today - timedelta(days=30), today


async def test_the_weekly_series_counts_accepted_decided_on_time_and_late_by_week(client, cache, clock):
    setup, first, last = await _late_and_on_time(client, cache, clock)
    supervisor = await f.shared_staff(client, "supervisor")
    response = await client.get(
        "/api/v1/staff/stats/weekly",
        headers=supervisor["headers"],
        params={"from": first.isoformat(), "to": last.isoformat(), "department_id": setup["department"]["id"]},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    weeks = {week["week_start"]: week for week in body["weeks"]}
    # Every week of the period is there, Monday by Monday, even those with nothing.
    assert list(weeks) == sorted(weeks) and len(weeks) >= 5
    assert weeks[_monday(first).isoformat()]["accepted"] == 1
    this_week = weeks[_monday(last).isoformat()]
    assert (this_week["accepted"], this_week["decided"], this_week["on_time"], this_week["overdue"]) == (1, 2, 1, 1)
    assert sum(week["decided"] for week in body["weeks"]) == 2


async def test_a_department_administrator_sees_their_own_department_only(client, cache, clock):
    setup, first, last = await _late_and_on_time(client, cache, clock)
    own = await f.staff(client, "dept_admin", department_id=setup["department"]["id"])
    period = {"from": first.isoformat(), "to": last.isoformat()}
    mine = await client.get("/api/v1/staff/stats/weekly", headers=own["headers"], params=period)
    assert mine.status_code == 200 and mine.json()["department_id"] == setup["department"]["id"]
    assert sum(week["decided"] for week in mine.json()["weeks"]) == 2
    other = await f.department(cache)
    theirs = await client.get(
        "/api/v1/staff/stats/weekly", headers=own["headers"], params={**period, "department_id": other["id"]}
    )
    assert_error_shape(theirs, 404, "DEPARTMENT_NOT_FOUND")
    exported = await client.get(
        "/api/v1/staff/stats/export", headers=own["headers"], params={**period, "report": "departments"}
    )
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == [setup["department"]["name"]]


async def test_clerks_and_approvers_are_forbidden_and_a_login_is_needed(client, cache):
    setup = await f.case_setup(client, cache)
    for path in ("/api/v1/staff/stats/weekly", "/api/v1/staff/stats/export?report=halls"):
        assert_error_shape(await client.get(path, headers=setup["clerk"]["headers"]), 403, "FORBIDDEN")
        assert_error_shape(await client.get(path, headers=setup["approver"]["headers"]), 403, "FORBIDDEN")
        assert (await client.get(path)).status_code == 401


async def test_exports_hold_the_figures_of_the_public_report(client, cache, clock):
    setup, first, last = await _late_and_on_time(client, cache, clock)
    supervisor = await f.shared_staff(client, "supervisor")
    period = {"from": first.isoformat(), "to": last.isoformat(), "department_id": setup["department"]["id"]}
    public = (await client.get("/api/v1/stats/departments", params=period)).json()["items"][0]

    as_csv = await client.get(
        "/api/v1/staff/stats/export", headers=supervisor["headers"], params={**period, "report": "departments"}
    )
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    heading, row = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    by_heading = dict(zip(heading, row, strict=True))
    assert by_heading["部门"] == setup["department"]["name"]
    assert int(by_heading["办结数"]) == public["cases_decided"] == 2
    assert float(by_heading["按时办结率"]) == public["cases_on_time_rate"] == 0.5

    as_xlsx = await client.get(
        "/api/v1/staff/stats/export",
        headers=supervisor["headers"],
        params={**period, "report": "weekly", "format": "xlsx"},
    )
    assert as_xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    lines = list(sheet.iter_rows(values_only=True))
    assert lines[0] == ("周（周一）", "受理", "办结", "按时办结", "超期办结")
    assert sum(line[2] for line in lines[1:]) == 2 and sum(line[4] for line in lines[1:]) == 1


async def test_a_bad_export_question_is_422(client):
    supervisor = await f.shared_staff(client, "supervisor")
    for params in ({"report": "people"}, {"report": "halls", "format": "pdf"}, {}, {"report": "halls", "from": "x"}):
        response = await client.get("/api/v1/staff/stats/export", headers=supervisor["headers"], params=params)
        assert_error_shape(response, 422, "VALIDATION_FAILED")
