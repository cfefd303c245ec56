"""Past its limit of requests in flight a process answers 503 at once; a crowd on a small Redis pool waits."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.core.cache import RedisCache
from tests.conftest import BACKEND, REDIS_URL, RUN_ID

MAX_IN_FLIGHT = 3
HOLD_MS = 3000
# A simulated platform call that waits HOLD_MS: a request of our server's that stays in flight that long.
HELD_PATH = "/sim/wechat/cgi-bin/token"


@pytest.fixture
async def small_server(app, faults):
    """The running app allowed MAX_IN_FLIGHT requests at once, with the WeChat simulator answering slowly."""
    await faults("wechat", 0, delay_ms=HOLD_MS)
    limit = app.ctx.max_in_flight
    app.ctx.max_in_flight = MAX_IN_FLIGHT
    yield app
    app.ctx.max_in_flight = limit


async def _in_flight(app, count: int) -> None:
    for _ in range(500):
        if len(app.ctx.in_flight) == count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{len(app.ctx.in_flight)} requests in flight, expected {count}")


async def test_past_the_limit_a_request_gets_503_with_retry_after_and_the_held_ones_finish(small_server, client):
    held = [
        asyncio.ensure_future(client.get(HELD_PATH, params={"grant_type": "client_credential"}))
        for _ in range(MAX_IN_FLIGHT)
    ]
    await _in_flight(small_server, MAX_IN_FLIGHT)
    shed = await client.get("/api/v1/departments")
    assert shed.status_code == 503
    assert shed.headers["retry-after"] == "5"
    assert shed.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert shed.json()["error"]["request_id"] == shed.headers["x-request-id"]
    # The ones in progress are served, not dropped, and then the process takes requests again.
    assert all(response.status_code != 503 for response in await asyncio.gather(*held))
    await _in_flight(small_server, 0)
    assert (await client.get("/api/v1/departments")).status_code == 200


async def test_a_client_that_hangs_up_frees_its_place(small_server, client):
    async with httpx.AsyncClient(base_url=str(client.base_url), timeout=0.3) as impatient:
        for _ in range(MAX_IN_FLIGHT):
            with pytest.raises(httpx.ReadTimeout):
                await impatient.get(HELD_PATH, params={"grant_type": "client_credential"})
    # Their handlers were cancelled without a response of theirs; the places come back all the same.
    await _in_flight(small_server, 0)
    assert (await client.get("/api/v1/departments")).status_code == 200


@pytest.mark.skipif(BACKEND != "postgres", reason="the Redis connection pool; the embedded cache has none")
async def test_a_crowd_larger_than_the_redis_pool_waits_for_connections_instead_of_failing():
    cache = RedisCache(REDIS_URL, f"test:{RUN_ID}:pool:", max_connections=4, pool_timeout_seconds=5)
    try:
        counts = await asyncio.gather(*(cache.incr("crowd", 60) for _ in range(300)))
        assert sorted(counts) == list(range(1, 301))
    finally:
        await cache.delete("crowd")
        await cache.close()
