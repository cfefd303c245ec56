"""Every legal move of an appointment and of a queue ticket, as tables, and the one function that applies a move.

Appointments: booked -> cancelled (citizen, before the cut-off) | checked_in (citizen or clerk, on the day) |
no_show (the system, once the slot has ended); checked_in -> done (the clerk calls the next number at that window).
Queue tickets: waiting -> called (clerk) -> done (the clerk calls the next at that window).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tortoise.queryset import QuerySet

from app.booking.models import AppointmentStatus, QueueTicketStatus


class Actor(StrEnum):
    CITIZEN = "citizen"
    CLERK = "clerk"
    SYSTEM = "system"


@dataclass(frozen=True)
class Move:
    action: str
    sources: frozenset[StrEnum]
    target: StrEnum
    by: frozenset[Actor]
    # The time column the move stamps, and columns it clears (an appointment's active_key frees its matter and day).
    stamp: str
    clears: tuple[str, ...] = ()


APPOINTMENT_MOVES: tuple[Move, ...] = (
    Move("cancel", frozenset({AppointmentStatus.BOOKED}), AppointmentStatus.CANCELLED, frozenset({Actor.CITIZEN}),
         stamp="cancelled_at", clears=("active_key",)),
    Move("check_in", frozenset({AppointmentStatus.BOOKED}), AppointmentStatus.CHECKED_IN,
         frozenset({Actor.CITIZEN, Actor.CLERK}), stamp="checked_in_at"),
    Move("no_show", frozenset({AppointmentStatus.BOOKED}), AppointmentStatus.NO_SHOW, frozenset({Actor.SYSTEM}),
         stamp="no_show_at", clears=("active_key",)),
    Move("finish", frozenset({AppointmentStatus.CHECKED_IN}), AppointmentStatus.DONE, frozenset({Actor.CLERK}),
         stamp="done_at", clears=("active_key",)),
)

QUEUE_TICKET_MOVES: tuple[Move, ...] = (
    Move("call", frozenset({QueueTicketStatus.WAITING}), QueueTicketStatus.CALLED, frozenset({Actor.CLERK}),
         stamp="called_at"),
    Move("finish", frozenset({QueueTicketStatus.CALLED}), QueueTicketStatus.DONE, frozenset({Actor.CLERK}),
         stamp="finished_at"),
)


def move_of(table: tuple[Move, ...], action: str) -> Move:
    """The move of that name in the table (a KeyError is a programming error, not a request's)."""
    for move in table:
        if move.action == action:
            return move
    raise KeyError(action)


def allowed_actions(table: tuple[Move, ...], status: StrEnum, actor: Actor) -> list[str]:
    """The actions this actor may take from this state, in the table's order."""
    return [move.action for move in table if status in move.sources and actor in move.by]


async def apply_move(rows: QuerySet, table: tuple[Move, ...], action: str, *, actor: Actor, at: datetime,
                     connection=None, **changes) -> int:
    """Move the rows still in a source state (one conditional UPDATE); returns how many moved, 0 when none could."""
    move = move_of(table, action)
    if actor not in move.by:
        raise PermissionError(f"{actor} may not {action}")
    values = {"status": move.target, move.stamp: at, **{column: None for column in move.clears}, **changes}
    return await rows.filter(status__in=list(move.sources)).using_db(connection).update(**values)
