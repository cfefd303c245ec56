"""Every legal move of a ticket, in one table: for which kinds, from which states, to which state, by whom, and
what else it changes. app.core.workflow.apply_move() carries the moves out; a move absent from this table is
illegal (409 ILLEGAL_TRANSITION).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from app.catalog import service as catalog
from app.core import workdays, workflow
from app.core.errors import ValidationFailed
from app.core.timeutil import as_utc, to_iso
from app.core.workflow import Effect, Event, Move, MoveContext
from app.identity import service as identity
from app.tickets.errors import NoteRequired
from app.tickets.models import ServiceTicket, TicketEntry
from app.tickets.models import TicketKind as K
from app.tickets.models import TicketStatus as S

CITIZEN = "citizen"  # the citizen who filed the feedback or gave the rating
DEPARTMENT = "department"  # staff of the ticket's department
SUPERVISOR = "supervisor"  # 效能监察: every department
DEPARTMENT_ADMIN = "department_admin"  # the dept_admin of the ticket's department: gives its tickets to its staff
SYSTEM = workflow.SYSTEM  # another rule of the service (a rating voided on appeal, the answer window)
DEPARTMENT_ROLES = ("clerk", "approver", "dept_admin")
FEEDBACK = frozenset({K.CONSULT, K.COMPLAINT, K.SUGGESTION})
RECTIFICATION = frozenset({K.RECTIFICATION})
ANSWERABLE = frozenset({K.CONSULT, K.SUGGESTION})  # feedback that ends unanswered when the citizen stays silent
ALL_KINDS = FEEDBACK | RECTIFICATION
AGGREGATE = "ticket"
KIND_NAMES = {"consult": "咨询", "complaint": "投诉", "suggestion": "建议", "rectification": "差评整改"}
LAPSE_NOTE = "市民逾期未确认，自动办结"


def event_payload(ticket: ServiceTicket, extra: dict[str, Any]) -> dict[str, Any]:
    """What every ticket event says about its ticket, with the event's own facts."""
    return {
        "ticket_id": ticket.id,
        "ticket_kind": ticket.kind.value,
        "kind_name": KIND_NAMES[ticket.kind.value],
        "content": ticket.content,
        "matter_id": ticket.matter_id,
        "case_id": ticket.case_id,
        "rating_id": ticket.rating_id,
        **extra,
    }


def answer_due(at: datetime, settings) -> datetime:
    """Until when the citizen may answer a reply or a fix."""
    return at + timedelta(days=settings.feedback.answer_days)


# ---- what each move does besides changing the state (inputs: settings, score, department_id) ----


def _effect(
    ctx: MoveContext,
    changes: dict[str, Any],
    event_kind: str | None = None,
    event: dict[str, Any] | None = None,
    audit: dict[str, Any] | None = None,
) -> Effect:
    ticket: ServiceTicket = ctx.row
    # The citizen's answer window runs exactly while the table lets the citizen's silence end the ticket.
    lapses = find_move("lapse", ticket.kind, ctx.move.target) is not None
    changes = {**changes, "answer_due_at": answer_due(ctx.at, ctx.inputs["settings"]) if lapses else None}
    department_id = changes.get("department_id", ticket.department_id)
    return Effect(
        changes=changes,
        timeline={"at": ctx.at},
        audit=audit or {},
        event=Event(
            event_kind, event_payload(ticket, event or {}), citizen_id=ticket.citizen_id, department_id=department_id
        )
        if event_kind
        else None,
    )


async def _reply(ctx: MoveContext) -> Effect:
    ticket: ServiceTicket = ctx.row
    changes: dict[str, Any] = {"last_reply": ctx.note, "due_at": None}
    if ticket.first_done_at is None:
        changes.update(first_done_at=ctx.at, first_on_time=ctx.at <= ticket.first_due_at)
    return _effect(ctx, changes, "feedback.replied", {"reply": ctx.note})


async def _confirm(ctx: MoveContext) -> Effect:
    return _effect(ctx, {"closed_at": ctx.at, "closed_by": ctx.actor.ref, "due_at": None})


async def _reopen(ctx: MoveContext) -> Effect:
    ticket: ServiceTicket = ctx.row
    settings = ctx.inputs["settings"]
    await workdays.ensure_overrides_fresh()
    reply_due = as_utc(workdays.deadline_after(ctx.at, settings.feedback.reply_workdays(ticket.kind.value)))
    reopens = ticket.reopen_count + 1
    changes: dict[str, Any] = {"reopen_count": reopens, "first_due_at": reply_due, "due_at": reply_due}
    # The second "not solved" is the 12345 loop: the supervisors take it up.
    if reopens >= settings.feedback.escalate_at_reopen and ticket.escalated_at is None:
        changes["escalated_at"] = ctx.at
        event_kind = "feedback.escalated"
    else:
        event_kind = "feedback.reopened"
    return _effect(
        ctx, changes, event_kind, {"reason": ctx.note, "reopen_count": reopens, "reply_due": to_iso(reply_due)}
    )


async def _assign(ctx: MoveContext) -> Effect:
    department_id = ctx.inputs.get("department_id")
    if department_id is None or await catalog.get_department(department_id) is None:
        raise ValidationFailed(details={"fields": [{"field": "department_id", "message": "部门不存在"}]})
    return _effect(
        ctx,
        # Another department's ticket now: whoever it was given to there no longer holds it.
        {"department_id": department_id, "assignee_staff_id": None},
        "feedback.created",
        {"reply_due": to_iso(ctx.row.first_due_at)},
        audit={"department_id": department_id},
    )


async def assignee_candidates(department_id: int | None) -> list[dict]:
    """Who a ticket of this department may be given to: its active clerks, approvers and department admins."""
    return await identity.department_members(department_id, DEPARTMENT_ROLES)


async def _assign_staff(ctx: MoveContext) -> Effect:
    ticket: ServiceTicket = ctx.row
    staff_id = ctx.inputs.get("assignee_staff_id")
    candidates = {member["id"]: member for member in await assignee_candidates(ticket.department_id)}
    if staff_id not in candidates:
        raise ValidationFailed(
            "只能指派给本部门在岗的工作人员",
            details={"fields": [{"field": "staff_id", "message": "不是该工单所属部门在岗的工作人员"}]},
        )
    # The state stays: the ticket waits for the same step, now from one named person.
    return Effect(
        changes={"assignee_staff_id": staff_id},
        timeline={"at": ctx.at},
        audit={"assignee_staff_id": staff_id, "previous_assignee_staff_id": ticket.assignee_staff_id},
    )


async def _callback(ctx: MoveContext) -> Effect:
    ticket: ServiceTicket = ctx.row
    return _effect(
        ctx,
        {"first_done_at": ctx.at, "first_on_time": ctx.at <= ticket.first_due_at, "due_at": ticket.fix_due_at},
        "ticket.called_back",
        {"note": ctx.note},
    )


async def _fix(ctx: MoveContext) -> Effect:
    ticket: ServiceTicket = ctx.row
    return _effect(
        ctx,
        {"fixed_at": ctx.at, "fix_on_time": ctx.at <= ticket.fix_due_at, "last_reply": ctx.note, "due_at": None},
        "ticket.fixed",
        {"note": ctx.note},
    )


async def _rate_fix(ctx: MoveContext) -> Effect:
    score = ctx.inputs.get("score")
    if score is None or not 1 <= score <= 5:
        raise ValidationFailed(details={"fields": [{"field": "score", "message": "评分应为 1 到 5"}]})
    return _effect(
        ctx, {"fix_score": score, "fix_comment": ctx.note[:500], "closed_at": ctx.at, "closed_by": ctx.actor.ref}
    )


async def _close(ctx: MoveContext) -> Effect:
    return _effect(
        ctx,
        {"closed_at": ctx.at, "close_reason": ctx.note[:500], "closed_by": ctx.actor.ref, "due_at": None},
        "ticket.closed",
        {"reason": ctx.note},
    )


async def _void(ctx: MoveContext) -> Effect:
    # Out of the statistics, kept in the record.
    return _effect(
        ctx, {"voided": True, "due_at": None, "closed_at": ctx.at, "close_reason": ctx.note, "closed_by": SYSTEM}
    )


async def _lapse(ctx: MoveContext) -> Effect:
    return _effect(ctx, {"closed_at": ctx.at, "closed_by": SYSTEM, "close_reason": LAPSE_NOTE})


def _(*items) -> frozenset:
    return frozenset(items)


MOVES: tuple[Move, ...] = (
    #    action      from                                  to             who
    Move("reply", _(S.OPEN), S.REPLIED, _(DEPARTMENT, SUPERVISOR), kinds=FEEDBACK, note_required=True, effect=_reply),
    # Only the citizen's word ends feedback; a reply alone never closes it (the 12345 "template reply" loop).
    Move("confirm", _(S.REPLIED), S.CLOSED, _(CITIZEN), kinds=FEEDBACK, effect=_confirm),
    Move("reopen", _(S.REPLIED), S.OPEN, _(CITIZEN), kinds=FEEDBACK, note_required=True, effect=_reopen),
    Move("assign", _(S.OPEN), S.OPEN, _(SUPERVISOR), kinds=FEEDBACK, effect=_assign),
    # Giving the ticket to one staff member of its department, while the department owes a step (same state).
    Move("assign_staff", _(S.OPEN), S.OPEN, _(DEPARTMENT_ADMIN, SUPERVISOR), kinds=ALL_KINDS, effect=_assign_staff),
    Move(
        "assign_staff",
        _(S.CALLED_BACK),
        S.CALLED_BACK,
        _(DEPARTMENT_ADMIN, SUPERVISOR),
        kinds=RECTIFICATION,
        effect=_assign_staff,
    ),
    Move(
        "callback", _(S.OPEN), S.CALLED_BACK, _(DEPARTMENT), kinds=RECTIFICATION, note_required=True, effect=_callback
    ),
    Move("fix", _(S.CALLED_BACK), S.FIXED, _(DEPARTMENT), kinds=RECTIFICATION, note_required=True, effect=_fix),
    Move("rate_fix", _(S.FIXED), S.CLOSED, _(CITIZEN), kinds=RECTIFICATION, effect=_rate_fix),
    Move(
        "close",
        _(S.OPEN, S.REPLIED, S.CALLED_BACK, S.FIXED),
        S.CLOSED,
        _(SUPERVISOR),
        kinds=ALL_KINDS,
        note_required=True,
        effect=_close,
    ),
    Move(
        "void",
        _(S.OPEN, S.CALLED_BACK, S.FIXED),
        S.CLOSED,
        _(SYSTEM),
        kinds=RECTIFICATION,
        note_required=True,
        effect=_void,
    ),
    # The citizen let the answer window pass: the ticket ends unanswered (never a complaint).
    Move("lapse", _(S.REPLIED), S.CLOSED, _(SYSTEM), kinds=ANSWERABLE, effect=_lapse),
    Move("lapse", _(S.FIXED), S.CLOSED, _(SYSTEM), kinds=RECTIFICATION, effect=_lapse),
)

TABLE = workflow.Table(
    name=AGGREGATE,
    model=ServiceTicket,
    moves=MOVES,
    kind_field="kind",
    timeline=workflow.Timeline(TicketEntry, "ticket_id"),
    illegal_message="工单当前状态不允许该操作",
    note_required_error=NoteRequired,
)
ACTIONS = TABLE.actions


def find_move(action: str, kind: K, status: S) -> Move | None:
    """The move this action makes for this kind of ticket in this state, or None when it is illegal there."""
    return workflow.find_move(TABLE, action, status, kind=kind)


def moves_named(action: str, kind: K) -> list[Move]:
    """Every move of this action for this kind, whatever the state (to judge the actor before the state)."""
    return workflow.moves_named(TABLE, action, kind=kind)


def allowed_actions(kind: K, status: S, actor_kinds) -> list[str]:
    """What these actors may do to a ticket of this kind in this state, in table order."""
    return workflow.allowed_actions(TABLE, status, actor_kinds, kind=kind)
