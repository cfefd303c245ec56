"""Notifications: outbox events become inbox messages and push deliveries; deliveries reach the platforms once.

Two steps, each safe with several workers at once:
- dispatch: claim undispatched outbox events (FOR UPDATE SKIP LOCKED on PostgreSQL), write the inbox message and
  the deliveries (spending a subscription credit for a WeChat push), mark the event, all in one transaction;
- send: claim due deliveries with a lease; a worker that dies mid-send leaves its lease to run out and another
  worker takes the row. Transient platform errors retry with exponential backoff and jitter, permanent ones stop,
  and a delivery that keeps failing ends dead, where staff can retry it.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from typing import Any

from tortoise import connections
from tortoise.expressions import F, Q, Subquery
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from app.catalog import service as catalog
from app.core import db
from app.core.aggregates import figures_by
from app.core.auth import Principal
from app.core.errors import NotFound, ValidationFailed
from app.core.models import OutboxEvent
from app.core.redaction import mask_in, mask_personal_numbers
from app.core.timeutil import now as clock_now
from app.core.timeutil import to_iso
from app.identity import service as identity
from app.notifications.errors import AlertNotFound, DeliveryNotFound, DeliveryNotRetryable, MessageNotFound
from app.notifications.models import (
    Delivery,
    DeliveryStatus,
    InboxMessage,
    StaffAlert,
    StaffAlertRead,
    SubscriptionCredit,
)
from app.notifications.routing import route_for, template_values
from app.notifications.templates import fit, render
from app.platforms import MessageRejected

log = logging.getLogger("app.notifications")

ERROR_TEXT_MAX = 200


# ---- the inbox and subscriptions (citizens) ----


def _message_view(message: InboxMessage) -> dict:
    return {
        "id": message.id,
        "kind": message.kind,
        "title": message.title,
        "body": message.body,
        "subject": message.subject,
        "created_at": to_iso(message.created_at),
        "read": message.read_at is not None,
    }


async def inbox(citizen_id: int, *, unread_only: bool, offset: int, limit: int) -> tuple[list[dict], int, int]:
    """The citizen's messages, newest first, with the count of unread ones: both counts in one read of the
    citizen's index entries, then the page."""
    counts = (
        await figures_by(
            "citizen_id",
            InboxMessage.all(),
            {"total": None, "unread": Q(read_at__isnull=True)},
            only=citizen_id,
        )
    ).get(citizen_id, {"total": 0, "unread": 0})
    query = InboxMessage.filter(citizen_id=citizen_id)
    if unread_only:
        query = query.filter(read_at__isnull=True)
    rows = await query.order_by("-id").offset(offset).limit(limit)
    total = counts["unread"] if unread_only else counts["total"]
    return [_message_view(row) for row in rows], total, counts["unread"]


async def mark_read(citizen_id: int, message_id: int) -> dict:
    """Mark one of the citizen's messages read (404 for anyone else's)."""
    message = await InboxMessage.get_or_none(id=message_id, citizen_id=citizen_id)
    if message is None:
        raise MessageNotFound()
    if message.read_at is None:
        await InboxMessage.filter(id=message.id, read_at__isnull=True).update(read_at=clock_now())
        message = await InboxMessage.get(id=message.id)
    return _message_view(message)


def template_catalogue(settings, channel: str = "wechat") -> dict:
    """The template ids the mini-program should ask the user to subscribe to, by purpose, for WeChat or Alipay."""
    if channel == "alipay":
        return {
            purpose: {
                "template_id": template["template_id"],
                "fields": [f"keyword{n + 1}" for n in range(template["keywords"])],
            }
            for purpose, template in _alipay_templates(settings).items()
        }
    return {
        purpose: {"template_id": template["template_id"], "fields": list(template["fields"])}
        for purpose, template in _wechat_templates(settings).items()
    }


def _wechat_templates(settings) -> dict[str, dict]:
    templates = settings.notifications.wechat_templates
    return {purpose: (t if isinstance(t, dict) else t.model_dump()) for purpose, t in templates.items()}


def _alipay_templates(settings) -> dict[str, dict]:
    templates = settings.notifications.alipay_templates
    return {purpose: (t if isinstance(t, dict) else t.model_dump()) for purpose, t in templates.items()}


async def grant_subscriptions(citizen_id: int, channel: str, results: dict[str, str], *, settings) -> list[dict]:
    """Record what wx.requestSubscribeMessage / my.requestSubscribeMessage answered: a credit per accepted one."""
    templates = _alipay_templates(settings) if channel == "alipay" else _wechat_templates(settings)
    known = {t["template_id"] for t in templates.values()}
    unknown = [t for t in results if t not in known]
    if unknown:
        raise ValidationFailed(
            "未知的订阅消息模板", details={"fields": [{"field": "results", "message": f"未知模板 {unknown}"}]}
        )
    for template_id in [t for t, result in results.items() if result == "accept"]:
        async with in_transaction() as connection:
            bumped = (
                await SubscriptionCredit.filter(citizen_id=citizen_id, template_id=template_id)
                .using_db(connection)
                .update(remaining=F("remaining") + 1)
            )
            if not bumped:
                await SubscriptionCredit.create(
                    citizen_id=citizen_id, template_id=template_id, remaining=1, using_db=connection
                )
    return await credits(citizen_id)


async def credits(citizen_id: int) -> list[dict]:
    """The citizen's unspent subscription credits per template."""
    rows = await SubscriptionCredit.filter(citizen_id=citizen_id).order_by("template_id")
    return [{"template_id": row.template_id, "remaining": row.remaining} for row in rows]


# ---- dispatch: outbox -> inbox + deliveries ----


async def _claim_events(connection, limit: int) -> list[OutboxEvent]:
    if db.dialect() == "postgres":
        rows = await connection.execute_query_dict(
            "SELECT id FROM outbox_event WHERE dispatched_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
            [limit],
        )
    else:  # SQLite: one writer at a time, the transaction itself is the claim
        rows = await connection.execute_query_dict(
            "SELECT id FROM outbox_event WHERE dispatched_at IS NULL ORDER BY id LIMIT ?", [limit]
        )
    ids = [row["id"] for row in rows]
    if not ids:
        return []
    return list(await OutboxEvent.filter(id__in=ids).using_db(connection).order_by("id"))


async def dispatch_events(*, settings, limit: int = 100, now: datetime | None = None) -> int:
    """Turn undispatched outbox events into inbox messages and deliveries; returns how many events were handled."""
    at = now or clock_now()
    async with in_transaction() as connection:
        events = await _claim_events(connection, limit)
        for event in events:
            try:
                async with in_transaction() as savepoint:
                    await _dispatch_one(event, settings=settings, at=at, connection=savepoint)
            except Exception:
                # A bug in one event's wording must not hold back every event after it: logged, and passed over.
                log.exception("outbox event %s (%s) could not be dispatched", event.id, event.kind)
        if events:
            await OutboxEvent.filter(id__in=[e.id for e in events]).using_db(connection).update(dispatched_at=at)
    return len(events)


async def _spend_credit(citizen_id: int, template_id: str, keep: int, connection) -> bool:
    """Take one credit of the template, leaving at least `keep` of them; whether one was taken."""
    spent = (
        await SubscriptionCredit.filter(citizen_id=citizen_id, template_id=template_id, remaining__gt=keep)
        .using_db(connection)
        .update(remaining=F("remaining") - 1)
    )
    return bool(spent)


async def _dispatch_one(event: OutboxEvent, *, settings, at: datetime, connection) -> None:
    route = route_for(event.kind)
    if route is None:
        return
    payload = await _with_names(event.payload or {})
    subject = {"type": event.aggregate_type, "id": event.aggregate_id}
    if route.body is not None and event.citizen_id is not None:
        body = route.body(payload)
        await InboxMessage.create(
            citizen_id=event.citizen_id,
            event_id=event.id,
            kind=event.kind,
            title=route.title,
            body=body[:500],
            subject=subject,
            using_db=connection,
        )
        await _plan_citizen_push(
            event, route.purpose, payload, progress=route.progress, settings=settings, at=at, connection=connection
        )
    alert = settings.notifications.staff_alerts.get(event.kind)
    if route.staff_text is not None and alert is not None and (alert.roles or alert.all_departments):
        recipients = await identity.alert_recipients(
            department_id=event.department_id,
            roles=tuple(alert.roles),
            all_department_roles=tuple(alert.all_departments),
        )
        text = f"【{route.title}】{route.staff_text(payload)}"
        # Kept for the console whoever WeChat Work reaches (nobody, when no one has it): no alert is only a push.
        await StaffAlert.get_or_create(
            event_id=event.id,
            defaults={
                "kind": event.kind,
                "title": route.title,
                "text": mask_personal_numbers(text)[:500],
                "department_id": event.department_id,
                "subject": subject,
            },
            using_db=connection,
        )
        for userid in recipients:
            await _plan(
                event,
                channel="wecom",
                recipient=userid,
                purpose=event.kind,
                template_id="",
                payload={"content": text},
                at=at,
                connection=connection,
            )


async def _with_names(payload: dict) -> dict:
    """The payload with the matter's and hall's names, which the domains leave out to keep their writes small."""
    named = dict(payload)
    if payload.get("matter_id") and not payload.get("matter_name"):
        try:
            named["matter_name"] = (await catalog.require_matter(payload["matter_id"]))["name"]
        except NotFound:
            pass
    if payload.get("hall_id") and not payload.get("hall_name"):
        hall = await catalog.get_hall(payload["hall_id"])
        if hall:
            named["hall_name"] = hall["name"]
            # Where and when: a pickup message tells the citizen the address and the opening hours.
            named["hall_address"] = hall["address"]
            named["hall_opening_hours"] = hall["opening_hours"]
    return named


async def _plan_citizen_push(
    event: OutboxEvent, purpose: str, payload: dict, *, progress: bool, settings, at: datetime, connection
) -> None:
    """A push on the citizen's platform, if a subscription allows one; otherwise a delivery saying why not."""
    targets = await identity.push_targets(event.citizen_id)
    page = {
        "case": f"pages/case/detail?id={event.aggregate_id}",
        "appointment": f"pages/appointment/detail?id={event.aggregate_id}",
        "ticket": f"pages/feedback/detail?id={event.aggregate_id}",
        "rating": f"pages/rating/detail?id={event.aggregate_id}",
    }.get(event.aggregate_type)
    values = template_values(event.kind, payload, to_iso(at))
    # A progress note leaves this many credits of its template for what the citizen must act on or waits for.
    keep = settings.notifications.credits_kept_for_essentials if progress else 0
    wechat = _wechat_templates(settings).get(purpose)
    alipay = _alipay_templates(settings).get(purpose)
    if targets["wechat_openid"] and wechat:
        planned = {
            "channel": "wechat",
            "recipient": targets["wechat_openid"],
            "template_id": wechat["template_id"],
            "payload": {"data": render(dict(wechat["fields"]), values), "page": page},
        }
        if wechat.get("long_term") or await _spend_credit(event.citizen_id, wechat["template_id"], keep, connection):
            await _plan(event, purpose=purpose, at=at, connection=connection, **planned)
            return
        unsent = planned
    elif targets["alipay_user_id"] and alipay:
        keywords = int(alipay.get("keywords") or len(values))
        data = {f"keyword{i + 1}": fit(value, "thing") for i, value in enumerate(values[:keywords])}
        planned = {
            "channel": "alipay",
            "recipient": targets["alipay_user_id"],
            "template_id": alipay["template_id"],
            "payload": {"data": data, "page": page},
        }
        if await _spend_credit(event.citizen_id, alipay["template_id"], keep, connection):
            await _plan(event, purpose=purpose, at=at, connection=connection, **planned)
            return
        unsent = planned
    else:
        return
    # Not sent for want of a subscription (or one kept for an essential message): recorded, so nobody wonders
    # whether it was lost; the inbox has the message either way.
    await _plan(
        event,
        purpose=purpose,
        at=at,
        connection=connection,
        status=DeliveryStatus.NO_CREDIT,
        last_error="没有可用的订阅次数" if keep == 0 else "订阅次数留给须办理或等待的消息",
        **unsent,
    )


async def _plan(
    event: OutboxEvent,
    *,
    channel: str,
    recipient: str,
    purpose: str,
    template_id: str,
    payload: dict[str, Any],
    at: datetime,
    connection,
    status: DeliveryStatus = DeliveryStatus.PENDING,
    last_error: str = "",
) -> None:
    await Delivery.create(
        event_id=event.id,
        channel=channel,
        recipient=recipient,
        purpose=purpose,
        template_id=template_id,
        status=status,
        last_error=last_error,
        # Events are masked when written; a delivery is masked again, as it leaves for another company's servers.
        payload=mask_in(payload),
        dedupe_key=f"{event.id}:{channel}:{recipient}",
        next_attempt_at=at,
        using_db=connection,
    )


# ---- send: deliveries -> platforms ----


async def _claim_deliveries(worker_id: str, *, limit: int, lease_seconds: int, at: datetime) -> list[Delivery]:
    """Take up to limit due deliveries (or ones whose worker's lease ran out) for this worker."""
    until = at + timedelta(seconds=lease_seconds)
    if db.dialect() == "postgres":
        rows = await connections.get("default").execute_query_dict(
            "UPDATE notification_delivery SET status = 'sending', claimed_until = $1, claimed_by = $2 "
            "WHERE id IN (SELECT id FROM notification_delivery "
            "WHERE (status = 'pending' AND next_attempt_at <= $3) OR (status = 'sending' AND claimed_until < $3) "
            "ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING id",
            [until, worker_id, at, limit],
        )
        ids = [row["id"] for row in rows]
    else:
        # SQLite has one writer at a time; the UPDATE repeats the due condition, so a row is claimed once.
        due = Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=at) | Q(
            status=DeliveryStatus.SENDING, claimed_until__lt=at
        )
        candidates = list(await Delivery.filter(due).order_by("id").limit(limit).values_list("id", flat=True))
        if not candidates:
            return []
        await Delivery.filter(due, id__in=candidates).update(
            status=DeliveryStatus.SENDING, claimed_until=until, claimed_by=worker_id
        )
        ids = list(
            await Delivery.filter(id__in=candidates, claimed_by=worker_id, claimed_until=until).values_list(
                "id", flat=True
            )
        )
    return list(await Delivery.filter(id__in=ids, claimed_by=worker_id).order_by("id")) if ids else []


async def release_leases(worker_id: str, *, now: datetime | None = None) -> int:
    """A stopping worker's unfinished claims, due again at once for another worker; how many."""
    return await Delivery.filter(status=DeliveryStatus.SENDING, claimed_by=worker_id).update(
        status=DeliveryStatus.PENDING, claimed_until=None, claimed_by="", next_attempt_at=now or clock_now()
    )


def _backoff(attempts: int, *, base: float, cap: float) -> float:
    # Exponential with full jitter: retries of many deliveries spread out instead of hammering a platform together.
    return random.uniform(base / 2, min(cap, base * 2 ** max(0, attempts - 1)))


async def _push(delivery: Delivery, platforms) -> None:
    payload = delivery.payload
    if delivery.channel == "wechat":
        await platforms.wechat.send_subscribe_message(
            openid=delivery.recipient,
            template_id=delivery.template_id,
            data=payload["data"],
            page=payload.get("page"),
            dedupe_key=delivery.dedupe_key,
        )
    elif delivery.channel == "alipay":
        await platforms.alipay.send_template_message(
            user_id=delivery.recipient, template_id=delivery.template_id, data=payload["data"], page=payload.get("page")
        )
    elif delivery.channel == "wecom":
        await platforms.wecom.send_text(userids=[delivery.recipient], content=mask_personal_numbers(payload["content"]))
    else:  # pragma: no cover - a channel nobody plans
        raise MessageRejected(f"unknown channel {delivery.channel}")


def _error_text(exc: BaseException) -> str:
    code = getattr(exc, "errcode", None)
    text = f"{exc.__class__.__name__}" + (f" {code}" if code else "") + f": {getattr(exc, 'message', exc)}"
    return text[:ERROR_TEXT_MAX]


async def send_due(*, platforms, settings, worker_id: str, now: datetime | None = None) -> dict[str, int]:
    """Send the due deliveries this worker can claim; returns counts by outcome."""
    tuning = settings.notifications
    at = now or clock_now()
    claimed = await _claim_deliveries(worker_id, limit=tuning.batch_size, lease_seconds=tuning.lease_seconds, at=at)
    outcome = {"sent": 0, "retry": 0, "rejected": 0, "dead": 0}
    for delivery in claimed:
        mine = Delivery.filter(id=delivery.id, claimed_by=worker_id, status=DeliveryStatus.SENDING)
        try:
            await _push(delivery, platforms)
        except MessageRejected as exc:
            log.warning("delivery %s rejected for good: %s", delivery.id, _error_text(exc))
            await mine.update(
                status=DeliveryStatus.REJECTED,
                attempts=delivery.attempts + 1,
                last_error=_error_text(exc),
                claimed_until=None,
            )
            outcome["rejected"] += 1
        except Exception as exc:  # transient: platform down, busy, rate-limited, timed out
            attempts = delivery.attempts + 1
            if attempts >= tuning.max_attempts:
                log.error("delivery %s dead after %s attempts: %s", delivery.id, attempts, _error_text(exc))
                await mine.update(
                    status=DeliveryStatus.DEAD, attempts=attempts, last_error=_error_text(exc), claimed_until=None
                )
                outcome["dead"] += 1
            else:
                delay = _backoff(attempts, base=tuning.backoff_base_seconds, cap=tuning.backoff_max_seconds)
                await mine.update(
                    status=DeliveryStatus.PENDING,
                    attempts=attempts,
                    last_error=_error_text(exc),
                    next_attempt_at=clock_now() + timedelta(seconds=delay),
                    claimed_until=None,
                )
                outcome["retry"] += 1
        else:
            await mine.update(
                status=DeliveryStatus.SENT,
                attempts=delivery.attempts + 1,
                sent_at=clock_now(),
                claimed_until=None,
                last_error="",
            )
            outcome["sent"] += 1
    return outcome


async def run_once(*, platforms, settings, worker_id: str) -> dict[str, int]:
    """One pass of the notifier: dispatch new events, then send what is due (the worker's job)."""
    dispatched = await dispatch_events(settings=settings, limit=settings.notifications.batch_size)
    outcome = await send_due(platforms=platforms, settings=settings, worker_id=worker_id)
    # Only what happened: an idle pass returns {} and the worker logs nothing.
    return {name: count for name, count in {"dispatched": dispatched, **outcome}.items() if count}


# ---- staff: the dead letters ----


def _delivery_view(delivery: Delivery) -> dict:
    return {
        "id": delivery.id,
        "event_id": delivery.event_id,
        "channel": delivery.channel,
        "purpose": delivery.purpose,
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "last_error": delivery.last_error,
        "created_at": to_iso(delivery.created_at),
        "next_attempt_at": to_iso(delivery.next_attempt_at),
        "sent_at": to_iso(delivery.sent_at),
    }


async def list_deliveries(*, status: str | None, offset: int, limit: int) -> tuple[list[dict], int]:
    """Deliveries by status, newest first (operators look at dead and rejected ones)."""
    query = Delivery.all()
    if status:
        query = query.filter(status=status)
    total = await query.count()
    rows = await query.order_by("-id").offset(offset).limit(limit)
    return [_delivery_view(row) for row in rows], total


async def delivery_counts() -> dict[str, int]:
    """Deliveries per status, every status named (0 when none), for /metrics."""
    rows = await Delivery.all().group_by("status").annotate(n=Count("id")).values_list("status", "n")
    counts = {status.value: 0 for status in DeliveryStatus}
    counts.update({str(status): n for status, n in rows})
    return counts


async def retry_delivery(delivery_id: int, *, actor: Principal) -> dict:
    """Give a dead delivery a fresh set of attempts."""
    from app.audit import service as audit

    delivery = await Delivery.get_or_none(id=delivery_id)
    if delivery is None:
        raise DeliveryNotFound()
    revived = await Delivery.filter(id=delivery_id, status=DeliveryStatus.DEAD).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=clock_now(), last_error=""
    )
    if not revived:
        raise DeliveryNotRetryable()
    await audit.record(
        actor=actor.actor, staff_id=actor.id, action="delivery.retry", object_type="delivery", object_id=delivery_id
    )
    return _delivery_view(await Delivery.get(id=delivery_id))


# ---- staff alerts (the console's copy of the WeChat Work alerts) ----


def _visible_alerts(staff: Principal):
    """The alerts of the staff member's department; supervisors and admins see every department's."""
    if staff.sees_all_departments:
        return StaffAlert.all()
    if staff.department_id is None:
        return StaffAlert.filter(department_id=-1)  # no department, not all-seeing: nothing (ids are positive)
    return StaffAlert.filter(department_id=staff.department_id)


async def _read_ids(staff_id: int, alert_ids: list[int]) -> set[int]:
    if not alert_ids:
        return set()
    rows = await StaffAlertRead.filter(staff_id=staff_id, alert_id__in=alert_ids).values_list("alert_id", flat=True)
    return set(rows)


def _alert_view(alert: StaffAlert, read: bool) -> dict:
    return {
        "id": alert.id,
        "kind": alert.kind,
        "title": alert.title,
        "text": alert.text,
        "department_id": alert.department_id,
        "subject": alert.subject or {},
        "created_at": to_iso(alert.created_at),
        "read": read,
    }


def _read_by(staff_id: int) -> Subquery:
    return Subquery(StaffAlertRead.filter(staff_id=staff_id).values("alert_id"))


async def unread_alert_count(staff: Principal) -> int:
    """How many alerts the staff member may see and has not read."""
    return await _visible_alerts(staff).exclude(id__in=_read_by(staff.id)).count()


async def list_alerts(staff: Principal, *, unread_only: bool, offset: int, limit: int) -> tuple[list[dict], int, int]:
    """The staff member's alerts, newest first, with the total and the unread count."""
    rows = _visible_alerts(staff)
    if unread_only:
        rows = rows.exclude(id__in=_read_by(staff.id))
    total = await rows.count()
    alerts = await rows.order_by("-id").offset(offset).limit(limit)
    read = await _read_ids(staff.id, [alert.id for alert in alerts])
    return [_alert_view(alert, alert.id in read) for alert in alerts], total, await unread_alert_count(staff)


async def read_alert(staff: Principal, alert_id: int) -> dict:
    """Mark one alert read for this staff member; another department's alert is not found."""
    alert = await _visible_alerts(staff).get_or_none(id=alert_id)
    if alert is None:
        raise AlertNotFound()
    async with in_transaction() as connection:
        if not await StaffAlertRead.filter(alert_id=alert.id, staff_id=staff.id).using_db(connection).exists():
            await StaffAlertRead.create(alert_id=alert.id, staff_id=staff.id, using_db=connection)
    return _alert_view(alert, True)


async def read_all_alerts(staff: Principal) -> dict:
    """Mark every alert the staff member may see read; how many were marked, and the unread left (0)."""
    ids = await _visible_alerts(staff).exclude(id__in=_read_by(staff.id)).values_list("id", flat=True)
    marked = 0
    for alert_id in ids:
        _, created = await StaffAlertRead.get_or_create(alert_id=alert_id, staff_id=staff.id)
        marked += int(created)
    return {"marked": marked, "unread": await unread_alert_count(staff)}
