"""Every legal move of a case, in one table: who may make it, from which state, to which state, what it needs and
what else it changes. app.core.workflow.apply_move() carries the moves out; a move absent from this table is
illegal (409 ILLEGAL_TRANSITION).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from app.cases.errors import MaterialsMissing, PaymentRequired, UnknownMaterial
from app.cases.forms import check_form, reveal
from app.cases.models import Case, CaseFile, CaseLicence, CaseTimelineEntry, ReceiptCounter
from app.cases.models import CaseStatus as S
from app.catalog import service as catalog
from app.core import workdays, workflow
from app.core.errors import StaleVersion, ValidationFailed
from app.core.timeutil import CITY_TZ, to_iso
from app.core.workflow import Effect, Event, Move, MoveContext

CITIZEN = "citizen"  # the applicant or their proxy
STAFF = "staff"
AGGREGATE = "case"
# The states in which the clock runs and a deadline light means something.
CLOCK_STATES = frozenset({S.ACCEPTED, S.IN_REVIEW, S.SUSPENDED})
# States in which the citizen may still change the form and the uploaded files.
EDITABLE_STATES = frozenset({S.DRAFT, S.SUPPLEMENT_REQUIRED})
# States in which the window may still take in (scan) materials for the case: until review starts.
STAFF_MATERIAL_STATES = frozenset({S.SUBMITTED, S.SUPPLEMENT_REQUIRED, S.ACCEPTED})
ENDED_STATES = frozenset({S.REJECTED, S.APPROVED, S.DENIED, S.DELIVERED, S.WITHDRAWN})


# ---- what each move does besides changing the state (inputs: guide, items, method, tracking_no) ----


def _effect(
    ctx: MoveContext,
    *,
    changes: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    event: dict[str, Any] | None = None,
) -> Effect:
    """A case move's effect: its columns, the timeline's details and the case.<state> event everyone hears of."""
    case: Case = ctx.row
    changes = dict(changes or {})
    if ctx.move.target in ENDED_STATES and case.ended_at is None:
        changes["ended_at"] = ctx.at
    payload = {
        "case_id": case.id,
        "matter_id": case.matter_id,
        "receipt_no": case.receipt_no,
        "action": ctx.move.action,
        "from": case.status.value,
        "to": ctx.move.target.value,
        "note": ctx.note,
        "matter_name": ctx.inputs["guide"]["name"],
        **(event or {}),
    }
    return Effect(
        changes=changes,
        timeline={"details": details or {}},
        event=Event(
            f"case.{ctx.move.target.value}", payload, citizen_id=case.applicant_id, department_id=case.department_id
        ),
    )


# The moves a matter's fee may hold back, by the guide's pay_before.
PAYMENT_STEPS = {"accept": "acceptance", "deliver": "delivery"}


def waits_for_payment(case: Case, guide: dict, action: str) -> bool:
    """Whether this move waits for the unpaid fee (the matter asks for it before acceptance or before delivery)."""
    step = PAYMENT_STEPS.get(action)
    return step is not None and case.amount_fen > 0 and not case.paid and guide.get("pay_before") == step


def _require_payment_before(ctx: MoveContext, step: str) -> None:
    """The matter may ask for the fee before acceptance or before delivery: that move waits for the payment."""
    guide = ctx.inputs["guide"]
    if PAYMENT_STEPS.get(ctx.move.action) == step and waits_for_payment(ctx.row, guide, ctx.move.action):
        raise PaymentRequired(details={"amount_fen": ctx.row.amount_fen, "pay_before": guide["pay_before"]})


async def _plain(ctx: MoveContext) -> Effect:
    return _effect(ctx)


async def _submit(ctx: MoveContext) -> Effect:
    case: Case = ctx.row
    guide = ctx.inputs["guide"]
    missing = await missing_materials(case, guide)
    if missing:
        raise MaterialsMissing(details={"missing": [m["id"] for m in missing], "materials": missing})
    # The stored form shows its personal numbers masked: the check is of the numbers themselves.
    form = (
        reveal(case.form, case.form_secrets_encrypted, cipher=ctx.inputs["cipher"])
        if case.form_secrets_encrypted
        else case.form
    )
    check_form(form, guide["form_fields"], complete=True)
    return _effect(ctx, changes={"submitted_at": ctx.at, "supplement_items": [], "supplement_requested_at": None})


async def _accept(ctx: MoveContext) -> Effect:
    case: Case = ctx.row
    _require_payment_before(ctx, "acceptance")
    receipt_no = await next_receipt_no(case.department_id, workdays.local_date(ctx.at), ctx.connection)
    deadline = workdays.deadline_after(ctx.at, case.promised_days)
    return _effect(
        ctx,
        changes={"receipt_no": receipt_no, "accepted_at": ctx.at, "deadline_at": deadline},
        details={"receipt_no": receipt_no},
        event={"receipt_no": receipt_no, "deadline": to_iso(deadline)},
    )


async def _request_supplement(ctx: MoveContext) -> Effect:
    checked = check_supplement_items(ctx.inputs.get("items") or [], ctx.inputs["guide"])
    return _effect(
        ctx,
        changes={"supplement_items": checked, "supplement_requested_at": ctx.at},
        details={"items": checked},
        event={"items": checked},
    )


async def _suspend(ctx: MoveContext) -> Effect:
    return _effect(ctx, changes={"suspended_at": ctx.at})


async def _resume(ctx: MoveContext) -> Effect:
    case: Case = ctx.row
    # The clock stood still while suspended: the deadline moves on by the working days spent so.
    paused = workdays.workdays_between(workdays.local_date(case.suspended_at or ctx.at), workdays.local_date(ctx.at))
    deadline = _end_of(workdays.add_workdays(workdays.local_date(case.deadline_at), paused))
    return _effect(
        ctx,
        changes={"suspended_at": None, "paused_workdays": case.paused_workdays + paused, "deadline_at": deadline},
        details={"paused_workdays": paused},
        event={"deadline": to_iso(deadline)},
    )


async def _deliver(ctx: MoveContext) -> Effect:
    method, tracking_no = ctx.inputs.get("method"), ctx.inputs.get("tracking_no")
    if method not in ("pickup", "express"):
        raise ValidationFailed(details={"fields": [{"field": "method", "message": "取件方式应为 pickup 或 express"}]})
    if method == "express" and not (tracking_no or "").strip():
        raise ValidationFailed(details={"fields": [{"field": "tracking_no", "message": "快递寄送须填写运单号"}]})
    _require_payment_before(ctx, "delivery")
    tracking_no = (tracking_no or "").strip() if method == "express" else ""
    hall_id = _pickup_hall(ctx) if method == "pickup" else None
    return _effect(
        ctx,
        changes={"delivery_method": method, "tracking_no": tracking_no},
        details={"method": method, "tracking_no": tracking_no, "hall_id": hall_id},
        # The hall goes with the event, so the citizen's message says where (and when) to collect.
        event={"method": method, "tracking_no": tracking_no, "hall_id": hall_id},
    )


def _pickup_hall(ctx: MoveContext) -> int | None:
    """The hall a result is collected at: the one chosen, else the case's own, else the matter's first."""
    case: Case = ctx.row
    halls = list(ctx.inputs["guide"].get("hall_ids") or [])
    chosen = ctx.inputs.get("pickup_hall_id")
    if chosen is not None:
        if chosen not in halls and chosen != case.hall_id:
            message = "领取地点须为该事项的办理大厅"
            raise ValidationFailed(details={"fields": [{"field": "pickup_hall_id", "message": message}]})
        return chosen
    return case.hall_id or (halls[0] if halls else None)


def _from(*states: S) -> frozenset[S]:
    return frozenset(states)


_CITIZEN = frozenset({CITIZEN})
_CLERK = frozenset({"clerk"})  # staff roles, in the case's own department
_APPROVER = frozenset({"approver"})

MOVES: tuple[Move, ...] = (
    #     action                 from                                          to                      who
    Move("submit", _from(S.DRAFT, S.SUPPLEMENT_REQUIRED), S.SUBMITTED, _CITIZEN, effect=_submit),
    Move("withdraw", _from(S.DRAFT, S.SUBMITTED, S.SUPPLEMENT_REQUIRED), S.WITHDRAWN, _CITIZEN, effect=_plain),
    Move("accept", _from(S.SUBMITTED), S.ACCEPTED, _CLERK, effect=_accept),
    Move("request_supplement", _from(S.SUBMITTED), S.SUPPLEMENT_REQUIRED, _CLERK, effect=_request_supplement),
    Move("reject", _from(S.SUBMITTED), S.REJECTED, _CLERK, note_required=True, effect=_plain),
    Move("start_review", _from(S.ACCEPTED), S.IN_REVIEW, _APPROVER, effect=_plain),
    Move("suspend", _from(S.IN_REVIEW), S.SUSPENDED, _APPROVER, note_required=True, effect=_suspend),
    Move("resume", _from(S.SUSPENDED), S.IN_REVIEW, _APPROVER, effect=_resume),
    Move("approve", _from(S.IN_REVIEW), S.APPROVED, _APPROVER, effect=_plain),
    Move("deny", _from(S.IN_REVIEW), S.DENIED, _APPROVER, note_required=True, effect=_plain),
    Move("deliver", _from(S.APPROVED), S.DELIVERED, _CLERK, effect=_deliver),
)

TABLE = workflow.Table(
    name=AGGREGATE,
    model=Case,
    moves=MOVES,
    timeline=workflow.Timeline(CaseTimelineEntry, "case_id"),
    illegal_message="办件当前状态不允许该操作",
)
ACTIONS = TABLE.actions


def actor_kinds(actor_kind: str, roles: tuple[str, ...] = ()) -> tuple[str, ...]:
    """What the table knows an actor as: the citizen as such, staff by their roles."""
    return (CITIZEN,) if actor_kind == CITIZEN else tuple(roles)


def find_move(action: str, status: S) -> Move | None:
    """The move this action makes from this state, or None when it is illegal there."""
    return workflow.find_move(TABLE, action, status)


def allowed_actions(status: S, *, actor_kind: str, roles: tuple[str, ...] = ()) -> list[str]:
    """The actions this actor may take on a case in this state, in table order."""
    return workflow.allowed_actions(TABLE, status, actor_kinds(actor_kind, roles))


# ---- what the moves need ----


async def missing_materials(case: Case, guide: dict) -> list[dict]:
    """Required materials without a file, and supplement items without a file uploaded since the request."""
    files = list(await CaseFile.filter(case_id=case.id, removed_at__isnull=True).order_by("id"))
    # A chosen electronic licence stands for its material's upload.
    licences = list(await CaseLicence.filter(case_id=case.id, removed_at__isnull=True))
    have = {file.material_id for file in files} | {licence.material_id for licence in licences}
    missing = [
        {"id": m["id"], "name": m["name"], "reason": "required"}
        for m in guide["materials"]
        if m["required"] and m["id"] not in have
    ]
    if case.status == S.SUPPLEMENT_REQUIRED and case.supplement_requested_at is not None:
        fresh = {file.material_id for file in files if file.uploaded_at > case.supplement_requested_at} | {
            licence.material_id for licence in licences if licence.attached_at > case.supplement_requested_at
        }
        names = {m["id"]: m["name"] for m in guide["materials"]}
        listed = {m["id"] for m in missing}
        for item in case.supplement_items:
            material_id = item.get("material_id")
            if material_id is not None and material_id not in fresh and material_id not in listed:
                missing.append({"id": material_id, "name": names.get(material_id, ""), "reason": "supplement"})
    return missing


def check_supplement_items(items: list[dict], guide: dict) -> list[dict]:
    """Every item the citizen must fix, at once: at least one, each with a reason, materials of this guide."""
    if not items:
        raise ValidationFailed(
            "请一次列出需要补正的全部内容", details={"fields": [{"field": "items", "message": "至少一项"}]}
        )
    names = {m["id"]: m["name"] for m in guide["materials"]}
    checked = []
    for index, item in enumerate(items):
        material_id = item.get("material_id")
        if material_id is not None and material_id not in names:
            raise UnknownMaterial(
                details={"fields": [{"field": f"items.{index}.material_id", "message": "该事项没有这项材料"}]}
            )
        checked.append(
            {"material_id": material_id, "material_name": names.get(material_id, ""), "reason": item["reason"]}
        )
    return checked


async def next_receipt_no(department_id: int, day: date, connection) -> str:
    """Department code + date + a per-department daily sequence, e.g. RS-20261123-0007."""
    department = await catalog.get_department(department_id)
    code = (department or {}).get("code") or f"D{department_id}"
    for _ in range(3):
        bumped = (
            await ReceiptCounter.filter(department_id=department_id, day=day)
            .using_db(connection)
            .update(last_sequence=F("last_sequence") + 1)
        )
        if not bumped:
            from tortoise.exceptions import IntegrityError

            try:
                async with in_transaction() as nested:
                    await ReceiptCounter.create(department_id=department_id, day=day, last_sequence=1, using_db=nested)
                sequence = 1
            except IntegrityError:
                continue  # another acceptance created today's counter first: bump it
        else:
            counter = await ReceiptCounter.get(department_id=department_id, day=day).using_db(connection)
            sequence = counter.last_sequence
        return f"{code}-{day:%Y%m%d}-{sequence:04d}"
    raise StaleVersion("受理编号分配冲突，请重试")


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=CITY_TZ)
