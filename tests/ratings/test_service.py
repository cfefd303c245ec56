"""Rating rules at the service level, on a chosen clock: the 7-day default, races, holidays, the figures.

The database is shared by the whole run: the default job sees every unrated case, so each test moves only its own
cases' end back in time and judges only those cases.
"""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from app.cases.models import Case
from app.core.auth import Principal
from app.core.timeutil import CITY_TZ
from app.core.timeutil import now as clock_now
from app.ratings import service as ratings
from app.ratings.errors import AlreadyRated, RatingClosed
from app.ratings.models import Rating
from app.stats import service as stats
from app.tickets import service as tickets
from tests import factories as f
from tests.core.test_errors import assert_error_shape


def citizen_of(account: dict) -> Principal:
    return Principal(kind="citizen", id=account["id"])


def staff_of(account: dict, *roles: str) -> Principal:
    return Principal(kind="staff", id=account["id"], roles=roles, department_id=account["department_id"])


async def set_ended_at(case_id: int, moment: datetime) -> None:
    await Case.filter(id=case_id).update(ended_at=moment.astimezone(UTC))


async def ratings_of(case_id: int) -> list[Rating]:
    return list(await Rating.filter(subject_type="case", subject_id=case_id).order_by("id"))


# ---- the default rating ----


async def test_unrated_cases_get_a_defaulted_3_seven_days_after_they_ended_once(client, cache, settings):
    setup = await f.rating_setup(client, cache)
    citizen = setup["citizen"]
    base = clock_now().replace(microsecond=0)
    old = await f.ended_case(client, setup)
    old_denied = await f.ended_case(client, setup, decision="deny")
    recent = await f.ended_case(client, setup)
    rated = await f.ended_case(client, setup)
    own = await f.rated(client, citizen, case_id=rated["id"], score=4, comment="不错")
    withdrawn = await f.submitted_case(client, setup)
    response = await client.post(f"/api/v1/cases/{withdrawn['id']}/withdraw", headers=citizen["headers"])
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    for case in (old, old_denied, rated, withdrawn):
        await set_ended_at(case["id"], base - timedelta(days=8))
    await set_ended_at(recent["id"], base - timedelta(days=6))

    assert await ratings.apply_defaults(settings=settings, now=base) >= 2
    for case in (old, old_denied):
        [default] = await ratings_of(case["id"])
        assert (default.score, default.is_default, default.citizen_id) == (3, True, None)
        assert (default.comment, default.tags, default.dimensions) == ("", [], {})
        assert default.rated_at == base - timedelta(days=1)  # the end of the rating period
        assert default.department_id == setup["department"]["id"]
    assert await ratings_of(recent["id"]) == []
    assert await ratings_of(withdrawn["id"]) == []
    assert [(r.id, r.is_default) for r in await ratings_of(rated["id"])] == [(own["id"], False)]

    # A second run (or another worker) gives nothing more to these cases.
    await ratings.apply_defaults(settings=settings, now=base)
    await ratings.apply_defaults(settings=settings, now=base + timedelta(minutes=1))
    for case, expected in ((old, 1), (old_denied, 1), (recent, 0), (rated, 1), (withdrawn, 0)):
        assert len(await ratings_of(case["id"])) == expected, case["status"]

    # Never the citizen's words: not in their list, not theirs to open, no second rating either.
    default_id = (await ratings_of(old["id"]))[0].id
    mine = (await client.get("/api/v1/ratings", headers=citizen["headers"])).json()
    assert (mine["total"], [r["id"] for r in mine["items"]]) == (1, [own["id"]])
    assert_error_shape(
        await client.get(f"/api/v1/ratings/{default_id}", headers=citizen["headers"]), 404, "RATING_NOT_FOUND"
    )
    case = (await client.get(f"/api/v1/cases/{old['id']}", headers=citizen["headers"])).json()
    assert case["rated"] is True
    # Its period ran out: that is what the citizen is told, not that they already rated.
    assert_error_shape(
        await client.post("/api/v1/ratings", json={"case_id": old["id"], "score": 5}, headers=citizen["headers"]),
        409,
        "RATING_CLOSED",
    )
    # The department sees it marked as defaulted, and cannot appeal it.
    defaults = (
        await client.get("/api/v1/staff/ratings", params={"defaulted": "true"}, headers=setup["dept_admin"]["headers"])
    ).json()
    default_ids = [(await ratings_of(c["id"]))[0].id for c in (old, old_denied)]
    assert sorted(r["id"] for r in defaults["items"]) == sorted(default_ids)
    assert all(r["defaulted"] and r["citizen_id"] is None and r["score"] == 3 for r in defaults["items"])
    assert_error_shape(
        await client.post(
            f"/api/v1/staff/ratings/{default_id}/appeal", json={"reason": "无"}, headers=setup["dept_admin"]["headers"]
        ),
        409,
        "ILLEGAL_TRANSITION",
    )

    # Two days later the recent one's period has run out too.
    await ratings.apply_defaults(settings=settings, now=base + timedelta(days=2))
    [late] = await ratings_of(recent["id"])
    assert late.is_default and late.rated_at == base + timedelta(days=1)


async def test_the_default_waits_for_the_whole_period_whatever_zone_now_is_given_in(client, cache, settings):
    setup = await f.case_setup(client, cache)
    base = clock_now().replace(microsecond=0)
    case = await f.ended_case(client, setup)
    # Its period ends an hour after base: a `now` in city time (+08:00) must not make it look 8 hours older.
    await set_ended_at(case["id"], base - timedelta(days=7) + timedelta(hours=1))
    await ratings.apply_defaults(settings=settings, now=base.astimezone(CITY_TZ))
    assert await ratings_of(case["id"]) == []
    # The citizen may still rate at that moment.
    await ratings.apply_defaults(settings=settings, now=(base + timedelta(hours=2)).astimezone(CITY_TZ))
    [default] = await ratings_of(case["id"])
    assert default.is_default and default.rated_at == base + timedelta(hours=1)


async def test_a_citizen_rating_racing_the_default_job_leaves_one_rating(client, cache, settings):
    setup = await f.case_setup(client, cache)
    citizen = citizen_of(setup["citizen"])
    base = clock_now().replace(microsecond=0)
    cases = [await f.ended_case(client, setup) for _ in range(6)]
    for case in cases:
        # The last moment of the rating period: the citizen may rate, and the job may default.
        await set_ended_at(case["id"], base - timedelta(days=7))
    outcomes = await asyncio.gather(
        *(
            ratings.rate(
                citizen,
                case_id=case["id"],
                appointment_id=None,
                score=5,
                dimensions={},
                tags=[],
                comment="",
                idempotency_key=None,
                settings=settings,
                now=base,
            )
            for case in cases
        ),
        ratings.apply_defaults(settings=settings, now=base),
        ratings.apply_defaults(settings=settings, now=base),
        return_exceptions=True,
    )
    for case, outcome in zip(cases, outcomes, strict=False):  # the last two outcomes are the default jobs
        # The citizen either rated, or was told the job got there first (already rated / period over).
        assert not isinstance(outcome, Exception) or isinstance(outcome, (AlreadyRated, RatingClosed)), repr(outcome)
        [only] = await ratings_of(case["id"])
        assert only.is_default == isinstance(outcome, Exception)
        assert (await Case.get(id=case["id"])).rated is True
    for outcome in outcomes[len(cases) :]:
        assert isinstance(outcome, int), repr(outcome)


# ---- deadlines in working days ----


async def close_ticket(supervisor: dict, ticket_id: int, settings) -> None:
    """Leave no open ticket with long-past deadlines behind for later runs of the overdue job."""
    closed = await tickets.act(
        staff_of(supervisor, "supervisor"), ticket_id, "close", note="测试结束", settings=settings
    )
    assert closed["status"] == "closed"


async def test_a_bad_rating_before_national_day_is_due_after_the_holiday(client, cache, settings):
    setup = await f.rating_setup(client, cache)
    case = await f.ended_case(client, setup)
    rated_at = datetime(2026, 9, 30, 10, 0, tzinfo=CITY_TZ)
    await set_ended_at(case["id"], rated_at - timedelta(days=1))
    rating, created = await ratings.rate(
        citizen_of(setup["citizen"]),
        case_id=case["id"],
        appointment_id=None,
        score=1,
        dimensions={"attitude": 1},
        tags=["态度差"],
        comment="态度差",
        idempotency_key=None,
        settings=settings,
        now=rated_at,
    )
    assert created and rating["rated_at"] == "2026-09-30T10:00:00+08:00"
    # 10-01..10-07 are closed; the make-up Saturday 10-10 is a working day.
    assert rating["ticket"]["callback_due_at"] == "2026-10-08T23:59:59+08:00"
    assert rating["ticket"]["fix_due_at"] == "2026-10-13T23:59:59+08:00"
    stored = await Rating.get(id=rating["id"])
    assert stored.rated_at == rated_at and stored.dimensions == {"attitude": 1}
    await close_ticket(setup["supervisor"], rating["ticket"]["id"], settings)


async def test_a_rating_is_refused_after_its_period_at_the_service_too(client, cache, settings):
    setup = await f.case_setup(client, cache)
    case = await f.ended_case(client, setup)
    ended = datetime(2026, 11, 2, 9, 0, tzinfo=CITY_TZ)
    await set_ended_at(case["id"], ended)

    with pytest.raises(RatingClosed):
        await ratings.rate(
            citizen_of(setup["citizen"]),
            case_id=case["id"],
            appointment_id=None,
            score=5,
            dimensions={},
            tags=[],
            comment="",
            idempotency_key=None,
            settings=settings,
            now=ended + timedelta(days=7, seconds=1),
        )
    rating, _ = await ratings.rate(
        citizen_of(setup["citizen"]),
        case_id=case["id"],
        appointment_id=None,
        score=5,
        dimensions={},
        tags=[],
        comment="",
        idempotency_key=None,
        settings=settings,
        now=ended + timedelta(days=7),
    )
    assert rating["score"] == 5


# ---- the published figures ----


async def test_figures_count_by_the_city_day_and_leave_voided_ratings_out(client, cache, settings):
    setup = await f.rating_setup(client, cache)
    department_id = setup["department"]["id"]
    citizen = citizen_of(setup["citizen"])
    # 00:30 on 1 December in the city is still 30 November in UTC: it belongs to December.
    early = datetime(2026, 12, 1, 0, 30, tzinfo=CITY_TZ)
    scores = (5, 4, 1, 2)
    given = []
    for score in scores:
        case = await f.ended_case(client, setup)
        await set_ended_at(case["id"], early - timedelta(hours=2))
        rating, _ = await ratings.rate(
            citizen,
            case_id=case["id"],
            appointment_id=None,
            score=score,
            dimensions={},
            tags=[],
            comment="差" if score <= 2 else "",
            idempotency_key=None,
            settings=settings,
            now=early,
        )
        given.append(rating)
    defaulted = await f.ended_case(client, setup)
    await set_ended_at(defaulted["id"], early - timedelta(days=7, hours=1))
    await ratings.apply_defaults(settings=settings, now=early)

    admin, supervisor = staff_of(setup["dept_admin"], "dept_admin"), staff_of(setup["supervisor"], "supervisor")
    bad_one = given[3]
    await ratings.appeal(admin, bad_one["id"], reason="恶意", now=early + timedelta(hours=1))
    decided = await ratings.decide_appeal(
        supervisor, bad_one["id"], decision="void", note="认定恶意", now=early + timedelta(hours=2)
    )
    assert decided["voided"] and decided["decided_at"] == "2026-12-01T02:30:00+08:00"

    december = await ratings.figures(
        key="department_id", start=datetime(2026, 12, 1, tzinfo=CITY_TZ), end=datetime(2026, 12, 2, tzinfo=CITY_TZ)
    )
    assert december[department_id] == {
        "by_level": {"1": 1, "2": 0, "3": 0, "4": 1, "5": 1},
        "defaulted": 0,
        "voided": 1,
    }
    november = await ratings.figures(
        key="department_id", start=datetime(2026, 11, 30, tzinfo=CITY_TZ), end=datetime(2026, 12, 1, tzinfo=CITY_TZ)
    )
    # The default is dated the end of its period: 30 November, 23:30 in the city.
    assert november[department_id] == {
        "by_level": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
        "defaulted": 1,
        "voided": 0,
    }

    report = await stats.report(
        "departments",
        date_from="2026-11-30",
        date_to="2026-12-01",
        only_id=department_id,
        cache=cache,
        cache_seconds=0,
        catalog_ttl=60,
        now=early + timedelta(days=1),
    )
    [item] = report["items"]
    assert (item["rated"], item["defaulted"], item["bad_ratings"], item["voided_ratings"]) == (3, 1, 1, 1)
    assert item["satisfaction_rate"] == 0.75 and item["satisfaction_rate_rated"] == round(2 / 3, 4)
    await close_ticket(setup["supervisor"], given[2]["ticket"]["id"], settings)
