"""What the simulated platforms delivered: per platform and recipient, in the order received, kept in the cache.

A counter numbers each recipient's messages (incr is atomic, so workers sharing Redis never take the same slot);
every message is its own key under "sim:<platform>:messages:<recipient>:<n>" and lives a day, like sim tokens.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sanic import Sanic

from app.core.cache import get_json, set_json

MESSAGE_TTL_SECONDS = 86400


def _count_key(platform: str, recipient: str) -> str:
    return f"sim:{platform}:messages:{recipient}:count"


def _message_key(platform: str, recipient: str, number: int) -> str:
    return f"sim:{platform}:messages:{recipient}:{number}"


async def record(
    app: Sanic, platform: str, recipient: str, message: dict[str, Any], dedupe_key: str | None = None
) -> None:
    """Keep a delivered message for the recipient, stamped with the time it arrived (app time zone, ISO 8601);
    a repeat of a dedupe key already seen for this recipient is answered but not delivered again."""
    cache = app.ctx.cache
    if dedupe_key and not await cache.add(f"sim:{platform}:dedupe:{recipient}:{dedupe_key}", "1", MESSAGE_TTL_SECONDS):
        return
    received_at = datetime.now(ZoneInfo(app.ctx.settings.app.timezone)).isoformat(timespec="milliseconds")
    number = await cache.incr(_count_key(platform, recipient), MESSAGE_TTL_SECONDS)
    await set_json(
        cache, _message_key(platform, recipient, number), {**message, "received_at": received_at}, MESSAGE_TTL_SECONDS
    )


async def messages(app: Sanic, platform: str, recipient: str) -> list[dict[str, Any]]:
    """The recipient's messages, oldest first."""
    cache = app.ctx.cache
    count = int(await cache.get(_count_key(platform, recipient)) or 0)
    found = await asyncio.gather(
        *(get_json(cache, _message_key(platform, recipient, number)) for number in range(1, count + 1))
    )
    # A slot can be empty for a moment: numbered by one worker, not yet written.
    return [message for message in found if message is not None]


async def clear(app: Sanic, platform: str, recipient: str) -> None:
    """Forget the recipient's messages."""
    cache = app.ctx.cache
    count = int(await cache.get(_count_key(platform, recipient)) or 0)
    await cache.delete(
        _count_key(platform, recipient), *(_message_key(platform, recipient, number) for number in range(1, count + 1))
    )
