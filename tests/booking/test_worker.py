"""The periodic-job runner behind `python -m app worker` and the embedded worker."""

import asyncio

from app.worker import Job, all_jobs, run_jobs


async def test_jobs_run_at_once_and_a_failing_job_does_not_stop_the_others(settings):
    stop = asyncio.Event()
    runs: list[str] = []
    clock = [0.0]

    async def pass_time(stop_event, seconds):  # the clock moves on at once, no real waiting; a stop ends the pause
        if not stop_event.is_set():
            clock[0] += seconds

    async def ok():
        runs.append("ok")
        if runs.count("ok") == 2:
            stop.set()

    async def broken():
        runs.append("broken")
        raise RuntimeError("boom")

    await asyncio.wait_for(
        run_jobs([Job("broken", 0.05, broken), Job("ok", 0.05, ok)], stop, clock=lambda: clock[0], pause=pass_time),
        timeout=5,
    )
    assert runs == ["broken", "ok", "broken", "ok"]
    assert clock[0] == 0.1  # one pause, never shorter than a tenth of a second


async def test_every_periodic_job_is_listed_and_runs(app, settings):
    names = {job.name for job in all_jobs(settings, app.ctx.cache)}
    assert names == {
        "calendar",
        "no_shows",
        "slots",
        "reminders",
        "seat_counters",
        "case_lights",
        "ticket_deadlines",
        "ticket_answers",
        "rating_defaults",
    }
    for job in all_jobs(settings, app.ctx.cache):
        await job.run()  # each job works against the real database without arguments


async def test_a_stopping_worker_starts_no_further_job():
    stop = asyncio.Event()
    runs: list[str] = []

    async def first():
        runs.append("first")
        stop.set()  # SIGTERM arrives while this job runs

    async def second():
        runs.append("second")

    await asyncio.wait_for(run_jobs([Job("first", 60, first), Job("second", 60, second)], stop), timeout=5)
    assert runs == ["first"]
