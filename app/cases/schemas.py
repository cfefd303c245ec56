"""Case request and response bodies (they also feed /openapi.json)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.cases.models import CaseStatus
from app.catalog.models import MaterialForm
from app.core.http import Id, Page, PageQuery, StrictId, StrictVersion, omitted

Action = Literal[
    "accept", "request_supplement", "reject", "start_review", "suspend", "resume", "approve", "deny", "deliver"
]
Light = Literal["green", "yellow", "red"]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CaseIn(_Input):
    matter_id: StrictId
    form: dict[str, Any] = Field(default_factory=dict)
    appointment_id: StrictId | None = None
    # A proxy files for the citizen who granted them this matter (see /me/proxies).
    on_behalf_of: StrictId | None = None


class FormIn(_Input):
    form: dict[str, Any]
    version: StrictVersion | None = None


class CitizenActionIn(_Input):
    version: StrictVersion | None = None


class SupplementItemIn(_Input):
    material_id: StrictId | None = None
    reason: str = Field(min_length=1, max_length=200)


class TransitionIn(_Input):
    action: Action
    version: StrictVersion
    note: str = Field("", max_length=500)
    items: list[SupplementItemIn] | None = Field(None, max_length=50)
    method: Literal["pickup", "express"] | None = None
    tracking_no: str | None = Field(None, max_length=40, pattern=r"^[A-Za-z0-9-]*$")
    # deliver by pickup: the hall where the citizen collects it (default: the case's hall, else the matter's first)
    pickup_hall_id: StrictId | None = None


class WindowFilingIn(_Input):
    matter_id: StrictId
    applicant_name: str = Field(min_length=1, max_length=32)
    id_number: str = Field(min_length=15, max_length=18)
    form: dict[str, Any] = Field(default_factory=dict)
    materials_checked: list[StrictId] = Field(default_factory=list, max_length=100)
    hall_id: StrictId | None = None


class LinkIn(_Input):
    receipt_no: str = Field(min_length=1, max_length=32)
    id_number: str = Field(min_length=1, max_length=18)


class CaseQuery(PageQuery):
    status: CaseStatus | None = None


class StaffCaseQuery(PageQuery):
    status: CaseStatus | None = None
    light: Light | None = None
    department_id: Id | None = None
    q: str | None = Field(None, max_length=32, description="receipt number or applicant name (part of either)")


class MaterialFileOut(BaseModel):
    id: int
    material_id: int
    content_type: str
    size_bytes: int
    sha256: str
    file_name: str
    uploaded_at: str


class LicenceIn(_Input):
    material_id: StrictId


class AttachedLicenceOut(BaseModel):
    id: int
    material_id: int
    licence_type: str
    name: str
    licence_no_masked: str
    issuer: str
    valid_from: str
    valid_until: str | None
    attached_at: str | None


class LicenceOut(BaseModel):
    licence_type: str
    name: str
    licence_no_masked: str
    issuer: str
    valid_from: str
    valid_until: str | None
    valid: bool


class CaseMaterialOut(BaseModel):
    id: int
    name: str
    required: bool
    form: MaterialForm
    e_licence: bool
    copies: int  # paper copies the guide version asks for (0: none)
    files: list[MaterialFileOut]
    licences: list[AttachedLicenceOut]  # an electronic licence chosen for it stands for the upload


class TimelineEntryOut(BaseModel):
    at: str
    action: str
    # "from" is a Python keyword: the JSON field is still "from".
    from_: str | None = Field(None, alias="from")
    to: str
    actor: str
    note: str
    details: dict[str, Any] | None = None
    actor_id: str = omitted("staff views only: who exactly (citizen:<id>, staff:<id>, system)")


class CaseSummaryOut(BaseModel):
    id: int
    matter_id: int
    matter_name: str
    guide_version: int
    department_id: int
    department_name: str
    channel: Literal["online", "window"]
    status: CaseStatus
    version: int
    receipt_no: str | None
    applicant_name: str
    id_number_masked: str
    filed_by_proxy: bool
    created_at: str
    submitted_at: str | None
    accepted_at: str | None
    deadline: str | None
    light: Light | None
    clock_paused: bool
    paused_workdays: int
    promised_days: int
    amount_fen: int
    paid: bool
    ended_at: str | None
    rated: bool  # rated by the citizen, or defaulted after the rating period
    can_rate: bool  # the viewer may rate it now: its applicant, ended, not yet rated
    can_pay: bool  # the viewer may pay its fee now: owed (filed, unpaid, still running), not staff
    allowed_actions: list[str]


class CaseOut(CaseSummaryOut):
    form: dict[str, Any]
    form_fields: list[dict[str, Any]]
    supplement_items: list[dict[str, Any]]
    delivery: dict[str, str] | None
    materials: list[CaseMaterialOut]
    timeline: list[TimelineEntryOut]


class StaffCaseOut(CaseOut):
    applicant_id: int | None
    proxy_id: int | None
    filed_by_staff_id: int | None
    hall_id: int | None
    appointment_id: int | None


class CasePageOut(Page[CaseSummaryOut]):
    """A page of cases."""


class LightCountsOut(BaseModel):
    green: int
    yellow: int
    red: int


class StaffCasePageOut(Page[CaseSummaryOut]):
    """A page of a staff queue, with the running cases per light of the same scope, status and search."""

    light_counts: LightCountsOut
