"""Real server processes for the tests that need one: started as `python -m app serve`, waited for, stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
# Generous: on a loaded shared machine, start-up (imports, migrations check, worker fork) has taken over 30 s.
START_TIMEOUT_SECONDS = 180


def serve(env_overrides: dict[str, str], log_path: Path, *args: str) -> subprocess.Popen:
    """`python -m app serve ARGS` with this environment, its output in log_path, in a process group of its own."""
    with open(log_path, "wb") as log_file:
        # Its own process group: Sanic serves from child processes, which must not outlive the test.
        return subprocess.Popen(
            [sys.executable, "-m", "app", "serve", *args],
            cwd=ROOT,
            env={**os.environ, **env_overrides},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL whatever is left of the server's process group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def wait_until_healthy(base: str, process: subprocess.Popen, log_path: Path) -> None:
    """Poll /healthz until it answers 200; fail with the server's output if it exits or the time runs out."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    last = "no answer yet"
    while True:
        try:
            # A long timeout: a probe given up on while the worker starts would leave a request nobody reads.
            response = httpx.get(f"{base}/healthz", timeout=60)
            if response.status_code == 200:
                return
            last = f"/healthz answered {response.status_code}: {response.text[:200]}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        exited = process.poll()
        if exited is not None or time.monotonic() > deadline:
            kill_group(process)
            why = f"exited with {exited}" if exited is not None else f"not healthy within {START_TIMEOUT_SECONDS} s"
            pytest.fail(
                f"server {why} (last: {last}); its output:\n" + log_path.read_text(errors="replace"), pytrace=False
            )
        time.sleep(0.1)
