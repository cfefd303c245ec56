"""A request cancelled while it takes the SQLite connection must not lock the database for the rest of the process."""

import asyncio
from datetime import UTC

import pytest

from app.core.sqlite_backend import SqliteClient


@pytest.fixture
async def sqlite_client(app, tmp_path):
    # app: the test run's Tortoise context, which transactions register their connection in
    client = SqliteClient(file_path=str(tmp_path / "cancel.sqlite3"), connection_name="cancel_check")
    yield client
    await client.close()


async def _cancel_soon(coro, *, after_steps: int) -> None:
    """Cancel coro a few loop steps after it starts (or let it finish, if it was quicker)."""
    task = asyncio.ensure_future(coro)
    for _ in range(after_steps):
        await asyncio.sleep(0)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


@pytest.mark.parametrize("after_steps", [1, 2, 3, 5, 8])
async def test_query_cancelled_while_connecting_leaves_the_database_usable(sqlite_client, after_steps):
    await _cancel_soon(sqlite_client.execute_query("SELECT 1"), after_steps=after_steps)
    rows = await asyncio.wait_for(sqlite_client.execute_query_dict("SELECT 2 AS answer"), timeout=5)
    assert rows == [{"answer": 2}]


async def _write_in_transaction(client, value: int) -> None:
    async with client._in_transaction() as connection:
        await connection.execute_query("INSERT INTO note (value) VALUES (?)", [value])


@pytest.mark.parametrize("after_steps", [1, 2, 3, 4, 6, 10])
async def test_transaction_cancelled_while_beginning_is_rolled_back_and_releases_the_database(
    sqlite_client, after_steps
):
    await sqlite_client.execute_script("CREATE TABLE note (value INTEGER NOT NULL)")
    await _cancel_soon(_write_in_transaction(sqlite_client, 1), after_steps=after_steps)
    await asyncio.wait_for(_write_in_transaction(sqlite_client, 2), timeout=5)
    rows = await sqlite_client.execute_query_dict("SELECT value FROM note ORDER BY value")
    assert [row["value"] for row in rows] in ([2], [1, 2])


async def test_times_written_in_the_citys_zone_compare_as_times(app):
    """An update() in +08:00 and a create() in UTC must sort and filter by the instant, on either database."""
    from datetime import datetime, timedelta

    from app.core.models import OutboxEvent
    from app.core.timeutil import CITY_TZ

    marker = f"tz-check-{id(app)}-{datetime.now().timestamp()}"
    earlier = await OutboxEvent.create(kind=marker, aggregate_type="t", aggregate_id=1)
    later = await OutboxEvent.create(kind=marker, aggregate_type="t", aggregate_id=2)
    midnight_in_city = datetime(2026, 12, 1, 0, 30, tzinfo=CITY_TZ)  # still 30 November in UTC
    await OutboxEvent.filter(id=earlier.id).update(dispatched_at=midnight_in_city)
    await OutboxEvent.filter(id=later.id).update(dispatched_at=datetime(2026, 11, 30, 17, 0, tzinfo=UTC))
    ordered = await OutboxEvent.filter(kind=marker).order_by("dispatched_at").values_list("id", flat=True)
    assert ordered == [earlier.id, later.id]
    before = await OutboxEvent.filter(kind=marker, dispatched_at__lt=midnight_in_city + timedelta(minutes=1))
    assert [event.id for event in before] == [earlier.id]
