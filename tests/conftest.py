"""Test harness: one isolated database and cache prefix per run, on the embedded default or PostgreSQL + Redis.

TEST_BACKEND=embedded (default): a SQLite file in a temp folder and the in-process cache.
TEST_BACKEND=postgres: a fresh PostgreSQL database (created, migrated, dropped) and Redis under a unique prefix.
Under CI=true a missing PostgreSQL or Redis fails the run instead of skipping it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest
import redis.asyncio as redis_async

from app.core.config import load_settings
from app.core.db import close_db, migrate
from app.main import create_app

pytest_plugins = ("tests.openapi_recorder",)

BACKEND = os.environ.get("TEST_BACKEND", "embedded")
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
RUN_ID = uuid.uuid4().hex[:10]
# Argon2's cheapest cost: production strength (~0.4 s a hash) was close to half of a run. In os.environ so the
# app processes the tests start (serve, worker, the CLI) hash cheaply too. Production refuses these values.
CHEAPEST_PASSWORD_HASHING = {
    "APP_SECURITY__PASSWORD_TIME_COST": "1",
    "APP_SECURITY__PASSWORD_MEMORY_COST": "8",
    "APP_SECURITY__PASSWORD_PARALLELISM": "1",
}
os.environ.update(CHEAPEST_PASSWORD_HASHING)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SERVER_PORT = free_port()
DEMO_DATA = Path(__file__).resolve().parents[1] / "data" / "demo"


def pytest_report_header(config):
    return f"backend: {BACKEND} (run {RUN_ID})"


def _unavailable(what: str, error: Exception):
    message = f"{what} is not reachable for TEST_BACKEND=postgres: {error!r}"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


async def _create_postgres_database(name: str) -> str:
    try:
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        _unavailable("PostgreSQL", exc)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


async def _drop_postgres_database(name: str) -> None:
    conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def _check_redis() -> None:
    client = redis_async.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except (OSError, redis_async.RedisError) as exc:
        _unavailable("Redis", exc)
    finally:
        await client.aclose()


def _fake_console_build(folder: Path) -> Path:
    """A folder shaped like `vite build`'s output: index.html and one hashed asset."""
    (folder / "assets").mkdir()
    (folder / "index.html").write_text("<!doctype html><title>console</title>", encoding="utf-8")
    (folder / "assets" / "index-abc123.js").write_text("console.log('built')", encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
async def settings(tmp_path_factory):
    """Settings of this test run, pointing at its own database and cache prefix."""
    env = dict(os.environ)
    env.update(
        {
            "APP_APP__ENV": "test",
            "APP_CACHE__KEY_PREFIX": f"test:{RUN_ID}:",
            "APP_LOGGING__LEVEL": "INFO",
            "APP_APP__PUBLIC_BASE_URL": f"http://127.0.0.1:{SERVER_PORT}",
            # every test logs in from 127.0.0.1; the rate-limit test lowers this for itself
            "APP_SECURITY__LOGIN_ATTEMPTS_PER_MINUTE": "1000000",
            "APP_STATS__COMPUTED_PER_MINUTE": "1000000",
            # A staff move and the citizen's next read follow each other within microseconds here, closer than
            # PostgreSQL's change notice may arrive: the suite reads the database; tests/core/test_view_memo.py
            # turns the citizen memo on and waits for the notices.
            "APP_SERVER__CITIZEN_MEMO_SECONDS": "0",
            # uploads of this run in its own folder; a small limit keeps the too-large test cheap
            "APP_STORAGE__LOCAL_DIR": str(tmp_path_factory.mktemp("uploads")),
            "APP_STORAGE__MAX_UPLOAD_BYTES": "262144",
            # a stand-in console build and no H5 build: tests/core/test_frontends.py serves both states; the
            # browser tests start servers of their own on the real builds
            "APP_FRONTENDS__CONSOLE_DIR": str(_fake_console_build(tmp_path_factory.mktemp("console"))),
            "APP_FRONTENDS__CITIZEN_H5_DIR": str(tmp_path_factory.mktemp("h5") / "not-built"),
        }
    )
    database_name = f"govhall_test_{RUN_ID}"
    if BACKEND == "postgres":
        await _check_redis()
        env["APP_DATABASE__URL"] = await _create_postgres_database(database_name)
        env["APP_CACHE__URL"] = REDIS_URL
    elif BACKEND == "embedded":
        env["APP_DATABASE__URL"] = f"sqlite://{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        env["APP_CACHE__URL"] = ""
    else:
        raise pytest.UsageError(f"TEST_BACKEND must be embedded or postgres, not {BACKEND!r}")
    yield load_settings(environ=env)
    if BACKEND == "postgres":
        await _drop_postgres_database(database_name)


@pytest.fixture(scope="session")
async def app(settings):
    """The app serving on a real local port (the SDKs' threads call its /sim), migrated, with the demo city."""
    from app.catalog import service as catalog
    from tests import openapi_recorder

    logging.getLogger("httpx").setLevel(logging.WARNING)
    await migrate(settings)
    await close_db()
    application = create_app(settings, name=f"govhall_test_{RUN_ID}")
    openapi_recorder.install(application)  # real bodies for tests/test_openapi_contract.py
    server = await application.create_server(
        host="127.0.0.1", port=SERVER_PORT, return_asyncio_server=True, access_log=False
    )
    await server.startup()
    await server.before_start()
    await server.after_start()
    serving = asyncio.ensure_future(server.serve_forever())
    await catalog.seed_demo(DEMO_DATA, cache=application.ctx.cache)
    yield application
    cache = application.ctx.cache
    if hasattr(cache, "delete_prefix"):
        await cache.delete_prefix()
    await server.before_stop()
    await server.close()
    await server.wait_closed()
    await server.after_stop()
    serving.cancel()


@pytest.fixture
def clock():
    """The app's clock (app.core.timeutil.clock), stopped at the current moment: clock.set(moment) or
    clock.advance(hours=2) moves what every service's now() answers; the real time again after the test."""
    from app.core.timeutil import clock as app_clock

    app_clock.set(app_clock.now())
    yield app_clock
    app_clock.resume()


@pytest.fixture
def cache(app):
    return app.ctx.cache


@pytest.fixture
async def client(app):
    """An HTTP client of the running app, as the mini-program or the console would use it."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{SERVER_PORT}", timeout=30) as http:
        yield http


@pytest.fixture
async def faults(client):
    """Set simulator faults with `await faults(platform, error_rate, ...)`; every fault is cleared afterwards."""

    async def set_fault(platform: str, error_rate: float, **extra) -> None:
        response = await client.post("/sim/faults", json={"platform": platform, "error_rate": error_rate, **extra})
        assert response.status_code == 200, response.text

    yield set_fault
    cleared = await client.delete("/sim/faults")
    assert cleared.status_code == 200


@pytest.fixture(scope="session")
async def admin_headers(app):
    """Headers of a logged-in admin (every department)."""
    from tests import factories

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{SERVER_PORT}", timeout=30) as http:
        admin = await factories.shared_staff(http, "admin")
    return admin["headers"]
