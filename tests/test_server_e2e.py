"""The real server process, as `make run` starts it: start-up, body limits, logs."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.e2e


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Generous: on a loaded shared machine, start-up (imports, migrations check, worker fork) has taken over 30 s.
START_TIMEOUT_SECONDS = 180


def _wait_until_healthy(base: str, process: subprocess.Popen, log_path: Path) -> None:
    """Poll /healthz until it answers 200; fail with the server's output if it exits or the time runs out."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    last = "no answer yet"
    while True:
        try:
            response = httpx.get(f"{base}/healthz", timeout=10)
            if response.status_code == 200:
                return
            last = f"/healthz answered {response.status_code}: {response.text[:200]}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        exited = process.poll()
        if exited is not None or time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):  # its group may be gone with it
                os.killpg(process.pid, signal.SIGKILL)
            why = f"exited with {exited}" if exited is not None else f"not healthy within {START_TIMEOUT_SECONDS} s"
            pytest.fail(
                f"server {why} (last: {last}); its output:\n" + log_path.read_text(errors="replace"), pytrace=False
            )
        time.sleep(0.1)


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
    port = _unused_port()
    folder = tmp_path_factory.mktemp("server")
    env = dict(os.environ)
    env.update(
        {
            "APP_DATABASE__URL": settings.database.url,
            "APP_CACHE__URL": settings.cache.url,
            "APP_CACHE__KEY_PREFIX": settings.cache.key_prefix,
            "APP_SERVER__MAX_BODY_BYTES": "65536",
            # its own simulator, as `make run` has: the embedded worker's platform calls stay in this server
            "APP_APP__PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        }
    )
    if settings.database.url.startswith("sqlite://"):
        # Its own SQLite file, set up the way `make run` does it: migrate, then the demo seed.
        env["APP_DATABASE__URL"] = f"sqlite://{folder / 'e2e.sqlite3'}"
        for command in (["migrate"], ["seed", "--demo"]):
            done = subprocess.run(
                [sys.executable, "-m", "app", *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
            )
            assert done.returncode == 0, done.stderr
    log_path = folder / "server.log"
    with open(log_path, "wb") as log_file:
        # Its own process group: Sanic serves from a child process, which must not outlive the test.
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    _wait_until_healthy(base, process, log_path)
    yield base, log_path
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("server did not stop within 20 s of SIGTERM")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


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
