"""Payments: an order per case and channel, notifications applied exactly once, queries for what went missing,
refunds that never exceed what was paid, and the daily reconciliation against the providers' bills."""

from __future__ import annotations

import logging
import secrets
from datetime import date, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from app.cases import service as cases
from app.core import metrics, outbox
from app.core.auth import Principal
from app.core.cache import Cache
from app.core.errors import Conflict, IllegalTransition, ValidationFailed
from app.core.timeutil import CITY_TZ, to_iso
from app.core.timeutil import now as clock_now
from app.core.workflow import SYSTEM_ACTOR, Actor, apply_move
from app.identity import service as identity
from app.payments.errors import (
    ChannelUnavailable,
    Mismatch,
    PaymentNotFound,
    RefundNotFound,
    RefundTooLarge,
    UnknownChannel,
)
from app.payments.models import OrderStatus, PaymentOrder, ReconciliationReport, Refund, RefundStatus
from app.payments.workflow import AGGREGATE, ORDER_TABLE, REFUND_TABLE
from app.platforms.payment_types import (
    Acknowledgement,
    BadNotification,
    Notification,
    PaymentProvider,
    RefundState,
    SignatureProbe,
    TradeState,
    Verdict,
)
from app.platforms.wechatpay import WeChatPayRefused

log = logging.getLogger("app.payments")

CHANNELS = ("wechat", "alipay")


# ---- providers and views ----


def provider_for(platforms, channel: str) -> PaymentProvider:
    """The provider of a channel; any other channel is refused, never taken for one of ours."""
    if channel == "wechat":
        return platforms.wechatpay
    if channel == "alipay":
        return platforms.alipay_pay
    raise UnknownChannel(details={"channel": channel, "channels": list(CHANNELS)})


def expected_merchant(settings, channel: str) -> str:
    """Whose money it must be: our WeChat Pay mchid or our Alipay app id."""
    return settings.wechatpay.mchid if channel == "wechat" else settings.alipay.app_id


async def _status_of(order: PaymentOrder) -> str:
    if order.status != OrderStatus.PAID:
        return order.status.value
    # An abnormal refund is money on its way back too, only held up at the bank.
    if await Refund.exists(order_id=order.id, status__in=(RefundStatus.PROCESSING, RefundStatus.ABNORMAL)):
        return "refunding"
    return "refunded" if order.refunded_fen >= order.amount_fen else "paid"


async def order_view(order: PaymentOrder, *, with_checkout: bool = False) -> dict:
    """An order as the mini-program and the console see it."""
    view = {
        "order_no": order.order_no,
        "case_id": order.case_id,
        "channel": order.channel,
        "amount_fen": order.amount_fen,
        "status": await _status_of(order),
        "refunded_fen": order.refunded_fen,
        "created_at": to_iso(order.created_at),
        "expires_at": to_iso(order.expires_at),
        "paid_at": to_iso(order.paid_at),
    }
    if with_checkout:
        view["pay_params"] = order.checkout
    return view


def _new_order_no(case_id: int, at: datetime) -> str:
    # 2 + 12 + 8 + 6 = 28 characters of [0-9A-Za-z]: inside both providers' 32. The city's date and time, as its
    # bills and people read them.
    return f"GH{at.astimezone(CITY_TZ):%y%m%d%H%M%S}{case_id % 10**8:08d}{secrets.token_hex(3)}"


# ---- ordering ----


async def create_order(
    principal: Principal,
    case_id: int,
    *,
    channel: str,
    platforms,
    settings,
    cache: Cache,
    guide_ttl: int,
    now: datetime | None = None,
) -> tuple[dict, bool]:
    """The case's open order on this channel, made at the provider when there is none; (view, created)."""
    at = now or clock_now()
    facts = await cases.payment_facts(principal, case_id, cache=cache, guide_ttl=guide_ttl)
    open_key = f"{case_id}:{channel}"
    existing = await PaymentOrder.get_or_none(open_key=open_key)
    if existing is not None and existing.expires_at > at:
        return await order_view(existing, with_checkout=True), False
    if existing is not None:
        await _close(existing, platforms)
    targets = await identity.push_targets(principal.id)
    payer = targets["wechat_openid"] if channel == "wechat" else targets["alipay_user_id"]
    if not payer:
        raise ChannelUnavailable()
    order_no = _new_order_no(case_id, at)
    expires_at = at + timedelta(minutes=settings.payments.expire_minutes)
    checkout = await provider_for(platforms, channel).create(
        order_no=order_no,
        amount_fen=facts["amount_fen"],
        description=facts["matter_name"][:40],
        payer_id=payer,
        expires_at=expires_at,
    )
    try:
        order = await PaymentOrder.create(
            order_no=order_no,
            case_id=case_id,
            citizen_id=principal.id,
            department_id=facts["department_id"],
            channel=channel,
            amount_fen=facts["amount_fen"],
            description=facts["matter_name"][:64],
            open_key=open_key,
            checkout=checkout,
            expires_at=expires_at,
        )
    except IntegrityError:
        # A twin request opened one first: that one stands, this one is closed at the provider.
        await provider_for(platforms, channel).close(order_no)
        order = await PaymentOrder.get(open_key=open_key)
        return await order_view(order, with_checkout=True), False
    return await order_view(order, with_checkout=True), True


async def _close(order: PaymentOrder, platforms) -> None:
    """Close an expired unpaid order at the provider, then here (unless it was paid meanwhile)."""
    trade = await provider_for(platforms, order.channel).query(order.order_no)
    if trade.status == "paid":
        return  # paid at the last moment: the notification or the next query applies it
    await provider_for(platforms, order.channel).close(order.order_no)
    await _close_here(order, at=clock_now())


async def _close_here(order: PaymentOrder, *, at: datetime) -> bool:
    """Close a pending order here; False when it was paid or closed meanwhile."""
    try:
        await apply_move(ORDER_TABLE, order, "close", actor=SYSTEM_ACTOR, at=at)
    except IllegalTransition:
        return False
    return True


async def get_order(principal: Principal, order_no: str, *, platforms, settings, cache: Cache) -> dict:
    """The citizen's order; while pending the provider is asked (the payer is back before the notification)."""
    order = await PaymentOrder.get_or_none(order_no=order_no)
    if order is None or (not principal.is_staff and order.citizen_id != principal.id):
        raise PaymentNotFound()
    if order.status == OrderStatus.PENDING:
        trade = await provider_for(platforms, order.channel).query(order.order_no)
        if trade.status == "paid":
            await apply_trade(order, trade, settings=settings, cache=cache)
            order = await PaymentOrder.get(id=order.id)
    return await order_view(order)


# ---- applying what the provider says ----

# How long a count of refusals not yet reported is kept: a later alert reports it unless it is this old.
UNREPORTED_TTL_SECONDS = 86400


async def _alert(reason: str, *, order: PaymentOrder | None, details: dict[str, Any], cache: Cache, settings) -> None:
    """A staff alert event for money that does not add up: one per reason and order an interval, counting the rest."""
    order_no = order.order_no if order else details.get("order_no")
    subject = f"payments:alert:{reason}:{order_no or 'none'}"
    # Anyone can post notifications, so a flood of forgeries must not become a flood of alerts: each refusal is
    # counted; the first of an interval (a bucket of the clock, so tests can move past it) emits with the count.
    await cache.incr(f"{subject}:unreported", UNREPORTED_TTL_SECONDS)
    interval = settings.payments.alert_interval_seconds
    gate = f"{subject}:{int(clock_now().timestamp()) // interval}"
    if not await cache.add(gate, "1", interval):
        return  # counted: the next alert reports it
    count = int(await cache.get(f"{subject}:unreported") or 1)
    # Only what this alert reports is taken off: refusals counted meanwhile are left for the next one.
    await cache.incr_if_exists(f"{subject}:unreported", -count)
    event = {
        "aggregate_type": AGGREGATE,
        "aggregate_id": order.id if order else 0,
        "department_id": order.department_id if order else None,
        "payload": {"reason": reason, "order_no": order_no, **details, "count": count},
    }
    try:
        async with in_transaction() as connection:
            await outbox.emit("payment.mismatch", connection=connection, **event)
    except Exception:
        # Not told after all: the count and the interval's alert go back for the next refusal.
        await cache.incr_if_exists(f"{subject}:unreported", count)
        await cache.delete(gate)
        raise
    log.warning("payment mismatch: %s %s (%d since the last alert)", reason, order_no or "?", count)


async def _alert_once(reason: str, *, order: PaymentOrder, details: dict[str, Any], once_key: str) -> None:
    """A staff alert event for money that does not add up, emitted once per once_key."""
    event = {
        "aggregate_type": AGGREGATE,
        "aggregate_id": order.id,
        "department_id": order.department_id,
        "payload": {"reason": reason, "order_no": order.order_no, **details},
    }
    if await outbox.emit_once("payment.mismatch", dedupe_key=once_key, **event):
        log.warning("payment mismatch: %s %s", reason, order.order_no)


async def apply_trade(order: PaymentOrder, trade: TradeState, *, settings, cache: Cache) -> bool:
    """Mark the order paid if the provider's word matches it; True when this call did (exactly one does)."""
    if trade.merchant_id != expected_merchant(settings, order.channel):
        await _alert(
            "merchant", order=order, details={"merchant_id": trade.merchant_id}, cache=cache, settings=settings
        )
        raise Mismatch("商户号不符")
    if trade.amount_fen != order.amount_fen:
        await _alert(
            "amount",
            order=order,
            details={"paid_fen": trade.amount_fen, "expected_fen": order.amount_fen},
            cache=cache,
            settings=settings,
        )
        raise Mismatch("金额不符")
    try:
        await apply_move(ORDER_TABLE, order, "pay", actor=SYSTEM_ACTOR, at=clock_now(), inputs={"trade": trade})
    except IllegalTransition:
        return False  # already paid: the notification came twice, or a query got there first
    return True


async def handle_notification(
    channel: str, *, headers: dict[str, str], body: bytes, platforms, settings, cache: Cache
) -> Acknowledgement:
    """A provider's callback: verified, matched and applied once, answered in the provider's own words."""
    provider = provider_for(platforms, channel)
    try:
        verdict = await _verdict_on(provider, channel, headers=headers, body=body, settings=settings, cache=cache)
    except Exception:
        # Not recorded (the database, a bug): fail, so the provider tries again later.
        log.exception("payment notification could not be recorded")
        verdict = "retry"
    return provider.acknowledge(verdict)


async def _verdict_on(
    provider: PaymentProvider, channel: str, *, headers: dict[str, str], body: bytes, settings, cache: Cache
) -> Verdict:
    """Accepted when recorded (or nothing to record); refused when no retry of it could ever be accepted."""
    try:
        notification = await provider.parse_notification(headers=headers, body=body)
    except SignatureProbe:
        return "refused"  # the provider checking that we verify: refused, and nothing to alert anyone of
    except BadNotification:
        await _alert("signature", order=None, details={"channel": channel}, cache=cache, settings=settings)
        return "refused"
    try:
        if notification.kind == "trade" and notification.trade is not None:
            return await _on_trade(notification, channel, settings=settings, cache=cache)
        if notification.kind == "refund" and notification.refund is not None:
            return await _on_refund(notification.refund, settings=settings, cache=cache)
    except Mismatch:
        pass  # alerted already; the same notification again would not match either
    return "refused"


async def _on_trade(notification: Notification, channel: str, *, settings, cache: Cache) -> Verdict:
    trade = notification.trade
    order = await PaymentOrder.get_or_none(order_no=trade.order_no, channel=channel)
    if order is None:
        await _alert(
            "unknown_order",
            order=None,
            details={"order_no": trade.order_no, "channel": channel},
            cache=cache,
            settings=settings,
        )
        return "refused"
    if trade.status != "paid":
        return "accepted"  # a closed trade tells us nothing we must record
    await apply_trade(order, trade, settings=settings, cache=cache)
    return "accepted"


async def _on_refund(state: RefundState, *, settings, cache: Cache) -> Verdict:
    refund = await Refund.get_or_none(refund_no=state.refund_no).prefetch_related("order")
    if refund is None:
        await _alert(
            "unknown_refund", order=None, details={"refund_no": state.refund_no}, cache=cache, settings=settings
        )
        return "refused"
    await _settle_refund(refund, state)
    return "accepted"


# ---- refunds ----


async def request_refund(order: PaymentOrder, *, amount_fen: int, reason: str, actor: str, platforms) -> dict:
    """Refund part or all of a paid order; the amount is reserved first, so refunds never add up past the payment."""
    if order.status != OrderStatus.PAID:
        raise Conflict("只有已支付的订单可以退款")
    if amount_fen <= 0:
        raise ValidationFailed(details={"fields": [{"field": "amount_fen", "message": "退款金额须大于 0"}]})
    reserved = await PaymentOrder.filter(id=order.id, refunded_fen__lte=order.amount_fen - amount_fen).update(
        refunded_fen=F("refunded_fen") + amount_fen
    )
    if not reserved:
        raise RefundTooLarge(
            details={"refundable_fen": order.amount_fen - (await PaymentOrder.get(id=order.id)).refunded_fen}
        )
    refund = await Refund.create(
        refund_no=f"R{order.order_no[2:]}{secrets.token_hex(2)}"[:32],
        order_id=order.id,
        amount_fen=amount_fen,
        reason=reason[:80],
        requested_by=actor,
    )
    try:
        state = await provider_for(platforms, order.channel).refund(
            order_no=order.order_no,
            refund_no=refund.refund_no,
            refund_fen=amount_fen,
            total_fen=order.amount_fen,
            reason=reason[:80],
        )
    except Exception:
        await _settle_refund(
            refund,
            RefundState(order_no=order.order_no, refund_no=refund.refund_no, status="failed", refund_fen=amount_fen),
        )
        raise
    await refund.fetch_related("order")
    await _settle_refund(refund, state)
    return _refund_view(await Refund.get(id=refund.id))


def _refund_view(refund: Refund) -> dict:
    return {
        "refund_no": refund.refund_no,
        "amount_fen": refund.amount_fen,
        "status": refund.status.value,
        "reason": refund.reason,
        "created_at": to_iso(refund.created_at),
        "finished_at": to_iso(refund.finished_at),
    }


SETTLING_ACTIONS = {"succeeded": "succeed", "failed": "fail", "abnormal": "abnormal"}


async def _settle_refund(refund: Refund, state: RefundState) -> bool:
    """Record the provider's word on a refund once; a failed one gives its reserved amount back, an abnormal one
    keeps it and alerts the admins. True when this call moved the refund."""
    if state.status == "processing":
        return False
    action = SETTLING_ACTIONS[state.status]
    try:
        await apply_move(REFUND_TABLE, refund, action, actor=SYSTEM_ACTOR, at=clock_now(), inputs={"state": state})
    except IllegalTransition:
        return False  # settled already, by the notification or by a query (or a word that cannot move it)
    return True


async def admin_refund(order_no: str, *, amount_fen: int, reason: str, actor: Principal, platforms) -> dict:
    """An admin's (partial) refund."""
    from app.audit import service as audit

    order = await PaymentOrder.get_or_none(order_no=order_no)
    if order is None:
        raise PaymentNotFound()
    refund = await request_refund(order, amount_fen=amount_fen, reason=reason, actor=actor.actor, platforms=platforms)
    await audit.record(
        actor=actor.actor,
        staff_id=actor.id,
        action="payment.refund",
        object_type=AGGREGATE,
        object_id=order.id,
        after={"refund_no": refund["refund_no"], "amount_fen": amount_fen},
    )
    return refund


async def retry_abnormal_refund(
    refund_no: str,
    *,
    to: str,
    bank_type: str = "",
    bank_account: str = "",
    real_name: str = "",
    actor: Principal,
    platforms,
) -> dict:
    """An admin sends a refund the provider called abnormal again: to another card of the payer's, or to our bank
    account (to be paid back by hand); it is processing again until the provider says how it ended."""
    refund = await Refund.get_or_none(refund_no=refund_no).prefetch_related("order")
    if refund is None:
        raise RefundNotFound()
    provider = provider_for(platforms, refund.order.channel)
    retry = getattr(provider, "retry_abnormal_refund", None)
    if retry is None or not refund.refund_id:
        # Only WeChat Pay calls refunds abnormal, and always names its refund_id when it does.
        raise IllegalTransition(details={"status": refund.status.value, "action": "retry", "allowed_actions": []})
    # Processing first (audited; a second admin's retry is refused here): if the call's fate is unknown (a timeout),
    # the sweep's query tells how it ended, as for any refund left processing.
    await apply_move(
        REFUND_TABLE,
        refund,
        "retry",
        actor=Actor.of(actor, actor.roles),
        at=clock_now(),
        inputs={"to": to, "bank_type": bank_type},
    )
    try:
        state = await retry(
            order_no=refund.order.order_no,
            refund_no=refund.refund_no,
            refund_id=refund.refund_id,
            to=to,
            bank_type=bank_type,
            bank_account=bank_account,
            real_name=real_name,
        )
    except WeChatPayRefused:
        # Refused for good (not abnormal there, a card it does not take): abnormal again, as it was.
        abnormal = RefundState(
            order_no=refund.order.order_no,
            refund_no=refund.refund_no,
            status="abnormal",
            refund_fen=refund.amount_fen,
            refund_id=refund.refund_id,
        )
        await apply_move(
            REFUND_TABLE,
            refund,
            "abnormal",
            actor=SYSTEM_ACTOR,
            at=clock_now(),
            inputs={"state": abnormal, "alert": False},
        )
        raise
    await _settle_refund(refund, state)
    return _refund_view(await Refund.get(id=refund.id))


# ---- the worker's jobs ----


async def sweep(*, platforms, settings, cache: Cache, now: datetime | None = None) -> dict[str, int]:
    """Ask the provider about pending orders and processing refunds older than a few minutes; close expired orders;
    refund what a case must not keep."""
    at = now or clock_now()
    counts = {"paid": 0, "closed": 0, "refunded": 0, "refunds_settled": 0}
    stale = at - timedelta(seconds=settings.payments.query_after_seconds)
    for order in await PaymentOrder.filter(status=OrderStatus.PENDING, created_at__lte=stale).order_by("id"):
        try:
            trade = await provider_for(platforms, order.channel).query(order.order_no)
            if trade.status == "paid":
                counts["paid"] += await apply_trade(order, trade, settings=settings, cache=cache)
            elif order.expires_at <= at:
                await provider_for(platforms, order.channel).close(order.order_no)
                counts["closed"] += await _close_here(order, at=at)
        except Mismatch:
            continue
        except Exception:
            metrics.PAYMENT_SWEEPS.labels("order_not_settled").inc()
            log.warning("payment sweep: order %s not settled this time", order.order_no, exc_info=True)
    counts["refunds_settled"] = await _settle_processing_refunds(stale, platforms=platforms)
    counts["refunded"] = await _refund_ended_cases(platforms=platforms, settings=settings, cache=cache)
    metrics.PAYMENT_SWEEPS.labels("completed").inc()
    for outcome, count in counts.items():
        if count:
            metrics.PAYMENT_SWEEP_SETTLED.labels(outcome).inc(count)
    return {k: v for k, v in counts.items() if v}


async def _settle_processing_refunds(asked_before: datetime, *, platforms, batch: int = 200) -> int:
    """Ask the provider what became of refunds still processing: their notification may never come."""
    settled = 0
    # Abnormal ones too: the merchant may have handled one in WeChat Pay's merchant platform, by hand.
    processing = Refund.filter(
        status__in=(RefundStatus.PROCESSING, RefundStatus.ABNORMAL), created_at__lte=asked_before
    )
    for refund in await processing.prefetch_related("order").order_by("id").limit(batch):
        try:
            state = await provider_for(platforms, refund.order.channel).query_refund(
                order_no=refund.order.order_no, refund_no=refund.refund_no
            )
        except Exception:
            log.warning("payment sweep: refund %s not settled this time", refund.refund_no, exc_info=True)
            continue
        if not state.found:
            # It was answered processing, so the provider has it: an unsigned "no such refund" does not give the
            # held amount back (that could refund twice); the operators are told once and look into it.
            await _alert_once(
                "refund_missing",
                order=refund.order,
                details={"refund_no": refund.refund_no},
                once_key=f"refund:{refund.refund_no}:missing",
            )
            continue
        settled += await _settle_refund(refund, state)
    return settled


async def _kept_orders(case_ids: list[int]) -> dict[int, int]:
    """Per case, the order whose payment the case keeps: the first one paid and not wholly refunded."""
    kept: dict[int, int] = {}
    held = PaymentOrder.filter(case_id__in=case_ids, status=OrderStatus.PAID, refunded_fen__lt=F("amount_fen"))
    for order in await held.order_by("paid_at", "id"):
        kept.setdefault(order.case_id, order.id)
    return kept


async def _refund_ended_cases(*, platforms, settings, cache: Cache) -> int:
    """Give back in full a payment the case must not keep: its case ended without approval (where the matter says
    so), or the case was already paid by another order (paid on both channels); the rest are marked looked at."""
    # Only orders not yet looked at: those of running cases, and new ones. An order whose case ended keeping it is
    # marked below, so a sweep does not read every payment ever made.
    unsettled = await PaymentOrder.filter(
        status=OrderStatus.PAID, refunded_fen=0, refund_checked_at__isnull=True
    ).order_by("id")
    case_ids = sorted({order.case_id for order in unsettled})
    verdicts = await cases.refund_verdicts(case_ids, cache=cache, guide_ttl=settings.catalog.cache_seconds)
    kept = await _kept_orders(case_ids)
    refunded = 0
    for order in unsettled:
        verdict = verdicts.get(order.case_id)
        if verdict is True:
            refunded += await _refund_in_full(order, "办件未获批准，全额退款", platforms=platforms)
        elif kept.get(order.case_id, order.id) != order.id:
            refunded += await _refund_in_full(order, "重复支付，全额退款", platforms=platforms)
        elif verdict is False:
            await PaymentOrder.filter(id=order.id, refund_checked_at__isnull=True).update(refund_checked_at=clock_now())
    return refunded


async def _refund_in_full(order: PaymentOrder, reason: str, *, platforms) -> int:
    # Claimed first, so two workers never refund the same order.
    if not await PaymentOrder.filter(id=order.id, refund_checked_at__isnull=True).update(refund_checked_at=clock_now()):
        return 0
    try:
        await request_refund(order, amount_fen=order.amount_fen, reason=reason, actor="system", platforms=platforms)
        return 1
    except Exception:
        log.warning("automatic refund of %s failed; it will be retried", order.order_no, exc_info=True)
        await PaymentOrder.filter(id=order.id).update(refund_checked_at=None)
        return 0


# ---- reconciliation ----


async def reconcile(day: date, *, platforms) -> list[dict]:
    """Compare each provider's bill of the day with our orders and refunds; store and return one report each."""
    from app.core.timeutil import CITY_TZ

    # The day in the city, as a range the database can use: not every paid order ever, filtered here.
    start = datetime.combine(day, datetime.min.time(), tzinfo=CITY_TZ)
    end = start + timedelta(days=1)
    reports = []
    for channel in CHANNELS:
        bill = await provider_for(platforms, channel).bill(day)
        ours_paid = {
            o.order_no: o
            for o in await PaymentOrder.filter(
                channel=channel, status=OrderStatus.PAID, paid_at__gte=start, paid_at__lt=end
            )
        }
        # WeChat Pay bills a refund on the day it accepted it, not the day it succeeded (a refund left processing
        # overnight is still that first day's); Alipay's refunds are done when answered.
        billed = "created_at" if channel == "wechat" else "finished_at"
        ours_refunds = {
            r.refund_no: r
            for r in await Refund.filter(
                order__channel=channel, status=RefundStatus.SUCCEEDED, **{f"{billed}__gte": start, f"{billed}__lt": end}
            )
        }
        differences: list[dict] = []
        seen_paid, seen_refunds = set(), set()
        for row in bill:
            if row.status == "paid":
                seen_paid.add(row.order_no)
                ours = ours_paid.get(row.order_no) or await PaymentOrder.get_or_none(order_no=row.order_no)
                if ours is None or ours.status != OrderStatus.PAID:
                    differences.append(
                        {
                            "kind": "paid_there_not_here",
                            "order_no": row.order_no,
                            "their_fen": row.amount_fen,
                            "our_status": ours.status.value if ours else None,
                        }
                    )
                elif ours.amount_fen != row.amount_fen:
                    differences.append(
                        {
                            "kind": "amount",
                            "order_no": row.order_no,
                            "their_fen": row.amount_fen,
                            "our_fen": ours.amount_fen,
                        }
                    )
            else:
                seen_refunds.add(row.refund_no)
                ours_refund = ours_refunds.get(row.refund_no) or await Refund.get_or_none(refund_no=row.refund_no)
                if ours_refund is None or ours_refund.status != RefundStatus.SUCCEEDED:
                    differences.append(
                        {
                            "kind": "refunded_there_not_here",
                            "order_no": row.order_no,
                            "refund_no": row.refund_no,
                            "their_fen": row.amount_fen,
                        }
                    )
                elif ours_refund.amount_fen != row.amount_fen:
                    differences.append(
                        {
                            "kind": "refund_amount",
                            "refund_no": row.refund_no,
                            "their_fen": row.amount_fen,
                            "our_fen": ours_refund.amount_fen,
                        }
                    )
        for order_no, order in ours_paid.items():
            if order_no not in seen_paid:
                differences.append({"kind": "paid_here_not_there", "order_no": order_no, "our_fen": order.amount_fen})
        for refund_no, refund in ours_refunds.items():
            if refund_no not in seen_refunds:
                differences.append(
                    {"kind": "refunded_here_not_there", "refund_no": refund_no, "our_fen": refund.amount_fen}
                )
        summary = {
            "bill_rows": len(bill),
            "our_payments": len(ours_paid),
            "our_refunds": len(ours_refunds),
            "differences": len(differences),
        }
        report = await ReconciliationReport.create(day=day, channel=channel, differences=differences, summary=summary)
        reports.append(report_view(report))
    return reports


def report_view(report: ReconciliationReport) -> dict:
    return {
        "id": report.id,
        "date": report.day.isoformat(),
        "channel": report.channel,
        "summary": report.summary,
        "differences": report.differences,
        "created_at": to_iso(report.created_at),
    }


async def reports_for(day: date) -> list[dict]:
    """The reconciliation reports of a day, newest first."""
    return [report_view(r) for r in await ReconciliationReport.filter(day=day).order_by("-id")]


async def list_refunds(*, status: str | None, offset: int, limit: int) -> tuple[list[dict], int]:
    """Refunds newest first (one status or all), with their order, for the administrators' refund desk."""
    query = Refund.all()
    if status:
        query = query.filter(status=status)
    total = await query.count()
    rows = await query.order_by("-id").offset(offset).limit(limit).prefetch_related("order")
    return [
        {**_refund_view(r), "order_no": r.order.order_no, "case_id": r.order.case_id, "channel": r.order.channel}
        for r in rows
    ], total
