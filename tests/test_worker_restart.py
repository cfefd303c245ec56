"""A server worker killed with kill -9 is started again; health says so while it is down."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time

import httpx
import pytest

from tests.conftest import BACKEND, free_port
from tests.servers import kill_group, serve, wait_until_healthy

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        BACKEND != "postgres",
        reason="several server workers need a shared database and cache; "
        "the embedded default (in-process cache) is one process",
    ),
]
STARTED = re.compile(r"Starting worker \[(\d+)\]")
# A bound on behaviour (the worker comes back by itself), not a speed target: start-up imports on a busy machine.
RECOVERY_BOUND_SECONDS = 90.0


def _health(base: str) -> dict | None:
    with contextlib.suppress(httpx.HTTPError, ValueError):
        return httpx.get(f"{base}/healthz", timeout=5).json()
    return None


def test_a_killed_worker_is_restarted_and_health_reports_it_meanwhile(app, settings, tmp_path):
    port = free_port()
    env = {
        "APP_DATABASE__URL": settings.database.url,
        "APP_CACHE__URL": settings.cache.url,
        "APP_CACHE__KEY_PREFIX": settings.cache.key_prefix + "restart:",
        "APP_WORKER__EMBEDDED": "false",
        "APP_APP__PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    log_path = tmp_path / "server.log"
    process = serve(env, log_path, "--port", str(port), "--workers", "2")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process, log_path)  # 200 only once every worker serves
        workers = STARTED.findall(log_path.read_text())
        assert len(workers) == 2
        os.kill(int(workers[0]), signal.SIGKILL)

        seen_down = False
        deadline = time.monotonic() + RECOVERY_BOUND_SECONDS
        while True:
            health = _health(base)
            if health is not None and health["workers"] == "down":
                seen_down = True
                assert health["status"] == "degraded"
            if seen_down and health is not None and health["workers"] == "ok":
                break
            assert time.monotonic() < deadline, "the worker did not come back:\n" + log_path.read_text()
            time.sleep(0.1)
        log_text = log_path.read_text(errors="replace")
        assert len(STARTED.findall(log_text)) == 3  # the two, and the one started again
        assert "died; starting it again" in log_text
        # Both workers serve: a run of requests all succeed.
        assert all(httpx.get(f"{base}/api/v1/departments", timeout=10).status_code == 200 for _ in range(20))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            kill_group(process)
