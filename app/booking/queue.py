"""The hall queue: queue tickets (numbers: A for appointments checked in, B for walk-ins), calling, the queue's state.

A queue ticket is a number in a hall's queue, not a feedback ticket (app/tickets).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from app.booking.appointments import own_appointment, settle_no_show
from app.booking.errors import AppointmentNotFound, AppointmentStateConflict, CheckInNotOpen, HallNotFound, QueueEmpty
from app.booking.models import (
    Appointment,
    AppointmentStatus,
    QueueCounter,
    QueueTicket,
    QueueTicketKind,
    QueueTicketStatus,
)
from app.booking.workflow import APPOINTMENT_TABLE, CLERK_ACTOR, QUEUE_TICKET_TABLE, citizen_actor, sources_of
from app.catalog import service as catalog
from app.core import workdays
from app.core.errors import IllegalTransition, ValidationFailed
from app.core.timeutil import as_utc, to_iso
from app.core.workflow import Actor, apply_move

SELF_CHECK_IN_BEFORE = timedelta(minutes=30)
APPOINTMENT_PREFIX = "A"
WALK_IN_PREFIX = "B"


async def _ahead(queue_ticket: QueueTicket) -> int:
    waiting = QueueTicket.filter(hall_id=queue_ticket.hall_id, day=queue_ticket.day, status=QueueTicketStatus.WAITING)
    if queue_ticket.prefix == APPOINTMENT_PREFIX:
        return await waiting.filter(prefix=APPOINTMENT_PREFIX, seq__lt=queue_ticket.seq).count()
    return await waiting.filter(
        Q(prefix=APPOINTMENT_PREFIX) | Q(prefix=queue_ticket.prefix, seq__lt=queue_ticket.seq)
    ).count()


async def queue_ticket_view(queue_ticket: QueueTicket) -> dict:
    ahead = await _ahead(queue_ticket) if queue_ticket.status == QueueTicketStatus.WAITING else 0
    return {
        "id": queue_ticket.id,
        "number": queue_ticket.number,
        "hall_id": queue_ticket.hall_id,
        "kind": queue_ticket.kind.value,
        "status": queue_ticket.status.value,
        "window": queue_ticket.window,
        "ahead": ahead,
        "issued_at": to_iso(queue_ticket.created_at),
    }


async def _issue_queue_ticket(
    connection,
    *,
    hall_id: int,
    day: date,
    prefix: str,
    kind: QueueTicketKind,
    appointment_id: int | None = None,
    citizen_id: int | None = None,
    matter_id: int | None = None,
) -> QueueTicket:
    # The UPDATE locks the counter row until commit, so concurrent check-ins get consecutive numbers.
    await QueueCounter.bulk_create(
        [QueueCounter(hall_id=hall_id, day=day, prefix=prefix, last_seq=0)], ignore_conflicts=True, using_db=connection
    )
    counter = QueueCounter.filter(hall_id=hall_id, day=day, prefix=prefix).using_db(connection)
    await counter.update(last_seq=F("last_seq") + 1)
    seq = (await counter.values_list("last_seq", flat=True))[0]
    return await QueueTicket.create(
        hall_id=hall_id,
        day=day,
        prefix=prefix,
        seq=seq,
        number=f"{prefix}{seq:03d}",
        kind=kind,
        appointment_id=appointment_id,
        citizen_id=citizen_id,
        matter_id=matter_id,
        using_db=connection,
    )


async def _check_in(appointment: Appointment, actor: Actor, now: datetime) -> dict:
    async with in_transaction() as connection:
        # The number is issued in the move's transaction: a checked-in appointment always has one.
        await apply_move(APPOINTMENT_TABLE, appointment, "check_in", actor=actor, at=now, connection=connection)
        queue_ticket = await _issue_queue_ticket(
            connection,
            hall_id=appointment.hall_id,
            day=appointment.day,
            prefix=APPOINTMENT_PREFIX,
            kind=QueueTicketKind.APPOINTMENT,
            appointment_id=appointment.id,
            citizen_id=appointment.citizen_id,
            matter_id=appointment.matter_id,
        )
    return {"ticket": await queue_ticket_view(queue_ticket), "appointment_id": appointment.id}


async def _already_checked_in(appointment: Appointment) -> dict | None:
    if appointment.status != AppointmentStatus.CHECKED_IN:
        return None
    queue_ticket = await QueueTicket.get(appointment_id=appointment.id)
    return {"ticket": await queue_ticket_view(queue_ticket), "appointment_id": appointment.id}


async def check_in_by_code(*, code: str, now: datetime | None = None) -> dict:
    """A clerk checks a citizen in by their code on the appointment's day, until the slot ends."""
    now = as_utc(now)
    appointment = await Appointment.get_or_none(code=code.strip().upper())
    if appointment is None:
        raise AppointmentNotFound()
    appointment = await settle_no_show(appointment, now)
    repeated = await _already_checked_in(appointment)
    if repeated is not None:
        return repeated
    if appointment.status != AppointmentStatus.BOOKED:
        raise AppointmentStateConflict(details={"status": appointment.status.value})
    if workdays.local_date(now) != appointment.day:
        raise CheckInNotOpen("只能在预约当天签到")
    return await _check_in(appointment, CLERK_ACTOR, now)


async def self_check_in(*, citizen_id: int, appointment_id: int, now: datetime | None = None) -> dict:
    """The citizen checks in on arrival, from 30 minutes before the slot until it ends."""
    now = as_utc(now)
    appointment = await settle_no_show(await own_appointment(citizen_id, appointment_id), now)
    repeated = await _already_checked_in(appointment)
    if repeated is not None:
        return repeated
    if appointment.status != AppointmentStatus.BOOKED:
        raise AppointmentStateConflict(details={"status": appointment.status.value})
    if not appointment.start_at - SELF_CHECK_IN_BEFORE <= now < appointment.end_at:
        raise CheckInNotOpen(
            details={"from": to_iso(appointment.start_at - SELF_CHECK_IN_BEFORE), "until": to_iso(appointment.end_at)}
        )
    return await _check_in(appointment, citizen_actor(citizen_id), now)


async def _require_hall(hall_id: int) -> dict:
    hall = await catalog.get_hall(hall_id)
    if hall is None:
        raise HallNotFound()
    return hall


async def take_walk_in_queue_ticket(
    *, hall_id: int, matter_id: int | None, citizen_id: int | None = None, now: datetime | None = None
) -> dict:
    """A kiosk number for someone without an appointment (B numbers, called after appointments)."""
    now = as_utc(now)
    await _require_hall(hall_id)
    if matter_id is not None:
        await catalog.require_matter(matter_id)
    async with in_transaction() as connection:
        queue_ticket = await _issue_queue_ticket(
            connection,
            hall_id=hall_id,
            day=workdays.local_date(now),
            prefix=WALK_IN_PREFIX,
            kind=QueueTicketKind.WALK_IN,
            citizen_id=citizen_id,
            matter_id=matter_id,
        )
    return await queue_ticket_view(queue_ticket)


async def _finish(queue_ticket: QueueTicket, now: datetime, connection) -> None:
    try:
        await apply_move(QUEUE_TICKET_TABLE, queue_ticket, "finish", actor=CLERK_ACTOR, at=now, connection=connection)
    except IllegalTransition:
        return  # another call at this window finished it (and its appointment) first
    if queue_ticket.appointment_id is not None:
        appointment = await Appointment.get(id=queue_ticket.appointment_id).using_db(connection)
        if appointment.status == AppointmentStatus.CHECKED_IN:  # its number was issued at check-in
            await apply_move(APPOINTMENT_TABLE, appointment, "finish", actor=CLERK_ACTOR, at=now, connection=connection)


async def call_next(*, hall_id: int, window: int, now: datetime | None = None) -> dict:
    """Finish what this window was serving and call the next number: appointments first, then in order."""
    now = as_utc(now)
    hall = await _require_hall(hall_id)
    if window > hall["windows"]:
        raise ValidationFailed(
            details={"fields": [{"field": "window", "message": f"该大厅只有 {hall['windows']} 个窗口"}]}
        )
    day = workdays.local_date(now)
    async with in_transaction() as connection:
        for serving in await QueueTicket.filter(
            hall_id=hall_id, day=day, status=QueueTicketStatus.CALLED, window=window
        ).using_db(connection):
            await _finish(serving, now, connection)
    callable_states = sources_of(QUEUE_TICKET_TABLE, "call")
    while True:
        candidate = (
            await QueueTicket.filter(hall_id=hall_id, day=day, status__in=callable_states)
            .order_by("prefix", "seq")
            .first()
        )
        if candidate is None:
            raise QueueEmpty()
        try:
            # Two windows may pick the same number; the move's conditional UPDATE lets exactly one have it, and
            # records queue.called in its transaction.
            await apply_move(
                QUEUE_TICKET_TABLE, candidate, "call", actor=CLERK_ACTOR, at=now, inputs={"window": window}
            )
        except IllegalTransition:
            continue  # the other window has it: the next number
        return await queue_ticket_view(candidate)


async def queue_status(*, hall_id: int, now: datetime | None = None) -> dict:
    """How many wait today at a hall, and which numbers are being served at which windows."""
    now = as_utc(now)
    await _require_hall(hall_id)
    day = workdays.local_date(now)
    today = QueueTicket.filter(hall_id=hall_id, day=day)
    appointments = await today.filter(status=QueueTicketStatus.WAITING, prefix=APPOINTMENT_PREFIX).count()
    walk_ins = await today.filter(status=QueueTicketStatus.WAITING, prefix=WALK_IN_PREFIX).count()
    serving = await today.filter(status=QueueTicketStatus.CALLED).order_by("window")
    return {
        "hall_id": hall_id,
        "date": day.isoformat(),
        "waiting": appointments + walk_ins,
        "waiting_appointments": appointments,
        "waiting_walk_ins": walk_ins,
        "serving": [{"number": t.number, "window": t.window, "called_at": to_iso(t.called_at)} for t in serving],
    }
