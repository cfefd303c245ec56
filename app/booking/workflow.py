"""The moves of an appointment and of a queue ticket, as tables; app.core.workflow.apply_move() carries them out.

Appointments: booked -> cancelled (citizen, before the cut-off) | checked_in (citizen or clerk, on the day) |
no_show (the system, once the slot has ended); checked_in -> done (the clerk calls the next number at that window).
Queue tickets: waiting -> called (clerk) -> done (served: the clerk finishes it, or calls the next at that window) |
skipped (nobody came to the window); called or skipped -> called again (recall, at a window: the number is announced
again and pushed to its citizen).
Neither has a version column or a timeline; booking's staff moves write no audit rows (its services are not told
which staff member acts), so its clerk is an actor without a staff id.
"""

from __future__ import annotations

from datetime import datetime

from tortoise.expressions import F
from tortoise.queryset import QuerySet

from app.booking.models import Appointment, QueueTicket, Slot
from app.booking.models import AppointmentStatus as A
from app.booking.models import QueueTicketStatus as Q
from app.core import workflow
from app.core.timeutil import to_iso
from app.core.workflow import SYSTEM, SYSTEM_ACTOR, Actor, Effect, Event, Move, MoveContext

CITIZEN = "citizen"
CLERK = "clerk"
CLERK_ACTOR = Actor(ref="staff", kinds=(CLERK,))

_CITIZEN = frozenset({CITIZEN})
_CLERK = frozenset({CLERK})
_SYSTEM = frozenset({SYSTEM})


def citizen_actor(citizen_id: int) -> Actor:
    """The citizen an appointment belongs to, as the tables know them."""
    return Actor(ref=f"citizen:{citizen_id}", kinds=(CITIZEN,))


# ---- an appointment ----


async def _cancel(ctx: MoveContext) -> Effect:
    appointment: Appointment = ctx.row

    async def free_the_seat(connection) -> None:
        await Slot.filter(id=appointment.slot_id, booked__gt=0).using_db(connection).update(booked=F("booked") - 1)

    # active_key back to NULL: the citizen's matter and day are free again.
    return Effect(
        changes={"cancelled_at": ctx.at, "active_key": None},
        event=Event(
            "appointment.cancelled",
            {
                "appointment_id": appointment.id,
                "matter_id": appointment.matter_id,
                "hall_id": appointment.hall_id,
                "start": to_iso(appointment.start_at),
                "reason": "本人取消",
            },
            citizen_id=appointment.citizen_id,
        ),
        after_update=free_the_seat,
    )


async def _check_in(ctx: MoveContext) -> Effect:
    return Effect(changes={"checked_in_at": ctx.at})


async def _no_show(ctx: MoveContext) -> Effect:
    # No row needed (mark_no_shows moves many at once with these changes): the time and the freed matter and day.
    return Effect(changes={"no_show_at": ctx.at, "active_key": None})


async def _finish_appointment(ctx: MoveContext) -> Effect:
    return Effect(changes={"done_at": ctx.at, "active_key": None})


APPOINTMENT_MOVES: tuple[Move, ...] = (
    Move("cancel", frozenset({A.BOOKED}), A.CANCELLED, _CITIZEN, effect=_cancel),
    Move("check_in", frozenset({A.BOOKED}), A.CHECKED_IN, _CITIZEN | _CLERK, effect=_check_in),
    Move("no_show", frozenset({A.BOOKED}), A.NO_SHOW, _SYSTEM, effect=_no_show),
    Move("finish", frozenset({A.CHECKED_IN}), A.DONE, _CLERK, effect=_finish_appointment),
)
APPOINTMENT_TABLE = workflow.Table(name="appointment", model=Appointment, moves=APPOINTMENT_MOVES, version_field=None)


# ---- a queue ticket (inputs of call: window) ----


def _called(queue_ticket: QueueTicket, window: int) -> Event:
    return Event(
        "queue.called",
        {
            "ticket_id": queue_ticket.id,
            "hall_id": queue_ticket.hall_id,
            "window": window,
            "number": queue_ticket.number,
        },
        citizen_id=queue_ticket.citizen_id,
    )


async def _call(ctx: MoveContext) -> Effect:
    window = ctx.inputs["window"]
    return Effect(changes={"called_at": ctx.at, "window": window}, event=_called(ctx.row, window))


async def _finish_queue_ticket(ctx: MoveContext) -> Effect:
    return Effect(changes={"finished_at": ctx.at})


async def _skip(ctx: MoveContext) -> Effect:
    return Effect(changes={"skipped_at": ctx.at})


async def _recall(ctx: MoveContext) -> Effect:
    # called_at stays the first call's: the hall's waiting time is until the number was first called.
    queue_ticket: QueueTicket = ctx.row
    window = ctx.inputs.get("window") or queue_ticket.window
    return Effect(
        changes={"recalled_at": ctx.at, "recalls": queue_ticket.recalls + 1, "window": window, "skipped_at": None},
        event=_called(queue_ticket, window),
    )


QUEUE_TICKET_MOVES: tuple[Move, ...] = (
    Move("call", frozenset({Q.WAITING}), Q.CALLED, _CLERK, effect=_call),
    Move("finish", frozenset({Q.CALLED}), Q.DONE, _CLERK, effect=_finish_queue_ticket),
    Move("skip", frozenset({Q.CALLED}), Q.SKIPPED, _CLERK, effect=_skip),
    Move("recall", frozenset({Q.CALLED, Q.SKIPPED}), Q.CALLED, _CLERK, effect=_recall),
)
QUEUE_TICKET_TABLE = workflow.Table(
    name="queue_ticket", model=QueueTicket, moves=QUEUE_TICKET_MOVES, version_field=None
)


def sources_of(table: workflow.Table, action: str) -> list:
    """Every state the action may start from (for a query that picks rows it could move)."""
    return sorted({source for move in workflow.moves_named(table, action) for source in move.sources})


async def move_all(table: workflow.Table, rows: QuerySet, action: str, *, at: datetime, connection=None) -> int:
    """The system's move of every row still where it may start, as one conditional UPDATE; returns how many moved."""
    # Not apply_move() row by row: the no-show sweep may move thousands of rows after a busy day, and a read plus
    # a transaction per row would turn one statement into thousands. The states and the changed columns come from
    # the table's move and its effect (which needs no row), so there is still one copy of the rules; a move with
    # an event or a write to another row cannot be made this way.
    (move,) = workflow.moves_named(table, action)
    if not move.admits(SYSTEM_ACTOR.kinds):
        raise PermissionError(f"the system may not {action}")
    effect = (
        await move.effect(
            MoveContext(row=None, move=move, actor=SYSTEM_ACTOR, note="", at=at, connection=connection, inputs={})
        )
        if move.effect
        else Effect()
    )
    if effect.event is not None or effect.after_update is not None:
        raise ValueError(f"{table.name}.{action} writes more than its rows: move them one by one")
    return (
        await rows.filter(**{f"{table.status_field}__in": list(move.sources)})
        .using_db(connection)
        .update(**{table.status_field: move.target, **effect.changes})
    )
