"""Feedback (咨询/投诉/建议) and the staff ticket queue through HTTP, as the mini-program and the console use them."""

import asyncio
import re
from datetime import UTC, datetime, timedelta

from app.core import outbox, workdays
from app.core.timeutil import CITY_TZ
from app.tickets import service as tickets
from tests import factories as f
from tests.core.test_errors import assert_error_shape
from tests.notifications.test_delivery import _quick, _sim_messages, _subscribed_citizen, _values, drain

UTC = UTC
# A Friday afternoon in the city: the reply deadlines run over the weekend.
FRIDAY = datetime(2026, 11, 27, 16, 0, tzinfo=CITY_TZ)


async def _setup(client, cache) -> dict:
    """A department with a matter, its clerk and admin, a supervisor, a citizen, and a clerk of another department."""
    setup = await f.rating_setup(client, cache)
    other = await f.department(cache)
    setup["other_department"] = other
    setup["outsider"] = await f.staff(client, "clerk", department_id=other["id"])
    return setup


async def _file(client, citizen: dict, kind: str = "complaint", content: str = "窗口让我跑了三趟", **subject):
    return await client.post(
        "/api/v1/feedback", headers=citizen["headers"], json={"kind": kind, "content": content, **subject}
    )


async def _filed(client, citizen: dict, kind: str = "complaint", **subject) -> dict:
    response = await _file(client, citizen, kind, **subject)
    assert response.status_code == 201, response.text
    return response.json()


async def _reply(client, staff: dict, ticket: dict, content: str = "已核实，下周起窗口一次告知所需材料", **body):
    return await client.post(
        f"/api/v1/staff/tickets/{ticket['id']}/reply", headers=staff["headers"], json={"content": content, **body}
    )


async def _replied(client, staff: dict, ticket: dict, content: str = "已核实，下周起窗口一次告知所需材料") -> dict:
    response = await _reply(client, staff, ticket, content)
    assert response.status_code == 200, response.text
    return response.json()


async def _reopened(client, citizen: dict, ticket: dict, reason: str = "仍未解决") -> dict:
    response = await client.post(
        f"/api/v1/feedback/{ticket['id']}/reopen", headers=citizen["headers"], json={"reason": reason}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _mine(client, citizen: dict, ticket_id: int) -> dict:
    response = await client.get(f"/api/v1/feedback/{ticket_id}", headers=citizen["headers"])
    assert response.status_code == 200, response.text
    return response.json()


async def _staff_view(client, staff: dict, ticket_id: int) -> dict:
    response = await client.get(f"/api/v1/staff/tickets/{ticket_id}", headers=staff["headers"])
    assert response.status_code == 200, response.text
    return response.json()


async def _queue(client, staff: dict, **params) -> list[dict]:
    items: list[dict] = []
    page = 1
    while True:
        response = await client.get(
            "/api/v1/staff/tickets", headers=staff["headers"], params={**params, "page": page, "page_size": 100}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        if len(items) >= body["total"] or not body["items"]:
            return items
        page += 1


async def _queue_ids(client, staff: dict, **params) -> list[int]:
    return [item["id"] for item in await _queue(client, staff, **params)]


async def _wecom(client, staff: dict) -> list[str]:
    response = await client.get("/sim/wecom/messages", params={"userid": staff["username"]})
    assert response.status_code == 200, response.text
    return [m.get("content") or m.get("text", {}).get("content", "") for m in response.json()["items"]]


async def _about(client, staff: dict, ticket_id: int) -> list[str]:
    """The WeChat Work alerts this staff member received about this ticket."""
    return [text for text in await _wecom(client, staff) if re.search(rf"工单 {ticket_id}(?!\d)", text)]


async def _inbox(client, citizen: dict, ticket_id: int) -> list[dict]:
    response = await client.get("/api/v1/me/messages", headers=citizen["headers"], params={"page_size": 100})
    assert response.status_code == 200, response.text
    return [m for m in response.json()["items"] if m["subject"] == {"type": "ticket", "id": ticket_id}]


async def _event_kinds(ticket_id: int) -> list[str]:
    return [event["kind"] for event in await outbox.events_for("ticket", ticket_id)]


def _iso(moment: datetime) -> str:
    return moment.astimezone(CITY_TZ).isoformat(timespec="seconds")


# ---- filing and routing ----


async def test_feedback_about_a_matter_goes_to_the_matters_department(app, client, cache, settings):
    setup = await _setup(client, cache)
    ticket = await _filed(client, setup["citizen"], "complaint", matter_id=setup["matter"]["id"])
    assert ticket["kind"] == "complaint" and ticket["kind_name"] == "投诉"
    assert ticket["status"] == "open" and ticket["department_id"] == setup["department"]["id"]
    assert ticket["matter_id"] == setup["matter"]["id"] and ticket["case_id"] is None
    assert ticket["reply_due_at"] == ticket["due_at"] and ticket["is_overdue"] is False
    assert ticket["allowed_actions"] == []  # nothing for the citizen to do until the department answers
    assert [e["action"] for e in ticket["entries"]] == ["file"]

    assert ticket["id"] in await _queue_ids(client, setup["clerk"])
    seen = await _staff_view(client, setup["clerk"], ticket["id"])
    assert seen["citizen_id"] == setup["citizen"]["id"] and seen["allowed_actions"] == ["reply"]
    # Another department's staff neither list it nor open it.
    assert ticket["id"] not in await _queue_ids(client, setup["outsider"])
    assert_error_shape(
        await client.get(f"/api/v1/staff/tickets/{ticket['id']}", headers=setup["outsider"]["headers"]),
        404,
        "TICKET_NOT_FOUND",
    )

    await drain(app, _quick(settings))
    assert len(await _about(client, setup["dept_admin"], ticket["id"])) == 1  # feedback.created: the admin answers
    assert await _about(client, setup["clerk"], ticket["id"]) == []
    inbox = await _inbox(client, setup["citizen"], ticket["id"])
    assert [m["title"] for m in inbox] == ["留言已受理"]
    assert ticket["reply_due_at"][:10] in inbox[0]["body"]


async def test_feedback_about_my_own_case_goes_to_the_cases_department(client, cache):
    setup = await _setup(client, cache)
    case = await f.submitted_case(client, setup)
    ticket = await _filed(client, setup["citizen"], "consult", case_id=case["id"])
    assert ticket["department_id"] == setup["department"]["id"]
    assert ticket["case_id"] == case["id"] and ticket["matter_id"] == setup["matter"]["id"]
    assert ticket["id"] in await _queue_ids(client, setup["clerk"])


async def test_feedback_about_someone_elses_case_or_an_unknown_subject_is_404(client, cache):
    setup = await _setup(client, cache)
    case = await f.submitted_case(client, setup)
    stranger = await f.real_name_citizen(client, "李四")
    assert_error_shape(await _file(client, stranger, case_id=case["id"]), 404, "CASE_NOT_FOUND")
    assert_error_shape(await _file(client, stranger, case_id=99_999_999), 404, "CASE_NOT_FOUND")
    assert_error_shape(await _file(client, stranger, matter_id=99_999_999), 404, "MATTER_NOT_FOUND")
    # The case and the matter must agree.
    other_matter = await f.matter(cache, department_id=setup["other_department"]["id"])
    mismatch = await _file(client, setup["citizen"], case_id=case["id"], matter_id=other_matter["id"])
    assert_error_shape(mismatch, 422, "SUBJECT_MISMATCH")
    listed = (await client.get("/api/v1/feedback", headers=stranger["headers"])).json()
    assert listed["total"] == 0


async def test_feedback_body_is_validated_and_only_citizens_file_it(client, cache):
    setup = await _setup(client, cache)
    citizen = setup["citizen"]
    assert_error_shape(await _file(client, citizen, "praise"), 422, "VALIDATION_FAILED")
    assert_error_shape(await _file(client, citizen, "consult", content="   "), 422, "VALIDATION_FAILED")
    assert_error_shape(await _file(client, citizen, "consult", content="x" * 1001), 422, "VALIDATION_FAILED")
    assert_error_shape(await _file(client, citizen, "consult", matter_id="1"), 422, "VALIDATION_FAILED")
    assert_error_shape(
        await client.get("/api/v1/feedback", headers=citizen["headers"], params={"status": "done"}),
        422,
        "VALIDATION_FAILED",
    )
    assert (await client.post("/api/v1/feedback", json={"kind": "consult", "content": "x"})).status_code == 401
    assert_error_shape(await _file(client, setup["clerk"], "consult"), 403, "FORBIDDEN")
    assert_error_shape(await client.get("/api/v1/staff/tickets", headers=citizen["headers"]), 403, "FORBIDDEN")
    assert (await client.get("/api/v1/staff/tickets")).status_code == 401


async def test_feedback_without_subject_waits_for_a_supervisor_who_assigns_it(app, client, cache, settings):
    setup = await _setup(client, cache)
    ticket = await _filed(client, setup["citizen"], "suggestion", content="希望大厅延长周六开放时间")
    assert ticket["department_id"] is None and ticket["status"] == "open"
    # No department sees it; the supervisors do.
    for staff in (setup["clerk"], setup["dept_admin"], setup["outsider"]):
        assert_error_shape(
            await client.get(f"/api/v1/staff/tickets/{ticket['id']}", headers=staff["headers"]), 404, "TICKET_NOT_FOUND"
        )
        assert ticket["id"] not in await _queue_ids(client, staff)
    seen = await _staff_view(client, setup["supervisor"], ticket["id"])
    assert seen["allowed_actions"] == ["reply", "assign", "close"]
    await drain(app, _quick(settings))
    assert len(await _about(client, setup["supervisor"], ticket["id"])) == 1  # feedback.unrouted

    # Only a supervisor assigns, and only to a real department.
    url = f"/api/v1/staff/tickets/{ticket['id']}/assign"
    assert_error_shape(
        await client.post(
            url, headers=setup["dept_admin"]["headers"], json={"department_id": setup["department"]["id"]}
        ),
        403,
        "FORBIDDEN",
    )
    assert_error_shape(
        await client.post(url, headers=setup["supervisor"]["headers"], json={"department_id": 99_999_999}),
        422,
        "VALIDATION_FAILED",
    )
    assert_error_shape(
        await client.post(url, headers=setup["supervisor"]["headers"], json={}), 422, "VALIDATION_FAILED"
    )
    assert_error_shape(
        await client.post(
            url,
            headers=setup["supervisor"]["headers"],
            json={"department_id": setup["department"]["id"], "version": 99},
        ),
        409,
        "STALE_VERSION",
    )
    assigned = await client.post(
        url,
        headers=setup["supervisor"]["headers"],
        json={"department_id": setup["department"]["id"], "version": ticket["version"]},
    )
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["department_id"] == setup["department"]["id"]
    assert assigned.json()["status"] == "open" and assigned.json()["reply_due_at"] == ticket["reply_due_at"]

    assert ticket["id"] in await _queue_ids(client, setup["clerk"])
    assert ticket["id"] not in await _queue_ids(client, setup["outsider"])
    assert (await _staff_view(client, setup["clerk"], ticket["id"]))["allowed_actions"] == ["reply"]
    await drain(app, _quick(settings))
    assert len(await _about(client, setup["dept_admin"], ticket["id"])) == 1  # now the department's to answer

    # Once answered it is no longer for assigning.
    replied = await _replied(client, setup["clerk"], ticket)
    again = await client.post(
        url,
        headers=setup["supervisor"]["headers"],
        json={"department_id": setup["other_department"]["id"], "version": replied["version"]},
    )
    assert_error_shape(again, 409, "ILLEGAL_TRANSITION")


async def test_a_supervisor_may_answer_unrouted_feedback_himself(client, cache):
    setup = await _setup(client, cache)
    ticket = await _filed(client, setup["citizen"], "consult", content="社保卡丢了去哪里补办")
    replied = await _replied(client, setup["supervisor"], ticket, "请到各区社保中心窗口补办")
    assert replied["status"] == "replied" and replied["department_id"] is None
    mine = await _mine(client, setup["citizen"], ticket["id"])
    assert mine["reply"] == "请到各区社保中心窗口补办" and mine["allowed_actions"] == ["confirm", "reopen"]
    assert mine["entries"][-1]["actor"] == "supervisor"


async def test_reply_deadlines_are_working_days_per_kind_across_a_weekend(client, cache, clock, settings):
    setup = await _setup(client, cache)
    clock.set(FRIDAY)
    expected = {
        "consult": "2026-12-02T23:59:59+08:00",  # 3 working days: Mon, Tue, Wed
        "complaint": "2026-12-04T23:59:59+08:00",  # 5: the whole next week
        "suggestion": "2026-12-11T23:59:59+08:00",
    }  # 10
    for kind, due in expected.items():
        ticket = await _filed(client, setup["citizen"], kind, matter_id=setup["matter"]["id"])
        assert ticket["reply_due_at"] == due == ticket["due_at"], kind
        assert due == _iso(workdays.deadline_after(FRIDAY, settings.feedback.reply_workdays(kind)))
        assert ticket["created_at"] == "2026-11-27T16:00:00+08:00"
    # A minute before the complaint's deadline: the consultation (due Wednesday) is late, the rest are not.
    clock.set(datetime(2026, 12, 4, 23, 59, 0, tzinfo=CITY_TZ))
    mine = (
        await client.get("/api/v1/feedback", headers=setup["citizen"]["headers"], params={"page_size": 100})
    ).json()["items"]
    assert {t["kind"]: t["is_overdue"] for t in mine} == {"consult": True, "complaint": False, "suggestion": False}


# ---- reply, confirm, reopen, escalate ----


async def test_reply_then_confirm_closes_and_the_citizen_is_told(app, client, cache, settings):
    setup = await _setup(client, cache)
    citizen = setup["citizen"]
    ticket = await _filed(client, citizen, "consult", matter_id=setup["matter"]["id"])
    confirm_url = f"/api/v1/feedback/{ticket['id']}/confirm"
    assert_error_shape(await client.post(confirm_url, headers=citizen["headers"]), 409, "ILLEGAL_TRANSITION")

    replied = await _replied(client, setup["clerk"], ticket, "需带身份证原件和申请表两份")
    assert replied["status"] == "replied" and replied["due_at"] is None and replied["replied_at"]
    assert replied["allowed_actions"] == []  # the clerk is done: now it is the citizen's word
    mine = await _mine(client, citizen, ticket["id"])
    assert mine["status"] == "replied" and mine["reply"] == "需带身份证原件和申请表两份"
    assert mine["allowed_actions"] == ["confirm", "reopen"]
    assert [(e["action"], e["to"], e["actor"]) for e in mine["entries"]] == [
        ("file", "open", "citizen"),
        ("reply", "replied", "department"),
    ]
    assert "actor_id" not in mine["entries"][0]  # which clerk it was stays in the console
    assert_error_shape(await _reply(client, setup["clerk"], replied), 409, "ILLEGAL_TRANSITION")

    await drain(app, _quick(settings))
    replies = [m for m in await _inbox(client, citizen, ticket["id"]) if m["title"] == "留言已答复"]
    assert len(replies) == 1 and "需带身份证原件和申请表两份" in replies[0]["body"]

    closed = await client.post(confirm_url, headers=citizen["headers"])
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["closed_at"]
    assert closed.json()["allowed_actions"] == []
    assert_error_shape(await client.post(confirm_url, headers=citizen["headers"]), 409, "ILLEGAL_TRANSITION")
    assert_error_shape(
        await client.post(
            f"/api/v1/feedback/{ticket['id']}/reopen", headers=citizen["headers"], json={"reason": "again"}
        ),
        409,
        "ILLEGAL_TRANSITION",
    )
    listed = (await client.get("/api/v1/feedback", headers=citizen["headers"], params={"status": "closed"})).json()
    assert [t["id"] for t in listed["items"]] == [ticket["id"]]


async def test_a_subscribed_citizen_gets_the_reply_pushed_in_the_templates_limits(app, client, cache, settings):
    setup = await _setup(client, cache)
    citizen = await _subscribed_citizen(client, settings, purposes=("feedback_reply",), times=1)
    ticket = await _filed(
        client,
        citizen,
        "consult",
        content="请问办理居住证需要哪些材料，是否需要房东到场？",
        matter_id=setup["matter"]["id"],
    )
    answer = "需要身份证、租赁合同和房东身份证复印件，房东无需到场，可在网上预约后到任一大厅办理"
    await _replied(client, setup["clerk"], ticket, answer)
    await drain(app, _quick(settings))
    pushed = await _sim_messages(client, citizen["openid"])
    assert len(pushed) == 1 and pushed[0]["template_id"] == citizen["template_ids"][0]
    values = _values(pushed[0])
    # Cut to WeChat's 20 characters (a thing field), not refused by the platform.
    for key, text in (("thing1", "请问办理居住证需要哪些材料，是否需要房东到场？"), ("thing2", answer)):
        assert len(values[key]) <= 20 and values[key].rstrip("…") == text[: len(values[key].rstrip("…"))]
        assert len(values[key]) >= 19
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", values["time3"])
    inbox = await _inbox(client, citizen, ticket["id"])
    assert any(answer in m["body"] for m in inbox)  # the inbox keeps the whole answer


async def test_reopen_needs_a_reason_and_gives_the_department_a_new_deadline(app, client, cache, settings, clock):
    setup = await _setup(client, cache)
    citizen = setup["citizen"]
    clock.set(FRIDAY)
    ticket = await _filed(client, citizen, "complaint", matter_id=setup["matter"]["id"])
    await _replied(client, setup["clerk"], ticket)
    url = f"/api/v1/feedback/{ticket['id']}/reopen"
    assert_error_shape(await client.post(url, headers=citizen["headers"], json={}), 422, "VALIDATION_FAILED")
    assert_error_shape(
        await client.post(url, headers=citizen["headers"], json={"reason": "  "}), 422, "VALIDATION_FAILED"
    )
    assert (await _mine(client, citizen, ticket["id"]))["status"] == "replied"

    thursday = datetime(2026, 12, 3, 10, 0, tzinfo=CITY_TZ)
    clock.set(thursday)
    reopened = await _reopened(client, citizen, ticket, "材料清单与窗口说法仍不一致")
    assert reopened["status"] == "open" and reopened["reopen_count"] == 1 and reopened["escalated"] is False
    assert reopened["reply_due_at"] == reopened["due_at"] == "2026-12-10T23:59:59+08:00"  # 5 more working days
    assert reopened["allowed_actions"] == []
    assert reopened["entries"][-1]["note"] == "材料清单与窗口说法仍不一致"
    assert (await _staff_view(client, setup["clerk"], ticket["id"]))["allowed_actions"] == ["reply"]
    await drain(app, _quick(settings))
    reopen_alerts = [t for t in await _about(client, setup["dept_admin"], ticket["id"]) if "未解决" in t]
    assert len(reopen_alerts) == 1 and "材料清单与窗口说法仍不一致" in reopen_alerts[0]


async def test_the_second_reopen_escalates_to_the_supervisors(app, client, cache, settings):
    setup = await _setup(client, cache)
    citizen, clerk, supervisor = setup["citizen"], setup["clerk"], setup["supervisor"]
    ticket = await _filed(client, citizen, "complaint", matter_id=setup["matter"]["id"])
    await _replied(client, clerk, ticket, "模板答复")
    first = await _reopened(client, citizen, ticket, "模板答复没有解决问题")
    assert first["escalated"] is False
    assert ticket["id"] not in await _queue_ids(
        client, supervisor, escalated="true", department_id=setup["department"]["id"]
    )
    await _replied(client, clerk, ticket, "又一次模板答复")
    second = await _reopened(client, citizen, ticket, "第二次仍未解决")
    assert second["status"] == "open" and second["reopen_count"] == 2
    assert second["escalated"] is True and second["escalated_at"]

    escalated = await _queue_ids(client, supervisor, escalated="true", department_id=setup["department"]["id"])
    assert escalated == [ticket["id"]]
    assert ticket["id"] not in await _queue_ids(
        client, supervisor, escalated="false", department_id=setup["department"]["id"]
    )
    assert ticket["id"] in await _queue_ids(client, clerk)  # still the department's to answer
    assert (await _event_kinds(ticket["id"])).count("feedback.escalated") == 1

    await drain(app, _quick(settings))
    assert any("已转效能监察" in t for t in await _about(client, supervisor, ticket["id"]))
    assert any("已转效能监察" in t for t in await _about(client, setup["dept_admin"], ticket["id"]))
    assert any(m["title"] == "留言已转效能监察" for m in await _inbox(client, citizen, ticket["id"]))

    # A third reopen does not escalate again.
    await _replied(client, clerk, ticket, "第三次答复")
    third = await _reopened(client, citizen, ticket, "第三次仍未解决")
    assert third["reopen_count"] == 3 and third["escalated_at"] == second["escalated_at"]
    assert (await _event_kinds(ticket["id"])).count("feedback.escalated") == 1


async def test_a_complaint_is_never_closed_by_the_department_only_by_the_citizen_or_a_supervisor(
    app, client, cache, settings
):
    setup = await _setup(client, cache)
    citizen = setup["citizen"]
    ticket = await _filed(client, citizen, "complaint", matter_id=setup["matter"]["id"])
    replied = await _replied(client, setup["dept_admin"], ticket, "已处理")
    assert replied["status"] == "replied" and replied["closed_at"] is None

    url = f"/api/v1/staff/tickets/{ticket['id']}/close"
    for staff in (setup["clerk"], setup["dept_admin"], setup["approver"]):
        assert_error_shape(
            await client.post(url, headers=staff["headers"], json={"reason": "已答复"}), 403, "FORBIDDEN"
        )
    assert_error_shape(
        await client.post(url, headers=setup["supervisor"]["headers"], json={}), 422, "VALIDATION_FAILED"
    )
    assert_error_shape(
        await client.post(url, headers=setup["supervisor"]["headers"], json={"reason": " "}), 422, "VALIDATION_FAILED"
    )
    assert_error_shape(
        await client.post(
            url,
            headers=setup["supervisor"]["headers"],
            json={"reason": "已核实办结", "version": replied["version"] - 1},
        ),
        409,
        "STALE_VERSION",
    )
    assert (await _mine(client, citizen, ticket["id"]))["status"] == "replied"

    closed = await client.post(
        url,
        headers=setup["supervisor"]["headers"],
        json={"reason": "经核实已按规定办结", "version": replied["version"]},
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["close_reason"] == "经核实已按规定办结"
    assert_error_shape(
        await client.post(url, headers=setup["supervisor"]["headers"], json={"reason": "再关"}),
        409,
        "ILLEGAL_TRANSITION",
    )
    mine = await _mine(client, citizen, ticket["id"])
    assert mine["status"] == "closed" and mine["close_reason"] == "经核实已按规定办结"
    assert mine["entries"][-1]["actor"] == "supervisor"
    await drain(app, _quick(settings))
    closing = [m for m in await _inbox(client, citizen, ticket["id"]) if m["title"] == "工单已办结"]
    assert len(closing) == 1 and "经核实已按规定办结" in closing[0]["body"]


async def test_other_citizens_and_other_departments_get_404_and_stale_versions_409(client, cache):
    setup = await _setup(client, cache)
    ticket = await _filed(client, setup["citizen"], "complaint", matter_id=setup["matter"]["id"])
    stranger = await f.wechat_login(client)
    base = f"/api/v1/feedback/{ticket['id']}"
    assert_error_shape(await client.get(base, headers=stranger["headers"]), 404, "TICKET_NOT_FOUND")
    assert_error_shape(
        await client.get("/api/v1/feedback/99999999", headers=setup["citizen"]["headers"]), 404, "TICKET_NOT_FOUND"
    )
    assert (await client.get("/api/v1/feedback", headers=stranger["headers"])).json()["total"] == 0

    # Another department's staff: 404, whatever they try.
    assert_error_shape(await _reply(client, setup["outsider"], ticket), 404, "TICKET_NOT_FOUND")
    outsider_admin = await f.staff(client, "dept_admin", department_id=setup["other_department"]["id"])
    assert_error_shape(await _reply(client, outsider_admin, ticket), 404, "TICKET_NOT_FOUND")

    # A stale version never overwrites.
    assert_error_shape(
        await _reply(client, setup["clerk"], ticket, version=ticket["version"] + 5), 409, "STALE_VERSION"
    )
    assert_error_shape(await _reply(client, setup["clerk"], ticket, content=""), 422, "VALIDATION_FAILED")
    replied = await _replied(client, setup["clerk"], ticket)
    for path, body in ((f"{base}/confirm", None), (f"{base}/reopen", {"reason": "不是我"})):
        assert_error_shape(await client.post(path, headers=stranger["headers"], json=body), 404, "TICKET_NOT_FOUND")
    assert (await _mine(client, setup["citizen"], ticket["id"]))["version"] == replied["version"]
    # The staff cannot speak for the citizen, nor the citizen answer for the department.
    assert_error_shape(await client.post(f"{base}/confirm", headers=setup["clerk"]["headers"]), 403, "FORBIDDEN")
    assert_error_shape(
        await client.post(
            f"/api/v1/staff/tickets/{ticket['id']}/reply", headers=setup["citizen"]["headers"], json={"content": "x"}
        ),
        403,
        "FORBIDDEN",
    )


async def test_rectification_tickets_are_not_feedback(client, cache):
    setup = await _setup(client, cache)
    case = await f.ended_case(client, setup)
    rating = await f.rated(client, setup["citizen"], case_id=case["id"], score=1, comment="等了两个小时")
    ticket_id = rating["ticket"]["id"]
    citizen = setup["citizen"]
    assert_error_shape(
        await client.get(f"/api/v1/feedback/{ticket_id}", headers=citizen["headers"]), 404, "TICKET_NOT_FOUND"
    )
    assert_error_shape(
        await client.post(f"/api/v1/feedback/{ticket_id}/confirm", headers=citizen["headers"]), 404, "TICKET_NOT_FOUND"
    )
    assert_error_shape(
        await client.post(f"/api/v1/feedback/{ticket_id}/reopen", headers=citizen["headers"], json={"reason": "x"}),
        404,
        "TICKET_NOT_FOUND",
    )
    listed = (await client.get("/api/v1/feedback", headers=citizen["headers"])).json()
    assert ticket_id not in [t["id"] for t in listed["items"]]
    # It is in the same staff queue, and a reply (feedback's move) does not apply to it.
    assert ticket_id in await _queue_ids(client, setup["clerk"], kind="rectification")
    assert ticket_id not in await _queue_ids(client, setup["clerk"], kind="feedback")
    assert_error_shape(await _reply(client, setup["clerk"], {"id": ticket_id}), 409, "ILLEGAL_TRANSITION")
    view = await _staff_view(client, setup["clerk"], ticket_id)
    assert view["kind"] == "rectification" and view["allowed_actions"] == ["callback"]


# ---- the staff queue ----


async def test_the_queue_filters_and_puts_the_nearest_deadline_first(client, cache, clock):
    setup = await _setup(client, cache)
    citizen, clerk = setup["citizen"], setup["clerk"]
    subject = {"matter_id": setup["matter"]["id"]}
    now = datetime.now(CITY_TZ)
    clock.set(now)
    suggestion = await _filed(client, citizen, "suggestion", **subject)  # 10 working days
    complaint = await _filed(client, citizen, "complaint", **subject)  # 5
    consult = await _filed(client, citizen, "consult", **subject)  # 3
    answered = await _filed(client, citizen, "consult", **subject)
    await _replied(client, clerk, answered)
    clock.set(now - timedelta(days=40))
    late = await _filed(client, citizen, "consult", **subject)  # its deadline passed long ago
    clock.set(now)

    # Nearest deadline on top; what waits for the citizen (no deadline) last.
    order = await _queue_ids(client, clerk)
    assert order == [late["id"], consult["id"], complaint["id"], suggestion["id"], answered["id"]]
    paged = (
        await client.get("/api/v1/staff/tickets", headers=clerk["headers"], params={"page": 2, "page_size": 2})
    ).json()
    assert [t["id"] for t in paged["items"]] == [complaint["id"], suggestion["id"]] and paged["total"] == 5
    last_page = (
        await client.get("/api/v1/staff/tickets", headers=clerk["headers"], params={"page": 3, "page_size": 2})
    ).json()
    assert [t["id"] for t in last_page["items"]] == [answered["id"]]

    assert await _queue_ids(client, clerk, overdue="true") == [late["id"]]
    assert (await _queue(client, clerk, overdue="true"))[0]["is_overdue"] is True
    assert await _queue_ids(client, clerk, overdue="false") == [
        consult["id"],
        complaint["id"],
        suggestion["id"],
        answered["id"],
    ]
    assert await _queue_ids(client, clerk, kind="complaint") == [complaint["id"]]
    assert await _queue_ids(client, clerk, kind="consult") == [late["id"], consult["id"], answered["id"]]
    assert await _queue_ids(client, clerk, kind="rectification") == []
    assert len(await _queue_ids(client, clerk, kind="feedback")) == 5
    assert await _queue_ids(client, clerk, status="replied") == [answered["id"]]
    assert await _queue_ids(client, clerk, escalated="true") == []
    # A clerk's queue is his department's, whatever he asks; a supervisor may narrow to one department.
    assert await _queue_ids(client, clerk, department_id=setup["other_department"]["id"]) == order
    assert await _queue_ids(client, setup["supervisor"], department_id=setup["department"]["id"]) == order
    assert await _queue_ids(client, setup["outsider"], department_id=setup["department"]["id"]) == []
    for bad in ({"kind": "praise"}, {"status": "done"}, {"overdue": "maybe"}, {"page_size": 0}):
        assert_error_shape(
            await client.get("/api/v1/staff/tickets", headers=clerk["headers"], params=bad), 422, "VALIDATION_FAILED"
        )


async def test_an_overdue_reply_alerts_the_department_admin_and_supervisors_once(app, client, cache, settings, clock):
    setup = await _setup(client, cache)
    # Filed long ago, so that announcing at its deadline touches no ticket of the present.
    filed_at = datetime(2025, 3, 3, 10, 0, tzinfo=CITY_TZ)
    clock.set(filed_at)
    ticket = await _filed(
        client, setup["citizen"], "consult", content="公积金提取要多久", matter_id=setup["matter"]["id"]
    )
    # The worker's clock is UTC, as in production.
    due = datetime.fromisoformat(ticket["reply_due_at"]).astimezone(UTC)
    assert due == datetime(2025, 3, 6, 23, 59, 59, tzinfo=CITY_TZ)

    await tickets.announce_overdue(now=due)  # at the deadline itself: not late yet
    assert "ticket.reply_overdue" not in await _event_kinds(ticket["id"])
    await tickets.announce_overdue(now=due + timedelta(minutes=1))
    await tickets.announce_overdue(now=due + timedelta(hours=5))
    assert (await _event_kinds(ticket["id"])).count("ticket.reply_overdue") == 1
    await drain(app, _quick(settings))
    for staff in (setup["dept_admin"], setup["supervisor"]):
        late = [t for t in await _about(client, staff, ticket["id"]) if "答复超期" in t]
        assert len(late) == 1 and "2025-03-06" in late[0]
    assert not any("答复超期" in t for t in await _about(client, setup["clerk"], ticket["id"]))

    # Answered late, with the version the clerk opened before the alerts: the alert changed nothing they decide on.
    clock.set(due + timedelta(days=1))
    replied = await _reply(client, setup["clerk"], ticket, version=ticket["version"])
    assert replied.status_code == 200, replied.text
    replied = replied.json()
    # Reopened: the new deadline is a new step, alerted once again when it passes.
    assert replied["replied_at"] and replied["is_overdue"] is False
    reopened = await _reopened(client, setup["citizen"], ticket)
    second_due = datetime.fromisoformat(reopened["reply_due_at"]).astimezone(UTC)
    await tickets.announce_overdue(now=second_due + timedelta(minutes=1))
    await tickets.announce_overdue(now=second_due + timedelta(minutes=2))
    assert (await _event_kinds(ticket["id"])).count("ticket.reply_overdue") == 2


async def test_a_reopened_ticket_is_overdue_as_soon_as_its_new_deadline_passes(client, cache, clock):
    setup = await _setup(client, cache)
    # The server's clock runs in UTC, as in production.
    clock.set(datetime(2025, 3, 7, 16, 0, tzinfo=CITY_TZ).astimezone(UTC))
    ticket = await _filed(client, setup["citizen"], "complaint", matter_id=setup["matter"]["id"])
    await _replied(client, setup["clerk"], ticket)
    clock.set(datetime(2025, 3, 13, 10, 0, tzinfo=CITY_TZ).astimezone(UTC))
    reopened = await _reopened(client, setup["citizen"], ticket)
    due = datetime(2025, 3, 20, 23, 59, 59, tzinfo=CITY_TZ)
    assert reopened["reply_due_at"] == due.isoformat()

    clock.set((due - timedelta(hours=1)).astimezone(UTC))
    assert ticket["id"] not in await _queue_ids(client, setup["clerk"], overdue="true")
    assert ticket["id"] in await _queue_ids(client, setup["clerk"], overdue="false")
    # One hour past the deadline (01:00 in the city, still the 20th in UTC) it is late.
    clock.set((due + timedelta(hours=1)).astimezone(UTC))
    assert await _queue_ids(client, setup["clerk"], overdue="true") == [ticket["id"]]
    assert (await _staff_view(client, setup["clerk"], ticket["id"]))["is_overdue"] is True
    await tickets.announce_overdue(now=(due + timedelta(hours=1)).astimezone(UTC))
    assert (await _event_kinds(ticket["id"])).count("ticket.reply_overdue") == 1


# ---- filing safeguards ----


async def test_idempotency_key_returns_the_first_feedback(client, cache):
    setup = await _setup(client, cache)
    citizen = setup["citizen"]
    headers = {**citizen["headers"], "Idempotency-Key": "fb-1"}
    body = {"kind": "complaint", "content": "排队太久", "matter_id": setup["matter"]["id"]}
    first = await client.post("/api/v1/feedback", headers=headers, json=body)
    again = await client.post("/api/v1/feedback", headers=headers, json=body)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    other_key = await client.post(
        "/api/v1/feedback", headers={**citizen["headers"], "Idempotency-Key": "fb-2"}, json=body
    )
    assert other_key.status_code == 201 and other_key.json()["id"] != first.json()["id"]
    # The key is the citizen's own: someone else using it files their own ticket.
    stranger = await f.wechat_login(client)
    theirs = await client.post(
        "/api/v1/feedback", headers={**stranger["headers"], "Idempotency-Key": "fb-1"}, json=body
    )
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    assert (await client.get("/api/v1/feedback", headers=citizen["headers"])).json()["total"] == 2
    too_long = await client.post(
        "/api/v1/feedback", headers={**citizen["headers"], "Idempotency-Key": "k" * 81}, json=body
    )
    assert_error_shape(too_long, 400, "BAD_REQUEST")


async def test_idempotency_key_sent_twice_at_once_files_one_ticket(client, cache):
    setup = await _setup(client, cache)
    headers = {**setup["citizen"]["headers"], "Idempotency-Key": "double-tap"}
    body = {"kind": "consult", "content": "双击提交", "matter_id": setup["matter"]["id"]}
    responses = await asyncio.gather(*(client.post("/api/v1/feedback", headers=headers, json=body) for _ in range(4)))
    # One files the ticket (201); the others, the same key at the same moment, get that ticket back (200).
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201], [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert (await client.get("/api/v1/feedback", headers=setup["citizen"]["headers"])).json()["total"] == 1


async def test_a_citizen_files_a_limited_number_of_feedback_per_hour(app, client, cache, settings, monkeypatch):
    lowered = settings.model_copy(update={"feedback": settings.feedback.model_copy(update={"per_citizen_per_hour": 2})})
    monkeypatch.setattr(app.ctx, "settings", lowered)
    citizen = await f.wechat_login(client)
    keyed = {**citizen["headers"], "Idempotency-Key": "first"}
    body = {"kind": "consult", "content": "第一条"}
    first = await client.post("/api/v1/feedback", headers=keyed, json=body)
    assert first.status_code == 201
    assert (await _file(client, citizen, "consult")).status_code == 201
    refused = await _file(client, citizen, "consult")
    error = assert_error_shape(refused, 429, "RATE_LIMITED")
    assert int(refused.headers["retry-after"]) > 0 and error["details"]["retry_after_seconds"] > 0
    # A repeat of an earlier filing is not a new one; another citizen is not limited by this one.
    repeat = await client.post("/api/v1/feedback", headers=keyed, json=body)
    assert repeat.status_code == 200 and repeat.json()["id"] == first.json()["id"]
    other = await f.wechat_login(client)
    assert (await _file(client, other, "consult")).status_code == 201
    assert (await client.get("/api/v1/feedback", headers=citizen["headers"])).json()["total"] == 2


async def test_ticket_routes_are_in_the_openapi_document(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path, method in (
        ("/api/v1/feedback", "post"),
        ("/api/v1/feedback", "get"),
        ("/api/v1/feedback/{ticket_id}", "get"),
        ("/api/v1/feedback/{ticket_id}/confirm", "post"),
        ("/api/v1/feedback/{ticket_id}/reopen", "post"),
        ("/api/v1/staff/tickets", "get"),
        ("/api/v1/staff/tickets/{ticket_id}", "get"),
        ("/api/v1/staff/tickets/{ticket_id}/reply", "post"),
        ("/api/v1/staff/tickets/{ticket_id}/close", "post"),
        ("/api/v1/staff/tickets/{ticket_id}/assign", "post"),
    ):
        assert method in paths.get(path, {}), (path, method)
    filed = paths["/api/v1/feedback"]["post"]
    assert "requestBody" in filed and {"201", "401", "404", "422", "429"} <= set(filed["responses"])
    view = paths["/api/v1/staff/tickets/{ticket_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    properties = view["schema"]["properties"]
    assert {"allowed_actions", "reply_due_at", "escalated", "citizen_id", "entries"} <= set(properties)
    entry = properties["entries"]["items"]["properties"]
    assert {"at", "action", "from", "to", "actor", "note"} <= set(entry)
    queue = {p["name"] for p in paths["/api/v1/staff/tickets"]["get"]["parameters"]}
    assert {"kind", "status", "overdue", "escalated", "department_id", "page", "page_size"} <= queue


# ---- the citizen's silence ----


async def test_a_reply_the_citizen_never_answers_closes_after_the_answer_window(client, cache, settings):
    setup = await _setup(client, cache)
    citizen = setup["citizen"]
    consult = await _filed(client, citizen, "consult", matter_id=setup["matter"]["id"])
    replied = await _replied(client, setup["clerk"], consult, "可以网上办理")
    window_ends = datetime.fromisoformat(replied["answer_due_at"])
    assert window_ends - datetime.fromisoformat(replied["replied_at"]) == timedelta(days=settings.feedback.answer_days)
    assert (await _mine(client, citizen, consult["id"]))["answer_due_at"] == replied["answer_due_at"]

    await tickets.close_unanswered(now=window_ends - timedelta(minutes=1))
    assert (await _mine(client, citizen, consult["id"]))["status"] == "replied"
    await tickets.close_unanswered(now=window_ends + timedelta(minutes=1))
    mine = await _mine(client, citizen, consult["id"])
    assert (mine["status"], mine["close_reason"], mine["answer_due_at"]) == ("closed", tickets.LAPSE_NOTE, None)
    assert [(e["action"], e["from"], e["actor"]) for e in mine["entries"]][-1] == ("lapse", "replied", "system")
    assert mine["allowed_actions"] == []
    assert_error_shape(
        await client.post(f"/api/v1/feedback/{consult['id']}/confirm", headers=citizen["headers"]),
        409,
        "ILLEGAL_TRANSITION",
    )


async def test_a_reopen_stops_the_answer_window_and_a_complaint_never_gets_one(client, cache, settings):
    setup = await _setup(client, cache)
    citizen = setup["citizen"]
    suggestion = await _filed(client, citizen, "suggestion", matter_id=setup["matter"]["id"])
    replied = await _replied(client, setup["clerk"], suggestion, "感谢建议")
    reopened = await _reopened(client, citizen, replied, "答复没有回应建议本身")
    assert reopened["status"] == "open" and reopened["answer_due_at"] is None
    complaint = await _filed(client, citizen, "complaint", matter_id=setup["matter"]["id"])
    replied_complaint = await _replied(client, setup["clerk"], complaint, "已处理")
    assert replied_complaint["answer_due_at"] is None

    # Long after any window: the reopened suggestion waits for the department, the complaint for the citizen or a
    # supervisor.
    await tickets.close_unanswered(now=datetime.now(UTC) + timedelta(days=90))
    assert (await _mine(client, citizen, suggestion["id"]))["status"] == "open"
    assert (await _mine(client, citizen, complaint["id"]))["status"] == "replied"
