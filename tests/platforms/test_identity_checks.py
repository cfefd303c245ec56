"""The identity checks through the real clients against the simulator: WeChat's checkrealnameinfo, Alipay's
certify.open.*, the SMS gateway; and the simulator refusing what the platforms refuse."""

from __future__ import annotations

import time
import uuid

import pytest

from app.platforms import PlatformError
from app.platforms.sms import code_text, sim_sms_secret, sim_sms_signature
from tests import factories


def _openid() -> str:
    return "o" + uuid.uuid4().hex[:27]


async def _consent(client, openid: str) -> str:
    return (await client.post("/sim/wechat/real-name/consent", json={"openid": openid})).json()["code"]


async def test_wechat_check_passes_only_the_real_name_wechat_pay_holds(client, app):
    wechat, openid, number = app.ctx.platforms.wechat, _openid(), factories.id_number()
    await client.post("/sim/wechat/real-name", json={"openid": openid, "real_name": "张一", "id_number": number})
    passed = await wechat.check_real_name(
        openid=openid, name="张一", id_number=number, code=await _consent(client, openid)
    )
    assert passed.passed
    other = factories.id_number()
    wrong_id = await wechat.check_real_name(
        openid=openid, name="张一", id_number=other, code=await _consent(client, openid)
    )
    assert (wrong_id.passed, wrong_id.reason) == (False, "id_mismatch")
    # A consent code is good once.
    code = await _consent(client, openid)
    await wechat.check_real_name(openid=openid, name="张一", id_number=number, code=code)
    used = await wechat.check_real_name(openid=openid, name="张一", id_number=number, code=code)
    assert (used.passed, used.reason) == (False, "code_invalid")


async def test_checkrealnameinfo_refuses_what_wechat_refuses(client, app):
    openid = _openid()
    body = {"openid": openid, "real_name": "张一", "cred_id": factories.id_number(), "cred_type": "1"}
    url = "/sim/wechat/intp/realname/checkrealnameinfo"
    no_token = await client.post(url, json={**body, "code": await _consent(client, openid)})
    assert no_token.json()["errcode"] == 41001
    token = await app.ctx.platforms.wechat.access_token()
    passport = await client.post(
        url, params={"access_token": token}, json={**body, "cred_type": "2", "code": await _consent(client, openid)}
    )
    assert passport.json()["errcode"] == 47001
    missing_name = {**body, "real_name": "", "code": await _consent(client, openid)}
    assert (await client.post(url, params={"access_token": token}, json=missing_name)).json()["errcode"] == 47001


async def test_alipay_face_check_passes_the_claimed_persons_face_only(client, app):
    alipay = app.ctx.platforms.alipay
    number = factories.id_number()

    async def started() -> str:
        opened = await alipay.start_certify(
            outer_order_no="T" + uuid.uuid4().hex[:20], name="李一", id_number=number, return_url="https://x.test/m/"
        )
        return opened["certify_id"]

    certify_id = await started()
    assert not (await alipay.query_certify(certify_id)).passed  # not finished yet
    face = {"certify_id": certify_id, "real_name": "李一", "id_number": number}
    assert (await client.post("/sim/alipay/certify/face", json=face)).json() == {"passed": True}
    assert (await alipay.query_certify(certify_id)).passed

    someone_else = await started()
    face = {"certify_id": someone_else, "real_name": "李一", "id_number": factories.id_number()}
    assert (await client.post("/sim/alipay/certify/face", json=face)).json() == {"passed": False}
    verdict = await alipay.query_certify(someone_else)
    assert (verdict.passed, verdict.reason) == (False, "face_failed")


async def test_alipay_certify_initialize_refuses_a_repeated_order_number_and_a_bad_id(app):
    alipay = app.ctx.platforms.alipay
    order_no = "T" + uuid.uuid4().hex[:20]
    await alipay.start_certify(
        outer_order_no=order_no, name="李一", id_number=factories.id_number(), return_url="https://x.test/m/"
    )
    with pytest.raises(PlatformError):
        await alipay.start_certify(
            outer_order_no=order_no, name="李一", id_number=factories.id_number(), return_url="https://x.test/m/"
        )
    with pytest.raises(PlatformError):
        await alipay.start_certify(
            outer_order_no="T" + uuid.uuid4().hex[:20], name="李一", id_number="12345", return_url="https://x.test/m/"
        )


async def test_sms_client_reaches_the_gateway_which_refuses_bad_signatures_old_stamps_and_numbers(client, app):
    phone = factories.phone()
    await app.ctx.platforms.sms.send_code(phone=phone, code="123456", minutes=15)
    items = (await client.get("/sim/sms/messages", params={"phone": phone})).json()["items"]
    assert [item["text"] for item in items] == [code_text("123456", 15)]

    secret = sim_sms_secret(app.ctx.settings)

    async def send(number: str, *, stamp: int, key: str = secret):
        text, timestamp = "hello", str(stamp)
        signature = sim_sms_signature(key, timestamp=timestamp, phone=number, text=text)
        body = {"phone": number, "text": text, "timestamp": timestamp}
        return await client.post("/sim/sms/send", json=body, headers={"X-Signature": signature})

    now = int(time.time())
    assert (await send(phone, stamp=now)).status_code == 200
    assert (await send(phone, stamp=now, key="not-the-key")).json()["code"] == "AuthFailure.SignatureFailure"
    assert (await send(phone, stamp=now - 3600)).json()["code"] == "AuthFailure.SignatureExpire"
    assert (await send("12345", stamp=now)).json()["code"] == "InvalidParameterValue.IncorrectPhoneNumber"
