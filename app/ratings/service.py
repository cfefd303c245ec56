"""Rating rules (好差评): who may rate what, once; bad ratings open a rectification; appeals; the default rating."""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from app.booking import service as booking
from app.cases import service as cases
from app.catalog import service as catalog
from app.core import outbox
from app.core.aggregates import only_filter
from app.core.auth import Principal
from app.core.errors import Forbidden, IllegalTransition, ValidationFailed
from app.core.timeutil import as_utc, to_iso
from app.core.timeutil import now as clock_now
from app.core.workflow import Actor, apply_move, may_make
from app.ratings.errors import (
    AlreadyRated,
    ApplicantRatesOnly,
    NotRateable,
    RatingClosed,
    RatingNotFound,
    ReasonRequired,
)
from app.ratings.models import AppealStatus, Rating, Subject
from app.ratings.workflow import AGGREGATE, TABLE
from app.tickets import service as tickets

DEFAULT_SCORE = 3  # 基本满意: what a service nobody rated in time counts as
BAD_AT_MOST = 2  # 1 and 2 are bad ratings: a reason, a call-back and a fix
DEFAULTS_BATCH = 200


# ---- reading ----


def rating_view(rating: Rating, *, for_staff: bool, ticket: dict | None = None) -> dict:
    """A rating as its citizen or the staff console sees it."""
    view = {
        "id": rating.id,
        "subject_type": rating.subject_type.value,
        "case_id": rating.subject_id if rating.subject_type == Subject.CASE else None,
        "appointment_id": rating.subject_id if rating.subject_type == Subject.APPOINTMENT else None,
        "department_id": rating.department_id,
        "matter_id": rating.matter_id,
        "hall_id": rating.hall_id,
        "score": rating.score,
        "dimensions": rating.dimensions,
        "tags": rating.tags,
        "comment": rating.comment,
        "defaulted": rating.is_default,
        "rated_at": to_iso(rating.rated_at),
        "appeal_status": rating.appeal_status.value,
        "voided": rating.appeal_status == AppealStatus.VOIDED,
        "decision_note": rating.decision_note,
        "ticket": ticket,
    }
    if for_staff:
        view.update(
            {
                "citizen_id": rating.citizen_id,
                "appeal_reason": rating.appeal_reason,
                "appealed_at": to_iso(rating.appealed_at),
                "decided_at": to_iso(rating.decided_at),
            }
        )
    return view


async def _visible(principal: Principal, rating_id: int) -> Rating:
    """The rating if this principal may see it; otherwise the same 404 as one that does not exist."""
    rating = await Rating.get_or_none(id=rating_id)
    if rating is None:
        raise RatingNotFound()
    if principal.is_staff:
        if not principal.covers_department(rating.department_id):
            raise RatingNotFound()
    elif rating.citizen_id != principal.id:
        raise RatingNotFound()
    return rating


async def get_rating(principal: Principal, rating_id: int, *, now: datetime | None = None) -> dict:
    """One rating with its rectification ticket and the ticket's log."""
    rating = await _visible(principal, rating_id)
    ticket = await tickets.ticket_of_rating(rating.id, viewer=principal, now=now)
    return rating_view(rating, for_staff=principal.is_staff, ticket=ticket)


async def _page(query, principal: Principal, offset: int, limit: int) -> tuple[list[dict], int]:
    total = await query.count()
    rows = list(await query.order_by("-rated_at", "-id").offset(offset).limit(limit))
    by_rating = await tickets.tickets_of_ratings([row.id for row in rows], viewer=principal)
    return [rating_view(row, for_staff=principal.is_staff, ticket=by_rating.get(row.id)) for row in rows], total


async def list_for_citizen(citizen: Principal, *, offset: int, limit: int) -> tuple[list[dict], int]:
    """The citizen's own ratings, newest first (never a default rating: those are nobody's words)."""
    return await _page(Rating.filter(citizen_id=citizen.id), citizen, offset, limit)


async def list_for_staff(
    staff: Principal,
    *,
    department_id: int | None,
    score: int | None,
    appeal_status: str | None,
    defaulted: bool | None,
    offset: int,
    limit: int,
) -> tuple[list[dict], int]:
    """Ratings of the staff member's department (every department for supervisors), newest first."""
    query = Rating.all()
    if staff.sees_all_departments:
        if department_id is not None:
            query = query.filter(department_id=department_id)
    else:
        query = query.filter(department_id=staff.department_id)
    if score is not None:
        query = query.filter(score=score)
    if appeal_status:
        query = query.filter(appeal_status=appeal_status)
    if defaulted is not None:
        query = query.filter(is_default=defaulted)
    return await _page(query, staff, offset, limit)


# ---- rating ----


async def _subject(citizen: Principal, *, case_id: int | None, appointment_id: int | None) -> dict:
    """What is rated, where and when it was served (404 for anyone else's, 409 before it was served)."""
    if case_id is not None:
        facts = await cases.service_facts(citizen, case_id)
        # A proxy (代办人) files and follows the case, but the service is rated by the person it was for.
        if facts["applicant_id"] != citizen.id:
            raise ApplicantRatesOnly()
        if not facts["rateable"] or facts["ended_at"] is None:
            raise NotRateable(details={"status": facts["status"]})
        return {
            "subject_type": Subject.CASE,
            "subject_id": case_id,
            "department_id": facts["department_id"],
            "matter_id": facts["matter_id"],
            "hall_id": facts["hall_id"],
            "served_at": facts["ended_at"],
        }
    facts = await booking.service_facts(citizen_id=citizen.id, appointment_id=appointment_id)
    if facts["served_at"] is None:
        raise NotRateable(details={"status": facts["status"]})
    matter = await catalog.require_matter(facts["matter_id"])
    return {
        "subject_type": Subject.APPOINTMENT,
        "subject_id": appointment_id,
        "department_id": matter["department_id"],
        "matter_id": facts["matter_id"],
        "hall_id": facts["hall_id"],
        "served_at": facts["served_at"],
    }


async def rate(
    citizen: Principal,
    *,
    case_id: int | None,
    appointment_id: int | None,
    score: int,
    dimensions: dict[str, int],
    tags: list[str],
    comment: str,
    idempotency_key: str | None,
    settings,
    now: datetime | None = None,
) -> tuple[dict, bool]:
    """The citizen's one rating of a finished case or a served appointment; (view, created)."""
    try:
        return await _rate(
            citizen,
            case_id=case_id,
            appointment_id=appointment_id,
            score=score,
            dimensions=dimensions,
            tags=tags,
            comment=comment,
            idempotency_key=idempotency_key,
            settings=settings,
            now=now,
        )
    except AlreadyRated:
        # The same Idempotency-Key twice in flight (a retry while the first POST was still running): the one that
        # lost the race answers with the rating the other one wrote, as a plain repeat would.
        if idempotency_key:
            earlier = await Rating.get_or_none(citizen_id=citizen.id, idempotency_key=idempotency_key)
            if earlier is not None:
                return await get_rating(citizen, earlier.id, now=as_utc(now or clock_now())), False
        raise


async def _rate(
    citizen: Principal,
    *,
    case_id: int | None,
    appointment_id: int | None,
    score: int,
    dimensions: dict[str, int],
    tags: list[str],
    comment: str,
    idempotency_key: str | None,
    settings,
    now: datetime | None = None,
) -> tuple[dict, bool]:
    at = as_utc(now or clock_now())
    if idempotency_key:
        earlier = await Rating.get_or_none(citizen_id=citizen.id, idempotency_key=idempotency_key)
        if earlier is not None:
            return await get_rating(citizen, earlier.id, now=at), False
    subject = await _subject(citizen, case_id=case_id, appointment_id=appointment_id)
    served_at = subject.pop("served_at")
    existing = await Rating.get_or_none(subject_type=subject["subject_type"], subject_id=subject["subject_id"])
    if existing is not None:
        # A default rating means the period ran out, not that this citizen already spoke.
        raise (
            RatingClosed(details={"period_days": settings.ratings.period_days})
            if existing.is_default
            else AlreadyRated()
        )
    if at > served_at + timedelta(days=settings.ratings.period_days):
        raise RatingClosed(details={"period_days": settings.ratings.period_days})
    comment = comment.strip()
    if score <= BAD_AT_MOST and not comment:
        raise ReasonRequired(details={"fields": [{"field": "comment", "message": "请写明不满意的原因"}]})
    try:
        async with in_transaction() as connection:
            # The case's own flag and the unique (subject) key both refuse a second rating, even in a race. The flag
            # is claimed first, as the default job claims it: taking the case row and then the rating's key in the
            # same order as the job keeps a rating made at the job's moment from deadlocking with it (PostgreSQL).
            if subject["subject_type"] == Subject.CASE and not await cases.mark_rated(case_id, connection=connection):
                raise AlreadyRated()
            rating = await Rating.create(
                citizen_id=citizen.id,
                score=score,
                dimensions=dimensions,
                tags=tags,
                comment=comment,
                rated_at=at,
                idempotency_key=idempotency_key,
                using_db=connection,
                **subject,
            )
            if score <= BAD_AT_MOST:
                await _open_rectification(rating, settings=settings, at=at, connection=connection)
    except IntegrityError:
        raise AlreadyRated() from None
    return await get_rating(citizen, rating.id, now=at), True


async def _open_rectification(rating: Rating, *, settings, at: datetime, connection) -> None:
    ticket = await tickets.open_rectification(
        rating_id=rating.id,
        citizen_id=rating.citizen_id,
        department_id=rating.department_id,
        matter_id=rating.matter_id,
        case_id=rating.subject_id if rating.subject_type == Subject.CASE else None,
        hall_id=rating.hall_id,
        content=rating.comment,
        settings=settings,
        at=at,
        connection=connection,
    )
    await outbox.emit(
        "rating.bad",
        aggregate_type=AGGREGATE,
        aggregate_id=rating.id,
        connection=connection,
        citizen_id=rating.citizen_id,
        department_id=rating.department_id,
        payload={
            "rating_id": rating.id,
            "score": rating.score,
            "comment": rating.comment,
            "matter_id": rating.matter_id,
            "ticket_id": ticket["id"],
            "callback_due": ticket["callback_due_at"],
            "fix_due": ticket["fix_due_at"],
        },
    )


async def rate_fix(
    citizen: Principal, rating_id: int, *, score: int, comment: str, settings, now: datetime | None = None
) -> dict:
    """The citizen's word on the fix of their bad rating (closes the rectification ticket)."""
    at = as_utc(now or clock_now())
    rating = await _visible(citizen, rating_id)
    ticket = await tickets.ticket_of_rating(rating.id, viewer=None)
    if ticket is None:
        raise IllegalTransition("该评价没有整改工单")
    await tickets.act(citizen, ticket["id"], "rate_fix", score=score, note=comment, settings=settings, now=at)
    return await get_rating(citizen, rating_id, now=at)


# ---- appeals ----


async def _appeal_move(staff: Principal, rating_id: int, action: str, note: str, now: datetime | None) -> dict:
    at = as_utc(now or clock_now())
    if not may_make(TABLE, action, staff.roles):
        raise Forbidden()
    rating = await _visible(staff, rating_id)
    if action == "appeal" and (
        staff.department_id != rating.department_id or rating.is_default or rating.score > BAD_AT_MOST
    ):
        raise IllegalTransition("只能由被评部门对本部门的差评提出申诉")
    await apply_move(TABLE, rating, action, actor=Actor.of(staff, staff.roles), at=at, note=note)
    return await get_rating(staff, rating_id, now=at)


async def appeal(staff: Principal, rating_id: int, *, reason: str, now: datetime | None = None) -> dict:
    """The rated department asks a supervisor to void a bad rating as malicious."""
    return await _appeal_move(staff, rating_id, "appeal", reason, now)


async def decide_appeal(
    staff: Principal, rating_id: int, *, decision: str, note: str, now: datetime | None = None
) -> dict:
    """A supervisor upholds the rating or voids it (out of the statistics, kept in the record)."""
    if decision not in ("uphold", "void"):
        raise ValidationFailed(details={"fields": [{"field": "decision", "message": "应为 uphold 或 void"}]})
    return await _appeal_move(staff, rating_id, decision, note, now)


# ---- the default rating (the worker's job) ----


async def apply_defaults(*, settings, now: datetime | None = None) -> int:
    """Give every case finished more than the rating period ago and still unrated its default rating; how many."""
    at = as_utc(now or clock_now())
    period = timedelta(days=settings.ratings.period_days)
    given = 0
    while True:
        due = await cases.unrated_ended_cases(ended_before=at - period, limit=DEFAULTS_BATCH)
        for facts in due:
            async with in_transaction() as connection:
                # The case's flag is the claim: a citizen rating at this moment, or another worker, wins or loses here.
                if not await cases.mark_rated(facts["case_id"], connection=connection):
                    continue
                await Rating.create(
                    subject_type=Subject.CASE,
                    subject_id=facts["case_id"],
                    citizen_id=None,
                    department_id=facts["department_id"],
                    matter_id=facts["matter_id"],
                    hall_id=facts["hall_id"],
                    score=DEFAULT_SCORE,
                    is_default=True,
                    rated_at=facts["ended_at"] + period,
                    using_db=connection,
                )
            given += 1
        if len(due) < DEFAULTS_BATCH:
            return given


# ---- figures for the published statistics ----


async def figures(
    *,
    key: str,
    start: datetime,
    end: datetime,
    only: int | list[int] | None = None,
    connection: BaseDBAsyncClient | None = None,
) -> dict[int, dict]:
    """Per department_id, hall_id or matter_id (or only some), ratings given in [start, end): by level, defaulted
    and voided apart (read on connection: None, the primary)."""
    period = (
        Rating.filter(rated_at__gte=as_utc(start), rated_at__lt=as_utc(end))
        .filter(**only_filter(key, only))
        .using_db(connection)
    )
    rows = (
        await period.annotate(n=Count("id"))
        .group_by(key, "score", "is_default", "appeal_status")
        .values(key, "score", "is_default", "appeal_status", "n")
    )
    found: dict[int, dict] = {}
    for row in rows:
        group = found.setdefault(row[key], no_figures())
        if row["appeal_status"] == AppealStatus.VOIDED:
            group["voided"] += row["n"]
        elif row["is_default"]:
            group["defaulted"] += row["n"]
        else:
            group["by_level"][str(row["score"])] += row["n"]
    return found


def no_figures() -> dict:
    """The rating figures of a group nobody rated."""
    return {"by_level": {str(level): 0 for level in range(1, 6)}, "defaulted": 0, "voided": 0}
