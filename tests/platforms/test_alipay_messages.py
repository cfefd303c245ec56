"""Alipay template messages through alipay-sdk-python against the simulated gateway (RSA2 both ways): delivery,
the template's keywords, and the errors a retrying sender sorts by."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets

import pytest
from alipay.aop.api.domain.AlipayOpenAppMiniTemplatemessageSendModel import AlipayOpenAppMiniTemplatemessageSendModel
from alipay.aop.api.request.AlipayOpenAppMiniTemplatemessageSendRequest import (
    AlipayOpenAppMiniTemplatemessageSendRequest,
)
from alipay.aop.api.response.AlipayOpenAppMiniTemplatemessageSendResponse import (
    AlipayOpenAppMiniTemplatemessageSendResponse,
)

from app.platforms import MessageRejected, PlatformError, PlatformUnavailable
from app.platforms.alipay import AlipayKeys, AlipaySdkClient, sdk_config
from app.platforms.keys import ensure_sim_keys, generate_key_pair
from tests.platforms.conftest import platform_log

CASE_PROGRESS = {
    "keyword1": "不动产登记",
    "keyword2": "SQ20261123000001",
    "keyword3": "已受理",
    "keyword4": "2026-11-23 15:00",
    "keyword5": "请留意后续通知",
}


@pytest.fixture(scope="module")
def stranger_keys():
    """A key pair neither side of the simulator knows."""
    return generate_key_pair()


@pytest.fixture
async def user_id(client, settings) -> str:
    """A recipient of this test only, shaped like an Alipay user id, subscribed to every template a few times."""
    recipient = f"2088{secrets.randbelow(10**12):012d}"
    templates = [template.template_id for template in settings.notifications.alipay_templates.values()]
    for _ in range(5):
        for start in range(0, len(templates), 3):
            subscribed = {"user_id": recipient, "template_ids": templates[start : start + 3]}
            assert (await client.post("/sim/alipay/subscribe", json=subscribed)).status_code == 200
    return recipient


@pytest.fixture
def template_id(settings) -> str:
    return settings.notifications.alipay_templates["case_progress"].template_id


async def delivered(client, user_id: str) -> list[dict]:
    response = await client.get("/sim/alipay/messages", params={"user_id": user_id})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_send__lands_at_the_inspection_endpoint_in_order(app, client, settings, user_id, template_id):
    alipay = app.ctx.platforms.alipay
    cancelled = settings.notifications.alipay_templates["appointment_cancelled"]
    await alipay.send_template_message(
        user_id=user_id, template_id=template_id, data=CASE_PROGRESS, page="pages/cases/detail?id=42"
    )
    cancel_data = {"keyword1": "户籍迁入", "keyword2": "2026年11月24日 09:30", "keyword3": "大厅临时闭厅"}
    await alipay.send_template_message(user_id=user_id, template_id=cancelled.template_id, data=cancel_data)
    first, second = await delivered(client, user_id)
    assert (first["template_id"], first["data"], first["page"]) == (
        template_id,
        CASE_PROGRESS,
        "pages/cases/detail?id=42",
    )
    assert (second["template_id"], second["data"], second["page"]) == (cancelled.template_id, cancel_data, None)
    assert first["received_at"] <= second["received_at"]


async def test_send__unknown_user_is_rejected_for_good(app, client, template_id, caplog):
    with caplog.at_level(logging.INFO), pytest.raises(MessageRejected) as rejected:
        await app.ctx.platforms.alipay.send_template_message(
            user_id="someone-else", template_id=template_id, data=CASE_PROGRESS
        )
    assert rejected.value.errcode == "USER_NOT_EXIST"
    assert rejected.value.errmsg
    assert "someone-else" not in platform_log(caplog)


async def test_send__unknown_template_is_rejected_for_good(app, client, user_id):
    with pytest.raises(MessageRejected) as rejected:
        await app.ctx.platforms.alipay.send_template_message(
            user_id=user_id, template_id="Tm9TdWNoVGVtcGxhdGU=", data=CASE_PROGRESS
        )
    assert rejected.value.errcode == "USER_TEMPLATE_ILLEGAL"
    assert await delivered(client, user_id) == []


@pytest.mark.parametrize(
    "data",
    [
        {key: value for key, value in CASE_PROGRESS.items() if key != "keyword5"},  # one keyword short
        {**CASE_PROGRESS, "keyword6": "多余的"},
        {**CASE_PROGRESS, "thing1": "WeChat's key"},
    ],
)
async def test_send__data_not_matching_the_template_keywords_is_rejected(app, client, user_id, template_id, data):
    with pytest.raises(MessageRejected) as rejected:
        await app.ctx.platforms.alipay.send_template_message(user_id=user_id, template_id=template_id, data=data)
    assert rejected.value.errcode == "INVALID_PARAMETER"
    assert await delivered(client, user_id) == []


async def test_faults__a_failing_gateway_is_unavailable_then_recovers(app, client, user_id, template_id, faults):
    alipay = app.ctx.platforms.alipay
    await faults("alipay", 1.0)
    with pytest.raises(PlatformUnavailable) as unavailable:
        await alipay.send_template_message(user_id=user_id, template_id=template_id, data=CASE_PROGRESS)
    assert unavailable.value.errcode == "isp.unknow-error"
    await faults("alipay", 0)
    await alipay.send_template_message(user_id=user_id, template_id=template_id, data=CASE_PROGRESS)
    assert len(await delivered(client, user_id)) == 1


async def test_gateway__refuses_a_message_signed_with_another_key(
    client, settings, user_id, template_id, stranger_keys
):
    sim_keys = ensure_sim_keys(settings)
    config = sdk_config(
        settings,
        AlipayKeys(app_private_key=stranger_keys.private_pem, alipay_public_key=sim_keys.alipay_platform.public_pem),
    )
    sdk = AlipaySdkClient(config, timeout_seconds=5)
    model = AlipayOpenAppMiniTemplatemessageSendModel()
    model.to_user_id, model.user_template_id = user_id, template_id
    model.data = json.dumps({key: {"value": value} for key, value in CASE_PROGRESS.items()}, ensure_ascii=False)
    try:
        # The SDK verifies the gateway's signed refusal, under the method's own response key.
        content = await asyncio.to_thread(sdk.execute, AlipayOpenAppMiniTemplatemessageSendRequest(biz_model=model))
    finally:
        sdk.close()
    response = AlipayOpenAppMiniTemplatemessageSendResponse()
    response.parse_response_content(content)
    assert (response.code, response.sub_code) == ("40002", "isv.invalid-signature")
    assert await delivered(client, user_id) == []


async def test_send__our_request_with_a_wrong_key_is_a_platform_error_not_a_rejection(
    client, settings, make_alipay, user_id, template_id, stranger_keys, caplog
):
    sim_keys = ensure_sim_keys(settings)
    alipay = make_alipay(
        settings,
        keys=AlipayKeys(
            app_private_key=stranger_keys.private_pem, alipay_public_key=sim_keys.alipay_platform.public_pem
        ),
    )
    with caplog.at_level(logging.INFO), pytest.raises(PlatformError) as error:
        await alipay.send_template_message(user_id=user_id, template_id=template_id, data=CASE_PROGRESS)
    assert type(error.value) is PlatformError
    assert "isv.invalid-signature" in platform_log(caplog)
    assert await delivered(client, user_id) == []


async def test_send__an_answer_signed_with_another_key_is_refused(
    client, settings, make_alipay, user_id, template_id, stranger_keys, caplog
):
    sim_keys = ensure_sim_keys(settings)
    alipay = make_alipay(
        settings,
        keys=AlipayKeys(app_private_key=sim_keys.alipay_app.private_pem, alipay_public_key=stranger_keys.public_pem),
    )
    with caplog.at_level(logging.INFO), pytest.raises(PlatformError) as error:
        await alipay.send_template_message(user_id=user_id, template_id=template_id, data=CASE_PROGRESS)
    assert type(error.value) is PlatformError
    assert "signature did not verify" in platform_log(caplog)


async def test_inspection__delete_clears_one_recipient(app, client, user_id, template_id):
    await app.ctx.platforms.alipay.send_template_message(user_id=user_id, template_id=template_id, data=CASE_PROGRESS)
    cleared = await client.delete("/sim/alipay/messages", params={"user_id": user_id})
    assert cleared.status_code == 200 and cleared.json() == {"items": []}
    assert await delivered(client, user_id) == []
    assert (await client.get("/sim/alipay/messages", params={"user_id": "has spaces"})).status_code == 422
