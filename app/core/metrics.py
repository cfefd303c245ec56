"""Prometheus metrics at GET /metrics: what every process of a node counts, summed, and the queues read at scrape.

Each process (server workers and `python -m app worker`) counts in its own files under metrics.multiproc_dir
(prometheus-client's multiprocess mode), so one scrape of any server process of the node sees the node whole. The
outbox and delivery figures are read from the database when scraped: they are the same for every node.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Awaitable, Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sanic import Request, Sanic
from sanic.response import raw

from app.core.config import MetricsSection
from app.core.errors import NotFound
from app.core.metrics_setup import MULTIPROC_ENV

log = logging.getLogger("app.metrics")


REQUESTS = Counter("govhall_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram(
    "govhall_http_request_duration_seconds",
    "Time from a request's arrival to its response",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
IN_FLIGHT = Gauge("govhall_http_requests_in_flight", "Requests being handled", multiprocess_mode="livesum")
SHED = Counter("govhall_http_shed_total", "Requests refused at once with 503 because too many were in flight")
SEAT_GATE_REFUSALS = Counter(
    "govhall_seat_gate_refusals_total", "Bookings refused by the seat gate without a database transaction", ["reason"]
)
PAYMENT_SWEEPS = Counter("govhall_payment_sweeps_total", "Payment sweeps run by workers", ["result"])
PAYMENT_SWEEP_SETTLED = Counter(
    "govhall_payment_sweep_settled_total", "Orders and refunds a sweep settled, by what it did", ["outcome"]
)
DB_POOL = Gauge(
    "govhall_db_pool_connections", "Database pool connections by state", ["state"], multiprocess_mode="livesum"
)
REPLICA_FALLBACKS = Counter(
    "govhall_db_replica_fallbacks_total",
    "Reads meant for the read replica that the primary answered, because the replica failed (failed) or had "
    "failed moments before (skipped)",
    ["reason"],
)
CITIZEN_MEMO_LISTENING = Gauge(
    "govhall_citizen_memo_listening",
    "Server processes hearing PostgreSQL's change notices, so answering citizens' repeated reads from memory",
    multiprocess_mode="livesum",
)

_COUNTED = (
    REQUESTS,
    LATENCY,
    IN_FLIGHT,
    SHED,
    SEAT_GATE_REFUSALS,
    PAYMENT_SWEEPS,
    PAYMENT_SWEEP_SETTLED,
    DB_POOL,
    REPLICA_FALLBACKS,
    CITIZEN_MEMO_LISTENING,
)

# Read at scrape time from the database, the same for every node: the outbox's backlog, deliveries per status.
OutboxBacklog = Callable[[], Awaitable[dict[str, float]]]
DeliveryCounts = Callable[[], Awaitable[dict[str, int]]]


def multiprocess_mode() -> bool:
    """Whether this process counts in files (a served node) or in memory (tests, one process)."""
    return bool(os.environ.get(MULTIPROC_ENV))


def process_ended() -> None:
    """A process that stops cleanly takes its live gauges (requests in flight, pool) out of the node's sum."""
    if multiprocess_mode():
        multiprocess.mark_process_dead(os.getpid())


# The labelled children each request counts in, found once per (method, route, status): labels() is a lookup under
# a lock, paid on every request otherwise.
_request_children: dict[tuple[str, str, int], tuple] = {}
POOL_SAMPLE_SECONDS = 1.0
_pool_sampled_at = float("-inf")


def observe_request(method: str, route: str, status: int, seconds: float, in_flight: int) -> None:
    """Count one answered request (and, at most once a second, this process's database pool)."""
    global _pool_sampled_at
    children = _request_children.get((method, route, status))
    if children is None:
        children = REQUESTS.labels(method, route, str(status)), LATENCY.labels(method, route)
        if len(_request_children) < 10_000:  # routes are patterns, so this stays small; a bound all the same
            _request_children[(method, route, status)] = children
    children[0].inc()
    children[1].observe(seconds)
    IN_FLIGHT.set(in_flight)
    now = time.monotonic()
    if now - _pool_sampled_at >= POOL_SAMPLE_SECONDS:
        _pool_sampled_at = now
        pool = database_pool()
        if pool is not None:
            observe_pool(pool.get_size(), pool.get_idle_size())


def observe_pool(size: int, idle: int) -> None:
    """This process's database pool: connections open and idle."""
    DB_POOL.labels("open").set(size)
    DB_POOL.labels("in_use").set(max(size - idle, 0))


def route_label(request: Request) -> str:
    """The route's pattern (/api/v1/cases/<case_id:int>), never the path with its ids; unrouted requests share one."""
    route = getattr(request, "route", None)
    return f"/{route.path}" if route is not None else "unmatched"


def may_scrape(request: Request, settings: MetricsSection) -> bool:
    """A client on an allowed network, or one with the configured bearer token."""
    if settings.token:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer ") and hmac.compare_digest(header[7:].strip(), settings.token):
            return True
    try:
        # behind the load balancer (server.proxies_count) the client's address, else the connection's peer
        address = ipaddress.ip_address(getattr(request, "remote_addr", "") or request.ip)
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in ipaddress.ip_network(network, strict=False) for network in settings.allow_networks)


class _Figures:
    """A collector for figures read just before the scrape (they cannot be read inside collect(), which is sync)."""

    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self.families = families

    def collect(self):
        return iter(self.families)


async def queue_figures(outbox_backlog: OutboxBacklog, delivery_counts: DeliveryCounts) -> list[GaugeMetricFamily]:
    """The outbox backlog and lag, deliveries per status and the dead letters, read now."""
    backlog = await outbox_backlog()
    deliveries = await delivery_counts()
    by_status = GaugeMetricFamily("govhall_deliveries", "Message deliveries by status", labels=["status"])
    for status, count in sorted(deliveries.items()):
        by_status.add_metric([status], count)
    return [
        GaugeMetricFamily("govhall_outbox_backlog", "Domain events not yet dispatched", value=backlog["events"]),
        GaugeMetricFamily(
            "govhall_outbox_lag_seconds",
            "How long the oldest undispatched event has waited",
            value=backlog["oldest_age_seconds"],
        ),
        by_status,
        GaugeMetricFamily(
            "govhall_dead_letters", "Deliveries that kept failing (staff may retry)", value=deliveries.get("dead", 0)
        ),
    ]


def replica_figures(lag_seconds: float | None) -> list[GaugeMetricFamily]:
    """Whether the configured read replica answers (lag_seconds None: it did not), and how far its replay is behind."""
    figures = [
        GaugeMetricFamily(
            "govhall_db_replica_up", "Whether the read replica answered this scrape", value=int(lag_seconds is not None)
        )
    ]
    if lag_seconds is not None:
        figures.append(
            GaugeMetricFamily(
                "govhall_db_replica_lag_seconds",
                "Age of the last transaction the read replica replayed while received WAL waits (0: caught up)",
                value=lag_seconds,
            )
        )
    return figures


async def render(figures: list[GaugeMetricFamily]) -> bytes:
    """The node's metrics in Prometheus' text format, with figures read for this scrape."""
    registry = CollectorRegistry()
    if multiprocess_mode():
        multiprocess.MultiProcessCollector(registry)
    else:
        for collector in _COUNTED:
            registry.register(collector)
    registry.register(_Figures(figures))
    return generate_latest(registry)


def install_metrics(
    app: Sanic, settings: MetricsSection, *, outbox_backlog: OutboxBacklog, delivery_counts: DeliveryCounts
) -> None:
    """GET /metrics, for operators only (outside the OpenAPI document: it is no operation of the API)."""
    if not settings.enabled:
        return

    @app.get("/metrics", name="metrics")
    async def metrics(request: Request):
        if not may_scrape(request, request.app.ctx.settings.metrics):
            # To the public it does not exist: nothing to probe.
            raise NotFound()
        figures = await queue_figures(outbox_backlog, delivery_counts)
        replica = getattr(request.app.ctx, "stats_reads", None)
        if replica is not None and replica.connection is not None:
            figures += replica_figures(await replica.lag_seconds())
        return raw(await render(figures), content_type=CONTENT_TYPE_LATEST)

    @app.after_server_stop
    async def _gone(app: Sanic) -> None:
        process_ended()


def database_pool():
    """The asyncpg pool of this process, when the database is PostgreSQL and connected; None otherwise."""
    try:
        from tortoise import connections

        return getattr(connections.get("default"), "_pool", None)
    except Exception:  # not connected yet, or SQLite: no pool to report
        return None
