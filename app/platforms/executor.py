"""A bounded thread pool per platform for its synchronous SDK, so a slow platform never stalls the event loop."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, Protocol, TypeVar

import requests

from app.platforms import PlatformUnavailable

log = logging.getLogger("app.platforms")
Result = TypeVar("Result")


class SdkClient(Protocol):
    def close(self) -> None: ...


Client = TypeVar("Client", bound=SdkClient)


class TimeoutSession(requests.Session):
    """A requests session that gives every call a timeout (wechatpy's token fetch passes none)."""

    def __init__(self, timeout_seconds: float) -> None:
        super().__init__()
        self.timeout_seconds = timeout_seconds

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout_seconds
        return super().request(method, url, *args, **kwargs)


class SdkExecutor(Generic[Client]):
    """Runs SDK calls on `threads` threads, each thread with its own SDK client, every call with a deadline."""

    def __init__(
        self, platform: str, *, threads: int, timeout_seconds: float, new_client: Callable[[], Client]
    ) -> None:
        self._platform = platform
        self._timeout_seconds = timeout_seconds
        self._new_client = new_client
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"sdk-{platform}")
        # requests sessions are not thread-safe: one client (and connection pool) per thread.
        self._local = threading.local()
        self._clients: list[Client] = []
        self._clients_lock = threading.Lock()

    def _client(self) -> Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._new_client()
            with self._clients_lock:
                self._clients.append(client)
        return client

    def _call(self, operation: Callable[[Client], Result]) -> Result:
        return operation(self._client())

    async def run(self, operation: Callable[[Client], Result]) -> Result:
        """Run operation(client) on the pool; PlatformUnavailable when it outlives the deadline."""
        loop = asyncio.get_running_loop()
        # A copy of the context carries the request id onto the SDK's log lines.
        context = contextvars.copy_context()
        future = loop.run_in_executor(self._pool, context.run, self._call, operation)
        try:
            return await asyncio.wait_for(future, self._timeout_seconds)
        except TimeoutError:
            # The thread finishes on its own (its HTTP timeout bounds it); the caller must not wait for it.
            log.warning("%s: SDK call exceeded %.1fs", self._platform, self._timeout_seconds)
            raise PlatformUnavailable() from None

    async def close(self) -> None:
        """Stop taking calls and close every thread's client."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._clients_lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()
