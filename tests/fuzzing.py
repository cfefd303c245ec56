"""Schemathesis over the operations of a running server's /openapi.json: no 5xx, every answer as documented."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

CHECKS = [not_a_server_error, response_schema_conformance]
READS = ("GET",)


@dataclass(frozen=True)
class Pass:
    """Who calls (headers) and which operations (method, path template) they are allowed to fuzz."""

    name: str
    headers: dict[str, str]
    allows: Callable[[str, str], bool]
    anonymous: bool = False


# The session database and cache are shared with every other test, so a pass fuzzes only what cannot change what
# another test reads. Anonymous callers reach nothing but public reads, logins and signed payment callbacks (refused
# unsigned) - except walk-in tickets, which would queue strangers in the demo halls other tests call from.
ANONYMOUS_EXCLUDED = {("POST", "/api/v1/halls/{hall_id}/tickets")}
# A citizen fuzzes reads and writes to its own things (profile, subscriptions, inbox, proxies, drafts and their
# materials and payments). Left out: logout (would end the token mid-run), booking (takes seats of shared demo
# slots), walk-in numbers in the app (as the kiosk's), submitting a case, feedback and ratings (they reach staff
# lists and stats that other tests count).
CITIZEN_EXCLUDED = {
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/appointments"),
    ("POST", "/api/v1/cases/{case_id}/submit"),
    ("POST", "/api/v1/feedback"),
    ("POST", "/api/v1/ratings"),
    ("POST", "/api/v1/halls/{hall_id}/tickets"),
    ("POST", "/api/v1/me/queue-tickets"),
}


def anonymous_allows(method: str, path: str) -> bool:
    return (method, path) not in ANONYMOUS_EXCLUDED


def citizen_allows(method: str, path: str) -> bool:
    return (method, path) not in CITIZEN_EXCLUDED and not path.startswith(("/api/v1/staff", "/api/v1/admin"))


def admin_allows(method: str, path: str) -> bool:
    # The admin is shared by the whole session and may do anything: close accounts, change the calendar and the
    # guides every other test reads, refund, move cases and tickets, retry deliveries, log itself out. Its pass
    # is reads only, which is where the staff and admin listings, filters and stats take their input.
    return method in READS


def load(base_url: str):
    """The server's document, without the platform simulators (/sim) that stand in for WeChat, Alipay and WeCom."""
    return schemathesis.openapi.from_url(f"{base_url}/openapi.json", timeout=30).exclude(path_regex=r"^/sim")


def fuzz(
    schema, base_url: str, fuzz_pass: Pass, *, max_examples: int, seed: int | None = 0, shrink: bool = False
) -> list[str]:
    """Every failure (operation, check, reproducing curl) of one pass; an empty list when all answers were right."""
    failures = []
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else [])
    for result in schema.get_all_operations():
        operation = result.ok()
        if not fuzz_pass.allows(operation.method.upper(), operation.path):
            continue
        # Without credentials a secured operation answers 401 before it reads any input: one example shows it.
        examples = 1 if fuzz_pass.anonymous and operation.definition.raw.get("security") else max_examples

        @settings(
            max_examples=examples,
            database=None,
            deadline=None,
            phases=phases,
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
        )
        @given(case=operation.as_strategy())
        def exercise(case):
            response = case.call(base_url=base_url, headers=fuzz_pass.headers, timeout=30)
            case.validate_response(response, checks=CHECKS, headers=fuzz_pass.headers)

        if seed is not None:  # the same examples every run: a failure found once is found again
            exercise = hypothesis_seed(seed)(exercise)
        try:
            exercise()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - any failed example is reported, reproducible
            failures.append(f"[{fuzz_pass.name}] {operation.method.upper()} {operation.path}: {str(exc).strip()}")
    return failures
