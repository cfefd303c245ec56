"""database.read_replica_url: the public statistics read from a streaming replica, and from the primary when the
replica is gone. The test starts its own PostgreSQL primary and a streaming replica of it (initdb, pg_basebackup -R)
on free ports, migrates and seeds the primary with the app's own commands, and serves the app over both.

The proof that the figures come from the replica: with the replica's WAL replay paused, a complaint written through
the app is in the primary but not in the published figures (nor in the supervisors' export); once replay resumes it
is. With the replica stopped, the figures are answered (200, from the primary: they count what the paused replica
never saw), and a log line and govhall_db_replica_fallbacks_total say so.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import glob
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.conftest import BACKEND, IN_CI, free_port
from tests.servers import ROOT, kill_group, serve, wait_until_healthy

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(BACKEND != "postgres", reason="a PostgreSQL streaming replica: the production database"),
]
# What a replica on this machine takes to replay one small write: a bound on behaviour, not a speed target.
REPLAY_BOUND_SECONDS = 30
PG_TOOLS = ("initdb", "pg_ctl", "pg_basebackup")


def _pg_bin() -> Path | None:
    """The folder of PostgreSQL's server programs: on PATH, or Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if all((Path(folder) / tool).exists() for tool in PG_TOOLS):
            return Path(folder)
    return None


def _as_owner(*command: str) -> list[str]:
    # initdb and postgres refuse to run as root: as root the clusters belong to the postgres OS user.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


def _run(*command: str) -> None:
    done = subprocess.run(_as_owner(*command), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(command)}: {done.stdout}{done.stderr}"


class Cluster:
    """One PostgreSQL data folder on a port of its own, run by pg_ctl."""

    def __init__(self, bin_dir: Path, folder: Path, port: int) -> None:
        self.bin_dir, self.folder, self.port = bin_dir, folder, port

    def tool(self, name: str) -> str:
        return str(self.bin_dir / name)

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def configure(self, socket_dir: Path) -> None:
        with open(self.folder / "postgresql.conf", "a", encoding="utf-8") as conf:
            # The last setting of a name wins: a replica's copy of the primary's file is overridden the same way.
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{socket_dir}'\n"
                "fsync = off\nfull_page_writes = off\nshared_buffers = 16MB\nmax_connections = 50\n"
            )

    @property
    def log_path(self) -> Path:
        # Beside the data folder, not in it: pg_basebackup would copy the primary's log into the replica.
        return self.folder.parent / f"{self.folder.name}.log"

    def start(self) -> None:
        _run(self.tool("pg_ctl"), "-D", str(self.folder), "-l", str(self.log_path), "-w", "-t", "60", "start")

    def stop(self) -> None:
        _run(self.tool("pg_ctl"), "-D", str(self.folder), "-m", "fast", "-w", "-t", "60", "stop")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def primary_and_replica():
    bin_dir = _pg_bin()
    if bin_dir is None or (os.geteuid() == 0 and shutil.which("runuser") is None):
        message = "PostgreSQL's initdb, pg_ctl and pg_basebackup (and runuser as root) are needed for a replica"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    # Not pytest's tmp_path: as root its parents are closed to the postgres user, who must own the data folders.
    folder = Path(tempfile.mkdtemp(prefix="govhall-replica-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    primary = Cluster(bin_dir, folder / "primary", free_port())
    replica = Cluster(bin_dir, folder / "replica", free_port())
    running: list[Cluster] = []
    try:
        _run(
            primary.tool("initdb"),
            "-D", str(primary.folder), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--no-locale",
        )  # fmt: skip
        primary.configure(folder)
        primary.start()
        running.append(primary)
        # The whole primary, as it is now, and then its WAL as it is written (primary_conninfo and standby.signal: -R).
        _run(
            primary.tool("pg_basebackup"),
            "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
            "-D", str(replica.folder), "-R", "-X", "stream", "-c", "fast", "--no-sync",
        )  # fmt: skip
        replica.configure(folder)
        replica.start()
        running.append(replica)
        yield primary, replica
    except Exception:
        # a cluster that would not start or copy: its own words
        for cluster in (primary, replica):
            print(f"---- {cluster.folder.name} log ----\n{cluster.log()}")
        raise
    finally:
        for cluster in reversed(running):
            with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
                if (cluster.folder / "postmaster.pid").exists():
                    cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _app_command(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, f"python -m app {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout


async def _replayed(primary_url: str, replica_url: str) -> None:
    """Wait until the replica has replayed everything the primary had written when this was called."""
    async with _connected(primary_url) as conn:
        written = await conn.fetchval("SELECT pg_current_wal_lsn()::text")
    deadline = time.monotonic() + REPLAY_BOUND_SECONDS
    async with _connected(replica_url) as conn:
        while not await conn.fetchval("SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn", written):
            assert time.monotonic() < deadline, f"the replica did not replay {written} in {REPLAY_BOUND_SECONDS} s"
            await asyncio.sleep(0.1)


async def _pause_replay(replica_url: str) -> None:
    """Pause the replica's WAL replay, and wait until it is paused: what the primary writes next stays unseen."""
    async with _connected(replica_url) as conn:
        await conn.execute("SELECT pg_wal_replay_pause()")
        deadline = time.monotonic() + REPLAY_BOUND_SECONDS
        while await conn.fetchval("SELECT pg_get_wal_replay_pause_state()") != "paused":
            assert time.monotonic() < deadline, "the replica never paused its replay"
            await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def _connected(url: str):
    conn = await asyncpg.connect(url, timeout=10)
    try:
        yield conn
    finally:
        await conn.close()


async def _replica_figures(client: httpx.AsyncClient) -> dict[str, float]:
    """The replica's gauges in a scrape of /metrics."""
    text = (await client.get("/metrics")).text
    return {
        line.split(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(("govhall_db_replica_up ", "govhall_db_replica_lag_seconds "))
    }


async def test_the_statistics_read_the_replica_and_the_primary_when_it_is_gone(primary_and_replica, settings, tmp_path):
    primary, replica = primary_and_replica
    async with _connected(primary.url("postgres")) as conn:
        await conn.execute("CREATE DATABASE govhall")
    primary_url, replica_url = primary.url("govhall"), replica.url("govhall")
    port = free_port()
    env = {
        "APP_DATABASE__URL": primary_url,
        "APP_DATABASE__READ_REPLICA_URL": replica_url,
        "APP_DATABASE__CONNECT_TIMEOUT_SECONDS": "2",
        "APP_CACHE__URL": settings.cache.url,
        "APP_CACHE__KEY_PREFIX": f"{settings.cache.key_prefix}replica-{uuid.uuid4().hex[:6]}:",
        "APP_APP__PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "APP_WORKER__EMBEDDED": "false",
        # every report computed at the request, so each answer shows where it was read
        "APP_STATS__CACHE_SECONDS": "0",
        "APP_STATS__COMPUTED_PER_MINUTE": "1000000",
        "APP_METRICS__MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    # The primary, migrated and given the demo city by the app's own commands (the seeding while the server starts);
    # the replica follows.
    _app_command(env, "migrate")
    log_path = tmp_path / "server.log"
    process = serve(env, log_path, "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    try:
        seeded = _app_command(env, "seed", "--demo")
        wait_until_healthy(base, process, log_path)
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            matter = (await client.get("/api/v1/matters")).json()["items"][0]
            department_id = matter["department_id"]
            openid = "o" + uuid.uuid4().hex[:27]
            code = (await client.post("/sim/wechat/code", json={"openid": openid})).json()["code"]
            token = (await client.post("/api/v1/auth/wechat", json={"code": code})).json()["token"]
            citizen = {"Authorization": f"Bearer {token}"}
            # the seed prints each demo account's one-time password: "  supervisor  <password>  roles=supervisor ..."
            password = next(line.split()[1] for line in seeded.splitlines() if line.split()[:1] == ["supervisor"])
            login = await client.post("/api/v1/auth/staff", json={"username": "supervisor", "password": password})
            assert login.status_code == 200, login.text
            supervisor = {"Authorization": f"Bearer {login.json()['token']}"}

            async def complain() -> None:
                body = {"kind": "complaint", "content": "窗口排队太久", "matter_id": matter["id"]}
                answer = await client.post("/api/v1/feedback", json=body, headers=citizen)
                assert answer.status_code == 201, answer.text

            async def published_complaints() -> int:
                answer = await client.get("/api/v1/stats/departments", params={"department_id": department_id})
                assert answer.status_code == 200, answer.text
                return answer.json()["items"][0]["complaints"]

            async def exported_complaints() -> int:
                # the supervisors' export: the same figures, read where the public ones are
                params = {"report": "departments", "format": "csv", "department_id": department_id}
                answer = await client.get("/api/v1/staff/stats/export", params=params, headers=supervisor)
                assert answer.status_code == 200, answer.text
                heading, row = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
                return int(row[heading.index("投诉数")])

            async def complaints_in_primary() -> int:
                async with _connected(primary_url) as conn:
                    return await conn.fetchval(
                        "SELECT count(*) FROM service_ticket WHERE kind = 'complaint' AND department_id = $1",
                        department_id,
                    )

            await complain()
            await _replayed(primary_url, replica_url)
            assert await published_complaints() == 1

            # Replay paused: the primary has the second complaint, the replica (and so the figures) not yet.
            await _pause_replay(replica_url)
            await complain()
            assert await complaints_in_primary() == 2
            assert await published_complaints() == 1
            assert await exported_complaints() == 1
            # what an operator sees meanwhile: the replica answers, and its replay is behind
            behind = await _replica_figures(client)
            assert behind["govhall_db_replica_up"] == 1 and behind["govhall_db_replica_lag_seconds"] > 0, behind

            async with _connected(replica_url) as conn:
                await conn.execute("SELECT pg_wal_replay_resume()")
            await _replayed(primary_url, replica_url)
            assert await published_complaints() == 2
            assert await exported_complaints() == 2
            deadline = time.monotonic() + REPLAY_BOUND_SECONDS
            while (await _replica_figures(client))["govhall_db_replica_lag_seconds"] != 0:  # caught up: no lag
                assert time.monotonic() < deadline, "the replica's lag stayed above 0 after it caught up"
                await asyncio.sleep(0.2)

            # Paused again and a third complaint, then the replica stops: the figures come from the primary.
            await _pause_replay(replica_url)
            await complain()
            replica.stop()
            assert await published_complaints() == 3
            # and the next ones too, without trying the stopped replica again at once
            assert await published_complaints() == 3
            assert await exported_complaints() == 3

            scraped = (await client.get("/metrics")).text
            gone = await _replica_figures(client)
            assert gone["govhall_db_replica_up"] == 0 and "govhall_db_replica_lag_seconds" not in gone, gone
        fallbacks = {
            line.split("{", 1)[1].split("}", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in scraped.splitlines()
            if line.startswith("govhall_db_replica_fallbacks_total{")
        }
        assert fallbacks.get('reason="failed"', 0) >= 1, scraped
        assert fallbacks.get('reason="skipped"', 0) >= 1, scraped
        assert "read replica failed for stats departments" in log_path.read_text(errors="replace")
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            kill_group(process)
            process.wait(timeout=10)
