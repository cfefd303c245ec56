"""Public figures without dates cover the last 30 days, so the 1st of a month is not one day of figures."""

from __future__ import annotations

from datetime import date

from app.stats.service import period_of


def test_the_default_period_is_the_30_days_up_to_today_even_on_the_1st():
    assert period_of(None, None, today=date(2026, 12, 1)) == (date(2026, 11, 2), date(2026, 12, 1))
    assert period_of(None, None, today=date(2026, 3, 15)) == (date(2026, 2, 14), date(2026, 3, 15))


def test_a_given_end_takes_the_30_days_before_it_and_a_given_start_runs_to_today():
    assert period_of(None, "2026-10-31", today=date(2026, 12, 1)) == (date(2026, 10, 2), date(2026, 10, 31))
    assert period_of("2026-11-20", None, today=date(2026, 12, 1)) == (date(2026, 11, 20), date(2026, 12, 1))
