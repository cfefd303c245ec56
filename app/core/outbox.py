"""The outbox: domains record events inside their own transaction; the notifier reads and delivers them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.core.models import OutboxEvent
from app.core.redaction import mask_in
from app.core.timeutil import now, to_iso


def event_view(event: OutboxEvent) -> dict:
    """An outbox row as plain data."""
    return {
        "id": event.id,
        "kind": event.kind,
        "aggregate_type": event.aggregate_type,
        "aggregate_id": event.aggregate_id,
        "citizen_id": event.citizen_id,
        "department_id": event.department_id,
        "payload": event.payload,
        "at": to_iso(event.created_at),
        "dispatched_at": to_iso(event.dispatched_at),
    }


async def emit(
    kind: str,
    *,
    aggregate_type: str,
    aggregate_id: int,
    connection,
    payload: dict[str, Any] | None = None,
    citizen_id: int | None = None,
    department_id: int | None = None,
) -> None:
    """Record an event; pass the caller's transaction so the event exists exactly when the change does."""
    # Payloads carry what people wrote (notes, complaints, reasons) to pushes and staff alerts: never their numbers.
    await OutboxEvent.create(
        kind=kind,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        citizen_id=citizen_id,
        department_id=department_id,
        payload=mask_in(payload or {}),
        using_db=connection,
    )


async def emit_once(
    kind: str,
    *,
    dedupe_key: str,
    aggregate_type: str,
    aggregate_id: int,
    payload: dict[str, Any] | None = None,
    citizen_id: int | None = None,
    department_id: int | None = None,
) -> bool:
    """Record an event unless one with this key exists (several workers may notice it); True when this call did."""
    from tortoise.exceptions import IntegrityError
    from tortoise.transactions import in_transaction

    try:
        async with in_transaction() as connection:
            await OutboxEvent.create(
                kind=kind,
                aggregate_type=aggregate_type,
                aggregate_id=aggregate_id,
                citizen_id=citizen_id,
                department_id=department_id,
                payload=mask_in(payload or {}),
                dedupe_key=dedupe_key,
                using_db=connection,
            )
    except IntegrityError:
        return False
    return True


async def events_for(aggregate_type: str, aggregate_id: int) -> list[dict]:
    """Every event recorded about one object, oldest first."""
    rows = await OutboxEvent.filter(aggregate_type=aggregate_type, aggregate_id=aggregate_id).order_by("id")
    return [event_view(row) for row in rows]


async def undispatched(limit: int = 100) -> list[dict]:
    """Events nobody has delivered yet, oldest first."""
    rows = await OutboxEvent.filter(dispatched_at__isnull=True).order_by("id").limit(limit)
    return [event_view(row) for row in rows]


async def backlog(at: datetime | None = None) -> dict[str, float]:
    """How many events wait for the notifier, and how long the oldest has waited (seconds; 0 when none)."""
    waiting = OutboxEvent.filter(dispatched_at__isnull=True)
    count = await waiting.count()
    oldest = await waiting.order_by("id").first().values_list("created_at", flat=True) if count else None
    age = max(((at or now()) - oldest).total_seconds(), 0.0) if oldest else 0.0
    return {"events": count, "oldest_age_seconds": age}
