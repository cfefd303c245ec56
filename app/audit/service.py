"""Writing and reading the audit log."""

from __future__ import annotations

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
    return [
        {
            "at": to_iso(r.at),
            "actor": r.actor,
            "staff_id": r.staff_id,
            "action": r.action,
            "before": r.before,
            "after": r.after,
            "request_id": r.request_id,
        }
        for r in rows
    ]
