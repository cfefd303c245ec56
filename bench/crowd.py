"""Crowds past what a process serves at once: 1,000 and 2,000 connections at a guide and a flash crowd, 0 answers 500.

    .venv/bin/python bench/crowd.py [--workers 2] [--duration 15] [--connections 1000 2000]

Same set-up as bench/run.py (scratch PostgreSQL database and Redis prefix, the app on port 8100, data through the
CLI and HTTP, wrk). For each connection count it drives an anonymous guide read and a release-morning flash crowd
(twice as many real-name citizens as connections, so nobody has two requests in flight) and checks: no answer is a
5xx other than 503 SERVICE_UNAVAILABLE (the load shedding of server.max_in_flight, with Retry-After), exactly the
seats there are were booked, every other booking answer is 409 SLOT_FULL or 503, and no socket errors beyond
wrk's own connect limits. Results go to bench/out/crowd.json; docs/PERFORMANCE.md has the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import uuid
from datetime import date

import asyncpg
from run import (
    APP_PORT,
    OUT,
    POSTGRES_ADMIN_URL,
    PYTHON,
    SEATS_PER_SLOT,
    SLOTS,
    app_env,
    build_data,
    cli,
    drop_scratch,
    log,
    require_wrk,
    run_wrk,
    start,
    stop,
    wait_ready,
)


def raise_file_limit(needed: int) -> None:
    """wrk and the servers each hold one descriptor per connection: lift the soft limit up to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, needed))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if wanted < needed:
        sys.exit(f"bench: {needed} open files are needed and the hard limit is {hard}; raise it (ulimit -Hn)")


def server_errors(result: dict) -> dict[int, int]:
    """The 5xx answers that are not load shedding."""
    return {
        int(status): count for status, count in result["statuses"].items() if int(status) >= 500 and int(status) != 503
    }


async def booked(database_url: str, slot_ids: list[int]) -> tuple[int, bool]:
    conn = await asyncpg.connect(database_url)
    try:
        appointments = await conn.fetchval(
            "SELECT count(*) FROM booking_appointment WHERE slot_id = ANY($1::int[]) AND status = 'booked'", slot_ids
        )
        rows = await conn.fetch("SELECT capacity, booked FROM booking_slot WHERE id = ANY($1::int[])", slot_ids)
    finally:
        await conn.close()
    return appointments, all(row["booked"] <= row["capacity"] for row in rows)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, nargs="+", default=[1000, 2000])
    args = parser.parse_args()
    wrk = require_wrk()
    raise_file_limit(max(args.connections) * 3 + 1024)
    OUT.mkdir(exist_ok=True)
    run_id = uuid.uuid4().hex[:8]
    database = f"govhall_crowd_{run_id}"
    prefix = f"crowd:{run_id}:"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{database}"')
    await admin.close()
    database_url = f"{POSTGRES_ADMIN_URL.rpartition('/')[0]}/{database}"
    env = app_env(database_url, prefix)
    server = None
    problems: list[str] = []
    results: dict = {
        "workers": args.workers,
        "threads": args.threads,
        "duration_s": args.duration,
        "date": date.today().isoformat(),
        "cpus": os.cpu_count(),
        "runs": [],
    }
    try:
        cli(env, "migrate")
        server = start(
            [PYTHON, "-m", "app", "serve", "--port", str(APP_PORT), "--workers", str(args.workers)], env, "crowd-app"
        )
        await wait_ready(f"http://127.0.0.1:{APP_PORT}/healthz", server, "crowd-app")
        data = await build_data(env, 2 * max(args.connections))
        seats = SLOTS * SEATS_PER_SLOT
        guide_url = f"http://127.0.0.1:{APP_PORT}/api/v1/matters/{data['matter_id']}"
        flash_args = [str(OUT / "tokens.txt"), str(OUT / "slots.txt"), str(data["matter_id"]), str(args.threads)]
        for connections in args.connections:
            common = {"threads": args.threads, "connections": connections, "duration": args.duration}
            log(f"guide read, {connections} connections")
            guide = run_wrk(wrk, guide_url, "listing.lua", [], **common)
            log(f"flash crowd, {connections} connections")
            flash = run_wrk(wrk, f"http://127.0.0.1:{APP_PORT}", "flash_crowd.lua", flash_args, **common)
            for name, result in (("guide read", guide), ("flash crowd", flash)):
                errors = server_errors(result)
                if errors:
                    problems.append(f"{name} at {connections} connections: server errors {errors}")
                print(
                    f"{name:<12} c={connections:<5} req/s={result['rps']:>8.0f} p50={result['p50_us'] / 1000:>7.1f}ms "
                    f"p99={result['p99_us'] / 1000:>8.1f}ms answers={result['statuses']} codes={result['codes']} "
                    f"timeouts={result['timeouts']} connect_errors={result['connect_errors']}"
                )
            refusals = {
                code: count
                for code, count in flash["codes"].items()
                if code not in ("SLOT_FULL", "SERVICE_UNAVAILABLE", "ALREADY_BOOKED")
            }
            if refusals:
                problems.append(f"flash crowd at {connections}: unexpected refusals {refusals}")
            results["runs"].append({"connections": connections, "guide": guide, "flash_crowd": flash})
        appointments, within_capacity = await booked(database_url, data["slot_ids"])
        if appointments != seats or not within_capacity:
            problems.append(
                f"{appointments} appointments booked for {seats} seats (within capacity: {within_capacity})"
            )
        results["appointments"] = appointments
        results["problems"] = problems
        (OUT / "crowd.json").write_text(json.dumps(results, indent=2))
        print(
            "checks: "
            + (
                "all passed (no 5xx but 503, exactly the seats booked)"
                if not problems
                else "FAILED: " + "; ".join(problems)
            )
        )
        return 1 if problems else 0
    finally:
        stop(server)
        await drop_scratch(database, prefix)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
