"""Rating request and response bodies."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from app.core.http import Id, Page, PageQuery, StrictId
from app.tickets.schemas import TicketOut


class Dimensions(BaseModel):
    """Optional scores of one aspect each (1..5): 办事效率, 指南准确, 办事便利, 服务态度."""

    model_config = ConfigDict(extra="forbid")
    efficiency: StrictInt | None = Field(None, ge=1, le=5)
    guide_accuracy: StrictInt | None = Field(None, ge=1, le=5)
    convenience: StrictInt | None = Field(None, ge=1, le=5)
    attitude: StrictInt | None = Field(None, ge=1, le=5)


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    case_id: StrictId | None = None
    appointment_id: StrictId | None = None
    score: StrictInt = Field(ge=1, le=5, description="5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意")
    dimensions: Dimensions = Field(default_factory=Dimensions)
    tags: list[str] = Field(default_factory=list, max_length=8)
    comment: str = Field("", max_length=500, description="the reason; required for 1 and 2")

    @model_validator(mode="after")
    def _one_subject(self) -> RatingIn:
        if (self.case_id is None) == (self.appointment_id is None):
            raise ValueError("give exactly one of case_id and appointment_id")
        self.tags = [tag.strip() for tag in self.tags if tag.strip()]
        if any(len(tag) > 20 for tag in self.tags):
            raise ValueError("a tag has at most 20 characters")
        return self


class FixRatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    score: StrictInt = Field(ge=1, le=5)
    comment: str = Field("", max_length=500)


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=1, max_length=500, description="why the rating is malicious, with evidence")


class AppealDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    decision: Literal["uphold", "void"]
    note: str = Field(min_length=1, max_length=500)


class StaffRatingQuery(PageQuery):
    department_id: Id | None = None
    score: int | None = Field(None, ge=1, le=5)
    appeal_status: Literal["none", "pending", "upheld", "voided"] | None = None
    defaulted: bool | None = None


class RatingOut(BaseModel):
    id: int
    subject_type: Literal["case", "appointment"]
    case_id: int | None
    appointment_id: int | None
    department_id: int
    matter_id: int
    hall_id: int | None
    score: int
    dimensions: dict[str, int]
    tags: list[str]
    comment: str
    defaulted: bool
    rated_at: str
    appeal_status: Literal["none", "pending", "upheld", "voided"]
    voided: bool
    decision_note: str
    ticket: TicketOut | None = None


class RatingPage(Page[RatingOut]):
    """A page of the citizen's ratings."""


class StaffRatingOut(RatingOut):
    """What the staff console sees besides: who rated (null for a default rating) and the appeal."""

    citizen_id: int | None
    appeal_reason: str
    appealed_at: str | None
    decided_at: str | None


class StaffRatingPage(Page[StaffRatingOut]):
    """A page of ratings for the staff console."""
