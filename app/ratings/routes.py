"""Rating HTTP: citizens rate a finished service and follow its rectification; staff see ratings and appeal."""

from __future__ import annotations

from sanic import Blueprint, Request

from app.core.auth import citizen_required, staff_required
from app.core.http import PageQuery, idempotency_key, page_of, parse_body, parse_query, respond
from app.core.openapi import doc
from app.ratings import service
from app.ratings.schemas import (
    AppealDecisionIn,
    AppealIn,
    FixRatingIn,
    RatingIn,
    RatingOut,
    RatingPage,
    StaffRatingOut,
    StaffRatingPage,
    StaffRatingQuery,
)

bp = Blueprint("ratings", url_prefix="/api/v1")

RATING_STAFF_ROLES = ("clerk", "approver", "dept_admin", "supervisor", "admin")


# ---- citizens ----


@bp.post("/ratings")
@doc(
    "评价办结的办件或已到场的预约（每项一次；1-2 分须写明原因并触发回访整改）",
    tag="ratings",
    body=RatingIn,
    response=RatingOut,
    status=201,
    responses={200: RatingOut},
    errors=(400, 401, 403, 404, 409, 422),
    secured=True,
)
@citizen_required
async def rate(request: Request):
    data = parse_body(request, RatingIn)
    rating, created = await service.rate(
        request.ctx.principal,
        case_id=data.case_id,
        appointment_id=data.appointment_id,
        score=data.score,
        dimensions=data.dimensions.model_dump(exclude_none=True),
        tags=data.tags,
        comment=data.comment,
        idempotency_key=idempotency_key(request),
        settings=request.app.ctx.settings,
    )
    return respond(RatingOut, rating, status=201 if created else 200)


@bp.get("/ratings")
@doc(
    "我的评价（含差评的回访整改结果）",
    tag="ratings",
    response=RatingPage,
    errors=(401, 403, 422),
    secured=True,
    query=PageQuery,
)
@citizen_required
async def my_ratings(request: Request):
    query = parse_query(request, PageQuery)
    items, total = await service.list_for_citizen(request.ctx.principal, offset=query.offset, limit=query.page_size)
    return respond(RatingPage, page_of(items, total, query.page, query.page_size))


@bp.get("/ratings/<rating_id:int>")
@doc("一条评价及其整改记录", tag="ratings", response=RatingOut, errors=(401, 403, 404), secured=True)
@citizen_required
async def my_rating(request: Request, rating_id: int):
    return respond(RatingOut, await service.get_rating(request.ctx.principal, rating_id))


@bp.post("/ratings/<rating_id:int>/fix-rating")
@doc(
    "评价整改结果",
    tag="ratings",
    body=FixRatingIn,
    response=RatingOut,
    errors=(400, 401, 403, 404, 409, 422),
    secured=True,
)
@citizen_required
async def rate_fix(request: Request, rating_id: int):
    data = parse_body(request, FixRatingIn)
    return respond(
        RatingOut,
        await service.rate_fix(
            request.ctx.principal, rating_id, score=data.score, comment=data.comment, settings=request.app.ctx.settings
        ),
    )


# ---- staff ----


@bp.get("/staff/ratings")
@doc(
    "本部门的评价（效能监察：全部部门）",
    tag="ratings-staff",
    response=StaffRatingPage,
    errors=(401, 403, 422),
    secured=True,
    query=StaffRatingQuery,
)
@staff_required(*RATING_STAFF_ROLES)
async def staff_ratings(request: Request):
    query = parse_query(request, StaffRatingQuery)
    items, total = await service.list_for_staff(
        request.ctx.principal,
        department_id=query.department_id,
        score=query.score,
        appeal_status=query.appeal_status,
        defaulted=query.defaulted,
        offset=query.offset,
        limit=query.page_size,
    )
    return respond(StaffRatingPage, page_of(items, total, query.page, query.page_size))


@bp.get("/staff/ratings/<rating_id:int>")
@doc("一条评价（含申诉与整改）", tag="ratings-staff", response=StaffRatingOut, errors=(401, 403, 404), secured=True)
@staff_required(*RATING_STAFF_ROLES)
async def staff_rating(request: Request, rating_id: int):
    return respond(StaffRatingOut, await service.get_rating(request.ctx.principal, rating_id))


@bp.post("/staff/ratings/<rating_id:int>/appeal")
@doc(
    "部门对恶意差评提出申诉",
    tag="ratings-staff",
    body=AppealIn,
    response=StaffRatingOut,
    errors=(400, 401, 403, 404, 409, 422),
    secured=True,
)
@staff_required("dept_admin")
async def appeal(request: Request, rating_id: int):
    data = parse_body(request, AppealIn)
    return respond(StaffRatingOut, await service.appeal(request.ctx.principal, rating_id, reason=data.reason))


@bp.post("/staff/ratings/<rating_id:int>/appeal/decision")
@doc(
    "效能监察复核申诉：维持（uphold）或认定无效（void）",
    tag="ratings-staff",
    body=AppealDecisionIn,
    response=StaffRatingOut,
    errors=(400, 401, 403, 404, 409, 422),
    secured=True,
)
@staff_required("supervisor")
async def decide(request: Request, rating_id: int):
    data = parse_body(request, AppealDecisionIn)
    return respond(
        StaffRatingOut,
        await service.decide_appeal(request.ctx.principal, rating_id, decision=data.decision, note=data.note),
    )
