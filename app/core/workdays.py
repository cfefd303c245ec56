"""Working-day arithmetic, the one place for it: bookable days, case deadlines, ticket deadlines.

A day is a working day when the admin calendar says so; otherwise when `chinesecalendar` says so (public holidays
closed, make-up working days 调休 open); for years it has no data for, Monday to Friday, with one warning per year.
The admin calendar (WorkCalendarDay in core/models.py, edited through core/calendar.py) is held in memory per
process: the editing process reloads at once, others within OVERRIDES_MAX_AGE_SECONDS. generation() changes whenever
the calendar held here does, so what was drawn from the old one (booking's slots) can be drawn again.
"""

from __future__ import annotations

import logging
import time as monotonic_clock
from datetime import date, datetime, time, timedelta

import chinese_calendar

from app.core.models import WorkCalendarDay
from app.core.timeutil import CITY_TZ

log = logging.getLogger("app.workdays")

OVERRIDES_MAX_AGE_SECONDS = 60.0

_overrides: dict[date, bool] = {}
_notes: dict[date, str] = {}
_loaded_at: float | None = None
_generation = 0
_warned_years: set[int] = set()


def set_overrides(overrides: dict[date, bool], notes: dict[date, str] | None = None) -> None:
    """Replace the admin calendar held in memory (date -> is a working day)."""
    global _overrides, _notes, _loaded_at, _generation
    if dict(overrides) != _overrides:
        _generation += 1
    _overrides = dict(overrides)
    _notes = dict(notes or {})
    _loaded_at = monotonic_clock.monotonic()


def generation() -> int:
    """A number that changes whenever the working days held in this process change."""
    return _generation


async def load_overrides() -> None:
    """Read the admin calendar from the database into this process."""
    rows = await WorkCalendarDay.all().values("day", "is_workday", "note")
    set_overrides({row["day"]: row["is_workday"] for row in rows}, {row["day"]: row["note"] for row in rows})


async def ensure_overrides_fresh() -> None:
    """Reload the admin calendar when this process's copy is missing or older than a minute."""
    if _loaded_at is None or monotonic_clock.monotonic() - _loaded_at > OVERRIDES_MAX_AGE_SECONDS:
        await load_overrides()


def is_workday(day: date) -> bool:
    """Whether the service halls open on this day."""
    override = _overrides.get(day)
    if override is not None:
        return override
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        # chinesecalendar only knows the years the State Council has published; beyond them guess Mon-Fri.
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            log.warning("no holiday data for %s: assuming Monday-Friday until the admin calendar covers it", day.year)
        return day.weekday() < 5


def describe(day: date) -> dict:
    """Whether a date is a working day and who says so: admin, chinesecalendar or fallback (Monday-Friday)."""
    if day in _overrides:
        return {"is_workday": _overrides[day], "source": "admin", "note": _notes.get(day, "")}
    try:
        chinese_calendar.is_workday(day)
        source = "chinesecalendar"
    except NotImplementedError:
        source = "fallback"
    return {"is_workday": is_workday(day), "source": source, "note": ""}


def add_workdays(start: date, n: int) -> date:
    """The n-th working day after start (n=0: start itself); negative n counts backwards."""
    day = start
    step = timedelta(days=1 if n >= 0 else -1)
    remaining = abs(n)
    while remaining:
        day += step
        if is_workday(day):
            remaining -= 1
    return day


def workdays_between(first: date, last: date) -> int:
    """How many working days d satisfy first < d <= last (0 when last is not after first)."""
    count = 0
    day = first
    while day < last:
        day += timedelta(days=1)
        if is_workday(day):
            count += 1
    return count


def deadline_after(start: datetime, working_days: int) -> datetime:
    """The end (23:59:59 local) of the given number of working days counted from the day after start."""
    local_day = start.astimezone(CITY_TZ).date()
    return datetime.combine(add_workdays(local_day, working_days), time(23, 59, 59), tzinfo=CITY_TZ)


def local_date(moment: datetime) -> date:
    """The calendar date in the city at this moment."""
    return moment.astimezone(CITY_TZ).date()
