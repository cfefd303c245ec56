"""Case HTTP: drafts, materials and progress for citizens; lists, window filing and transitions for staff."""

from __future__ import annotations

from pydantic import TypeAdapter, ValidationError
from sanic import Blueprint, Request
from sanic.response import raw

from app.cases import licences, service
from app.cases.schemas import (
    AttachedLicenceOut,
    CaseIn,
    CaseOut,
    CasePageOut,
    CaseQuery,
    CitizenActionIn,
    FormIn,
    LicenceIn,
    LicenceOut,
    LinkIn,
    MaterialFileOut,
    StaffCaseOut,
    StaffCasePageOut,
    StaffCaseQuery,
    TransitionIn,
    WindowFilingIn,
)
from app.core.auth import citizen_required, staff_required
from app.core.errors import ValidationFailed
from app.core.http import Id, idempotency_key, json_body, page_of, parse, parse_body, parse_query, respond
from app.core.openapi import FILE, Raw, doc
from app.core.view_memo import per_citizen

bp = Blueprint("cases", url_prefix="/api/v1")

CASE_STAFF_ROLES = ("clerk", "approver", "dept_admin", "supervisor", "admin")
MATERIAL_UPLOAD = Raw(
    {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["material_id", "file"],
                "properties": {
                    "material_id": {
                        "type": "string",
                        "pattern": "^[0-9]+$",
                        "description": "the id of the guide's material this file is for",
                    },
                    "file": {"type": "string", "format": "binary", "description": "PDF, JPEG or PNG"},
                },
            }
        }
    }
)


_MATERIAL_ID = TypeAdapter(Id)


def _material_id(raw_value: str | None) -> int | None:
    """The multipart material_id as an id its column can hold, None when it is not one."""
    if raw_value is None or not raw_value.strip().isascii() or not raw_value.strip().isdigit():
        return None
    try:
        return _MATERIAL_ID.validate_python(raw_value.strip())
    except ValidationError:
        return None


def _guide_ttl(request: Request) -> int:
    return request.app.ctx.settings.catalog.cache_seconds


def _common(request: Request) -> dict:
    return {"cache": request.app.ctx.cache, "guide_ttl": _guide_ttl(request)}


def _file_response(data: bytes, file: dict):
    # Never rendered inline: an uploaded file is evidence, not a page of ours.
    return raw(
        data,
        content_type=file["content_type"],
        headers={
            "Content-Disposition": f'attachment; filename="material-{file["id"]}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


# ---- citizens ----


@bp.post("/cases")
@doc(
    "新建申请（草稿）",
    tag="cases",
    body=CaseIn,
    response=CaseOut,
    status=201,
    errors=(400, 401, 403, 404, 422),
    secured=True,
)
@citizen_required
async def create(request: Request):
    data = parse_body(request, CaseIn)
    case = await service.create_draft(
        request.ctx.principal,
        matter_id=data.matter_id,
        form=data.form,
        appointment_id=data.appointment_id,
        on_behalf_of=data.on_behalf_of,
        idempotency_key=idempotency_key(request),
        cipher=request.app.ctx.cipher,
        **_common(request),
    )
    return respond(CaseOut, case, status=201)


@bp.get("/cases")
@doc("我的办件", tag="cases", response=CasePageOut, errors=(401, 422), secured=True, query=CaseQuery)
@citizen_required
@per_citizen
async def my_cases(request: Request):
    query = parse_query(request, CaseQuery)
    principal = request.ctx.principal
    items, total = await service.list_for_citizen(
        principal.id,
        status=query.status,
        offset=query.offset,
        limit=query.page_size,
        viewer=principal,
        **_common(request),
    )
    return respond(CasePageOut, page_of(items, total, query.page, query.page_size))


@bp.get("/cases/<case_id:int>")
@doc("办件详情：状态、时限、红黄绿灯、进度", tag="cases", response=CaseOut, errors=(401, 404), secured=True)
@citizen_required
@per_citizen
async def my_case(request: Request, case_id: int):
    return respond(CaseOut, await service.get_case(request.ctx.principal, case_id, **_common(request)))


@bp.put("/cases/<case_id:int>/form")
@doc(
    "修改申请表（草稿或补正中）", tag="cases", body=FormIn, response=CaseOut, errors=(401, 404, 409, 422), secured=True
)
@citizen_required
async def update_form(request: Request, case_id: int):
    data = parse_body(request, FormIn)
    return respond(
        CaseOut,
        await service.update_form(
            request.ctx.principal,
            case_id,
            form=data.form,
            version=data.version,
            cipher=request.app.ctx.cipher,
            **_common(request),
        ),
    )


@bp.post("/cases/<case_id:int>/materials")
@doc(
    "上传申请材料（multipart：material_id、file；PDF/JPEG/PNG）",
    tag="cases",
    body=MATERIAL_UPLOAD,
    response=MaterialFileOut,
    status=201,
    errors=(400, 401, 404, 409, 413, 415, 422),
    secured=True,
)
@citizen_required
async def upload(request: Request, case_id: int):
    return await _upload(request, case_id, service.upload_material)


async def _upload(request: Request, case_id: int, store):
    """The multipart material_id and file, checked, handed to the service's store (citizen's or window's)."""
    upload_file = request.files.get("file") if request.files else None
    raw_material = request.form.get("material_id") if request.form else None
    fields = []
    if upload_file is None:
        fields.append({"field": "file", "message": "请选择要上传的文件"})
    material_id = _material_id(raw_material)
    if material_id is None:
        fields.append({"field": "material_id", "message": "请指明是哪一项材料"})
    if fields:
        raise ValidationFailed(details={"fields": fields})
    settings = request.app.ctx.settings
    stored = await store(
        request.ctx.principal,
        case_id,
        material_id=material_id,
        data=upload_file.body,
        file_name=upload_file.name or "",
        storage=request.app.ctx.storage,
        max_bytes=settings.storage.max_upload_bytes,
        **_common(request),
    )
    return respond(MaterialFileOut, stored, status=201)


@bp.get("/cases/<case_id:int>/materials/<file_id:int>")
@doc("下载自己上传的材料文件", tag="cases", response=FILE, errors=(401, 404), secured=True)
@citizen_required
async def download(request: Request, case_id: int, file_id: int):
    data, file = await service.read_material(request.ctx.principal, case_id, file_id, storage=request.app.ctx.storage)
    return _file_response(data, file)


@bp.delete("/cases/<case_id:int>/materials/<file_id:int>")
@doc("撤回一份已上传的材料（草稿或补正中）", tag="cases", status=204, errors=(401, 404, 409), secured=True)
@citizen_required
async def remove(request: Request, case_id: int, file_id: int):
    await service.remove_material(request.ctx.principal, case_id, file_id)
    return raw(b"", status=204)


@bp.post("/cases/<case_id:int>/licences")
@doc(
    "用电子证照代替一项材料（材料须标记 e_licence；取申请人本人的证照）",
    tag="cases",
    body=LicenceIn,
    response=AttachedLicenceOut,
    status=201,
    errors=(400, 401, 403, 404, 409, 422, 503),
    secured=True,
)
@citizen_required
async def attach_licence(request: Request, case_id: int):
    data = parse_body(request, LicenceIn)
    attached = await service.attach_licence(
        request.ctx.principal,
        case_id,
        material_id=data.material_id,
        cipher=request.app.ctx.cipher,
        licence_service=request.app.ctx.platforms.licences,
        **_common(request),
    )
    return respond(AttachedLicenceOut, attached, status=201)


@bp.delete("/cases/<case_id:int>/licences/<licence_id:int>")
@doc("撤回已选的电子证照（草稿或补正中）", tag="cases", status=204, errors=(401, 404, 409), secured=True)
@citizen_required
async def detach_licence(request: Request, case_id: int, licence_id: int):
    await service.remove_licence(request.ctx.principal, case_id, licence_id)
    return raw(b"", status=204)


@bp.get("/me/licences")
@doc(
    "我的电子证照（证照库中的身份证、户口簿、营业执照、结婚证；号码打码）",
    tag="cases",
    response=list[LicenceOut],
    errors=(401, 403, 503),
    secured=True,
)
@citizen_required
async def my_licences(request: Request):
    found = await licences.my_licences(
        request.ctx.principal.id, cipher=request.app.ctx.cipher, licences=request.app.ctx.platforms.licences
    )
    return respond(list[LicenceOut], found)


async def _citizen_move(request: Request, case_id: int, action: str):
    body = json_body(request)
    data = parse(CitizenActionIn, body if body is not None else {})
    return respond(
        CaseOut,
        await service.transition(
            request.ctx.principal,
            case_id,
            action,
            version=data.version,
            cipher=request.app.ctx.cipher,
            **_common(request),
        ),
    )


@bp.post("/cases/<case_id:int>/submit")
@doc(
    "提交申请（缺少必需材料时 422 MATERIALS_MISSING）",
    tag="cases",
    body=CitizenActionIn,
    response=CaseOut,
    errors=(401, 404, 409, 422),
    secured=True,
)
@citizen_required
async def submit(request: Request, case_id: int):
    return await _citizen_move(request, case_id, "submit")


@bp.post("/cases/<case_id:int>/withdraw")
@doc("撤回申请", tag="cases", body=CitizenActionIn, response=CaseOut, errors=(401, 404, 409), secured=True)
@citizen_required
async def withdraw(request: Request, case_id: int):
    return await _citizen_move(request, case_id, "withdraw")


@bp.post("/cases/link")
@doc(
    "用受理编号和身份证号关联窗口办理的办件",
    tag="cases",
    body=LinkIn,
    response=CaseOut,
    errors=(401, 403, 404, 422, 429),
    secured=True,
)
@citizen_required
async def link(request: Request):
    data = parse_body(request, LinkIn)
    return respond(
        CaseOut,
        await service.link_case(
            request.ctx.principal,
            receipt_no=data.receipt_no,
            id_number=data.id_number,
            cipher=request.app.ctx.cipher,
            **_common(request),
        ),
    )


# ---- staff ----


@bp.get("/staff/cases")
@doc(
    "本部门办件（督查人员：全部部门），时限最近的在前；按状态、亮灯、受理编号或申请人姓名筛选，附各灯数量",
    tag="cases-staff",
    response=StaffCasePageOut,
    errors=(401, 403, 422),
    secured=True,
    query=StaffCaseQuery,
)
@staff_required(*CASE_STAFF_ROLES)
async def staff_cases(request: Request):
    query = parse_query(request, StaffCaseQuery)
    items, total, light_counts = await service.list_for_staff(
        request.ctx.principal,
        status=query.status,
        light=query.light,
        department_id=query.department_id,
        search=query.q,
        offset=query.offset,
        limit=query.page_size,
        **_common(request),
    )
    page = page_of(items, total, query.page, query.page_size)
    return respond(StaffCasePageOut, {**page, "light_counts": light_counts})


@bp.get("/staff/cases/<case_id:int>")
@doc(
    "办件详情（含材料与进度；本部门人员看到申请表中的身份证号、电话原文，每次查看记入审计）",
    tag="cases-staff",
    response=StaffCaseOut,
    errors=(401, 403, 404),
    secured=True,
)
@staff_required(*CASE_STAFF_ROLES)
async def staff_case(request: Request, case_id: int):
    return respond(
        StaffCaseOut,
        await service.get_case(request.ctx.principal, case_id, reveal_with=request.app.ctx.cipher, **_common(request)),
    )


@bp.get("/staff/cases/<case_id:int>/materials/<file_id:int>")
@doc("查看申请材料文件", tag="cases-staff", response=FILE, errors=(401, 403, 404), secured=True)
@staff_required(*CASE_STAFF_ROLES)
async def staff_download(request: Request, case_id: int, file_id: int):
    data, file = await service.read_material(request.ctx.principal, case_id, file_id, storage=request.app.ctx.storage)
    return _file_response(data, file)


@bp.post("/staff/cases/<case_id:int>/materials")
@doc(
    "窗口收材料：本部门窗口人员为已收件、补正中或已受理的办件上传扫描件（multipart：material_id、file；PDF/JPEG/PNG）",
    tag="cases-staff",
    body=MATERIAL_UPLOAD,
    response=MaterialFileOut,
    status=201,
    errors=(400, 401, 403, 404, 409, 413, 415, 422),
    secured=True,
)
@staff_required("clerk")
async def staff_upload(request: Request, case_id: int):
    return await _upload(request, case_id, service.upload_material_at_window)


@bp.post("/staff/cases")
@doc(
    "窗口收件：为现场群众立案并受理",
    tag="cases-staff",
    body=WindowFilingIn,
    response=StaffCaseOut,
    status=201,
    errors=(401, 403, 404, 422),
    secured=True,
)
@staff_required("clerk")
async def file_at_window(request: Request):
    data = parse_body(request, WindowFilingIn)
    case = await service.file_at_window(
        request.ctx.principal,
        matter_id=data.matter_id,
        applicant_name=data.applicant_name,
        id_number=data.id_number,
        form=data.form,
        materials_checked=data.materials_checked,
        hall_id=data.hall_id,
        cipher=request.app.ctx.cipher,
        **_common(request),
    )
    return respond(StaffCaseOut, case, status=201)


@bp.post("/staff/cases/<case_id:int>/transitions")
@doc(
    "办理：受理、补正、不予受理、审查、中止、恢复、准予、不予许可、送达",
    tag="cases-staff",
    body=TransitionIn,
    response=StaffCaseOut,
    errors=(401, 403, 404, 409, 422),
    secured=True,
)
@staff_required(*CASE_STAFF_ROLES)
async def transition(request: Request, case_id: int):
    data = parse_body(request, TransitionIn)
    items = [item.model_dump() for item in data.items] if data.items is not None else None
    return respond(
        StaffCaseOut,
        await service.transition(
            request.ctx.principal,
            case_id,
            data.action,
            version=data.version,
            note=data.note,
            items=items,
            method=data.method,
            tracking_no=data.tracking_no,
            pickup_hall_id=data.pickup_hall_id,
            cipher=request.app.ctx.cipher,
            **_common(request),
        ),
    )
