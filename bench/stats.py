"""Benchmark: the public statistics computed from a city-sized year of ratings, tickets and cases.

    .venv/bin/python bench/stats.py [--ratings 300000] [--tickets 30000] [--cases 300000] [--rounds 5]

Appointments are not loaded (each needs its schedule and slot rows), so the halls' no-show count runs on an empty
table here.

Needs PostgreSQL (TEST_POSTGRES_URL as for the tests). It creates a scratch database, migrates it, loads the rows
straight into the tables (COPY), then times the uncached report (what one request pays every stats.cache_seconds)
for a month and for a year, per department and per hall, and drops the database. Prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DEPARTMENTS = 40
HALLS = 15
MATTERS = 1200
YEAR_START = datetime.fromisoformat("2026-01-01T00:00:00+08:00")


def log(message: str) -> None:
    print(f"[bench-stats] {message}", flush=True)


def moment(rng: random.Random) -> datetime:
    return YEAR_START + timedelta(seconds=rng.randrange(0, 330 * 86400))


async def load(conn: asyncpg.Connection, counts: dict[str, int]) -> None:
    rng = random.Random(8)
    created = datetime.now().astimezone()
    await conn.copy_records_to_table(
        "department",
        columns=["id", "code", "name", "short_name", "phone", "created_at"],
        records=[(i, f"BD{i}", f"压测部门{i}", "", "", created) for i in range(1, DEPARTMENTS + 1)],
    )
    await conn.copy_records_to_table(
        "hall",
        columns=["id", "code", "name", "district", "address", "opening_hours", "phone", "windows", "created_at"],
        records=[(i, f"BH{i}", f"压测大厅{i}", "", "", "", "", 10, created) for i in range(1, HALLS + 1)],
    )
    ratings = []
    for i in range(1, counts["ratings"] + 1):
        score = rng.choices([1, 2, 3, 4, 5], [2, 3, 10, 30, 55])[0]
        default = rng.random() < 0.2
        ratings.append(
            (
                "case",
                i,
                None if default else i,
                rng.randrange(1, DEPARTMENTS + 1),
                rng.randrange(1, MATTERS + 1),
                rng.choice([None, rng.randrange(1, HALLS + 1)]),
                3 if default else score,
                "{}",
                "[]",
                "",
                default,
                moment(rng),
                rng.choices(["none", "voided"], [99, 1])[0],
                "",
                "",
                datetime.now().astimezone(),
            )
        )
    await conn.copy_records_to_table(
        "rating",
        columns=[
            "subject_type",
            "subject_id",
            "citizen_id",
            "department_id",
            "matter_id",
            "hall_id",
            "score",
            "dimensions",
            "tags",
            "comment",
            "is_default",
            "rated_at",
            "appeal_status",
            "appeal_reason",
            "decision_note",
            "created_at",
        ],
        records=ratings,
    )
    tickets = []
    for _ in range(counts["tickets"]):
        created = moment(rng)
        kind = rng.choice(["consult", "complaint", "suggestion", "rectification"])
        done = created + timedelta(hours=rng.randrange(1, 200)) if rng.random() < 0.9 else None
        due = created + timedelta(days=3)
        tickets.append(
            (
                kind,
                "closed" if done else "open",
                1,
                rng.randrange(1, 10**6),
                rng.randrange(1, DEPARTMENTS + 1),
                rng.choice([None, rng.randrange(1, HALLS + 1)]),
                "内容",
                None if done else due,
                due,
                due + timedelta(days=4) if kind == "rectification" else None,
                done,
                None if done is None else done <= due,
                done if kind == "rectification" else None,
                None if done is None or kind != "rectification" else done <= due + timedelta(days=4),
                "",
                rng.choices([0, 1, 2], [85, 10, 5])[0],
                "[]",
                "",
                "",
                "",
                False,
                created,
                created,
            )
        )
    await conn.copy_records_to_table(
        "service_ticket",
        columns=[
            "kind",
            "status",
            "version",
            "citizen_id",
            "department_id",
            "hall_id",
            "content",
            "due_at",
            "first_due_at",
            "fix_due_at",
            "first_done_at",
            "first_on_time",
            "fixed_at",
            "fix_on_time",
            "last_reply",
            "reopen_count",
            "alerted",
            "fix_comment",
            "close_reason",
            "closed_by",
            "voided",
            "created_at",
            "updated_at",
        ],
        records=tickets,
    )
    cases = []
    for i in range(counts["cases"]):
        accepted = moment(rng)
        deadline = accepted + timedelta(days=7)
        ended = accepted + timedelta(days=rng.randrange(1, 10)) if rng.random() < 0.8 else None
        status = rng.choice(["approved", "denied", "delivered"]) if ended else rng.choice(["accepted", "in_review"])
        cases.append(
            (
                rng.randrange(1, MATTERS + 1),
                1,
                rng.randrange(1, DEPARTMENTS + 1),
                "online",
                rng.choice([None, rng.randrange(1, HALLS + 1)]),
                "{}",
                status,
                2,
                f"R{i}",
                5,
                0,
                False,
                "[]",
                accepted,
                deadline,
                0,
                "",
                "",
                "",
                ended,
                ended is not None,
                accepted,
                accepted,
                "",
                "",
                "",
                "",
            )
        )
    await conn.copy_records_to_table(
        "case_file",
        columns=[
            "matter_id",
            "guide_version",
            "department_id",
            "channel",
            "hall_id",
            "form",
            "status",
            "version",
            "receipt_no",
            "promised_days",
            "amount_fen",
            "paid",
            "supplement_items",
            "accepted_at",
            "deadline_at",
            "paused_workdays",
            "light_announced",
            "delivery_method",
            "tracking_no",
            "ended_at",
            "rated",
            "created_at",
            "updated_at",
            "applicant_name",
            "id_number_hash",
            "id_number_masked",
            "id_number_encrypted",
        ],
        records=cases,
    )
    log(f"loaded {len(ratings)} ratings, {len(tickets)} tickets, {len(cases)} cases")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ratings", type=int, default=300_000)
    parser.add_argument("--tickets", type=int, default=30_000)
    parser.add_argument("--cases", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from app.core.cache import MemoryCache
    from app.core.config import load_settings
    from app.core.db import close_db, init_db, migrate
    from app.stats import service as stats

    name = f"govhall_bench_stats_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{POSTGRES_ADMIN_URL.rpartition('/')[0]}/{name}"
    try:
        settings = load_settings(environ={**os.environ, "APP_DATABASE__URL": url, "APP_LOGGING__LEVEL": "WARNING"})
        await migrate(settings)
        await close_db()
        conn = await asyncpg.connect(url)
        await load(conn, {"ratings": args.ratings, "tickets": args.tickets, "cases": args.cases})
        await conn.execute("ANALYZE")
        await conn.close()
        await init_db(settings)
        cache = MemoryCache()
        now = datetime.fromisoformat("2026-11-23T12:00:00+08:00")
        print("| grouping | period | rows in period (ratings) | median ms | max ms |")
        print("|---|---|---:|---:|---:|")
        for group in ("departments", "halls"):
            for label, date_from in (("a month", "2026-10-01"), ("a year", "2026-01-01")):
                for only_id in (None, 1):
                    timings = []
                    for _ in range(args.rounds):
                        started = time.perf_counter()
                        report = await stats.report(
                            group,
                            date_from=date_from,
                            date_to="2026-11-22",
                            only_id=only_id,
                            cache=cache,
                            cache_seconds=0,
                            catalog_ttl=0,
                            now=now,
                        )
                        timings.append((time.perf_counter() - started) * 1000)
                    rated = sum(item["total_ratings"] + item["voided_ratings"] for item in report["items"])
                    grouping = group if only_id is None else f"one of the {group}"
                    print(f"| {grouping} | {label} | {rated} | {statistics.median(timings):.0f} | {max(timings):.0f} |")
        await close_db()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
