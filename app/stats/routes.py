"""Statistics HTTP: the public figures per department, hall and matter (no login); the supervisors' weekly series
and exports (staff)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import raw

from app.core.auth import client_ip, staff_required
from app.core.http import parse_query, respond
from app.core.openapi import BINARY, Raw, doc
from app.stats import service
from app.stats.schemas import (
    DepartmentReport,
    ExportQuery,
    HallReport,
    MatterReport,
    StaffStatsQuery,
    StatsQuery,
    WeeklyReport,
)

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
        reads=request.app.ctx.stats_reads,
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


# ---- the supervisors' dashboard (staff) ----

staff_bp = Blueprint("staff_stats", url_prefix="/api/v1/staff/stats")
SPREADSHEET = Raw(
    {
        "text/csv": {"schema": {"type": "string"}},
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": BINARY},
    }
)


@staff_bp.get("/weekly")
@doc(
    "每周受理、办结、按时与超期办结件数（监督看板；部门管理员仅本部门）",
    tag="stats-staff",
    response=WeeklyReport,
    errors=(401, 403, 404, 422),
    secured=True,
    query=StaffStatsQuery,
)
@staff_required(*service.SUPERVISION_ROLES)
async def weekly(request: Request):
    query = parse_query(request, StaffStatsQuery)
    found = await service.weekly(
        request.ctx.principal,
        date_from=query.date_from,
        date_to=query.date_to,
        department_id=query.department_id,
        reads=request.app.ctx.stats_reads,
    )
    return respond(WeeklyReport, found)


@staff_bp.get("/export")
@doc(
    "导出统计表（CSV 或 XLSX：各部门、各大厅、每周办件；与公开统计同一数据）",
    tag="stats-staff",
    response=SPREADSHEET,
    errors=(401, 403, 404, 422),
    secured=True,
    query=ExportQuery,
)
@staff_required(*service.SUPERVISION_ROLES)
async def export(request: Request):
    query = parse_query(request, ExportQuery)
    settings = request.app.ctx.settings
    found, rows = await service.export_rows(
        request.ctx.principal,
        query.report,
        date_from=query.date_from,
        date_to=query.date_to,
        department_id=query.department_id,
        cache=request.app.ctx.cache,
        cache_seconds=settings.stats.cache_seconds,
        catalog_ttl=settings.catalog.cache_seconds,
        reads=request.app.ctx.stats_reads,
    )
    content, content_type, file_name = service.export_file(query.report, found, rows, query.format)
    return raw(
        content,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{file_name}"', "Cache-Control": "private, no-store"},
    )
