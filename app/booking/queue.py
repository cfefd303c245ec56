"""The hall queue: queue tickets (numbers: A for appointments checked in, B for walk-ins), calling, finishing,
skipping and recalling, the queue's state and its times, a citizen's own numbers, and the hall's day of appointments.

A queue ticket is a number in a hall's queue, not a feedback ticket (app/tickets). Walk-in numbers are issued only
while the hall is open (its catalogue opening periods on the city's working days). A citizen's number is pushed when
it is called (queue.called) and once when three numbers are ahead of it (queue.near). In a hall with windows set
up, a window calls only the numbers it serves (its department's matters, its listed matters; a general window any).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F, Q, RawSQL
from tortoise.transactions import in_transaction

from app.booking.appointments import own_appointment, settle_no_show
from app.booking.errors import (
    AppointmentNotFound,
    AppointmentStateConflict,
    CheckInNotOpen,
    HallClosed,
    HallNotFound,
    MatterNotServedHere,
    QueueEmpty,
    QueueTicketNotFound,
)
from app.booking.models import (
    Appointment,
    AppointmentStatus,
    QueueCounter,
    QueueTicket,
    QueueTicketKind,
    QueueTicketStatus,
    Schedule,
)
from app.booking.workflow import APPOINTMENT_TABLE, CLERK_ACTOR, QUEUE_TICKET_TABLE, citizen_actor, sources_of
from app.catalog import service as catalog
from app.core import outbox, workdays
from app.core.aggregates import days_between, figures_by
from app.core.db import dialect
from app.core.errors import IllegalTransition, ValidationFailed
from app.core.timeutil import CITY_TZ, as_utc, to_iso
from app.core.workflow import Actor, apply_move
from app.identity import service as identity

SELF_CHECK_IN_BEFORE = timedelta(minutes=30)
NEAR = 3  # numbers ahead when the citizen is told to come close to the windows
APPOINTMENT_PREFIX = "A"
WALK_IN_PREFIX = "B"


@dataclass(frozen=True)
class _Serves:
    """Which waiting numbers a window (or several) may call: `matters` None, any; else numbers of these matters, and
    numbers taken without a matter when `unmatched`."""

    matters: frozenset[int] | None
    unmatched: bool = True

    def takes(self, matter_id: int | None) -> bool:
        if self.matters is None:
            return True
        return self.unmatched if matter_id is None else matter_id in self.matters

    def narrow(self, query):
        """The query (of queue tickets) kept to the numbers served here."""
        if self.matters is None:
            return query
        served = Q(matter_id__in=sorted(self.matters) or [0])
        return query.filter((served | Q(matter_id__isnull=True)) if self.unmatched else served)


ANY = _Serves(None)


async def _routes(windows: list[dict]) -> dict[int, _Serves]:
    """What each open window of a hall may call, by number (empty: the hall has no windows set up, or none open).

    A general window (no department, no matters) calls any number; a department's window only numbers of that
    department's matters, and a window listing matters only those (of its department, when it names one). A number
    taken without a matter goes to a general window, or to any window while the hall has no general one open."""
    open_windows = [w for w in windows if w["open"]]
    general = any(w["department_id"] is None and not w["matter_ids"] for w in open_windows)
    # Matter -> department through the catalogue, once for the whole hall: this request's only look-up.
    departments = await catalog.matter_departments(
        department_ids={w["department_id"] for w in open_windows if w["department_id"] and not w["matter_ids"]},
        matter_ids={m for w in open_windows if w["department_id"] for m in w["matter_ids"]},
    )
    routes = {}
    for w in open_windows:
        if w["department_id"] is None and not w["matter_ids"]:
            routes[w["number"]] = ANY
        elif not w["matter_ids"]:
            matters = frozenset(m for m, d in departments.items() if d == w["department_id"])
            routes[w["number"]] = _Serves(matters, unmatched=not general)
        elif w["department_id"] is None:
            routes[w["number"]] = _Serves(frozenset(w["matter_ids"]), unmatched=not general)
        else:
            matters = frozenset(m for m in w["matter_ids"] if departments.get(m) == w["department_id"])
            routes[w["number"]] = _Serves(matters, unmatched=not general)
    return routes


async def _hall_routes(hall_id: int) -> dict[int, _Serves]:
    return await _routes(await catalog.hall_windows(hall_id))


def _servers_of(routes: dict[int, _Serves], matter_id: int | None) -> _Serves:
    """The numbers that the open windows able to serve this matter call: those can be called before it. Hall-wide
    when a general window serves it, the hall has no windows set up, or no open window serves it (it waits for one
    to open: counted as if any window could)."""
    able = [serves for serves in routes.values() if serves.takes(matter_id)]
    if not able or any(serves.matters is None for serves in able):
        return ANY
    return _Serves(frozenset().union(*(s.matters for s in able)), unmatched=any(s.unmatched for s in able))


async def _ahead(queue_ticket: QueueTicket, routes: dict[int, _Serves] | None = None) -> int:
    if routes is None:
        routes = await _hall_routes(queue_ticket.hall_id)
    waiting = _servers_of(routes, queue_ticket.matter_id).narrow(
        QueueTicket.filter(hall_id=queue_ticket.hall_id, day=queue_ticket.day, status=QueueTicketStatus.WAITING)
    )
    if queue_ticket.prefix == APPOINTMENT_PREFIX:
        return await waiting.filter(prefix=APPOINTMENT_PREFIX, seq__lt=queue_ticket.seq).count()
    return await waiting.filter(
        Q(prefix=APPOINTMENT_PREFIX) | Q(prefix=queue_ticket.prefix, seq__lt=queue_ticket.seq)
    ).count()


async def queue_ticket_view(queue_ticket: QueueTicket, routes: dict[int, _Serves] | None = None) -> dict:
    ahead = await _ahead(queue_ticket, routes) if queue_ticket.status == QueueTicketStatus.WAITING else 0
    return {
        "id": queue_ticket.id,
        "number": queue_ticket.number,
        "hall_id": queue_ticket.hall_id,
        "kind": queue_ticket.kind.value,
        "status": queue_ticket.status.value,
        "window": queue_ticket.window,
        "ahead": ahead,
        "issued_at": to_iso(queue_ticket.created_at),
        "called_at": to_iso(queue_ticket.called_at),
        "finished_at": to_iso(queue_ticket.finished_at),
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
    now: datetime,
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
        # The app's clock, not the database's: waiting time is measured from here to the call.
        created_at=now,
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
            now=now,
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


async def _require_served_here(hall: dict, matter_id: int) -> None:
    """A number for a matter that no window of the hall handles, open or closed, would never be called: refused."""
    windows = await catalog.hall_windows(hall["id"])
    if not windows:
        return  # no windows set up: any window takes any number
    routes = await _routes([{**window, "open": True} for window in windows])
    if not any(serves.takes(matter_id) for serves in routes.values()):
        raise MatterNotServedHere(
            f"{hall['name']}没有办理该事项的窗口，请到办事指南所列的其他大厅取号",
            details={"hall_id": hall["id"], "matter_id": matter_id},
        )


async def take_walk_in_queue_ticket(
    *, hall_id: int, matter_id: int | None, citizen_id: int | None = None, now: datetime | None = None
) -> dict:
    """A number for someone without an appointment (B numbers, called after appointments), while the hall is open;
    taken by a logged-in citizen (citizen_id), it is theirs: listed in their app and pushed."""
    now = as_utc(now)
    hall = await _require_hall(hall_id)
    if not catalog.hall_is_open(hall, now):
        opens = catalog.hall_opens_next(hall, now)
        when = f"，下次开放时间 {opens.astimezone(CITY_TZ):%Y-%m-%d %H:%M}" if opens else ""
        raise HallClosed(
            f"{hall['name']}不在办公时间，暂停取号{when}",
            details={"opens_at": to_iso(opens), "opening_hours": hall["opening_hours"]},
        )
    if matter_id is not None:
        await catalog.require_matter(matter_id)
        await _require_served_here(hall, matter_id)
    async with in_transaction() as connection:
        queue_ticket = await _issue_queue_ticket(
            connection,
            hall_id=hall_id,
            day=workdays.local_date(now),
            prefix=WALK_IN_PREFIX,
            kind=QueueTicketKind.WALK_IN,
            citizen_id=citizen_id,
            matter_id=matter_id,
            now=now,
        )
    return await queue_ticket_view(queue_ticket)


async def _finish(queue_ticket: QueueTicket, now: datetime, connection, *, quietly: bool = True) -> None:
    try:
        await apply_move(QUEUE_TICKET_TABLE, queue_ticket, "finish", actor=CLERK_ACTOR, at=now, connection=connection)
    except IllegalTransition:
        if not quietly:
            raise
        return  # another call at this window finished it (and its appointment) first
    if queue_ticket.appointment_id is not None:
        appointment = await Appointment.get(id=queue_ticket.appointment_id).using_db(connection)
        if appointment.status == AppointmentStatus.CHECKED_IN:  # its number was issued at check-in
            await apply_move(APPOINTMENT_TABLE, appointment, "finish", actor=CLERK_ACTOR, at=now, connection=connection)


def _check_window(hall: dict, window: int) -> None:
    listed = {w["number"]: w for w in hall.get("service_windows") or []}
    if listed:
        # The hall's windows are set up: only an open one of them calls.
        if window not in listed:
            raise ValidationFailed(details={"fields": [{"field": "window", "message": f"该大厅没有 {window} 号窗口"}]})
        if not listed[window]["open"]:
            raise ValidationFailed(details={"fields": [{"field": "window", "message": f"{window} 号窗口已关闭"}]})
        return
    if window > hall["windows"]:
        raise ValidationFailed(
            details={"fields": [{"field": "window", "message": f"该大厅只有 {hall['windows']} 个窗口"}]}
        )


async def hall_activity(hall_id: int, *, window: int | None = None, now: datetime | None = None) -> dict:
    """What stands in the way of closing a hall's window or the hall: numbers waiting in its queue today, numbers
    being served (at this window, when given) and appointments still to come (booked or checked in)."""
    now = as_utc(now)
    day = workdays.local_date(now)
    today = QueueTicket.filter(hall_id=hall_id, day=day)
    serving = today.filter(status=QueueTicketStatus.CALLED)
    if window is not None:
        serving = serving.filter(window=window)
    return {
        "waiting": await today.filter(status=QueueTicketStatus.WAITING).count(),
        "serving": await serving.count(),
        "future_appointments": await Appointment.filter(
            hall_id=hall_id,
            status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN],
            end_at__gt=now,
        ).count(),
        "schedules": await Schedule.filter(hall_id=hall_id, active=True).count(),
    }


async def _unserved(waiting, routes: dict[int, _Serves]) -> int:
    if not routes:
        return await waiting.count()
    every = list(routes.values())
    if any(serves.matters is None for serves in every):
        return 0
    served = _Serves(frozenset().union(*(s.matters for s in every)), unmatched=any(s.unmatched for s in every))
    return await waiting.count() - await served.narrow(waiting).count()


async def waiting_only_for(hall_id: int, window: int, *, now: datetime | None = None) -> int:
    """How many numbers wait today that this window of the hall serves and no other open window would: closing it
    would leave them waiting for nobody."""
    windows = await catalog.hall_windows(hall_id)
    waiting = QueueTicket.filter(
        hall_id=hall_id, day=workdays.local_date(as_utc(now)), status=QueueTicketStatus.WAITING
    )
    if not await waiting.exists():
        return 0
    others = [w for w in windows if w["number"] != window]
    return await _unserved(waiting, await _routes(others)) - await _unserved(waiting, await _routes(windows))


async def call_next(*, hall_id: int, window: int, now: datetime | None = None) -> dict:
    """Finish what this window was serving and call the next number it serves: appointments first, then in order.
    A hall's window calls only the numbers it serves (its department's, its matters; a general window any)."""
    now = as_utc(now)
    hall = await _require_hall(hall_id)
    _check_window(hall, window)
    routes = await _routes(hall["service_windows"])
    serves = routes.get(window, ANY)
    day = workdays.local_date(now)
    async with in_transaction() as connection:
        for serving in await QueueTicket.filter(
            hall_id=hall_id, day=day, status=QueueTicketStatus.CALLED, window=window
        ).using_db(connection):
            await _finish(serving, now, connection)
    callable_states = sources_of(QUEUE_TICKET_TABLE, "call")
    waiting = QueueTicket.filter(hall_id=hall_id, day=day, status__in=callable_states)
    while True:
        candidate = await serves.narrow(waiting).order_by("prefix", "seq").first()
        if candidate is None:
            others = 0 if serves.matters is None else await waiting.count()
            if others:
                raise QueueEmpty(
                    f"没有本窗口可办理的等候号（大厅还有 {others} 人在等其他窗口）", details={"waiting_in_hall": others}
                )
            raise QueueEmpty(details={"waiting_in_hall": 0})
        try:
            # Two windows may pick the same number; the move's conditional UPDATE lets exactly one have it, and
            # records queue.called in its transaction.
            await apply_move(
                QUEUE_TICKET_TABLE, candidate, "call", actor=CLERK_ACTOR, at=now, inputs={"window": window}
            )
        except IllegalTransition:
            continue  # the other window has it: the next number
        await _tell_the_near(hall_id, day, now, routes)
        return await queue_ticket_view(candidate, routes)


async def _near_ones(hall_id: int, day: date, routes: dict[int, _Serves]) -> list[dict]:
    """The citizens' waiting numbers with exactly NEAR ahead that were not told yet."""
    waiting = QueueTicket.filter(hall_id=hall_id, day=day, status=QueueTicketStatus.WAITING).order_by("prefix", "seq")
    fields = ("id", "number", "matter_id", "citizen_id", "near_notified_at")
    if all(serves.matters is None for serves in routes.values()):
        # Every window calls any number, in (prefix, seq) order: the number in position NEAR has exactly NEAR ahead.
        rows = await waiting.offset(NEAR).limit(1).values(*fields)
        return [r for r in rows if r["citizen_id"] is not None and r["near_notified_at"] is None]
    # Windows serving some matters only: each number counts those ahead that the windows able to serve it call.
    rows = await waiting.values(*fields)
    near = []
    for index, row in enumerate(rows):
        if row["citizen_id"] is None or row["near_notified_at"] is not None or index < NEAR:
            continue
        serves = _servers_of(routes, row["matter_id"])
        ahead = 0
        for earlier in rows[:index]:
            ahead += serves.takes(earlier["matter_id"])
            if ahead > NEAR:
                break
        if ahead == NEAR:
            near.append(row)
    return near


async def _tell_the_near(hall_id: int, day: date, now: datetime, routes: dict[int, _Serves]) -> None:
    for near in await _near_ones(hall_id, day, routes):
        async with in_transaction() as connection:
            # The conditional UPDATE: two windows calling at once tell the citizen once.
            marked = (
                await QueueTicket.filter(id=near["id"], near_notified_at__isnull=True)
                .using_db(connection)
                .update(near_notified_at=now)
            )
            if marked:
                await outbox.emit(
                    "queue.near",
                    aggregate_type=QUEUE_TICKET_TABLE.name,
                    aggregate_id=near["id"],
                    connection=connection,
                    payload={"ticket_id": near["id"], "hall_id": hall_id, "number": near["number"], "ahead": NEAR},
                    citizen_id=near["citizen_id"],
                )


async def _ticket(ticket_id: int) -> QueueTicket:
    queue_ticket = await QueueTicket.get_or_none(id=ticket_id)
    if queue_ticket is None:
        raise QueueTicketNotFound()
    return queue_ticket


async def finish_queue_ticket(*, ticket_id: int, now: datetime | None = None) -> dict:
    """The clerk has served the called number: it is done (and its appointment with it); 409 from another state."""
    now = as_utc(now)
    queue_ticket = await _ticket(ticket_id)
    async with in_transaction() as connection:
        await _finish(queue_ticket, now, connection, quietly=False)
    return await queue_ticket_view(queue_ticket)


async def skip_queue_ticket(*, ticket_id: int, now: datetime | None = None) -> dict:
    """Nobody came to the window for the called number: it is passed over (过号) and may be recalled."""
    now = as_utc(now)
    queue_ticket = await _ticket(ticket_id)
    await apply_move(QUEUE_TICKET_TABLE, queue_ticket, "skip", actor=CLERK_ACTOR, at=now)
    return await queue_ticket_view(queue_ticket)


async def recall_queue_ticket(*, ticket_id: int, window: int | None = None, now: datetime | None = None) -> dict:
    """Announce a called or skipped number again (at this window, else its own); its citizen is pushed again."""
    now = as_utc(now)
    queue_ticket = await _ticket(ticket_id)
    if window is not None:
        hall = await _require_hall(queue_ticket.hall_id)
        _check_window(hall, window)
    await apply_move(QUEUE_TICKET_TABLE, queue_ticket, "recall", actor=CLERK_ACTOR, at=now, inputs={"window": window})
    return await queue_ticket_view(queue_ticket)


async def my_queue_tickets(*, citizen_id: int, now: datetime | None = None) -> list[dict]:
    """The citizen's numbers of today (taken in the app or issued at check-in), with how many are ahead."""
    day = workdays.local_date(as_utc(now))
    routes: dict[int, dict[int, _Serves]] = {}  # by hall: looked up once for this answer
    views = []
    for t in await QueueTicket.filter(citizen_id=citizen_id, day=day).order_by("id"):
        if t.status == QueueTicketStatus.WAITING and t.hall_id not in routes:
            routes[t.hall_id] = await _hall_routes(t.hall_id)
        views.append(await queue_ticket_view(t, routes.get(t.hall_id)))
    return views


async def queue_status(*, hall_id: int, now: datetime | None = None) -> dict:
    """How many wait today at a hall, and which numbers are being served at which windows."""
    now = as_utc(now)
    await _require_hall(hall_id)
    day = workdays.local_date(now)
    today = QueueTicket.filter(hall_id=hall_id, day=day)
    appointments = await today.filter(status=QueueTicketStatus.WAITING, prefix=APPOINTMENT_PREFIX).count()
    walk_ins = await today.filter(status=QueueTicketStatus.WAITING, prefix=WALK_IN_PREFIX).count()
    serving = await today.filter(status=QueueTicketStatus.CALLED).order_by("window")
    times = (await queue_figures(day=day, only=hall_id)).get(hall_id, {})
    return {
        "hall_id": hall_id,
        "date": day.isoformat(),
        "waiting": appointments + walk_ins,
        "waiting_appointments": appointments,
        "waiting_walk_ins": walk_ins,
        "serving": [
            {
                "id": t.id,
                "number": t.number,
                "window": t.window,
                "called_at": to_iso(t.called_at),
                "recalls": t.recalls,
            }
            for t in serving
        ],
        **queue_times(times),
    }


async def queue_figures(
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    day: date | None = None,
    only=None,
    connection: BaseDBAsyncClient | None = None,
) -> dict[int, dict]:
    """Per hall (or only some): numbers served or skipped, on a day or taken in [start, end), and the total minutes
    served numbers waited (taken -> first called) and were served (called -> finished) (read on connection: None,
    the primary)."""
    rows = (
        QueueTicket.filter(day=day)
        if day is not None
        else QueueTicket.filter(created_at__gte=start, created_at__lt=end)
    )
    minutes = lambda earlier, later: RawSQL(  # noqa: E731
        f"SUM(CASE WHEN status = 'done' THEN ({days_between(earlier, later, dialect())}) * 1440 ELSE 0 END)"
    )
    return await figures_by(
        "hall_id",
        rows.filter(status__in=[QueueTicketStatus.DONE, QueueTicketStatus.SKIPPED]).using_db(connection),
        {
            "queue_served": Q(status=QueueTicketStatus.DONE),
            "queue_skipped": Q(status=QueueTicketStatus.SKIPPED),
            "wait_minutes_total": minutes("created_at", "called_at"),
            "serve_minutes_total": minutes("called_at", "finished_at"),
        },
        only=only,
    )


def queue_times(counts: dict | None) -> dict:
    """Served and skipped numbers and the average minutes a served number waited and was served."""
    counts = counts or {}
    served = counts.get("queue_served", 0)
    average = lambda total: round(float(total) / served, 1) if served else None  # noqa: E731
    return {
        "queue_served": served,
        "queue_skipped": counts.get("queue_skipped", 0),
        "average_wait_minutes": average(counts.get("wait_minutes_total", 0)),
        "average_serve_minutes": average(counts.get("serve_minutes_total", 0)),
    }


async def hall_appointments(
    *, hall_id: int, day: date | None, status: str | None, offset: int, limit: int, now: datetime | None = None
) -> tuple[list[dict], int]:
    """A hall's appointments of a day (default today), by slot time, with check-in, number and no-show."""
    # A booked one whose slot has ended shows as no_show, as the sweep will make it: a GET writes nothing.
    now = as_utc(now)
    await _require_hall(hall_id)
    day = day or workdays.local_date(now)
    query = Appointment.filter(hall_id=hall_id, day=day).exclude(status=AppointmentStatus.CANCELLED)
    if status == AppointmentStatus.NO_SHOW:
        query = query.filter(Q(status=status) | Q(status=AppointmentStatus.BOOKED, end_at__lte=now))
    elif status == AppointmentStatus.BOOKED:
        query = query.filter(status=status, end_at__gt=now)
    elif status:
        query = query.filter(status=status)
    total = await query.count()
    rows = await query.order_by("start_at", "id").offset(offset).limit(limit)
    people = await identity.names_of([a.citizen_id for a in rows])
    numbers = {t.appointment_id: t for t in await QueueTicket.filter(appointment_id__in=[a.id for a in rows] or [0])}
    matters = {m: (await catalog.require_matter(m))["name"] for m in {a.matter_id for a in rows}}
    items = []
    for a in rows:
        shown = AppointmentStatus.NO_SHOW if a.status == AppointmentStatus.BOOKED and a.end_at <= now else a.status
        person = people.get(a.citizen_id, {"name": "", "id_number_masked": ""})
        number = numbers.get(a.id)
        items.append(
            {
                "id": a.id,
                "status": shown.value,
                "start": to_iso(a.start_at),
                "end": to_iso(a.end_at),
                "matter_id": a.matter_id,
                "matter_name": matters[a.matter_id],
                "citizen_name": person["name"],
                "id_number_masked": person["id_number_masked"],
                "checked_in_at": to_iso(a.checked_in_at),
                "ticket_number": number.number if number else None,
                "ticket_status": number.status.value if number else None,
            }
        )
    return items, total
