"""Benchmark: slot listing and a release-morning flash crowd, each as a ratio to a bare Sanic JSON endpoint.

    .venv/bin/python bench/run.py [--workers 1] [--duration 10] [--connections 64] [--citizens 2000]

Needs wrk (Debian: apt-get install wrk), PostgreSQL and Redis (TEST_POSTGRES_URL / TEST_REDIS_URL as for the tests).
It creates a scratch database and Redis prefix, serves the app on port 8100 and the bare endpoint on 8101 with the
same number of workers, builds its data through the CLI and the HTTP API (2,000 real-name citizens, 10 slots of 10
seats), runs wrk, checks the outcome (exactly 100 appointments, every other answer 409 SLOT_FULL, no 5xx, no
timeouts, 0 seats left everywhere), prints a table and writes bench/out/results.json. Then it cleans up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from datetime import date

import asyncpg
import httpx
from common import (  # noqa: F401  (crowd.py and recovery.py import some of these from here)
    APP_PORT,
    BARE_PORT,
    BENCH,
    OUT,
    POSTGRES_ADMIN_URL,
    PYTHON,
    REDIS_URL,
    ROOT,
    app_env,
    cli,
    create_scratch,
    drop_scratch,
    log,
    real_name_citizen,
    require_wrk,
    row,
    run_wrk,
    serve,
    start,
    stop,
    wait_ready,
    wait_served,
)

SLOTS = 10
SEATS_PER_SLOT = 10
ADMIN_PASSWORD = "Bench-admin-password-1"


async def bookable_matter(http: httpx.AsyncClient, admin: dict, department_id: int, hall_id: int, name: str) -> dict:
    """A bookable matter with ten 30-minute slots of ten seats on every day, already released: the day released last."""
    matter = await http.post(
        "/api/v1/admin/matters",
        headers=admin,
        json={
            "code": f"BENCH-{uuid.uuid4().hex[:6]}",
            "name": name,
            "department_id": department_id,
            "kind": "public_service",
            "audience": "citizen",
            "legal_days": 20,
            "promised_days": 5,
            "max_visits": 1,
            "online_depth": 3,
            "hall_ids": [hall_id],
            "bookable": True,
        },
    )
    matter.raise_for_status()
    matter_id = matter.json()["id"]
    schedule = await http.post(
        "/api/v1/admin/schedules",
        headers=admin,
        json={
            "hall_id": hall_id,
            "matter_id": matter_id,
            "weekdays": [1, 2, 3, 4, 5, 6, 7],
            "ranges": [{"start": "08:00", "end": "13:00"}],
            "slot_minutes": 30,
            "capacity": SEATS_PER_SLOT,
            "release_days": 5,
            "release_time": "00:00",
            "booking_closes_minutes": 0,
        },
    )
    schedule.raise_for_status()
    slots = (await http.get(f"/api/v1/matters/{matter_id}/slots", params={"hall_id": hall_id})).json()
    day = max(s["date"] for s in slots)
    day_slots = [s for s in slots if s["date"] == day]
    assert len(day_slots) == SLOTS, day_slots
    return {"matter_id": matter_id, "hall_id": hall_id, "day": day, "slot_ids": [s["id"] for s in day_slots]}


async def build_data(env: dict[str, str], citizens: int) -> dict:
    cli(env, "migrate")
    cli(env, "seed", "--demo")
    username = f"bench_admin_{uuid.uuid4().hex[:6]}"
    cli(env, "staff", "create", "--username", username, "--password", ADMIN_PASSWORD, "--role", "admin")
    base = f"http://127.0.0.1:{APP_PORT}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        token = (await http.post("/api/v1/auth/staff", json={"username": username, "password": ADMIN_PASSWORD})).json()[
            "token"
        ]
        admin = {"Authorization": f"Bearer {token}"}
        department = (await http.get("/api/v1/departments")).json()["items"][0]
        hall = (await http.get("/api/v1/halls")).json()["items"][0]
        data = await bookable_matter(http, admin, department["id"], hall["id"], "压测预约事项")

        semaphore = asyncio.Semaphore(32)

        async def citizen(index: int) -> str:
            async with semaphore:
                return await real_name_citizen(http, index)

        started = time.perf_counter()
        tokens = await asyncio.gather(*(citizen(i) for i in range(citizens)))
        log(f"{citizens} real-name citizens in {time.perf_counter() - started:.1f}s")
    (OUT / "tokens.txt").write_text("\n".join(tokens) + "\n")
    (OUT / "slots.txt").write_text("\n".join(str(i) for i in data["slot_ids"]) + "\n")
    return data


async def check_flash_crowd(database_url: str, data: dict, result: dict) -> list[str]:
    problems = []
    conn = await asyncpg.connect(database_url)
    try:
        appointments = await conn.fetchval(
            "SELECT count(*) FROM booking_appointment WHERE slot_id = ANY($1::int[])", data["slot_ids"]
        )
        booked = await conn.fetch(
            "SELECT id, capacity, booked FROM booking_slot WHERE id = ANY($1::int[])", data["slot_ids"]
        )
    finally:
        await conn.close()
    seats = SLOTS * SEATS_PER_SLOT
    if appointments != seats:
        problems.append(f"{appointments} appointments, expected exactly {seats}")
    if any(row["booked"] != row["capacity"] for row in booked):
        problems.append("some slot is not exactly full in the database")
    statuses = {int(k): v for k, v in result["statuses"].items()}
    if statuses.get(201, 0) != seats:
        problems.append(f"{statuses.get(201, 0)} answers 201, expected {seats}")
    refused = result["requests"] - statuses.get(201, 0)
    # A winner whose turn comes round while a slot is still open is rightly told ALREADY_BOOKED.
    right_refusals = result["codes"].get("SLOT_FULL", 0) + result["codes"].get("ALREADY_BOOKED", 0)
    if right_refusals != refused or statuses.get(409, 0) != refused:
        problems.append(
            f"not every other answer was 409 SLOT_FULL or ALREADY_BOOKED: {result['statuses']} {result['codes']}"
        )
    if any(status >= 500 for status in statuses):
        problems.append("5xx answers")
    if result["timeouts"] or result["connect_errors"] or result["read_errors"] or result["write_errors"]:
        problems.append("socket errors or timeouts")
    await asyncio.sleep(1.2)  # the per-process listing memory lives one second
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{APP_PORT}", timeout=10) as http:
        listed = (
            await http.get(
                f"/api/v1/matters/{data['matter_id']}/slots",
                params={"hall_id": data["hall_id"], "date_from": data["day"], "date_to": data["day"]},
            )
        ).json()
    if any(s["remaining"] != 0 for s in listed) or len(listed) != SLOTS:
        problems.append(f"remaining seats not 0 everywhere: {[s['remaining'] for s in listed]}")
    return problems


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--citizens", type=int, default=2000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database and Redis keys")
    args = parser.parse_args()
    wrk = require_wrk()
    OUT.mkdir(exist_ok=True)
    database, prefix, database_url = await create_scratch("bench")
    env = app_env(database_url, prefix)
    app_server = bare_server = None
    try:
        cli(env, "migrate")
        app_server, bare_server = serve(env, args.workers)
        await wait_served(app_server, bare_server)
        data = await build_data(env, args.citizens)
        log(f"data ready: matter {data['matter_id']}, {SLOTS} slots x {SEATS_PER_SLOT} seats on {data['day']}")
        common = {"threads": args.threads, "connections": args.connections, "duration": args.duration}
        listing_path = (
            f"/api/v1/matters/{data['matter_id']}/slots?hall_id={data['hall_id']}"
            f"&date_from={data['day']}&date_to={data['day']}"
        )
        flash_args = [str(OUT / "tokens.txt"), str(OUT / "slots.txt"), str(data["matter_id"]), str(args.threads)]

        log("bare GET")
        bare_get = run_wrk(wrk, f"http://127.0.0.1:{BARE_PORT}{listing_path}", "listing.lua", [], **common)
        log("slot listing")
        listing = run_wrk(wrk, f"http://127.0.0.1:{APP_PORT}{listing_path}", "listing.lua", [], **common)
        log("bare POST (same Lua script as the flash crowd)")
        bare_post = run_wrk(wrk, f"http://127.0.0.1:{BARE_PORT}", "flash_crowd.lua", flash_args, **common)
        log("flash crowd")
        flash = run_wrk(wrk, f"http://127.0.0.1:{APP_PORT}", "flash_crowd.lua", flash_args, **common)
        problems = await check_flash_crowd(database_url, data, flash)

        print()
        print(
            f"workers={args.workers} threads={args.threads} connections={args.connections} "
            f"duration={args.duration}s citizens={args.citizens} cpus={os.cpu_count()}"
        )
        print(f"{'scenario':<34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>7}")
        print(row("bare Sanic GET", bare_get, None))
        print(row("slot listing", listing, bare_get))
        print(row("bare Sanic POST", bare_post, None))
        print(row("flash crowd (2000 -> 100 seats)", flash, bare_post))
        print(f"flash crowd answers: {flash['statuses']} codes: {flash['codes']}")
        targets = {
            "slot listing >= 0.50": listing["rps"] / bare_get["rps"] >= 0.50,
            "flash crowd >= 0.30": flash["rps"] / bare_post["rps"] >= 0.30,
            "p99 < 1 s": max(listing["p99_us"], flash["p99_us"]) < 1_000_000,
        }
        for target, met in targets.items():
            print(f"  target {target}: {'met' if met else 'MISSED'}")
        print(
            "flash crowd checks: "
            + (
                "all passed (exactly 100 appointments, every other answer 409 SLOT_FULL, "
                "no 5xx, no timeouts, 0 seats left)"
                if not problems
                else "FAILED: " + "; ".join(problems)
            )
        )
        results = {
            "workers": args.workers,
            "threads": args.threads,
            "connections": args.connections,
            "duration_s": args.duration,
            "citizens": args.citizens,
            "date": date.today().isoformat(),
            "bare_get": bare_get,
            "listing": listing,
            "bare_post": bare_post,
            "flash_crowd": flash,
            "targets": targets,
            "problems": problems,
        }
        (OUT / "results.json").write_text(json.dumps(results, indent=2))
        return 1 if problems else 0
    finally:
        stop(app_server)
        stop(bare_server)
        if not args.keep:
            await drop_scratch(database, prefix)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
