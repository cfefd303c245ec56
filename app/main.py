"""The Sanic application factory: settings, logging, errors, resources and every domain's blueprint."""

from __future__ import annotations

from functools import partial

from sanic import Sanic

from app.core.cache import build_cache
from app.core.config import Settings, get_settings
from app.core.crypto import cipher_from
from app.core.db import close_db, dialect, init_db, own_connection, read_replica
from app.core.errors import install_error_handler
from app.core.frontends import install_frontends
from app.core.http import dumps, install_request_context
from app.core.logging import configure_logging
from app.core.metrics import install_metrics
from app.core.openapi import install_openapi
from app.core.replica import ReadReplica
from app.core.storage import build_storage
from app.core.view_memo import ChangeListener, citizen_views
from app.identity import passwords
from app.platforms import build_platforms

# The document's info, also used by scripts/export_openapi.py, which builds the same document without a server.
API_INFO = {
    "title": "临江市政务服务 API",
    "version": "1.0.0",
    "description": "掌上政务服务大厅：办事指南、预约取号、网上申办、办件进度、缴费、好差评与消息推送。",
}


async def start_resources(app: Sanic) -> None:
    """Open the database and the cache for this process."""
    settings: Settings = app.ctx.settings
    await init_db(settings)
    # Chosen once: the statistics read here (the read replica when configured, else the primary).
    app.ctx.stats_reads = ReadReplica(read_replica())
    app.ctx.cache = build_cache(settings.cache)
    app.ctx.platforms = build_platforms(settings, app.ctx.cache)
    app.ctx.storage = build_storage(settings.storage)
    await start_change_listener(app, settings)


async def start_change_listener(app: Sanic, settings: Settings) -> None:
    """Remember citizens' reads only where every change is heard of: PostgreSQL, through a listening connection."""
    seconds = settings.server.citizen_memo_seconds if dialect() == "postgres" else 0
    citizen_views.configure(seconds)
    app.ctx.change_listener = None
    if seconds:
        app.ctx.change_listener = ChangeListener(partial(own_connection, settings))
        await app.ctx.change_listener.start()


async def stop_resources(app: Sanic) -> None:
    """Close what start_resources opened."""
    listener = getattr(app.ctx, "change_listener", None)
    if listener is not None:
        await listener.stop()
        citizen_views.configure(0)
    storage = getattr(app.ctx, "storage", None)
    if storage is not None:
        await storage.close()
    platforms = getattr(app.ctx, "platforms", None)
    if platforms is not None:
        await platforms.close()
    cache = getattr(app.ctx, "cache", None)
    if cache is not None:
        await cache.close()
    await close_db()


def create_app(
    settings: Settings | None = None,
    *,
    name: str = "govhall",
    manage_resources: bool = True,
    embedded_worker: bool = False,
) -> Sanic:
    """Build the app; tests pass manage_resources=False and open the resources themselves."""
    settings = settings or get_settings()
    configure_logging(settings.logging.level, settings.app.timezone, settings.logging.format)
    passwords.configure(settings.security)
    from app.catalog.service import memo as catalog_memo

    catalog_memo.configure(settings.catalog.memo_seconds)
    app = Sanic(name, configure_logging=False, dumps=dumps)
    app.ctx.settings = settings
    app.ctx.cipher = cipher_from(settings.security)
    app.config.REQUEST_MAX_SIZE = settings.server.max_body_bytes
    app.config.PROXIES_COUNT = settings.server.proxies_count
    app.config.ACCESS_LOG = False  # ours is app.access, without query strings
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.CORS = False
    app.config.HEALTH = False
    install_openapi(app, **API_INFO)

    install_error_handler(app)
    install_request_context(
        app, access_log_enabled=settings.server.access_log, max_in_flight=settings.server.max_in_flight
    )

    from app.audit.routes import bp as audit_bp
    from app.booking.routes import bp as booking_bp
    from app.cases.routes import bp as cases_bp
    from app.catalog.routes import bp as catalog_bp
    from app.core.calendar_routes import bp as calendar_bp
    from app.core.health import bp as health_bp
    from app.identity.routes import bp as identity_bp
    from app.notifications.routes import bp as notifications_bp
    from app.payments.routes import bp as payments_bp
    from app.ratings.routes import bp as ratings_bp
    from app.stats.routes import bp as stats_bp
    from app.stats.routes import staff_bp as staff_stats_bp
    from app.tickets.routes import bp as tickets_bp

    app.blueprint(health_bp)
    app.blueprint(catalog_bp)
    app.blueprint(identity_bp)
    app.blueprint(calendar_bp)
    app.blueprint(booking_bp)
    app.blueprint(cases_bp)
    app.blueprint(notifications_bp)
    app.blueprint(payments_bp)
    app.blueprint(ratings_bp)
    app.blueprint(tickets_bp)
    app.blueprint(stats_bp)
    app.blueprint(staff_stats_bp)
    app.blueprint(audit_bp)
    if settings.platforms.mode == "sim":
        from app.platforms.sim import bp as sim_bp

        app.blueprint(sim_bp)

    install_frontends(app, settings)
    from app.core import outbox
    from app.notifications import service as notifications

    install_metrics(app, settings.metrics, outbox_backlog=outbox.backlog, delivery_counts=notifications.delivery_counts)

    if manage_resources:
        app.before_server_start(start_resources)
        app.after_server_stop(stop_resources)
    if embedded_worker:
        from app.worker import install_embedded

        install_embedded(app)
    return app
