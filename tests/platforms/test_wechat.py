"""WeChat login and access token through wechatpy, against the simulator on this app's own port."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from app.platforms import LoginCodeInvalid, PlatformError, PlatformUnavailable
from app.platforms.sim.wechat import TOKENS_ISSUED_KEY, unionid_of
from app.platforms.wechat import ACCESS_TOKEN_KEY, LIVE_API_BASE_URL, wechat_api_base_url
from tests.core.test_errors import assert_error_shape
from tests.platforms.conftest import platform_log, wechat_code, with_changes


async def test_code_to_session__returns_the_openid_the_code_was_issued_for(app, client):
    code = await wechat_code(client, openid="oTestUser000000000000000001")
    session = await app.ctx.platforms.wechat.code_to_session(code)
    assert session.openid == "oTestUser000000000000000001"
    assert session.unionid == unionid_of("oTestUser000000000000000001")
    assert len(session.session_key) == 24


async def test_code_to_session__without_openid_gets_a_new_user(app, client):
    first = await app.ctx.platforms.wechat.code_to_session(await wechat_code(client))
    second = await app.ctx.platforms.wechat.code_to_session(await wechat_code(client))
    assert first.openid.startswith("o") and len(first.openid) == 28
    assert first.openid != second.openid


async def test_code_to_session__a_code_works_once(app, client, caplog):
    code = await wechat_code(client)
    await app.ctx.platforms.wechat.code_to_session(code)
    with caplog.at_level(logging.DEBUG), pytest.raises(LoginCodeInvalid):
        await app.ctx.platforms.wechat.code_to_session(code)
    assert "40163" in platform_log(caplog)
    assert code not in platform_log(caplog)


async def test_code_to_session__unknown_or_empty_code_is_refused(app):
    with pytest.raises(LoginCodeInvalid):
        await app.ctx.platforms.wechat.code_to_session("0" * 32)
    with pytest.raises(LoginCodeInvalid):
        await app.ctx.platforms.wechat.code_to_session("")


async def test_code_to_session__wrong_appsecret_is_a_platform_error(client, settings, make_wechat, caplog):
    wechat = make_wechat(with_changes(settings, wechat={"secret": "wrong-secret-for-this-test"}))
    with caplog.at_level(logging.DEBUG), pytest.raises(PlatformError):
        await wechat.code_to_session(await wechat_code(client))
    assert "40125" in platform_log(caplog)
    assert "wrong-secret-for-this-test" not in platform_log(caplog)


async def test_code_to_session__unreachable_platform_is_unavailable(settings, make_wechat):
    wechat = make_wechat(with_changes(settings, wechat={"api_base_url": "http://127.0.0.1:9/"}))
    with pytest.raises(PlatformUnavailable):
        await wechat.code_to_session("any-code")


async def test_access_token__fetched_once_and_shared_by_every_worker(app, settings, cache, make_wechat):
    await cache.delete(ACCESS_TOKEN_KEY)
    issued_before = int(await cache.get(TOKENS_ISSUED_KEY) or 0)
    this_worker, other_worker = app.ctx.platforms.wechat, make_wechat(settings)
    tokens = await asyncio.gather(
        *(this_worker.access_token() for _ in range(3)), *(other_worker.access_token() for _ in range(3))
    )
    assert len(set(tokens)) == 1
    assert int(await cache.get(TOKENS_ISSUED_KEY)) == issued_before + 1
    assert await cache.get(ACCESS_TOKEN_KEY) == tokens[0]
    # Cached for less than WeChat's 7200 s, so it is renewed before WeChat stops taking it.
    assert 0 < await cache.ttl(ACCESS_TOKEN_KEY) <= 7200 - 300
    assert await this_worker.access_token() == tokens[0]
    assert int(await cache.get(TOKENS_ISSUED_KEY)) == issued_before + 1


async def test_access_token__a_dropped_token_is_fetched_again(app, cache):
    wechat = app.ctx.platforms.wechat
    stale = await wechat.access_token()
    await wechat.drop_access_token("not-the-current-token")
    assert await wechat.access_token() == stale
    await wechat.drop_access_token(stale)
    fresh = await wechat.access_token()
    assert fresh != stale


async def test_access_token__wrong_appsecret_is_a_platform_error(settings, make_wechat, cache):
    await cache.delete(ACCESS_TOKEN_KEY)
    wechat = make_wechat(with_changes(settings, wechat={"secret": "wrong-secret-for-this-test"}))
    with pytest.raises(PlatformError):
        await wechat.access_token()
    assert await cache.get(ACCESS_TOKEN_KEY) is None


async def test_faults__failing_platform_is_unavailable_until_cleared(app, client, cache, faults):
    wechat = app.ctx.platforms.wechat
    await cache.delete(ACCESS_TOKEN_KEY)
    await faults("wechat", 1)
    with pytest.raises(PlatformUnavailable):
        await wechat.code_to_session(await wechat_code(client))
    with pytest.raises(PlatformUnavailable):
        await wechat.access_token()
    await faults("wechat", 0)
    session = await wechat.code_to_session(await wechat_code(client, openid="oAfterTheOutage"))
    assert session.openid == "oAfterTheOutage"
    assert await wechat.access_token()


async def test_faults__a_chosen_errcode_maps_like_the_real_one(app, client, faults):
    await faults("wechat", 1, errcode=40029)
    with pytest.raises(LoginCodeInvalid):
        await app.ctx.platforms.wechat.code_to_session(await wechat_code(client))
    await faults("wechat", 1, errcode=40001)
    with pytest.raises(PlatformError):
        await app.ctx.platforms.wechat.code_to_session(await wechat_code(client))


async def test_a_login_wave_is_429_with_retry_after_and_a_blocked_user_is_told_why(client, faults):
    await faults("wechat", 1, errcode=45011)
    code = await wechat_code(client)
    busy = await client.post("/api/v1/auth/wechat", json={"code": code})
    assert_error_shape(busy, 429, "LOGIN_TOO_FREQUENT")
    assert busy.headers["Retry-After"] == "5"
    await faults("wechat", 1, errcode=40226)
    blocked = await client.post("/api/v1/auth/wechat", json={"code": await wechat_code(client)})
    assert "安全风险" in assert_error_shape(blocked, 403, "LOGIN_BLOCKED")["message"]
    await faults("wechat", 0)
    # the code refused during the wave was not used up: the same tap a little later logs in
    assert (await client.post("/api/v1/auth/wechat", json={"code": code})).status_code == 200


async def test_slow_platform__does_not_stall_other_requests(app, client, faults):
    await faults("wechat", 0, delay_ms=1500)
    code = await wechat_code(client, openid="oPatientUser")
    slow_login = asyncio.create_task(app.ctx.platforms.wechat.code_to_session(code))
    await asyncio.sleep(0.2)  # the SDK thread is now waiting on the simulator
    started = time.perf_counter()
    health = await client.get("/healthz")
    elapsed = time.perf_counter() - started
    assert health.status_code == 200
    assert not slow_login.done(), "healthz had to wait for the slow platform call"
    assert elapsed < 1.0
    assert (await slow_login).openid == "oPatientUser"


async def test_slow_platform__past_the_timeout_is_unavailable(client, settings, make_wechat, faults):
    wechat = make_wechat(with_changes(settings, platforms={"timeout_seconds": 0.5}))
    await faults("wechat", 0, delay_ms=1500)
    started = time.perf_counter()
    with pytest.raises(PlatformUnavailable):
        await wechat.code_to_session(await wechat_code(client))
    assert time.perf_counter() - started < 1.4


def test_api_base_url__sim_mode_uses_this_app_live_mode_uses_wechat(settings):
    assert wechat_api_base_url(settings) == settings.app.public_base_url + "/sim/wechat/"
    assert wechat_api_base_url(with_changes(settings, platforms={"mode": "live"})) == LIVE_API_BASE_URL
    configured = with_changes(settings, wechat={"api_base_url": "https://wx-proxy.example.gov.cn/wx"})
    assert wechat_api_base_url(configured) == "https://wx-proxy.example.gov.cn/wx/"
