"""The ticket transition table: exactly these moves are legal, for these actors; everything else is refused."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from tortoise.transactions import in_transaction

from app.core.auth import Principal
from app.core.errors import IllegalTransition, StaleVersion
from app.tickets import service as tickets
from app.tickets import workflow
from app.tickets.errors import NoteRequired, TicketNotFound, TicketRoleNotAllowed
from app.tickets.models import ServiceTicket, TicketEntry, TicketKind, TicketStatus
from tests import factories as f

KINDS = [kind.value for kind in TicketKind]
STATES = [state.value for state in TicketStatus]
ACTIONS = [
    "reply",
    "confirm",
    "reopen",
    "assign",
    "assign_staff",
    "callback",
    "fix",
    "rate_fix",
    "close",
    "void",
    "lapse",
]
FEEDBACK = ("consult", "complaint", "suggestion")

# The rules, written out by hand from the domain: (action, kind, from) -> (to, who).
EXPECTED: dict[tuple[str, str, str], tuple[str, str]] = {}
for _kind in FEEDBACK:
    EXPECTED[("reply", _kind, "open")] = ("replied", "department|supervisor")
    EXPECTED[("confirm", _kind, "replied")] = ("closed", "citizen")
    EXPECTED[("reopen", _kind, "replied")] = ("open", "citizen")
    EXPECTED[("assign", _kind, "open")] = ("open", "supervisor")
# Giving the ticket to one person of its department while the department owes a step; the state stays.
for _kind in KINDS:
    EXPECTED[("assign_staff", _kind, "open")] = ("open", "department_admin|supervisor")
EXPECTED[("assign_staff", "rectification", "called_back")] = ("called_back", "department_admin|supervisor")
EXPECTED[("callback", "rectification", "open")] = ("called_back", "department")
EXPECTED[("fix", "rectification", "called_back")] = ("fixed", "department")
EXPECTED[("rate_fix", "rectification", "fixed")] = ("closed", "citizen")
for _kind, _state in itertools.product(KINDS, ("open", "replied", "called_back", "fixed")):
    EXPECTED[("close", _kind, _state)] = ("closed", "supervisor")
for _state in ("open", "called_back", "fixed"):
    EXPECTED[("void", "rectification", _state)] = ("closed", "system")
# The citizen's silence past the answer window ends a reply or a fix, never a complaint.
for _kind, _state in (("consult", "replied"), ("suggestion", "replied"), ("rectification", "fixed")):
    EXPECTED[("lapse", _kind, _state)] = ("closed", "system")

EVERY_COMBINATION = list(itertools.product(ACTIONS, KINDS, STATES))


# ---- the table itself ----


def test_the_table_holds_exactly_the_expected_moves():
    found = {}
    for action, kind, state in EVERY_COMBINATION:
        move = workflow.find_move(action, TicketKind(kind), TicketStatus(state))
        if move is not None:
            found[(action, kind, state)] = (move.target.value, "|".join(sorted(move.actors)))
    expected = {key: (to, "|".join(sorted(who.split("|")))) for key, (to, who) in EXPECTED.items()}
    assert found == expected
    assert workflow.ACTIONS == set(ACTIONS)


def test_a_reply_never_closes_and_feedback_closes_only_by_the_citizen_or_a_supervisor():
    for move in workflow.MOVES:
        if move.action == "reply":
            assert move.target == TicketStatus.REPLIED
        if move.target == TicketStatus.CLOSED and TicketKind.COMPLAINT in move.kinds:
            assert move.actors in (frozenset({workflow.CITIZEN}), frozenset({workflow.SUPERVISOR}))
    # No department move ends anything: closing is the citizen's, a supervisor's or the system's word.
    assert all(move.target != TicketStatus.CLOSED for move in workflow.MOVES if workflow.DEPARTMENT in move.actors)


def test_closed_is_final_and_steps_that_need_words_require_a_note():
    for action, kind in itertools.product(ACTIONS, KINDS):
        assert workflow.find_move(action, TicketKind(kind), TicketStatus.CLOSED) is None
    needs_note = {move.action for move in workflow.MOVES if move.note_required}
    assert needs_note == {"reply", "reopen", "callback", "fix", "close", "void"}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("state", STATES)
def test_allowed_actions_follow_the_table_for_each_actor(kind, state):
    for actor in ("citizen", "department", "department_admin", "supervisor", "system"):
        expected = [
            action
            for action in ACTIONS
            if (action, kind, state) in EXPECTED and actor in EXPECTED[(action, kind, state)][1].split("|")
        ]
        shown = workflow.allowed_actions(TicketKind(kind), TicketStatus(state), frozenset({actor}))
        assert sorted(shown) == sorted(expected), actor
    assert workflow.allowed_actions(TicketKind(kind), TicketStatus(state), frozenset()) == []


# ---- the service applies the table and nothing else ----


async def _people(client, cache) -> dict:
    """Principals as the routes would build them; the staff need no login here."""
    dep = await f.department(cache)
    other = await f.department(cache)
    return {
        "department": dep,
        "other": other,
        "citizen": Principal(kind="citizen", id=(await f.wechat_login(client))["id"]),
        "stranger": Principal(kind="citizen", id=(await f.wechat_login(client))["id"]),
        "clerk": Principal(kind="staff", id=800_001, roles=("clerk",), department_id=dep["id"]),
        "outsider": Principal(kind="staff", id=800_002, roles=("dept_admin",), department_id=other["id"]),
        "supervisor": Principal(kind="staff", id=800_003, roles=("supervisor",)),
        # A real account of the department, to be given tickets (assign_staff checks it is active there).
        "member": await f.staff(client, "clerk", department_id=dep["id"]),
    }


async def _ticket(people: dict, kind: str, state: str) -> ServiceTicket:
    """A ticket of this kind sitting in this state, as the earlier moves would have left it."""
    now = datetime.now(UTC)
    fields = {
        "kind": TicketKind(kind),
        "status": TicketStatus(state),
        "citizen_id": people["citizen"].id,
        "department_id": people["department"]["id"],
        "content": "工单",
        "first_due_at": now + timedelta(days=3),
        "due_at": now + timedelta(days=3),
    }
    if kind == "rectification":
        fields.update(fix_due_at=now + timedelta(days=7), rating_id=await _unused_rating_id())
        if state in ("called_back", "fixed", "closed"):
            fields.update(first_done_at=now, first_on_time=True, due_at=fields["fix_due_at"])
        if state in ("fixed", "closed"):
            fields.update(fixed_at=now, fix_on_time=True, due_at=None)
    elif state in ("replied", "closed"):
        fields.update(first_done_at=now, first_on_time=True, last_reply="答复", due_at=None)
    if state == "closed":
        fields.update(closed_at=now, due_at=None)
    return await ServiceTicket.create(**fields)


async def _unused_rating_id() -> int:
    last = await ServiceTicket.filter(rating_id__isnull=False).order_by("-rating_id").first()
    return max(last.rating_id if last else 0, 50_000_000) + 1


def _actor_for(people: dict, action: str, kind: str) -> Principal:
    """Someone whom the table lets make this action on this kind in some state (the state decides the rest)."""
    who = {
        "confirm": "citizen",
        "reopen": "citizen",
        "rate_fix": "citizen",
        "assign": "supervisor",
        "assign_staff": "supervisor",
        "close": "supervisor",
    }.get(action, "clerk")
    return people[who]


def _arguments(people: dict, action: str) -> dict:
    return {
        "note": "说明",
        "score": 4 if action == "rate_fix" else None,
        "department_id": people["other"]["id"] if action == "assign" else None,
        "assignee_staff_id": people["member"]["id"] if action == "assign_staff" else None,
    }


async def test_every_move_outside_the_table_is_refused_and_changes_nothing(app, client, cache, settings):
    people = await _people(client, cache)
    for kind, state in itertools.product(KINDS, STATES):
        ticket = await _ticket(people, kind, state)
        for action in ACTIONS:
            if (action, kind, state) in EXPECTED:
                continue
            actor = _actor_for(people, action, kind)
            system_moves = {
                ("void", "rectification"),
                ("lapse", "rectification"),
                ("lapse", "consult"),
                ("lapse", "suggestion"),
            }
            expected_error = TicketRoleNotAllowed if (action, kind) in system_moves else IllegalTransition
            with pytest.raises(expected_error):
                await tickets.act(actor, ticket.id, action, settings=settings, **_arguments(people, action))
        after = await ServiceTicket.get(id=ticket.id)
        assert (after.status.value, after.version) == (state, 1), (kind, state)
        assert await TicketEntry.filter(ticket_id=ticket.id).count() == 0


async def test_every_move_in_the_table_lands_where_the_table_says(app, client, cache, settings):
    people = await _people(client, cache)
    for (action, kind, state), (target, _who) in EXPECTED.items():
        ticket = await _ticket(people, kind, state)
        if action == "void":  # the system's move: the bad rating was voided on appeal
            async with in_transaction() as connection:
                await tickets.void_rectification(
                    ticket.rating_id, note="申诉成立", at=datetime.now(UTC), connection=connection
                )
            assert (await ServiceTicket.get(id=ticket.id)).voided is True
        elif action == "lapse":  # the system's move: the citizen let the answer window pass
            now = datetime.now(UTC)
            await ServiceTicket.filter(id=ticket.id).update(answer_due_at=now - timedelta(minutes=1))
            assert await tickets.close_unanswered(now=now) >= 1
            entries = await TicketEntry.filter(ticket_id=ticket.id).order_by("id")
            assert [(entry.action, entry.from_status, entry.actor_role) for entry in entries] == [
                ("lapse", state, "system")
            ]
        else:
            view = await tickets.act(
                _actor_for(people, action, kind),
                ticket.id,
                action,
                settings=settings,
                version=1,
                **_arguments(people, action),
            )
            assert view["version"] == 2
            assert view["entries"][-1]["action"] == action and view["entries"][-1]["from"] == state
        after = await ServiceTicket.get(id=ticket.id)
        assert after.status.value == target, (action, kind, state)


async def test_the_wrong_actor_is_refused_before_the_state_is_looked_at(app, client, cache, settings):
    people = await _people(client, cache)
    open_complaint = await _ticket(people, "complaint", "open")
    replied_complaint = await _ticket(people, "complaint", "replied")
    open_rectification = await _ticket(people, "rectification", "open")
    refused = [
        (people["citizen"], open_complaint, "reply"),  # the citizen cannot answer himself
        (people["clerk"], replied_complaint, "confirm"),  # nor the department confirm for him
        (people["clerk"], replied_complaint, "reopen"),
        (people["clerk"], open_complaint, "assign"),  # assigning is the supervisors'
        (people["clerk"], open_complaint, "assign_staff"),  # giving it to someone: the dept_admin's or theirs
        (people["clerk"], replied_complaint, "close"),  # a department never closes
        (people["supervisor"], replied_complaint, "confirm"),
        (people["supervisor"], open_rectification, "callback"),  # the department calls back, not the supervisor
        (people["citizen"], open_rectification, "fix"),
        (people["clerk"], open_rectification, "void"),  # only an upheld appeal voids
        (people["supervisor"], open_rectification, "void"),
    ]
    for actor, ticket, action in refused:
        with pytest.raises(TicketRoleNotAllowed):
            await tickets.act(actor, ticket.id, action, settings=settings, **_arguments(people, action))
    # Those who may not see the ticket get the same answer as for one that does not exist.
    for actor in (people["stranger"], people["outsider"]):
        for action in ("reply", "confirm", "close"):
            with pytest.raises(TicketNotFound):
                await tickets.act(actor, open_complaint.id, action, settings=settings, note="x")
    for ticket in (open_complaint, replied_complaint, open_rectification):
        assert (await ServiceTicket.get(id=ticket.id)).version == 1


async def test_notes_are_required_and_versions_must_match(app, client, cache, settings):
    people = await _people(client, cache)
    ticket = await _ticket(people, "consult", "open")
    with pytest.raises(NoteRequired):
        await tickets.act(people["clerk"], ticket.id, "reply", note="   ", settings=settings)
    with pytest.raises(StaleVersion):
        await tickets.act(people["clerk"], ticket.id, "reply", note="答复", version=2, settings=settings)
    view = await tickets.act(people["clerk"], ticket.id, "reply", note="答复", version=1, settings=settings)
    assert view["status"] == "replied"
    with pytest.raises(NoteRequired):
        await tickets.act(people["citizen"], ticket.id, "reopen", note="", settings=settings)
    rect = await _ticket(people, "rectification", "open")
    with pytest.raises(TicketNotFound):  # a rectification is not feedback for the feedback endpoints
        await tickets.act(people["citizen"], rect.id, "confirm", settings=settings, feedback_only=True)


async def test_a_reply_never_closes_whatever_the_kind(app, client, cache, settings):
    people = await _people(client, cache)
    for kind in FEEDBACK:
        ticket = await _ticket(people, kind, "open")
        view = await tickets.act(people["clerk"], ticket.id, "reply", note="答复", settings=settings)
        assert view["status"] == "replied" and view["closed_at"] is None
        assert view["allowed_actions"] == []
        as_citizen = await tickets.get_ticket(people["citizen"], ticket.id)
        assert as_citizen["allowed_actions"] == ["confirm", "reopen"]
