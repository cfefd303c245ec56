"""Times: stored in UTC, shown in the city's zone with its offset."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

CITY_TZ = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(timezone.utc)


def to_iso(moment: datetime | None) -> str | None:
    """ISO 8601 in the city's zone, e.g. 2026-11-23T09:30:00+08:00."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(CITY_TZ).isoformat(timespec="seconds")


def as_utc(moment: datetime | None = None) -> datetime:
    """The moment (now when None) in UTC, the zone every stored time and query bound is in."""
    return (moment or now()).astimezone(timezone.utc)
