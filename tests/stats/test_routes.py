"""The public statistics through HTTP, checked against fixtures counted by hand.

Every figure below is written out literally: which ratings and tickets a department or hall has, and what the
published page must therefore say. Each test builds its own department or hall, so the shared database and the
report's short cache never mix one test's figures into another's.
"""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from app.core.auth import Principal
from app.core.timeutil import CITY_TZ
from app.core.workdays import local_date
from app.ratings import service as ratings
from app.tickets import service as tickets
from tests import factories as f
from tests.core.test_errors import assert_error_shape

UTC = UTC

NOTHING = {
    "ratings_by_level": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
    "rated": 0,
    "defaulted": 0,
    "total_ratings": 0,
    "satisfaction_rate": None,
    "satisfaction_rate_rated": None,
    "bad_ratings": 0,
    "voided_ratings": 0,
    "rectifications": 0,
    "callback_due": 0,
    "callback_on_time": 0,
    "callback_on_time_rate": None,
    "fix_due": 0,
    "fix_on_time": 0,
    "fix_on_time_rate": None,
    "feedback": 0,
    "complaints": 0,
    "answered": 0,
    "reopened": 0,
    "reopen_rate": None,
    "escalated": 0,
}


def _expected(**figures) -> dict:
    return {**NOTHING, **figures}


async def _report(client, group: str, **params) -> dict:
    response = await client.get(f"/api/v1/stats/{group}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def _department(client, department_id: int, first: date, last: date) -> dict:
    body = await _report(
        client, "departments", department_id=department_id, **{"from": first.isoformat(), "to": last.isoformat()}
    )
    assert body["from"] == first.isoformat() and body["to"] == last.isoformat()
    assert [item["department_id"] for item in body["items"]] == [department_id]
    return body["items"][0]


async def _hall(client, hall_id: int, first: date, last: date) -> dict:
    body = await _report(client, "halls", hall_id=hall_id, **{"from": first.isoformat(), "to": last.isoformat()})
    assert [item["hall_id"] for item in body["items"]] == [hall_id]
    return body["items"][0]


PROCESSING = (
    "cases_decided",
    "cases_on_time",
    "cases_on_time_rate",
    "cases_average_days",
    "cases_overdue_now",
    "appointments_due",
    "no_shows",
    "no_show_rate",
)
MATTERS = ("matters", "online_capable", "online_capable_share", "zero_visit", "zero_visit_share")
QUEUE = ("queue_served", "queue_skipped", "average_wait_minutes", "average_serve_minutes")


def _figures(item: dict) -> dict:
    """The rating, rectification and feedback figures (processing, no-shows and matters have their own tests)."""
    return {
        key: value
        for key, value in item.items()
        if key
        not in (
            "department_id",
            "department_name",
            "hall_id",
            "hall_name",
            "matter_id",
            "matter_name",
            *PROCESSING,
            *MATTERS,
            *QUEUE,
        )
    }


def _staff_principal(staff: dict) -> Principal:
    return Principal(kind="staff", id=staff["id"], roles=tuple(staff["roles"]), department_id=staff["department_id"])


def _citizen_principal(citizen: dict) -> Principal:
    return Principal(kind="citizen", id=citizen["id"])


async def _rate_at(setup: dict, case: dict, score: int, moment: datetime, settings, comment: str = "") -> dict:
    """The citizen's rating, given at a chosen moment."""
    view, created = await ratings.rate(
        _citizen_principal(setup["citizen"]),
        case_id=case["id"],
        appointment_id=None,
        score=score,
        dimensions={},
        tags=[],
        comment=comment,
        idempotency_key=None,
        settings=settings,
        now=moment,
    )
    assert created
    return view


async def _step(client, staff: dict, ticket_id: int, action: str, note: str) -> dict:
    response = await client.post(
        f"/api/v1/staff/tickets/{ticket_id}/{action}", headers=staff["headers"], json={"note": note}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _feedback(client, citizen: dict, kind: str, **subject) -> dict:
    response = await client.post(
        "/api/v1/feedback", headers=citizen["headers"], json={"kind": kind, "content": f"{kind} 测试", **subject}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _reply(client, staff: dict, ticket: dict) -> None:
    response = await client.post(
        f"/api/v1/staff/tickets/{ticket['id']}/reply", headers=staff["headers"], json={"content": "答复"}
    )
    assert response.status_code == 200, response.text


async def _citizen_says(client, citizen: dict, ticket: dict, action: str) -> None:
    response = await client.post(
        f"/api/v1/feedback/{ticket['id']}/{action}",
        headers=citizen["headers"],
        json={"reason": "未解决"} if action == "reopen" else None,
    )
    assert response.status_code == 200, response.text


# ---- a department's figures ----


async def test_department_figures_match_the_hand_count(client, cache, settings, clock):
    setup = await f.rating_setup(client, cache)
    department_id = setup["department"]["id"]
    citizen, clerk = setup["citizen"], setup["clerk"]
    now = datetime.now(UTC)
    today = local_date(now)

    # Three services ended ten days ago: one rated 4 and one rated 2 nine days ago (outside the last four days'
    # report), and one nobody rated, which gets the default rating (3) as its rating period ends, three days ago.
    clock.set(now - timedelta(days=10))
    old_good, old_bad, unrated = [await f.ended_case(client, setup) for _ in range(3)]
    clock.resume()
    await _rate_at(setup, old_good, 4, now - timedelta(days=9), settings)
    old_rating = await _rate_at(setup, old_bad, 2, now - timedelta(days=9), settings, "材料被退回三次")
    old_ticket = old_rating["ticket"]["id"]
    clerk_principal = _staff_principal(clerk)
    await tickets.act(
        clerk_principal,
        old_ticket,
        "callback",
        note="已回访",
        settings=settings,
        now=now - timedelta(days=9) + timedelta(hours=1),
    )
    await tickets.act(
        clerk_principal,
        old_ticket,
        "fix",
        note="已整改",
        settings=settings,
        now=now - timedelta(days=9) + timedelta(hours=2),
    )
    await ratings.apply_defaults(settings=settings, now=now)

    # Six services ended now, rated now through the mini-program: 5, 5, 3, 2, 1 and 1.
    ended = [await f.ended_case(client, setup) for _ in range(6)]
    given = []
    for case, score in zip(ended, (5, 5, 3, 2, 1, 1), strict=True):
        given.append(
            await f.rated(client, citizen, case_id=case["id"], score=score, comment="" if score > 2 else "办事太慢")
        )
    two, one, malicious = given[3], given[4], given[5]
    # The last 1 was appealed and voided: out of the figures, counted apart.
    appealed = await client.post(
        f"/api/v1/staff/ratings/{malicious['id']}/appeal",
        headers=setup["dept_admin"]["headers"],
        json={"reason": "与办件无关的恶意评价"},
    )
    assert appealed.status_code == 200, appealed.text
    voided = await client.post(
        f"/api/v1/staff/ratings/{malicious['id']}/appeal/decision",
        headers=setup["supervisor"]["headers"],
        json={"decision": "void", "note": "查实"},
    )
    assert voided.status_code == 200 and voided.json()["voided"] is True, voided.text
    # The 2: called back at once (on time), fixed a minute after the fix deadline (late).
    two_ticket = await _step(client, clerk, two["ticket"]["id"], "callback", "已电话回访")
    fix_due = datetime.fromisoformat(two_ticket["fix_due_at"])
    await tickets.act(
        clerk_principal, two_ticket["id"], "fix", note="已整改", settings=settings, now=fix_due + timedelta(minutes=1)
    )
    # The 1: called back a minute after its deadline (late); its fix is not due yet.
    callback_due = datetime.fromisoformat(one["ticket"]["callback_due_at"])
    await tickets.act(
        clerk_principal,
        one["ticket"]["id"],
        "callback",
        note="已回访",
        settings=settings,
        now=callback_due + timedelta(minutes=1),
    )

    # Feedback: a complaint reopened twice (escalated), a complaint not answered, a consultation answered and
    # confirmed, a suggestion answered.
    subject = {"matter_id": setup["matter"]["id"]}
    looping = await _feedback(client, citizen, "complaint", **subject)
    for _ in range(2):
        await _reply(client, clerk, looping)
        await _citizen_says(client, citizen, looping, "reopen")
    await _feedback(client, citizen, "complaint", **subject)
    consult = await _feedback(client, citizen, "consult", **subject)
    await _reply(client, clerk, consult)
    await _citizen_says(client, citizen, consult, "confirm")
    suggestion = await _feedback(client, citizen, "suggestion", **subject)
    await _reply(client, clerk, suggestion)

    week = _figures(await _department(client, department_id, today - timedelta(days=3), today))
    assert week == _expected(
        ratings_by_level={"1": 1, "2": 1, "3": 1, "4": 0, "5": 2},
        rated=5,
        defaulted=1,
        total_ratings=6,
        satisfaction_rate=round((3 + 1) / 6, 4),
        satisfaction_rate_rated=round(3 / 5, 4),
        bad_ratings=2,
        voided_ratings=1,
        rectifications=2,
        callback_due=2,
        callback_on_time=1,
        callback_on_time_rate=0.5,
        fix_due=1,
        fix_on_time=0,
        fix_on_time_rate=0.0,
        feedback=4,
        complaints=2,
        answered=3,
        reopened=1,
        reopen_rate=round(1 / 3, 4),
        escalated=1,
    )

    # Nine days ago alone: the 4 and the 2, whose rectification was called back and fixed on time.
    nine_days_ago = today - timedelta(days=9)
    earlier = _figures(await _department(client, department_id, nine_days_ago, nine_days_ago))
    assert earlier == _expected(
        ratings_by_level={"1": 0, "2": 1, "3": 0, "4": 1, "5": 0},
        rated=2,
        total_ratings=2,
        satisfaction_rate=0.5,
        satisfaction_rate_rated=0.5,
        bad_ratings=1,
        rectifications=1,
        callback_due=1,
        callback_on_time=1,
        callback_on_time_rate=1.0,
        fix_due=1,
        fix_on_time=1,
        fix_on_time_rate=1.0,
    )

    # The unfiltered report lists every department, this one with the same figures and its name.
    everyone = await _report(
        client, "departments", **{"from": (today - timedelta(days=3)).isoformat(), "to": today.isoformat()}
    )
    mine = [item for item in everyone["items"] if item["department_id"] == department_id]
    assert len(mine) == 1 and mine[0]["department_name"] == setup["department"]["name"]
    assert _figures(mine[0]) == week
    # A department with nothing to show is listed with empty figures, not left out or divided by zero.
    idle = await f.department(cache)
    assert _figures(await _department(client, idle["id"], today - timedelta(days=3), today)) == NOTHING


async def test_hall_figures_count_only_what_was_served_at_the_hall(client, cache, settings, clock):
    hall = await f.hall(cache)
    department = await f.department(cache)
    matter = await f.matter(cache, department_id=department["id"], hall_ids=[hall["id"]])
    setup = {
        "department": department,
        "matter": matter,
        "required": [m["id"] for m in matter["materials"] if m["required"]],
        "clerk": await f.staff(client, "clerk", department_id=department["id"]),
        "approver": await f.staff(client, "approver", department_id=department["id"]),
        "citizen": await f.real_name_citizen(client, "王五"),
    }
    citizen = setup["citizen"]
    now = datetime.now(UTC)
    today = local_date(now)

    async def window_case(*, link: bool) -> dict:
        """Filed and accepted at the hall's window, decided, and attached to the citizen's account."""
        filed = await client.post(
            "/api/v1/staff/cases",
            headers=setup["clerk"]["headers"],
            json={
                "matter_id": matter["id"],
                "applicant_name": citizen["name"],
                "id_number": citizen["id_number"],
                "form": {"reason": "现场办理"},
                "materials_checked": setup["required"],
                "hall_id": hall["id"],
            },
        )
        assert filed.status_code == 201, filed.text
        case = await f.moved(client, filed.json(), setup["approver"], "start_review")
        case = await f.moved(client, case, setup["approver"], "approve")
        if link:
            linked = await client.post(
                "/api/v1/cases/link",
                headers=citizen["headers"],
                json={"receipt_no": case["receipt_no"], "id_number": citizen["id_number"]},
            )
            assert linked.status_code == 200, linked.text
        return case

    # A window case ended ten days ago and never rated: defaulted three days ago.
    clock.set(now - timedelta(days=10))
    await window_case(link=False)
    clock.resume()
    await ratings.apply_defaults(settings=settings, now=now)
    # Two window cases rated now: 4, and 1 (called back at once); a complaint about the first.
    good, bad = await window_case(link=True), await window_case(link=True)
    await f.rated(client, citizen, case_id=good["id"], score=4)
    bad_rating = await f.rated(client, citizen, case_id=bad["id"], score=1, comment="窗口态度差")
    assert bad_rating["hall_id"] == hall["id"]
    await _step(client, setup["clerk"], bad_rating["ticket"]["id"], "callback", "已回访致歉")
    complaint = await _feedback(client, citizen, "complaint", case_id=good["id"])
    assert complaint["hall_id"] == hall["id"]
    # An online case of the same department: the department's, not the hall's.
    online = await f.ended_case(client, setup)
    await f.rated(client, citizen, case_id=online["id"], score=5)

    first = today - timedelta(days=3)
    at_hall = await _hall(client, hall["id"], first, today)
    assert at_hall["hall_name"] == hall["name"]
    assert _figures(at_hall) == _expected(
        ratings_by_level={"1": 1, "2": 0, "3": 0, "4": 1, "5": 0},
        rated=2,
        defaulted=1,
        total_ratings=3,
        satisfaction_rate=round((1 + 1) / 3, 4),
        satisfaction_rate_rated=0.5,
        bad_ratings=1,
        rectifications=1,
        callback_due=1,
        callback_on_time=1,
        callback_on_time_rate=1.0,
        feedback=1,
        complaints=1,
    )
    whole = _figures(await _department(client, department["id"], first, today))
    assert whole["ratings_by_level"] == {"1": 1, "2": 0, "3": 0, "4": 1, "5": 1}
    assert (whole["defaulted"], whole["satisfaction_rate"]) == (1, round(3 / 4, 4))
    listed = await _report(client, "halls", **{"from": first.isoformat(), "to": today.isoformat()})
    assert [_figures(item) for item in listed["items"] if item["hall_id"] == hall["id"]] == [_figures(at_hall)]


async def test_the_period_is_counted_in_the_citys_days(client, cache, settings, clock):
    """A rating at 01:00 in the city on 2 November belongs to 2 November, though it is still 1 November in UTC."""
    setup = await f.rating_setup(client, cache)
    department_id = setup["department"]["id"]
    clock.set(datetime(2026, 11, 1, 9, 0, tzinfo=CITY_TZ).astimezone(UTC))
    early, late = await f.ended_case(client, setup), await f.ended_case(client, setup)
    clock.resume()
    await _rate_at(setup, early, 5, datetime(2026, 11, 2, 1, 0, tzinfo=CITY_TZ), settings)
    await _rate_at(setup, late, 1, datetime(2026, 11, 2, 23, 30, tzinfo=CITY_TZ), settings, "深夜差评")
    clock.set(datetime(2026, 11, 2, 0, 30, tzinfo=CITY_TZ))
    await _feedback(client, setup["citizen"], "complaint", matter_id=setup["matter"]["id"])
    clock.set(datetime(2026, 11, 3, 7, 59, tzinfo=CITY_TZ))
    await _feedback(client, setup["citizen"], "consult", matter_id=setup["matter"]["id"])

    first, second, third = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)
    assert _figures(await _department(client, department_id, first, first)) == NOTHING
    on_the_2nd = _figures(await _department(client, department_id, second, second))
    assert on_the_2nd["ratings_by_level"] == {"1": 1, "2": 0, "3": 0, "4": 0, "5": 1}
    assert (on_the_2nd["rectifications"], on_the_2nd["feedback"], on_the_2nd["complaints"]) == (1, 1, 1)
    on_the_3rd = _figures(await _department(client, department_id, third, third))
    assert (on_the_3rd["rated"], on_the_3rd["rectifications"], on_the_3rd["feedback"]) == (0, 0, 1)


# ---- the period and the cache ----


async def test_the_report_needs_no_login_and_defaults_to_the_last_30_days(client, cache):
    department = await f.department(cache)
    today = local_date(datetime.now(UTC))
    body = await _report(client, "departments", department_id=department["id"])
    assert body["from"] == (today - timedelta(days=29)).isoformat() and body["to"] == today.isoformat()
    assert body["generated_at"] and [item["department_id"] for item in body["items"]] == [department["id"]]
    assert body["items"][0]["department_name"] == department["name"]
    assert (await _report(client, "departments", department_id=99_999_999))["items"] == []
    hall = await f.hall(cache)
    halls = await _report(client, "halls", hall_id=hall["id"])
    assert [(item["hall_id"], item["hall_name"]) for item in halls["items"]] == [(hall["id"], hall["name"])]


@pytest.mark.parametrize("group", ["departments", "halls"])
@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-03-02", "to": "2026-03-01"},  # backwards
        {"from": "2026-02-30", "to": "2026-03-01"},  # no such day
        {"from": "yesterday"},
        {"to": "2026/03/01"},
        {"from": "2024-01-01", "to": "2025-01-01"},  # 367 days
        {"from": "2099-01-01"},  # after today, which is the default end
        {"department_id": "abc"},
        {"hall_id": "1.5"},
    ],
)
async def test_a_bad_period_is_422(client, group, params):
    assert_error_shape(await client.get(f"/api/v1/stats/{group}", params=params), 422, "VALIDATION_FAILED")


async def test_the_longest_period_is_366_days(client, cache):
    department = await f.department(cache)
    body = await _report(
        client, "departments", department_id=department["id"], **{"from": "2024-01-01", "to": "2024-12-31"}
    )
    assert (body["from"], body["to"]) == ("2024-01-01", "2024-12-31")


async def test_the_report_is_served_from_the_cache_until_it_expires(client, cache, settings):
    setup = await f.rating_setup(client, cache)
    department_id = setup["department"]["id"]
    case = await f.ended_case(client, setup)
    today = local_date(datetime.now(UTC))
    before = await _department(client, department_id, today, today)
    assert before["rated"] == 0
    key = f"stats:departments:{today}:{today}:{department_id}:"
    assert 0 < (await cache.ttl(key)) <= settings.stats.cache_seconds

    await f.rated(client, setup["citizen"], case_id=case["id"], score=5)
    # Within the expiry the same question gets the same answer ...
    again = await _report(
        client, "departments", department_id=department_id, **{"from": today.isoformat(), "to": today.isoformat()}
    )
    assert again["items"][0]["rated"] == 0
    # ... another question is computed afresh ...
    wider = await _department(client, department_id, today - timedelta(days=1), today)
    assert wider["rated"] == 1 and wider["satisfaction_rate"] == 1.0
    # ... and once the cached answer is gone, the same question sees the rating too.
    await cache.delete(key)
    assert (await _department(client, department_id, today, today))["rated"] == 1


async def test_the_stats_routes_are_documented_with_their_real_keys(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path, key, label in (
        ("/api/v1/stats/departments", "department_id", "department_name"),
        ("/api/v1/stats/halls", "hall_id", "hall_name"),
        ("/api/v1/stats/matters", "matter_id", "matter_name"),
    ):
        operation = paths[path]["get"]
        assert "security" not in operation  # public
        assert {"from", "to", "department_id", "hall_id", "matter_id"} <= {p["name"] for p in operation["parameters"]}
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert set(schema["properties"]) == {"from", "to", "generated_at", "items"}
        item = schema["properties"]["items"]["items"]["properties"]
        assert {key, label, *NOTHING, *PROCESSING[:5]} <= set(item)
        assert set(MATTERS) <= set(item) if key != "matter_id" else "department_id" in item
        assert "422" in operation["responses"]


async def test_processing_on_time_overdue_and_no_shows_are_published(client, cache, clock):
    from app.booking import service as booking

    setup = await f.bookable_matter(cache)
    hall, department, matter = setup["hall"], setup["department"], setup["matter"]
    clerk = await f.staff(client, "clerk", department_id=department["id"])
    approver = await f.staff(client, "approver", department_id=department["id"])
    citizen = await f.real_name_citizen(client, "赵六")
    now = datetime.now(UTC)
    today = local_date(now)

    async def window_case() -> dict:
        filed = await client.post(
            "/api/v1/staff/cases",
            headers=clerk["headers"],
            json={
                "matter_id": matter["id"],
                "applicant_name": citizen["name"],
                "id_number": citizen["id_number"],
                "form": {"reason": "现场办理"},
                "materials_checked": [m["id"] for m in matter["materials"] if m["required"]],
                "hall_id": hall["id"],
            },
        )
        assert filed.status_code == 201, filed.text
        return filed.json()

    async def decide(case: dict) -> dict:
        case = await f.moved(client, case, approver, "start_review")
        return await f.moved(client, case, approver, "approve")

    # Accepted 30 days ago (5 working days promised): one decided now, late; one still running, red.
    clock.set(now - timedelta(days=30))
    late, running = await window_case(), await window_case()
    clock.resume()
    await decide(late)
    # Accepted and decided now: on time.
    await decide(await window_case())
    assert running["status"] == "accepted"

    # Two citizens booked the same slot; one came, one did not.
    await f.schedule(cache, setup)
    slot = await f.open_slot(client, setup)
    booked = []
    for person in (citizen, await f.real_name_citizen(client)):
        response = await client.post(
            "/api/v1/appointments", headers=person["headers"], json={"slot_id": slot["id"], "matter_id": matter["id"]}
        )
        assert response.status_code == 201, response.text
        booked.append(response.json())
    start = datetime.fromisoformat(slot["start"])
    await booking.check_in_by_code(code=booked[0]["code"], now=start)
    assert await booking.mark_no_shows(now=datetime.fromisoformat(slot["end"]) + timedelta(minutes=1)) >= 1

    first, last = today - timedelta(days=1), date.fromisoformat(slot["date"])
    # 30 days from acceptance to decision for the late one, none for the other.
    processing = {
        "cases_decided": 2,
        "cases_on_time": 1,
        "cases_on_time_rate": 0.5,
        "cases_average_days": 15.0,
        "cases_overdue_now": 1,
    }
    at_hall = await _hall(client, hall["id"], first, last)
    assert {key: at_hall[key] for key in PROCESSING} == {
        **processing,
        "appointments_due": 2,
        "no_shows": 1,
        "no_show_rate": 0.5,
    }
    for_department = await _department(client, department["id"], first, last)
    assert {key: for_department[key] for key in PROCESSING if key in for_department} == processing
    assert "no_shows" not in for_department  # appointments are published per hall
    # Before the cases were decided and the slot came, the period has nothing decided or missed.
    earlier = await _hall(client, hall["id"], today - timedelta(days=60), today - timedelta(days=40))
    assert (earlier["cases_decided"], earlier["appointments_due"], earlier["cases_overdue_now"]) == (0, 0, 1)
    assert earlier["cases_average_days"] is None


async def test_the_whole_list_says_what_one_departments_page_says(client, cache):
    setup = await f.rating_setup(client, cache)
    department_id = setup["department"]["id"]
    case = await f.ended_case(client, setup)
    await f.rated(client, setup["citizen"], case_id=case["id"], score=2, comment="等了很久")
    today = local_date(datetime.now(UTC))
    whole = await _report(client, "departments", **{"from": today.isoformat(), "to": today.isoformat()})
    listed = [item for item in whole["items"] if item["department_id"] == department_id]
    one = await _department(client, department_id, today, today)
    assert listed == [one]
    assert (one["bad_ratings"], one["rectifications"], one["cases_decided"]) == (1, 1, 1)


async def test_a_caller_asking_many_uncached_reports_is_slowed_down(app, client, cache, settings, monkeypatch):
    from app.stats import routes

    address = f"198.51.100.{uuid.uuid4().int % 250}-{uuid.uuid4().hex[:6]}"
    monkeypatch.setattr(routes, "client_ip", lambda request: address)
    lowered = settings.model_copy(update={"stats": settings.stats.model_copy(update={"computed_per_minute": 2})})
    monkeypatch.setattr(app.ctx, "settings", lowered)
    department = await f.department(cache)

    async def ask(day: str):
        return await client.get(
            "/api/v1/stats/departments", params={"department_id": department["id"], "from": day, "to": day}
        )

    assert (await ask("2026-01-05")).status_code == 200
    assert (await ask("2026-01-06")).status_code == 200
    refused = await ask("2026-01-07")
    error = assert_error_shape(refused, 429, "RATE_LIMITED")
    assert int(refused.headers["retry-after"]) > 0 and error["details"]["retry_after_seconds"] > 0
    # What was already computed is still served to this caller, and another caller is not limited by this one.
    assert (await ask("2026-01-05")).status_code == 200
    monkeypatch.setattr(routes, "client_ip", lambda request: f"{address}-other")
    assert (await ask("2026-01-07")).status_code == 200


async def test_online_and_zero_visit_matters_are_published_by_their_current_guide(client, cache):
    from app.catalog import service as catalog
    from app.catalog.schemas import MatterUpdate
    from app.core.auth import SYSTEM

    department, hall, other_hall = await f.department(cache), await f.hall(cache), await f.hall(cache)
    # Fully online and no visit; online with one visit; only the information online, two visits.
    await f.matter(cache, department_id=department["id"], hall_ids=[hall["id"]], online_depth=4, max_visits=0)
    await f.matter(
        cache, department_id=department["id"], hall_ids=[hall["id"], other_hall["id"]], online_depth=3, max_visits=1
    )
    offline = await f.matter(cache, department_id=department["id"], hall_ids=[hall["id"]], online_depth=1, max_visits=2)
    today = local_date(datetime.now(UTC))
    shares = {
        "matters": 3,
        "online_capable": 2,
        "online_capable_share": 0.6667,
        "zero_visit": 1,
        "zero_visit_share": 0.3333,
    }
    assert {key: (await _department(client, department["id"], today, today))[key] for key in MATTERS} == shares
    assert {key: (await _hall(client, hall["id"], today, today))[key] for key in MATTERS} == shares
    assert {key: (await _hall(client, other_hall["id"], today, today))[key] for key in MATTERS} == {
        "matters": 1,
        "online_capable": 1,
        "online_capable_share": 1.0,
        "zero_visit": 0,
        "zero_visit_share": 0.0,
    }

    # A new version of the offline matter's guide takes it online with no visit; the old version no longer counts.
    update = f.guide_payload(department["id"], [hall["id"]], online_depth=4, max_visits=0)
    await catalog.update_matter(offline["id"], MatterUpdate.model_validate(update), actor=SYSTEM, cache=cache, ttl=60)
    yesterday = today - timedelta(days=1)  # another question than the cached one
    now_online = await _department(client, department["id"], yesterday, today)
    assert {key: now_online[key] for key in MATTERS} == {
        "matters": 3,
        "online_capable": 3,
        "online_capable_share": 1.0,
        "zero_visit": 2,
        "zero_visit_share": 0.6667,
    }
    # A department with no matters publishes no shares rather than zero.
    empty = await _department(client, (await f.department(cache))["id"], today, today)
    assert (empty["matters"], empty["online_capable_share"], empty["zero_visit_share"]) == (0, None, None)


async def test_each_matter_of_a_department_has_its_own_figures(client, cache):
    setup = await f.rating_setup(client, cache)
    department_id, rated_matter = setup["department"]["id"], setup["matter"]
    other_matter = await f.matter(cache, department_id=department_id)
    case = await f.ended_case(client, setup)
    await f.rated(client, setup["citizen"], case_id=case["id"], score=2, comment="材料被退回三次")
    await _feedback(client, setup["citizen"], "complaint", matter_id=other_matter["id"])
    today = local_date(datetime.now(UTC)).isoformat()
    period = {"from": today, "to": today}

    body = await _report(client, "matters", department_id=department_id, **period)
    by_matter = {item["matter_id"]: item for item in body["items"]}
    assert set(by_matter) == {rated_matter["id"], other_matter["id"]}
    rated = by_matter[rated_matter["id"]]
    assert (rated["matter_name"], rated["department_id"]) == (rated_matter["name"], department_id)
    assert _figures(rated) == _expected(
        ratings_by_level={"1": 0, "2": 1, "3": 0, "4": 0, "5": 0},
        rated=1,
        total_ratings=1,
        satisfaction_rate=0.0,
        satisfaction_rate_rated=0.0,
        bad_ratings=1,
        rectifications=1,
    )
    assert rated["cases_decided"] == 1 and "matters" not in rated
    assert _figures(by_matter[other_matter["id"]]) == _expected(feedback=1, complaints=1)
    assert by_matter[other_matter["id"]]["cases_decided"] == 0

    # One matter's page says what the department's list says of it.
    alone = await _report(client, "matters", matter_id=other_matter["id"], **period)
    assert alone["items"] == [by_matter[other_matter["id"]]]
    # A matter asked for under another department is not in that department's list.
    elsewhere = await f.department(cache)
    assert (await _report(client, "matters", department_id=elsewhere["id"], matter_id=other_matter["id"], **period))[
        "items"
    ] == []


async def test_the_matter_report_needs_a_department_or_a_matter(client):
    error = assert_error_shape(await client.get("/api/v1/stats/matters"), 422, "VALIDATION_FAILED")
    assert error["details"]["fields"][0]["field"] == "department_id"
