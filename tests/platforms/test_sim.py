"""The simulator's own routes: WeChat-shaped answers, helpers for tests, faults, and bad input as 4xx."""

from __future__ import annotations

import asyncio

import pytest

from app.platforms.sim import sim_check_access_token
from tests.core.test_errors import assert_error_shape
from tests.platforms.conftest import wechat_code


@pytest.fixture
async def short_lived_tokens(client):
    """Tokens the simulator issues live 1 s during the test; back to 7200 s afterwards."""
    response = await client.post("/sim/wechat/token-ttl", json={"seconds": 1})
    assert response.status_code == 200
    yield
    await client.post("/sim/wechat/token-ttl", json={"seconds": 7200})


def _credentials(settings) -> dict:
    return {"appid": settings.wechat.appid, "secret": settings.wechat.secret}


async def test_jscode2session__answers_like_wechat_with_http_200(client, settings):
    code = await wechat_code(client, openid="oRawHttpUser")
    query = {**_credentials(settings), "js_code": code, "grant_type": "authorization_code"}
    ok = await client.get("/sim/wechat/sns/jscode2session", params=query)
    assert ok.status_code == 200
    assert set(ok.json()) == {"openid", "session_key", "unionid"}
    again = await client.get("/sim/wechat/sns/jscode2session", params=query)
    assert again.status_code == 200 and again.json()["errcode"] == 40163
    wrong_appid = await client.get("/sim/wechat/sns/jscode2session", params={**query, "appid": "wx0"})
    assert wrong_appid.status_code == 200 and wrong_appid.json()["errcode"] == 40013
    no_code = await client.get("/sim/wechat/sns/jscode2session", params={**query, "js_code": ""})
    assert no_code.json()["errcode"] == 41008


async def test_access_tokens__valid_then_expired_unknown_or_missing(client, settings, cache, short_lived_tokens):
    answer = await client.get(
        "/sim/wechat/cgi-bin/token", params={**_credentials(settings), "grant_type": "client_credential"}
    )
    assert answer.json()["expires_in"] == 1
    token = answer.json()["access_token"]
    assert await sim_check_access_token(cache, token) == 0
    await asyncio.sleep(1.1)
    assert await sim_check_access_token(cache, token) == 42001
    assert await sim_check_access_token(cache, "never-issued") == 40001
    assert await sim_check_access_token(cache, None) == 41001


async def test_access_token__wrong_grant_type_or_secret_is_an_errcode(client, settings):
    wrong_grant = await client.get(
        "/sim/wechat/cgi-bin/token", params={**_credentials(settings), "grant_type": "authorization_code"}
    )
    assert wrong_grant.json()["errcode"] == 40002
    wrong_secret = await client.get(
        "/sim/wechat/cgi-bin/token",
        params={**_credentials(settings), "secret": "nope", "grant_type": "client_credential"},
    )
    assert wrong_secret.status_code == 200 and wrong_secret.json()["errcode"] == 40125


async def test_code_helpers_accept_an_empty_body(client):
    assert (await client.post("/sim/wechat/code")).json()["code"]
    assert (await client.post("/sim/alipay/auth_code")).json()["auth_code"]


async def test_faults__can_be_listed_and_cleared(client, faults):
    await faults("wechat", 0.5, errcode=45011, delay_ms=10)
    await faults("alipay", 1)
    listed = (await client.get("/sim/faults")).json()["faults"]
    assert {fault["platform"] for fault in listed} == {"wechat", "alipay"}
    assert next(f for f in listed if f["platform"] == "wechat") == {
        "platform": "wechat",
        "error_rate": 0.5,
        "errcode": 45011,
        "delay_ms": 10,
    }
    await faults("wechat", 0)
    assert [fault["platform"] for fault in (await client.get("/sim/faults")).json()["faults"]] == ["alipay"]
    await faults("wechatpay", 0, refund="processing")
    assert {"platform": "wechatpay", "error_rate": 0, "errcode": None, "delay_ms": 0, "refund": "processing"} in (
        await client.get("/sim/faults")
    ).json()["faults"]
    assert (await client.delete("/sim/faults")).json() == {"faults": []}
    assert (await client.get("/sim/faults")).json() == {"faults": []}


@pytest.mark.parametrize(
    ("path", "content", "status", "code"),
    [
        ("/sim/wechat/code", b"{not json", 400, "MALFORMED_JSON"),
        ("/sim/wechat/code", b"[]", 400, "BAD_REQUEST"),
        ("/sim/wechat/code", b'{"openid": 5}', 422, "VALIDATION_FAILED"),
        ("/sim/wechat/code", b'{"openid": "has spaces"}', 422, "VALIDATION_FAILED"),
        ("/sim/wechat/code", b'{"user": "oX"}', 422, "VALIDATION_FAILED"),
        ("/sim/alipay/auth_code", b'{"user_id": ""}', 422, "VALIDATION_FAILED"),
        ("/sim/alipay/auth_code", b"\xff\xfe", 400, "MALFORMED_JSON"),
        ("/sim/faults", b"", 400, "BAD_REQUEST"),
        ("/sim/faults", b'{"platform": "qq", "error_rate": 0.5}', 422, "VALIDATION_FAILED"),
        ("/sim/faults", b'{"platform": "wechat", "error_rate": 2}', 422, "VALIDATION_FAILED"),
        ("/sim/faults", b'{"platform": "wechat"}', 422, "VALIDATION_FAILED"),
        ("/sim/faults", b'{"platform": "wechat", "error_rate": 0, "delay_ms": -1}', 422, "VALIDATION_FAILED"),
        ("/sim/faults", b'{"platform": "alipay", "error_rate": 0, "refund": "processing"}', 422, "VALIDATION_FAILED"),
        ("/sim/faults", b'{"platform": "wechatpay", "error_rate": 0, "refund": "failed"}', 422, "VALIDATION_FAILED"),
        ("/sim/wechat/token-ttl", b'{"seconds": 0}', 422, "VALIDATION_FAILED"),
        ("/sim/wechat/token-ttl", b'{"seconds": "soon"}', 422, "VALIDATION_FAILED"),
    ],
)
async def test_malformed_helper_bodies_are_4xx_in_the_error_shape(client, path, content, status, code):
    response = await client.post(path, content=content, headers={"Content-Type": "application/json"})
    assert_error_shape(response, status, code)


async def test_every_sim_route_is_in_the_openapi_document_under_simulator(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    expected = {
        ("/sim/wechat/code", "post"),
        ("/sim/wechat/sns/jscode2session", "get"),
        ("/sim/wechat/cgi-bin/token", "get"),
        ("/sim/wechat/token-ttl", "post"),
        ("/sim/alipay/auth_code", "post"),
        ("/sim/alipay/gateway.do", "post"),
        ("/sim/faults", "post"),
        ("/sim/faults", "get"),
        ("/sim/faults", "delete"),
    }
    for path, method in expected:
        operation = paths[path][method]
        assert operation["tags"] == ["simulator"], (path, method)
        assert operation["summary"], (path, method)
    assert "requestBody" in paths["/sim/faults"]["post"]
    assert {p["name"] for p in paths["/sim/wechat/sns/jscode2session"]["get"]["parameters"]} >= {"appid", "js_code"}
