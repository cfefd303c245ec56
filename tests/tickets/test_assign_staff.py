"""Giving a ticket to one staff member of its department: POST /api/v1/staff/tickets/{id}/assign-staff."""

import pytest

from app.audit import service as audit
from app.core.auth import Principal
from app.core.errors import IllegalTransition, ValidationFailed
from app.tickets import service as tickets
from app.tickets.errors import TicketNotFound, TicketRoleNotAllowed
from tests import factories as f
from tests.core.test_errors import assert_error_shape
from tests.tickets.test_routes import _filed, _replied, _setup


def _principal(account: dict, *roles: str) -> Principal:
    return Principal(kind="staff", id=account["id"], roles=roles, department_id=account["department_id"])


async def _assign(client, staff: dict, ticket: dict, staff_id: int, **body):
    return await client.post(
        f"/api/v1/staff/tickets/{ticket['id']}/assign-staff",
        headers=staff["headers"],
        json={"staff_id": staff_id, "version": ticket["version"], **body},
    )


async def test_the_department_admin_gives_a_ticket_to_a_clerk_audited_and_logged(client, cache):
    setup = await _setup(client, cache)
    ticket = await _filed(client, setup["citizen"], "complaint", matter_id=setup["matter"]["id"])
    admin = setup["dept_admin"]
    candidates = await client.get(f"/api/v1/staff/tickets/{ticket['id']}/assignees", headers=admin["headers"])
    assert candidates.status_code == 200, candidates.text
    ids = {c["id"] for c in candidates.json()}
    assert {setup["clerk"]["id"], setup["approver"]["id"], admin["id"]} <= ids
    assert setup["outsider"]["id"] not in ids and setup["supervisor"]["id"] not in ids

    seen = (await client.get(f"/api/v1/staff/tickets/{ticket['id']}", headers=admin["headers"])).json()
    assert "assign_staff" in seen["allowed_actions"] and seen["assignee_staff_id"] is None
    response = await _assign(client, admin, seen, setup["clerk"]["id"])
    assert response.status_code == 200, response.text
    given = response.json()
    assert given["assignee_staff_id"] == setup["clerk"]["id"]
    assert given["assignee_name"] == setup["clerk"]["name"]
    assert given["status"] == "open" and given["version"] == seen["version"] + 1
    assert (
        given["entries"][-1]["action"] == "assign_staff"
        and given["entries"][-1]["actor_id"] == f"staff:{admin['id']}"
        and given["entries"][-1]["note"] == setup["clerk"]["name"]
    )
    # The queue names the assignee too.
    queue = await client.get("/api/v1/staff/tickets", headers=setup["clerk"]["headers"], params={"page_size": 100})
    row = next(t for t in queue.json()["items"] if t["id"] == ticket["id"])
    assert row["assignee_name"] == setup["clerk"]["name"]
    # Audited: who gave it to whom.
    trail = [e for e in await audit.entries_for("ticket", ticket["id"]) if e["action"] == "ticket.assign_staff"]
    assert len(trail) == 1 and trail[0]["staff_id"] == admin["id"]
    assert trail[0]["after"]["assignee_staff_id"] == setup["clerk"]["id"]
    assert trail[0]["after"]["previous_assignee_staff_id"] is None
    # The citizen's view says nothing of who inside the department holds it.
    mine = (await client.get(f"/api/v1/feedback/{ticket['id']}", headers=setup["citizen"]["headers"])).json()
    assert "assignee_staff_id" not in mine and "assignee_name" not in mine
    assert "assign_staff" not in [e["action"] for e in mine["entries"]]


async def test_a_supervisor_may_assign_and_a_department_change_clears_the_assignee(client, cache, settings):
    setup = await _setup(client, cache)
    ticket = await _filed(client, setup["citizen"], "consult", matter_id=setup["matter"]["id"])
    given = await tickets.act(
        _principal(setup["supervisor"], "supervisor"),
        ticket["id"],
        "assign_staff",
        assignee_staff_id=setup["approver"]["id"],
        settings=settings,
    )
    assert given["assignee_staff_id"] == setup["approver"]["id"]
    moved = await tickets.act(
        _principal(setup["supervisor"], "supervisor"),
        ticket["id"],
        "assign",
        department_id=setup["other_department"]["id"],
        settings=settings,
    )
    assert moved["department_id"] == setup["other_department"]["id"] and moved["assignee_staff_id"] is None


async def test_not_found_twins_a_missing_ticket_and_another_departments_admin(client, cache, settings):
    setup = await _setup(client, cache)
    ticket = await _filed(client, setup["citizen"], "complaint", matter_id=setup["matter"]["id"])
    foreign_admin = await f.staff(client, "dept_admin", department_id=setup["other_department"]["id"])
    with pytest.raises(TicketNotFound):
        await tickets.act(
            _principal(setup["dept_admin"], "dept_admin"),
            2_000_000_000,
            "assign_staff",
            assignee_staff_id=setup["clerk"]["id"],
            settings=settings,
        )
    with pytest.raises(TicketNotFound):
        await tickets.assignees(_principal(foreign_admin, "dept_admin"), ticket["id"])
    response = await _assign(client, foreign_admin, ticket, setup["clerk"]["id"])
    assert_error_shape(response, 404, "TICKET_NOT_FOUND")


async def test_forbidden_twins_a_clerk_assigns_nothing_and_sees_no_assignees(client, cache, settings):
    setup = await _setup(client, cache)
    ticket = await _filed(client, setup["citizen"], "complaint", matter_id=setup["matter"]["id"])
    clerk = _principal(setup["clerk"], "clerk")
    with pytest.raises(TicketRoleNotAllowed):
        await tickets.act(
            clerk, ticket["id"], "assign_staff", assignee_staff_id=setup["clerk"]["id"], settings=settings
        )
    with pytest.raises(TicketRoleNotAllowed):
        await tickets.assignees(clerk, ticket["id"])
    response = await _assign(client, setup["clerk"], ticket, setup["clerk"]["id"])
    assert response.status_code == 403
    listed = await client.get(f"/api/v1/staff/tickets/{ticket['id']}/assignees", headers=setup["clerk"]["headers"])
    assert listed.status_code == 403
    seen = (await client.get(f"/api/v1/staff/tickets/{ticket['id']}", headers=setup["clerk"]["headers"])).json()
    assert "assign_staff" not in seen["allowed_actions"]


async def test_illegal_state_twins_a_replied_and_a_closed_ticket(client, cache, settings):
    setup = await _setup(client, cache)
    ticket = await _filed(client, setup["citizen"], "complaint", matter_id=setup["matter"]["id"])
    replied = await _replied(client, setup["dept_admin"], ticket)
    response = await _assign(client, setup["dept_admin"], replied, setup["clerk"]["id"])
    assert_error_shape(response, 409, "ILLEGAL_TRANSITION")
    closed = await tickets.act(
        _principal(setup["supervisor"], "supervisor"), ticket["id"], "close", note="已处理", settings=settings
    )
    assert closed["status"] == "closed"
    with pytest.raises(IllegalTransition):
        await tickets.act(
            _principal(setup["dept_admin"], "dept_admin"),
            ticket["id"],
            "assign_staff",
            assignee_staff_id=setup["clerk"]["id"],
            settings=settings,
        )
    assert not [e for e in await audit.entries_for("ticket", ticket["id"]) if e["action"] == "ticket.assign_staff"]


async def test_only_active_staff_of_the_tickets_department_can_be_given_it(client, cache, settings):
    setup = await _setup(client, cache)
    ticket = await _filed(client, setup["citizen"], "complaint", matter_id=setup["matter"]["id"])
    admin = _principal(setup["dept_admin"], "dept_admin")
    for someone in (setup["outsider"]["id"], setup["supervisor"]["id"], 2_000_000_000):
        with pytest.raises(ValidationFailed):
            await tickets.act(admin, ticket["id"], "assign_staff", assignee_staff_id=someone, settings=settings)
    response = await _assign(client, setup["dept_admin"], ticket, setup["outsider"]["id"])
    assert_error_shape(response, 422, "VALIDATION_FAILED")
    assert response.json()["error"]["details"]["fields"][0]["field"] == "staff_id"
    missing = await client.post(
        f"/api/v1/staff/tickets/{ticket['id']}/assign-staff", headers=setup["dept_admin"]["headers"], json={}
    )
    assert missing.status_code == 422
