"""Alipay login through alipay-sdk-python against the simulated gateway, with RSA2 signatures both ways."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time

import pytest
from alipay.aop.api.request.AlipaySystemOauthTokenRequest import AlipaySystemOauthTokenRequest
from alipay.aop.api.response.AlipaySystemOauthTokenResponse import AlipaySystemOauthTokenResponse

from app.core.config import ConfigError
from app.platforms import LoginCodeInvalid, PlatformError, PlatformUnavailable
from app.platforms.alipay import (
    LIVE_GATEWAY_URL,
    AlipayKeys,
    AlipaySdkClient,
    alipay_gateway_url,
    alipay_keys,
    sdk_config,
)
from app.platforms.keys import ensure_sim_keys, generate_key_pair, rsa2_verify
from tests.platforms.conftest import alipay_auth_code, platform_log, with_changes


@pytest.fixture(scope="module")
def stranger_keys():
    """A key pair neither side of the simulator knows."""
    return generate_key_pair()


async def test_oauth_token__returns_the_user_the_code_was_issued_for(app, client):
    user = await app.ctx.platforms.alipay.oauth_token(await alipay_auth_code(client, user_id="2088000000000001"))
    assert user.user_id == "2088000000000001"
    assert user.access_token


async def test_oauth_token__without_user_id_gets_a_new_2088_user(app, client):
    user = await app.ctx.platforms.alipay.oauth_token(await alipay_auth_code(client))
    assert re.fullmatch(r"2088\d{12}", user.user_id)


async def test_oauth_token__a_code_works_once(app, client, caplog):
    auth_code = await alipay_auth_code(client)
    await app.ctx.platforms.alipay.oauth_token(auth_code)
    with caplog.at_level(logging.DEBUG), pytest.raises(LoginCodeInvalid):
        await app.ctx.platforms.alipay.oauth_token(auth_code)
    assert "isv.code-invalid" in platform_log(caplog)
    assert auth_code not in platform_log(caplog)


async def test_oauth_token__unknown_or_empty_code_is_refused(app):
    with pytest.raises(LoginCodeInvalid):
        await app.ctx.platforms.alipay.oauth_token("f" * 32)
    with pytest.raises(LoginCodeInvalid):
        await app.ctx.platforms.alipay.oauth_token("")


async def test_gateway__refuses_a_request_signed_with_another_key(client, settings, stranger_keys):
    sim_keys = ensure_sim_keys(settings)
    config = sdk_config(
        settings,
        AlipayKeys(app_private_key=stranger_keys.private_pem, alipay_public_key=sim_keys.alipay_platform.public_pem),
    )
    sdk = AlipaySdkClient(config, timeout_seconds=5)
    request = AlipaySystemOauthTokenRequest()
    request.grant_type = "authorization_code"
    request.code = await alipay_auth_code(client)
    try:
        # The SDK verifies the gateway's signed refusal, so this also proves error answers are signed.
        content = await asyncio.to_thread(sdk.execute, request)
    finally:
        sdk.close()
    response = AlipaySystemOauthTokenResponse()
    response.parse_response_content(content)
    assert (response.code, response.sub_code) == ("40002", "isv.invalid-signature")


async def test_oauth_token__our_request_with_a_wrong_key_is_a_platform_error(
    client, settings, make_alipay, stranger_keys, caplog
):
    sim_keys = ensure_sim_keys(settings)
    alipay = make_alipay(
        settings,
        keys=AlipayKeys(
            app_private_key=stranger_keys.private_pem, alipay_public_key=sim_keys.alipay_platform.public_pem
        ),
    )
    with caplog.at_level(logging.INFO), pytest.raises(PlatformError):
        await alipay.oauth_token(await alipay_auth_code(client))
    assert "isv.invalid-signature" in platform_log(caplog)


async def test_oauth_token__an_answer_signed_with_another_key_is_refused(
    client, settings, make_alipay, stranger_keys, caplog
):
    sim_keys = ensure_sim_keys(settings)
    alipay = make_alipay(
        settings,
        keys=AlipayKeys(app_private_key=sim_keys.alipay_app.private_pem, alipay_public_key=stranger_keys.public_pem),
    )
    with caplog.at_level(logging.INFO), pytest.raises(PlatformError):
        await alipay.oauth_token(await alipay_auth_code(client))
    assert "signature did not verify" in platform_log(caplog)
    assert "access_token" not in platform_log(caplog)


async def test_faults__failing_gateway_is_unavailable_until_cleared(app, client, faults):
    await faults("alipay", 1)
    with pytest.raises(PlatformUnavailable):
        await app.ctx.platforms.alipay.oauth_token(await alipay_auth_code(client))
    await faults("alipay", 0)
    user = await app.ctx.platforms.alipay.oauth_token(await alipay_auth_code(client, user_id="2088000000000002"))
    assert user.user_id == "2088000000000002"


async def test_faults__outage_answer_is_signed_like_alipay(client, settings, faults):
    await faults("alipay", 1)
    answer = await client.post("/sim/alipay/gateway.do", params={"method": "alipay.system.oauth.token"})
    content = _verified_content(answer.text, settings)
    assert '"code":"20000"' in content and '"msg":"Service Currently Unavailable"' in content


async def test_unreachable_gateway_is_unavailable(settings, make_alipay):
    alipay = make_alipay(with_changes(settings, alipay={"gateway_url": "http://127.0.0.1:9/gateway.do"}))
    with pytest.raises(PlatformUnavailable):
        await alipay.oauth_token("any-code")


@pytest.mark.parametrize(
    ("params", "key", "sub_code"),
    [
        ({"method": "alipay.no.such.method"}, "error_response", "isv.invalid-method"),
        ({"method": "alipay.system.oauth.token", "app_id": "2021999999999999"}, "error_response", "isv.invalid-app-id"),
        (
            {"method": "alipay.system.oauth.token", "app_id": "2021000000000001"},
            "error_response",
            "isv.missing-signature",
        ),
        (
            {
                "method": "alipay.system.oauth.token",
                "app_id": "2021000000000001",
                "sign_type": "RSA2",
                "sign": "bm90IGEgc2lnbmF0dXJl",
            },
            "error_response",
            "isv.invalid-signature",
        ),
    ],
)
async def test_gateway__bad_requests_get_signed_alipay_errors(client, settings, params, key, sub_code):
    params = {**params, "app_id": params.get("app_id", settings.alipay.app_id)}
    answer = await client.post("/sim/alipay/gateway.do", params=params)
    assert answer.status_code == 200
    assert answer.text.startswith(f'{{"{key}":')
    assert f'"sub_code":"{sub_code}"' in _verified_content(answer.text, settings)


def _verified_content(text: str, settings) -> str:
    # The signed part is the exact text of the response object, between the key and ',"sign":"'.
    match = re.fullmatch(r'\{"[a-z_]+_response":(\{.*\}),"sign":"([A-Za-z0-9+/=]+)"\}', text)
    assert match, text
    assert rsa2_verify(ensure_sim_keys(settings).alipay_platform.public_pem, match.group(1), match.group(2))
    return match.group(1)


def test_gateway_url__sim_mode_uses_this_app_live_mode_uses_alipay(settings):
    assert alipay_gateway_url(settings) == settings.app.public_base_url + "/sim/alipay/gateway.do"
    assert alipay_gateway_url(with_changes(settings, platforms={"mode": "live"})) == LIVE_GATEWAY_URL


def test_live_mode_reads_the_key_files_in_pem_or_bare_base64(settings, tmp_path, stranger_keys):
    private_file, public_file = tmp_path / "app_private_key.pem", tmp_path / "alipay_public_key.txt"
    private_file.write_text(stranger_keys.private_pem)
    bare_public = "".join(line for line in stranger_keys.public_pem.splitlines() if not line.startswith("-----"))
    public_file.write_text(bare_public)
    live = with_changes(
        settings,
        platforms={"mode": "live"},
        alipay={"app_private_key_path": str(private_file), "alipay_public_key_path": str(public_file)},
    )
    keys = alipay_keys(live)
    config = sdk_config(live, keys)
    assert config.server_url == LIVE_GATEWAY_URL
    assert config.app_private_key.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert config.alipay_public_key == stranger_keys.public_pem


def test_live_mode_with_a_missing_key_file_is_a_one_line_config_error(settings, tmp_path):
    live = with_changes(
        settings,
        platforms={"mode": "live"},
        alipay={
            "app_private_key_path": str(tmp_path / "missing.pem"),
            "alipay_public_key_path": str(tmp_path / "missing.pub"),
        },
    )
    with pytest.raises(ConfigError, match="alipay.app_private_key_path"):
        alipay_keys(live)


@pytest.fixture
def host_zone():
    """Put the process in another time zone (TZ, tzset) for the test, as a server abroad or on UTC would be."""
    original = os.environ.get("TZ")

    def set_zone(name: str) -> None:
        os.environ["TZ"] = name
        time.tzset()

    yield set_zone
    if original is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = original
    time.tzset()


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles", "Asia/Shanghai"])
async def test_every_alipay_call_is_stamped_in_beijing_time_whatever_the_hosts_zone(app, client, host_zone, zone):
    host_zone(zone)
    user = await app.ctx.platforms.alipay.oauth_token(await alipay_auth_code(client))
    assert user.user_id.startswith("2088")


async def test_a_call_stamped_in_the_hosts_utc_time_is_refused_by_the_gateway(app, client, host_zone):
    import datetime as datetime_module

    import alipay.aop.api.DefaultAlipayClient as sdk_client_module

    host_zone("UTC")
    beijing_clock = sdk_client_module.datetime
    sdk_client_module.datetime = datetime_module  # the SDK as shipped: host time, eight hours behind Beijing here
    try:
        with pytest.raises(PlatformError):
            await app.ctx.platforms.alipay.oauth_token(await alipay_auth_code(client))
    finally:
        sdk_client_module.datetime = beijing_clock
