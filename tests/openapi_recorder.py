"""Pytest plugin: while the suite runs, record a few real responses per (method, route, status) of the test app, so
tests/test_openapi_contract.py can check them against /openapi.json; that test runs last."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
from sanic import Request, Sanic

from app.core.openapi import path_template

CONTRACT_TEST = "test_openapi_contract.py"
KEPT_PER_KEY = 3
TESTS_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Exchange:
    """One answered request, as much of it as the contract needs."""

    content_type: str
    body: bytes | None  # None: a binary body, only its media type is checked
    request_had_json: bool


RECORDED: dict[tuple[str, str, int], list[Exchange]] = defaultdict(list)
RUN = {"whole_suite": False}


def _is_text(content_type: str) -> bool:
    return content_type.startswith(("application/json", "text/"))


def install(app: Sanic) -> None:
    """Record the responses of this app (call before it starts serving)."""

    @app.on_response(priority=0)
    async def _record(request: Request, response) -> None:
        route = getattr(request, "route", None)
        if route is None or response is None:
            return
        key = (request.method, path_template(route.path), response.status)
        kept = RECORDED[key]
        if len(kept) >= KEPT_PER_KEY:
            return
        content_type = response.content_type or ""
        body = response.body if not response.body or _is_text(content_type) else None
        request_type = request.headers.get("content-type", "")
        kept.append(Exchange(content_type, body, bool(request.body) and request_type.startswith("application/json")))


def _whole_suite(config: pytest.Config, deselected: bool) -> bool:
    if deselected or config.option.keyword or config.option.markexpr or getattr(config.option, "lf", False):
        return False
    roots = {TESTS_DIR, TESTS_DIR.parent}
    start = config.invocation_params.dir
    return all((start / arg.split("::")[0]).resolve() in roots for arg in config.args)


def pytest_deselected(items) -> None:
    RUN["deselected"] = True


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items) -> None:
    # The contract reads what every other test recorded: it goes last.
    contract = [item for item in items if item.path.name == CONTRACT_TEST]
    items[:] = [item for item in items if item.path.name != CONTRACT_TEST] + contract
    RUN["whole_suite"] = _whole_suite(config, RUN.get("deselected", False))
