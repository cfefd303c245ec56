"""Real-name identity through HTTP: a claim binds nothing until WeChat or Alipay confirms the person."""

import logging

import pytest

from app.audit.models import AuditEntry
from app.identity import service as identity
from app.identity.models import Citizen
from tests import factories
from tests.core.test_errors import assert_error_shape


async def _me(client, citizen) -> dict:
    response = await client.get("/api/v1/me", headers=citizen["headers"])
    assert response.status_code == 200, response.text
    return response.json()


# ---- the claim and its confirmation ----


async def test_a_claim_binds_nothing_until_wechat_confirms_the_person(client, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="tortoise")
    citizen = await factories.wechat_login(client)
    number, phone = factories.id_number(), factories.phone()
    claim = await factories.claim_identity(client, citizen, name="李四", number=number, phone_number=phone)
    assert claim.status_code == 202, claim.text
    verification = claim.json()["verification"]
    assert verification["status"] == "pending" and verification["method"] == "wechat"
    assert verification["wechat"] == {"appid": "wx308bd2aeb83d3345", "path": "subPages/city/wxpay-auth/main"}
    assert verification["sms_code_required"] is True
    assert verification["id_number_masked"] == number[:3] + "*" * 11 + number[-4:]
    assert (await _me(client, citizen))["real_name_verified"] is False

    confirmed = await factories.verify_identity(client, citizen, name="李四", number=number, phone_number=phone)
    assert confirmed.status_code == 200, confirmed.text
    me = await _me(client, citizen)
    assert me["real_name_verified"] is True and me["real_name_method"] == "wechat"
    assert me["name"] == "李四"
    assert me["id_number_masked"] == number[:3] + "*" * 11 + number[-4:]
    assert me["phone_masked"] == phone[:3] + "****" + phone[-4:]
    assert number not in claim.text and number not in confirmed.text

    raw = (await Citizen.filter(id=citizen["id"]).values())[0]
    stored = " ".join(str(value) for value in raw.values())
    assert number not in stored and number[6:14] not in stored and phone not in stored
    assert raw["id_number_encrypted"].startswith("v2:")
    assert number not in caplog.text and phone not in caplog.text


async def test_alipay_face_verification_binds_an_alipay_citizen(client):
    citizen = await factories.alipay_login(client)
    number = factories.id_number()
    response = await factories.verify_identity(client, citizen, name="钱二", number=number, method="alipay")
    assert response.status_code == 200, response.text
    assert response.json()["real_name_method"] == "alipay"
    assert response.json()["channels"] == ["alipay"]


async def test_alipay_certify_url_is_a_signed_page_of_the_gateway(client):
    citizen = await factories.alipay_login(client)
    claim = await factories.claim_identity(
        client, citizen, name="钱二", number=factories.id_number(), phone_number=factories.phone(), method="alipay"
    )
    alipay = claim.json()["verification"]["alipay"]
    assert "method=alipay.user.certify.open.certify" in alipay["certify_url"]
    page = await client.get(alipay["certify_url"])
    assert page.status_code == 200 and "刷脸" in page.text
    tampered = await client.get(alipay["certify_url"].replace("sign=", "sign=A"))
    assert tampered.status_code == 400


@pytest.mark.parametrize(
    "really, reason",
    [
        (None, "not_real_named"),  # WeChat Pay holds no real name for this user
        (("王某", None), "name_mismatch"),  # the user is someone else
        (("周五", "other"), "id_mismatch"),  # same name, another ID number
    ],
)
async def test_wechat_refuses_a_claim_that_is_not_the_user(client, really, reason):
    citizen = await factories.wechat_login(client)
    number, phone = factories.id_number(), factories.phone()
    if really is not None:
        real_number = factories.id_number() if really[1] == "other" else number
        registered = {"openid": citizen["openid"], "real_name": really[0], "id_number": real_number}
        assert (await client.post("/sim/wechat/real-name", json=registered)).status_code == 200
    claim = await factories.claim_identity(client, citizen, name="周五", number=number, phone_number=phone)
    verification = claim.json()["verification"]
    consent = (await client.post("/sim/wechat/real-name/consent", json={"openid": citizen["openid"]})).json()
    response = await client.post(
        f"/api/v1/me/identity/verifications/{verification['id']}/confirm",
        headers=citizen["headers"],
        json={"code": consent["code"], "sms_code": await factories.texted_code(client, phone)},
    )
    error = assert_error_shape(response, 422, "IDENTITY_NOT_VERIFIED")
    assert error["details"]["reason"] == reason
    assert (await _me(client, citizen))["real_name_verified"] is False
    # the verification is over: confirming again is refused
    again = await client.post(
        f"/api/v1/me/identity/verifications/{verification['id']}/confirm",
        headers=citizen["headers"],
        json={"code": consent["code"], "sms_code": await factories.texted_code(client, phone)},
    )
    assert_error_shape(again, 409, "VERIFICATION_CLOSED")


async def test_a_consent_code_of_another_user_is_refused(client):
    citizen, other = await factories.wechat_login(client), await factories.wechat_login(client)
    number, phone = factories.id_number(), factories.phone()
    registered = {"openid": citizen["openid"], "real_name": "冯六", "id_number": number}
    await client.post("/sim/wechat/real-name", json=registered)
    verification = (
        await factories.claim_identity(client, citizen, name="冯六", number=number, phone_number=phone)
    ).json()["verification"]
    others_code = (await client.post("/sim/wechat/real-name/consent", json={"openid": other["openid"]})).json()
    response = await client.post(
        f"/api/v1/me/identity/verifications/{verification['id']}/confirm",
        headers=citizen["headers"],
        json={"code": others_code["code"], "sms_code": await factories.texted_code(client, phone)},
    )
    assert assert_error_shape(response, 422, "IDENTITY_NOT_VERIFIED")["details"]["reason"] == "code_invalid"


async def test_a_wrong_sms_code_counts_down_and_the_last_closes_the_verification(client, settings):
    citizen = await factories.wechat_login(client)
    number, phone = factories.id_number(), factories.phone()
    verification = (
        await factories.claim_identity(client, citizen, name="陈七", number=number, phone_number=phone)
    ).json()["verification"]
    right = await factories.texted_code(client, phone)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    url = f"/api/v1/me/identity/verifications/{verification['id']}/confirm"
    attempts = settings.identity.sms_attempts
    for left in range(attempts - 1, -1, -1):
        response = await client.post(url, headers=citizen["headers"], json={"code": "x", "sms_code": wrong})
        assert assert_error_shape(response, 422, "SMS_CODE_WRONG")["details"]["attempts_left"] == left
    closed = await client.post(url, headers=citizen["headers"], json={"code": "x", "sms_code": right})
    assert_error_shape(closed, 409, "VERIFICATION_CLOSED")


async def test_confirming_someone_elses_verification_is_404_and_a_late_one_409(client, clock):
    citizen, stranger = await factories.wechat_login(client), await factories.wechat_login(client)
    phone = factories.phone()
    verification = (
        await factories.claim_identity(client, citizen, name="褚八", number=factories.id_number(), phone_number=phone)
    ).json()["verification"]
    url = f"/api/v1/me/identity/verifications/{verification['id']}/confirm"
    body = {"code": "x", "sms_code": await factories.texted_code(client, phone)}
    assert_error_shape(await client.post(url, headers=stranger["headers"], json=body), 404, "VERIFICATION_NOT_FOUND")
    missing = "/api/v1/me/identity/verifications/999999999/confirm"
    assert_error_shape(await client.post(missing, headers=citizen["headers"], json=body), 404, "VERIFICATION_NOT_FOUND")
    clock.advance(minutes=16)
    assert_error_shape(await client.post(url, headers=citizen["headers"], json=body), 409, "VERIFICATION_EXPIRED")


async def test_wechat_verification_needs_the_consent_code(client):
    citizen = await factories.wechat_login(client)
    phone = factories.phone()
    verification = (
        await factories.claim_identity(client, citizen, name="卫九", number=factories.id_number(), phone_number=phone)
    ).json()["verification"]
    response = await client.post(
        f"/api/v1/me/identity/verifications/{verification['id']}/confirm",
        headers=citizen["headers"],
        json={"sms_code": await factories.texted_code(client, phone)},
    )
    assert_error_shape(response, 422, "CONSENT_CODE_REQUIRED")


async def test_a_method_of_a_platform_the_citizen_is_not_on_is_422(client):
    citizen = await factories.wechat_login(client)
    response = await factories.claim_identity(
        client, citizen, name="蒋十", number=factories.id_number(), phone_number=factories.phone(), method="alipay"
    )
    assert_error_shape(response, 422, "VERIFICATION_METHOD_UNAVAILABLE")


async def test_wechat_down_is_503_and_the_verification_can_be_confirmed_later(client, faults):
    citizen = await factories.wechat_login(client)
    number, phone = factories.id_number(), factories.phone()
    registered = {"openid": citizen["openid"], "real_name": "沈一", "id_number": number}
    await client.post("/sim/wechat/real-name", json=registered)
    verification = (
        await factories.claim_identity(client, citizen, name="沈一", number=number, phone_number=phone)
    ).json()["verification"]
    consent = (await client.post("/sim/wechat/real-name/consent", json={"openid": citizen["openid"]})).json()
    url = f"/api/v1/me/identity/verifications/{verification['id']}/confirm"
    body = {"code": consent["code"], "sms_code": await factories.texted_code(client, phone)}
    await faults("wechat", 1.0)
    assert_error_shape(await client.post(url, headers=citizen["headers"], json=body), 503, "PLATFORM_UNAVAILABLE")
    await client.delete("/sim/faults")
    response = await client.post(url, headers=citizen["headers"], json=body)
    assert response.status_code == 200, response.text


async def test_sms_gateway_down_is_503(client, faults):
    citizen = await factories.wechat_login(client)
    await faults("sms", 1.0)
    response = await factories.claim_identity(
        client, citizen, name="韩二", number=factories.id_number(), phone_number=factories.phone()
    )
    assert_error_shape(response, 503, "PLATFORM_UNAVAILABLE")


# ---- what a stranger who knows a name and an ID number can do ----


async def test_a_stranger_gets_no_binding_and_the_real_persons_accounts_still_work_and_stay_apart(client):
    number = factories.id_number()
    # The stranger knows the name and the ID number; WeChat Pay knows the stranger as someone else.
    stranger = await factories.wechat_login(client)
    refused = await factories.verify_identity(
        client, stranger, name="杨三", number=number, really=("马某", factories.id_number())
    )
    assert_error_shape(refused, 422, "IDENTITY_NOT_VERIFIED")
    stranger_on_alipay = await factories.alipay_login(client)
    face = await factories.verify_identity(
        client, stranger_on_alipay, name="杨三", number=number, method="alipay", really=("马某", factories.id_number())
    )
    assert_error_shape(face, 422, "IDENTITY_NOT_VERIFIED")

    person = await factories.wechat_login(client)
    assert (await factories.verify_identity(client, person, name="杨三", number=number)).status_code == 200
    person_on_alipay = await factories.alipay_login(client)
    folded = await factories.verify_identity(client, person_on_alipay, name="杨三", number=number, method="alipay")
    assert folded.status_code == 200, folded.text
    assert folded.json()["id"] == person["id"]
    assert folded.json()["channels"] == ["wechat", "alipay"]
    assert (await _me(client, person_on_alipay))["id"] == person["id"]

    for account in (stranger, stranger_on_alipay):
        me = await _me(client, account)
        assert me["id"] not in (person["id"],) and me["real_name_verified"] is False and me["id_number_masked"] is None
    # a new Alipay login of the person lands on the person's one account, never on the stranger's
    again = await factories.alipay_login(client, person_on_alipay["user_id"])
    assert again["id"] == person["id"]


async def test_a_verified_person_takes_back_an_identity_an_unverified_claim_holds(client, app):
    number = factories.id_number()
    # An account that bound the number by checksum alone, before verification existed (the migration left it so).
    claimant = await factories.wechat_login(client)
    held = identity.describe_id_number(number, cipher=app.ctx.cipher)
    await Citizen.filter(id=claimant["id"]).update(name="朱四", real_name_verified_at=None, **held)

    person = await factories.wechat_login(client)
    response = await factories.verify_identity(client, person, name="朱四", number=number)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == person["id"] and response.json()["real_name_verified"] is True
    claimant_now = await _me(client, claimant)
    assert claimant_now["id_number_masked"] is None and claimant_now["name"] is None
    assert claimant_now["channels"] == ["wechat"]  # the claimant keeps their login, not the identity
    entry = await AuditEntry.filter(action="identity_taken_back", object_id=str(claimant["id"])).first()
    assert entry is not None and entry.after == {"bound_to_citizen": person["id"]}


async def test_the_claim_answers_a_taken_and_a_free_id_number_alike(client):
    holder = await factories.real_name_citizen(client, name="秦五")
    free_number = factories.id_number()
    answers = []
    for number in (holder["id_number"], free_number):
        claimant = await factories.wechat_login(client)
        answers.append(
            await factories.claim_identity(client, claimant, name="秦五", number=number, phone_number="13912340000")
        )
    taken, free = answers
    assert taken.status_code == free.status_code == 202

    def shape(response) -> dict:
        body = response.json()
        verification = {
            key: value
            for key, value in body["verification"].items()
            if key not in ("id", "expires_at", "id_number_masked")
        }
        citizen = {key: value for key, value in body["citizen"].items() if key not in ("id", "created_at")}
        return {"verification": verification, "citizen": citizen}

    assert shape(taken) == shape(free)


async def test_claims_are_limited_per_account_and_per_id_number(client, settings):
    per_account = settings.identity.claims_per_account_per_day
    citizen = await factories.wechat_login(client)
    for _ in range(per_account):
        response = await factories.claim_identity(
            client, citizen, name="尤六", number=factories.id_number(), phone_number=factories.phone()
        )
        assert response.status_code == 202, response.text
    over = await factories.claim_identity(
        client, citizen, name="尤六", number=factories.id_number(), phone_number=factories.phone()
    )
    assert_error_shape(over, 429, "RATE_LIMITED")

    number = factories.id_number()
    for _ in range(settings.identity.claims_per_id_per_day):
        someone = await factories.wechat_login(client)
        response = await factories.claim_identity(
            client, someone, name="许七", number=number, phone_number=factories.phone()
        )
        assert response.status_code == 202, response.text
    someone = await factories.wechat_login(client)
    over = await factories.claim_identity(client, someone, name="许七", number=number, phone_number=factories.phone())
    assert_error_shape(over, 429, "RATE_LIMITED")


# ---- a bound identity ----


async def test_a_bound_identity_cannot_be_swapped_but_the_phone_can_change(client):
    citizen = await factories.real_name_citizen(client, name="孙七")
    other = await factories.claim_identity(
        client, citizen, name="孙七", number=factories.id_number(), phone_number="13912345678"
    )
    assert_error_shape(other, 409, "IDENTITY_ALREADY_BOUND")
    same = await factories.verify_identity(
        client, citizen, name="孙七", number=citizen["id_number"], phone_number="13800001111"
    )
    assert same.status_code == 200, same.text
    assert same.json()["phone_masked"] == "138****1111"


async def test_a_second_wechat_account_of_a_verified_person_is_refused(client):
    person = await factories.real_name_citizen(client, name="吴九")
    second = await factories.wechat_login(client)
    response = await factories.verify_identity(client, second, name="吴九", number=person["id_number"])
    assert_error_shape(response, 409, "IDENTITY_TAKEN")
    assert (await _me(client, second))["real_name_verified"] is False
    assert (await _me(client, person))["real_name_verified"] is True


@pytest.mark.parametrize(
    "id_number, message_part",
    [
        ("110101199003074579", "校验位"),
        ("110101199013074578", "出生日期"),
        ("110101900307457", "15 位"),
        ("11010119900307457", "18 位"),
        ("abc", "18 位"),
    ],
)
async def test_bad_id_numbers_are_422_invalid_id_number(client, id_number, message_part):
    citizen = await factories.wechat_login(client)
    response = await factories.claim_identity(
        client, citizen, name="王五", number=id_number, phone_number="13912345678"
    )
    error = assert_error_shape(response, 422, "INVALID_ID_NUMBER")
    assert message_part in error["message"]


async def test_lower_case_x_is_accepted(client):
    from app.identity.id_number import check_digit

    first17 = next(f"11010519491231{n:03d}" for n in range(1000) if check_digit(f"11010519491231{n:03d}") == "X")
    citizen = await factories.wechat_login(client)
    response = await factories.verify_identity(
        client, citizen, name="赵六", number=first17 + "x", really=("赵六", first17 + "X")
    )
    assert response.status_code == 200, response.text
    assert response.json()["id_number_masked"].endswith("X")


async def test_bad_phone_is_422(client):
    citizen = await factories.wechat_login(client)
    response = await factories.claim_identity(
        client, citizen, name="王五", number=factories.id_number(), phone_number="12345"
    )
    assert_error_shape(response, 422, "INVALID_PHONE")
