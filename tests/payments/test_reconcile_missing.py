"""`python -m app reconcile` without what it needs answers one line naming it, never a traceback."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from tests.conftest import free_port
from tests.servers import ROOT


def _reconcile(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app", "reconcile", "--date", "2026-11-29"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _one_line(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


async def test_without_a_running_simulator_it_names_the_server_to_start(settings):
    nobody = f"http://127.0.0.1:{free_port()}"
    env = {
        "APP_DATABASE__URL": settings.database.url,
        "APP_CACHE__URL": settings.cache.url,
        "APP_CACHE__KEY_PREFIX": settings.cache.key_prefix,
        "APP_APP__PUBLIC_BASE_URL": nobody,
    }
    line = _one_line(await asyncio.to_thread(_reconcile, env))
    assert f"{nobody}/sim" in line and "python -m app serve" in line


async def test_without_a_database_it_names_the_database(tmp_path):
    env = {"APP_DATABASE__URL": f"postgres://nobody:secret@127.0.0.1:{free_port()}/govhall", "APP_CACHE__URL": ""}
    line = _one_line(await asyncio.to_thread(_reconcile, env))
    assert "database" in line and "APP_DATABASE__URL" in line and "secret" not in line


async def test_an_unmigrated_database_is_told_to_migrate(app, tmp_path):
    # The simulator answers (the test app serves it); the fresh SQLite file has no tables.
    env = {
        "APP_DATABASE__URL": f"sqlite://{tmp_path / 'empty.sqlite3'}",
        "APP_CACHE__URL": "",
        "APP_APP__PUBLIC_BASE_URL": app.ctx.settings.app.public_base_url,
    }
    line = _one_line(await asyncio.to_thread(_reconcile, env))
    assert "python -m app migrate" in line
