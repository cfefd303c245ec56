"""Command line: python -m app serve | worker | migrate | seed --demo | staff create | reconcile --date."""

from __future__ import annotations

import argparse
import asyncio
import sys
from functools import partial

from app.core.config import PROJECT_ROOT, ConfigError, Settings, get_settings

DEMO_DATA_DIR = PROJECT_ROOT / "data" / "demo"


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from app.core.metrics_setup import prepare_process

    # Before prometheus_client is imported anywhere: its counters pick their storage (files or memory) at import.
    prepare_process(settings.metrics, clear_gone=True)
    from sanic import Sanic
    from sanic.worker.loader import AppLoader

    from app.core.watchdog import install_watchdog
    from app.main import create_app

    host = args.host or settings.server.host
    port = args.port or settings.server.port
    workers = args.workers or settings.server.workers
    settings = settings.served_at(host, port)
    loader = AppLoader(factory=partial(create_app, settings, embedded_worker=settings.worker.embedded))
    app = loader.load()
    install_watchdog(app)
    app.prepare(
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        motd=False,
        single_process=workers == 1 and args.single_process,
    )
    print(f"Serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)", flush=True)
    Sanic.serve(primary=app, app_loader=loader)
    return 0


async def _with_db(settings: Settings, work):
    from app.core.cache import build_cache
    from app.core.db import close_db, init_db
    from app.identity import passwords

    passwords.configure(settings.security)
    await init_db(settings)
    cache = build_cache(settings.cache)
    try:
        return await work(cache)
    finally:
        await cache.close()
        await close_db()


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from app.core.metrics_setup import prepare_process

    prepare_process(settings.metrics, clear_gone=False)
    from app.worker import run_worker

    return run_worker(settings)


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from app.core.db import close_db, migrate

    async def run():
        try:
            return await migrate(settings)
        finally:
            await close_db()

    applied = asyncio.run(run())
    print(f"migrations applied: {len(applied)}" + (f" ({', '.join(applied)})" if applied else " (up to date)"))
    return 0


def _seed(settings: Settings, args: argparse.Namespace) -> int:
    if not args.demo:
        print("nothing to seed: pass --demo", file=sys.stderr)
        return 2

    from app import demo

    async def work(cache):
        return await demo.seed(DEMO_DATA_DIR, cache=cache, settings=settings)

    counts, staff = asyncio.run(_with_db(settings, work))
    if counts is None:
        print("demo data: the database already has a catalog; nothing changed")
    else:
        print("demo data loaded: " + ", ".join(f"{count} {name}" for name, count in counts.items()))
    if staff:
        print("demo staff accounts (passwords are shown only now; log in at POST /api/v1/auth/staff):")
        for account in staff:
            print(
                f"  {account['username']:<11} {account['password']}  roles={','.join(account['roles'])}"
                f"  department={account.get('department_code') or '-'} (id {account['department_id']})"
            )
    return 0


def _staff(settings: Settings, args: argparse.Namespace) -> int:
    from app.catalog import service as catalog
    from app.core.errors import AppError
    from app.identity import service as identity

    async def work(cache):
        department_id = None
        if args.department:
            codes = await catalog.department_ids_by_code()
            department_id = int(args.department) if args.department.isdigit() else codes.get(args.department)
            if department_id is None:
                raise SystemExit(f"unknown department: {args.department}")
        return await identity.create_staff(
            username=args.username,
            password=args.password,
            roles=args.role,
            name=args.name or args.username,
            department_id=department_id,
            actor="cli",
        )

    try:
        account = asyncio.run(_with_db(settings, work))
    except AppError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    print(account["id"])
    return 0


def _reconcile(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import date

    from app.payments import service as payments
    from app.platforms import build_platforms

    try:
        day = date.fromisoformat(args.date)
    except ValueError:
        print(f"error: --date must be YYYY-MM-DD, not {args.date!r}", file=sys.stderr)
        return 2

    async def work(cache):
        platforms = build_platforms(settings, cache)
        try:
            return await payments.reconcile(day, platforms=platforms)
        finally:
            await platforms.close()

    for report in asyncio.run(_with_db(settings, work)):
        print(
            f"{report['date']} {report['channel']}: {report['summary']['differences']} difference(s) "
            f"(report {report['id']})"
        )
        for difference in report["differences"]:
            print("  " + " ".join(f"{key}={value}" for key, value in difference.items()))
    return 0


def _rotate_keys(settings: Settings, args: argparse.Namespace) -> int:
    from app.cases import service as cases
    from app.core.crypto import cipher_from
    from app.identity import service as identity

    cipher = cipher_from(settings.security)

    async def work(cache):
        return {
            **await identity.reseal_personal_numbers(cipher=cipher),
            **await cases.reseal_personal_data(cipher=cipher),
        }

    changed = asyncio.run(_with_db(settings, work))
    for table, rows in changed.items():
        print(f"{table}: {rows} row(s) resealed under key {cipher.current_key_id}")
    print("every stored value is sealed under security.secret_key; security.previous_secret_keys may now be emptied")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description="City government service hall backend")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.add_argument("--single-process", action="store_true", help="no worker manager (one process)")
    serve.set_defaults(handler=_serve)
    worker = commands.add_parser("worker", help="run the periodic jobs (no-shows, slots) in their own process")
    worker.set_defaults(handler=_worker)
    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(handler=_migrate)
    seed = commands.add_parser("seed", help="load data")
    seed.add_argument("--demo", action="store_true", help="the demo city's catalog, into an empty database")
    seed.set_defaults(handler=_seed)
    staff = commands.add_parser("staff", help="staff accounts")
    staff_commands = staff.add_subparsers(dest="staff_command", required=True)
    create = staff_commands.add_parser("create", help="create a staff account; prints its id")
    create.add_argument("--username", required=True)
    create.add_argument("--password", required=True)
    create.add_argument(
        "--role", required=True, action="append", choices=["clerk", "approver", "dept_admin", "supervisor", "admin"]
    )
    create.add_argument("--department", help="department id or code (clerk, approver, dept_admin)")
    create.add_argument("--name")
    create.set_defaults(handler=_staff)
    reconcile = commands.add_parser("reconcile", help="compare both providers' bills of a day with our payments")
    reconcile.add_argument("--date", required=True, help="YYYY-MM-DD (city time)")
    reconcile.set_defaults(handler=_reconcile)
    rotate = commands.add_parser(
        "rotate-keys", help="reseal stored ID numbers and other sealed values under security.secret_key"
    )
    rotate.set_defaults(handler=_rotate_keys)
    return parser


def _without_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}{at}{host}" if at else url


def what_is_missing(exc: BaseException, settings: Settings) -> str | None:
    """One line naming what a command lacked (a platform, the database, its tables, a key file), or None."""
    from tortoise.exceptions import OperationalError

    from app.core.errors import is_dependency_failure
    from app.platforms import PlatformUnavailable

    if isinstance(exc, PlatformUnavailable):
        if settings.platforms.mode == "sim":
            base = settings.app.public_base_url.rstrip("/")
            return (
                f"error: the platform simulator at {base}/sim did not answer: it is served by `python -m app serve`; "
                f"start the server first (or set app.public_base_url / APP_APP__PUBLIC_BASE_URL to where it runs)"
            )
        return f"error: a platform did not answer ({exc.message}); check the network and try again"
    if is_dependency_failure(exc):
        return (
            f"error: the database ({_without_password(settings.database.url)}) or the cache "
            f"({settings.cache.url or 'in-process'}) is not reachable; set APP_DATABASE__URL / APP_CACHE__URL"
        )
    if isinstance(exc, OperationalError) and ("no such table" in str(exc) or "does not exist" in str(exc)):
        return (
            f"error: the database ({_without_password(settings.database.url)}) has no tables yet: "
            f"run `python -m app migrate`"
        )
    if isinstance(exc, FileNotFoundError):
        return f"error: {exc.filename or exc} not found (a key or data file the configuration names)"
    return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if args.command not in ("serve", "worker"):
        from app.core.logging import configure_logging

        # A one-shot command answers in its own words; only errors are logged (redacted), not a provider's retries.
        configure_logging("ERROR", settings.app.timezone)
    try:
        return args.handler(settings, args)
    except Exception as exc:
        # What an operator can fix is one line naming it; anything else is our bug and keeps its traceback.
        line = what_is_missing(exc, settings)
        if line is None:
            raise
        print(line, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
