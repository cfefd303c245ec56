"""Ticket HTTP: citizens' feedback (file, follow, confirm, reopen) and the staff queue of feedback and rectification."""

from __future__ import annotations

from sanic import Blueprint, Request

from app.core.auth import citizen_required, staff_required
from app.core.http import idempotency_key, page_of, parse_body, parse_query, respond
from app.core.openapi import doc
from app.tickets import service
from app.tickets.schemas import (
    AssigneeOut,
    AssignIn,
    AssignStaffIn,
    CloseIn,
    FeedbackIn,
    FeedbackQuery,
    ReopenIn,
    ReplyIn,
    StaffTicketQuery,
    StepIn,
    TicketOut,
    TicketPage,
)

bp = Blueprint("tickets", url_prefix="/api/v1")

TICKET_STAFF_ROLES = ("clerk", "approver", "dept_admin", "supervisor", "admin")


# ---- citizens ----


@bp.post("/feedback")
@doc(
    "咨询、投诉或建议：按事项或办件转给主管部门，限时答复（同一 Idempotency-Key 重复提交：200 与首次结果）",
    tag="feedback",
    body=FeedbackIn,
    response=TicketOut,
    status=201,
    responses={200: TicketOut},
    errors=(400, 401, 403, 404, 422, 429),
    secured=True,
)
@citizen_required
async def file_feedback(request: Request):
    data = parse_body(request, FeedbackIn)
    ticket, created = await service.file_feedback(
        request.ctx.principal,
        kind=data.kind,
        content=data.content,
        matter_id=data.matter_id,
        case_id=data.case_id,
        idempotency_key=idempotency_key(request),
        settings=request.app.ctx.settings,
        cache=request.app.ctx.cache,
    )
    return respond(TicketOut, ticket, status=201 if created else 200)


@bp.get("/feedback")
@doc("我的咨询、投诉和建议", tag="feedback", response=TicketPage, errors=(401, 422), secured=True, query=FeedbackQuery)
@citizen_required
async def my_feedback(request: Request):
    query = parse_query(request, FeedbackQuery)
    items, total = await service.list_for_citizen(
        request.ctx.principal, status=query.status, offset=query.offset, limit=query.page_size
    )
    return respond(TicketPage, page_of(items, total, query.page, query.page_size))


@bp.get("/feedback/<ticket_id:int>")
@doc("一件咨询、投诉或建议及其答复记录", tag="feedback", response=TicketOut, errors=(401, 404), secured=True)
@citizen_required
async def my_ticket(request: Request, ticket_id: int):
    return respond(TicketOut, await service.get_ticket(request.ctx.principal, ticket_id, feedback_only=True))


@bp.post("/feedback/<ticket_id:int>/confirm")
@doc("确认已解决（结束工单）", tag="feedback", response=TicketOut, errors=(401, 404, 409), secured=True)
@citizen_required
async def confirm(request: Request, ticket_id: int):
    return respond(
        TicketOut,
        await service.act(
            request.ctx.principal, ticket_id, "confirm", settings=request.app.ctx.settings, feedback_only=True
        ),
    )


@bp.post("/feedback/<ticket_id:int>/reopen")
@doc(
    "未解决，重新办理（第二次重新办理转效能监察）",
    tag="feedback",
    body=ReopenIn,
    response=TicketOut,
    errors=(400, 401, 404, 409, 422),
    secured=True,
)
@citizen_required
async def reopen(request: Request, ticket_id: int):
    data = parse_body(request, ReopenIn)
    return respond(
        TicketOut,
        await service.act(
            request.ctx.principal,
            ticket_id,
            "reopen",
            note=data.reason,
            settings=request.app.ctx.settings,
            feedback_only=True,
        ),
    )


# ---- staff ----


@bp.get("/staff/tickets")
@doc(
    "工单队列：差评整改与咨询投诉建议，最紧迫的在前",
    tag="feedback-staff",
    response=TicketPage,
    errors=(401, 403, 422),
    secured=True,
    query=StaffTicketQuery,
)
@staff_required(*TICKET_STAFF_ROLES)
async def queue(request: Request):
    query = parse_query(request, StaffTicketQuery)
    items, total = await service.list_for_staff(
        request.ctx.principal,
        kind=query.kind,
        status=query.status,
        overdue=query.overdue,
        escalated=query.escalated,
        department_id=query.department_id,
        offset=query.offset,
        limit=query.page_size,
    )
    return respond(TicketPage, page_of(items, total, query.page, query.page_size))


@bp.get("/staff/tickets/<ticket_id:int>")
@doc("工单详情及处理记录", tag="feedback-staff", response=TicketOut, errors=(401, 403, 404), secured=True)
@staff_required(*TICKET_STAFF_ROLES)
async def staff_ticket(request: Request, ticket_id: int):
    return respond(TicketOut, await service.get_ticket(request.ctx.principal, ticket_id))


async def _act(request: Request, ticket_id: int, action: str, **kwargs):
    return respond(
        TicketOut,
        await service.act(request.ctx.principal, ticket_id, action, settings=request.app.ctx.settings, **kwargs),
    )


@bp.post("/staff/tickets/<ticket_id:int>/reply")
@doc(
    "答复咨询、投诉或建议（答复不结束工单：由群众确认）",
    tag="feedback-staff",
    body=ReplyIn,
    response=TicketOut,
    errors=(400, 401, 403, 404, 409, 422),
    secured=True,
)
@staff_required(*TICKET_STAFF_ROLES)
async def reply(request: Request, ticket_id: int):
    data = parse_body(request, ReplyIn)
    return await _act(request, ticket_id, "reply", note=data.content, version=data.version)


@bp.post("/staff/tickets/<ticket_id:int>/callback")
@doc(
    "差评整改：记录回访",
    tag="feedback-staff",
    body=StepIn,
    response=TicketOut,
    errors=(400, 401, 403, 404, 409, 422),
    secured=True,
)
@staff_required(*TICKET_STAFF_ROLES)
async def callback(request: Request, ticket_id: int):
    data = parse_body(request, StepIn)
    return await _act(request, ticket_id, "callback", note=data.note, version=data.version)


@bp.post("/staff/tickets/<ticket_id:int>/fix")
@doc(
    "差评整改：记录整改结果（群众可见并可评价）",
    tag="feedback-staff",
    body=StepIn,
    response=TicketOut,
    errors=(400, 401, 403, 404, 409, 422),
    secured=True,
)
@staff_required(*TICKET_STAFF_ROLES)
async def fix(request: Request, ticket_id: int):
    data = parse_body(request, StepIn)
    return await _act(request, ticket_id, "fix", note=data.note, version=data.version)


@bp.post("/staff/tickets/<ticket_id:int>/close")
@doc(
    "效能监察关闭工单（须说明理由）",
    tag="feedback-staff",
    body=CloseIn,
    response=TicketOut,
    errors=(400, 401, 403, 404, 409, 422),
    secured=True,
)
@staff_required("supervisor")
async def close(request: Request, ticket_id: int):
    data = parse_body(request, CloseIn)
    return await _act(request, ticket_id, "close", note=data.reason, version=data.version)


@bp.post("/staff/tickets/<ticket_id:int>/assign")
@doc(
    "效能监察把工单转给主管部门",
    tag="feedback-staff",
    body=AssignIn,
    response=TicketOut,
    errors=(400, 401, 403, 404, 409, 422),
    secured=True,
)
@staff_required("supervisor")
async def assign(request: Request, ticket_id: int):
    data = parse_body(request, AssignIn)
    return await _act(request, ticket_id, "assign", department_id=data.department_id, version=data.version)


@bp.get("/staff/tickets/<ticket_id:int>/assignees")
@doc(
    "可指派的本部门工作人员（部门管理员、效能监察可用）",
    tag="feedback-staff",
    response=list[AssigneeOut],
    errors=(401, 403, 404),
    secured=True,
)
@staff_required(*TICKET_STAFF_ROLES)
async def assignees(request: Request, ticket_id: int):
    return respond(list[AssigneeOut], await service.assignees(request.ctx.principal, ticket_id))


@bp.post("/staff/tickets/<ticket_id:int>/assign-staff")
@doc(
    "把工单指派给本部门的一名工作人员（本部门管理员或效能监察；待答复、待回访或待整改时）",
    tag="feedback-staff",
    body=AssignStaffIn,
    response=TicketOut,
    errors=(400, 401, 403, 404, 409, 422),
    secured=True,
)
@staff_required(*TICKET_STAFF_ROLES)
async def assign_staff(request: Request, ticket_id: int):
    data = parse_body(request, AssignStaffIn)
    return respond(
        TicketOut,
        await service.assign_staff(
            request.ctx.principal,
            ticket_id,
            staff_id=data.staff_id,
            version=data.version,
            settings=request.app.ctx.settings,
        ),
    )
