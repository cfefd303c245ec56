"""`python -m app reconcile --date` against the running server's simulated providers."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from app.core.timeutil import now as clock_now
from app.core.workdays import local_date
from app.payments.models import ReconciliationReport
from tests import factories as f

ROOT = Path(__file__).resolve().parents[2]


def _run(settings, *args):
    env = dict(os.environ)
    env.update(
        {
            "APP_DATABASE__URL": settings.database.url,
            "APP_CACHE__URL": settings.cache.url,
            "APP_CACHE__KEY_PREFIX": settings.cache.key_prefix,
            "APP_APP__PUBLIC_BASE_URL": settings.app.public_base_url,
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


async def test_reconcile_command_writes_a_report_per_channel(client, cache, settings):
    setup = await f.fee_case_setup(client, cache)
    order = (
        await client.post(
            f"/api/v1/cases/{setup['case']['id']}/payments",
            json={"channel": "wechat"},
            headers=setup["citizen"]["headers"],
        )
    ).json()
    await client.post("/sim/wechatpay/pay", json={"order_no": order["order_no"]})
    day = local_date(clock_now()).isoformat()
    before = await ReconciliationReport.filter(day=day).count()
    # On a thread: the command calls the simulated providers served by this very event loop.
    done = await asyncio.to_thread(_run, settings, "reconcile", "--date", day)
    assert done.returncode == 0, done.stderr
    assert f"{day} wechat:" in done.stdout and f"{day} alipay:" in done.stdout
    assert await ReconciliationReport.filter(day=day).count() == before + 2


def test_reconcile_refuses_a_bad_date(settings):
    done = _run(settings, "reconcile", "--date", "2026-13-40")
    assert done.returncode == 2 and "YYYY-MM-DD" in done.stderr
