"""A request cancelled while it takes the SQLite connection must not lock the database for the rest of the process."""

import asyncio

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
async def test_transaction_cancelled_while_beginning_is_rolled_back_and_releases_the_database(sqlite_client,
                                                                                              after_steps):
    await sqlite_client.execute_script("CREATE TABLE note (value INTEGER NOT NULL)")
    await _cancel_soon(_write_in_transaction(sqlite_client, 1), after_steps=after_steps)
    await asyncio.wait_for(_write_in_transaction(sqlite_client, 2), timeout=5)
    rows = await sqlite_client.execute_query_dict("SELECT value FROM note ORDER BY value")
    assert [row["value"] for row in rows] in ([2], [1, 2])
