"""Fixtures of the platform tests: extra platform clients, login codes (simulator faults: tests/conftest.py).

A platform test that needs neither the app nor its cache (signing, parsing, keys, settings) is marked
backend_independent: it runs the same on both backends, so `make test` runs it in the embedded pass only. The
simulator keeps its state in the cache, so every test that talks to it keeps running on both.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.platforms.alipay import AlipayPlatform
from app.platforms.wechat import WeChatPlatform

HERE = Path(__file__).resolve().parent
# What reaches the database or the cache: the running app (and through it client, cache, faults) and the cache.
BACKEND_FIXTURES = {"app", "cache"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in item.path.parents and not BACKEND_FIXTURES.intersection(item.fixturenames):
            item.add_marker(pytest.mark.backend_independent)


@pytest.fixture
async def make_wechat(cache):
    """Build extra WeChatPlatform clients (another worker, other settings); closed after the test."""
    made: list[WeChatPlatform] = []

    def make(settings) -> WeChatPlatform:
        made.append(WeChatPlatform(settings, cache))
        return made[-1]

    yield make
    for platform in made:
        await platform.close()


@pytest.fixture
async def make_alipay(cache):
    """Build extra AlipayPlatform clients (other keys, other settings); closed after the test."""
    made: list[AlipayPlatform] = []

    def make(settings, **kwargs) -> AlipayPlatform:
        made.append(AlipayPlatform(settings, cache, **kwargs))
        return made[-1]

    yield make
    for platform in made:
        await platform.close()


async def wechat_code(client, openid: str | None = None) -> str:
    """A wx.login code from the simulator."""
    response = await client.post("/sim/wechat/code", json={"openid": openid} if openid else {})
    assert response.status_code == 200, response.text
    return response.json()["code"]


async def alipay_auth_code(client, user_id: str | None = None) -> str:
    """A my.getAuthCode auth_code from the simulator."""
    response = await client.post("/sim/alipay/auth_code", json={"user_id": user_id} if user_id else {})
    assert response.status_code == 200, response.text
    return response.json()["auth_code"]


def with_changes(settings, **sections):
    """A copy of the (frozen) settings with some keys of some sections changed."""
    return settings.model_copy(
        update={name: getattr(settings, name).model_copy(update=changes) for name, changes in sections.items()}
    )


def platform_log(caplog) -> str:
    """What the platform clients logged (urllib3's DEBUG lines are left to the logging setup)."""
    return "\n".join(record.getMessage() for record in caplog.records if record.name.startswith("app.platforms"))
