"""Login tokens: kept hashed in the cache, remembered briefly per process, never past their expiry."""

import asyncio

from app.core.auth import CITIZEN, Principal, issue_token, resolve_token, revoke_token
from app.core.crypto import token_digest


async def test_a_token_revoked_elsewhere_is_honoured_here_only_for_the_memo_time(cache):
    token = await issue_token(cache, Principal(kind=CITIZEN, id=424242), ttl_seconds=600)
    assert (await resolve_token(cache, token, memo_seconds=1)).id == 424242
    # Another process logs the token out: it deletes the cache entry, but cannot reach this process's memory.
    await cache.delete(f"session:{token_digest(token)}")
    assert (await resolve_token(cache, token, memo_seconds=1)).id == 424242
    await asyncio.sleep(1.1)
    assert await resolve_token(cache, token, memo_seconds=1) is None


async def test_logout_in_this_process_ends_the_token_at_once(cache):
    token = await issue_token(cache, Principal(kind=CITIZEN, id=434343), ttl_seconds=600)
    assert await resolve_token(cache, token, memo_seconds=30) is not None
    await revoke_token(cache, token)
    assert await resolve_token(cache, token, memo_seconds=30) is None


async def test_the_memo_never_outlives_the_token(cache):
    token = await issue_token(cache, Principal(kind=CITIZEN, id=454545), ttl_seconds=1)
    assert await resolve_token(cache, token, memo_seconds=30) is not None
    await asyncio.sleep(1.2)
    assert await resolve_token(cache, token, memo_seconds=30) is None
