"""A hall's opening hours: structured periods, read from the display text when a hall has none, and the moments
they open and close on the city's working days (holidays closed, make-up working days 调休 open as a weekday)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import chinese_calendar

from app.core import workdays
from app.core.timeutil import CITY_TZ

# When a hall's text says nothing we can read: the usual hours of a government service hall.
DEFAULT_PERIODS = [{"weekdays": [1, 2, 3, 4, 5], "start": "09:00", "end": "17:00"}]
LOOK_AHEAD_DAYS = 31

_WEEKDAY = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7}
_DAYS = re.compile(r"(?:周|星期)([一二三四五六日天])(?:\s*[至到~\-－—]\s*(?:周|星期)?([一二三四五六日天]))?|(工作日)")
_RANGE = re.compile(r"([01]?\d|2[0-3])[:：]([0-5]\d)\s*[-－—~至到]\s*([01]?\d|2[0-3])[:：]([0-5]\d)")


def parse_text(text: str) -> list[dict]:
    """Periods from wording such as "周一至周五 09:00-12:00, 13:30-17:30；周六 09:00-12:00"; [] when unreadable."""
    periods: list[dict] = []
    for part in re.split(r"[；;\n]", text or ""):
        days_found = _DAYS.search(part)
        ranges = _RANGE.findall(part)
        if not days_found or not ranges:
            continue
        if days_found.group(3):
            weekdays = [1, 2, 3, 4, 5]
        else:
            first = _WEEKDAY[days_found.group(1)]
            last = _WEEKDAY[days_found.group(2)] if days_found.group(2) else first
            weekdays = list(range(first, last + 1)) if first <= last else [first]
        for h1, m1, h2, m2 in ranges:
            start, end = f"{int(h1):02d}:{m1}", f"{int(h2):02d}:{m2}"
            if start < end:
                periods.append({"weekdays": weekdays, "start": start, "end": end})
    return periods


def effective_periods(periods: list[dict] | None, text: str) -> list[dict]:
    """The hall's own periods, else those its text states, else Monday to Friday 09:00-17:00."""
    return periods or parse_text(text) or [dict(p) for p in DEFAULT_PERIODS]


def _ranges_on(periods: list[dict], day: date) -> list[tuple[datetime, datetime]]:
    weekday = day.isoweekday()
    if workdays.is_workday(day):
        if weekday > 5:
            # A make-up working day (调休) keeps a weekday's hours: the first weekday the hall opens on.
            weekday = next((d for d in range(1, 6) if any(d in p["weekdays"] for p in periods)), weekday)
    elif weekday <= 5 or _in_a_public_holiday(day):
        return []  # a public holiday (a weekend inside one too) or a day the admin calendar closed
    found = []
    for period in periods:
        if weekday in period["weekdays"]:
            start = datetime.combine(day, time.fromisoformat(period["start"]), tzinfo=CITY_TZ)
            end = datetime.combine(day, time.fromisoformat(period["end"]), tzinfo=CITY_TZ)
            found.append((start, end))
    return sorted(found)


def _in_a_public_holiday(day: date) -> bool:
    try:
        return chinese_calendar.get_holiday_detail(day)[1] is not None
    except NotImplementedError:
        return False  # a year chinesecalendar does not know: an ordinary weekend


def is_open(periods: list[dict], at: datetime) -> bool:
    """Whether the hall is open at this moment."""
    local = at.astimezone(CITY_TZ)
    return any(start <= local < end for start, end in _ranges_on(periods, local.date()))


def next_opening(periods: list[dict], at: datetime) -> datetime | None:
    """The next moment after `at` the hall opens, within a month; None when it does not."""
    local = at.astimezone(CITY_TZ)
    for offset in range(LOOK_AHEAD_DAYS + 1):
        for start, _ in _ranges_on(periods, local.date() + timedelta(days=offset)):
            if start > local:
                return start
    return None
