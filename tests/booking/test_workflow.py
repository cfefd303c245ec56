"""The appointment and queue-ticket transition tables (carried out by app.core.workflow)."""

from datetime import UTC, datetime

import pytest

from app.booking.models import Appointment
from app.booking.models import AppointmentStatus as A
from app.booking.models import QueueTicketStatus as Q
from app.booking.workflow import (
    APPOINTMENT_MOVES,
    APPOINTMENT_TABLE,
    CITIZEN,
    CLERK,
    QUEUE_TICKET_MOVES,
    QUEUE_TICKET_TABLE,
    move_all,
    sources_of,
)
from app.core.errors import IllegalTransition
from app.core.workflow import SYSTEM, SYSTEM_ACTOR, Actor, MoveContext, allowed_actions, apply_move, moves_named

AT = datetime(2026, 9, 21, 1, 0, tzinfo=UTC)


def test_every_appointment_move_is_in_the_table():
    moves = {(m.action, tuple(sorted(m.sources)), m.target, tuple(sorted(m.actors))) for m in APPOINTMENT_MOVES}
    assert moves == {
        ("cancel", (A.BOOKED,), A.CANCELLED, (CITIZEN,)),
        ("check_in", (A.BOOKED,), A.CHECKED_IN, (CITIZEN, CLERK)),
        ("no_show", (A.BOOKED,), A.NO_SHOW, (SYSTEM,)),
        ("finish", (A.CHECKED_IN,), A.DONE, (CLERK,)),
    }
    moves = {(m.action, tuple(sorted(m.sources)), m.target, tuple(sorted(m.actors))) for m in QUEUE_TICKET_MOVES}
    assert moves == {
        ("call", (Q.WAITING,), Q.CALLED, (CLERK,)),
        ("finish", (Q.CALLED,), Q.DONE, (CLERK,)),
        ("skip", (Q.CALLED,), Q.SKIPPED, (CLERK,)),
        ("recall", (Q.CALLED, Q.SKIPPED), Q.CALLED, (CLERK,)),
    }
    assert (APPOINTMENT_TABLE.version_field, APPOINTMENT_TABLE.timeline) == (None, None)
    assert (QUEUE_TICKET_TABLE.version_field, QUEUE_TICKET_TABLE.timeline) == (None, None)


async def test_each_move_stamps_its_time_and_leaving_the_active_states_frees_the_matter_and_day():
    row = Appointment(id=1, slot_id=1, citizen_id=1, matter_id=1, hall_id=1, start_at=AT)
    stamps = {}
    for move in APPOINTMENT_MOVES:
        effect = await move.effect(
            MoveContext(row=row, move=move, actor=SYSTEM_ACTOR, note="", at=AT, connection=None, inputs={})
        )
        stamps[move.action] = effect.changes
    assert stamps == {
        "cancel": {"cancelled_at": AT, "active_key": None},
        "check_in": {"checked_in_at": AT},
        "no_show": {"no_show_at": AT, "active_key": None},
        "finish": {"done_at": AT, "active_key": None},
    }


def test_allowed_actions_follow_the_table_per_actor():
    assert allowed_actions(APPOINTMENT_TABLE, A.BOOKED, (CITIZEN,)) == ["cancel", "check_in"]
    assert allowed_actions(APPOINTMENT_TABLE, A.BOOKED, (CLERK,)) == ["check_in"]
    assert allowed_actions(APPOINTMENT_TABLE, A.CHECKED_IN, (CLERK,)) == ["finish"]
    assert allowed_actions(APPOINTMENT_TABLE, A.NO_SHOW, (CITIZEN,)) == []
    assert allowed_actions(QUEUE_TICKET_TABLE, Q.WAITING, (CLERK,)) == ["call"]
    assert allowed_actions(QUEUE_TICKET_TABLE, Q.CALLED, (CLERK,)) == ["finish", "skip", "recall"]
    assert allowed_actions(QUEUE_TICKET_TABLE, Q.SKIPPED, (CLERK,)) == ["recall"]
    assert allowed_actions(QUEUE_TICKET_TABLE, Q.WAITING, (CITIZEN,)) == []
    assert allowed_actions(QUEUE_TICKET_TABLE, Q.DONE, (CLERK,)) == []
    assert sources_of(QUEUE_TICKET_TABLE, "call") == [Q.WAITING]


async def test_a_move_by_someone_the_table_does_not_name_is_refused_before_any_write():
    row = Appointment(id=1, status=A.BOOKED)
    clerk_cancelling = Actor(ref="staff", kinds=(CLERK,))
    with pytest.raises(IllegalTransition) as refused:
        await apply_move(APPOINTMENT_TABLE, row, "cancel", actor=clerk_cancelling, at=AT)
    assert refused.value.code == "ILLEGAL_TRANSITION" and refused.value.status_code == 409
    assert refused.value.details["allowed_actions"] == ["check_in"]
    assert row.status == A.BOOKED
    assert moves_named(QUEUE_TICKET_TABLE, "cancel") == []
    with pytest.raises(PermissionError):  # the bulk move is the system's only
        await move_all(APPOINTMENT_TABLE, None, "cancel", at=AT)
