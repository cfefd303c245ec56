"""A served node's /metrics sums its processes (two server workers and a worker), and its logs can be JSON lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import BACKEND, free_port
from tests.core.test_metrics import sample
from tests.servers import ROOT, kill_group, serve, wait_until_healthy

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        BACKEND != "postgres",
        reason="several processes of a node need a shared database and cache; "
        "the embedded default (in-process cache) is one process",
    ),
]
ROUTE = "/api/v1/matters"
# A bound on behaviour (the worker's first sweep shows in the node's figures), not a speed target.
WORKER_BOUND_SECONDS = 60.0


def _total(text: str) -> float:
    return sample(text, "govhall_http_requests_total", method="GET", route=ROUTE, status="200")


def test_a_node_counts_requests_of_every_process_and_logs_json(settings, app, tmp_path):
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    env = {
        "APP_DATABASE__URL": settings.database.url,
        "APP_CACHE__URL": settings.cache.url,
        "APP_CACHE__KEY_PREFIX": settings.cache.key_prefix + "metrics:",
        "APP_WORKER__EMBEDDED": "false",
        "APP_WORKER__PAYMENTS_INTERVAL_SECONDS": "5",
        "APP_APP__PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "APP_METRICS__MULTIPROC_DIR": str(metrics_dir),
        "APP_LOGGING__FORMAT": "json",
    }
    # a file left by a process that is gone: the starting server clears it
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999999.db").write_bytes(b"stale")
    log_path = tmp_path / "server.log"
    process = serve(env, log_path, "--port", str(port), "--workers", "2")
    worker_log = open(tmp_path / "worker.log", "wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "app", "worker"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=worker_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process, log_path)
        assert not (metrics_dir / "counter_999999999.db").exists()
        before = _total(httpx.get(f"{base}/metrics").text)
        for number in range(40):
            response = httpx.get(f"{base}{ROUTE}", headers={"X-Request-ID": f"metrics-check-{number:04d}"})
            assert response.status_code == 200
        # Every scrape, whichever process answers it, sees the node's sum.
        for _ in range(4):
            assert _total(httpx.get(f"{base}/metrics").text) == before + 40
        pids = {path.name.rsplit("_", 1)[-1] for path in metrics_dir.glob("counter_*.db")}
        assert len(pids) >= 2, f"the requests were counted by one process only: {pids}"

        deadline = time.monotonic() + WORKER_BOUND_SECONDS
        while sample(httpx.get(f"{base}/metrics").text, "govhall_payment_sweeps_total", result="completed") < 1:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            assert time.monotonic() < deadline, "the worker's sweeps never showed in the node's metrics"
            time.sleep(1)

        lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
        access = [line for line in lines if line.get("request_id") == "metrics-check-0007"]
        assert access, "no JSON access line for the request"
        assert access[0]["route"] == ROUTE
        assert access[0]["status"] == 200
        assert access[0]["method"] == "GET"
        assert access[0]["duration_ms"] >= 0
        assert {"time", "level", "process", "logger", "message"} <= set(access[0])
    finally:
        worker.terminate()
        process.terminate()
        try:
            worker.wait(timeout=20)
            process.wait(timeout=20)
        finally:
            kill_group(worker)
            kill_group(process)
            worker_log.close()
