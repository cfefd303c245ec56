"""Booking and queue request and response shapes (pydantic)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from app.booking.models import AppointmentStatus
from app.core.http import Id, Page, PageQuery, StrictId

ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TimeRange(_Input):
    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class ScheduleRules(_Input):
    """When and how a hall takes appointments for a matter (everything of a schedule that can change)."""

    weekdays: list[Annotated[int, Field(ge=1, le=7)]] = Field(
        default_factory=lambda: [1, 2, 3, 4, 5], min_length=1, max_length=7
    )
    ranges: list[TimeRange] = Field(min_length=1, max_length=8)
    slot_minutes: Literal[30, 60]
    capacity: StrictInt = Field(ge=1, le=1000)
    release_days: StrictInt = Field(5, ge=1, le=30)
    release_time: ClockTime = "08:00"
    booking_closes_minutes: StrictInt = Field(120, ge=0, le=7 * 24 * 60)
    cancel_cutoff_minutes: StrictInt = Field(120, ge=0, le=7 * 24 * 60)
    active: StrictBool = True


class ScheduleIn(ScheduleRules):
    """A hall's appointment hours for one matter; slots follow on working days."""

    hall_id: StrictId
    matter_id: StrictId


class ScheduleOut(ScheduleIn):
    id: int
    department_id: int


class SchedulePageOut(Page[ScheduleOut]):
    """A page of schedules."""


class ScheduleQuery(PageQuery):
    matter_id: Id | None = None
    hall_id: Id | None = None


class SlotQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    hall_id: Id | None = None
    date_from: date | None = None
    date_to: date | None = None

    @model_validator(mode="after")
    def _short_range(self) -> SlotQuery:
        if self.date_from and self.date_to:
            if self.date_to < self.date_from:
                raise ValueError("date_to must not be before date_from")
            if (self.date_to - self.date_from).days > 31:
                raise ValueError("at most 31 days at once")
        return self


class SlotOut(BaseModel):
    id: int
    hall_id: int
    matter_id: int
    date: str
    start: str
    end: str
    capacity: int
    remaining: int
    booking_closes_at: str


class AppointmentIn(_Input):
    slot_id: StrictId
    matter_id: StrictId


class BookingStandingOut(BaseModel):
    recent_no_shows: int = Field(description="爽约次数（最近 window_days 天内）")
    no_shows_to_suspend: int = Field(description="达到此次数即暂停预约")
    window_days: int
    suspension_days: int
    suspended_until: str | None = Field(description="暂停预约至（城市时间 ISO 8601）；未暂停为 null")


class QueueTicketOut(BaseModel):
    """A number of the hall queue (A: by appointment, B: walk-in)."""

    id: int
    number: str
    hall_id: int
    kind: str
    status: str
    window: int | None
    ahead: int = Field(description="numbers called before this one while it waits; 0 once called")
    issued_at: str
    called_at: str | None = Field(None, description="first called (a recall keeps it)")
    finished_at: str | None = Field(None, description="served (finished at the window)")


class AppointmentSlotOut(BaseModel):
    id: int
    hall_id: int
    start: str
    end: str


class AppointmentOut(BaseModel):
    id: int
    status: AppointmentStatus
    code: str
    matter_id: int
    hall_id: int
    slot: AppointmentSlotOut
    cancel_closes_at: str
    created_at: str
    ticket_number: str | None = None
    allowed_actions: list[str] = []


class AppointmentPageOut(Page[AppointmentOut]):
    """A page of appointments."""


class AppointmentQuery(PageQuery):
    status: Literal["booked", "cancelled", "checked_in", "no_show", "done"] | None = None


class CheckInIn(_Input):
    code: str = Field(min_length=4, max_length=12)


class CheckInOut(BaseModel):
    ticket: QueueTicketOut
    appointment_id: int


class WalkInIn(_Input):
    matter_id: StrictId | None = None


class CallNextIn(_Input):
    window: StrictInt = Field(ge=1, le=999)


class RecallIn(_Input):
    window: StrictInt | None = Field(None, ge=1, le=999, description="the window to come to; default: the number's")


class MyQueueTicketIn(_Input):
    hall_id: StrictId
    matter_id: StrictId | None = None


class HallAppointmentQuery(PageQuery):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    day: date | None = Field(None, alias="date", description="the day (default: today in the city)")
    status: Literal["booked", "checked_in", "no_show", "done"] | None = None


class HallAppointmentOut(BaseModel):
    """An appointment of a hall's day, as the window staff see it."""

    id: int
    status: Literal["booked", "checked_in", "no_show", "done"]
    start: str
    end: str
    matter_id: int
    matter_name: str
    citizen_name: str
    id_number_masked: str
    checked_in_at: str | None
    ticket_number: str | None
    ticket_status: str | None


class HallAppointmentPageOut(Page[HallAppointmentOut]):
    """A page of a hall's appointments of one day."""


class ServingOut(BaseModel):
    id: int = Field(description="the queue ticket: a window clerk who reloads the console finds the number again")
    number: str
    window: int | None
    called_at: str | None
    recalls: int = Field(0, description="times recalled: the hall's screen announces the number again when it grows")


class QueueOut(BaseModel):
    hall_id: int
    date: str
    waiting: int
    waiting_appointments: int
    waiting_walk_ins: int
    serving: list[ServingOut]
    queue_served: int = Field(description="numbers served today")
    queue_skipped: int = Field(description="numbers passed over today (nobody came to the window)")
    average_wait_minutes: float | None = Field(description="served numbers today: from taking to the first call")
    average_serve_minutes: float | None = Field(description="served numbers today: from the call to finishing")
