"""docs/OPERATIONS.md's backup and restore, done: pg_dump, pg_restore into a new database, and the restored service
serves the same cases, payments and messages to the same citizen."""

from __future__ import annotations

import contextlib
import subprocess
import uuid

import httpx
import pytest

from tests import factories
from tests.conftest import BACKEND, _create_postgres_database, _drop_postgres_database, free_port
from tests.notifications.test_delivery import drain
from tests.servers import kill_group, serve, wait_until_healthy

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(BACKEND != "postgres", reason="pg_dump and pg_restore: the production database"),
]


def _run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(command[:2])}: {done.stderr}"


async def test_a_restored_dump_serves_the_same_cases_payments_and_messages(app, client, cache, settings, tmp_path):
    setup = await factories.fee_case_setup(client, cache)
    citizen = setup["citizen"]
    order = (
        await client.post(
            f"/api/v1/cases/{setup['case']['id']}/payments", json={"channel": "wechat"}, headers=citizen["headers"]
        )
    ).json()
    paid = await client.post("/sim/wechatpay/pay", json={"order_no": order["order_no"]})
    assert paid.status_code == 200, paid.text
    await drain(app, settings)
    reads = (
        f"/api/v1/cases/{setup['case']['id']}",
        f"/api/v1/payments/{order['order_no']}",
        "/api/v1/me/messages",
        "/api/v1/cases",
    )
    before = {path: (await client.get(path, headers=citizen["headers"])).json() for path in reads}
    assert before[f"/api/v1/payments/{order['order_no']}"]["status"] == "paid"
    assert before["/api/v1/me/messages"]["total"] >= 1

    dump = tmp_path / "govhall.dump"
    _run("pg_dump", "--format=custom", f"--file={dump}", settings.database.url)
    restored_name = f"govhall_restore_{uuid.uuid4().hex[:10]}"
    restored_url = await _create_postgres_database(restored_name)
    process = None
    try:
        _run("pg_restore", "--no-owner", "--exit-on-error", f"--dbname={restored_url}", str(dump))
        port = free_port()
        env = {
            "APP_DATABASE__URL": restored_url,
            "APP_CACHE__URL": settings.cache.url,
            # the same cache: the citizen's login token is there, as after a database-only restore
            "APP_CACHE__KEY_PREFIX": settings.cache.key_prefix,
            "APP_WORKER__EMBEDDED": "false",
            "APP_APP__PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        }
        log_path = tmp_path / "restored.log"
        process = serve(env, log_path, "--port", str(port))
        base = f"http://127.0.0.1:{port}"
        wait_until_healthy(base, process, log_path)
        async with httpx.AsyncClient(base_url=base, timeout=30) as restored:
            for path in reads:
                answer = await restored.get(path, headers=citizen["headers"])
                assert answer.status_code == 200, answer.text
                assert answer.json() == before[path], path
    finally:
        if process is not None:
            process.terminate()
            # Stopping is tested elsewhere (tests/test_server_stop.py); here it only must not outlive the test.
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=60)
            kill_group(process)
        await _drop_postgres_database(restored_name)
