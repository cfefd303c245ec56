"""Case rules that need a chosen clock: deadlines across holidays and suspensions, and the deadline lights."""

from datetime import datetime

from app.cases import service
from app.cases.models import Case
from app.core import outbox
from app.core.auth import Principal
from app.core.timeutil import CITY_TZ
from tests import factories as f


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CITY_TZ)


def _staff(account: dict, *roles: str) -> Principal:
    return Principal(kind="staff", id=account["id"], roles=roles, department_id=account["department_id"])


async def _accepted(client, cache, setup: dict, at: datetime) -> dict:
    case = await f.submitted_case(client, setup)
    clerk = _staff(setup["clerk"], "clerk")
    return await service.transition(
        clerk, case["id"], "accept", version=case["version"], cache=cache, guide_ttl=60, now=at
    )


async def test_deadline_counts_working_days_across_the_national_day_holiday(client, cache):
    setup = await f.case_setup(client, cache)  # promised_days = 5
    accepted = await _accepted(client, cache, setup, _at("2026-09-29T10:00:00"))
    # Working days after Tue 29 Sep: 30 Sep, (1-7 Oct holiday), Thu 8, Fri 9, Sat 10 (make-up day), Mon 12 Oct.
    assert accepted["deadline"] == "2026-10-12T23:59:59+08:00"
    assert accepted["receipt_no"].split("-")[1] == "20260929"


async def test_suspension_stops_the_clock_and_extends_the_deadline_by_the_working_days_paused(client, cache):
    setup = await f.case_setup(client, cache)
    approver = _staff(setup["approver"], "approver")
    case = await _accepted(client, cache, setup, _at("2026-09-29T10:00:00"))
    common = {"cache": cache, "guide_ttl": 60}
    case = await service.transition(
        approver, case["id"], "start_review", version=case["version"], now=_at("2026-09-30T09:00:00"), **common
    )
    case = await service.transition(
        approver,
        case["id"],
        "suspend",
        version=case["version"],
        note="组织听证",
        now=_at("2026-10-08T10:00:00"),
        **common,
    )
    assert case["clock_paused"] is True and case["light"] == "green"
    # Far past the old deadline, the suspended case is still green: its clock stands still.
    late = await service.get_case(approver, case["id"], now=_at("2026-10-20T10:00:00"), **common)
    assert late["light"] == "green"
    resumed = await service.transition(
        approver, case["id"], "resume", version=case["version"], now=_at("2026-10-12T10:00:00"), **common
    )
    # Paused on Fri 9, Sat 10 (make-up) and Mon 12 Oct: three working days more, to Thu 15 Oct.
    assert resumed["paused_workdays"] == 3
    assert resumed["deadline"] == "2026-10-15T23:59:59+08:00"
    assert resumed["timeline"][-1]["details"] == {"paused_workdays": 3}
    event = (await outbox.events_for("case", case["id"]))[-1]
    assert event["kind"] == "case.in_review" and event["payload"]["deadline"] == resumed["deadline"]


async def test_lights_turn_yellow_at_80_percent_and_red_past_the_deadline(client, cache):
    setup = await f.case_setup(client, cache)
    case = await _accepted(client, cache, setup, _at("2026-09-29T10:00:00"))
    row = await Case.get(id=case["id"])
    assert service.light_of(row, _at("2026-10-08T10:00:00")) == "green"
    assert service.light_of(row, _at("2026-10-11T12:00:00")) == "yellow"
    assert service.light_of(row, _at("2026-10-12T23:59:59")) == "yellow"
    assert service.light_of(row, _at("2026-10-13T00:00:01")) == "red"


async def test_warning_and_overdue_events_are_emitted_once_per_level(client, cache):
    setup = await f.case_setup(client, cache)
    case = await _accepted(client, cache, setup, _at("2026-09-29T10:00:00"))

    async def kinds():
        return [
            e["kind"]
            for e in await outbox.events_for("case", case["id"])
            if e["kind"] in ("case.deadline_warning", "case.overdue")
        ]

    await service.announce_lights(now=_at("2026-10-08T10:00:00"))
    assert await kinds() == []
    await service.announce_lights(now=_at("2026-10-11T12:00:00"))
    await service.announce_lights(now=_at("2026-10-11T13:00:00"))
    assert await kinds() == ["case.deadline_warning"]
    await service.announce_lights(now=_at("2026-10-13T09:00:00"))
    await service.announce_lights(now=_at("2026-10-14T09:00:00"))
    assert await kinds() == ["case.deadline_warning", "case.overdue"]
    overdue = (await outbox.events_for("case", case["id"]))[-1]
    assert overdue["department_id"] == setup["department"]["id"]
    assert overdue["payload"]["light"] == "red" and overdue["payload"]["receipt_no"] == case["receipt_no"]


async def test_a_case_that_jumps_straight_to_red_is_announced_once_as_overdue(client, cache):
    setup = await f.case_setup(client, cache)
    case = await _accepted(client, cache, setup, _at("2026-09-29T10:00:00"))
    await service.announce_lights(now=_at("2026-11-01T09:00:00"))
    await service.announce_lights(now=_at("2026-11-02T09:00:00"))
    kinds = [e["kind"] for e in await outbox.events_for("case", case["id"])]
    assert kinds.count("case.overdue") == 1 and "case.deadline_warning" not in kinds
