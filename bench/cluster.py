"""Benchmark of the production shape on loopback: nginx in front of app nodes and worker processes (scripts/cluster.py).

    .venv/bin/python bench/cluster.py [--nodes 2] [--node-workers 1] [--workers 2] [--duration 10] [--connections 64]

It makes a scratch PostgreSQL database and Redis prefix (dropped afterwards, --keep keeps them), starts the cluster
with scripts/cluster.py's start_cluster() (nginx on port 8100, the nodes and the workers on free ports), builds the
data through the CLI and the HTTP API as bench/run.py does (2,000 real-name citizens, each with three credits of the
booking push so that every booking is pushed; two bookable matters of 10 slots of 10 seats), and runs wrk:

- through nginx: the slot listing (GET) and the flash crowd (POST) against the nodes, and the same two against the
  bare Sanic endpoint (bench/bare_app.py, one per node with the nodes' workers) behind the same nginx configuration;
- one node directly (no nginx): the same two against node 1 (the second matter's slots), and against one bare app.

After each flash crowd it checks what bench/run.py checks (exactly the capacity booked, every other answer 409
SLOT_FULL, or ALREADY_BOOKED for a winner asking again, no 5xx, no socket errors, 0 seats left); through nginx also
that every node answered bookings (each node's /metrics request counter); at the end that every outbox event was
dispatched and every booking's push was sent exactly once (one delivery row per event, sent on its first attempt,
one message in the platform simulator), and by which worker. Exits 1 when a check fails (never for speed). Writes
bench/out/cluster.json.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import date
from pathlib import Path

import asyncpg
import httpx
from run import (
    ADMIN_PASSWORD,
    APP_PORT,
    BENCH,
    OUT,
    POSTGRES_ADMIN_URL,
    PYTHON,
    ROOT,
    SEATS_PER_SLOT,
    SLOTS,
    app_env,
    bookable_matter,
    cli,
    drop_scratch,
    log,
    real_name_citizen,
    require_wrk,
    run_wrk,
    start,
    stop,
    wait_ready,
)

_spec = importlib.util.spec_from_file_location("cluster_script", ROOT / "scripts" / "cluster.py")
cluster_script = importlib.util.module_from_spec(_spec)
sys.modules["cluster_script"] = cluster_script  # its dataclasses look their module up there
_spec.loader.exec_module(cluster_script)

# How long the workers get to dispatch and send every booking's push after the last flash crowd.
SETTLE_SECONDS = 120


# ---- the data ----


async def build_data(env: dict[str, str], base: str, citizens: int) -> tuple[dict, dict, str]:
    """The demo city, two bookable matters (one for the flash crowd through nginx, one for one node) and the
    citizens (tokens in bench/out/cluster-tokens.txt); the matters and the booking push's template id."""
    cli(env, "seed", "--demo")
    username = f"bench_admin_{uuid.uuid4().hex[:6]}"
    cli(env, "staff", "create", "--username", username, "--password", ADMIN_PASSWORD, "--role", "admin")
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        login = await http.post("/api/v1/auth/staff", json={"username": username, "password": ADMIN_PASSWORD})
        login.raise_for_status()
        admin = {"Authorization": f"Bearer {login.json()['token']}"}
        department = (await http.get("/api/v1/departments")).json()["items"][0]["id"]
        hall = (await http.get("/api/v1/halls")).json()["items"][0]["id"]
        through_nginx = await bookable_matter(http, admin, department, hall, "压测预约事项（经 nginx）")
        one_node = await bookable_matter(http, admin, department, hall, "压测预约事项（单节点）")
        template_id = (await http.get("/api/v1/subscriptions/templates")).json()["appointment_booked"]["template_id"]
        semaphore = asyncio.Semaphore(32)

        async def citizen(index: int) -> str:
            async with semaphore:
                return await real_name_citizen(http, index, template_id)

        started = time.perf_counter()
        tokens = await asyncio.gather(*(citizen(i) for i in range(citizens)))
        log(f"{citizens} real-name citizens with push subscriptions in {time.perf_counter() - started:.1f}s")
    (OUT / "cluster-tokens.txt").write_text("\n".join(tokens) + "\n")
    for name, data in (("nginx", through_nginx), ("node", one_node)):
        (OUT / f"cluster-slots-{name}.txt").write_text("\n".join(str(i) for i in data["slot_ids"]) + "\n")
    return through_nginx, one_node, template_id


async def check_crowd(database_url: str, base: str, data: dict, result: dict) -> list[str]:
    """bench/run.py's check_flash_crowd, except that a 409 ALREADY_BOOKED is a right answer too: a winner's turn
    comes round again (every citizen asks once per pass over the 2,000) while some slot of the matter is still
    open, and one citizen may hold one appointment of a matter a day. So: exactly 100 appointments, no citizen with
    two, 100 answers 201, every other one 409 SLOT_FULL or ALREADY_BOOKED, no 5xx, no socket errors, 0 seats left."""
    problems = []
    conn = await asyncpg.connect(database_url)
    try:
        appointments = await conn.fetchval(
            "SELECT count(*) FROM booking_appointment WHERE slot_id = ANY($1::int[])", data["slot_ids"]
        )
        twice = await conn.fetchval(
            "SELECT count(*) FROM (SELECT citizen_id FROM booking_appointment WHERE slot_id = ANY($1::int[]) "
            "GROUP BY citizen_id HAVING count(*) > 1) AS doubles",
            data["slot_ids"],
        )
        slots = await conn.fetch(
            "SELECT capacity, booked FROM booking_slot WHERE id = ANY($1::int[])", data["slot_ids"]
        )
    finally:
        await conn.close()
    seats = SLOTS * SEATS_PER_SLOT
    if appointments != seats:
        problems.append(f"{appointments} appointments, expected exactly {seats}")
    if twice:
        problems.append(f"{twice} citizens hold two appointments of the matter")
    if any(row["booked"] != row["capacity"] for row in slots):
        problems.append("some slot is not exactly full in the database")
    statuses = {int(k): v for k, v in result["statuses"].items()}
    if statuses.get(201, 0) != seats:
        problems.append(f"{statuses.get(201, 0)} answers 201, expected {seats}")
    refused = result["requests"] - statuses.get(201, 0)
    codes = result["codes"]
    if statuses.get(409, 0) != refused or codes.get("SLOT_FULL", 0) + codes.get("ALREADY_BOOKED", 0) != refused:
        problems.append(f"not every other answer was 409 SLOT_FULL or ALREADY_BOOKED: {result['statuses']} {codes}")
    if any(status >= 500 for status in statuses):
        problems.append("5xx answers")
    if result["timeouts"] or result["connect_errors"] or result["read_errors"] or result["write_errors"]:
        problems.append("socket errors or timeouts")
    await asyncio.sleep(1.2)  # the per-process listing memory lives one second
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        listed = (
            await http.get(
                f"/api/v1/matters/{data['matter_id']}/slots",
                params={"hall_id": data["hall_id"], "date_from": data["day"], "date_to": data["day"]},
            )
        ).json()
    if any(s["remaining"] != 0 for s in listed) or len(listed) != SLOTS:
        problems.append(f"remaining seats not 0 everywhere: {[s['remaining'] for s in listed]}")
    return problems


# ---- the bare endpoint behind the same nginx ----


def start_bare(nodes: int, node_workers: int, env: dict[str, str], folder: Path) -> tuple[list, list[str], object]:
    """One bare app per node (as many workers as a node) and an nginx of the cluster's configuration in front."""
    apps, urls = [], []
    for number in range(1, nodes + 1):
        port = cluster_script.free_port()
        command = [PYTHON, str(BENCH / "bare_app.py"), "--port", str(port), "--workers", str(node_workers)]
        apps.append(start(command, env, f"bare{number}"))
        urls.append(f"http://127.0.0.1:{port}")
    folder.mkdir(exist_ok=True)
    port = cluster_script.free_port()
    conf = cluster_script.render_nginx(folder, port, urls)
    popen, log_path = cluster_script._start(
        "nginx", [cluster_script.NGINX, "-p", str(folder), "-c", str(conf)], {}, folder
    )
    balancer = cluster_script.Process("bare-nginx", popen, log_path)
    return apps, urls, (balancer, f"http://127.0.0.1:{port}")


# ---- what the nodes counted ----


def requests_counted(node_url: str) -> dict[str, float]:
    """Requests a node answered, by route, from its /metrics (the node's every process, the worker beside it too)."""
    text = httpx.get(f"{node_url}/metrics", timeout=30).text
    counted: Counter[str] = Counter()
    for line in text.splitlines():
        match = re.fullmatch(r"govhall_http_requests_total\{(.*)\} (\S+)", line)
        if match:
            route = re.search(r'route="([^"]*)"', match.group(1))
            counted[route.group(1) if route else ""] += float(match.group(2))
    return dict(counted)


def served(before: dict[str, float], after: dict[str, float], route_part: str) -> int:
    return int(sum(count - before.get(route, 0) for route, count in after.items() if route_part in route))


# ---- the pushes ----


async def check_pushes(database_url: str, base: str, template_id: str, matters: list[int]) -> tuple[list[str], dict]:
    """Every outbox event dispatched; every booking of these matters pushed once: one delivery, sent on its first
    attempt, one message in the simulator's inbox of that citizen. Waits for the workers up to SETTLE_SECONDS."""
    problems: list[str] = []
    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            undispatched = await conn.fetchval("SELECT count(*) FROM outbox_event WHERE dispatched_at IS NULL")
            unsent = await conn.fetchval(
                "SELECT count(*) FROM notification_delivery WHERE status IN ('pending', 'sending')"
            )
            if not undispatched and not unsent:
                break
            if time.monotonic() > deadline:
                problems.append(f"after {SETTLE_SECONDS}s: {undispatched} events undispatched, {unsent} pushes unsent")
                break
            await asyncio.sleep(0.5)
        settled_in = SETTLE_SECONDS - (deadline - time.monotonic())
        booked = await conn.fetch(
            "SELECT e.id AS event_id, d.id AS delivery_id, d.status, d.attempts, d.recipient, d.claimed_by "
            "FROM booking_appointment a "
            "JOIN outbox_event e ON e.kind = 'appointment.booked' AND e.aggregate_type = 'appointment' "
            "AND e.aggregate_id = a.id "
            "LEFT JOIN notification_delivery d ON d.event_id = e.id AND d.channel = 'wechat' "
            "WHERE a.matter_id = ANY($1::int[])",
            matters,
        )
        appointments = await conn.fetchval(
            "SELECT count(*) FROM booking_appointment WHERE matter_id = ANY($1::int[])", matters
        )
        others = await conn.fetch(
            "SELECT status, count(*) AS n FROM notification_delivery WHERE status NOT IN ('sent', 'no_credit') "
            "GROUP BY status"
        )
    finally:
        await conn.close()
    events = Counter(row["event_id"] for row in booked)
    if len(events) != appointments:
        problems.append(f"{len(events)} appointment.booked events for {appointments} appointments")
    if any(count != 1 for count in events.values()):
        problems.append("an event has more than one WeChat delivery")
    if any(row["delivery_id"] is None for row in booked):
        problems.append("a booking without a push delivery")
    not_once = [row for row in booked if row["status"] != "sent" or row["attempts"] != 1]
    if not_once:
        problems.append(f"{len(not_once)} pushes not sent exactly once: {[dict(r) for r in not_once[:5]]}")
    if others:
        problems.append(f"deliveries neither sent nor without credit: {[dict(r) for r in others]}")
    per_recipient = Counter(row["recipient"] for row in booked if row["recipient"])
    semaphore = asyncio.Semaphore(16)
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:

        async def received(openid: str) -> int:
            async with semaphore:
                answer = await http.get("/sim/wechat/messages", params={"openid": openid})
                return sum(1 for m in answer.json()["items"] if m.get("template_id") == template_id)

        counts = await asyncio.gather(*(received(openid) for openid in per_recipient))
    wrong = [
        (openid, expected, got)
        for (openid, expected), got in zip(per_recipient.items(), counts, strict=True)
        if got != expected
    ]
    if wrong:
        problems.append(f"{len(wrong)} citizens received a different number of pushes than booked: {wrong[:5]}")
    by_worker = Counter(row["claimed_by"] for row in booked if row["status"] == "sent")
    summary = {
        "appointments": appointments,
        "pushes_sent": sum(by_worker.values()),
        "by_worker": dict(by_worker),
        "settled_in_s": round(settled_in, 1),
    }
    return problems, summary


# ---- the table ----


def table_row(path: str, name: str, result: dict, bare: dict | None) -> str:
    ratio = f"{result['rps'] / bare['rps']:.2f}" if bare else "1.00"
    return (
        f"{path:<22} {name:<16} {result['rps']:>8.0f} {result['p50_us'] / 1000:>8.2f} "
        f"{result['p99_us'] / 1000:>8.2f} {ratio:>6}"
    )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--node-workers", type=int, default=1, help="server worker processes per node")
    parser.add_argument("--workers", type=int, default=2, help="background worker processes (python -m app worker)")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--citizens", type=int, default=2000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database, Redis keys and logs")
    args = parser.parse_args()
    wrk = require_wrk()
    if not os.path.exists(cluster_script.NGINX):
        sys.exit("bench: nginx is missing: `make nginx` installs Debian's package")
    OUT.mkdir(exist_ok=True)
    run_id = uuid.uuid4().hex[:8]
    database = f"govhall_bench_{run_id}"
    prefix = f"bench:{run_id}:"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{database}"')
    await admin.close()
    database_url = f"{POSTGRES_ADMIN_URL.rpartition('/')[0]}/{database}"
    env = app_env(database_url, prefix)
    folder = Path(tempfile.mkdtemp(prefix="govhall-bench-cluster-"))
    cluster = None
    bare_apps: list = []
    bare_nginx = None
    problems: list[str] = []
    keep_logs = args.keep
    try:
        cli(env, "migrate")
        log(f"cluster: nginx on {APP_PORT}, {args.nodes} nodes x {args.node_workers} workers, {args.workers} workers")
        cluster = cluster_script.start_cluster(
            env, folder, nodes=args.nodes, workers=args.workers, node_workers=args.node_workers, port=APP_PORT
        )
        bare_apps, bare_urls, (bare_nginx, bare_base) = start_bare(args.nodes, args.node_workers, env, folder / "bare")
        for number, (process, url) in enumerate(zip(bare_apps, bare_urls, strict=True), start=1):
            await wait_ready(f"{url}/", process, f"bare{number}")
        cluster_script.wait_healthy(bare_base, bare_nginx)

        data, node_data, template_id = await build_data(env, cluster.base, args.citizens)

        common = {"threads": args.threads, "connections": args.connections, "duration": args.duration}

        def listing_path(d: dict) -> str:
            return (
                f"/api/v1/matters/{d['matter_id']}/slots?hall_id={d['hall_id']}&date_from={d['day']}&date_to={d['day']}"
            )

        def flash_args(d: dict, slots_file: Path) -> list[str]:
            return [str(OUT / "cluster-tokens.txt"), str(slots_file), str(d["matter_id"]), str(args.threads)]

        node = cluster.nodes[0]
        results: dict[str, dict] = {}
        node_counts: dict[str, dict[str, int]] = {}

        log("through nginx: bare GET")
        results["nginx_bare_get"] = run_wrk(wrk, f"{bare_base}{listing_path(data)}", "listing.lua", [], **common)
        before = {n.name: requests_counted(n.url) for n in cluster.nodes}
        log("through nginx: slot listing")
        results["nginx_listing"] = run_wrk(wrk, f"{cluster.base}{listing_path(data)}", "listing.lua", [], **common)
        middle = {n.name: requests_counted(n.url) for n in cluster.nodes}
        log("through nginx: bare POST")
        results["nginx_bare_post"] = run_wrk(
            wrk, bare_base, "flash_crowd.lua", flash_args(data, OUT / "cluster-slots-nginx.txt"), **common
        )
        log("through nginx: flash crowd")
        results["nginx_flash"] = run_wrk(
            wrk, cluster.base, "flash_crowd.lua", flash_args(data, OUT / "cluster-slots-nginx.txt"), **common
        )
        after = {n.name: requests_counted(n.url) for n in cluster.nodes}
        for n in cluster.nodes:
            node_counts[n.name] = {
                "listing": served(before[n.name], middle[n.name], "/slots"),
                "bookings": served(middle[n.name], after[n.name], "/api/v1/appointments"),
            }
            if not node_counts[n.name]["bookings"]:
                problems.append(f"{n.name} answered no booking through nginx")
        problems += [
            f"through nginx: {p}" for p in await check_crowd(database_url, cluster.base, data, results["nginx_flash"])
        ]

        log(f"one node directly ({node.url}): bare GET")
        bare_one = bare_urls[0]
        results["node_bare_get"] = run_wrk(wrk, f"{bare_one}{listing_path(node_data)}", "listing.lua", [], **common)
        log("one node directly: slot listing")
        results["node_listing"] = run_wrk(wrk, f"{node.url}{listing_path(node_data)}", "listing.lua", [], **common)
        log("one node directly: bare POST")
        results["node_bare_post"] = run_wrk(
            wrk, bare_one, "flash_crowd.lua", flash_args(node_data, OUT / "cluster-slots-node.txt"), **common
        )
        log("one node directly: flash crowd")
        results["node_flash"] = run_wrk(
            wrk, node.url, "flash_crowd.lua", flash_args(node_data, OUT / "cluster-slots-node.txt"), **common
        )
        problems += [
            f"one node: {p}" for p in await check_crowd(database_url, cluster.base, node_data, results["node_flash"])
        ]

        log("waiting for the workers to send every booking's push")
        push_problems, pushes = await check_pushes(
            database_url, cluster.base, template_id, [data["matter_id"], node_data["matter_id"]]
        )
        problems += push_problems

        r = results
        print()
        print(
            f"nodes={args.nodes} node_workers={args.node_workers} workers={args.workers} threads={args.threads} "
            f"connections={args.connections} duration={args.duration}s citizens={args.citizens} cpus={os.cpu_count()}"
        )
        print(f"{'path':<22} {'scenario':<16} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6}")
        through = f"nginx -> {args.nodes} nodes"
        print(table_row(through, "bare GET", r["nginx_bare_get"], None))
        print(table_row(through, "slot listing", r["nginx_listing"], r["nginx_bare_get"]))
        print(table_row(through, "bare POST", r["nginx_bare_post"], None))
        print(table_row(through, "flash crowd", r["nginx_flash"], r["nginx_bare_post"]))
        print(table_row("1 node directly", "bare GET", r["node_bare_get"], None))
        print(table_row("1 node directly", "slot listing", r["node_listing"], r["node_bare_get"]))
        print(table_row("1 node directly", "bare POST", r["node_bare_post"], None))
        print(table_row("1 node directly", "flash crowd", r["node_flash"], r["node_bare_post"]))
        gains = {
            name: r[f"nginx_{name}"]["rps"] / r[f"node_{name}"]["rps"]
            for name in ("bare_get", "listing", "bare_post", "flash")
        }
        print(
            f"nginx + {args.nodes} nodes over 1 node directly (req/s): "
            + ", ".join(f"{name} x{gain:.2f}" for name, gain in gains.items())
        )
        print(f"requests per node through nginx: {node_counts}")
        print(f"flash crowd answers through nginx: {r['nginx_flash']['statuses']} codes: {r['nginx_flash']['codes']}")
        print(f"flash crowd answers at one node: {r['node_flash']['statuses']} codes: {r['node_flash']['codes']}")
        print(
            f"pushes: {pushes['pushes_sent']} sent for {pushes['appointments']} appointments, by worker "
            f"{pushes['by_worker']}, all settled {pushes['settled_in_s']}s after the last flash crowd's checks"
        )
        print(
            "checks: "
            + (
                "all passed (exactly the capacity booked twice, every other answer 409 SLOT_FULL or ALREADY_BOOKED, no "
                "5xx, no socket errors, 0 seats left, every node booked, every push sent exactly once)"
                if not problems
                else "FAILED: " + "; ".join(problems)
            )
        )
        (OUT / "cluster.json").write_text(
            json.dumps(
                {
                    "nodes": args.nodes,
                    "node_workers": args.node_workers,
                    "workers": args.workers,
                    "threads": args.threads,
                    "connections": args.connections,
                    "duration_s": args.duration,
                    "citizens": args.citizens,
                    "date": date.today().isoformat(),
                    **results,
                    "gains": gains,
                    "requests_per_node": node_counts,
                    "pushes": pushes,
                    "problems": problems,
                },
                indent=2,
            )
        )
        return 1 if problems else 0
    except BaseException:
        log(f"failed; the processes' logs are kept in {folder} and {OUT}")
        keep_logs = True
        raise
    finally:
        if bare_nginx is not None:
            bare_nginx.stop()
        for process in bare_apps:
            stop(process)
        if cluster is not None:
            cluster.stop()
        if not args.keep:
            await drop_scratch(database, prefix)
        if not keep_logs:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
