"""The one clock the services read: real time unless a test sets it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.core import timeutil
from app.core.timeutil import CITY_TZ, Clock


def test_a_clock_follows_the_real_time_until_set():
    clock = Clock()
    before = datetime.now(UTC)
    assert before <= clock.now() <= datetime.now(UTC) and not clock.is_set


def test_a_set_clock_stands_still_in_utc_advances_and_resumes():
    clock = Clock()
    clock.set(datetime(2026, 11, 27, 16, 0, tzinfo=CITY_TZ))
    assert clock.now() == datetime(2026, 11, 27, 8, 0, tzinfo=UTC) == clock.now()
    assert clock.now().tzinfo == UTC
    assert clock.advance(hours=2) == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert clock.advance(timedelta(days=1)) == datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    clock.resume()
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_a_clock_refuses_a_naive_moment():
    with pytest.raises(ValueError):
        Clock().set(datetime(2026, 11, 27, 16, 0))


def test_the_clock_fixture_sets_what_now_answers_everywhere(clock):
    moment = datetime(2025, 3, 7, 16, 0, tzinfo=CITY_TZ)
    clock.set(moment)
    assert timeutil.now() == moment
    clock.advance(minutes=5)
    assert timeutil.now() == moment + timedelta(minutes=5)


def test_the_real_time_is_back_after_a_test_that_set_the_clock():
    assert not timeutil.clock.is_set
