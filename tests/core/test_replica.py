"""core/replica.py: reads meant for the read replica, and the primary answering them when the replica cannot.

The real thing (a streaming replica, paused and stopped) is tests/stats/test_read_replica.py; here the rule alone,
with reads that fail on purpose."""

from __future__ import annotations

import logging

import asyncpg
import pytest
from tortoise.exceptions import IntegrityError

from app.core.metrics import REPLICA_FALLBACKS
from app.core.replica import PRIMARY_ONLY, RETRY_AFTER_SECONDS, ReadReplica

pytestmark = pytest.mark.backend_independent
REPLICA = object()  # stands for the replica's client: the reads below only compare it


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _fallbacks(reason: str) -> float:
    return REPLICA_FALLBACKS.labels(reason)._value.get()


def _reads(failure: BaseException | None):
    """A read that answers where it was run, failing with `failure` on the replica; and the places it ran."""
    ran: list[object] = []

    async def read(connection):
        ran.append(connection)
        if connection is REPLICA and failure is not None:
            raise failure
        return "replica" if connection is REPLICA else "primary"

    return read, ran


async def test_without_a_replica_every_read_is_the_primarys():
    read, ran = _reads(None)
    assert await PRIMARY_ONLY.run("stats", read) == "primary"
    assert ran == [None]


async def test_a_replica_that_answers_answers():
    read, ran = _reads(None)
    assert await ReadReplica(REPLICA).run("stats", read) == "replica"
    assert ran == [REPLICA]


@pytest.mark.parametrize(
    "failure",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        TimeoutError(),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        # a hot standby conflict: the replica cancelled the query to replay WAL
        asyncpg.exceptions.SerializationError("canceling statement due to conflict with recovery"),
    ],
)
async def test_a_replica_that_fails_is_replaced_by_the_primary_logged_counted_and_skipped_a_while(failure, caplog):
    clock = Clock()
    reads = ReadReplica(REPLICA, clock=clock)
    read, ran = _reads(failure)
    failed, skipped = _fallbacks("failed"), _fallbacks("skipped")
    with caplog.at_level(logging.WARNING, logger="app.db"):
        assert await reads.run("stats departments", read) == "primary"
    assert ran == [REPLICA, None]
    assert _fallbacks("failed") == failed + 1
    assert "read replica failed for stats departments" in caplog.text

    # for a while the primary at once: no request waits for a replica that just failed
    clock.now += RETRY_AFTER_SECONDS - 1
    assert await reads.run("stats departments", read) == "primary"
    assert ran == [REPLICA, None, None]
    assert _fallbacks("skipped") == skipped + 1

    # then the replica is tried again, and serves once it is back
    clock.now += 2
    back, ran_after = _reads(None)
    assert await reads.run("stats departments", back) == "replica"
    assert ran_after == [REPLICA]


@pytest.mark.parametrize("error", [IntegrityError("duplicate"), ValueError("a bug"), KeyError("department_id")])
async def test_an_error_that_is_no_outage_is_not_hidden_by_the_primary(error):
    reads = ReadReplica(REPLICA, clock=Clock())
    read, ran = _reads(error)
    with pytest.raises(type(error)):
        await reads.run("stats", read)
    assert ran == [REPLICA]
