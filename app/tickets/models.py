"""Ticket tables: consultations, complaints, suggestions and bad-rating rectifications, and each ticket's log."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class TicketKind(StrEnum):
    CONSULT = "consult"
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"
    RECTIFICATION = "rectification"  # opened by a rating of 1 or 2


class TicketStatus(StrEnum):
    OPEN = "open"  # waiting for the department: a reply (feedback) or a call-back (rectification)
    REPLIED = "replied"  # feedback answered: the citizen confirms or reopens
    CALLED_BACK = "called_back"  # rectification: the citizen was called, the fix is due
    FIXED = "fixed"  # rectification: the fix is recorded; the citizen may rate it
    CLOSED = "closed"


class ServiceTicket(Model):
    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(TicketKind, max_length=16)
    status = fields.CharEnumField(TicketStatus, max_length=12, default=TicketStatus.OPEN, db_index=True)
    version = fields.IntField(default=1)
    citizen_id = fields.IntField(null=True, db_index=True)
    # The department that must answer; NULL: the supervisors' queue until a supervisor assigns it.
    department_id = fields.IntField(null=True, db_index=True)
    # The staff member of the department the ticket is given to (by its dept_admin or a supervisor); NULL: anyone's.
    assignee_staff_id = fields.IntField(null=True, db_index=True)
    matter_id = fields.IntField(null=True)
    case_id = fields.IntField(null=True)
    hall_id = fields.IntField(null=True)
    rating_id = fields.IntField(null=True, unique=True)
    content = fields.CharField(max_length=1000)
    # The deadline of the step the department owes now (reply, call-back or fix); NULL when it owes none.
    due_at = fields.DatetimeField(null=True)
    # Feedback: the reply is due by this time (moved on at each reopen). Rectification: the call-back.
    first_due_at = fields.DatetimeField()
    # Rectification: the fix is due by this time.
    fix_due_at = fields.DatetimeField(null=True)
    first_done_at = fields.DatetimeField(null=True)  # first reply, or the call-back
    first_on_time = fields.BooleanField(null=True)
    fixed_at = fields.DatetimeField(null=True)
    fix_on_time = fields.BooleanField(null=True)
    last_reply = fields.CharField(max_length=1000, default="")
    reopen_count = fields.IntField(default=0)
    escalated_at = fields.DatetimeField(null=True)
    # The overdue alerts already sent ("reply:<reopen_count>", "callback", "fix"), each sent once.
    alerted = fields.JSONField(default=list)
    fix_score = fields.SmallIntField(null=True)
    fix_comment = fields.CharField(max_length=500, default="")
    # Until when the citizen may confirm or reopen a reply (consultation, suggestion) or rate a fix; silence past it
    # closes the ticket as unanswered. Complaints never get one: only the citizen or a supervisor ends them.
    answer_due_at = fields.DatetimeField(null=True, db_index=True)
    closed_at = fields.DatetimeField(null=True)
    close_reason = fields.CharField(max_length=500, default="")
    closed_by = fields.CharField(max_length=32, default="")  # citizen:<id>, staff:<id> or system
    # Closed because its bad rating was voided on appeal: out of the statistics, kept in the record.
    voided = fields.BooleanField(default=False)
    idempotency_key = fields.CharField(max_length=80, null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "service_ticket"
        unique_together = (("citizen_id", "idempotency_key"),)
        indexes = (("department_id", "status", "due_at"), ("status", "due_at"))


class TicketEntry(Model):
    """One step of a ticket: append-only, never updated or deleted."""

    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[ServiceTicket] = fields.ForeignKeyField(
        "models.ServiceTicket", related_name="entries", on_delete=fields.RESTRICT
    )
    action = fields.CharField(max_length=16)
    from_status = fields.CharField(max_length=12, null=True)
    to_status = fields.CharField(max_length=12)
    actor = fields.CharField(max_length=32)
    actor_role = fields.CharField(max_length=16)
    note = fields.CharField(max_length=1000, default="")
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "service_ticket_entry"
