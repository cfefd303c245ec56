"""Audit log HTTP: the administrators' search over every staff write."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sanic import Blueprint, Request

from app.audit import service
from app.audit.schemas import AuditPageOut, AuditQuery
from app.core.auth import staff_required
from app.core.errors import ValidationFailed
from app.core.http import page_of, parse_query, respond
from app.core.openapi import doc
from app.core.timeutil import CITY_TZ

bp = Blueprint("audit", url_prefix="/api/v1/admin")


def _day_start(day: str | None, field: str, *, plus_days: int = 0) -> datetime | None:
    """The instant the city's day begins (plus some days), as UTC; None when not given."""
    if day is None:
        return None
    try:
        first = date.fromisoformat(day) + timedelta(days=plus_days)
    except ValueError:
        raise ValidationFailed(details={"fields": [{"field": field, "message": "日期无效"}]}) from None
    return datetime.combine(first, time(0), tzinfo=CITY_TZ).astimezone(UTC)


@bp.get("/audit")
@doc(
    "审计日志：谁在何时改了什么（改前/改后），按人员、对象、日期筛选",
    tag="audit",
    response=AuditPageOut,
    errors=(401, 403, 422),
    secured=True,
    query=AuditQuery,
)
@staff_required("admin")
async def audit_log(request: Request):
    query = parse_query(request, AuditQuery)
    items, total = await service.search(
        staff_id=query.staff_id,
        object_type=query.object_type,
        object_id=query.object_id,
        first=_day_start(query.date_from, "from"),
        end=_day_start(query.date_to, "to", plus_days=1),
        offset=query.offset,
        limit=query.page_size,
    )
    return respond(AuditPageOut, page_of(items, total, query.page, query.page_size))
