"""Benchmark: the reads citizens make most, each as a ratio to the bare Sanic endpoint in the same run, at 1x or 100x.

    .venv/bin/python bench/citizen_reads.py [--workers 1] [--scale 1|100] [--duration 10] [--explain]

The reads: a case's detail with its timeline (GET /api/v1/cases/{id}), my cases (GET /api/v1/cases), my inbox
(GET /api/v1/me/messages), a matter's guide (GET /api/v1/matters/{id}) and search with two-character words
(GET /api/v1/matters?q=社保). Each read rotates through many citizens, cases, matters or words (citizen_reads.lua).

Set-up as bench/run.py (bench/common.py: scratch PostgreSQL database and Redis prefix, the app on 8100 and the bare
endpoint on 8101 with the same workers, wrk). The demo catalogue is seeded through the CLI, the measured citizens
log in through the HTTP API (the simulated WeChat login), then the rest of the city is loaded with set-based SQL:
at --scale 1, 300 citizens, 3,000 cases, 10,000 timeline rows and 30,000 messages; at --scale 100 a city's year,
30,000 citizens, 300,000 cases, 1,000,000 timeline rows and 3,000,000 messages. Every citizen, measured or not, has
about 10 cases and 100 messages, spread over the whole table. --explain prints EXPLAIN (ANALYZE, BUFFERS) of every
SQL statement each read runs (captured from Tortoise's query log, run in this process against the loaded data).
Before each read is measured, every one of its requests is made once against each server, then the same wrk load
runs for 3 s unmeasured (a warm-up: every server process has answered them before, as in a server that has been
serving). --citizen-memo-seconds sets the app's server.citizen_memo_seconds
(default: the configuration's; 0 measures every citizen read going to the database).
Results go to bench/out/citizen_reads-<workers>w-<scale>x[-memo<N>].json; docs/PERFORMANCE.md has the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from datetime import date
from urllib.parse import quote

import asyncpg
import httpx
from common import (
    APP_PORT,
    BARE_PORT,
    OUT,
    app_env,
    cli,
    create_scratch,
    drop_scratch,
    log,
    require_wrk,
    row,
    run_wrk,
    serve,
    stop,
    wait_served,
)

# At --scale 1; --scale 100 multiplies every count.
BASE = {"citizens": 300, "cases": 3_000, "timeline": 10_000, "messages": 30_000}
WORDS = ["社保", "户口", "身份", "公积", "医保", "居住", "出生", "护照"]
WARM_UP_SECONDS = 3
READS = ("case detail", "my cases", "my inbox", "matter guide", "search")

LOAD_SQL = [
    # The other citizens: WeChat accounts without a real-name identity (the reads measured need none).
    """
    INSERT INTO citizen (id, wechat_openid, created_at, last_login_at)
    SELECT g, 'bench-' || g, now() - interval '400 days', now() - (g % 300) * interval '1 day'
    FROM generate_series($1::int, $2::int) AS g
    """,
    # Cases: citizen k of the n gets cases k, k + n, k + 2n ... (about 10 each, spread over the table), on the demo
    # matters and their current guide, all filed and accepted, a fifth still running.
    """
    WITH m AS (
        SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, department_id, current_version, count(*) OVER () AS total
        FROM matter
    ), c AS (
        SELECT g, ($2::int[])[1 + (g - 1) % array_length($2::int[], 1)] AS applicant_id,
               now() - interval '330 days' + (g::float / $1) * interval '328 days' AS at
        FROM generate_series(1, $1::int) AS g
    )
    INSERT INTO case_file (
        id, matter_id, guide_version, department_id, channel, applicant_id, applicant_name, id_number_hash,
        id_number_masked, id_number_encrypted, form, form_secrets_encrypted, status, version, receipt_no,
        promised_days, amount_fen, paid, supplement_items, submitted_at, accepted_at, deadline_at, paused_workdays,
        light_announced, delivery_method, tracking_no, ended_at, rated, created_at, updated_at
    )
    SELECT c.g, m.id, m.current_version, m.department_id, 'online', c.applicant_id, '压测', '',
           '110***********' || lpad((c.applicant_id % 10000)::text, 4, '0'), '', '{}', '', s.status, 3,
           'BR' || c.g, 5, 0, false, '[]', c.at, c.at + interval '1 hour', c.at + interval '7 days', 0, '', '', '',
           CASE WHEN s.status IN ('approved', 'denied', 'delivered') THEN c.at + interval '5 days' END,
           s.status IN ('approved', 'denied', 'delivered'), c.at, c.at
    FROM c
    JOIN m ON m.n = c.g % m.total
    CROSS JOIN LATERAL (
        SELECT (ARRAY['accepted', 'in_review', 'approved', 'delivered', 'approved', 'denied', 'approved',
                      'delivered', 'approved', 'approved'])[1 + c.g % 10] AS status
    ) AS s
    """,
    # Timeline: the moves of case k are rows k, k + cases, k + 2 cases ... (3 or 4 each).
    """
    INSERT INTO case_timeline (id, case_id, action, from_status, to_status, actor, actor_role, note, details, at)
    SELECT g, 1 + (g - 1) % $2::int, a.action, a.from_status, a.to_status, 'bench', a.role, '', '{}',
           now() - interval '330 days' + (((g - 1) % $2::int + 1)::float / $2) * interval '328 days'
               + ((g - 1) / $2::int) * interval '1 hour'
    FROM generate_series(1, $1::int) AS g
    CROSS JOIN LATERAL (
        SELECT (ARRAY['submit', 'accept', 'review', 'approve'])[1 + ((g - 1) / $2::int) % 4] AS action,
               (ARRAY['draft', 'submitted', 'accepted', 'in_review'])[1 + ((g - 1) / $2::int) % 4] AS from_status,
               (ARRAY['submitted', 'accepted', 'in_review', 'approved'])[1 + ((g - 1) / $2::int) % 4] AS to_status,
               (ARRAY['citizen', 'clerk', 'clerk', 'approver'])[1 + ((g - 1) / $2::int) % 4] AS role
    ) AS a
    """,
    # Messages: citizen k of the n gets messages k, k + n, ... (about 100 each), about a case; most of them read.
    """
    INSERT INTO inbox_message (id, citizen_id, event_id, kind, title, body, subject, created_at, read_at)
    SELECT g, ($2::int[])[1 + (g - 1) % array_length($2::int[], 1)], g, 'case.accepted', '办件已受理',
           '您的办件已受理，请留意办理进度。', json_build_object('type', 'case', 'id', 1 + g % $3::int),
           now() - interval '330 days' + (g::float / $1) * interval '329 days',
           CASE WHEN g % 10 < 7 THEN now() - interval '330 days' + (g::float / $1) * interval '329 days' END
    FROM generate_series(1, $1::int) AS g
    """,
]


async def load_city(database_url: str, counts: dict[str, int], measured_ids: list[int]) -> list[int]:
    """The rest of the city by set-based SQL; returns every citizen's id."""
    conn = await asyncpg.connect(database_url)
    try:
        first = (await conn.fetchval("SELECT coalesce(max(id), 0) FROM citizen")) + 1
        last = first + counts["citizens"] - len(measured_ids) - 1
        started = time.perf_counter()
        await conn.execute(LOAD_SQL[0], first, last)
        citizen_ids = [r["id"] for r in await conn.fetch("SELECT id FROM citizen ORDER BY id")]
        await conn.execute(LOAD_SQL[1], counts["cases"], citizen_ids)
        await conn.execute(LOAD_SQL[2], counts["timeline"], counts["cases"])
        await conn.execute(LOAD_SQL[3], counts["messages"], citizen_ids, counts["cases"])
        for table in ("citizen", "case_file", "case_timeline", "inbox_message"):
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        await conn.execute("VACUUM ANALYZE")
        log(
            f"loaded {len(citizen_ids)} citizens, {counts['cases']} cases, {counts['timeline']} timeline rows, "
            f"{counts['messages']} messages in {time.perf_counter() - started:.0f}s"
        )
        return citizen_ids
    finally:
        await conn.close()


async def login_citizens(count: int) -> list[dict]:
    """The measured citizens: ordinary WeChat logins through the API (their tokens live in the app's cache)."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{APP_PORT}", timeout=30) as http:
        logins = []
        for _ in range(count):  # one by one: their ids come first and in order, like any citizens'
            code = (await http.post("/sim/wechat/code", json={})).json()["code"]
            login = (await http.post("/api/v1/auth/wechat", json={"code": code})).json()
            logins.append({"token": login["token"], "id": login["citizen"]["id"]})
    return logins


async def request_files(database_url: str, logins: list[dict]) -> dict[str, list[str]]:
    """For each read, the "token<TAB>path" lines the Lua script rotates through."""
    conn = await asyncpg.connect(database_url)
    try:
        token_of = {login["id"]: login["token"] for login in logins}
        cases = await conn.fetch(
            "SELECT id, applicant_id FROM case_file WHERE applicant_id = ANY($1::int[]) ORDER BY id", list(token_of)
        )
        matters = [r["id"] for r in await conn.fetch("SELECT id FROM matter ORDER BY id")]
    finally:
        await conn.close()
    return {
        "case detail": [f"{token_of[c['applicant_id']]}\t/api/v1/cases/{c['id']}" for c in cases],
        "my cases": [f"{login['token']}\t/api/v1/cases" for login in logins],
        "my inbox": [f"{login['token']}\t/api/v1/me/messages" for login in logins],
        "matter guide": [f"-\t/api/v1/matters/{matter}" for matter in matters],
        "search": [f"-\t/api/v1/matters?q={quote(word)}" for word in WORDS],
    }


async def warm_up(base_url: str, lines: list[str]) -> None:
    """Every request of a read once (16 at a time), as a server that has been serving has answered them."""
    gate = asyncio.Semaphore(16)

    async def one(http: httpx.AsyncClient, line: str) -> None:
        token, _, path = line.partition("\t")
        headers = {} if token == "-" else {"Authorization": f"Bearer {token}"}
        async with gate:
            (await http.get(path, headers=headers)).raise_for_status()

    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        await asyncio.gather(*(one(http, line) for line in lines))


class _Queries(logging.Handler):
    """Collects the SQL Tortoise sends (its debug log line carries the query and its values)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[tuple[str, list]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.args, tuple) and len(record.args) == 2 and isinstance(record.args[0], str):
            query, values = record.args
            if query.lstrip().upper().startswith("SELECT"):
                self.seen.append((query, list(values or [])))


async def explain(database_url: str, logins: list[dict], reads: dict[str, list[str]]) -> dict[str, list[dict]]:
    """EXPLAIN (ANALYZE, BUFFERS) of every SELECT each read runs, as the service layer sends it."""
    from app.cases import service as cases
    from app.catalog import service as catalog
    from app.core.auth import CITIZEN, Principal
    from app.core.cache import MemoryCache
    from app.core.config import load_settings
    from app.core.db import close_db, init_db
    from app.notifications import service as notifications

    settings = load_settings(environ={**os.environ, "APP_DATABASE__URL": database_url, "APP_LOGGING__LEVEL": "WARNING"})
    await init_db(settings)
    citizen = logins[0]
    viewer = Principal(kind=CITIZEN, id=citizen["id"])
    case_id = int(next(line for line in reads["case detail"] if line.startswith(citizen["token"])).rsplit("/", 1)[1])
    matter_id = int(reads["matter guide"][0].rsplit("/", 1)[1])
    ttl = settings.catalog.cache_seconds
    cache = MemoryCache()
    # As a request runs them in steady state: guides in the cache (and the process memo), so a case or my cases
    # shows only its own reads; the guide and search reads as they run once per memo_seconds and cache_seconds.
    calls = {
        "case detail": lambda: cases.get_case(viewer, case_id, cache=cache, guide_ttl=ttl),
        "my cases": lambda: cases.list_for_citizen(
            viewer.id, status=None, offset=0, limit=20, cache=cache, guide_ttl=ttl, viewer=viewer
        ),
        "my inbox": lambda: notifications.inbox(viewer.id, unread_only=False, offset=0, limit=20),
        "matter guide (not cached)": lambda: catalog.get_guide(matter_id, cache=MemoryCache(), ttl=0),
        "search (not remembered)": lambda: catalog.search_matters(q=WORDS[0], offset=0, limit=20),
    }
    await calls["my cases"]()  # fills the cache with the guides of the citizen's cases
    logger = logging.getLogger("tortoise.db_client")
    handler = _Queries()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    plans: dict[str, list[dict]] = {}
    conn = await asyncpg.connect(database_url)
    try:
        for name, call in calls.items():
            handler.seen.clear()
            await call()
            plans[name] = []
            for query, values in list(handler.seen):
                text = "\n".join(r[0] for r in await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + query, *values))
                plans[name].append({"sql": query, "values": [str(v) for v in values], "plan": text})
    finally:
        logger.removeHandler(handler)
        await conn.close()
        await close_db()
    return plans


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--scale", type=int, choices=(1, 100), default=1)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--measured", type=int, default=64, help="citizens whose reads wrk rotates through")
    parser.add_argument("--explain", action="store_true", help="print the query plans of each read")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database and Redis keys")
    parser.add_argument(
        "--citizen-memo-seconds", type=float, default=None, help="server.citizen_memo_seconds of the app (0: off)"
    )
    args = parser.parse_args()
    wrk = require_wrk()
    OUT.mkdir(exist_ok=True)
    counts = {name: count * args.scale for name, count in BASE.items()}
    database, prefix, database_url = await create_scratch("bench_reads")
    env = app_env(database_url, prefix)
    if args.citizen_memo_seconds is not None:
        env["APP_SERVER__CITIZEN_MEMO_SECONDS"] = str(args.citizen_memo_seconds)
    app_server = bare_server = None
    try:
        cli(env, "migrate")
        cli(env, "seed", "--demo")
        app_server, bare_server = serve(env, args.workers)
        await wait_served(app_server, bare_server)
        logins = await login_citizens(args.measured)
        await load_city(database_url, counts, [login["id"] for login in logins])
        reads = await request_files(database_url, logins)
        common = {"threads": args.threads, "connections": args.connections, "duration": args.duration}
        warm = {**common, "duration": WARM_UP_SECONDS}
        results: dict[str, dict] = {}
        problems = []
        for name in READS:
            path = OUT / f"reads-{name.replace(' ', '-')}.txt"
            path.write_text("\n".join(reads[name]) + "\n")
            script_args = [str(path), str(args.threads)]
            log(f"{name}: bare, then the app ({len(reads[name])} different requests), each warmed up first")
            for port in (BARE_PORT, APP_PORT):
                await warm_up(f"http://127.0.0.1:{port}", reads[name])
                # and a short load, so that every server process (not only the one a connection landed on) has
                # answered them: what is measured is a server that has been serving
                run_wrk(wrk, f"http://127.0.0.1:{port}", "citizen_reads.lua", script_args, **warm)
            bare = run_wrk(wrk, f"http://127.0.0.1:{BARE_PORT}", "citizen_reads.lua", script_args, **common)
            app = run_wrk(wrk, f"http://127.0.0.1:{APP_PORT}", "citizen_reads.lua", script_args, **common)
            results[name] = {"bare": bare, "app": app, "ratio": app["rps"] / bare["rps"]}
            statuses = {int(k): v for k, v in app["statuses"].items()}
            if set(statuses) != {200} or app["timeouts"] or app["read_errors"] or app["connect_errors"]:
                problems.append(f"{name}: answers {app['statuses']}, {app['timeouts']} timeouts")

        print()
        print(
            f"workers={args.workers} scale={args.scale}x threads={args.threads} connections={args.connections} "
            f"duration={args.duration}s cpus={os.cpu_count()} counts={counts}"
        )
        print(f"{'read':<34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>7}")
        for name in READS:
            print(row(f"bare ({name})", results[name]["bare"], None))
            print(row(name, results[name]["app"], results[name]["bare"]))
        for name in READS:
            met = results[name]["ratio"] >= 0.5
            print(f"  target {name} >= 0.50: {'met' if met else 'MISSED'} ({results[name]['ratio']:.2f})")
        print("answers: " + ("all 200, no socket errors" if not problems else "FAILED: " + "; ".join(problems)))
        plans = None
        if args.explain:
            plans = await explain(database_url, logins, reads)
            for name, statements in plans.items():
                print(f"\n### {name}\n")
                for statement in statements:
                    print(f"{statement['sql']}\n-- values: {statement['values']}\n{statement['plan']}\n")
        memo = "" if args.citizen_memo_seconds is None else f"-memo{args.citizen_memo_seconds:g}"
        (OUT / f"citizen_reads-{args.workers}w-{args.scale}x{memo}.json").write_text(
            json.dumps(
                {
                    "workers": args.workers,
                    "scale": args.scale,
                    "counts": counts,
                    "threads": args.threads,
                    "connections": args.connections,
                    "duration_s": args.duration,
                    "date": date.today().isoformat(),
                    "citizen_memo_seconds": args.citizen_memo_seconds,
                    "results": results,
                    "plans": plans,
                    "problems": problems,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return 1 if problems else 0
    finally:
        stop(app_server)
        stop(bare_server)
        if not args.keep:
            await drop_scratch(database, prefix)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
