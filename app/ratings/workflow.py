"""The appeal of a bad rating, as a table: which move, from which appeal status, to which, by which staff role, and
what else it changes. app.core.workflow.apply_move() carries the moves out.
"""

from __future__ import annotations

from app.core import workflow
from app.core.workflow import Effect, Event, Move, MoveContext
from app.ratings.models import AppealStatus as A
from app.ratings.models import Rating
from app.tickets import service as tickets

AGGREGATE = "rating"


def _event(ctx: MoveContext, kind: str, *, to_citizen: bool = False) -> Event:
    rating: Rating = ctx.row
    return Event(
        kind,
        {
            "rating_id": rating.id,
            "score": rating.score,
            "matter_id": rating.matter_id,
            "decision": ctx.move.action,
            "note": ctx.note,
        },
        citizen_id=rating.citizen_id if to_citizen else None,
        department_id=rating.department_id,
    )


async def _appeal(ctx: MoveContext) -> Effect:
    # An appeal is staff business: the citizen is not told.
    return Effect(
        changes={"appeal_reason": ctx.note, "appealed_by": ctx.actor.staff_id, "appealed_at": ctx.at},
        event=_event(ctx, "rating.appealed"),
    )


async def _uphold(ctx: MoveContext) -> Effect:
    return Effect(changes=_decision(ctx), event=_event(ctx, "rating.appeal_decided"))


async def _void(ctx: MoveContext) -> Effect:
    rating: Rating = ctx.row

    async def close_its_ticket(connection) -> None:
        await tickets.void_rectification(
            rating.id, note=f"差评经申诉复核认定无效：{ctx.note}", at=ctx.at, connection=connection
        )

    # The citizen hears of a voided rating, with the reason.
    return Effect(
        changes=_decision(ctx),
        event=_event(ctx, "rating.appeal_decided", to_citizen=True),
        after_update=close_its_ticket,
    )


def _decision(ctx: MoveContext) -> dict:
    return {"decision_note": ctx.note, "decided_by": ctx.actor.staff_id, "decided_at": ctx.at}


MOVES: tuple[Move, ...] = (
    #    action    from                     to         who (staff role)
    # The rated department asks a supervisor to void its bad rating.
    Move("appeal", frozenset({A.NONE}), A.PENDING, frozenset({"dept_admin"}), effect=_appeal),
    # The rating stands.
    Move("uphold", frozenset({A.PENDING}), A.UPHELD, frozenset({"supervisor"}), effect=_uphold),
    # Malicious: out of the statistics, kept in the record.
    Move("void", frozenset({A.PENDING}), A.VOIDED, frozenset({"supervisor"}), effect=_void),
)

TABLE = workflow.Table(
    name=AGGREGATE,
    model=Rating,
    moves=MOVES,
    status_field="appeal_status",
    version_field=None,
    illegal_message="该评价当前不能申诉或复核",
)
