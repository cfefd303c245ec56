"""The moves of a payment order and of a refund, as tables; app.core.workflow.apply_move() carries them out.

An order is pending until the provider's word makes it paid, or it expires and is closed; a payment may still land
on an order closed meanwhile (the payer paid at the last moment). What the citizen sees as "refunding" or
"refunded" is not a state of the order: a paid order holds its refunds' reserved amount (refunded_fen), and each
refund moves from processing to succeeded or failed on the provider's word. WeChat Pay may also call a refund
abnormal (the bank would not take the money back): that holds the amount and alerts the admins, and only an admin's
retry (to another card of the payer's, or to our bank account) puts it back to processing; it never fails from there,
so its amount is never given back to be refunded a second time.
"""

from __future__ import annotations

from tortoise.expressions import F

from app.cases import service as cases
from app.core import workflow
from app.core.workflow import SYSTEM, Effect, Event, Move, MoveContext
from app.payments.models import OrderStatus as O
from app.payments.models import PaymentOrder, Refund
from app.payments.models import RefundStatus as R

AGGREGATE = "payment"
_SYSTEM = frozenset({SYSTEM})  # the provider's word, or the sweep


def _order_event(kind: str, order: PaymentOrder, amount_fen: int) -> Event:
    return Event(
        kind,
        {
            "order_no": order.order_no,
            "case_id": order.case_id,
            "matter_name": order.description,
            "amount_fen": amount_fen,
            "channel": order.channel,
        },
        citizen_id=order.citizen_id,
        department_id=order.department_id,
        aggregate_type=AGGREGATE,
        aggregate_id=order.id,
    )


# ---- an order (inputs of pay: trade, the provider's TradeState) ----


async def _pay(ctx: MoveContext) -> Effect:
    order: PaymentOrder = ctx.row
    trade = ctx.inputs["trade"]

    async def mark_case_paid(connection) -> None:
        await cases.mark_paid(order.case_id, connection=connection)

    return Effect(
        changes={"open_key": None, "paid_at": trade.paid_at or ctx.at, "transaction_id": trade.transaction_id},
        event=_order_event("payment.succeeded", order, order.amount_fen),
        after_update=mark_case_paid,
    )


async def _close(ctx: MoveContext) -> Effect:
    # open_key back to NULL: the case may have a new order on this channel.
    return Effect(changes={"open_key": None, "closed_at": ctx.at})


ORDER_MOVES: tuple[Move, ...] = (
    Move("pay", frozenset({O.PENDING, O.CLOSED}), O.PAID, _SYSTEM, effect=_pay),
    Move("close", frozenset({O.PENDING}), O.CLOSED, _SYSTEM, effect=_close),
)
ORDER_TABLE = workflow.Table(name=AGGREGATE, model=PaymentOrder, moves=ORDER_MOVES, version_field=None)


# ---- a refund (inputs: state, the provider's RefundState) ----


async def _succeed(ctx: MoveContext) -> Effect:
    refund: Refund = ctx.row
    order = await PaymentOrder.get(id=refund.order_id).using_db(ctx.connection)

    async def unmark_case_paid_when_nothing_is_held(connection) -> None:
        still_held = (
            await PaymentOrder.filter(case_id=order.case_id, status=O.PAID, refunded_fen__lt=F("amount_fen"))
            .using_db(connection)
            .exists()
        )
        if not still_held:
            await cases.mark_paid(order.case_id, connection=connection, paid=False)  # all of it went back

    return Effect(
        changes=_settled(ctx),
        event=_order_event("payment.refunded", order, refund.amount_fen),
        after_update=unmark_case_paid_when_nothing_is_held,
    )


async def _fail(ctx: MoveContext) -> Effect:
    refund: Refund = ctx.row

    async def give_the_reserved_amount_back(connection) -> None:
        await (
            PaymentOrder.filter(id=refund.order_id)
            .using_db(connection)
            .update(refunded_fen=F("refunded_fen") - refund.amount_fen)
        )

    return Effect(changes=_settled(ctx), after_update=give_the_reserved_amount_back)


def _settled(ctx: MoveContext) -> dict:
    return {"finished_at": ctx.at, "refund_id": ctx.inputs["state"].refund_id}


async def _abnormal(ctx: MoveContext) -> Effect:
    refund: Refund = ctx.row
    order = await PaymentOrder.get(id=refund.order_id).using_db(ctx.connection)
    # The reserved amount stays where it is: the money has left us and may still reach the payer.
    changes = {"refund_id": ctx.inputs["state"].refund_id or refund.refund_id}
    if not ctx.inputs.get("alert", True):
        return Effect(changes=changes)  # a retry WeChat Pay refused: the admin who asked is told by the answer
    return Effect(
        changes=changes,
        event=Event(
            "payment.mismatch",  # the payments alert: WeChat Work to the admins (notifications.staff_alerts)
            {
                "reason": "refund_abnormal",
                "order_no": order.order_no,
                "refund_no": refund.refund_no,
                "amount_fen": refund.amount_fen,
            },
            department_id=order.department_id,
            aggregate_type=AGGREGATE,
            aggregate_id=order.id,
        ),
    )


async def _retry(ctx: MoveContext) -> Effect:
    # What the audit row keeps of where the money went: the way and the bank, never the account or the name.
    return Effect(audit={"to": ctx.inputs["to"], "bank_type": ctx.inputs.get("bank_type") or ""})


REFUND_MOVES: tuple[Move, ...] = (
    # An abnormal refund the provider then reports done (handled in WeChat Pay's merchant platform, or retried).
    Move("succeed", frozenset({R.PROCESSING, R.ABNORMAL}), R.SUCCEEDED, _SYSTEM, effect=_succeed),
    Move("fail", frozenset({R.PROCESSING}), R.FAILED, _SYSTEM, effect=_fail),
    Move("abnormal", frozenset({R.PROCESSING}), R.ABNORMAL, _SYSTEM, effect=_abnormal),
    Move("retry", frozenset({R.ABNORMAL}), R.PROCESSING, frozenset({"admin"}), effect=_retry),
)
REFUND_TABLE = workflow.Table(name="payment_refund", model=Refund, moves=REFUND_MOVES, version_field=None)
