"""Tortoise ORM set-up and aerich migrations, for SQLite (embedded) and PostgreSQL (production) alike."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient

from app.core.config import PROJECT_ROOT, Settings

log = logging.getLogger("app.db")

APP_LABEL = "models"
# The name the read replica's client goes by (database.read_replica_url; in its log lines).
REPLICA = "replica"
# Every domain's models module; a new domain adds its own here.
MODEL_MODULES = [
    "app.core.models",
    "app.catalog.models",
    "app.identity.models",
    "app.audit.models",
    "app.booking.models",
    "app.cases.models",
    "app.notifications.models",
    "app.payments.models",
    "app.ratings.models",
    "app.tickets.models",
]
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


async def _release_as_is(connection) -> None:
    """What a pooled PostgreSQL connection needs on release beyond asyncpg's own rollback of a transaction left
    open: nothing. asyncpg's default reset sends one more statement per release (unlock every advisory lock, CLOSE
    ALL, UNLISTEN *, RESET ALL), which doubled the round trips of every single-statement read; this app takes only
    transaction-scoped advisory locks, never LISTENs, SETs session settings or keeps cursors past a transaction."""


def _connection(url: str, pool_max: int, *, connect_timeout: float = 3, command_timeout: float = 15) -> dict:
    """A Tortoise connection dict for a sqlite:// or postgres:// URL."""
    if url.startswith("sqlite://"):
        raw_path = url[len("sqlite://") :]
        if raw_path != ":memory:":
            path = Path(raw_path)
            if not path.is_absolute():
                path = PROJECT_ROOT / path
            path.parent.mkdir(parents=True, exist_ok=True)
            raw_path = str(path)
        # Tortoise already sets WAL and foreign keys; busy_timeout makes a second writer wait, not fail at once.
        # Our engine is Tortoise's SQLite client with a cancellation-safe lock (see app/core/sqlite_backend.py).
        return {
            "engine": "app.core.sqlite_backend",
            "credentials": {"file_path": raw_path, "busy_timeout": 5000},
        }
    parts = urlsplit(url)
    return {
        "engine": "tortoise.backends.asyncpg",
        "credentials": {
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or 5432,
            "user": unquote(parts.username or "postgres"),
            "password": unquote(parts.password or ""),
            "database": parts.path.lstrip("/") or "postgres",
            "minsize": 1,
            "maxsize": pool_max,
            # Bounded waits: a PostgreSQL that is down or hangs fails the request (503) instead of holding it.
            "timeout": connect_timeout,
            "command_timeout": command_timeout,
            "reset": _release_as_is,
        },
    }


def tortoise_config(settings: Settings, database_url: str | None = None) -> dict:
    """The Tortoise/aerich configuration for these settings."""
    return {
        "connections": {
            "default": _connection(
                database_url or settings.database.url,
                settings.database.pool_max,
                connect_timeout=settings.database.connect_timeout_seconds,
                command_timeout=settings.database.command_timeout_seconds,
            )
        },
        "apps": {
            APP_LABEL: {"models": [*MODEL_MODULES, "aerich.models"], "default_connection": "default"},
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# database.read_replica_url's client, when set (init_db makes it, close_db closes it).
_replica: BaseDBAsyncClient | None = None


async def init_db(settings: Settings, database_url: str | None = None) -> None:
    """Open the ORM's connections for every task of this process."""
    global _replica
    # Global fallback: the server's request tasks do not inherit the start-up task's context.
    await Tortoise.init(config=tortoise_config(settings, database_url), _enable_global_fallback=True)
    # Connect now rather than inside the first request, so a bad URL stops start-up and no request pays for it.
    await ping_db()
    if settings.database.read_replica_url:
        _replica = _replica_client(settings)


def _replica_client(settings: Settings) -> BaseDBAsyncClient:
    """A client of the read replica, outside Tortoise's own connections: with a second one there, every
    in_transaction() that names none (all of ours) would refuse to guess. Only a query given it (using_db) reads
    there. It connects at its first query, not here: the statistics read the primary while the replica is away
    (core/replica.py), so it may start after this process."""
    database = settings.database
    config = _connection(
        database.read_replica_url,
        database.pool_max,
        connect_timeout=database.connect_timeout_seconds,
        command_timeout=database.command_timeout_seconds,
    )
    client_class = importlib.import_module(config["engine"]).client_class
    return client_class(connection_name=REPLICA, **config["credentials"])


async def own_connection(settings: Settings):
    """A PostgreSQL connection of its own, outside the pool, on the primary (the change listener keeps one)."""
    import asyncpg

    credentials = _connection(settings.database.url, 1, connect_timeout=settings.database.connect_timeout_seconds)[
        "credentials"
    ]
    return await asyncpg.connect(
        host=credentials["host"],
        port=credentials["port"],
        user=credentials["user"],
        password=credentials["password"] or None,
        database=credentials["database"],
        timeout=credentials["timeout"],
    )


def read_replica() -> BaseDBAsyncClient | None:
    """The read replica's client when database.read_replica_url is set and init_db ran, else None."""
    return _replica


async def close_db() -> None:
    """Close the ORM's connections (and the read replica's)."""
    global _replica
    if _replica is not None:
        replica, _replica = _replica, None
        await replica.close()
    await connections.close_all()


def dialect() -> str:
    """'sqlite' or 'postgres': the few places that need a dialect-specific statement ask here."""
    return connections.get("default").capabilities.dialect


async def ping_db() -> bool:
    """True when the database answers a trivial query."""
    await connections.get("default").execute_query("SELECT 1")
    return True


async def migrate(settings: Settings, database_url: str | None = None) -> list[str]:
    """Apply every migration in migrations/ that the database lacks; returns the applied file names."""
    from aerich import Command

    command = Command(
        tortoise_config=tortoise_config(settings, database_url), app=APP_LABEL, location=str(MIGRATIONS_DIR)
    )
    await command.init()
    applied = await command.upgrade(run_in_transaction=True)
    for name in applied:
        log.info("migration applied: %s", name)
    return applied
