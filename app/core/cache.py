"""A small cache interface with an in-process implementation (embedded default) and Redis (production)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Protocol, TypeVar

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from app.core.config import CacheSection

T = TypeVar("T")


def shared_load(loads: dict[Hashable, asyncio.Future], key: Hashable, load: Callable[[], Awaitable[T]]) -> Awaitable[T]:
    """One load per key and process at a time: callers arriving while it runs wait for its result, not the database."""
    loading = loads.get(key)
    if loading is None:
        loading = asyncio.ensure_future(load())
        loads[key] = loading
        loading.add_done_callback(lambda _: loads.pop(key, None))
    # Shielded: a caller that hangs up does not cancel the load the others wait for.
    return asyncio.shield(loading)


class Cache(Protocol):
    """What the domains may ask of the cache. Keys are given without the deployment prefix."""

    async def get(self, key: str) -> str | None: ...
    async def set(self, key: str, value: str, ttl_seconds: int | None = None) -> None: ...
    async def add(self, key: str, value: str, ttl_seconds: int | None = None) -> bool: ...
    async def delete(self, *keys: str) -> None: ...
    async def incr(self, key: str, ttl_seconds: int) -> int: ...
    async def ttl(self, key: str) -> int | None: ...
    async def decr_if_positive(self, key: str) -> int | None: ...
    async def incr_if_exists(self, key: str, amount: int = 1) -> int | None: ...
    async def ping(self) -> bool: ...
    async def close(self) -> None: ...


class MemoryCache:
    """Single-process cache for the embedded default; expiry is checked on read."""

    def __init__(self, key_prefix: str = "") -> None:
        self._prefix = key_prefix
        self._items: dict[str, tuple[str, float | None]] = {}
        self._lock = asyncio.Lock()

    def _live(self, key: str) -> str | None:
        item = self._items.get(self._prefix + key)
        if item is None:
            return None
        value, expires_at = item
        if expires_at is not None and expires_at <= time.monotonic():
            self._items.pop(self._prefix + key, None)
            return None
        return value

    @staticmethod
    def _expiry(ttl_seconds: int | None) -> float | None:
        return time.monotonic() + ttl_seconds if ttl_seconds else None

    async def get(self, key: str) -> str | None:
        return self._live(key)

    async def set(self, key: str, value: str, ttl_seconds: int | None = None) -> None:
        self._items[self._prefix + key] = (value, self._expiry(ttl_seconds))

    async def add(self, key: str, value: str, ttl_seconds: int | None = None) -> bool:
        if self._live(key) is not None:
            return False
        self._items[self._prefix + key] = (value, self._expiry(ttl_seconds))
        return True

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._items.pop(self._prefix + key, None)

    async def incr(self, key: str, ttl_seconds: int) -> int:
        current = self._live(key)
        if current is None:
            self._items[self._prefix + key] = ("1", self._expiry(ttl_seconds))
            return 1
        _, expires_at = self._items[self._prefix + key]
        count = int(current) + 1
        self._items[self._prefix + key] = (str(count), expires_at)
        return count

    async def ttl(self, key: str) -> int | None:
        if self._live(key) is None:
            return None
        expires_at = self._items[self._prefix + key][1]
        return None if expires_at is None else max(0, int(expires_at - time.monotonic()))

    async def decr_if_positive(self, key: str) -> int | None:
        """Take one from a counter: the new value, -1 when it was already 0, None when it does not exist."""
        current = self._live(key)
        if current is None:
            return None
        value = int(current)
        if value <= 0:
            return -1
        self._items[self._prefix + key] = (str(value - 1), self._items[self._prefix + key][1])
        return value - 1

    async def incr_if_exists(self, key: str, amount: int = 1) -> int | None:
        """Add to a counter that exists (keeping its expiry); None when it does not."""
        current = self._live(key)
        if current is None:
            return None
        value = int(current) + amount
        self._items[self._prefix + key] = (str(value), self._items[self._prefix + key][1])
        return value

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._items.clear()


# One round trip each, atomic in Redis: a seat counter is never taken below zero nor revived once expired.
_DECR_IF_POSITIVE = """
local value = redis.call('GET', KEYS[1])
if not value then return nil end
if tonumber(value) <= 0 then return -1 end
return redis.call('DECR', KEYS[1])
"""
_INCR_IF_EXISTS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
return redis.call('INCRBY', KEYS[1], ARGV[1])
"""


SENTINEL_SCHEME = "redis+sentinel://"


def _through_sentinel(
    url: str, *, max_connections: int, connect_timeout_seconds: float, command_timeout_seconds: float
) -> redis.Redis:
    """A client of the master that Sentinel names now (and again after a failover):
    redis+sentinel://[:password@]host:port[,host:port...]/service[/db]."""
    from redis.asyncio.sentinel import Sentinel

    auth, _, rest = url.removeprefix(SENTINEL_SCHEME).rpartition("@")
    hosts, _, path = rest.partition("/")
    service, _, db = path.partition("/")
    password = auth.partition(":")[2] or None
    timeouts = {"socket_timeout": command_timeout_seconds, "socket_connect_timeout": connect_timeout_seconds}
    sentinel = Sentinel(
        [(host.rpartition(":")[0], int(host.rpartition(":")[2])) for host in hosts.split(",")],
        sentinel_kwargs=timeouts,
        password=password,
        **timeouts,
    )
    # redis.asyncio has no blocking Sentinel pool: past max_connections a command fails (503), it does not wait.
    return sentinel.master_for(
        service,
        db=int(db or 0),
        decode_responses=True,
        max_connections=max_connections,
        health_check_interval=30,
        retry=Retry(NoBackoff(), 1),
    )


class RedisCache:
    """Redis through redis.asyncio; every key carries the deployment prefix."""

    def __init__(
        self,
        url: str,
        key_prefix: str = "",
        *,
        max_connections: int = 200,
        pool_timeout_seconds: float = 2,
        connect_timeout_seconds: float = 1,
        command_timeout_seconds: float = 2,
    ) -> None:
        self._prefix = key_prefix
        if url.startswith(SENTINEL_SCHEME):
            self._client = _through_sentinel(
                url,
                max_connections=max_connections,
                connect_timeout_seconds=connect_timeout_seconds,
                command_timeout_seconds=command_timeout_seconds,
            )
            self._decr_if_positive = self._client.register_script(_DECR_IF_POSITIVE)
            self._incr_if_exists = self._client.register_script(_INCR_IF_EXISTS)
            return
        # A blocking pool: past max_connections a request waits up to pool_timeout_seconds for a connection instead
        # of failing at once (redis-py's default pool raises), and a Redis that is down or hangs fails in bounded time:
        # one retry (a pooled connection the server dropped), not redis-py's default three with backoff.
        pool = redis.BlockingConnectionPool.from_url(
            url,
            decode_responses=True,
            max_connections=max_connections,
            timeout=pool_timeout_seconds,
            socket_timeout=command_timeout_seconds,
            socket_connect_timeout=connect_timeout_seconds,
            health_check_interval=30,
            retry=Retry(NoBackoff(), 1),
        )
        self._client = redis.Redis(connection_pool=pool)
        self._decr_if_positive = self._client.register_script(_DECR_IF_POSITIVE)
        self._incr_if_exists = self._client.register_script(_INCR_IF_EXISTS)

    @property
    def client(self) -> redis.Redis:
        return self._client

    async def get(self, key: str) -> str | None:
        return await self._client.get(self._prefix + key)

    async def set(self, key: str, value: str, ttl_seconds: int | None = None) -> None:
        await self._client.set(self._prefix + key, value, ex=ttl_seconds or None)

    async def add(self, key: str, value: str, ttl_seconds: int | None = None) -> bool:
        return bool(await self._client.set(self._prefix + key, value, ex=ttl_seconds or None, nx=True))

    async def delete(self, *keys: str) -> None:
        if keys:
            await self._client.delete(*(self._prefix + key for key in keys))

    async def incr(self, key: str, ttl_seconds: int) -> int:
        full_key = self._prefix + key
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.incr(full_key)
            pipe.expire(full_key, ttl_seconds, nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def ttl(self, key: str) -> int | None:
        remaining = await self._client.ttl(self._prefix + key)
        return None if remaining < 0 else remaining

    async def decr_if_positive(self, key: str) -> int | None:
        """Take one from a counter: the new value, -1 when it was already 0, None when it does not exist."""
        value = await self._decr_if_positive(keys=[self._prefix + key])
        return None if value is None else int(value)

    async def incr_if_exists(self, key: str, amount: int = 1) -> int | None:
        """Add to a counter that exists (keeping its expiry); None when it does not."""
        value = await self._incr_if_exists(keys=[self._prefix + key], args=[amount])
        return None if value is None else int(value)

    async def ping(self) -> bool:
        return bool(await self._client.ping())

    async def delete_prefix(self) -> None:
        """Remove every key of this prefix (test runs clean up after themselves)."""
        async for key in self._client.scan_iter(match=self._prefix + "*", count=500):
            await self._client.delete(key)

    async def close(self) -> None:
        await self._client.aclose()


def build_cache(section: CacheSection) -> Cache:
    """The cache the settings ask for."""
    if not section.url:
        return MemoryCache(section.key_prefix)
    return RedisCache(
        section.url,
        section.key_prefix,
        max_connections=section.pool_max_connections,
        pool_timeout_seconds=section.pool_timeout_seconds,
        connect_timeout_seconds=section.connect_timeout_seconds,
        command_timeout_seconds=section.command_timeout_seconds,
    )


async def get_json(cache: Cache, key: str) -> Any | None:
    """Read a JSON value, None when absent."""
    raw = await cache.get(key)
    return None if raw is None else json.loads(raw)


async def set_json(cache: Cache, key: str, value: Any, ttl_seconds: int | None = None) -> None:
    """Store a JSON value."""
    await cache.set(key, json.dumps(value, ensure_ascii=False, separators=(",", ":")), ttl_seconds)
