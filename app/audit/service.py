"""Writing and reading the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.audit.models import AuditEntry
from app.core.logging import request_id_var
from app.core.redaction import mask_in
from app.core.timeutil import to_iso


async def record(
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: Any,
    staff_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
    connection=None,
) -> None:
    """Append one entry (personal numbers in it masked); pass the transaction's connection so it commits with the
    change."""
    await AuditEntry.create(
        actor=actor,
        staff_id=staff_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        # The record says who changed what; a note quoting an ID number keeps its words, not the number.
        before=mask_in(before),
        after=mask_in(after),
        request_id=request_id_var.get(),
        using_db=connection,
    )


async def entries_for(object_type: str, object_id: Any) -> list[dict]:
    """The audit trail of one object, oldest first."""
    rows = await AuditEntry.filter(object_type=object_type, object_id=str(object_id)).order_by("id")
    return [_view(r) for r in rows]


async def search(
    *,
    staff_id: int | None,
    object_type: str | None,
    object_id: str | None,
    first: datetime | None,
    end: datetime | None,
    offset: int,
    limit: int,
) -> tuple[list[dict], int]:
    """Entries matching the filters (first: from this instant, end: before it), newest first, and how many match."""
    query = AuditEntry.all()
    if staff_id is not None:
        query = query.filter(staff_id=staff_id)
    if object_type:
        query = query.filter(object_type=object_type)
    if object_id:
        query = query.filter(object_id=object_id)
    if first is not None:
        query = query.filter(at__gte=first)
    if end is not None:
        query = query.filter(at__lt=end)
    total = await query.count()
    rows = await query.order_by("-id").offset(offset).limit(limit)
    return [{"id": r.id, "object_type": r.object_type, "object_id": r.object_id, **_view(r)} for r in rows], total


def _view(r: AuditEntry) -> dict:
    return {
        "at": to_iso(r.at),
        "actor": r.actor,
        "staff_id": r.staff_id,
        "action": r.action,
        "before": r.before,
        "after": r.after,
        "request_id": r.request_id,
    }
