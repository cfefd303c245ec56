"""Reads on the read replica (database.read_replica_url), and on the primary whenever the replica cannot answer.

The public statistics are aggregate scans that may be seconds behind: a streaming replica can take them off the
primary. A replica that is down, unreachable, too slow, or that cancelled the query for the WAL it replays (a hot
standby conflict) is no outage of the statistics: the primary answers, as it did before there was a replica. Each
such read is counted in govhall_db_replica_fallbacks_total and the failure is logged (one WARNING line); for
RETRY_AFTER_SECONDS after a failure this process sends those reads straight to the primary, so requests do not each
wait for the connect timeout of a replica that is gone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from tortoise.backends.base.client import BaseDBAsyncClient

from app.core.errors import is_dependency_failure
from app.core.metrics import REPLICA_FALLBACKS

log = logging.getLogger("app.db")

T = TypeVar("T")
# How long a process reads on the primary after the replica failed, before it tries the replica again.
RETRY_AFTER_SECONDS = 10.0


def is_replica_failure(exception: BaseException) -> bool:
    """The replica is down, unreachable or timed out, or cancelled the query to replay WAL (SQLSTATE 40001)."""
    return is_dependency_failure(exception) or isinstance(exception, asyncpg.exceptions.SerializationError)


class ReadReplica:
    """Where replica-tolerant reads go: run(what, read) calls read(connection) with the replica's connection, or
    read(None) (the primary, Tortoise's default) when there is no replica or it cannot answer."""

    def __init__(self, connection: BaseDBAsyncClient | None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.connection = connection
        self._clock = clock
        self._skip_until = 0.0

    async def run(self, what: str, read: Callable[[BaseDBAsyncClient | None], Awaitable[T]]) -> T:
        """read's answer, from the replica when there is one and it answers, else from the primary."""
        if self.connection is None:
            return await read(None)
        if self._clock() < self._skip_until:
            REPLICA_FALLBACKS.labels("skipped").inc()
            return await read(None)
        try:
            return await read(self.connection)
        except Exception as exc:
            if not is_replica_failure(exc):
                raise
            self._skip_until = self._clock() + RETRY_AFTER_SECONDS
            REPLICA_FALLBACKS.labels("failed").inc()
            log.warning(
                "read replica failed for %s (%s: %s); reading from the primary for the next %.0f s",
                what,
                type(exc).__name__,
                str(exc)[:200],
                RETRY_AFTER_SECONDS,
            )
            return await read(None)

    async def lag_seconds(self) -> float | None:
        """How far the replica's replay is behind the WAL it has received (0 when caught up), for /metrics; None
        without a replica, or when it cannot answer (then this process skips it, as a failed read would)."""
        if self.connection is None or self._clock() < self._skip_until:
            return None
        try:
            rows = await self.connection.execute_query_dict(LAG_SQL)
        except Exception as exc:
            if not is_replica_failure(exc):
                raise
            self._skip_until = self._clock() + RETRY_AFTER_SECONDS
            return None
        return float(rows[0]["lag"] or 0) if rows else None


# The age of the last replayed transaction while WAL waits to be replayed; 0 once all that arrived is replayed (an
# idle primary sends no new transactions, and that is no lag).
LAG_SQL = (
    "SELECT CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0 "
    "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END AS lag"
)

# No replica: every read on the primary.
PRIMARY_ONLY = ReadReplica(None)
