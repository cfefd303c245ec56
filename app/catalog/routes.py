"""Catalog HTTP: public reads for the mini-program, guide editing for staff."""

from __future__ import annotations

from sanic import Blueprint, Request

from app.catalog import halls as hall_admin
from app.catalog import service
from app.catalog.schemas import (
    DepartmentPageOut,
    GuideQuery,
    HallIn,
    HallOut,
    HallPageOut,
    MatterCreate,
    MatterOut,
    MatterPageOut,
    MatterQuery,
    MatterUpdate,
    ReferenceQuery,
    ThemePageOut,
    VersionPageOut,
    WindowIn,
    WindowOut,
)
from app.core.auth import staff_required
from app.core.http import page_of, parse_body, parse_query, respond
from app.core.openapi import doc
from app.core.view_memo import remembered

bp = Blueprint("catalog", url_prefix="/api/v1")
# The owner of the remembered public answers (guides, search): everyone.
PUBLIC = "public"


def _cache_args(request: Request) -> dict:
    return {"cache": request.app.ctx.cache, "ttl": request.app.ctx.settings.catalog.cache_seconds}


def _paged(items: list, query: ReferenceQuery) -> dict:
    return page_of(items[query.offset : query.offset + query.page_size], len(items), query.page, query.page_size)


@bp.get("/departments")
@doc("部门列表", tag="catalog", response=DepartmentPageOut, query=ReferenceQuery)
async def departments(request: Request):
    query = parse_query(request, ReferenceQuery)
    return respond(DepartmentPageOut, _paged(await service.list_departments(**_cache_args(request)), query))


@bp.get("/halls")
@doc("政务服务大厅列表", tag="catalog", response=HallPageOut, query=ReferenceQuery)
async def halls(request: Request):
    query = parse_query(request, ReferenceQuery)
    return respond(HallPageOut, _paged(await service.list_halls(**_cache_args(request)), query))


@bp.get("/themes")
@doc("主题（人生事件）列表", tag="catalog", response=ThemePageOut, query=ReferenceQuery)
async def themes(request: Request):
    query = parse_query(request, ReferenceQuery)
    return respond(ThemePageOut, _paged(await service.list_themes(**_cache_args(request)), query))


@bp.get("/matters")
@doc("搜索事项", tag="catalog", response=MatterPageOut, query=MatterQuery)
@remembered(service.memo.answers, lambda request: PUBLIC)
async def matters(request: Request):
    query = parse_query(request, MatterQuery)
    items, total = await service.search_matters(
        q=query.q,
        department_id=query.department_id,
        theme=query.theme,
        audience=query.audience.value if query.audience else None,
        bookable=query.bookable,
        offset=query.offset,
        limit=query.page_size,
    )
    return respond(MatterPageOut, page_of(items, total, query.page, query.page_size))


@bp.get("/matters/<matter_id:int>")
@doc(
    "事项办事指南（当前版本，或 ?version= 指定的历史版本）",
    tag="catalog",
    response=MatterOut,
    errors=(404, 422),
    query=GuideQuery,
)
@remembered(service.memo.answers, lambda request: PUBLIC)
async def matter_guide(request: Request, matter_id: int):
    query = parse_query(request, GuideQuery)
    return respond(MatterOut, await service.get_guide(matter_id, query.version, **_cache_args(request)))


@bp.get("/matters/<matter_id:int>/versions")
@doc("办事指南的历史版本", tag="catalog", response=VersionPageOut, errors=(404,))
async def matter_versions(request: Request, matter_id: int):
    versions = await service.list_versions(matter_id)
    return respond(VersionPageOut, page_of(versions, len(versions), 1, len(versions)))


@bp.post("/admin/matters")
@doc(
    "新建事项（办事指南第 1 版）",
    tag="catalog-admin",
    body=MatterCreate,
    response=MatterOut,
    status=201,
    errors=(400, 401, 403, 409, 422),
    secured=True,
)
@staff_required("dept_admin", "admin")
async def create_matter(request: Request):
    data = parse_body(request, MatterCreate)
    guide = await service.create_matter(data, actor=request.ctx.principal, **_cache_args(request))
    return respond(MatterOut, guide, status=201)


@bp.put("/admin/matters/<matter_id:int>")
@doc(
    "修改办事指南（生成新版本）",
    tag="catalog-admin",
    body=MatterUpdate,
    response=MatterOut,
    errors=(400, 401, 403, 404, 409, 422),
    secured=True,
)
@staff_required("dept_admin", "admin")
async def update_matter(request: Request, matter_id: int):
    data = parse_body(request, MatterUpdate)
    return respond(
        MatterOut, await service.update_matter(matter_id, data, actor=request.ctx.principal, **_cache_args(request))
    )


# ---- halls and their windows (a department admin: the halls their department runs; an admin: every hall) ----


@bp.get("/admin/halls")
@doc(
    "本部门管理的大厅及其窗口（系统管理员：全部）",
    tag="catalog-admin",
    response=HallPageOut,
    errors=(401, 403, 422),
    secured=True,
    query=ReferenceQuery,
)
@staff_required("dept_admin", "admin")
async def admin_halls(request: Request):
    query = parse_query(request, ReferenceQuery)
    return respond(HallPageOut, _paged(await hall_admin.list_admin_halls(actor=request.ctx.principal), query))


@bp.post("/admin/halls")
@doc(
    "新建大厅",
    tag="catalog-admin",
    body=HallIn,
    response=HallOut,
    status=201,
    errors=(400, 401, 403, 409, 422),
    secured=True,
)
@staff_required("dept_admin", "admin")
async def create_hall(request: Request):
    data = parse_body(request, HallIn)
    hall = await hall_admin.create_hall(data, actor=request.ctx.principal, cache=request.app.ctx.cache)
    return respond(HallOut, hall, status=201)


@bp.put("/admin/halls/<hall_id:int>")
@doc(
    "修改大厅（名称、地址、办公时间……）",
    tag="catalog-admin",
    body=HallIn,
    response=HallOut,
    errors=(400, 401, 403, 404, 409, 422),
    secured=True,
)
@staff_required("dept_admin", "admin")
async def update_hall(request: Request, hall_id: int):
    data = parse_body(request, HallIn)
    hall = await hall_admin.update_hall(hall_id, data, actor=request.ctx.principal, cache=request.app.ctx.cache)
    return respond(HallOut, hall)


@bp.delete("/admin/halls/<hall_id:int>")
@doc(
    "删除大厅（仍有预约、排队、排班或事项在用时 409 HALL_IN_USE）",
    tag="catalog-admin",
    response=HallOut,
    errors=(401, 403, 404, 409),
    secured=True,
)
@staff_required("dept_admin", "admin")
async def delete_hall(request: Request, hall_id: int):
    hall = await hall_admin.delete_hall(hall_id, actor=request.ctx.principal, cache=request.app.ctx.cache)
    return respond(HallOut, hall)


@bp.post("/admin/halls/<hall_id:int>/windows")
@doc(
    "为大厅新增窗口",
    tag="catalog-admin",
    body=WindowIn,
    response=WindowOut,
    status=201,
    errors=(400, 401, 403, 404, 409, 422),
    secured=True,
)
@staff_required("dept_admin", "admin")
async def create_window(request: Request, hall_id: int):
    data = parse_body(request, WindowIn)
    window = await hall_admin.create_window(hall_id, data, actor=request.ctx.principal, cache=request.app.ctx.cache)
    return respond(WindowOut, window, status=201)


@bp.put("/admin/halls/<hall_id:int>/windows/<window_id:int>")
@doc(
    "修改窗口（编号、名称、服务部门与事项、开放或关闭；正在服务或仍有人排队时 409 WINDOW_BUSY）",
    tag="catalog-admin",
    body=WindowIn,
    response=WindowOut,
    errors=(400, 401, 403, 404, 409, 422),
    secured=True,
)
@staff_required("dept_admin", "admin")
async def update_window(request: Request, hall_id: int, window_id: int):
    data = parse_body(request, WindowIn)
    window = await hall_admin.update_window(
        hall_id, window_id, data, actor=request.ctx.principal, cache=request.app.ctx.cache
    )
    return respond(WindowOut, window)


@bp.delete("/admin/halls/<hall_id:int>/windows/<window_id:int>")
@doc(
    "删除窗口（正在服务或仍有人排队时 409 WINDOW_BUSY）",
    tag="catalog-admin",
    response=WindowOut,
    errors=(401, 403, 404, 409),
    secured=True,
)
@staff_required("dept_admin", "admin")
async def delete_window(request: Request, hall_id: int, window_id: int):
    window = await hall_admin.delete_window(
        hall_id, window_id, actor=request.ctx.principal, cache=request.app.ctx.cache
    )
    return respond(WindowOut, window)
