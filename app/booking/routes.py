"""Booking and queue HTTP: slots and appointments for citizens, check-in and calling for clerks, schedules for admins
(the working-day calendar is core's: app/core/calendar_routes.py).

Queue endpoints (and a hall's appointments of the day) act on any hall for staff holding clerk, supervisor or admin:
staff accounts carry a department, not a hall, and a clerk of any department may staff a hall's windows.
"""

from __future__ import annotations

from sanic import Blueprint, Request

from app.booking import service
from app.booking.schemas import (
    AppointmentIn,
    AppointmentOut,
    AppointmentPageOut,
    AppointmentQuery,
    BookingStandingOut,
    CallNextIn,
    CheckInIn,
    CheckInOut,
    HallAppointmentPageOut,
    HallAppointmentQuery,
    MyQueueTicketIn,
    QueueOut,
    QueueTicketOut,
    RecallIn,
    ScheduleIn,
    ScheduleOut,
    SchedulePageOut,
    ScheduleQuery,
    ScheduleRules,
    SlotOut,
    SlotQuery,
    WalkInIn,
)
from app.core.auth import citizen_required, client_ip, limit_rate, staff_required
from app.core.http import idempotency_key, page_of, parse_body, parse_query, respond, respond_remembered
from app.core.openapi import doc

bp = Blueprint("booking", url_prefix="/api/v1")

QUEUE_ROLES = ("clerk", "supervisor", "admin")


# ---- citizens ----


@bp.get("/matters/<matter_id:int>/slots")
@doc("事项的可预约时段（含剩余名额）", tag="booking", response=list[SlotOut], errors=(404, 422), query=SlotQuery)
async def slots(request: Request, matter_id: int):
    query = parse_query(request, SlotQuery)
    # The listing is remembered for booking.listing_cache_seconds: its body is encoded once, not per request.
    return respond_remembered(
        list[SlotOut],
        await service.list_slots(
            matter_id=matter_id,
            hall_id=query.hall_id,
            date_from=query.date_from,
            date_to=query.date_to,
            cache_seconds=request.app.ctx.settings.booking.listing_cache_seconds,
        ),
    )


@bp.post("/appointments")
@doc(
    "预约一个时段（可带 Idempotency-Key 头）",
    tag="booking",
    body=AppointmentIn,
    response=AppointmentOut,
    status=201,
    errors=(400, 401, 403, 404, 409, 422),
    secured=True,
)
@citizen_required
async def book(request: Request):
    data = parse_body(request, AppointmentIn)
    appointment = await service.book(
        citizen_id=request.ctx.principal.id,
        slot_id=data.slot_id,
        matter_id=data.matter_id,
        idempotency_key=idempotency_key(request),
        cache=request.app.ctx.cache,
        tuning=request.app.ctx.settings.booking,
    )
    return respond(AppointmentOut, appointment, status=201)


@bp.get("/appointments")
@doc(
    "我的预约", tag="booking", response=AppointmentPageOut, errors=(401, 403, 422), secured=True, query=AppointmentQuery
)
@citizen_required
async def my_appointments(request: Request):
    query = parse_query(request, AppointmentQuery)
    items, total = await service.list_appointments(
        citizen_id=request.ctx.principal.id, status=query.status, offset=query.offset, limit=query.page_size
    )
    return respond(AppointmentPageOut, page_of(items, total, query.page, query.page_size))


@bp.get("/appointments/<appointment_id:int>")
@doc("预约详情", tag="booking", response=AppointmentOut, errors=(401, 403, 404), secured=True)
@citizen_required
async def appointment(request: Request, appointment_id: int):
    return respond(
        AppointmentOut,
        await service.get_appointment(citizen_id=request.ctx.principal.id, appointment_id=appointment_id),
    )


@bp.post("/appointments/<appointment_id:int>/cancel")
@doc("取消预约（截止时间前）", tag="booking", response=AppointmentOut, errors=(401, 403, 404, 409), secured=True)
@citizen_required
async def cancel(request: Request, appointment_id: int):
    return respond(
        AppointmentOut,
        await service.cancel(
            citizen_id=request.ctx.principal.id, appointment_id=appointment_id, cache=request.app.ctx.cache
        ),
    )


@bp.post("/appointments/<appointment_id:int>/check-in")
@doc(
    "到厅自助签到取号（时段开始前 30 分钟至结束）",
    tag="queue",
    response=CheckInOut,
    errors=(401, 403, 404, 409),
    secured=True,
)
@citizen_required
async def self_check_in(request: Request, appointment_id: int):
    return respond(
        CheckInOut, await service.self_check_in(citizen_id=request.ctx.principal.id, appointment_id=appointment_id)
    )


@bp.get("/me/booking-standing")
@doc(
    "我的预约信用：近期爽约次数，以及是否被暂停预约、暂停到何时",
    tag="appointments",
    response=BookingStandingOut,
    errors=(401, 403),
    secured=True,
)
@citizen_required
async def my_booking_standing(request: Request):
    return respond(BookingStandingOut, await service.booking_standing(request.ctx.principal.id))


@bp.get("/me/queue-tickets")
@doc("我今天的排队号（含前面还有几人）", tag="queue", response=list[QueueTicketOut], errors=(401, 403), secured=True)
@citizen_required
async def my_queue_tickets(request: Request):
    return respond(list[QueueTicketOut], await service.my_queue_tickets(citizen_id=request.ctx.principal.id))


@bp.post("/me/queue-tickets")
@doc(
    "在小程序取号（B 号，归本人，叫号及前面还剩 3 人时推送；仅大厅办公时间内）",
    tag="queue",
    body=MyQueueTicketIn,
    response=QueueTicketOut,
    status=201,
    errors=(400, 401, 403, 404, 409, 422, 429),
    secured=True,
)
@citizen_required
async def take_my_queue_ticket(request: Request):
    data = parse_body(request, MyQueueTicketIn)
    citizen_id = request.ctx.principal.id
    await limit_rate(
        request.app.ctx.cache, f"kiosk:citizen:{citizen_id}", request.app.ctx.settings.booking.kiosk_tickets_per_minute
    )
    queue_ticket = await service.take_walk_in_queue_ticket(
        hall_id=data.hall_id, matter_id=data.matter_id, citizen_id=citizen_id
    )
    return respond(QueueTicketOut, queue_ticket, status=201)


# ---- the hall queue ----


@bp.get("/staff/halls/<hall_id:int>/appointments")
@doc(
    "大厅当天预约（按时段：谁、何时、何事项，是否签到、未到）",
    tag="queue",
    response=HallAppointmentPageOut,
    errors=(401, 403, 404, 422),
    secured=True,
    query=HallAppointmentQuery,
)
@staff_required(*QUEUE_ROLES)
async def hall_appointments(request: Request, hall_id: int):
    query = parse_query(request, HallAppointmentQuery)
    items, total = await service.hall_appointments(
        hall_id=hall_id, day=query.day, status=query.status, offset=query.offset, limit=query.page_size
    )
    return respond(HallAppointmentPageOut, page_of(items, total, query.page, query.page_size))


@bp.post("/staff/checkins")
@doc(
    "窗口凭预约码签到取号",
    tag="queue",
    body=CheckInIn,
    response=CheckInOut,
    errors=(400, 401, 403, 404, 409, 422),
    secured=True,
)
@staff_required(*QUEUE_ROLES)
async def staff_check_in(request: Request):
    data = parse_body(request, CheckInIn)
    return respond(CheckInOut, await service.check_in_by_code(code=data.code))


@bp.post("/staff/halls/<hall_id:int>/call-next")
@doc(
    "叫下一个号到窗口（预约号优先）",
    tag="queue",
    body=CallNextIn,
    response=QueueTicketOut,
    errors=(400, 401, 403, 404, 409, 422),
    secured=True,
)
@staff_required(*QUEUE_ROLES)
async def call_next(request: Request, hall_id: int):
    data = parse_body(request, CallNextIn)
    return respond(QueueTicketOut, await service.call_next(hall_id=hall_id, window=data.window))


@bp.post("/staff/queue-tickets/<ticket_id:int>/finish")
@doc("办结已叫的号（记录办理用时）", tag="queue", response=QueueTicketOut, errors=(401, 403, 404, 409), secured=True)
@staff_required(*QUEUE_ROLES)
async def finish_queue_ticket(request: Request, ticket_id: int):
    return respond(QueueTicketOut, await service.finish_queue_ticket(ticket_id=ticket_id))


@bp.post("/staff/queue-tickets/<ticket_id:int>/skip")
@doc("过号（叫号后无人到窗口）", tag="queue", response=QueueTicketOut, errors=(401, 403, 404, 409), secured=True)
@staff_required(*QUEUE_ROLES)
async def skip_queue_ticket(request: Request, ticket_id: int):
    return respond(QueueTicketOut, await service.skip_queue_ticket(ticket_id=ticket_id))


@bp.post("/staff/queue-tickets/<ticket_id:int>/recall")
@doc(
    "重新叫号（已叫或过号的号，可换窗口）",
    tag="queue",
    body=RecallIn,
    response=QueueTicketOut,
    errors=(400, 401, 403, 404, 409, 422),
    secured=True,
)
@staff_required(*QUEUE_ROLES)
async def recall_queue_ticket(request: Request, ticket_id: int):
    data = parse_body(request, RecallIn) if request.body else RecallIn()
    return respond(QueueTicketOut, await service.recall_queue_ticket(ticket_id=ticket_id, window=data.window))


@bp.post("/halls/<hall_id:int>/tickets")
@doc(
    "取号机：现场取号（B 号；仅大厅办公时间内）",
    tag="queue",
    body=WalkInIn,
    response=QueueTicketOut,
    status=201,
    errors=(400, 404, 409, 422, 429),
)
async def walk_in_ticket(request: Request, hall_id: int):
    data = parse_body(request, WalkInIn) if request.body else WalkInIn()
    await limit_rate(
        request.app.ctx.cache, f"kiosk:{client_ip(request)}", request.app.ctx.settings.booking.kiosk_tickets_per_minute
    )
    return respond(
        QueueTicketOut, await service.take_walk_in_queue_ticket(hall_id=hall_id, matter_id=data.matter_id), status=201
    )


@bp.get("/halls/<hall_id:int>/queue")
@doc("大厅排队情况", tag="queue", response=QueueOut, errors=(404,))
async def queue(request: Request, hall_id: int):
    return respond(QueueOut, await service.queue_status(hall_id=hall_id))


# ---- admins ----


@bp.post("/admin/schedules")
@doc(
    "新建预约排班（部门管理员，本部门事项）",
    tag="booking-admin",
    body=ScheduleIn,
    response=ScheduleOut,
    status=201,
    errors=(400, 401, 403, 404, 409, 422),
    secured=True,
)
@staff_required("dept_admin", "admin")
async def create_schedule(request: Request):
    data = parse_body(request, ScheduleIn)
    schedule = await service.create_schedule(
        data,
        actor=request.ctx.principal,
        cache=request.app.ctx.cache,
        catalog_ttl=request.app.ctx.settings.catalog.cache_seconds,
    )
    return respond(ScheduleOut, schedule, status=201)


@bp.put("/admin/schedules/<schedule_id:int>")
@doc(
    "修改预约排班（对尚未放号的时段生效；已放号时段及其预约保持不变；active=false 停止放号）",
    tag="booking-admin",
    body=ScheduleRules,
    response=ScheduleOut,
    errors=(400, 401, 403, 404, 422),
    secured=True,
)
@staff_required("dept_admin", "admin")
async def update_schedule(request: Request, schedule_id: int):
    data = parse_body(request, ScheduleRules)
    return respond(
        ScheduleOut,
        await service.update_schedule(schedule_id, data, actor=request.ctx.principal, cache=request.app.ctx.cache),
    )


@bp.get("/admin/schedules")
@doc(
    "预约排班列表（本部门）",
    tag="booking-admin",
    response=SchedulePageOut,
    errors=(401, 403, 422),
    secured=True,
    query=ScheduleQuery,
)
@staff_required("dept_admin", "admin")
async def schedules(request: Request):
    query = parse_query(request, ScheduleQuery)
    items, total = await service.list_schedules(
        actor=request.ctx.principal,
        matter_id=query.matter_id,
        hall_id=query.hall_id,
        offset=query.offset,
        limit=query.page_size,
    )
    return respond(SchedulePageOut, page_of(items, total, query.page, query.page_size))
