"""Answers a process remembers per owner (a citizen, or the public catalogue): the JSON body of a GET, kept for a few
seconds and forgotten as soon as the owner's data changes.

A citizen's own reads (a case, my cases, my inbox) are the ones they repeat most, and each costs several statements.
The database stays the truth: PostgreSQL triggers (migration 20) NOTIFY the citizen's id on every change to their
cases, case files, licences, timeline, messages and proxy grants, whoever makes it and in whichever process, and
ChangeListener forgets that citizen's answers in this process when the notice arrives. A citizen's own write through
this process forgets their answers before its response leaves, so they never read their own change stale here.
Without a listening connection (SQLite, or PostgreSQL while it is away) nothing is remembered for citizens.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from functools import wraps

from cachetools import TTLCache
from sanic import Request
from sanic.response import HTTPResponse

from app.core import metrics

log = logging.getLogger("app.view_memo")

CHANNEL = "govhall_citizen_changed"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
Stamp = tuple[int, int]


class ViewMemo:
    """Bodies by (owner, request) for `seconds`; a body read before its owner was last forgotten is never kept."""

    # Owners indexed at most (each with the keys of their bodies) before the index starts again.
    OWNERS = 100_000

    def __init__(self, max_bytes: int = 32 * 1024 * 1024, *, needs_listener: bool) -> None:
        self.max_bytes = max_bytes
        self.needs_listener = needs_listener
        self.configure(0)

    def configure(self, seconds: float) -> None:
        """Forget everything and remember for `seconds` from now on (0: never)."""
        self.seconds = seconds
        # Bounded by the bodies' bytes: the least recently stored go first when full.
        self.bodies: TTLCache = TTLCache(self.max_bytes, seconds or 1, getsizeof=len)
        self.keys_by_owner: dict[Hashable, set] = {}
        self.generations: dict[Hashable, int] = {}
        self.epoch = 0
        self.listening = False

    @property
    def serving(self) -> bool:
        """Whether answers are remembered now: configured, and (for citizens) told of every change."""
        return self.seconds > 0 and (self.listening or not self.needs_listener)

    def stamp(self, owner: Hashable) -> Stamp:
        """Taken before the read: put() keeps its body only if the owner was not forgotten meanwhile."""
        return self.epoch, self.generations.get(owner, 0)

    def get(self, owner: Hashable, key: Hashable) -> bytes | None:
        if not self.serving:
            return None
        return self.bodies.get((owner, key))

    def put(self, owner: Hashable, key: Hashable, stamp: Stamp, body: bytes) -> None:
        if not self.serving or stamp != self.stamp(owner) or len(body) > self.max_bytes // 16:
            return
        self.bodies[(owner, key)] = body
        keys = self.keys_by_owner.setdefault(owner, set())
        keys.add(key)
        if len(self.keys_by_owner) > self.OWNERS:
            # Owners whose bodies all expired or were evicted: start the index again rather than let it grow.
            self.forget_all()

    def forget(self, owner: Hashable) -> None:
        """Drop the owner's bodies, and refuse any body of theirs whose read began before now."""
        self.generations[owner] = self.generations.get(owner, 0) + 1
        if len(self.generations) > self.OWNERS:
            self.forget_all()
            return
        for key in self.keys_by_owner.pop(owner, ()):
            self.bodies.pop((owner, key), None)

    def forget_all(self) -> None:
        self.epoch += 1
        self.bodies.clear()
        self.keys_by_owner.clear()
        self.generations.clear()


# Citizens' own reads: only while a listener hears every change (ChangeListener below).
citizen_views = ViewMemo(needs_listener=True)


def remembered(memo: ViewMemo, owner_of: Callable[[Request], Hashable]):
    """Answer a GET from memo when it holds the body for this owner and request; otherwise run the handler and keep
    its 200 body. The key is the route and the whole query string, so every page and filter is its own answer."""

    def decorate(handler: Callable[..., Awaitable[HTTPResponse]]):
        @wraps(handler)
        async def answer(request: Request, *args, **kwargs):
            if not memo.serving:
                return await handler(request, *args, **kwargs)
            owner = owner_of(request)
            key = (request.path, request.query_string)
            body = memo.get(owner, key)
            if body is not None:
                return HTTPResponse(body, status=200, content_type="application/json")
            stamp = memo.stamp(owner)
            response = await handler(request, *args, **kwargs)
            if response.status == 200 and response.body is not None:
                memo.put(owner, key, stamp, response.body)
            return response

        return answer

    return decorate


def per_citizen(handler):
    """Remember the logged-in citizen's answer (after citizen_required has named them)."""
    return remembered(citizen_views, lambda request: request.ctx.principal.id)(handler)


def forget_after_write(request: Request) -> None:
    """A citizen's write through this process: forget their answers here before the response leaves."""
    if request.method in SAFE_METHODS or not citizen_views.serving:
        return
    principal = getattr(request.ctx, "principal", None)
    if principal is not None and not principal.is_staff:
        citizen_views.forget(principal.id)


class ChangeListener:
    """LISTENs on CHANNEL over one connection of its own and forgets each citizen named; while that connection is
    down the citizens' memo is off and emptied, and it connects again every `retry_seconds`."""

    def __init__(self, connect: Callable[[], Awaitable], memo: ViewMemo = citizen_views, retry_seconds: float = 1.0):
        self.connect = connect
        self.memo = memo
        self.retry_seconds = retry_seconds
        self.connection = None
        self.task: asyncio.Task | None = None
        self.lost = asyncio.Event()

    async def start(self) -> None:
        """Listen before the first request (or keep trying in the background if the database is away)."""
        if not await self._listen():
            self.lost.set()
        self.task = asyncio.create_task(self._keep_listening(), name="view-memo-listener")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
            self.task = None
        await self._drop()

    async def _listen(self) -> bool:
        try:
            connection = await self.connect()
            connection.add_termination_listener(self._terminated)
            await connection.add_listener(CHANNEL, self._notified)
        except Exception as error:  # the database away: remember nothing until the next try succeeds
            log.warning("citizen memo off: cannot listen for changes (%s)", type(error).__name__)
            return False
        self.connection = connection
        # Anything remembered before now may have missed a notice: start empty.
        self.memo.forget_all()
        self.memo.listening = True
        metrics.CITIZEN_MEMO_LISTENING.set(1)
        return True

    async def _keep_listening(self) -> None:
        while True:
            await self.lost.wait()
            await self._drop()
            await asyncio.sleep(self.retry_seconds)
            if await self._listen():
                self.lost.clear()

    async def _drop(self) -> None:
        self.memo.listening = False
        metrics.CITIZEN_MEMO_LISTENING.set(0)
        self.memo.forget_all()
        connection, self.connection = self.connection, None
        if connection is not None and not connection.is_closed():
            try:
                await connection.close(timeout=2)
            except Exception:
                connection.terminate()

    def _notified(self, _connection, _pid, _channel, payload: str) -> None:
        try:
            owner = int(payload)
        except ValueError:
            return
        self.memo.forget(owner)

    def _terminated(self, _connection) -> None:
        log.warning("citizen memo off: the change listener's connection was lost")
        self.memo.listening = False
        metrics.CITIZEN_MEMO_LISTENING.set(0)
        self.memo.forget_all()
        self.lost.set()
