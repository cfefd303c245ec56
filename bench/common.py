"""What every wrk benchmark of bench/ shares: the scratch database and Redis prefix, the app and the bare endpoint
(bench/bare_app.py) as servers, the CLI, wrk and its one-line JSON result (report.lua), and the table rows."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import httpx
import redis.asyncio as redis_async

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
OUT = BENCH / "out"
PYTHON = sys.executable
APP_PORT = 8100
BARE_PORT = 8101
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

sys.path.insert(0, str(ROOT))


def require_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit(
            "bench: wrk is not installed. On Debian/Ubuntu: sudo apt-get install wrk "
            "(macOS: brew install wrk), then run this again."
        )
    return wrk


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


# ---- the servers ----


def app_env(database_url: str, prefix: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "APP_DATABASE__URL": database_url,
            "APP_CACHE__URL": REDIS_URL,
            "APP_CACHE__KEY_PREFIX": prefix,
            "APP_SERVER__ACCESS_LOG": "false",
            "APP_LOGGING__LEVEL": "WARNING",
            "APP_WORKER__EMBEDDED": "false",
            "APP_SECURITY__LOGIN_ATTEMPTS_PER_MINUTE": "100000000",
            "APP_DATABASE__POOL_MAX": "20",
            "APP_APP__PUBLIC_BASE_URL": f"http://127.0.0.1:{APP_PORT}",
        }
    )
    return env


def start(command: list[str], env: dict[str, str], name: str) -> subprocess.Popen:
    log_file = open(OUT / f"{name}.log", "w")
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


async def wait_ready(url: str, process: subprocess.Popen, name: str) -> None:
    async with httpx.AsyncClient(timeout=2) as http:
        for _ in range(150):
            if process.poll() is not None:
                sys.exit(f"bench: {name} exited; see bench/out/{name}.log")
            try:
                if (await http.get(url)).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    sys.exit(f"bench: {name} did not start; see bench/out/{name}.log")


async def drop_scratch(database: str, prefix: str) -> None:
    """Drop a benchmark's scratch database and its Redis keys."""
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    await admin.close()
    client = redis_async.Redis.from_url(REDIS_URL)
    async for key in client.scan_iter(match=prefix + "*", count=1000):
        await client.delete(key)
    await client.aclose()


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([PYTHON, "-m", "app", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench: python -m app {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


# ---- wrk ----


def run_wrk(wrk: str, url: str, script: str, args: list[str], threads: int, connections: int, duration: int) -> dict:
    command = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "5s",
        "-s",
        str(BENCH / script),
        url,
    ]
    if args:
        command += ["--", *args]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "BENCH_DIR": str(BENCH)})
    line = next((out for out in done.stdout.splitlines() if out.startswith("WRK_RESULT ")), None)
    if line is None:
        sys.exit(f"bench: wrk gave no result:\n{done.stdout}\n{done.stderr}")
    result = json.loads(line[len("WRK_RESULT ") :])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def row(name: str, result: dict, bare: dict | None) -> str:
    ratio = f"{result['rps'] / bare['rps']:.2f}" if bare else "1.00"
    return (
        f"{name:<34} {result['rps']:>9.0f} {result['p50_us'] / 1000:>8.2f} {result['p99_us'] / 1000:>8.2f} {ratio:>7}"
    )


async def create_scratch(name: str) -> tuple[str, str, str]:
    """A new scratch database and Redis prefix for one run: (database, prefix, database_url)."""
    run_id = uuid.uuid4().hex[:8]
    database = f"govhall_{name}_{run_id}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{database}"')
    await admin.close()
    return database, f"bench:{run_id}:", f"{POSTGRES_ADMIN_URL.rpartition('/')[0]}/{database}"


def serve(env: dict[str, str], workers: int) -> tuple[subprocess.Popen, subprocess.Popen]:
    """The app on APP_PORT and the bare endpoint on BARE_PORT, each with the same number of workers."""
    app_server = start([PYTHON, "-m", "app", "serve", "--port", str(APP_PORT), "--workers", str(workers)], env, "app")
    bare_server = start(
        [PYTHON, str(BENCH / "bare_app.py"), "--port", str(BARE_PORT), "--workers", str(workers)], env, "bare"
    )
    return app_server, bare_server


async def wait_served(app_server: subprocess.Popen, bare_server: subprocess.Popen) -> None:
    await wait_ready(f"http://127.0.0.1:{APP_PORT}/healthz", app_server, "app")
    await wait_ready(f"http://127.0.0.1:{BARE_PORT}/", bare_server, "bare")


async def real_name_citizen(http: httpx.AsyncClient, index: int, template_id: str | None = None) -> str:
    """A WeChat login whose real name WeChat confirmed (claim, SMS code, consent, confirm), as the mini-program
    does it, with three credits of the booking push when template_id is given (one per flash crowd it may win, and
    the one a progress note leaves for essentials); its token."""
    from app.identity.id_number import check_digit

    openid = "o" + uuid.uuid4().hex[:27]
    code = (await http.post("/sim/wechat/code", json={"openid": openid})).json()["code"]
    login = await http.post("/api/v1/auth/wechat", json={"code": code})
    login.raise_for_status()
    token = login.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    # Unique per index: the birth year carries index // 1000, the sequence number index % 1000.
    first17 = f"110101{1950 + index // 1000 % 50}{(index // 50) % 12 + 1:02d}01{index % 1000:03d}"
    number, phone = first17 + check_digit(first17), f"139{index:08d}"
    registered = await http.post(
        "/sim/wechat/real-name", json={"openid": openid, "real_name": "压测", "id_number": number}
    )
    registered.raise_for_status()
    claim = await http.put(
        "/api/v1/me/identity", headers=headers, json={"name": "压测", "id_number": number, "phone": phone}
    )
    claim.raise_for_status()
    texts = (await http.get("/sim/sms/messages", params={"phone": phone})).json()["items"]
    body = {"sms_code": re.search(r"[0-9]{6}", texts[-1]["text"]).group(0)}
    body["code"] = (await http.post("/sim/wechat/real-name/consent", json={"openid": openid})).json()["code"]
    verification = claim.json()["verification"]["id"]
    confirmed = await http.post(f"/api/v1/me/identity/verifications/{verification}/confirm", headers=headers, json=body)
    confirmed.raise_for_status()
    for _ in range(3 if template_id else 0):
        granted = await http.post(
            "/api/v1/me/subscriptions",
            headers=headers,
            json={"channel": "wechat", "results": {template_id: "accept"}},
        )
        granted.raise_for_status()
    return token
