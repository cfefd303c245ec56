"""Booking and queue errors."""

from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed


class SlotNotFound(NotFound):
    code = "SLOT_NOT_FOUND"
    message = "预约时段不存在"


class AppointmentNotFound(NotFound):
    code = "APPOINTMENT_NOT_FOUND"
    message = "预约不存在"


class ScheduleNotFound(NotFound):
    code = "SCHEDULE_NOT_FOUND"
    message = "预约排班不存在"


class HallNotFound(NotFound):
    code = "HALL_NOT_FOUND"
    message = "大厅不存在"


class SlotFull(Conflict):
    code = "SLOT_FULL"
    message = "该时段已约满，请选择其他时段"


class AlreadyBooked(Conflict):
    code = "ALREADY_BOOKED"
    message = "您当天已预约该事项"


class BookingLimitReached(Conflict):
    code = "BOOKING_LIMIT_REACHED"
    message = "您的有效预约已达上限"


class BookingClosed(Conflict):
    code = "BOOKING_CLOSED"
    message = "该时段不在可预约时间内"


class CancelClosed(Conflict):
    code = "CANCEL_CLOSED"
    message = "已过取消截止时间"


class AppointmentStateConflict(Conflict):
    code = "APPOINTMENT_STATE_CONFLICT"
    message = "预约当前状态不允许此操作"


class CheckInNotOpen(Conflict):
    code = "CHECKIN_NOT_OPEN"
    message = "不在签到时间内"


class QueueEmpty(Conflict):
    code = "QUEUE_EMPTY"
    message = "当前没有等候的号"


class ScheduleExists(Conflict):
    code = "SCHEDULE_EXISTS"
    message = "该大厅已有此事项的排班"


class NotBookableHere(ValidationFailed):
    code = "NOT_BOOKABLE_HERE"
    message = "该事项不可预约，或不在该大厅办理"


class BookingSuspended(Forbidden):
    code = "BOOKING_SUSPENDED"
    message = "因多次预约未到，暂停预约"


class QueueTicketNotFound(NotFound):
    code = "QUEUE_TICKET_NOT_FOUND"
    message = "排队号不存在"


class MatterNotServedHere(Conflict):
    code = "MATTER_NOT_SERVED_HERE"
    message = "本大厅没有办理该事项的窗口"


class HallClosed(Conflict):
    code = "HALL_CLOSED"
    message = "大厅不在办公时间，暂停取号"
