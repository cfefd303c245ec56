"""Times: stored in UTC, shown in the city's zone with its offset; one clock that tests can stop and move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

CITY_TZ = ZoneInfo("Asia/Shanghai")


class Clock:
    """The time the services read through now(): the real time, unless a test has set it."""

    def __init__(self) -> None:
        self._set_to: datetime | None = None

    def now(self) -> datetime:
        return self._set_to if self._set_to is not None else datetime.now(UTC)

    def set(self, moment: datetime) -> None:
        """Stand still at this (timezone-aware) moment until advanced, set again or resumed."""
        if moment.tzinfo is None:
            raise ValueError("the clock is set to a timezone-aware moment")
        self._set_to = moment.astimezone(UTC)

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        """Move a stopped clock forward (advance(timedelta(hours=2)) or advance(hours=2)); the new time."""
        self.set(self.now() + (delta or timedelta()) + timedelta(**parts))
        return self.now()

    def resume(self) -> None:
        """Follow the real time again."""
        self._set_to = None

    @property
    def is_set(self) -> bool:
        return self._set_to is not None


# Tortoise's auto_now fields, token expiry and cache TTLs follow the real time, not this clock.
clock = Clock()


def now() -> datetime:
    """The current time by the clock, timezone-aware (UTC)."""
    return clock.now()


def to_iso(moment: datetime | None) -> str | None:
    """ISO 8601 in the city's zone, e.g. 2026-11-23T09:30:00+08:00."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CITY_TZ).isoformat(timespec="seconds")


def as_utc(moment: datetime | None = None) -> datetime:
    """The moment (now when None) in UTC, the zone every stored time and query bound is in."""
    return (moment or now()).astimezone(UTC)
