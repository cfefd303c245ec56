"""Public statistics HTTP: per department and per hall, no login."""

from __future__ import annotations

from sanic import Blueprint, Request

from app.core.auth import client_ip
from app.core.http import parse_query, respond
from app.core.openapi import doc
from app.stats import service
from app.stats.schemas import DepartmentReport, HallReport, MatterReport, StatsQuery

bp = Blueprint("stats", url_prefix="/api/v1/stats")
_REPORTS = {"departments": DepartmentReport, "halls": HallReport, "matters": MatterReport}


async def _report(request: Request, group: str):
    query = parse_query(request, StatsQuery)
    settings = request.app.ctx.settings
    only_id = {"departments": query.department_id, "halls": query.hall_id, "matters": query.matter_id}[group]
    report = await service.report(
        group,
        date_from=query.date_from,
        date_to=query.date_to,
        only_id=only_id,
        department_id=query.department_id,
        cache=request.app.ctx.cache,
        cache_seconds=settings.stats.cache_seconds,
        catalog_ttl=settings.catalog.cache_seconds,
        caller=client_ip(request),
        computed_per_minute=settings.stats.computed_per_minute,
    )
    return respond(_REPORTS[group], report)


@bp.get("/departments")
@doc(
    "各部门好差评与整改、投诉情况（公开）", tag="stats", response=DepartmentReport, errors=(422, 429), query=StatsQuery
)
async def departments(request: Request):
    return await _report(request, "departments")


@bp.get("/halls")
@doc("各大厅好差评与整改、投诉情况（公开）", tag="stats", response=HallReport, errors=(422, 429), query=StatsQuery)
async def halls(request: Request):
    return await _report(request, "halls")


@bp.get("/matters")
@doc(
    "一个部门各事项（或一个事项）的好差评与整改、投诉情况（公开；需 department_id 或 matter_id）",
    tag="stats",
    response=MatterReport,
    errors=(422, 429),
    query=StatsQuery,
)
async def matters(request: Request):
    return await _report(request, "matters")
