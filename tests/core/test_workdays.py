"""Working days: Chinese public holidays, make-up working days, the admin calendar and the Monday-Friday fallback."""

import logging
from datetime import date, datetime

import pytest

from app.core import workdays
from app.core.timeutil import CITY_TZ


@pytest.fixture(autouse=True)
def no_admin_calendar():
    saved = (dict(workdays._overrides), dict(workdays._notes))
    workdays.set_overrides({})
    yield
    workdays.set_overrides(*saved)


def test_national_day_is_closed_and_the_make_up_saturday_is_open():
    assert workdays.is_workday(date(2026, 10, 1)) is False
    assert workdays.is_workday(date(2026, 10, 7)) is False
    assert workdays.is_workday(date(2026, 10, 10)) is True  # Saturday, 调休
    assert workdays.is_workday(date(2026, 10, 11)) is False
    assert workdays.is_workday(date(2026, 9, 25)) is False  # Mid-Autumn Festival, a Friday


def test_adding_working_days_skips_holidays_and_counts_make_up_days():
    assert workdays.add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert workdays.add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert workdays.add_workdays(date(2026, 10, 8), -1) == date(2026, 9, 30)
    assert workdays.add_workdays(date(2026, 10, 3), 0) == date(2026, 10, 3)
    assert workdays.workdays_between(date(2026, 9, 30), date(2026, 10, 12)) == 4
    assert workdays.workdays_between(date(2026, 10, 12), date(2026, 9, 30)) == 0


def test_deadline_is_the_end_of_the_last_working_day_in_the_city():
    start = datetime(2026, 9, 30, 15, 0, tzinfo=CITY_TZ)
    assert workdays.deadline_after(start, 2) == datetime(2026, 10, 9, 23, 59, 59, tzinfo=CITY_TZ)


def test_years_without_holiday_data_fall_back_to_monday_to_friday_with_one_warning(caplog):
    workdays._warned_years.discard(2027)
    with caplog.at_level(logging.WARNING, logger="app.workdays"):
        assert workdays.is_workday(date(2027, 1, 1)) is True  # a Friday; the law is not known here yet
        assert workdays.is_workday(date(2027, 1, 2)) is False
        assert workdays.add_workdays(date(2027, 1, 1), 1) == date(2027, 1, 4)
    warnings = [r for r in caplog.records if "2027" in r.getMessage()]
    assert len(warnings) == 1
    assert workdays.describe(date(2027, 1, 4))["source"] == "fallback"


def test_the_admin_calendar_overrides_chinesecalendar_and_covers_later_years():
    workdays.set_overrides({date(2027, 1, 1): False, date(2026, 10, 10): False, date(2026, 10, 11): True})
    assert workdays.is_workday(date(2027, 1, 1)) is False
    assert workdays.is_workday(date(2026, 10, 10)) is False
    assert workdays.is_workday(date(2026, 10, 11)) is True
    assert workdays.describe(date(2027, 1, 1)) == {"is_workday": False, "source": "admin", "note": ""}
    assert workdays.add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 4)
