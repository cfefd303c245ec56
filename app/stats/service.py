"""Published performance (效能监察): satisfaction, rectification, feedback, processing time and on time, online and
zero-visit matters and (halls) no-shows and queue waiting and serving times per department and hall, from DB
aggregates."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, date, datetime, time, timedelta

from openpyxl import Workbook
from tortoise.backends.base.client import BaseDBAsyncClient

from app.booking import service as booking
from app.cases import service as cases
from app.catalog import service as catalog
from app.core import workdays
from app.core.auth import Principal, limit_rate
from app.core.cache import Cache, shared_load
from app.core.errors import ValidationFailed
from app.core.replica import PRIMARY_ONLY, ReadReplica
from app.core.timeutil import CITY_TZ, as_utc, to_iso
from app.core.timeutil import now as clock_now
from app.ratings import service as ratings
from app.stats.errors import DepartmentNotFound
from app.tickets import service as tickets

MAX_PERIOD_DAYS = 366
# A report without from: the 30 days that end with its last day.
DEFAULT_PERIOD_DAYS = 30
GROUPS = {
    "departments": ("department_id", "department_name"),
    "halls": ("hall_id", "hall_name"),
    "matters": ("matter_id", "matter_name"),
}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _average(total, count: int) -> float | None:
    return round(float(total) / count, 1) if count else None


def combine(rating_figures: dict | None, ticket_figures: dict | None, case_figures: dict | None = None) -> dict:
    """One group's published figures from its rating, ticket and case counts."""
    rated_part = rating_figures or ratings.no_figures()
    counts = {**(ticket_figures or {}), **(case_figures or {})}
    by_level = rated_part["by_level"]
    rated = sum(by_level.values())
    satisfied = by_level["3"] + by_level["4"] + by_level["5"]
    defaulted = rated_part["defaulted"]
    count = lambda name: counts.get(name, 0)  # noqa: E731
    return {
        "ratings_by_level": by_level,
        "rated": rated,
        "defaulted": defaulted,
        "total_ratings": rated + defaulted,
        "satisfaction_rate": _rate(satisfied + defaulted, rated + defaulted),
        "satisfaction_rate_rated": _rate(satisfied, rated),
        "bad_ratings": by_level["1"] + by_level["2"],
        "voided_ratings": rated_part["voided"],
        "rectifications": count("rectifications"),
        "callback_due": count("callback_due"),
        "callback_on_time": count("callback_on_time"),
        "callback_on_time_rate": _rate(count("callback_on_time"), count("callback_due")),
        "fix_due": count("fix_due"),
        "fix_on_time": count("fix_on_time"),
        "fix_on_time_rate": _rate(count("fix_on_time"), count("fix_due")),
        "feedback": count("feedback"),
        "complaints": count("complaints"),
        "answered": count("answered"),
        "reopened": count("reopened"),
        "reopen_rate": _rate(count("reopened"), count("answered")),
        "escalated": count("escalated"),
        "cases_decided": count("cases_decided"),
        "cases_on_time": count("cases_on_time"),
        "cases_on_time_rate": _rate(count("cases_on_time"), count("cases_decided")),
        "cases_average_days": _average(count("cases_days_total"), count("cases_decided")),
        "cases_overdue_now": count("cases_overdue_now"),
    }


def matter_shares(counts: dict | None) -> dict:
    """A department's or hall's matters now, and the shares that can be applied for online or need no visit."""
    counts = counts or {}
    matters, online, zero = counts.get("matters", 0), counts.get("online_capable", 0), counts.get("zero_visit", 0)
    return {
        "matters": matters,
        "online_capable": online,
        "online_capable_share": _rate(online, matters),
        "zero_visit": zero,
        "zero_visit_share": _rate(zero, matters),
    }


def appointment_figures(counts: dict | None) -> dict:
    """A hall's appointment figures: served or missed in the period, and the share missed."""
    counts = counts or {}
    due, missed = counts.get("appointments_due", 0), counts.get("no_shows", 0)
    return {"appointments_due": due, "no_shows": missed, "no_show_rate": _rate(missed, due)}


def period_of(date_from: str | None, date_to: str | None, *, today: date) -> tuple[date, date]:
    """The report's first and last day: the last DEFAULT_PERIOD_DAYS days unless given; 422 for a backwards or too
    long one."""
    try:
        last = date.fromisoformat(date_to) if date_to else today
        # Not "this month so far", which on the 1st is one day of figures.
        first = date.fromisoformat(date_from) if date_from else last - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    except ValueError:
        raise ValidationFailed(details={"fields": [{"field": "from", "message": "日期无效"}]}) from None
    if first > last:
        raise ValidationFailed(details={"fields": [{"field": "from", "message": "开始日期晚于结束日期"}]})
    if (last - first).days >= MAX_PERIOD_DAYS:
        raise ValidationFailed(details={"fields": [{"field": "to", "message": f"统计区间最长 {MAX_PERIOD_DAYS} 天"}]})
    return first, last


async def report(
    group: str,
    *,
    date_from: str | None,
    date_to: str | None,
    only_id: int | None,
    cache: Cache,
    cache_seconds: int,
    catalog_ttl: int,
    department_id: int | None = None,
    reads: ReadReplica = PRIMARY_ONLY,
    caller: str | None = None,
    computed_per_minute: int = 0,
    now: datetime | None = None,
) -> dict:
    """The public report of one grouping (departments, halls, or one department's matters) for a period, cached
    briefly; only_id narrows it to one department, hall or matter. Its counts are read where reads says (the read
    replica, or the primary when there is none or it cannot answer)."""
    at = now or clock_now()
    first, last = period_of(date_from, date_to, today=workdays.local_date(at))
    if group == "matters" and only_id is None and department_id is None:
        raise ValidationFailed(details={"fields": [{"field": "department_id", "message": "请指定部门或事项"}]})
    scope = {"only_id": only_id, "department_id": department_id if group == "matters" else None, "reads": reads}
    if not cache_seconds or now is not None:
        return await _compute(group, first, last, **scope, cache=cache, catalog_ttl=catalog_ttl, at=at)
    cache_key = f"stats:{group}:{first}:{last}:{only_id or ''}:{department_id if group == 'matters' else ''}"
    cached = await cache.get(cache_key)
    if cached is not None:
        return json.loads(cached)
    if caller and computed_per_minute:
        # A question not in the cache costs the database a scan of its period; a caller asking a stream of different
        # ones is slowed down, while the cached answers stay free for everyone.
        await limit_rate(cache, f"stats:{caller}", computed_per_minute)

    async def compute_and_keep() -> dict:
        result = await _compute(group, first, last, **scope, cache=cache, catalog_ttl=catalog_ttl, at=at)
        await cache.set(cache_key, json.dumps(result, ensure_ascii=False), cache_seconds)
        return result

    return await shared_load(_loads, cache_key, compute_and_keep)


_loads: dict[str, asyncio.Future] = {}


async def _nothing() -> dict:
    return {}


async def _places(
    group: str, only_id: int | None, department_id: int | None, *, cache: Cache, catalog_ttl: int
) -> list[dict]:
    if group == "matters":
        return await catalog.matters_of(department_id=department_id, matter_id=only_id)
    listed = await (catalog.list_departments if group == "departments" else catalog.list_halls)(
        cache=cache, ttl=catalog_ttl
    )
    return [place for place in listed if only_id is None or place["id"] == only_id]


async def _compute(
    group: str,
    first: date,
    last: date,
    *,
    only_id: int | None,
    department_id: int | None,
    reads: ReadReplica,
    cache: Cache,
    catalog_ttl: int,
    at: datetime,
) -> dict:
    key_name, label = GROUPS[group]
    # The places from the catalog on the primary (departments and halls are its cached lists, shared with every
    # other reader, which a lagging replica must not fill); their counts below from where reads says.
    places = await _places(group, only_id, department_id, cache=cache, catalog_ttl=catalog_ttl)
    # A department's matters are counted by their own ids, not over every matter of the city.
    only = [place["id"] for place in places] if group == "matters" else only_id
    # The city's days, as UTC instants: SQLite compares stored UTC text, so a bound in +08:00 would shift the
    # period by eight hours there.
    start = datetime.combine(first, time(0), tzinfo=CITY_TZ).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=CITY_TZ).astimezone(UTC)
    by_rating, by_ticket, by_case, by_matter, by_appointment, by_queue = {}, {}, {}, {}, {}, {}

    async def counts(connection: BaseDBAsyncClient | None) -> tuple[dict, ...]:
        # Independent scans: on PostgreSQL each takes its own pooled connection and they run side by side.
        return await asyncio.gather(
            ratings.figures(key=key_name, start=start, end=end, only=only, connection=connection),
            tickets.figures(key=key_name, start=start, end=end, only=only, now=at, connection=connection),
            cases.figures(key=key_name, start=start, end=end, only=only, now=as_utc(at), connection=connection),
            catalog.figures(key=key_name, only=only, connection=connection) if group != "matters" else _nothing(),
            booking.figures(start=start, end=end, only=only, connection=connection) if group == "halls" else _nothing(),
            booking.queue_figures(start=start, end=end, only=only, connection=connection)
            if group == "halls"
            else _nothing(),
        )

    if places:
        by_rating, by_ticket, by_case, by_matter, by_appointment, by_queue = await reads.run(f"stats {group}", counts)
    items = []
    for place in places:
        item = {
            key_name: place["id"],
            label: place["name"],
            **combine(by_rating.get(place["id"]), by_ticket.get(place["id"]), by_case.get(place["id"])),
        }
        if group == "matters":
            item["department_id"] = place["department_id"]
        else:
            item.update(matter_shares(by_matter.get(place["id"])))
        if group == "halls":
            item.update(appointment_figures(by_appointment.get(place["id"])))
            item.update(booking.queue_times(by_queue.get(place["id"])))
        items.append(item)
    return {"from": first.isoformat(), "to": last.isoformat(), "generated_at": to_iso(at), "items": items}


# ---- the supervisors' dashboard: weekly series and exports ----

SUPERVISION_ROLES = ("supervisor", "dept_admin", "admin")


def department_scope(staff: Principal, department_id: int | None) -> int | None:
    """The department a staff member's figures cover: any or all for supervisors and admins, only their own for a
    department administrator (another department's answers 404, as the house does for what is not yours)."""
    if staff.sees_all_departments:
        return department_id
    if department_id is not None and department_id != staff.department_id:
        raise DepartmentNotFound()
    return staff.department_id


def week_of(day: date) -> date:
    """The Monday of the day's week."""
    return day - timedelta(days=day.weekday())


async def weekly(
    staff: Principal,
    *,
    date_from: str | None,
    date_to: str | None,
    department_id: int | None,
    reads: ReadReplica = PRIMARY_ONLY,
    now: datetime | None = None,
) -> dict:
    """Cases accepted, decided, decided on time and decided late per week (Monday to Sunday, the city's days) of the
    period, for the departments the staff member covers (read where reads says, as the public report)."""
    at = now or clock_now()
    scope = department_scope(staff, department_id)
    first, last = period_of(date_from, date_to, today=workdays.local_date(at))
    start = datetime.combine(first, time(0), tzinfo=CITY_TZ).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=CITY_TZ).astimezone(UTC)
    weeks: dict[date, dict] = {}
    monday = week_of(first)
    while monday <= last:
        weeks[monday] = {"week_start": monday.isoformat(), "accepted": 0, "decided": 0, "on_time": 0, "overdue": 0}
        monday += timedelta(days=7)

    def inside(moment: datetime | None) -> bool:
        return moment is not None and start <= as_utc(moment) < end

    async def moments(connection: BaseDBAsyncClient | None) -> list[dict]:
        return await cases.accepted_and_decided(start=start, end=end, department_id=scope, connection=connection)

    for row in await reads.run("stats weekly", moments):
        if inside(row["accepted_at"]):
            weeks[week_of(workdays.local_date(row["accepted_at"]))]["accepted"] += 1
        if inside(row["decided_at"]):
            week = weeks[week_of(workdays.local_date(row["decided_at"]))]
            week["decided"] += 1
            on_time = row["deadline_at"] is not None and as_utc(row["decided_at"]) <= as_utc(row["deadline_at"])
            week["on_time" if on_time else "overdue"] += 1
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "department_id": scope,
        "generated_at": to_iso(at),
        "weeks": list(weeks.values()),
    }


# What each export holds, column by column: the key in the report's rows and its Chinese heading. The console's
# tables name the same columns (console/src/supervision/figures.ts).
EXPORT_COLUMNS = {
    "departments": [
        ("department_name", "部门"),
        ("satisfaction_rate", "满意率"),
        ("total_ratings", "评价数"),
        ("bad_ratings", "差评数"),
        ("rectifications", "整改数"),
        ("fix_on_time_rate", "整改按时率"),
        ("complaints", "投诉数"),
        ("cases_decided", "办结数"),
        ("cases_on_time_rate", "按时办结率"),
        ("cases_overdue_now", "当前超期"),
    ],
    "halls": [
        ("hall_name", "大厅"),
        ("satisfaction_rate", "满意率"),
        ("total_ratings", "评价数"),
        ("bad_ratings", "差评数"),
        ("rectifications", "整改数"),
        ("complaints", "投诉数"),
        ("appointments_due", "到期预约"),
        ("no_shows", "爽约数"),
        ("no_show_rate", "爽约率"),
    ],
    "weekly": [
        ("week_start", "周（周一）"),
        ("accepted", "受理"),
        ("decided", "办结"),
        ("on_time", "按时办结"),
        ("overdue", "超期办结"),
    ],
}


async def export_rows(
    staff: Principal,
    report_name: str,
    *,
    date_from: str | None,
    date_to: str | None,
    department_id: int | None,
    cache: Cache,
    cache_seconds: int,
    catalog_ttl: int,
    reads: ReadReplica = PRIMARY_ONLY,
) -> tuple[dict, list[dict]]:
    """The report an export writes ({from, to}) and its rows: the same figures as GET /api/v1/stats/... and the
    weekly series (a department administrator's departments report holds their own department only)."""
    if report_name == "weekly":
        found = await weekly(staff, date_from=date_from, date_to=date_to, department_id=department_id, reads=reads)
        return found, found["weeks"]
    only_id = department_scope(staff, department_id) if report_name == "departments" else None
    found = await report(
        report_name,
        date_from=date_from,
        date_to=date_to,
        only_id=only_id,
        cache=cache,
        cache_seconds=cache_seconds,
        catalog_ttl=catalog_ttl,
        reads=reads,
    )
    return found, found["items"]


def export_file(report_name: str, found: dict, rows: list[dict], file_format: str) -> tuple[bytes, str, str]:
    """(content, content type, file name) of a report as CSV (UTF-8 with BOM, so Excel reads the Chinese) or XLSX."""
    columns = EXPORT_COLUMNS[report_name]
    table = [[heading for _, heading in columns]] + [[row.get(key) for key, _ in columns] for row in rows]
    name = f"{report_name}-{found['from']}-{found['to']}"
    if file_format == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        for line in table:
            writer.writerow(["" if value is None else value for value in line])
        return ("\ufeff" + out.getvalue()).encode("utf-8"), "text/csv; charset=utf-8", f"{name}.csv"
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = report_name
    for line in table:
        sheet.append(line)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue(), XLSX_TYPE, f"{name}.xlsx"


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
