"""Stopping: a server that has served logins stops, every process of it, on one SIGTERM or Ctrl-C to its group."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.servers import kill_group, serve, wait_until_healthy

pytestmark = pytest.mark.e2e
# "Within a few seconds": Sanic's own graceful wait for open connections is what remains; no request is open here.
STOP_BOUND_SECONDS = 10.0


def _serve(settings, folder: Path) -> tuple[subprocess.Popen, str, Path]:
    port = free_port()
    env = {
        "APP_DATABASE__URL": settings.database.url,
        "APP_CACHE__URL": settings.cache.url,
        "APP_CACHE__KEY_PREFIX": settings.cache.key_prefix + "stop:",
        "APP_APP__PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    log_path = folder / f"server-{port}.log"
    process = serve(env, log_path, "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    wait_until_healthy(base, process, log_path)
    return process, base, log_path


def _group_alive(process: subprocess.Popen) -> bool:
    process.poll()  # reap the main process: a zombie still counts as a member of its group
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_a_server_that_served_a_login_stops_every_process_on_one_signal_to_its_group(
    app, settings, tmp_path, stop_signal
):
    process, base, log_path = _serve(settings, tmp_path)
    try:
        code = httpx.post(f"{base}/sim/wechat/code", json={}).json()["code"]
        assert httpx.post(f"{base}/api/v1/auth/wechat", json={"code": code}, timeout=30).status_code == 200
        os.killpg(process.pid, stop_signal)  # as Ctrl-C in a terminal or a supervisor stopping the group does
        deadline = time.monotonic() + STOP_BOUND_SECONDS
        while _group_alive(process) and time.monotonic() < deadline:
            time.sleep(0.1)
        log_text = log_path.read_text(errors="replace")
        assert not _group_alive(process), "still running:\n" + log_text
        assert not re.search(r" 5\d\d [0-9.]+ms", log_text), "a request failed:\n" + log_text
    finally:
        kill_group(process)
        process.wait(timeout=10)
