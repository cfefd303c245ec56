"""Booking's public surface, for routes, the worker and other domains (`from app.booking import service as booking`).

The rules live by concern: slots.py (schedules and slots), appointments.py (booking behind the seat gate,
cancelling, no-shows), queue.py (queue tickets, check-in, calling), jobs.py (the worker's jobs), workflow.py (every
legal move, as app.core.workflow tables), memos.py (this process's memos: `memos.reset()` forgets them).
"""

from app.booking.appointments import (
    MAX_ACTIVE_APPOINTMENTS,
    appointment_view,
    book,
    booking_standing,
    cancel,
    figures,
    get_appointment,
    list_appointments,
    mark_no_shows,
    service_facts,
    suspended_until,
    suspension_end,
)
from app.booking.jobs import ensure_all_slots, reconcile_seat_counters, remind_appointments
from app.booking.memos import memos
from app.booking.queue import (
    call_next,
    check_in_by_code,
    finish_queue_ticket,
    hall_activity,
    hall_appointments,
    my_queue_tickets,
    queue_figures,
    queue_status,
    queue_ticket_view,
    queue_times,
    recall_queue_ticket,
    self_check_in,
    skip_queue_ticket,
    take_walk_in_queue_ticket,
    waiting_only_for,
)
from app.booking.slots import (
    DEFAULT_LISTING_DAYS,
    create_schedule,
    ensure_slots,
    list_schedules,
    list_slots,
    schedule_view,
    update_schedule,
)
from app.booking.workflow import APPOINTMENT_TABLE, QUEUE_TICKET_TABLE

__all__ = [
    "skip_queue_ticket",
    "recall_queue_ticket",
    "queue_times",
    "queue_figures",
    "my_queue_tickets",
    "hall_appointments",
    "finish_queue_ticket",
    "hall_activity",
    "APPOINTMENT_TABLE",
    "DEFAULT_LISTING_DAYS",
    "MAX_ACTIVE_APPOINTMENTS",
    "QUEUE_TICKET_TABLE",
    "appointment_view",
    "book",
    "call_next",
    "cancel",
    "check_in_by_code",
    "create_schedule",
    "ensure_all_slots",
    "ensure_slots",
    "figures",
    "get_appointment",
    "list_appointments",
    "list_schedules",
    "list_slots",
    "mark_no_shows",
    "memos",
    "queue_status",
    "queue_ticket_view",
    "reconcile_seat_counters",
    "remind_appointments",
    "schedule_view",
    "self_check_in",
    "service_facts",
    "booking_standing",
    "suspended_until",
    "suspension_end",
    "take_walk_in_queue_ticket",
    "waiting_only_for",
    "update_schedule",
]
