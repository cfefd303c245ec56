"""Periodic jobs (no-shows, upcoming slots, the admin calendar), run by `python -m app worker` or inside serve.

Every job is idempotent, so an embedded runner in each of several server processes does no harm. Reads never write:
slots are drawn by the slots job (and by the admin's schedule edits), no-shows marked by the no-show job; a booking
or check-in still settles the no-shows it depends on in its own write.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from app.core.cache import Cache
from app.core.config import Settings

log = logging.getLogger("app.worker")


@dataclass(frozen=True)
class Job:
    name: str
    interval_seconds: float
    run: Callable[[], Awaitable[object]]


def worker_id() -> str:
    """Who claims deliveries: host, process and a random tag (a restarted process is a new worker)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def all_jobs(settings: Settings, cache: Cache, platforms=None, *, me: str | None = None) -> list[Job]:
    """Every domain's jobs that must run on a timer (the notifier only when there are platform clients)."""
    from app.booking import service as booking
    from app.cases import service as cases
    from app.core import workdays
    from app.notifications import service as notifications
    from app.ratings import service as ratings
    from app.tickets import service as tickets

    jobs = [
        Job("calendar", workdays.OVERRIDES_MAX_AGE_SECONDS, workdays.load_overrides),
        Job("no_shows", settings.worker.no_show_interval_seconds, booking.mark_no_shows),
        Job("slots", settings.worker.slots_interval_seconds, booking.ensure_all_slots),
        # Reminders ride on the no-show timer: both look at appointments around now, once a minute by default.
        Job("reminders", settings.worker.no_show_interval_seconds, booking.remind_appointments),
        Job(
            "seat_counters",
            settings.worker.seat_counters_interval_seconds,
            partial(booking.reconcile_seat_counters, cache=cache, ttl_seconds=settings.booking.seat_counter_seconds),
        ),
        Job("case_lights", settings.worker.case_lights_interval_seconds, cases.announce_lights),
        Job("ticket_deadlines", settings.worker.tickets_interval_seconds, tickets.announce_overdue),
        Job("ticket_answers", settings.worker.tickets_interval_seconds, tickets.close_unanswered),
        Job(
            "rating_defaults",
            settings.worker.rating_defaults_interval_seconds,
            partial(ratings.apply_defaults, settings=settings),
        ),
    ]
    if platforms is not None:
        from app.payments import service as payments

        me = me or worker_id()
        jobs.append(
            Job(
                "notify",
                settings.worker.notify_interval_seconds,
                partial(notifications.run_once, platforms=platforms, settings=settings, worker_id=me),
            )
        )
        jobs.append(
            Job(
                "payments",
                settings.worker.payments_interval_seconds,
                partial(payments.sweep, platforms=platforms, settings=settings, cache=cache),
            )
        )
    return jobs


async def _pause_unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass


async def run_jobs(
    jobs: list[Job],
    stop: asyncio.Event,
    *,
    clock: Callable[[], float] = time.monotonic,
    pause: Callable[[asyncio.Event, float], Awaitable[None]] = _pause_unless_stopped,
) -> None:
    """Run each job every interval until stop is set; a failing job is logged and tried again next time."""
    due = {job.name: 0.0 for job in jobs}
    while not stop.is_set():
        for job in jobs:
            if stop.is_set():
                break  # a stopping worker finishes the job in hand and starts no other
            if clock() >= due[job.name]:
                try:
                    result = await job.run()
                    if result:
                        log.info("job %s: %s", job.name, result)
                except Exception:
                    log.exception("job %s failed", job.name)
                due[job.name] = clock() + job.interval_seconds
        await pause(stop, max(0.1, min(due.values()) - clock()))


def install_embedded(app) -> None:
    """Run the jobs inside this server process."""
    stop = asyncio.Event()

    @app.after_server_start
    async def _start_jobs(app, _loop=None):
        app.add_task(run_jobs(all_jobs(app.ctx.settings, app.ctx.cache, app.ctx.platforms), stop), name="periodic-jobs")

    @app.before_server_stop
    async def _stop_jobs(app, _loop=None):
        stop.set()
        # A job may be in the middle of a platform call: leave it, do not wait for it. What it held (a delivery's
        # lease, an unmarked event) is picked up again by the next worker.
        await app.cancel_task("periodic-jobs", raise_exception=False)


async def _return_leases(me: str) -> None:
    """What this worker leased and did not finish goes back at once, not when its lease runs out."""
    from app.notifications import service as notifications

    try:
        returned = await notifications.release_leases(me)
        if returned:
            log.info("returned %d delivery lease(s)", returned)
    except Exception:  # the database may be what failed: the leases then run out by themselves
        log.warning("could not return this worker's leases; they run out by themselves", exc_info=True)


def configure_process(settings: Settings) -> None:
    """What a worker process sets up before its jobs, as the server does: the one redacting log handler."""
    from app.core.logging import configure_logging

    configure_logging(settings.logging.level, settings.app.timezone, settings.logging.format)


def run_worker(settings: Settings) -> int:
    """`python -m app worker`: the jobs in their own process until SIGINT or SIGTERM."""
    from app.core.cache import build_cache
    from app.core.db import close_db, init_db
    from app.platforms import build_platforms

    # Without it the jobs' lines (a failed job's traceback, a platform's answer) would go out unmasked, if at all.
    configure_process(settings)

    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await init_db(settings)
        cache = build_cache(settings.cache)
        platforms = build_platforms(settings, cache)
        me = worker_id()
        try:
            log.info("worker started")
            await run_jobs(all_jobs(settings, cache, platforms, me=me), stop)
        finally:
            await _return_leases(me)
            await platforms.close()
            await cache.close()
            await close_db()

    asyncio.run(main())
    return 0
