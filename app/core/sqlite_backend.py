"""Tortoise's SQLite client, made safe for a task that is cancelled while it takes the connection, and a
server that is told to stop twice still exits.

Sanic cancels a request's task when the client hangs up. Tortoise's SQLite client guards its single connection with
an asyncio lock and takes it in `__aenter__`; a cancellation between taking the lock and returning (while the
connection opens, or while BEGIN runs) leaves the lock taken for ever and every later query of the process waits.
Here that step always runs to its end: the lock is handed back, and a BEGIN that ran is rolled back, before the
cancellation goes on. Named as the engine in app.core.db for sqlite:// URLs.

It also writes every timezone-aware datetime as UTC. SQLite keeps times as text and compares text; Tortoise turns
a time into text with its own offset, so a deadline written in the city's zone (+08:00) by an update() and a time
written in UTC by a create() would sort and compare eight hours apart.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any, TypeVar

import aiosqlite
import tortoise.backends.sqlite.executor  # noqa: F401  (registers its adapters first; ours below replaces one)
from tortoise.backends.base.client import ConnectionWrapper, TransactionContext
from tortoise.backends.sqlite.client import SqliteClient as _TortoiseSqliteClient
from tortoise.backends.sqlite.client import SqliteTransactionContext, SqliteTransactionWrapper
from tortoise.connection import get_connections

T = TypeVar("T")


def _datetime_text(moment: datetime) -> str:
    """The text SQLite stores for a time: UTC for an aware one, so text order is time order."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.isoformat(" ")


sqlite3.register_adapter(datetime, _datetime_text)


async def run_to_end(step: Awaitable[T]) -> T:
    """Await step to its end even if the caller is cancelled meanwhile; then pass the cancellation on."""
    task = asyncio.ensure_future(step)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError as cancellation:
        if task.done():
            raise
        while not task.done():
            try:
                await asyncio.wait({task})
            except asyncio.CancelledError:
                continue
        raise cancellation


class _ConnectionWrapper(ConnectionWrapper):
    async def __aenter__(self):
        await self._lock.acquire()
        try:
            await run_to_end(self.ensure_connection())
        except BaseException:
            self._lock.release()
            raise
        return self.connection


class _TransactionContext(SqliteTransactionContext):
    __slots__ = ("_begun",)

    async def _begin(self) -> None:
        await self.ensure_connection()
        await self.connection.begin()
        self._begun = True

    async def __aenter__(self):
        await self._trxlock.acquire()
        self._begun = False
        try:
            await run_to_end(self._begin())
        except BaseException:
            try:
                if self._begun:
                    await run_to_end(self.connection.rollback())
            finally:
                self._trxlock.release()
            raise
        self.token = get_connections().set(self.connection_name, self.connection)
        return self.connection


class SqliteClient(_TortoiseSqliteClient):
    """Tortoise's SQLite client with cancellation-safe connection and transaction entry."""

    async def create_connection(self, with_db: bool) -> None:
        if self._connection:
            return
        connecting = aiosqlite.connect(self.filename, isolation_level=None)
        # A daemon thread: Sanic's worker can be stopped twice (the signal to the process group and its manager's
        # message) and then skips its after-stop listeners, which close the ORM; a non-daemon aiosqlite thread
        # would then keep the process alive for ever. Committed transactions are safe in SQLite's WAL regardless.
        connecting._thread.daemon = True
        self._connection = await connecting
        self._connection._conn.row_factory = sqlite3.Row
        for pragma, value in self.pragmas.items():
            cursor = await self._connection.execute(f"PRAGMA {pragma}={value}")
            await cursor.close()
        await self._post_connect()

    def acquire_connection(self) -> ConnectionWrapper:
        return _ConnectionWrapper(self._lock, self)

    def _in_transaction(self) -> TransactionContext:
        return _TransactionContext(SqliteTransactionWrapper(self), self._lock)


client_class = SqliteClient


def get_client_class(db_info: dict[str, Any]) -> type[SqliteClient]:
    """Tortoise's engine hook."""
    return SqliteClient
