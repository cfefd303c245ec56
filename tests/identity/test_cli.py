"""`python -m app staff create` on the configured database, while the server runs."""

import os
import subprocess
import sys
from pathlib import Path

from tests import factories
from tests.core.test_errors import assert_error_shape

ROOT = Path(__file__).resolve().parents[2]


def _run(settings, *args):
    env = dict(os.environ)
    env.update(
        {
            "APP_DATABASE__URL": settings.database.url,
            "APP_CACHE__URL": settings.cache.url,
            "APP_CACHE__KEY_PREFIX": settings.cache.key_prefix,
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


async def test_operator_creates_a_staff_account_that_can_log_in(client, settings):
    username = factories.unique("cli_")
    done = _run(
        settings,
        "staff",
        "create",
        "--username",
        username,
        "--password",
        "Window-clerk-2026",
        "--role",
        "clerk",
        "--role",
        "approver",
        "--department",
        "RS",
        "--name",
        "窗口张",
    )
    assert done.returncode == 0, done.stderr
    staff_id = int(done.stdout.strip())
    response = await client.post("/api/v1/auth/staff", json={"username": username, "password": "Window-clerk-2026"})
    assert response.status_code == 200, response.text
    staff = response.json()["staff"]
    assert staff["id"] == staff_id
    assert staff["roles"] == ["clerk", "approver"]
    departments = await factories.every_item(client, "/api/v1/departments")
    assert staff["department_id"] == next(d["id"] for d in departments if d["code"] == "RS")


async def test_cli_refuses_weak_passwords_and_duplicate_names(client, settings):
    weak = _run(
        settings, "staff", "create", "--username", factories.unique("cli_"), "--password", "123", "--role", "supervisor"
    )
    assert weak.returncode != 0 and "WEAK_PASSWORD" in weak.stderr
    username = factories.unique("cli_")
    assert (
        _run(
            settings, "staff", "create", "--username", username, "--password", "Supervisor-2026", "--role", "supervisor"
        ).returncode
        == 0
    )
    again = _run(
        settings, "staff", "create", "--username", username, "--password", "Supervisor-2026", "--role", "supervisor"
    )
    assert again.returncode != 0 and "STAFF_EXISTS" in again.stderr
    assert_error_shape(
        await client.post("/api/v1/auth/staff", json={"username": username, "password": "x"}),
        401,
        "INVALID_CREDENTIALS",
    )
