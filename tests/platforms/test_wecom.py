"""WeChat Work application messages through wechatpy's enterprise client against the simulator: delivery to every
member, the shared access token, and the errors a retrying sender sorts by."""

from __future__ import annotations

import asyncio
import logging
import secrets

import pytest

from app.platforms import MessageRejected, PlatformError, PlatformUnavailable
from app.platforms.wecom import ACCESS_TOKEN_KEY, LIVE_API_BASE_URL, WeComPlatform, wecom_api_base_url
from tests.platforms.conftest import platform_log, with_changes


@pytest.fixture
async def make_wecom(cache):
    """Build extra WeComPlatform clients (another worker, other settings); closed after the test."""
    made: list[WeComPlatform] = []

    def make(settings) -> WeComPlatform:
        made.append(WeComPlatform(settings, cache))
        return made[-1]

    yield make
    for platform in made:
        await platform.close()


@pytest.fixture
def members() -> list[str]:
    """Members of this test only."""
    tag = secrets.token_hex(4)
    return [f"zhangsan.{tag}", f"li_si-{tag}", f"wangwu@{tag}"]


@pytest.fixture
def content() -> str:
    """A text no other test sends (the duplicate check would swallow a repeat)."""
    return f"您有新的待受理办件（受理编号 SQ{secrets.randbelow(10**12):012d}），请及时处理。"


@pytest.fixture
async def cached_token(app):
    """A valid token in the cache, so faults set by the test hit the message call, not the token fetch."""
    return await app.ctx.platforms.wecom.access_token()


async def delivered(client, userid: str) -> list[dict]:
    response = await client.get("/sim/wecom/messages", params={"userid": userid})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_send_text__reaches_every_member(app, client, settings, members, content):
    await app.ctx.platforms.wecom.send_text(userids=members, content=content)
    for userid in members:
        [message] = await delivered(client, userid)
        assert message["content"] == content
        assert (message["msgtype"], message["agentid"]) == ("text", settings.wecom.agent_id)
        assert message["received_at"]


async def test_send_text__a_member_sees_messages_in_the_order_sent(app, client, members, content):
    wecom = app.ctx.platforms.wecom
    await wecom.send_text(userids=members[:1], content=content + "（一）")
    await wecom.send_text(userids=members[:1], content=content + "（二）")
    assert [item["content"] for item in await delivered(client, members[0])] == [content + "（一）", content + "（二）"]


async def test_send_text__the_same_text_again_is_not_delivered_twice(app, client, members, content):
    # A retry after a lost answer must not reach the member twice: the message asks WeCom's duplicate check.
    wecom = app.ctx.platforms.wecom
    await wecom.send_text(userids=members[:1], content=content)
    await wecom.send_text(userids=members[:1], content=content)
    assert len(await delivered(client, members[0])) == 1


async def test_send_text__without_members_is_rejected_with_81013(app):
    for userids in ([], ["@not-a-userid", "has space"]):
        with pytest.raises(MessageRejected) as rejected:
            await app.ctx.platforms.wecom.send_text(userids=userids, content="有新办件")
        assert rejected.value.errcode == "81013"


async def test_send_text__invalid_members_are_skipped_and_logged(app, client, members, content, caplog):
    with caplog.at_level(logging.INFO):
        await app.ctx.platforms.wecom.send_text(userids=[members[0], "@invalid"], content=content)
    assert len(await delivered(client, members[0])) == 1
    assert "1 of 2 recipients not reachable" in platform_log(caplog)


async def test_send_text__empty_content_is_rejected_with_44004(app, members):
    with pytest.raises(MessageRejected) as rejected:
        await app.ctx.platforms.wecom.send_text(userids=members, content="  ")
    assert rejected.value.errcode == "44004"


async def test_send_text__an_invalid_cached_token_is_replaced_once_transparently(app, client, cache, members, content):
    await cache.set(ACCESS_TOKEN_KEY, "never-issued-token", 3600)
    await app.ctx.platforms.wecom.send_text(userids=members[:1], content=content)
    assert len(await delivered(client, members[0])) == 1
    assert await cache.get(ACCESS_TOKEN_KEY) not in (None, "never-issued-token")


async def test_send_text__an_expired_cached_token_is_replaced_once_transparently(
    app, client, cache, settings, members, content
):
    assert (await client.post("/sim/wecom/token-ttl", json={"seconds": 1})).status_code == 200
    try:
        answer = await client.get(
            "/sim/wecom/cgi-bin/gettoken",
            params={"corpid": settings.wecom.corp_id, "corpsecret": settings.wecom.corp_secret},
        )
    finally:
        await client.post("/sim/wecom/token-ttl", json={"seconds": 7200})
    assert answer.json()["expires_in"] == 1
    expired = answer.json()["access_token"]
    await asyncio.sleep(1.1)
    await cache.set(ACCESS_TOKEN_KEY, expired, 3600)
    await app.ctx.platforms.wecom.send_text(userids=members[:1], content=content)
    assert len(await delivered(client, members[0])) == 1
    assert await cache.get(ACCESS_TOKEN_KEY) != expired


async def test_access_token__fetched_once_and_shared_by_every_worker(app, settings, cache, make_wecom):
    await cache.delete(ACCESS_TOKEN_KEY)
    this_worker, other_worker = app.ctx.platforms.wecom, make_wecom(settings)
    tokens = await asyncio.gather(
        *(this_worker.access_token() for _ in range(3)), *(other_worker.access_token() for _ in range(3))
    )
    assert len(set(tokens)) == 1
    assert await cache.get(ACCESS_TOKEN_KEY) == tokens[0]
    assert 0 < await cache.ttl(ACCESS_TOKEN_KEY) <= 7200 - 300


async def test_access_token__wrong_corp_secret_is_a_platform_error(settings, cache, make_wecom, caplog):
    await cache.delete(ACCESS_TOKEN_KEY)
    wecom = make_wecom(with_changes(settings, wecom={"corp_secret": "wrong-secret-for-this-test"}))
    with caplog.at_level(logging.DEBUG), pytest.raises(PlatformError) as error:
        await wecom.send_text(userids=["zhangsan"], content="有新办件")
    assert type(error.value) is PlatformError
    assert "40001" in platform_log(caplog)
    assert "wrong-secret-for-this-test" not in platform_log(caplog)
    assert await cache.get(ACCESS_TOKEN_KEY) is None


async def test_send_text__wrong_agent_id_is_a_platform_error(settings, make_wecom, cached_token, members, content):
    wecom = make_wecom(with_changes(settings, wecom={"agent_id": settings.wecom.agent_id + 1}))
    with pytest.raises(PlatformError) as error:
        await wecom.send_text(userids=members, content=content)
    assert type(error.value) is PlatformError


async def test_faults__a_failing_platform_is_unavailable_then_recovers(
    app, client, members, content, cached_token, faults
):
    wecom = app.ctx.platforms.wecom
    await faults("wecom", 1.0)
    with pytest.raises(PlatformUnavailable) as unavailable:
        await wecom.send_text(userids=members, content=content)
    assert unavailable.value.errcode == "-1"
    await faults("wecom", 0)
    await wecom.send_text(userids=members, content=content)
    assert len(await delivered(client, members[0])) == 1


async def test_faults__rate_limits_are_unavailable_with_their_errcode(app, members, content, cached_token, faults):
    await faults("wecom", 1.0, errcode=45009)
    with pytest.raises(PlatformUnavailable) as unavailable:
        await app.ctx.platforms.wecom.send_text(userids=members, content=content)
    assert unavailable.value.errcode == "45009"


async def test_unreachable_platform_is_unavailable(settings, make_wecom):
    wecom = make_wecom(with_changes(settings, wecom={"api_base_url": "http://127.0.0.1:9/"}))
    with pytest.raises(PlatformUnavailable):
        await wecom.send_text(userids=["zhangsan"], content="有新办件")


async def test_sim__answers_bad_calls_like_wecom(client, settings, cached_token):
    path = "/sim/wecom/cgi-bin/message/send"
    body = {
        "touser": "zhangsan",
        "msgtype": "text",
        "agentid": settings.wecom.agent_id,
        "text": {"content": "有新办件"},
    }
    assert (await client.post(path, json=body)).json()["errcode"] == 41001
    assert (await client.post(path, params={"access_token": "never-issued"}, json=body)).json()["errcode"] == 40014
    answer = await client.post(path, params={"access_token": cached_token}, json={**body, "msgtype": "news"})
    assert answer.status_code == 200 and answer.json()["errcode"] == 40008
    wrong_corp = await client.get("/sim/wecom/cgi-bin/gettoken", params={"corpid": "ww0", "corpsecret": "x"})
    assert wrong_corp.json()["errcode"] == 40013


async def test_inspection__delete_clears_one_member(app, client, members, content):
    await app.ctx.platforms.wecom.send_text(userids=members[:2], content=content)
    cleared = await client.delete("/sim/wecom/messages", params={"userid": members[0]})
    assert cleared.status_code == 200 and cleared.json() == {"items": []}
    assert await delivered(client, members[0]) == []
    assert len(await delivered(client, members[1])) == 1


def test_api_base_url__sim_mode_uses_this_app_live_mode_uses_wecom(settings):
    assert wecom_api_base_url(settings) == settings.app.public_base_url + "/sim/wecom/"
    assert wecom_api_base_url(with_changes(settings, platforms={"mode": "live"})) == LIVE_API_BASE_URL
    configured = with_changes(settings, wecom={"api_base_url": "https://qy-proxy.example.gov.cn/qy"})
    assert wecom_api_base_url(configured) == "https://qy-proxy.example.gov.cn/qy/"


async def test_message_routes_of_every_simulated_platform_are_documented_under_simulator(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    expected = {
        ("/sim/wechat/cgi-bin/message/subscribe/send", "post"),
        ("/sim/wechat/messages", "get"),
        ("/sim/wechat/messages", "delete"),
        ("/sim/alipay/messages", "get"),
        ("/sim/alipay/messages", "delete"),
        ("/sim/wecom/cgi-bin/gettoken", "get"),
        ("/sim/wecom/cgi-bin/message/send", "post"),
        ("/sim/wecom/messages", "get"),
        ("/sim/wecom/messages", "delete"),
        ("/sim/wecom/token-ttl", "post"),
    }
    for path, method in expected:
        operation = paths[path][method]
        assert operation["tags"] == ["simulator"], (path, method)
        assert operation["summary"], (path, method)
    assert {p["name"] for p in paths["/sim/wecom/messages"]["get"]["parameters"]} == {"userid"}
    assert {p["name"] for p in paths["/sim/wechat/messages"]["get"]["parameters"]} == {"openid"}
    assert {p["name"] for p in paths["/sim/alipay/messages"]["get"]["parameters"]} == {"user_id"}
