"""GET /metrics: what an operator's Prometheus reads, and who may read it."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from app.core.metrics import may_scrape
from tests import factories
from tests.booking.test_routes import booking_body, ready
from tests.core.test_errors import assert_error_shape


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(rf"{re.escape(name)}(?:\{{(.*)\}})? (\S+)", line)
        if match and ",".join(sorted((match.group(1) or "").split(","))) == wanted:
            return float(match.group(2))
    return 0.0


async def scrape(client) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_requests_are_counted_by_route_pattern_and_status(client):
    before = await scrape(client)
    route = "/api/v1/matters/<matter_id:int>"
    found_before = sample(before, "govhall_http_requests_total", method="GET", route=route, status="200")
    missing_before = sample(before, "govhall_http_requests_total", method="GET", route=route, status="404")
    matter_id = (await client.get("/api/v1/matters")).json()["items"][0]["id"]
    for _ in range(3):
        assert (await client.get(f"/api/v1/matters/{matter_id}")).status_code == 200
    assert (await client.get("/api/v1/matters/999999")).status_code == 404

    after = await scrape(client)
    assert sample(after, "govhall_http_requests_total", method="GET", route=route, status="200") == found_before + 3
    assert sample(after, "govhall_http_requests_total", method="GET", route=route, status="404") == missing_before + 1
    # the pattern, never an id: one series per route, and no citizen's number in a label
    assert f'/api/v1/matters/{matter_id}"' not in after
    assert sample(after, "govhall_http_request_duration_seconds_count", method="GET", route=route) >= 4
    assert "govhall_http_requests_in_flight" in after


async def test_outbox_backlog_and_dead_letters_are_read_at_scrape(client, cache):
    from app.notifications.models import Delivery, DeliveryStatus

    setup = await factories.case_setup(client, cache)
    await factories.submitted_case(client, setup)
    text = await scrape(client)
    # the submission's event waits for the notifier (no worker runs in this test process)
    assert sample(text, "govhall_outbox_backlog") >= 1
    assert sample(text, "govhall_outbox_lag_seconds") >= 0
    dead = await Delivery.filter(status=DeliveryStatus.DEAD).count()
    assert sample(text, "govhall_dead_letters") == dead
    assert sample(text, "govhall_deliveries", status="dead") == dead
    for status in DeliveryStatus:
        assert f'govhall_deliveries{{status="{status.value}"}}' in text


async def test_seat_gate_refusals_are_counted_by_reason(client, cache):
    setup = await ready(client, cache, capacity=1)
    first, second = await factories.real_name_citizen(client), await factories.real_name_citizen(client)
    before = await scrape(client)
    refused_before = sum(
        sample(before, "govhall_seat_gate_refusals_total", reason=reason) for reason in ("no_seat_left", "seen_full")
    )
    assert (
        await client.post("/api/v1/appointments", json=booking_body(setup), headers=first["headers"])
    ).status_code == 201
    for _ in range(2):
        assert_error_shape(
            await client.post("/api/v1/appointments", json=booking_body(setup), headers=second["headers"]),
            409,
            "SLOT_FULL",
        )
    after = await scrape(client)
    refused_after = sum(
        sample(after, "govhall_seat_gate_refusals_total", reason=reason) for reason in ("no_seat_left", "seen_full")
    )
    assert refused_after == refused_before + 2


async def test_a_client_outside_the_allowed_networks_is_told_nothing_exists(app, client):
    settings = app.ctx.settings
    app.ctx.settings = settings.model_copy(
        update={"metrics": settings.metrics.model_copy(update={"allow_networks": ["10.0.0.0/8"], "token": "t" * 32})}
    )
    try:
        assert_error_shape(await client.get("/metrics"), 404, "NOT_FOUND")
        assert_error_shape(await client.get("/metrics", headers={"Authorization": "Bearer wrong"}), 404, "NOT_FOUND")
        allowed = await client.get("/metrics", headers={"Authorization": f"Bearer {'t' * 32}"})
        assert allowed.status_code == 200
        assert "govhall_http_requests_total" in allowed.text
    finally:
        app.ctx.settings = settings


@pytest.mark.parametrize(
    ("ip", "networks", "allowed"),
    [
        ("127.0.0.1", ["127.0.0.1/32"], True),
        ("::1", ["::1/128"], True),
        ("::ffff:10.1.2.3", ["10.0.0.0/8"], True),
        ("192.168.1.5", ["127.0.0.1/32", "10.0.0.0/8"], False),
        ("not-an-ip", ["0.0.0.0/0"], False),
    ],
)
def test_may_scrape_by_network(ip, networks, allowed):
    request = SimpleNamespace(ip=ip, headers={})
    settings = SimpleNamespace(token="", allow_networks=networks)
    assert may_scrape(request, settings) is allowed


def test_an_empty_token_never_lets_anyone_in():
    request = SimpleNamespace(ip="192.168.1.5", headers={"authorization": "Bearer "})
    assert may_scrape(request, SimpleNamespace(token="", allow_networks=[])) is False


def test_metrics_is_outside_the_api_document(app):
    from app.core.openapi import build_document

    document = build_document(app, title="t", version="1", description="d")
    assert "/metrics" not in document["paths"]


def test_behind_the_load_balancer_the_clients_address_counts_not_the_balancers():
    # with server.proxies_count set, Sanic's remote_addr is the client's from X-Forwarded-For
    outside = SimpleNamespace(ip="127.0.0.1", remote_addr="203.0.113.9", headers={})
    assert may_scrape(outside, SimpleNamespace(token="", allow_networks=["127.0.0.1/32"])) is False


async def test_a_forwarded_address_counts_only_when_the_proxies_are_configured(app, client):
    settings = app.ctx.settings
    app.ctx.settings = settings.model_copy(
        update={"metrics": settings.metrics.model_copy(update={"allow_networks": ["203.0.113.0/24"]})}
    )
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    try:
        # proxies_count = 0: a client cannot name its own address
        assert_error_shape(await client.get("/metrics", headers=forwarded), 404, "NOT_FOUND")
        app.config.PROXIES_COUNT = 1
        assert (await client.get("/metrics", headers=forwarded)).status_code == 200
        assert_error_shape(await client.get("/metrics"), 404, "NOT_FOUND")
    finally:
        app.config.PROXIES_COUNT = 0
        app.ctx.settings = settings
