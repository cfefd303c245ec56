"""The working-day calendar through HTTP: anyone asks about a date, admins keep the overrides."""

from tests import factories
from tests.core.test_errors import assert_error_shape


async def test_admin_calendar_overrides_and_covers_years_without_data(client, admin_headers):
    day = "2027-03-06"  # a Saturday in a year chinesecalendar does not know
    before = (await client.get(f"/api/v1/calendar/{day}")).json()
    assert (before["is_workday"], before["source"]) == (False, "fallback")
    assert (await client.get("/api/v1/calendar/2026-10-01")).json()["is_workday"] is False
    assert (await client.get("/api/v1/calendar/2026-10-10")).json()["is_workday"] is True
    changed = await client.put(
        f"/api/v1/admin/calendar/{day}", json={"is_workday": True, "note": "调休上班"}, headers=admin_headers
    )
    assert changed.status_code == 200, changed.text
    assert (await client.get(f"/api/v1/calendar/{day}")).json() == {
        "date": day,
        "is_workday": True,
        "note": "调休上班",
        "source": "admin",
    }
    listed = (await client.get("/api/v1/admin/calendar", params={"year": 2027}, headers=admin_headers)).json()
    assert {"date": day, "is_workday": True, "note": "调休上班", "source": "admin"} in listed
    removed = await client.delete(f"/api/v1/admin/calendar/{day}", headers=admin_headers)
    assert removed.status_code == 200
    assert removed.json() == {"date": day, "is_workday": False, "note": "", "source": "fallback"}


async def test_calendar_editing_is_for_admins_and_needs_a_date(client, admin_headers, cache):
    clerk = await factories.staff(client, "dept_admin", department_id=(await factories.department(cache))["id"])
    assert_error_shape(
        await client.put("/api/v1/admin/calendar/2027-01-04", json={"is_workday": False}, headers=clerk["headers"]),
        403,
        "FORBIDDEN",
    )
    assert_error_shape(
        await client.put("/api/v1/admin/calendar/2027-02-30", json={"is_workday": False}, headers=admin_headers),
        422,
        "VALIDATION_FAILED",
    )
    assert_error_shape(await client.get("/api/v1/calendar/tomorrow"), 422, "VALIDATION_FAILED")


async def test_statutory_days_name_the_holidays_and_make_up_days_of_a_year(client, admin_headers, cache):
    days = await client.get("/api/v1/admin/calendar/statutory", params={"year": 2026}, headers=admin_headers)
    assert days.status_code == 200, days.text
    by_date = {day["date"]: day for day in days.json()}
    assert by_date["2026-10-01"] == {"date": "2026-10-01", "is_workday": False, "kind": "holiday", "name": "国庆节"}
    # 调休: a Saturday worked for the National Day week.
    assert by_date["2026-10-10"] == {"date": "2026-10-10", "is_workday": True, "kind": "makeup", "name": "国庆节"}
    assert "2026-10-12" not in by_date  # an ordinary Monday
    assert all(day["is_workday"] == (day["kind"] == "makeup") for day in days.json())
    # A year the package has no data for: nothing, not a guess.
    none = await client.get("/api/v1/admin/calendar/statutory", params={"year": 2099}, headers=admin_headers)
    assert none.json() == []
    dept_admin = await factories.staff(client, "dept_admin", department_id=(await factories.department(cache))["id"])
    assert_error_shape(
        await client.get("/api/v1/admin/calendar/statutory", params={"year": 2026}, headers=dept_admin["headers"]),
        403,
        "FORBIDDEN",
    )
    assert_error_shape(
        await client.get("/api/v1/admin/calendar/statutory", params={"year": 1900}, headers=admin_headers),
        422,
        "VALIDATION_FAILED",
    )
