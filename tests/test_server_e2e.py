"""The real server process, as `make run` starts it: start-up, body limits, logs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.servers import ROOT, kill_group, serve, wait_until_healthy

pytestmark = pytest.mark.e2e


def _wait_for_log_line(log_path: Path, line: str, timeout: float = 10) -> str:
    """The server's log once it holds this line (it writes each line after answering), or the log at the timeout."""
    deadline = time.monotonic() + timeout
    log = log_path.read_text(errors="replace")
    while line not in log and time.monotonic() < deadline:
        time.sleep(0.05)
        log = log_path.read_text(errors="replace")
    return log


@pytest.fixture(scope="module")
def server(app, settings, tmp_path_factory):
    port = free_port()
    folder = tmp_path_factory.mktemp("server")
    env = {
        "APP_DATABASE__URL": settings.database.url,
        "APP_CACHE__URL": settings.cache.url,
        "APP_CACHE__KEY_PREFIX": settings.cache.key_prefix,
        "APP_SERVER__MAX_BODY_BYTES": "65536",
        # its own simulator, as `make run` has: the embedded worker's platform calls stay in this server
        "APP_APP__PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    if settings.database.url.startswith("sqlite://"):
        # Its own SQLite file, set up the way `make run` does it: migrate, then the demo seed.
        env["APP_DATABASE__URL"] = f"sqlite://{folder / 'e2e.sqlite3'}"
        for command in (["migrate"], ["seed", "--demo"]):
            done = subprocess.run(
                [sys.executable, "-m", "app", *command],
                cwd=ROOT,
                env={**os.environ, **env},
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, done.stderr
    log_path = folder / "server.log"
    process = serve(env, log_path, "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    wait_until_healthy(base, process, log_path)
    yield base, log_path
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("server did not stop within 20 s of SIGTERM")
    finally:
        kill_group(process)


def test_server_serves_health_and_catalog(server):
    base, _ = server
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok", "db": "ok", "cache": "ok", "workers": "ok"}
    matters = httpx.get(f"{base}/api/v1/matters", params={"q": "社保"}).json()
    assert matters["total"] >= 1


def test_huge_body_is_413_in_the_error_shape(server):
    base, _ = server
    response = httpx.post(
        f"{base}/api/v1/admin/matters", content=b"x" * 200_000, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_server_log_has_request_ids_and_no_secrets(server, settings):
    base, log_path = server
    token = "e2e-secret-token-value-0123456789"
    httpx.get(
        f"{base}/api/v1/matters",
        params={"q": "110101199003074578"},
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": "e2e-request-0001"},
    )
    log = _wait_for_log_line(log_path, "rid=e2e-request-0001 GET /api/v1/matters 200")
    assert "rid=e2e-request-0001 GET /api/v1/matters 200" in log
    assert "110101199003074578" not in log
    assert token not in log
