"""The README's walk-through, run as printed against a real server on a port other than 8000, on a fresh database
with the demo city loaded the way `make run` loads it; and what the demo city must hold for it."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from app.core.timeutil import now as clock_now
from app.core.workdays import local_date
from tests.conftest import BACKEND, DEMO_DATA, RUN_ID, _create_postgres_database, _drop_postgres_database, free_port
from tests.servers import ROOT, kill_group, serve, wait_until_healthy

pytestmark = pytest.mark.e2e

WALK_THROUGH = re.compile(r"```sh walk-through\n(.*?)```", re.S)
# What the walk-through's checked steps print, in order: bound, submitted, paid, approved, the rating's score.
EXPECTED = ["True", "submitted", "paid", "approved", "5"]
# A demo staff line of `seed --demo`: "  ga_clerk    Demo...7  roles=clerk  department=GA (id 1)"
STAFF_LINE = re.compile(r"^\s+(\S+)\s+(\S+)\s+roles=(\S+)\s+department=(\S+) \(id (\S+)\)$", re.M)


def walk_through() -> str:
    """The README's block marked walk-through."""
    found = WALK_THROUGH.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(found) == 1, "README.md must have exactly one ```sh walk-through block"
    return found[0]


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
async def demo_city(settings, tmp_path_factory):
    """A fresh database with the demo city (migrate, seed --demo) served on a free port by `python -m app serve`,
    the port given as APP_SERVER__PORT and app.public_base_url left unset, as `APP_SERVER__PORT=8201 make run`."""
    folder = tmp_path_factory.mktemp("walk")
    port = free_port()
    assert port != 8000
    database = f"govhall_walk_{RUN_ID}"
    if BACKEND == "postgres":
        url = await _create_postgres_database(database)
    else:
        url = f"sqlite://{folder / 'demo.sqlite3'}"
    env = {
        "APP_DATABASE__URL": url,
        "APP_CACHE__URL": settings.cache.url,
        # Under the run's prefix, which the run removes at its end.
        "APP_CACHE__KEY_PREFIX": f"{settings.cache.key_prefix}walk:",
        "APP_SERVER__PORT": str(port),
        "APP_APP__PUBLIC_BASE_URL": "",  # unset: follows the served port
    }
    await asyncio.to_thread(_cli, env, "migrate")
    seeded = (await asyncio.to_thread(_cli, env, "seed", "--demo")).stdout
    log_path = folder / "server.log"
    process = serve(env, log_path)
    base = f"http://127.0.0.1:{port}"
    try:
        await asyncio.to_thread(wait_until_healthy, base, process, log_path)
        yield {"base": base, "env": env, "seeded": seeded, "log": log_path}
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        kill_group(process)
        if BACKEND == "postgres":
            await _drop_postgres_database(database)


def _run_walk_through(demo_city) -> subprocess.CompletedProcess:
    venv_bin = str(Path(sys.executable).parent)  # `python -m app staff create` as with the virtualenv activated
    env = {
        **os.environ,
        **demo_city["env"],
        "API": demo_city["base"],
        "PATH": venv_bin + os.pathsep + os.environ["PATH"],
    }
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", walk_through()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


async def test_the_readme_walk_through_succeeds_as_printed_on_another_port(demo_city):
    done = await asyncio.to_thread(_run_walk_through, demo_city)
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    printed = done.stdout.split()
    assert printed[: len(EXPECTED)] == EXPECTED, done.stdout
    assert int(printed[len(EXPECTED)]) >= 3, "the inbox holds a message per step"
    # The server's log lines carry the city's time with its offset.
    lines = [line for line in demo_city["log"].read_text(errors="replace").splitlines() if " INFO " in line]
    assert lines and all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00 ", line) for line in lines)


async def test_the_demo_city_has_staff_in_the_departments_of_its_fees(demo_city):
    accounts = {match[0]: match for match in STAFF_LINE.findall(demo_city["seeded"])}
    matters = json.loads((DEMO_DATA / "matters.json").read_text(encoding="utf-8"))
    charging = {m["department"] for m in matters if m["bookable"] and sum(f["amount_fen"] for f in m["fees"])}
    assert {"GA", "ZR"} <= charging
    staffed = {(department, role) for _, _, roles, department, _ in accounts.values() for role in roles.split(",")}
    for department in charging | {"MZ", "RS"}:
        assert {(department, "clerk"), (department, "approver")} <= staffed, department
    # The printed password works, and the clerk sits in the department the line names.
    _, password, _, department, department_id = accounts["ga_clerk"]
    async with httpx.AsyncClient(base_url=demo_city["base"], timeout=30) as http:
        login = await http.post("/api/v1/auth/staff", json={"username": "ga_clerk", "password": password})
        assert login.status_code == 200, login.text
        assert login.json()["staff"]["department_id"] == int(department_id) and department == "GA"


async def test_every_bookable_demo_matter_takes_appointments_for_the_coming_weeks(demo_city):
    assert "45 schedules" in demo_city["seeded"]
    today = local_date(clock_now())
    async with httpx.AsyncClient(base_url=demo_city["base"], timeout=30) as http:
        bookable = (await http.get("/api/v1/matters", params={"bookable": "true", "page_size": 100})).json()
        assert bookable["total"] >= 15
        for matter in bookable["items"]:
            guide = (await http.get(f"/api/v1/matters/{matter['id']}")).json()
            slots = (await http.get(f"/api/v1/matters/{matter['id']}/slots")).json()
            assert {slot["hall_id"] for slot in slots} == set(guide["hall_ids"]), matter["code"]
            days = sorted({date.fromisoformat(slot["date"]) for slot in slots})
            # Released ten working days ahead: two weeks of days to choose from, from today or the next working day
            # (a long holiday aside).
            assert days[0] <= today + timedelta(days=10) and days[-1] >= days[0] + timedelta(days=9), days
            assert all(slot["capacity"] == 5 for slot in slots)
