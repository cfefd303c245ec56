"""Recovery after a killed server worker: how long until the node serves with all its workers again.

    .venv/bin/python bench/recovery.py [--workers 2] [--kills 3]

Serves the app on PostgreSQL + Redis (scratch database and prefix, as bench/run.py) with N workers, keeps a stream
of guide reads going, kills one worker with SIGKILL, and measures the seconds until /healthz says every worker
serves again (the watchdog of app/core/watchdog.py starts it again), and how the reads fared meanwhile (the other
workers keep answering; a read the dead worker had accepted fails at the socket). Prints one line per kill.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import sys
import time
import uuid

import asyncpg
import httpx
from common import (
    APP_PORT,
    OUT,
    POSTGRES_ADMIN_URL,
    PYTHON,
    app_env,
    cli,
    drop_scratch,
    start,
    stop,
    wait_ready,
)

STARTED = re.compile(r"Starting worker \[(\d+)\]")


async def workers_ok(http: httpx.AsyncClient) -> bool:
    try:
        return (await http.get("/healthz")).json().get("workers") == "ok"
    except (httpx.HTTPError, ValueError):
        return False


async def reads(http: httpx.AsyncClient, stop_event: asyncio.Event, outcome: dict) -> None:
    while not stop_event.is_set():
        try:
            status = (await http.get("/api/v1/departments")).status_code
            outcome[status] = outcome.get(status, 0) + 1
        except httpx.HTTPError as exc:
            outcome[type(exc).__name__] = outcome.get(type(exc).__name__, 0) + 1


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kills", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    run_id = uuid.uuid4().hex[:8]
    database, prefix = f"govhall_recovery_{run_id}", f"recovery:{run_id}:"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{database}"')
    await admin.close()
    database_url = f"{POSTGRES_ADMIN_URL.rpartition('/')[0]}/{database}"
    env = {**app_env(database_url, prefix), "APP_LOGGING__LEVEL": "INFO"}  # "Starting worker [pid]" lines
    server = None
    try:
        cli(env, "migrate")
        cli(env, "seed", "--demo")
        server = start(
            [PYTHON, "-m", "app", "serve", "--port", str(APP_PORT), "--workers", str(args.workers)], env, "recovery-app"
        )
        await wait_ready(f"http://127.0.0.1:{APP_PORT}/healthz", server, "recovery-app")
        log_path = OUT / "recovery-app.log"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{APP_PORT}", timeout=30) as http:
            while not await workers_ok(http):
                await asyncio.sleep(0.2)
            for kill in range(1, args.kills + 1):
                victim = int(STARTED.findall(log_path.read_text())[-1])
                outcome: dict = {}
                stop_event = asyncio.Event()
                readers = [asyncio.create_task(reads(http, stop_event, outcome)) for _ in range(8)]
                await asyncio.sleep(1)
                os.kill(victim, signal.SIGKILL)
                killed_at = time.monotonic()
                while await workers_ok(http):  # until the manager has noticed
                    await asyncio.sleep(0.05)
                while not await workers_ok(http):
                    await asyncio.sleep(0.1)
                recovered = time.monotonic() - killed_at
                stop_event.set()
                await asyncio.gather(*readers)
                print(
                    f"kill {kill}: worker {victim} killed; all {args.workers} workers serving again after "
                    f"{recovered:.1f} s; reads meanwhile: {outcome}",
                    flush=True,
                )
        return 0
    finally:
        stop(server)
        await drop_scratch(database, prefix)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
