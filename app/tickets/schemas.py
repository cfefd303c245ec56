"""Ticket request and response bodies."""

from __future__ import annotations

from typing import Literal, NotRequired

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from app.core.http import Id, Page, PageQuery, StrictId, StrictVersion, omitted

TicketStatusName = Literal["open", "replied", "called_back", "fixed", "closed"]


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kind: Literal["consult", "complaint", "suggestion"]
    content: str = Field(min_length=1, max_length=1000)
    matter_id: StrictId | None = None
    case_id: StrictId | None = None


class ReopenIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=1, max_length=500, description="what is still not solved")


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    content: str = Field(min_length=1, max_length=1000)
    version: StrictVersion | None = None


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    note: str = Field(min_length=1, max_length=1000, description="what the citizen said, or what was fixed")
    version: StrictVersion | None = None


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=1, max_length=500)
    version: StrictVersion | None = None


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    department_id: StrictId
    version: StrictVersion | None = None


class AssignStaffIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    staff_id: StrictId = Field(description="an active clerk, approver or dept_admin of the ticket's department")
    version: StrictVersion | None = None


class AssigneeOut(BaseModel):
    id: int
    name: str
    roles: list[str]


class FeedbackQuery(PageQuery):
    status: TicketStatusName | None = None


class StaffTicketQuery(PageQuery):
    kind: Literal["consult", "complaint", "suggestion", "rectification", "feedback"] | None = None
    status: TicketStatusName | None = None
    overdue: bool | None = Field(None, description="true: the step owed now is past its deadline")
    escalated: bool | None = None
    department_id: Id | None = Field(None, description="supervisors: one department only")


# A TypedDict, not a model: its "from" key is a Python keyword, and the OpenAPI document names keys as declared.
TicketEntryOut = TypedDict(
    "TicketEntryOut",
    {
        "at": str,
        "action": str,
        "from": str | None,
        "to": str,
        "actor": str,
        "note": str,
        "actor_id": NotRequired[str],  # staff only: who exactly (citizen:<id>, staff:<id>, system)
    },
)


class TicketOut(BaseModel):
    id: int
    kind: str
    kind_name: str
    status: TicketStatusName
    version: int
    department_id: int | None
    matter_id: int | None
    case_id: int | None
    hall_id: int | None
    rating_id: int | None
    content: str
    created_at: str
    due_at: str | None
    is_overdue: bool
    reply_due_at: str | None
    replied_at: str | None
    callback_due_at: str | None
    called_back_at: str | None
    fix_due_at: str | None
    fixed_at: str | None
    reply: str
    reopen_count: int
    escalated: bool
    escalated_at: str | None
    fix_score: int | None
    fix_comment: str
    answer_due_at: str | None = Field(
        description="until when the citizen may confirm or reopen the reply, or rate "
        "the fix; after it the ticket closes unanswered (never a complaint)"
    )
    closed_at: str | None
    close_reason: str
    voided: bool
    allowed_actions: list[str]
    citizen_id: int | None = Field(None, description="staff only")
    assignee_staff_id: int | None = Field(None, description="staff only: the staff member the ticket is given to")
    assignee_name: str | None = Field(None, description="staff only: their name")
    entries: list[TicketEntryOut] = omitted("one ticket's view only: its log, oldest first")


class TicketPage(Page[TicketOut]):
    """A page of tickets."""
