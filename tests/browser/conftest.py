"""Browser tests: Debian's Chromium, driven by Playwright, over the built front ends served by a real server.

The server is `python -m app serve` on this run's backend (PostgreSQL + Redis in `make test`, the production shape;
the embedded pass skips them, so they run once), serving console/dist at /console and the H5
build at /m/. Every page a test visits is saved as a screenshot in var/screenshots/ and checked with axe-core (no
serious or critical violation). A missing browser or build is a skip on a developer's machine and a failure under
CI=true. The browser is Debian's /usr/bin/chromium (`make browser` installs it): Playwright never downloads one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import IN_CI, free_port
from tests.servers import ROOT, kill_group, serve, wait_until_healthy

CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "var" / "screenshots"
CONSOLE_BUILD = ROOT / "console" / "dist" / "index.html"
H5_BUILD = ROOT / "miniprogram" / "dist" / "h5" / "index.html"
# Without the background-networking flags Chromium keeps calling Google's hosts, which this closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1366, "height": 860}}
# Generous: the first page of a cold server on a loaded two-core machine has taken many seconds.
TIMEOUT_MS = 30_000
STAFF_PASSWORD = "Browser2026pass"
MAX_FAILED_LOGINS = 3


def require(condition: bool, message: str) -> None:
    """Skip without the browser or the builds; fail under CI=true, where their absence is a broken setup."""
    if condition:
        return
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session", autouse=True)
def _browser_pass():
    """scripts/test_both_backends.py runs the browser tests in its PostgreSQL pass only (TEST_BROWSER=0 elsewhere).

    A skip rather than `-m "not browser"`: any -m makes the contract check (tests/test_openapi_contract.py) see a
    partial run and skip its coverage test.
    """
    if os.environ.get("TEST_BROWSER") == "0":
        pytest.skip("the browser tests run once, in the PostgreSQL pass of make test")


# Per module, not per session: sync Playwright runs an event loop of its own while it is started, and the async
# tests that follow in the same run need none to be running.
@pytest.fixture(scope="module")
def browser():
    """One headless Debian Chromium per test module."""
    require(CHROMIUM.exists(), f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium fonts-noto-cjk)")
    require(AXE.exists(), f"{AXE} is missing: run `npm ci`")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def _run_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, f"python -m app {' '.join(args)}: {done.stderr}"
    return done.stdout


@pytest.fixture(scope="session")
def server(app, settings, tmp_path_factory):
    """A real server on this run's backend serving the real builds; its base URL and a CLI runner for its data."""
    require(CONSOLE_BUILD.exists(), f"{CONSOLE_BUILD} is missing: npm run build -w console")
    require(H5_BUILD.exists(), f"{H5_BUILD} is missing: npm run build:h5 -w miniprogram")
    port = free_port()
    folder = tmp_path_factory.mktemp("browser-server")
    env = {
        "APP_DATABASE__URL": settings.database.url,
        "APP_CACHE__URL": settings.cache.url,
        # A prefix of its own: it lives for the whole run beside the suite's app, sharing nothing in the cache.
        "APP_CACHE__KEY_PREFIX": f"{settings.cache.key_prefix}browser:",
        # No periodic jobs: on PostgreSQL it shares the run's database, and a worker of its own would drain the
        # outbox that the notification tests drain with their workers.
        "APP_WORKER__EMBEDDED": "false",
        # its own simulator: the H5 app's sim login calls this server's /sim
        "APP_APP__PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "APP_SECURITY__LOGIN_ATTEMPTS_PER_MINUTE": "1000",
        "APP_SECURITY__STAFF_MAX_FAILED_LOGINS": str(MAX_FAILED_LOGINS),
        "APP_STORAGE__LOCAL_DIR": str(folder / "uploads"),
        # the real builds, whatever the test run's settings say
        "APP_FRONTENDS__CONSOLE_DIR": str(CONSOLE_BUILD.parent),
        "APP_FRONTENDS__CITIZEN_H5_DIR": str(H5_BUILD.parent),
    }
    if settings.database.url.startswith("sqlite://"):
        # Its own SQLite file, set up as `make run` does: migrate, then the demo city.
        env["APP_DATABASE__URL"] = f"sqlite://{folder / 'browser.sqlite3'}"
        _run_cli(env, "migrate")
        _run_cli(env, "seed", "--demo")
    log_path = folder / "server.log"
    process = serve(env, log_path, "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    wait_until_healthy(base, process, log_path)
    yield {"base": base, "env": env, "log": log_path}
    process.terminate()
    try:
        process.wait(timeout=20)
    finally:
        kill_group(process)


@pytest.fixture
def new_staff(server):
    """Creates a staff account through the CLI (as an admin would): new_staff(name, *roles) -> username."""

    def create(name: str, *roles: str, department: str = "RS") -> str:
        username = f"b_{uuid.uuid4().hex[:10]}"
        role_args = [arg for role in roles for arg in ("--role", role)]
        department_args = ["--department", department] if department else []
        _run_cli(
            server["env"],
            *("staff", "create", "--username", username, "--password", STAFF_PASSWORD, "--name", name),
            *role_args,
            *department_args,
        )
        return username

    return create


def _page(browser, options: dict):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    return context, page


@pytest.fixture
def desktop(browser):
    """A desktop-sized page (the staff console)."""
    context, page = _page(browser, DESKTOP)
    yield page
    context.close()


@pytest.fixture
def phone(browser):
    """A phone-sized page, 375x812 with touch (the citizen app)."""
    context, page = _page(browser, PHONE)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    """Save the whole page as var/screenshots/<name>.png, the test's artefact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_accessible(page, name: str) -> None:
    """Run axe-core on the page; fail on serious or critical violations (all of them saved beside the screenshot)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    violations = result["violations"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / f"{name}.axe.json").write_text(json.dumps(violations, ensure_ascii=False, indent=2), "utf-8")
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    lines = [
        f"{v['impact']} {v['id']}: {v['help']} ({len(v['nodes'])}x, e.g. {v['nodes'][0]['target']}: "
        f"{v['nodes'][0].get('failureSummary', '').splitlines()[-1:]})"
        for v in serious
    ]
    assert not serious, f"axe on {name}:\n" + "\n".join(lines)


def visit(page, name: str) -> None:
    """What every page visit ends with: its screenshot and the accessibility check."""
    screenshot(page, name)
    assert_accessible(page, name)
