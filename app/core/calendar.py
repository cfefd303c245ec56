"""The admin working-day calendar: an admin's word on a date (holiday or make-up working day) over chinesecalendar."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
from tortoise.transactions import in_transaction

from app.audit import service as audit
from app.core import workdays
from app.core.auth import Principal
from app.core.models import WorkCalendarDay

# chinesecalendar names a holiday in English ("National Day"); its Holiday enum carries the Chinese name.
_HOLIDAY_NAMES = {holiday.value: holiday.chinese for holiday in chinese_calendar.Holiday}


def _calendar_view(day: date) -> dict:
    row = workdays.describe(day)
    return {"date": day.isoformat(), "is_workday": row["is_workday"], "note": row["note"], "source": row["source"]}


async def calendar_day(day: date) -> dict:
    """Whether a date is a working day, and who says so."""
    await workdays.ensure_overrides_fresh()
    return _calendar_view(day)


async def set_calendar_day(day: date, *, is_workday: bool, note: str, actor: Principal) -> dict:
    """An admin marks a date as a working day or a holiday (overriding chinesecalendar)."""
    async with in_transaction() as connection:
        existing = await WorkCalendarDay.get_or_none(day=day).using_db(connection)
        before = None if existing is None else {"is_workday": existing.is_workday, "note": existing.note}
        if existing is None:
            await WorkCalendarDay.create(
                day=day, is_workday=is_workday, note=note, updated_by=actor.actor, using_db=connection
            )
        else:
            await (
                WorkCalendarDay.filter(id=existing.id)
                .using_db(connection)
                .update(is_workday=is_workday, note=note, updated_by=actor.actor)
            )
        await audit.record(
            actor=actor.actor,
            staff_id=actor.id if actor.is_staff else None,
            action="calendar.set",
            object_type="calendar_day",
            object_id=day.isoformat(),
            before=before,
            after={"is_workday": is_workday, "note": note},
            connection=connection,
        )
    # Reloading changes workdays.generation(): slots drawn from the old calendar are drawn again by the slots job.
    await workdays.load_overrides()
    return _calendar_view(day)


async def delete_calendar_day(day: date, *, actor: Principal) -> dict:
    """Remove an admin's word on a date: chinesecalendar (or Monday-Friday) decides again."""
    deleted = await WorkCalendarDay.filter(day=day).delete()
    if deleted:
        await audit.record(
            actor=actor.actor,
            staff_id=actor.id if actor.is_staff else None,
            action="calendar.delete",
            object_type="calendar_day",
            object_id=day.isoformat(),
        )
    await workdays.load_overrides()
    return _calendar_view(day)


async def list_calendar(year: int) -> list[dict]:
    """The admin's overrides in a year."""
    rows = await WorkCalendarDay.filter(day__gte=date(year, 1, 1), day__lte=date(year, 12, 31)).order_by("day")
    return [{"date": r.day.isoformat(), "is_workday": r.is_workday, "note": r.note, "source": "admin"} for r in rows]


def statutory_days(year: int) -> list[dict]:
    """The year's statutory holidays and 调休 make-up working days as chinesecalendar publishes them (a holiday's
    weekend days included), by date; [] for a year it has no data for. The admin's overrides are not in it."""
    found = []
    day = date(year, 1, 1)
    while day.year == year:
        try:
            on_holiday, holiday = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            return []
        if holiday is not None:
            # A holiday's rest days (its weekend days included), or a weekend day worked for it: 调休上班.
            kind = "holiday" if on_holiday else "makeup" if day.weekday() >= 5 else None
            if kind:
                found.append(
                    {
                        "date": day.isoformat(),
                        "is_workday": kind == "makeup",
                        "kind": kind,
                        "name": _HOLIDAY_NAMES.get(holiday, holiday),
                    }
                )
        day += timedelta(days=1)
    return found
