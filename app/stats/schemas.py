"""Statistics query and report shapes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from app.core.http import Id


class StatsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    date_from: str | None = Field(
        None, alias="from", pattern=r"^\d{4}-\d{2}-\d{2}$", description="first day (default: 30 days up to the last)"
    )
    date_to: str | None = Field(
        None, alias="to", pattern=r"^\d{4}-\d{2}-\d{2}$", description="last day (default: today)"
    )
    department_id: Id | None = None
    hall_id: Id | None = None
    matter_id: Id | None = None


class Figures(BaseModel):
    ratings_by_level: dict[str, int] = Field(description="citizens' own ratings by level 1..5 (voided left out)")
    rated: int
    defaulted: int = Field(description="not rated within the rating period: counted as level 3")
    total_ratings: int
    satisfaction_rate: float | None = Field(description="levels 3-5 over all ratings, defaulted ones included")
    satisfaction_rate_rated: float | None = Field(description="levels 3-5 over the citizens' own ratings only")
    bad_ratings: int
    voided_ratings: int
    rectifications: int
    callback_due: int
    callback_on_time: int
    callback_on_time_rate: float | None
    fix_due: int
    fix_on_time: int
    fix_on_time_rate: float | None
    feedback: int
    complaints: int
    answered: int
    reopened: int
    reopen_rate: float | None = Field(description="reopened over answered feedback")
    escalated: int
    cases_decided: int = Field(description="cases approved or denied in the period (after acceptance)")
    cases_on_time: int = Field(description="of those, decided by their deadline")
    cases_on_time_rate: float | None
    cases_average_days: float | None = Field(
        description="calendar days from acceptance to decision, averaged over the cases decided in the period"
    )
    cases_overdue_now: int = Field(description="running cases past their deadline at the time of the report")


class PlaceFigures(Figures):
    matters: int = Field(description="matters handled (by the department, or at the hall) now, whatever the period")
    online_capable: int = Field(description="of those, matters that can be applied for online (online depth 3 or 4)")
    online_capable_share: float | None
    zero_visit: int = Field(description="of those, matters whose guide asks no visit at all (最多跑零次)")
    zero_visit_share: float | None


class DepartmentFigures(PlaceFigures):
    department_id: int
    department_name: str


class HallFigures(PlaceFigures):
    hall_id: int
    hall_name: str
    appointments_due: int = Field(description="appointments of the period that were served or missed")
    no_shows: int
    no_show_rate: float | None
    queue_served: int = Field(description="queue numbers taken in the period and served at a window")
    queue_skipped: int = Field(description="queue numbers taken in the period and passed over (nobody came)")
    average_wait_minutes: float | None = Field(description="served numbers: minutes from taking to the first call")
    average_serve_minutes: float | None = Field(description="served numbers: minutes from the call to finishing")


class MatterFigures(Figures):
    matter_id: int
    matter_name: str
    department_id: int


# TypedDicts, not models: "from" is a Python keyword, and the OpenAPI document names keys as declared (a model's
# alias would be documented under its Python name).
DepartmentReport = TypedDict(
    "DepartmentReport", {"from": str, "to": str, "generated_at": str, "items": list[DepartmentFigures]}
)
HallReport = TypedDict("HallReport", {"from": str, "to": str, "generated_at": str, "items": list[HallFigures]})
MatterReport = TypedDict("MatterReport", {"from": str, "to": str, "generated_at": str, "items": list[MatterFigures]})


class StaffStatsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    date_from: str | None = Field(None, alias="from", pattern=r"^\d{4}-\d{2}-\d{2}$", description="first day")
    date_to: str | None = Field(None, alias="to", pattern=r"^\d{4}-\d{2}-\d{2}$", description="last day")
    department_id: Id | None = Field(None, description="one department (a department administrator: only their own)")


class ExportQuery(StaffStatsQuery):
    report: Literal["departments", "halls", "weekly"]
    format: Literal["csv", "xlsx"] = "csv"


class WeekFigures(BaseModel):
    week_start: str = Field(description="the Monday of the week (the city's days)")
    accepted: int = Field(description="cases accepted in the week")
    decided: int = Field(description="cases approved or denied in the week (after acceptance)")
    on_time: int = Field(description="of those, decided by their deadline")
    overdue: int = Field(description="of those, decided after their deadline")


WeeklyReport = TypedDict(
    "WeeklyReport",
    {"from": str, "to": str, "department_id": int | None, "generated_at": str, "weeks": list[WeekFigures]},
)
