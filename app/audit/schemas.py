"""Audit log query and entry shapes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.http import BigId, Id, Page, PageQuery


class AuditQuery(PageQuery):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    staff_id: Id | None = Field(None, description="who acted")
    object_type: str | None = Field(None, max_length=32, description="case, matter, staff, refund ...")
    object_id: str | None = Field(None, max_length=64)
    date_from: str | None = Field(None, alias="from", pattern=r"^\d{4}-\d{2}-\d{2}$", description="first day")
    date_to: str | None = Field(None, alias="to", pattern=r"^\d{4}-\d{2}-\d{2}$", description="last day")


class AuditEntryOut(BaseModel):
    id: BigId
    at: str
    actor: str = Field(description='"staff:12", "cli", "seed": who acted')
    staff_id: int | None
    action: str
    object_type: str
    object_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str


class AuditPageOut(Page[AuditEntryOut]):
    pass
