"""WeChat subscribe messages through wechatpy against the simulator: delivery, WeChat's value rules, token refresh,
and the errors a retrying sender sorts by (MessageRejected for good, PlatformUnavailable for later)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from pathlib import Path
from typing import get_args

import pytest

from app.core.config import ConfigError, SubscribeFieldType, load_settings
from app.platforms import MessageRejected, PlatformError, PlatformUnavailable
from app.platforms.sim.wechat import TOKENS_ISSUED_KEY, VALUE_RULES
from app.platforms.wechat import ACCESS_TOKEN_KEY, SharedAccessToken, TokenRejected
from tests.platforms.conftest import platform_log

# A value of each keyword type that WeChat takes.
SAMPLE_VALUES = {
    "thing": "不动产登记（首次登记）",
    "number": "3",
    "letter": "ABC",
    "symbol": "%",
    "character_string": "SQ2026112300001",
    "time": "2026-11-23 15:00",
    "date": "2026年11月23日",
    "amount": "¥120.50",
    "phone_number": "0766-66888866",
    "car_number": "粤A8Z888",
    "name": "张三",
    "phrase": "已受理",
}
CASE_PROGRESS = {
    "thing1": "不动产登记",
    "character_string2": "SQ20261123000001",
    "phrase3": "已受理",
    "time4": "2026-11-23 15:00",
    "thing5": "请留意后续通知",
}


@pytest.fixture
def openid() -> str:
    """A recipient of this test only."""
    return "oMsg" + secrets.token_hex(10)


@pytest.fixture
def template_id(settings) -> str:
    return settings.notifications.wechat_templates["case_progress"].template_id


@pytest.fixture
async def cached_token(app):
    """A valid token in the cache, so faults set by the test hit the message call, not the token fetch."""
    return await app.ctx.platforms.wechat.access_token()


async def delivered(client, openid: str) -> list[dict]:
    response = await client.get("/sim/wechat/messages", params={"openid": openid})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_send__lands_at_the_inspection_endpoint_in_order(app, client, settings, openid, template_id):
    wechat = app.ctx.platforms.wechat
    reminder = settings.notifications.wechat_templates["appointment_reminder"]
    await wechat.send_subscribe_message(
        openid=openid, template_id=template_id, data=CASE_PROGRESS, page="pages/cases/detail?id=42"
    )
    reminder_data = {
        "thing1": "户籍迁入",
        "time2": "2026年11月24日 09:30",
        "thing3": "市民中心二楼",
        "thing4": "请带身份证",
    }
    await wechat.send_subscribe_message(openid=openid, template_id=reminder.template_id, data=reminder_data)
    first, second = await delivered(client, openid)
    assert (first["template_id"], first["data"], first["page"]) == (
        template_id,
        CASE_PROGRESS,
        "pages/cases/detail?id=42",
    )
    assert (second["template_id"], second["data"], second["page"]) == (reminder.template_id, reminder_data, None)
    assert first["received_at"] <= second["received_at"]
    assert first["received_at"].endswith("+08:00")


@pytest.mark.parametrize(
    "purpose",
    [
        "case_progress",
        "supplement_required",
        "appointment_booked",
        "appointment_reminder",
        "appointment_cancelled",
        "queue_called",
        "payment",
        "feedback_reply",
    ],
)
async def test_send__every_configured_template_takes_values_of_its_types(app, client, settings, openid, purpose):
    template = settings.notifications.wechat_templates[purpose]
    data = {key: SAMPLE_VALUES[kind] for key, kind in template.fields.items()}
    await app.ctx.platforms.wechat.send_subscribe_message(openid=openid, template_id=template.template_id, data=data)
    assert [item["data"] for item in await delivered(client, openid)] == [data]


async def test_send__an_overlong_thing_is_rejected_for_good_with_47003(app, client, openid, template_id, caplog):
    data = {**CASE_PROGRESS, "thing1": "这是一个超过二十个字符的事项名称用于测试长度限制"}
    with caplog.at_level(logging.INFO), pytest.raises(MessageRejected) as rejected:
        await app.ctx.platforms.wechat.send_subscribe_message(openid=openid, template_id=template_id, data=data)
    assert rejected.value.errcode == "47003"
    assert "thing1" in rejected.value.errmsg
    assert isinstance(rejected.value, PlatformError)
    assert await delivered(client, openid) == []
    assert openid not in platform_log(caplog)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("phrase3", "accepted"),  # phrase: Chinese only
        ("phrase3", "已经受理完毕了"),  # phrase: at most 5
        ("character_string2", "受理编号一"),  # character_string: ASCII only
        ("character_string2", "S" * 33),
        ("time4", "明天下午"),
        ("time4", "2026-13-01 10:00"),
        ("thing5", ""),
        ("thing9", "not a keyword of the template"),
    ],
)
async def test_send__values_breaking_wechat_rules_are_rejected(app, openid, template_id, key, value):
    with pytest.raises(MessageRejected) as rejected:
        await app.ctx.platforms.wechat.send_subscribe_message(
            openid=openid, template_id=template_id, data={**CASE_PROGRESS, key: value}
        )
    assert rejected.value.errcode == "47003"


async def test_send__unknown_template_is_rejected_with_40037(app, client, openid):
    with pytest.raises(MessageRejected) as rejected:
        await app.ctx.platforms.wechat.send_subscribe_message(
            openid=openid, template_id="NoSuchTemplate0000000000", data=CASE_PROGRESS
        )
    assert rejected.value.errcode == "40037"
    assert await delivered(client, openid) == []


async def test_send__invalid_openid_is_rejected_with_40003(app, template_id):
    with pytest.raises(MessageRejected) as rejected:
        await app.ctx.platforms.wechat.send_subscribe_message(
            openid="not an openid", template_id=template_id, data=CASE_PROGRESS
        )
    assert rejected.value.errcode == "40003"


async def test_send__an_invalid_cached_token_is_replaced_once_transparently(app, client, cache, openid, template_id):
    await cache.set(ACCESS_TOKEN_KEY, "never-issued-token", 3600)
    await app.ctx.platforms.wechat.send_subscribe_message(openid=openid, template_id=template_id, data=CASE_PROGRESS)
    assert len(await delivered(client, openid)) == 1
    assert await cache.get(ACCESS_TOKEN_KEY) not in (None, "never-issued-token")


async def test_send__an_expired_cached_token_is_replaced_once_transparently(
    app, client, cache, settings, openid, template_id
):
    assert (await client.post("/sim/wechat/token-ttl", json={"seconds": 1})).status_code == 200
    try:
        answer = await client.get(
            "/sim/wechat/cgi-bin/token",
            params={
                "grant_type": "client_credential",
                "appid": settings.wechat.appid,
                "secret": settings.wechat.secret,
            },
        )
    finally:
        await client.post("/sim/wechat/token-ttl", json={"seconds": 7200})
    expired = answer.json()["access_token"]
    await asyncio.sleep(1.1)
    # The cache still holds it (as after a clock skew or a token WeChat cut short): WeChat answers 42001.
    await cache.set(ACCESS_TOKEN_KEY, expired, 3600)
    issued_before = int(await cache.get(TOKENS_ISSUED_KEY) or 0)
    await app.ctx.platforms.wechat.send_subscribe_message(openid=openid, template_id=template_id, data=CASE_PROGRESS)
    assert len(await delivered(client, openid)) == 1
    assert int(await cache.get(TOKENS_ISSUED_KEY)) == issued_before + 1
    assert await cache.get(ACCESS_TOKEN_KEY) != expired


async def test_token_refusal__is_retried_once_with_a_fresh_token_then_an_error(cache):
    fetched: list[str] = []
    tried: list[str] = []

    async def fetch() -> dict:
        fetched.append(f"token-{len(fetched)}")
        return {"access_token": fetched[-1], "expires_in": 7200}

    async def always_refused(token: str) -> None:
        tried.append(token)
        raise TokenRejected(40001)

    shared = SharedAccessToken(
        "wechat", cache, key="test:refused:token", refresh_lock_key="test:refused:lock", timeout_seconds=5, fetch=fetch
    )
    with pytest.raises(PlatformError) as error:
        await shared.call("subscribe_message", always_refused)
    assert not isinstance(error.value, MessageRejected)
    assert tried == ["token-0", "token-1"]
    assert await cache.get("test:refused:token") is None


async def test_faults__a_failing_platform_is_unavailable_then_recovers(
    app, client, openid, template_id, cached_token, faults
):
    wechat = app.ctx.platforms.wechat
    await faults("wechat", 1.0)
    with pytest.raises(PlatformUnavailable) as unavailable:
        await wechat.send_subscribe_message(openid=openid, template_id=template_id, data=CASE_PROGRESS)
    assert unavailable.value.errcode == "-1"
    await faults("wechat", 0)
    await wechat.send_subscribe_message(openid=openid, template_id=template_id, data=CASE_PROGRESS)
    assert len(await delivered(client, openid)) == 1


@pytest.mark.parametrize(
    ("errcode", "error"),
    [
        (45009, PlatformUnavailable),
        (45011, PlatformUnavailable),
        (43101, MessageRejected),
        (41030, MessageRejected),
        (40164, PlatformError),
    ],
)
async def test_faults__wechat_errcodes_sort_into_retry_later_or_never(
    app, openid, template_id, cached_token, faults, errcode, error
):
    await faults("wechat", 1.0, errcode=errcode)
    with pytest.raises(error) as raised:
        await app.ctx.platforms.wechat.send_subscribe_message(
            openid=openid, template_id=template_id, data=CASE_PROGRESS
        )
    assert type(raised.value) is error
    if error is not PlatformError:
        assert raised.value.errcode == str(errcode)


async def test_sim__answers_bad_calls_like_wechat(client, openid, template_id, cached_token):
    path = "/sim/wechat/cgi-bin/message/subscribe/send"
    body = {
        "touser": openid,
        "template_id": template_id,
        "data": {key: {"value": value} for key, value in CASE_PROGRESS.items()},
    }
    no_token = await client.post(path, json=body)
    assert no_token.status_code == 200 and no_token.json()["errcode"] == 41001
    unknown = await client.post(path, params={"access_token": "never-issued"}, json=body)
    assert unknown.json()["errcode"] == 40001
    not_json = await client.post(path, params={"access_token": cached_token}, content=b"{oops")
    assert not_json.json()["errcode"] == 47001
    ok = await client.post(path, params={"access_token": cached_token}, json=body)
    assert ok.json()["errcode"] == 0 and ok.json()["errmsg"] == "ok"


async def test_inspection__delete_clears_one_recipient(app, client, openid, template_id):
    other = openid + "x"
    for recipient in (openid, other):
        await app.ctx.platforms.wechat.send_subscribe_message(
            openid=recipient, template_id=template_id, data=CASE_PROGRESS
        )
    cleared = await client.delete("/sim/wechat/messages", params={"openid": openid})
    assert cleared.status_code == 200 and cleared.json() == {"items": []}
    assert await delivered(client, openid) == []
    assert len(await delivered(client, other)) == 1
    missing = await client.get("/sim/wechat/messages")
    assert missing.status_code == 422


def test_sim_rules_cover_every_keyword_type_of_the_config():
    assert set(VALUE_RULES) == set(get_args(SubscribeFieldType)) == set(SAMPLE_VALUES)


def test_config__a_keyword_named_unlike_its_type_stops_start_up(tmp_path: Path):
    source = Path(__file__).resolve().parents[2] / "config.toml"
    text = source.read_text(encoding="utf-8").replace('phrase3 = "phrase"', 'phrase3 = "thing"', 1)
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"notifications\.wechat_templates\.case_progress\.fields") as error:
        load_settings(path=config, environ={})
    assert "\n" not in str(error.value)


async def test_a_resend_with_the_same_dedupe_key_is_delivered_once(app, client, openid, template_id):
    wechat = app.ctx.platforms.wechat
    for _ in range(2):  # a worker died after WeChat answered, before it recorded the send: the next one resends
        await wechat.send_subscribe_message(
            openid=openid, template_id=template_id, data=CASE_PROGRESS, dedupe_key="71:wechat:" + openid
        )
    await wechat.send_subscribe_message(
        openid=openid, template_id=template_id, data=CASE_PROGRESS, dedupe_key="72:wechat:" + openid
    )
    assert len(await delivered(client, openid)) == 2
