"""Order and receipt numbers carry the city's date and time, not the host's or UTC's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.core.timeutil import CITY_TZ
from tests import factories


def _next_city_half_past_midnight(now: datetime) -> datetime:
    """The next 00:30 in the city (16:30 UTC): the hour at which UTC's date is still the day before."""
    moment = now.astimezone(UTC).replace(hour=16, minute=30, second=0, microsecond=0)
    return moment if moment > now else moment + timedelta(days=1)


async def test_order_and_receipt_numbers_use_the_city_date_and_time(client, cache, clock):
    setup = await factories.fee_case_setup(client, cache, pay_before="delivery")
    # Ahead of the real time, so the order's expiry is still ahead for the simulated provider.
    clock.set(_next_city_half_past_midnight(clock.now()))
    at = clock.now()
    city = at.astimezone(CITY_TZ)
    assert city.date() != at.date()

    response = await client.post(
        f"/api/v1/cases/{setup['case']['id']}/payments", json={"channel": "wechat"}, headers=setup["citizen"]["headers"]
    )
    assert response.status_code == 201, response.text
    assert response.json()["order_no"].startswith(f"GH{city:%y%m%d%H%M}")

    accepted = await factories.moved(client, setup["case"], setup["clerk"], "accept")
    assert f"-{city:%Y%m%d}-" in accepted["receipt_no"]
