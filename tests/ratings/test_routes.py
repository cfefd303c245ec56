"""Ratings (好差评) through HTTP, as the mini-program, the department's console and the supervisors use them.

Every test builds its own department, staff and citizens: the database is shared by the whole run, so lists are
read through a fresh department (or a fresh citizen) and never on their first page alone.
"""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from app.booking import service as booking
from app.booking.errors import QueueEmpty
from app.cases.models import Case
from app.core import outbox
from app.core.models import OutboxEvent
from app.core.timeutil import CITY_TZ
from app.core.timeutil import now as clock_now
from app.ratings.models import Rating
from app.tickets import service as tickets
from app.tickets.models import ServiceTicket
from tests import factories as f
from tests.core.test_errors import assert_error_shape
from tests.notifications.test_delivery import _quick, drain

# A Friday afternoon in the city: the call-back is due on Monday, the fix on the next Friday.
FRIDAY = datetime(2026, 11, 27, 16, 0, tzinfo=CITY_TZ)
CALLBACK_DUE = "2026-11-30T23:59:59+08:00"
FIX_DUE = "2026-12-04T23:59:59+08:00"


# ---- helpers ----


async def set_ended_at(case_id: int, moment: datetime) -> None:
    """Move when the case ended (in UTC, as the service writes it)."""
    await Case.filter(id=case_id).update(ended_at=moment.astimezone(UTC))


async def post_rating(client, citizen: dict, key: str | None = None, **body):
    headers = dict(citizen["headers"], **({"Idempotency-Key": key} if key else {}))
    return await client.post("/api/v1/ratings", json=body, headers=headers)


async def finish(client, setup: dict, case: dict, how: str) -> dict:
    """Take a submitted case to one of the ends a citizen may rate."""
    clerk, approver = setup["clerk"], setup["approver"]
    if how == "rejected":
        return await f.moved(client, case, clerk, "reject", note="材料不齐全")
    case = await f.moved(client, case, clerk, "accept")
    case = await f.moved(client, case, approver, "start_review")
    if how == "denied":
        return await f.moved(client, case, approver, "deny", note="不符合条件")
    case = await f.moved(client, case, approver, "approve")
    if how == "delivered":
        case = await f.moved(client, case, clerk, "deliver", method="pickup")
    return case


async def case_view(client, case_id: int, citizen: dict) -> dict:
    response = await client.get(f"/api/v1/cases/{case_id}", headers=citizen["headers"])
    assert response.status_code == 200, response.text
    return response.json()


async def bad_rating(client, setup: dict, *, score: int = 1, comment: str = "窗口人员态度冷漠，来回跑了三趟") -> dict:
    case = await f.ended_case(client, setup)
    return await f.rated(client, setup["citizen"], case_id=case["id"], score=score, comment=comment)


async def step(client, ticket_id: int, action: str, actor: dict, note: str = "已处理"):
    return await client.post(
        f"/api/v1/staff/tickets/{ticket_id}/{action}", json={"note": note}, headers=actor["headers"]
    )


async def stepped(client, ticket_id: int, action: str, actor: dict, note: str = "已处理") -> dict:
    response = await step(client, ticket_id, action, actor, note)
    assert response.status_code == 200, response.text
    return response.json()


def _content(message: dict) -> str:
    return message.get("content") or message.get("text", {}).get("content", "")


async def wecom(client, account: dict, *needles: str) -> list[str]:
    """The WeChat Work alerts this staff member received that mention every needle."""
    response = await client.get("/sim/wecom/messages", params={"userid": account["username"]})
    assert response.status_code == 200, response.text
    texts = [_content(m) for m in response.json()["items"]]
    return [text for text in texts if all(needle in text for needle in needles)]


async def inbox(client, citizen: dict) -> list[dict]:
    response = await client.get("/api/v1/me/messages", params={"page_size": 100}, headers=citizen["headers"])
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def event_kinds(aggregate_type: str, aggregate_id: int) -> list[str]:
    return [event["kind"] for event in await outbox.events_for(aggregate_type, aggregate_id)]


async def department_stats(client, department_id: int) -> dict:
    response = await client.get("/api/v1/stats/departments", params={"department_id": department_id})
    assert response.status_code == 200, response.text
    return next(item for item in response.json()["items"] if item["department_id"] == department_id)


# ---- who may rate what ----


async def test_applicant_rates_every_kind_of_finished_case_and_sees_only_own_ratings(client, cache):
    setup = await f.case_setup(client, cache)
    citizen = setup["citizen"]
    given = []
    for how, score in (("approved", 5), ("denied", 4), ("rejected", 3), ("delivered", 5)):
        case = await finish(client, setup, await f.submitted_case(client, setup), how)
        assert case["status"] == how and (await case_view(client, case["id"], citizen))["rated"] is False
        response = await post_rating(
            client,
            citizen,
            case_id=case["id"],
            score=score,
            dimensions={"efficiency": 5, "attitude": 4},
            tags=[" 一次办成 ", ""],
            comment="" if score == 3 else "很方便",
        )
        assert response.status_code == 201, response.text
        rating = response.json()
        assert (rating["subject_type"], rating["case_id"], rating["appointment_id"]) == ("case", case["id"], None)
        assert (rating["department_id"], rating["matter_id"]) == (setup["department"]["id"], setup["matter"]["id"])
        assert (rating["score"], rating["dimensions"], rating["tags"]) == (
            score,
            {"efficiency": 5, "attitude": 4},
            ["一次办成"],
        )
        assert rating["defaulted"] is False and rating["voided"] is False and rating["appeal_status"] == "none"
        assert rating["ticket"] is None  # a good rating opens no rectification
        assert rating["rated_at"].endswith("+08:00")
        assert (await case_view(client, case["id"], citizen))["rated"] is True
        given.append(rating["id"])

    mine = (await client.get("/api/v1/ratings", headers=citizen["headers"])).json()
    assert mine["total"] == 4 and [r["id"] for r in mine["items"]] == list(reversed(given))
    one = await client.get(f"/api/v1/ratings/{given[0]}", headers=citizen["headers"])
    assert one.status_code == 200 and one.json()["score"] == 5 and "citizen_id" not in one.json()

    # Nobody else sees them: another citizen, staff through the citizen routes, staff of another department.
    stranger = await f.real_name_citizen(client)
    assert (await client.get("/api/v1/ratings", headers=stranger["headers"])).json()["total"] == 0
    assert_error_shape(
        await client.get(f"/api/v1/ratings/{given[0]}", headers=stranger["headers"]), 404, "RATING_NOT_FOUND"
    )
    assert_error_shape(
        await client.get(f"/api/v1/ratings/{given[0]}", headers=setup["clerk"]["headers"]), 403, "FORBIDDEN"
    )
    assert_error_shape(await client.get("/api/v1/ratings"), 401, "UNAUTHORIZED")

    # The department's staff see them, with who rated.
    staff_one = await client.get(f"/api/v1/staff/ratings/{given[0]}", headers=setup["approver"]["headers"])
    assert staff_one.status_code == 200 and staff_one.json()["citizen_id"] == citizen["id"]
    listed = (await client.get("/api/v1/staff/ratings", headers=setup["clerk"]["headers"])).json()
    assert listed["total"] == 4 and sorted(r["id"] for r in listed["items"]) == sorted(given)
    fives = (await client.get("/api/v1/staff/ratings", params={"score": 5}, headers=setup["clerk"]["headers"])).json()
    assert sorted(r["id"] for r in fives["items"]) == sorted([given[0], given[3]])
    other = await f.staff(client, "dept_admin", department_id=(await f.department(cache))["id"])
    assert_error_shape(
        await client.get(f"/api/v1/staff/ratings/{given[0]}", headers=other["headers"]), 404, "RATING_NOT_FOUND"
    )
    assert (await client.get("/api/v1/staff/ratings", headers=other["headers"])).json()["total"] == 0
    assert_error_shape(await client.get("/api/v1/staff/ratings", headers=citizen["headers"]), 403, "FORBIDDEN")


async def test_a_proxy_cannot_rate_in_the_applicants_name_and_the_applicant_still_can(client, cache):
    setup = await f.case_setup(client, cache)
    principal, (proxy, grant) = setup["citizen"], await f.granted_proxy(client, setup, "王五")

    async def filed_by_proxy() -> dict:
        case = await f.draft(client, setup, proxy, on_behalf_of=principal["id"])
        for material_id in setup["required"]:
            assert (await f.upload(client, case["id"], material_id, proxy)).status_code == 201
        submitted = await client.post(f"/api/v1/cases/{case['id']}/submit", headers=proxy["headers"])
        assert submitted.status_code == 200, submitted.text
        return await finish(client, setup, submitted.json(), "approved")

    first, second = await filed_by_proxy(), await filed_by_proxy()
    as_proxy = (await client.get(f"/api/v1/cases/{first['id']}", headers=proxy["headers"])).json()
    as_applicant = (await client.get(f"/api/v1/cases/{first['id']}", headers=principal["headers"])).json()
    assert (as_proxy["can_rate"], as_applicant["can_rate"]) == (False, True)
    # The proxy filed and follows the case, but the service was for the applicant: only they rate it.
    refused = await post_rating(client, proxy, case_id=first["id"], score=1, comment="代办人不满意")
    assert_error_shape(refused, 403, "APPLICANT_RATES_ONLY")
    assert (await client.get("/api/v1/ratings", headers=proxy["headers"])).json()["items"] == []
    rating = await f.rated(client, principal, case_id=first["id"], score=4, comment="办得顺利")
    assert rating["case_id"] == first["id"]
    rated = (await client.get(f"/api/v1/cases/{first['id']}", headers=principal["headers"])).json()
    assert rated["can_rate"] is False and rated["rated"] is True

    revoked = await client.post(f"/api/v1/me/proxies/{grant['id']}/revoke", headers=principal["headers"])
    assert revoked.status_code == 200, revoked.text
    assert_error_shape(await post_rating(client, proxy, case_id=second["id"], score=5), 404, "CASE_NOT_FOUND")
    assert (await f.rated(client, principal, case_id=second["id"], score=5))["case_id"] == second["id"]


async def test_unfinished_withdrawn_others_and_staff_cannot_rate(client, cache):
    setup = await f.case_setup(client, cache)
    citizen = setup["citizen"]
    draft = await f.draft(client, setup)
    refused = assert_error_shape(await post_rating(client, citizen, case_id=draft["id"], score=5), 409, "NOT_RATEABLE")
    assert refused["details"]["status"] == "draft"
    submitted = await f.submitted_case(client, setup)
    assert_error_shape(await post_rating(client, citizen, case_id=submitted["id"], score=5), 409, "NOT_RATEABLE")
    in_review = await f.moved(
        client, await f.moved(client, submitted, setup["clerk"], "accept"), setup["approver"], "start_review"
    )
    refused = assert_error_shape(
        await post_rating(client, citizen, case_id=in_review["id"], score=5), 409, "NOT_RATEABLE"
    )
    assert refused["details"]["status"] == "in_review"
    withdrawn = await f.submitted_case(client, setup)
    response = await client.post(f"/api/v1/cases/{withdrawn['id']}/withdraw", headers=citizen["headers"])
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert_error_shape(
        await post_rating(client, citizen, case_id=withdrawn["id"], score=1, comment="不想办了"), 409, "NOT_RATEABLE"
    )

    ended = await f.ended_case(client, setup)
    stranger = await f.real_name_citizen(client)
    assert_error_shape(
        await post_rating(client, stranger, case_id=ended["id"], score=1, comment="差"), 404, "CASE_NOT_FOUND"
    )
    assert_error_shape(await post_rating(client, citizen, case_id=99_999_999, score=5), 404, "CASE_NOT_FOUND")
    assert_error_shape(await post_rating(client, setup["clerk"], case_id=ended["id"], score=5), 403, "FORBIDDEN")
    assert_error_shape(
        await client.post("/api/v1/ratings", json={"case_id": ended["id"], "score": 5}), 401, "UNAUTHORIZED"
    )
    # None of the refusals wrote anything: the applicant still rates the ended case.
    for case_id in (draft["id"], submitted["id"], withdrawn["id"], ended["id"]):
        assert not await Rating.exists(subject_type="case", subject_id=case_id)
    assert (await case_view(client, ended["id"], citizen))["rated"] is False
    assert (await f.rated(client, citizen, case_id=ended["id"], score=5))["case_id"] == ended["id"]


async def test_bodies_are_validated_and_a_bad_rating_needs_a_reason(client, cache):
    setup = await f.case_setup(client, cache)
    citizen = setup["citizen"]
    case = await f.ended_case(client, setup, decision="deny")
    for body in (
        {"score": 5},  # neither subject
        {"case_id": case["id"], "appointment_id": 1, "score": 5},  # both
        {"case_id": case["id"], "score": 0},
        {"case_id": case["id"], "score": 6},
        {"case_id": case["id"], "score": "5"},
        {"case_id": case["id"]},
        {"case_id": case["id"], "score": 5, "dimensions": {"efficiency": 6}},
        {"case_id": case["id"], "score": 5, "dimensions": {"speed": 5}},
        {"case_id": case["id"], "score": 5, "tags": ["很" * 21]},
        {"case_id": case["id"], "score": 5, "comment": "好" * 501},
        {"case_id": case["id"], "score": 5, "extra": True},
    ):
        assert_error_shape(await post_rating(client, citizen, **body), 422, "VALIDATION_FAILED")
    malformed = await client.post("/api/v1/ratings", content=b"{", headers=citizen["headers"])
    assert malformed.status_code == 400

    for score, comment in ((1, ""), (2, "   ")):
        refused = assert_error_shape(
            await post_rating(client, citizen, case_id=case["id"], score=score, comment=comment), 422, "REASON_REQUIRED"
        )
        assert refused["details"]["fields"][0]["field"] == "comment"
    # Nothing was written: no rating, no ticket, no message, the case is still unrated.
    assert not await Rating.exists(subject_type="case", subject_id=case["id"])
    assert not await ServiceTicket.exists(case_id=case["id"])
    assert not await OutboxEvent.exists(kind="rating.bad", department_id=setup["department"]["id"])
    assert (await case_view(client, case["id"], citizen))["rated"] is False
    rating = await f.rated(client, citizen, case_id=case["id"], score=2, comment="  审批理由没讲清楚  ")
    assert rating["comment"] == "审批理由没讲清楚" and rating["ticket"]["status"] == "open"


async def test_a_case_is_rated_once_even_by_concurrent_posts(client, cache):
    setup = await f.case_setup(client, cache)
    citizen = setup["citizen"]
    case = await f.ended_case(client, setup)
    await f.rated(client, citizen, case_id=case["id"], score=5)
    assert_error_shape(
        await post_rating(client, citizen, case_id=case["id"], score=1, comment="改成差评"), 409, "ALREADY_RATED"
    )

    raced = await f.ended_case(client, setup)
    responses = await asyncio.gather(
        *(post_rating(client, citizen, case_id=raced["id"], score=score, comment="并发") for score in (1, 2, 3, 4, 5))
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409], [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert_error_shape(response, 409, "ALREADY_RATED")
    assert await Rating.filter(subject_type="case", subject_id=raced["id"]).count() == 1
    winner = next(r.json() for r in responses if r.status_code == 201)
    # A bad winner opened exactly one ticket; a good one none.
    assert await ServiceTicket.filter(case_id=raced["id"]).count() == (1 if winner["score"] <= 2 else 0)


async def test_idempotency_key_repeat_returns_the_first_rating(client, cache):
    setup = await f.case_setup(client, cache)
    citizen = setup["citizen"]
    case = await f.ended_case(client, setup)
    first = await post_rating(client, citizen, "rate-once-1", case_id=case["id"], score=2, comment="太慢")
    assert first.status_code == 201, first.text
    again = await post_rating(client, citizen, "rate-once-1", case_id=case["id"], score=5)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"] and again.json()["score"] == 2
    assert again.json()["ticket"]["id"] == first.json()["ticket"]["id"]
    assert_error_shape(
        await post_rating(client, citizen, "rate-once-2", case_id=case["id"], score=5), 409, "ALREADY_RATED"
    )
    # The same key of another citizen is another key.
    other = await f.real_name_citizen(client)
    assert_error_shape(
        await post_rating(client, other, "rate-once-1", case_id=case["id"], score=5), 404, "CASE_NOT_FOUND"
    )
    assert (await client.get("/api/v1/ratings", headers=citizen["headers"])).json()["total"] == 1

    # A retry sent while the first POST is still running gets the same rating, not a conflict.
    raced = await f.ended_case(client, setup)
    responses = await asyncio.gather(
        *(post_rating(client, citizen, "rate-race", case_id=raced["id"], score=1, comment="重复提交") for _ in range(4))
    )
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201], [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert len({r.json()["ticket"]["id"] for r in responses}) == 1


async def test_rating_closes_seven_days_after_the_case_ended(client, cache):
    setup = await f.case_setup(client, cache)
    citizen = setup["citizen"]
    late, in_time = await f.ended_case(client, setup), await f.ended_case(client, setup)
    now = clock_now()
    await set_ended_at(late["id"], now - timedelta(days=7, minutes=5))
    await set_ended_at(in_time["id"], now - timedelta(days=6, hours=23))
    refused = assert_error_shape(await post_rating(client, citizen, case_id=late["id"], score=5), 409, "RATING_CLOSED")
    assert refused["details"]["period_days"] == 7
    assert (await case_view(client, late["id"], citizen))["rated"] is False
    assert (await f.rated(client, citizen, case_id=in_time["id"], score=4))["score"] == 4


# ---- appointments ----


async def _checked_in(client, cache, setup: dict | None = None) -> tuple[dict, dict, dict]:
    """A citizen's appointment at a fresh bookable matter, checked in at the slot's start; (setup, citizen, it)."""
    if setup is None:
        setup = await f.bookable_matter(cache)
        await f.schedule(cache, setup, capacity=5)
    slot = await f.open_slot(client, setup)
    citizen = await f.real_name_citizen(client)
    created = await client.post(
        "/api/v1/appointments",
        headers=citizen["headers"],
        json={"slot_id": slot["id"], "matter_id": setup["matter"]["id"]},
    )
    assert created.status_code == 201, created.text
    appointment = created.json()
    assert_error_shape(
        await post_rating(client, citizen, appointment_id=appointment["id"], score=5), 409, "NOT_RATEABLE"
    )
    await booking.check_in_by_code(code=appointment["code"], now=datetime.fromisoformat(slot["start"]))
    return setup, citizen, appointment | {"slot": slot}


async def test_a_checked_in_or_served_appointment_is_rated_once_by_its_citizen(client, cache, clock):
    setup, citizen, appointment = await _checked_in(client, cache)
    start = datetime.fromisoformat(appointment["slot"]["start"])
    clock.set(start + timedelta(hours=1))
    stranger = await f.real_name_citizen(client)
    assert_error_shape(
        await post_rating(client, stranger, appointment_id=appointment["id"], score=5), 404, "APPOINTMENT_NOT_FOUND"
    )
    clerk = await f.staff(client, "clerk", department_id=setup["department"]["id"])
    assert_error_shape(await post_rating(client, clerk, appointment_id=appointment["id"], score=5), 403, "FORBIDDEN")
    rating = await f.rated(client, citizen, appointment_id=appointment["id"], score=5, tags=["等候时间短"])
    assert (rating["subject_type"], rating["appointment_id"], rating["case_id"]) == (
        "appointment",
        appointment["id"],
        None,
    )
    assert (rating["department_id"], rating["hall_id"]) == (setup["department"]["id"], setup["hall"]["id"])
    assert_error_shape(
        await post_rating(client, citizen, appointment_id=appointment["id"], score=4), 409, "ALREADY_RATED"
    )

    # Served and finished at the window (done): rateable too; a bad rating opens a ticket without a case.
    clock.resume()  # the booking helpers take the next day's slot by today's real date
    _, second, served = await _checked_in(client, cache, setup)
    hall_id = setup["hall"]["id"]
    with pytest.raises(QueueEmpty):  # each call finishes the one served at window 1, until nobody waits
        for minutes in range(0, 60, 10):
            await booking.call_next(hall_id=hall_id, window=1, now=start + timedelta(minutes=minutes))
    clock.set(start + timedelta(hours=1))
    done = (await client.get(f"/api/v1/appointments/{served['id']}", headers=second["headers"])).json()
    assert done["status"] == "done"
    bad = await f.rated(client, second, appointment_id=served["id"], score=1, comment="叫号后窗口无人")
    assert bad["ticket"]["case_id"] is None and bad["ticket"]["hall_id"] == hall_id
    assert bad["ticket"]["department_id"] == setup["department"]["id"]

    # Seven days after the check-in, rating is closed.
    clock.resume()
    _, third, late = await _checked_in(client, cache, setup)
    clock.set(start + timedelta(days=7, minutes=1))
    assert_error_shape(await post_rating(client, third, appointment_id=late["id"], score=5), 409, "RATING_CLOSED")


# ---- the bad rating's rectification ----


async def test_bad_rating_ticket_life_with_deadlines_across_a_weekend(app, client, cache, settings, clock):
    setup = await f.rating_setup(client, cache)
    citizen, clerk, approver = setup["citizen"], setup["clerk"], setup["approver"]
    case = await f.ended_case(client, setup)
    await set_ended_at(case["id"], FRIDAY - timedelta(hours=6))
    clock.set(FRIDAY)
    rating = await f.rated(client, citizen, case_id=case["id"], score=2, comment="指南写的材料和窗口要的不一样")
    ticket = rating["ticket"]
    assert rating["rated_at"] == "2026-11-27T16:00:00+08:00"
    assert (ticket["kind"], ticket["status"], ticket["rating_id"], ticket["case_id"]) == (
        "rectification",
        "open",
        rating["id"],
        case["id"],
    )
    assert (ticket["callback_due_at"], ticket["fix_due_at"], ticket["due_at"]) == (CALLBACK_DUE, FIX_DUE, CALLBACK_DUE)
    assert ticket["content"] == "指南写的材料和窗口要的不一样" and ticket["is_overdue"] is False

    # The department's queue holds it; another department's does not, nor may it act on it.
    queue = (
        await client.get("/api/v1/staff/tickets", params={"kind": "rectification"}, headers=clerk["headers"])
    ).json()
    assert [t["id"] for t in queue["items"]] == [ticket["id"]] and queue["items"][0]["allowed_actions"] == ["callback"]
    supervised = (
        await client.get(
            "/api/v1/staff/tickets",
            params={"department_id": setup["department"]["id"]},
            headers=setup["supervisor"]["headers"],
        )
    ).json()
    assert [t["id"] for t in supervised["items"]] == [ticket["id"]]
    outsider = await f.staff(client, "clerk", department_id=(await f.department(cache))["id"])
    assert (await client.get("/api/v1/staff/tickets", headers=outsider["headers"])).json()["total"] == 0
    assert_error_shape(
        await client.get(f"/api/v1/staff/tickets/{ticket['id']}", headers=outsider["headers"]), 404, "TICKET_NOT_FOUND"
    )
    assert_error_shape(await step(client, ticket["id"], "callback", outsider), 404, "TICKET_NOT_FOUND")
    # The citizen cannot record the call-back; a supervisor is not the department; the order is enforced.
    assert_error_shape(await step(client, ticket["id"], "callback", citizen), 403, "FORBIDDEN")
    assert_error_shape(await step(client, ticket["id"], "callback", setup["supervisor"]), 403, "ROLE_NOT_ALLOWED")
    assert_error_shape(await step(client, ticket["id"], "fix", clerk), 409, "ILLEGAL_TRANSITION")
    assert_error_shape(await step(client, ticket["id"], "callback", clerk, note=""), 422, "VALIDATION_FAILED")
    assert_error_shape(
        await client.post(f"/api/v1/ratings/{rating['id']}/fix-rating", json={"score": 5}, headers=citizen["headers"]),
        409,
        "ILLEGAL_TRANSITION",
    )

    # Monday: the call-back, on time.
    clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=CITY_TZ))
    called = await stepped(client, ticket["id"], "callback", clerk, "已电话回访，群众反映材料清单不一致")
    assert (called["status"], called["called_back_at"], called["due_at"]) == (
        "called_back",
        "2026-11-30T10:00:00+08:00",
        FIX_DUE,
    )
    assert_error_shape(await step(client, ticket["id"], "callback", clerk), 409, "ILLEGAL_TRANSITION")
    # Thursday: the fix.
    clock.set(datetime(2026, 12, 3, 15, 0, tzinfo=CITY_TZ))
    fixed = await stepped(client, ticket["id"], "fix", approver, "已统一线上指南与窗口材料清单")
    assert (fixed["status"], fixed["fixed_at"], fixed["due_at"]) == ("fixed", "2026-12-03T15:00:00+08:00", None)
    assert fixed["answer_due_at"] == "2026-12-10T15:00:00+08:00"  # a week for the citizen to rate the fix
    assert fixed["reply"] == "已统一线上指南与窗口材料清单"

    # The citizen sees every step and rates the fix.
    seen = (await client.get(f"/api/v1/ratings/{rating['id']}", headers=citizen["headers"])).json()
    assert [(e["action"], e["to"], e["actor"]) for e in seen["ticket"]["entries"]] == [
        ("open", "open", "system"),
        ("callback", "called_back", "department"),
        ("fix", "fixed", "department"),
    ]
    assert [e["note"] for e in seen["ticket"]["entries"]][1:] == [
        "已电话回访，群众反映材料清单不一致",
        "已统一线上指南与窗口材料清单",
    ]
    assert all("actor_id" not in e for e in seen["ticket"]["entries"])
    assert seen["ticket"]["allowed_actions"] == ["rate_fix"]
    stranger = await f.real_name_citizen(client)
    assert_error_shape(
        await client.post(f"/api/v1/ratings/{rating['id']}/fix-rating", json={"score": 5}, headers=stranger["headers"]),
        404,
        "RATING_NOT_FOUND",
    )
    assert_error_shape(
        await client.post(f"/api/v1/ratings/{rating['id']}/fix-rating", json={"score": 6}, headers=citizen["headers"]),
        422,
        "VALIDATION_FAILED",
    )
    assert_error_shape(
        await client.post(f"/api/v1/ratings/{rating['id']}/fix-rating", json={"score": 5}, headers=clerk["headers"]),
        403,
        "FORBIDDEN",
    )
    rated_fix = await client.post(
        f"/api/v1/ratings/{rating['id']}/fix-rating",
        json={"score": 4, "comment": "现在一致了"},
        headers=citizen["headers"],
    )
    assert rated_fix.status_code == 200, rated_fix.text
    closed = rated_fix.json()["ticket"]
    assert (closed["status"], closed["fix_score"], closed["fix_comment"]) == ("closed", 4, "现在一致了")
    assert closed["entries"][-1]["action"] == "rate_fix" and closed["entries"][-1]["actor"] == "citizen"
    assert rated_fix.json()["score"] == 2  # the rating itself stands
    assert_error_shape(
        await client.post(f"/api/v1/ratings/{rating['id']}/fix-rating", json={"score": 5}, headers=citizen["headers"]),
        409,
        "ILLEGAL_TRANSITION",
    )
    assert_error_shape(await step(client, ticket["id"], "fix", clerk), 409, "ILLEGAL_TRANSITION")

    # The citizen was told at every step; the department's admin heard of the bad rating, the clerk did not.
    await drain(app, _quick(settings))
    titles = [m["title"] for m in await inbox(client, citizen)]
    assert {"评价已收到", "差评回访", "整改结果"} <= set(titles)
    received = next(m for m in await inbox(client, citizen) if m["title"] == "评价已收到")
    assert "2026-11-30" in received["body"] and "2026-12-04" in received["body"]
    assert len(await wecom(client, setup["dept_admin"], "差评", f"工单 {ticket['id']}）")) == 1
    assert await wecom(client, clerk, f"工单 {ticket['id']}）") == []


async def test_a_good_rating_has_no_fix_to_rate(client, cache):
    setup = await f.case_setup(client, cache)
    rating = await f.rated(client, setup["citizen"], case_id=(await f.ended_case(client, setup))["id"], score=4)
    assert_error_shape(
        await client.post(
            f"/api/v1/ratings/{rating['id']}/fix-rating", json={"score": 5}, headers=setup["citizen"]["headers"]
        ),
        409,
        "ILLEGAL_TRANSITION",
    )
    assert_error_shape(
        await client.post(
            "/api/v1/ratings/99999999/fix-rating", json={"score": 5}, headers=setup["citizen"]["headers"]
        ),
        404,
        "RATING_NOT_FOUND",
    )


async def test_overdue_steps_alert_the_department_admin_and_supervisors_once(app, client, cache, settings, clock):
    setup = await f.rating_setup(client, cache)
    other_admin = await f.staff(client, "dept_admin", department_id=(await f.department(cache))["id"])
    case = await f.ended_case(client, setup)
    await set_ended_at(case["id"], FRIDAY - timedelta(hours=6))
    clock.set(FRIDAY)
    rating = await f.rated(client, setup["citizen"], case_id=case["id"], score=1, comment="等了两个小时")
    ticket_id = rating["ticket"]["id"]
    await drain(app, _quick(settings))  # the bad-rating alert first, so the ones below are the only new ones

    async def overdue_alerts(account, title) -> list[str]:
        return await wecom(client, account, f"【{title}】", f"工单 {ticket_id}（")

    # Monday 23:59 local is still in time.
    await tickets.announce_overdue(now=datetime(2026, 11, 30, 23, 59, tzinfo=CITY_TZ).astimezone(UTC))
    assert "ticket.callback_overdue" not in await event_kinds("ticket", ticket_id)
    # Tuesday just after midnight: overdue. Two runs (or two workers) alert once.
    tuesday = datetime(2026, 12, 1, 0, 0, 30, tzinfo=CITY_TZ)
    await tickets.announce_overdue(now=tuesday.astimezone(UTC))
    await tickets.announce_overdue(now=(tuesday + timedelta(hours=1)).astimezone(UTC))
    assert (await event_kinds("ticket", ticket_id)).count("ticket.callback_overdue") == 1
    await drain(app, _quick(settings))
    clock.set(tuesday + timedelta(hours=9))
    late = (
        await client.get("/api/v1/staff/tickets", params={"overdue": "true"}, headers=setup["dept_admin"]["headers"])
    ).json()
    assert [(t["id"], t["is_overdue"]) for t in late["items"]] == [(ticket_id, True)]
    for account in (setup["dept_admin"], setup["supervisor"]):
        alerts = await overdue_alerts(account, "差评回访超期")
        assert len(alerts) == 1 and "2026-11-30" in alerts[0]
    for account in (setup["clerk"], setup["approver"], other_admin):
        assert await overdue_alerts(account, "差评回访超期") == []

    # The late call-back; then the fix deadline passes the next Friday night.
    called = await stepped(client, ticket_id, "callback", setup["clerk"], "已回访致歉")
    assert called["due_at"] == FIX_DUE and called["is_overdue"] is False
    await tickets.announce_overdue(now=datetime(2026, 12, 4, 23, 0, tzinfo=CITY_TZ).astimezone(UTC))
    assert "ticket.fix_overdue" not in await event_kinds("ticket", ticket_id)
    saturday = datetime(2026, 12, 5, 0, 0, 30, tzinfo=CITY_TZ)
    for _ in range(2):
        await tickets.announce_overdue(now=saturday.astimezone(UTC))
    await drain(app, _quick(settings))
    for _ in range(2):
        await tickets.announce_overdue(now=(saturday + timedelta(days=2)).astimezone(UTC))
    await drain(app, _quick(settings))
    assert (await event_kinds("ticket", ticket_id)).count("ticket.fix_overdue") == 1
    for account in (setup["dept_admin"], setup["supervisor"]):
        alerts = await overdue_alerts(account, "差评整改超期")
        assert len(alerts) == 1 and "2026-12-04" in alerts[0]
        assert len(await overdue_alerts(account, "差评回访超期")) == 1
    assert await overdue_alerts(setup["clerk"], "差评整改超期") == []
    assert await overdue_alerts(other_admin, "差评整改超期") == []

    # Once fixed, nothing more is owed and nothing more is announced.
    clock.set(saturday + timedelta(days=2, hours=10))
    fixed = await stepped(client, ticket_id, "fix", setup["clerk"], "已整改")
    assert fixed["due_at"] is None and fixed["is_overdue"] is False
    await tickets.announce_overdue(now=(saturday + timedelta(days=30)).astimezone(UTC))
    kinds = await event_kinds("ticket", ticket_id)
    assert (kinds.count("ticket.callback_overdue"), kinds.count("ticket.fix_overdue")) == (1, 1)


# ---- appeals ----


async def test_appeal_refusals_and_a_supervisor_upholding_the_rating(app, client, cache, settings):
    setup = await f.rating_setup(client, cache)
    citizen, admin, supervisor = setup["citizen"], setup["dept_admin"], setup["supervisor"]
    rating = await bad_rating(client, setup)
    path = f"/api/v1/staff/ratings/{rating['id']}/appeal"
    reason = {"reason": "该群众在同日以相同内容连续差评多个部门，疑似恶意"}

    assert_error_shape(await client.post(path, json=reason, headers=setup["clerk"]["headers"]), 403, "FORBIDDEN")
    assert_error_shape(await client.post(path, json=reason, headers=supervisor["headers"]), 403, "FORBIDDEN")
    assert_error_shape(await client.post(path, json=reason, headers=citizen["headers"]), 403, "FORBIDDEN")
    other_admin = await f.staff(client, "dept_admin", department_id=(await f.department(cache))["id"])
    assert_error_shape(await client.post(path, json=reason, headers=other_admin["headers"]), 404, "RATING_NOT_FOUND")
    assert_error_shape(
        await client.post("/api/v1/staff/ratings/99999999/appeal", json=reason, headers=admin["headers"]),
        404,
        "RATING_NOT_FOUND",
    )
    assert_error_shape(await client.post(path, json={"reason": ""}, headers=admin["headers"]), 422, "VALIDATION_FAILED")
    decision = f"/api/v1/staff/ratings/{rating['id']}/appeal/decision"
    # Nothing to decide before an appeal.
    assert_error_shape(
        await client.post(decision, json={"decision": "void", "note": "无"}, headers=supervisor["headers"]),
        409,
        "ILLEGAL_TRANSITION",
    )
    # A good rating cannot be appealed.
    good = await f.rated(client, citizen, case_id=(await f.ended_case(client, setup))["id"], score=5)
    assert_error_shape(
        await client.post(f"/api/v1/staff/ratings/{good['id']}/appeal", json=reason, headers=admin["headers"]),
        409,
        "ILLEGAL_TRANSITION",
    )

    appealed = await client.post(path, json=reason, headers=admin["headers"])
    assert appealed.status_code == 200, appealed.text
    assert appealed.json()["appeal_status"] == "pending" and appealed.json()["appeal_reason"] == reason["reason"]
    assert_error_shape(await client.post(path, json=reason, headers=admin["headers"]), 409, "ILLEGAL_TRANSITION")
    pending = (
        await client.get(
            "/api/v1/staff/ratings",
            params={"appeal_status": "pending", "department_id": setup["department"]["id"]},
            headers=supervisor["headers"],
        )
    ).json()
    assert [r["id"] for r in pending["items"]] == [rating["id"]]

    # Only a supervisor decides, with a note and a known decision.
    assert_error_shape(
        await client.post(decision, json={"decision": "void", "note": "x"}, headers=admin["headers"]), 403, "FORBIDDEN"
    )
    assert_error_shape(
        await client.post(decision, json={"decision": "maybe", "note": "x"}, headers=supervisor["headers"]),
        422,
        "VALIDATION_FAILED",
    )
    assert_error_shape(
        await client.post(decision, json={"decision": "uphold", "note": ""}, headers=supervisor["headers"]),
        422,
        "VALIDATION_FAILED",
    )
    upheld = await client.post(
        decision, json={"decision": "uphold", "note": "经核实，群众所述属实"}, headers=supervisor["headers"]
    )
    assert upheld.status_code == 200, upheld.text
    assert (upheld.json()["appeal_status"], upheld.json()["voided"]) == ("upheld", False)
    assert upheld.json()["ticket"]["status"] == "open" and upheld.json()["ticket"]["voided"] is False
    for again in ("uphold", "void"):
        assert_error_shape(
            await client.post(decision, json={"decision": again, "note": "再议"}, headers=supervisor["headers"]),
            409,
            "ILLEGAL_TRANSITION",
        )
    assert_error_shape(await client.post(path, json=reason, headers=admin["headers"]), 409, "ILLEGAL_TRANSITION")

    # The rating stands in the published figures; the citizen is not told about staff business.
    stats = await department_stats(client, setup["department"]["id"])
    assert (stats["bad_ratings"], stats["voided_ratings"], stats["ratings_by_level"]["1"]) == (1, 0, 1)
    assert stats["ratings_by_level"]["5"] == 1
    await drain(app, _quick(settings))
    assert "差评复核结果" not in [m["title"] for m in await inbox(client, citizen)]
    assert len(await wecom(client, supervisor, "差评申诉待复核", f"评价 {rating['id']}）")) == 1
    assert len(await wecom(client, admin, "维持原评价", f"评价 {rating['id']} ")) == 1


async def test_a_voided_rating_leaves_the_statistics_but_stays_in_the_record(app, client, cache, settings):
    setup = await f.rating_setup(client, cache)
    citizen, admin, supervisor = setup["citizen"], setup["dept_admin"], setup["supervisor"]
    rating = await bad_rating(client, setup, score=2, comment="恶意")
    ticket_id = rating["ticket"]["id"]
    await stepped(client, ticket_id, "callback", setup["clerk"], "群众拒绝沟通")
    appealed = await client.post(
        f"/api/v1/staff/ratings/{rating['id']}/appeal",
        json={"reason": "回访录音显示与办件无关"},
        headers=admin["headers"],
    )
    assert appealed.status_code == 200, appealed.text
    voided = await client.post(
        f"/api/v1/staff/ratings/{rating['id']}/appeal/decision",
        json={"decision": "void", "note": "评价内容与办件无关"},
        headers=supervisor["headers"],
    )
    assert voided.status_code == 200, voided.text
    body = voided.json()
    assert (body["appeal_status"], body["voided"], body["decision_note"]) == ("voided", True, "评价内容与办件无关")
    assert (body["ticket"]["status"], body["ticket"]["voided"], body["ticket"]["due_at"]) == ("closed", True, None)
    assert body["ticket"]["entries"][-1]["action"] == "void"
    assert_error_shape(
        await client.post(
            f"/api/v1/staff/ratings/{rating['id']}/appeal/decision",
            json={"decision": "void", "note": "再议"},
            headers=supervisor["headers"],
        ),
        409,
        "ILLEGAL_TRANSITION",
    )

    # Still in the record: the staff list, the citizen's own list (marked voided); the ticket is over.
    listed = (await client.get("/api/v1/staff/ratings", headers=admin["headers"])).json()
    assert [(r["id"], r["voided"]) for r in listed["items"]] == [(rating["id"], True)]
    voided_list = (
        await client.get(
            "/api/v1/staff/ratings",
            params={"appeal_status": "voided", "department_id": setup["department"]["id"]},
            headers=supervisor["headers"],
        )
    ).json()
    assert [r["id"] for r in voided_list["items"]] == [rating["id"]]
    mine = (await client.get(f"/api/v1/ratings/{rating['id']}", headers=citizen["headers"])).json()
    assert (mine["voided"], mine["score"], mine["comment"]) == (True, 2, "恶意")
    assert_error_shape(await step(client, ticket_id, "fix", setup["clerk"]), 409, "ILLEGAL_TRANSITION")
    assert_error_shape(
        await client.post(f"/api/v1/ratings/{rating['id']}/fix-rating", json={"score": 1}, headers=citizen["headers"]),
        409,
        "ILLEGAL_TRANSITION",
    )
    stats = await department_stats(client, setup["department"]["id"])
    assert (stats["bad_ratings"], stats["voided_ratings"], stats["rated"]) == (0, 1, 0)
    assert stats["rectifications"] == 0

    # The citizen hears of it, with the reason.
    await drain(app, _quick(settings))
    told = [m for m in await inbox(client, citizen) if m["title"] == "差评复核结果"]
    assert len(told) == 1 and "评价内容与办件无关" in told[0]["body"]
    assert told[0]["subject"] == {"type": "rating", "id": rating["id"]}
    assert len(await wecom(client, admin, "认定无效", f"评价 {rating['id']} ")) == 1


async def test_rating_routes_are_in_the_openapi_document(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in (
        "/api/v1/ratings",
        "/api/v1/ratings/{rating_id}",
        "/api/v1/ratings/{rating_id}/fix-rating",
        "/api/v1/staff/ratings",
        "/api/v1/staff/ratings/{rating_id}",
        "/api/v1/staff/ratings/{rating_id}/appeal",
        "/api/v1/staff/ratings/{rating_id}/appeal/decision",
    ):
        assert path in paths, path
    staff_view = paths["/api/v1/staff/ratings/{rating_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert {"citizen_id", "appeal_reason", "ticket", "voided"} <= set(staff_view["schema"]["properties"])
    created = paths["/api/v1/ratings"]["post"]["responses"]
    assert {"201", "403", "404", "409", "422"} <= set(created)


async def test_a_fix_the_citizen_never_rates_closes_after_the_answer_window(client, cache, settings):
    setup = await f.rating_setup(client, cache)
    case = await f.ended_case(client, setup)
    rating = await f.rated(client, setup["citizen"], case_id=case["id"], score=1, comment="态度很差")
    ticket_id = rating["ticket"]["id"]
    await stepped(client, ticket_id, "callback", setup["clerk"], "已回访")
    fixed = await stepped(client, ticket_id, "fix", setup["clerk"], "已对窗口人员批评教育")
    window_ends = datetime.fromisoformat(fixed["answer_due_at"])
    assert window_ends - datetime.fromisoformat(fixed["fixed_at"]) == timedelta(days=settings.feedback.answer_days)

    await tickets.close_unanswered(now=window_ends - timedelta(minutes=1))
    assert (await ServiceTicket.get(id=ticket_id)).status == "fixed"
    await tickets.close_unanswered(now=window_ends + timedelta(minutes=1))
    seen = (await client.get(f"/api/v1/ratings/{rating['id']}", headers=setup["citizen"]["headers"])).json()
    closed = seen["ticket"]
    assert (closed["status"], closed["fix_score"], closed["answer_due_at"]) == ("closed", None, None)
    assert closed["close_reason"] == tickets.LAPSE_NOTE and closed["allowed_actions"] == []
    assert (closed["entries"][-1]["action"], closed["entries"][-1]["actor"]) == ("lapse", "system")
    assert_error_shape(
        await client.post(
            f"/api/v1/ratings/{rating['id']}/fix-rating", json={"score": 5}, headers=setup["citizen"]["headers"]
        ),
        409,
        "ILLEGAL_TRANSITION",
    )
