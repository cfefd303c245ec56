"""The appointment and queue-ticket transition tables."""

import pytest

from app.booking.models import AppointmentStatus as A
from app.booking.models import QueueTicketStatus as Q
from app.booking.workflow import APPOINTMENT_MOVES, QUEUE_TICKET_MOVES, Actor, allowed_actions, apply_move, move_of


def test_every_appointment_move_is_in_the_table():
    moves = {(m.action, tuple(sorted(m.sources)), m.target, tuple(sorted(m.by))) for m in APPOINTMENT_MOVES}
    assert moves == {
        ("cancel", (A.BOOKED,), A.CANCELLED, (Actor.CITIZEN,)),
        ("check_in", (A.BOOKED,), A.CHECKED_IN, (Actor.CITIZEN, Actor.CLERK)),
        ("no_show", (A.BOOKED,), A.NO_SHOW, (Actor.SYSTEM,)),
        ("finish", (A.CHECKED_IN,), A.DONE, (Actor.CLERK,)),
    }
    # Leaving the active states frees the citizen's matter and day.
    assert {m.action for m in APPOINTMENT_MOVES if "active_key" in m.clears} == {"cancel", "no_show", "finish"}


def test_allowed_actions_follow_the_table_per_actor():
    assert allowed_actions(APPOINTMENT_MOVES, A.BOOKED, Actor.CITIZEN) == ["cancel", "check_in"]
    assert allowed_actions(APPOINTMENT_MOVES, A.BOOKED, Actor.CLERK) == ["check_in"]
    assert allowed_actions(APPOINTMENT_MOVES, A.CHECKED_IN, Actor.CLERK) == ["finish"]
    assert allowed_actions(APPOINTMENT_MOVES, A.NO_SHOW, Actor.CITIZEN) == []
    assert allowed_actions(QUEUE_TICKET_MOVES, Q.WAITING, Actor.CLERK) == ["call"]
    assert allowed_actions(QUEUE_TICKET_MOVES, Q.CALLED, Actor.CLERK) == ["finish"]
    assert allowed_actions(QUEUE_TICKET_MOVES, Q.DONE, Actor.CLERK) == []


async def test_a_move_by_someone_the_table_does_not_name_is_refused_before_any_write():
    with pytest.raises(PermissionError):
        await apply_move(None, APPOINTMENT_MOVES, "cancel", actor=Actor.CLERK, at=None)
    with pytest.raises(KeyError):
        move_of(QUEUE_TICKET_MOVES, "cancel")
