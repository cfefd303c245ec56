"""app.core.workflow on tables of its own: a move is written whole (UPDATE, timeline, event, audit) or not at all."""

from datetime import UTC, datetime, timedelta

import pytest
from tortoise.transactions import in_transaction

from app.audit.models import AuditEntry
from app.core import outbox, workflow
from app.core.errors import IllegalTransition, NoteRequired, StaleVersion
from app.core.models import OutboxEvent
from app.core.workflow import SYSTEM_ACTOR, Actor, Effect, Event, Move, MoveContext, Table, Timeline
from app.payments.models import OrderStatus, PaymentOrder
from app.tickets.models import ServiceTicket, TicketEntry, TicketKind
from app.tickets.models import TicketStatus as S

NAME = "workflow_test"  # the table's name: its events' aggregate type and its audit rows' object type
CLERK = Actor(ref="staff:900001", kinds=("clerk",), staff_id=900_001)
CITIZEN = Actor(ref="citizen:7", kinds=("citizen",))


class Boom(Exception):
    pass


async def _answer(ctx: MoveContext) -> Effect:
    # A write of the effect's own, on the move's connection: it must stand or fall with the move.
    await OutboxEvent.create(
        kind="workflow_test.effect_write", aggregate_type=NAME, aggregate_id=ctx.row.id, using_db=ctx.connection
    )
    if ctx.inputs.get("explode"):
        raise Boom()
    return Effect(
        changes={"last_reply": ctx.note, "due_at": None},
        timeline={"at": ctx.at},
        event=Event(
            "workflow_test.answered",
            {"reply": ctx.note},
            citizen_id=ctx.row.citizen_id,
            department_id=ctx.row.department_id,
        ),
        audit={"reply_length": len(ctx.note)},
    )


async def _settle(ctx: MoveContext) -> Effect:
    return Effect(changes={"closed_at": ctx.at, "closed_by": ctx.actor.ref})


MOVES = (
    Move("answer", frozenset({S.OPEN}), S.REPLIED, frozenset({"clerk"}), note_required=True, effect=_answer),
    Move("settle", frozenset({S.REPLIED}), S.CLOSED, frozenset({"citizen", "clerk"}), effect=_settle),
    Move("settle", frozenset({S.OPEN}), S.CLOSED, frozenset({"clerk"}), kinds=frozenset({TicketKind.COMPLAINT})),
    Move("escalate", frozenset({S.OPEN, S.REPLIED}), S.OPEN, frozenset({"supervisor"})),
)
TABLE = Table(
    name=NAME,
    model=ServiceTicket,
    moves=MOVES,
    kind_field="kind",
    timeline=Timeline(TicketEntry, "ticket_id"),
    illegal_message="测试：当前状态不允许该操作",
)


async def _ticket(status: S = S.OPEN, kind: TicketKind = TicketKind.CONSULT) -> ServiceTicket:
    now = datetime.now(UTC)
    return await ServiceTicket.create(
        kind=kind,
        status=status,
        citizen_id=7,
        department_id=3,
        content="测试",
        first_due_at=now + timedelta(days=3),
        due_at=now + timedelta(days=3),
    )


async def _written(ticket_id: int) -> dict:
    """Everything a move of this test table may have written about one ticket."""
    row = await ServiceTicket.get(id=ticket_id)
    return {
        "status": row.status,
        "version": row.version,
        "last_reply": row.last_reply,
        "timeline": await TicketEntry.filter(ticket_id=ticket_id).count(),
        "events": await OutboxEvent.filter(aggregate_type=NAME, aggregate_id=ticket_id).count(),
        "audit": await AuditEntry.filter(object_type=NAME, object_id=str(ticket_id)).count(),
    }


def _untouched(status: S = S.OPEN) -> dict:
    return {"status": status, "version": 1, "last_reply": "", "timeline": 0, "events": 0, "audit": 0}


# ---- reading the table ----


def test_allowed_actions_follow_state_kind_and_actor_in_table_order_once_each():
    assert workflow.allowed_actions(TABLE, S.OPEN, ("clerk",), kind=TicketKind.CONSULT) == ["answer"]
    assert workflow.allowed_actions(TABLE, S.OPEN, ("clerk",), kind=TicketKind.COMPLAINT) == ["answer", "settle"]
    assert workflow.allowed_actions(TABLE, S.REPLIED, ("citizen",), kind=TicketKind.CONSULT) == ["settle"]
    assert workflow.allowed_actions(TABLE, S.REPLIED, ("clerk", "supervisor"), kind=TicketKind.CONSULT) == [
        "settle",
        "escalate",
    ]
    assert workflow.allowed_actions(TABLE, S.CLOSED, ("clerk", "citizen", "supervisor")) == []
    assert workflow.allowed_actions(TABLE, S.OPEN, ()) == []


def test_find_move_and_may_make_read_the_same_rows():
    assert workflow.find_move(TABLE, "settle", S.OPEN, kind=TicketKind.CONSULT) is None
    assert workflow.find_move(TABLE, "settle", S.OPEN, kind=TicketKind.COMPLAINT) is MOVES[2]
    assert workflow.find_move(TABLE, "answer", S.OPEN) is MOVES[0]
    assert workflow.may_make(TABLE, "settle", ("citizen",))
    assert not workflow.may_make(TABLE, "answer", ("citizen",))
    assert not workflow.may_make(TABLE, "no_such_action", ("clerk",))
    assert TABLE.actions == {"answer", "settle", "escalate"}


# ---- apply_move ----


async def test_a_legal_move_writes_update_timeline_event_and_audit_together(app):
    ticket = await _ticket()
    at = datetime.now(UTC).replace(microsecond=0)
    move = await workflow.apply_move(TABLE, ticket, "answer", actor=CLERK, at=at, note="  已答复  ", expected_version=1)
    assert move is MOVES[0]
    # The row as read holds what was written.
    assert (ticket.status, ticket.version, ticket.last_reply, ticket.due_at) == (S.REPLIED, 2, "已答复", None)
    assert await _written(ticket.id) == {
        "status": S.REPLIED,
        "version": 2,
        "last_reply": "已答复",
        "timeline": 1,
        "events": 2,
        "audit": 1,
    }
    [entry] = await TicketEntry.filter(ticket_id=ticket.id)
    assert (entry.action, entry.from_status, entry.to_status, entry.actor, entry.actor_role, entry.note, entry.at) == (
        "answer",
        "open",
        "replied",
        "staff:900001",
        "clerk",
        "已答复",
        at,
    )
    [event] = await OutboxEvent.filter(aggregate_type=NAME, aggregate_id=ticket.id, kind="workflow_test.answered")
    assert (event.payload, event.citizen_id, event.department_id) == ({"reply": "已答复"}, 7, 3)
    [audit] = await AuditEntry.filter(object_type=NAME, object_id=str(ticket.id))
    assert (audit.actor, audit.staff_id, audit.action, audit.before, audit.after) == (
        "staff:900001",
        900_001,
        "workflow_test.answer",
        {"status": "open"},
        {"status": "replied", "reply_length": 3},
    )


async def test_a_citizen_or_system_move_writes_no_audit_row_and_a_move_without_effect_still_logs(app):
    ticket = await _ticket(S.REPLIED)
    await workflow.apply_move(TABLE, ticket, "settle", actor=CITIZEN, at=datetime.now(UTC))
    written = await _written(ticket.id)
    assert (written["status"], written["timeline"], written["events"], written["audit"]) == (S.CLOSED, 1, 0, 0)
    assert (await ServiceTicket.get(id=ticket.id)).closed_by == "citizen:7"
    complaint = await _ticket(kind=TicketKind.COMPLAINT)
    await workflow.apply_move(TABLE, complaint, "settle", actor=CLERK, at=datetime.now(UTC))
    assert (await _written(complaint.id))["status"] == S.CLOSED


async def test_an_illegal_move_raises_with_the_allowed_actions_and_writes_nothing(app):
    ticket = await _ticket(S.REPLIED)
    with pytest.raises(IllegalTransition) as refused:
        await workflow.apply_move(TABLE, ticket, "answer", actor=CLERK, at=datetime.now(UTC), note="再答")
    error = refused.value
    assert (error.code, error.status_code, error.message) == ("ILLEGAL_TRANSITION", 409, "测试：当前状态不允许该操作")
    assert error.details == {"status": "replied", "action": "answer", "kind": "consult", "allowed_actions": ["settle"]}
    assert await _written(ticket.id) == _untouched(S.REPLIED)
    # A move the table has for this state, but not for this actor, is just as illegal.
    with pytest.raises(IllegalTransition) as not_theirs:
        await workflow.apply_move(TABLE, ticket, "escalate", actor=CITIZEN, at=datetime.now(UTC))
    assert not_theirs.value.details["allowed_actions"] == ["settle"]
    # So is an action the table does not know.
    with pytest.raises(IllegalTransition):
        await workflow.apply_move(TABLE, ticket, "no_such_action", actor=CLERK, at=datetime.now(UTC))
    assert await _written(ticket.id) == _untouched(S.REPLIED)


async def test_a_missing_note_and_a_stale_expected_version_are_refused_before_anything_is_written(app):
    ticket = await _ticket()
    with pytest.raises(NoteRequired):
        await workflow.apply_move(TABLE, ticket, "answer", actor=CLERK, at=datetime.now(UTC), note="  ")
    with pytest.raises(StaleVersion) as stale:
        await workflow.apply_move(
            TABLE, ticket, "answer", actor=CLERK, at=datetime.now(UTC), note="答", expected_version=0
        )
    assert stale.value.details == {"current_version": 1}
    assert await _written(ticket.id) == _untouched()


async def test_a_move_that_loses_the_race_writes_nothing(app):
    ticket = await _ticket()
    # Another move won in between: the row as read is one version behind.
    await ServiceTicket.filter(id=ticket.id).update(version=2)
    with pytest.raises(StaleVersion):
        await workflow.apply_move(TABLE, ticket, "answer", actor=CLERK, at=datetime.now(UTC), note="答")
    # Not even the effect's own write is left.
    assert await _written(ticket.id) == {**_untouched(), "version": 2}
    assert (ticket.status, ticket.version) == (S.OPEN, 1)


async def test_an_effect_that_raises_leaves_nothing_written(app):
    ticket = await _ticket()
    with pytest.raises(Boom):
        await workflow.apply_move(
            TABLE, ticket, "answer", actor=CLERK, at=datetime.now(UTC), note="答", inputs={"explode": True}
        )
    assert await _written(ticket.id) == _untouched()
    assert (ticket.status, ticket.version) == (S.OPEN, 1)


async def test_a_failure_after_the_update_takes_the_update_and_the_timeline_back_with_it(app, monkeypatch):
    ticket = await _ticket()

    async def emit_fails(*args, **kwargs):
        raise Boom()

    monkeypatch.setattr(outbox, "emit", emit_fails)
    with pytest.raises(Boom):
        await workflow.apply_move(TABLE, ticket, "answer", actor=CLERK, at=datetime.now(UTC), note="答")
    assert await _written(ticket.id) == _untouched()


async def test_a_move_in_the_callers_transaction_stands_or_falls_with_it(app):
    ticket = await _ticket()
    with pytest.raises(Boom):
        async with in_transaction() as connection:
            await workflow.apply_move(
                TABLE, ticket, "answer", actor=CLERK, at=datetime.now(UTC), note="答", connection=connection
            )
            raise Boom()  # the caller's own step after the move fails
    assert await _written(ticket.id) == _untouched()
    again = await ServiceTicket.get(id=ticket.id)
    async with in_transaction() as connection:
        await workflow.apply_move(
            TABLE, again, "answer", actor=CLERK, at=datetime.now(UTC), note="答", connection=connection
        )
    assert (await _written(ticket.id))["status"] == S.REPLIED


# ---- a table whose rows have no version, no timeline and no event ----


async def _paid(ctx: MoveContext) -> Effect:
    return Effect(changes={"open_key": None, "paid_at": ctx.at})


ORDER_TABLE = Table(
    name="workflow_test_order",
    model=PaymentOrder,
    version_field=None,
    moves=(
        Move(
            "pay",
            frozenset({OrderStatus.PENDING, OrderStatus.CLOSED}),
            OrderStatus.PAID,
            frozenset({"system"}),
            effect=_paid,
        ),
    ),
)


async def _order() -> PaymentOrder:
    now = datetime.now(UTC)
    number = f"WT{now:%H%M%S%f}"
    return await PaymentOrder.create(
        order_no=number,
        case_id=1,
        citizen_id=7,
        department_id=3,
        channel="wechat",
        amount_fen=100,
        open_key=number[:32],
        expires_at=now + timedelta(minutes=30),
    )


async def test_without_a_version_the_move_applies_from_any_of_its_sources_and_loses_only_outside_them(app):
    order = await _order()
    # Closed behind our back: paying is legal from closed too, so the payment still lands.
    await PaymentOrder.filter(id=order.id).update(status=OrderStatus.CLOSED)
    await workflow.apply_move(ORDER_TABLE, order, "pay", actor=SYSTEM_ACTOR, at=datetime.now(UTC))
    stored = await PaymentOrder.get(id=order.id)
    assert (stored.status, stored.open_key, order.status) == (OrderStatus.PAID, None, OrderStatus.PAID)

    raced = await _order()
    # Paid behind our back: this one loses, as an illegal move from where the row now is, and writes nothing.
    await PaymentOrder.filter(id=raced.id).update(status=OrderStatus.PAID)
    with pytest.raises(IllegalTransition) as lost:
        await workflow.apply_move(ORDER_TABLE, raced, "pay", actor=SYSTEM_ACTOR, at=datetime.now(UTC))
    assert lost.value.details == {"status": "paid", "action": "pay", "allowed_actions": []}
    stored = await PaymentOrder.get(id=raced.id)
    assert (stored.open_key, stored.paid_at) == (raced.open_key, None)
    assert await OutboxEvent.filter(aggregate_type="workflow_test_order", aggregate_id=raced.id).count() == 0
