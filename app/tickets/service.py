"""Ticket rules: feedback (consult, complaint, suggestion) and bad-rating rectification, on one model and queue.

Every move goes through the table of app/tickets/workflow.py: actor, state and version are checked, and the change,
its log entry, its outbox event and the staff audit row are written in one transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from app.cases import service as cases
from app.catalog import service as catalog
from app.core import outbox, workdays
from app.core.aggregates import figures_by
from app.core.auth import Principal, limit_rate
from app.core.cache import Cache
from app.core.errors import StaleVersion
from app.core.timeutil import as_utc, to_iso
from app.core.timeutil import now as clock_now
from app.core.workflow import SYSTEM_ACTOR, Actor, apply_move
from app.identity import service as identity
from app.tickets.errors import SubjectMismatch, TicketNotFound, TicketRoleNotAllowed
from app.tickets.models import ServiceTicket, TicketEntry, TicketKind, TicketStatus
from app.tickets.workflow import (
    AGGREGATE,
    CITIZEN,
    DEPARTMENT,
    DEPARTMENT_ADMIN,
    DEPARTMENT_ROLES,
    FEEDBACK,
    KIND_NAMES,
    LAPSE_NOTE,
    SUPERVISOR,
    SYSTEM,
    TABLE,
    allowed_actions,
    assignee_candidates,
    event_payload,
    find_move,
    moves_named,
)

# ---- reading ----


def _is_overdue(ticket: ServiceTicket, at: datetime) -> bool:
    return ticket.due_at is not None and at > ticket.due_at


def _actor_kinds(ticket: ServiceTicket, principal: Principal) -> tuple[str, ...]:
    """What the table knows this principal as, for this ticket; a supervisor's part is named first."""
    if not principal.is_staff:
        return (CITIZEN,) if ticket.citizen_id == principal.id else ()
    kinds = []
    if principal.has_role(SUPERVISOR):
        kinds.append(SUPERVISOR)
    if (
        ticket.department_id is not None
        and principal.department_id == ticket.department_id
        and principal.has_role(*DEPARTMENT_ROLES)
    ):
        kinds.append(DEPARTMENT)
        if principal.has_role("dept_admin"):
            kinds.append(DEPARTMENT_ADMIN)
    return tuple(kinds)


def _entry_view(entry: TicketEntry, *, for_staff: bool) -> dict:
    view = {
        "at": to_iso(entry.at),
        "action": entry.action,
        "from": entry.from_status,
        "to": entry.to_status,
        "actor": entry.actor_role,
        "note": entry.note,
    }
    if for_staff:
        view["actor_id"] = entry.actor
    return view


def ticket_view(
    ticket: ServiceTicket, *, viewer: Principal | None, at: datetime, entries: list[TicketEntry] | None = None
) -> dict:
    """A ticket as the citizen (mini-program) or the staff console shows it."""
    for_staff = viewer is not None and viewer.is_staff
    rectification = ticket.kind == TicketKind.RECTIFICATION
    view = {
        "id": ticket.id,
        "kind": ticket.kind.value,
        "kind_name": KIND_NAMES[ticket.kind.value],
        "status": ticket.status.value,
        "version": ticket.version,
        "department_id": ticket.department_id,
        "matter_id": ticket.matter_id,
        "case_id": ticket.case_id,
        "hall_id": ticket.hall_id,
        "rating_id": ticket.rating_id,
        "content": ticket.content,
        "created_at": to_iso(ticket.created_at),
        "due_at": to_iso(ticket.due_at),
        "is_overdue": _is_overdue(ticket, at),
        "reply_due_at": None if rectification else to_iso(ticket.first_due_at),
        "replied_at": None if rectification else to_iso(ticket.first_done_at),
        "callback_due_at": to_iso(ticket.first_due_at) if rectification else None,
        "called_back_at": to_iso(ticket.first_done_at) if rectification else None,
        "fix_due_at": to_iso(ticket.fix_due_at),
        "fixed_at": to_iso(ticket.fixed_at),
        "reply": ticket.last_reply,
        "reopen_count": ticket.reopen_count,
        "escalated": ticket.escalated_at is not None,
        "escalated_at": to_iso(ticket.escalated_at),
        "fix_score": ticket.fix_score,
        "fix_comment": ticket.fix_comment,
        "answer_due_at": to_iso(ticket.answer_due_at),
        "closed_at": to_iso(ticket.closed_at),
        "close_reason": ticket.close_reason,
        "voided": ticket.voided,
        "allowed_actions": [
            action
            for action in allowed_actions(ticket.kind, ticket.status, _actor_kinds(ticket, viewer))
            # Nobody to give it to while no department holds it (unrouted feedback: a supervisor assigns it first).
            if not (action == "assign_staff" and ticket.department_id is None)
        ]
        if viewer is not None
        else [],
    }
    if for_staff:
        view["citizen_id"] = ticket.citizen_id
        view["assignee_staff_id"] = ticket.assignee_staff_id
    if entries is not None:
        view["entries"] = [_entry_view(entry, for_staff=for_staff) for entry in entries]
    return view


async def _visible(principal: Principal, ticket_id: int) -> ServiceTicket:
    """The ticket if this principal may see it; otherwise the same 404 as one that does not exist."""
    ticket = await ServiceTicket.get_or_none(id=ticket_id)
    if ticket is None:
        raise TicketNotFound()
    if principal.is_staff:
        if not principal.covers_department(ticket.department_id):
            raise TicketNotFound()
    elif ticket.citizen_id != principal.id:
        raise TicketNotFound()
    return ticket


async def _full_view(ticket: ServiceTicket, viewer: Principal, at: datetime) -> dict:
    entries = list(await TicketEntry.filter(ticket_id=ticket.id).order_by("id"))
    if not viewer.is_staff:
        # Who inside the department holds the ticket is the department's business, not a step the citizen waits on.
        entries = [entry for entry in entries if entry.action != "assign_staff"]
    return (await _named([ticket_view(ticket, viewer=viewer, at=at, entries=entries)]))[0]


async def _named(views: list[dict]) -> list[dict]:
    """Staff views with the name of the staff member each ticket is given to."""
    ids = [view["assignee_staff_id"] for view in views if view.get("assignee_staff_id")]
    names = await identity.staff_names(ids)
    for view in views:
        if "assignee_staff_id" in view:
            view["assignee_name"] = names.get(view["assignee_staff_id"]) if view["assignee_staff_id"] else None
    return views


async def assignees(principal: Principal, ticket_id: int) -> list[dict]:
    """Who the caller may give this ticket to (404 unless they may see it; 403 unless they may assign it)."""
    ticket = await _visible(principal, ticket_id)
    if not any(move.admits(_actor_kinds(ticket, principal)) for move in moves_named("assign_staff", ticket.kind)):
        raise TicketRoleNotAllowed()
    return await assignee_candidates(ticket.department_id)


async def get_ticket(
    principal: Principal, ticket_id: int, *, feedback_only: bool = False, now: datetime | None = None
) -> dict:
    """One ticket with its log (404 unless the caller may see it)."""
    ticket = await _visible(principal, ticket_id)
    if feedback_only and ticket.kind not in FEEDBACK:
        raise TicketNotFound()
    return await _full_view(ticket, principal, now or clock_now())


async def ticket_of_rating(rating_id: int, *, viewer: Principal | None, now: datetime | None = None) -> dict | None:
    """The rectification ticket a bad rating opened, with its log, or None."""
    ticket = await ServiceTicket.get_or_none(rating_id=rating_id)
    if ticket is None:
        return None
    return (
        await _full_view(ticket, viewer, now or clock_now())
        if viewer is not None
        else ticket_view(ticket, viewer=None, at=now or clock_now())
    )


async def tickets_of_ratings(
    rating_ids: list[int], *, viewer: Principal, now: datetime | None = None
) -> dict[int, dict]:
    """The rectification tickets of these ratings, by rating id (no logs)."""
    at = now or clock_now()
    rows = await ServiceTicket.filter(rating_id__in=rating_ids) if rating_ids else []
    return {row.rating_id: ticket_view(row, viewer=viewer, at=at) for row in rows}


async def list_for_citizen(
    citizen: Principal, *, status: str | None, offset: int, limit: int, now: datetime | None = None
) -> tuple[list[dict], int]:
    """The citizen's consultations, complaints and suggestions, newest first."""
    at = now or clock_now()
    query = ServiceTicket.filter(citizen_id=citizen.id, kind__in=list(FEEDBACK))
    if status:
        query = query.filter(status=status)
    total = await query.count()
    rows = await query.order_by("-id").offset(offset).limit(limit)
    return [ticket_view(row, viewer=citizen, at=at) for row in rows], total


async def list_for_staff(
    staff: Principal,
    *,
    kind: str | None,
    status: str | None,
    overdue: bool | None,
    escalated: bool | None,
    department_id: int | None,
    offset: int,
    limit: int,
    now: datetime | None = None,
) -> tuple[list[dict], int]:
    """The queue: the department's tickets (every department's for supervisors), the most urgent first."""
    at = as_utc(now or clock_now())
    query = ServiceTicket.all()
    if staff.sees_all_departments:
        if department_id is not None:
            query = query.filter(department_id=department_id)
    else:
        query = query.filter(department_id=staff.department_id)
    if kind == "feedback":
        query = query.filter(kind__in=list(FEEDBACK))
    elif kind:
        query = query.filter(kind=kind)
    if status:
        query = query.filter(status=status)
    if overdue is True:
        query = query.filter(due_at__lt=at)
    elif overdue is False:
        query = query.filter(Q(due_at__isnull=True) | Q(due_at__gte=at))
    if escalated is not None:
        query = query.filter(escalated_at__isnull=not escalated)
    total = await query.count()
    # What the department owes first, nearest deadline on top; then what waits for the citizen or is closed.
    owing = await query.filter(due_at__isnull=False).count()
    rows = list(await query.filter(due_at__isnull=False).order_by("due_at", "id").offset(offset).limit(limit))
    if len(rows) < limit:
        rows += list(
            await query.filter(due_at__isnull=True)
            .order_by("-id")
            .offset(max(0, offset - owing))
            .limit(limit - len(rows))
        )
    return await _named([ticket_view(row, viewer=staff, at=at) for row in rows]), total


# ---- filing ----


async def _subject_of(citizen: Principal, matter_id: int | None, case_id: int | None) -> dict:
    """Which department answers: the case's, else the matter's, else nobody yet (the supervisors' queue)."""
    if case_id is not None:
        facts = await cases.service_facts(citizen, case_id)
        if matter_id is not None and matter_id != facts["matter_id"]:
            raise SubjectMismatch(details={"fields": [{"field": "matter_id", "message": "与办件的事项不一致"}]})
        return {
            "department_id": facts["department_id"],
            "matter_id": facts["matter_id"],
            "case_id": case_id,
            "hall_id": facts["hall_id"],
        }
    if matter_id is not None:
        matter = await catalog.require_matter(matter_id)
        return {"department_id": matter["department_id"], "matter_id": matter_id, "case_id": None, "hall_id": None}
    return {"department_id": None, "matter_id": None, "case_id": None, "hall_id": None}


async def file_feedback(
    citizen: Principal,
    *,
    kind: str,
    content: str,
    matter_id: int | None,
    case_id: int | None,
    idempotency_key: str | None,
    settings,
    cache: Cache,
    now: datetime | None = None,
) -> tuple[dict, bool]:
    """A consultation, complaint or suggestion, routed with its reply deadline; (view, created)."""
    at = as_utc(now or clock_now())
    if idempotency_key:
        earlier = await ServiceTicket.get_or_none(citizen_id=citizen.id, idempotency_key=idempotency_key)
        if earlier is not None:
            return await _full_view(earlier, citizen, at), False
    await limit_rate(cache, f"feedback:{citizen.id}", settings.feedback.per_citizen_per_hour, 3600)
    subject = await _subject_of(citizen, matter_id, case_id)
    await workdays.ensure_overrides_fresh()
    reply_due = as_utc(workdays.deadline_after(at, settings.feedback.reply_workdays(kind)))
    try:
        async with in_transaction() as connection:
            ticket = await ServiceTicket.create(
                kind=TicketKind(kind),
                citizen_id=citizen.id,
                content=content,
                first_due_at=reply_due,
                due_at=reply_due,
                idempotency_key=idempotency_key,
                created_at=at,
                using_db=connection,
                **subject,
            )
            await _log(ticket, "file", None, TicketStatus.OPEN, citizen, "", connection, at=at)
            routed = ticket.department_id is not None
            await _emit(
                "feedback.created" if routed else "feedback.unrouted",
                ticket,
                connection,
                {"reply_due": to_iso(reply_due)},
            )
    except IntegrityError:
        # The same Idempotency-Key sent twice at once (a double tap): the first one's ticket is the answer.
        earlier = (
            await ServiceTicket.get_or_none(citizen_id=citizen.id, idempotency_key=idempotency_key)
            if idempotency_key
            else None
        )
        if earlier is None:
            raise
        return await _full_view(earlier, citizen, at), False
    return await _full_view(ticket, citizen, at), True


async def open_rectification(
    *,
    rating_id: int,
    citizen_id: int,
    department_id: int,
    matter_id: int,
    case_id: int | None,
    hall_id: int | None,
    content: str,
    settings,
    at: datetime,
    connection,
) -> dict:
    """The rectification ticket of a bad rating, inside the rating's transaction: call-back and fix deadlines."""
    at = as_utc(at)
    await workdays.ensure_overrides_fresh()
    callback_due = as_utc(workdays.deadline_after(at, settings.ratings.callback_workdays))
    fix_due = as_utc(workdays.deadline_after(at, settings.ratings.fix_workdays))
    # Opened when the rating was given: the statistics count it in the rating's period.
    ticket = await ServiceTicket.create(
        kind=TicketKind.RECTIFICATION,
        citizen_id=citizen_id,
        department_id=department_id,
        matter_id=matter_id,
        case_id=case_id,
        hall_id=hall_id,
        rating_id=rating_id,
        content=content or "差评",
        first_due_at=callback_due,
        due_at=callback_due,
        fix_due_at=fix_due,
        created_at=at,
        using_db=connection,
    )
    await TicketEntry.create(
        ticket_id=ticket.id,
        action="open",
        from_status=None,
        to_status=TicketStatus.OPEN.value,
        actor="system",
        actor_role=SYSTEM,
        at=at,
        using_db=connection,
    )
    return ticket_view(ticket, viewer=None, at=at)


async def void_rectification(rating_id: int, *, note: str, at: datetime, connection) -> None:
    """Close the ticket of a rating voided on appeal, inside the decision's transaction."""
    at = as_utc(at)
    ticket = await ServiceTicket.filter(rating_id=rating_id).using_db(connection).first()
    if ticket is None:
        return
    if find_move("void", ticket.kind, ticket.status) is not None:
        await apply_move(TABLE, ticket, "void", actor=SYSTEM_ACTOR, at=at, note=note, connection=connection)
        return
    # Already closed: it still leaves the statistics with its rating, and the log says so.
    await (
        ServiceTicket.filter(id=ticket.id)
        .using_db(connection)
        .update(version=ticket.version + 1, voided=True, due_at=None, answer_due_at=None)
    )
    await TicketEntry.create(
        ticket_id=ticket.id,
        action="void",
        from_status=ticket.status.value,
        to_status=ticket.status.value,
        actor="system",
        actor_role=SYSTEM,
        note=note,
        at=at,
        using_db=connection,
    )


# ---- moves ----


async def act(
    principal: Principal,
    ticket_id: int,
    action: str,
    *,
    note: str = "",
    version: int | None = None,
    score: int | None = None,
    department_id: int | None = None,
    assignee_staff_id: int | None = None,
    settings,
    feedback_only: bool = False,
    now: datetime | None = None,
) -> dict:
    """Make one move of the table, whole or not at all."""
    at = as_utc(now or clock_now())
    ticket = await _visible(principal, ticket_id)
    if feedback_only and ticket.kind not in FEEDBACK:
        raise TicketNotFound()
    actor_kinds = _actor_kinds(ticket, principal)
    candidates = moves_named(action, ticket.kind)
    if candidates and not any(move.admits(actor_kinds) for move in candidates):
        raise TicketRoleNotAllowed()
    await apply_move(
        TABLE,
        ticket,
        action,
        actor=Actor.of(principal, actor_kinds),
        at=at,
        note=note,
        expected_version=version,
        inputs={
            "settings": settings,
            "score": score,
            "department_id": department_id,
            "assignee_staff_id": assignee_staff_id,
        },
    )
    return await get_ticket(principal, ticket_id, now=at)


async def assign_staff(
    principal: Principal, ticket_id: int, *, staff_id: int, version: int | None, settings, now: datetime | None = None
) -> dict:
    """Give the ticket to one staff member of its department (the assign_staff move); the staff log names them."""
    names = await identity.staff_names([staff_id])
    return await act(
        principal,
        ticket_id,
        "assign_staff",
        note=names.get(staff_id, ""),
        version=version,
        assignee_staff_id=staff_id,
        settings=settings,
        now=now,
    )


async def _log(
    ticket: ServiceTicket,
    action: str,
    from_status: TicketStatus | None,
    to_status: TicketStatus,
    actor: Principal,
    note: str,
    connection,
    *,
    at: datetime,
) -> None:
    await TicketEntry.create(
        ticket_id=ticket.id,
        action=action,
        from_status=from_status.value if from_status else None,
        to_status=to_status.value,
        actor=actor.actor,
        actor_role=DEPARTMENT if actor.is_staff else CITIZEN,
        note=note[:1000],
        at=at,
        using_db=connection,
    )


async def _emit(kind: str, ticket: ServiceTicket, connection, extra: dict[str, Any]) -> None:
    await outbox.emit(
        kind,
        aggregate_type=AGGREGATE,
        aggregate_id=ticket.id,
        connection=connection,
        citizen_id=ticket.citizen_id,
        department_id=ticket.department_id,
        payload=event_payload(ticket, extra),
    )


# ---- overdue steps (the worker's job) ----


def _overdue_step(ticket: ServiceTicket) -> str | None:
    if ticket.kind == TicketKind.RECTIFICATION:
        return {TicketStatus.OPEN: "callback", TicketStatus.CALLED_BACK: "fix"}.get(ticket.status)
    return f"reply:{ticket.reopen_count}" if ticket.status == TicketStatus.OPEN else None


OVERDUE_EVENTS = {"callback": "ticket.callback_overdue", "fix": "ticket.fix_overdue", "reply": "ticket.reply_overdue"}


async def announce_overdue(*, now: datetime | None = None) -> int:
    """Alert once per ticket and step whose deadline passed (department admin and supervisors); how many."""
    at = as_utc(now or clock_now())
    announced = 0
    for ticket in await ServiceTicket.filter(due_at__lt=at).order_by("due_at", "id"):
        step = _overdue_step(ticket)
        if step is None or step in ticket.alerted:
            continue
        kind = OVERDUE_EVENTS[step.split(":")[0]]
        # The event's unique key makes the alert once-only, even with two workers; the ticket's version is left
        # alone, so a clerk working the ticket meanwhile is not told it changed under them.
        emitted = await outbox.emit_once(
            kind,
            dedupe_key=f"ticket:{ticket.id}:overdue:{step}",
            aggregate_type=AGGREGATE,
            aggregate_id=ticket.id,
            citizen_id=ticket.citizen_id,
            department_id=ticket.department_id,
            payload=event_payload(ticket, {"step": step.split(":")[0], "due_at": to_iso(ticket.due_at)}),
        )
        # Remembered on the ticket so later passes skip it without touching the outbox.
        await ServiceTicket.filter(id=ticket.id).update(alerted=[*ticket.alerted, step])
        announced += int(emitted)
    return announced


# ---- the citizen's silence (the worker's job) ----


async def close_unanswered(*, now: datetime | None = None, batch: int = 500) -> int:
    """Close as unanswered the replies and fixes whose citizen let the answer window pass; how many."""
    at = as_utc(now or clock_now())
    closed = 0
    for ticket in await ServiceTicket.filter(answer_due_at__lt=at).order_by("answer_due_at", "id").limit(batch):
        if find_move("lapse", ticket.kind, ticket.status) is None:
            # Ended another way meanwhile: nothing is awaited from the citizen any more.
            await ServiceTicket.filter(id=ticket.id, version=ticket.version).update(answer_due_at=None)
            continue
        try:
            await apply_move(TABLE, ticket, "lapse", actor=SYSTEM_ACTOR, at=at, note=LAPSE_NOTE)
        except StaleVersion:
            continue  # the citizen answered at this very moment: they win, and this pass skips the ticket
        closed += 1
    return closed


# ---- figures for the published statistics ----


async def figures(
    *,
    key: str,
    start: datetime,
    end: datetime,
    only: int | list[int] | None = None,
    now: datetime | None = None,
    connection: BaseDBAsyncClient | None = None,
) -> dict[int, dict]:
    """Per department_id, hall_id or matter_id (or only some), tickets opened in [start, end): rectification on
    time, complaints, reopens (read on connection: None, the primary)."""
    at, start, end = as_utc(now or clock_now()), as_utc(start), as_utc(end)
    rect = Q(kind=TicketKind.RECTIFICATION, voided=False)
    feedback = Q(kind__in=list(FEEDBACK))
    return await figures_by(
        key,
        ServiceTicket.filter(created_at__gte=start, created_at__lt=end).using_db(connection),
        {
            "rectifications": rect,
            # A step counts once it was done or its deadline passed; on time when done by the deadline.
            "callback_due": rect & (Q(first_done_at__isnull=False) | Q(first_due_at__lt=at)),
            "callback_on_time": rect & Q(first_on_time=True),
            "fix_due": rect & (Q(fixed_at__isnull=False) | Q(fix_due_at__lt=at)),
            "fix_on_time": rect & Q(fix_on_time=True),
            "feedback": feedback,
            "complaints": Q(kind=TicketKind.COMPLAINT),
            "answered": feedback & Q(first_done_at__isnull=False),
            "reopened": feedback & Q(reopen_count__gt=0),
            "escalated": feedback & Q(escalated_at__isnull=False),
        },
        only=only,
    )
