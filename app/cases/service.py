"""Case rules: drafts and materials, the workflow of app/cases/workflow.py, deadlines and lights, window filing."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F, Q, RawSQL
from tortoise.transactions import in_transaction

from app.audit import service as audit
from app.booking import service as booking
from app.cases import licences
from app.cases.errors import (
    CaseNotFound,
    FileTooLarge,
    MaterialFileNotFound,
    MaterialsClosed,
    MaterialsMissing,
    NotEditable,
    NothingToPay,
    OnlineNotOffered,
    RoleNotAllowed,
    SubmitBeforePaying,
    UnknownMaterial,
    UnsupportedFileType,
)
from app.cases.forms import check_form, keep_unchanged, seal, secrets_of
from app.cases.models import Case, CaseFile, CaseStatus, CaseTimelineEntry, Channel
from app.cases.workflow import (
    ACTIONS,
    AGGREGATE,
    CITIZEN,
    CLOCK_STATES,
    EDITABLE_STATES,
    ENDED_STATES,
    STAFF,
    STAFF_MATERIAL_STATES,
    TABLE,
    actor_kinds,
    next_receipt_no,
    waits_for_payment,
)
from app.catalog import service as catalog
from app.core import outbox, workdays
from app.core.aggregates import days_between, figures_by
from app.core.auth import Principal, limit_rate
from app.core.cache import Cache
from app.core.crypto import FieldCipher
from app.core.db import dialect
from app.core.errors import Forbidden, StaleVersion, ValidationFailed
from app.core.storage import EXTENSIONS, Storage, sniff_content_type
from app.core.timeutil import now as clock_now
from app.core.timeutil import to_iso
from app.core.workflow import Actor, allowed_actions, apply_move, may_make
from app.identity import service as identity
from app.platforms.licences import LicenceService

YELLOW_AT = 0.8  # share of the time from acceptance to deadline after which a case turns yellow
LIGHT_RANK = {"": 0, "green": 0, "yellow": 1, "red": 2}
LINK_TRIES_PER_HOUR = 10
_SAFE_FILE_NAME = re.compile(r"[^\w.\-\u4e00-\u9fff]+")


# ---- reading ----


def light_of(case: Case, at: datetime) -> str | None:
    """green / yellow (80% of the time used) / red (past the deadline); None when no clock runs."""
    if case.status not in CLOCK_STATES or case.accepted_at is None or case.deadline_at is None:
        return None
    # A suspended case's clock stands still: its light is the one it had when suspended.
    moment = case.suspended_at if case.status == CaseStatus.SUSPENDED and case.suspended_at else at
    if moment > case.deadline_at:
        return "red"
    span = case.deadline_at - case.accepted_at
    if moment >= case.accepted_at + span * YELLOW_AT:
        return "yellow"
    return "green"


def _actor_kinds(principal: Principal) -> tuple[str, ...]:
    return actor_kinds(STAFF if principal.is_staff else CITIZEN, principal.roles)


def _timeline_view(entry: CaseTimelineEntry, *, for_staff: bool) -> dict:
    view = {
        "at": to_iso(entry.at),
        "action": entry.action,
        "from": entry.from_status,
        "to": entry.to_status,
        "actor": entry.actor_role,
        "note": entry.note,
    }
    if entry.details:
        view["details"] = entry.details
    if for_staff:
        view["actor_id"] = entry.actor
    return view


def _file_view(file: CaseFile) -> dict:
    return {
        "id": file.id,
        "material_id": file.material_id,
        "content_type": file.content_type,
        "size_bytes": file.size_bytes,
        "sha256": file.sha256,
        "file_name": file.file_name,
        "uploaded_at": to_iso(file.uploaded_at),
    }


async def _guide_of(case: Case, cache: Cache, ttl: int) -> dict:
    return await catalog.get_guide(case.matter_id, case.guide_version, cache=cache, ttl=ttl)


async def _live_files(case_id: int) -> list[CaseFile]:
    return list(await CaseFile.filter(case_id=case_id, removed_at__isnull=True).order_by("id"))


async def case_view(
    case: Case, *, viewer: Principal, cache: Cache, guide_ttl: int, now: datetime | None = None, summary: bool = False
) -> dict:
    """A case as the mini-program (citizen) or the console (staff) shows it."""
    at = now or clock_now()
    for_staff = viewer.is_staff
    guide = await _guide_of(case, cache, guide_ttl)
    view = {
        "id": case.id,
        "matter_id": case.matter_id,
        "matter_name": guide["name"],
        "guide_version": case.guide_version,
        "department_id": case.department_id,
        "department_name": guide["department_name"],
        "channel": case.channel.value,
        "status": case.status.value,
        "version": case.version,
        "receipt_no": case.receipt_no,
        "applicant_name": case.applicant_name,
        "id_number_masked": case.id_number_masked,
        "filed_by_proxy": case.proxy_id is not None,
        "created_at": to_iso(case.created_at),
        "submitted_at": to_iso(case.submitted_at),
        "accepted_at": to_iso(case.accepted_at),
        "deadline": to_iso(case.deadline_at),
        "light": light_of(case, at),
        "clock_paused": case.status == CaseStatus.SUSPENDED,
        "paused_workdays": case.paused_workdays,
        "promised_days": case.promised_days,
        "amount_fen": case.amount_fen,
        "paid": case.paid,
        "ended_at": to_iso(case.ended_at),
        "rated": case.rated,
        # Only the applicant rates (a proxy files and follows, but the service was given to the applicant).
        "can_rate": (
            not viewer.is_staff and viewer.id == case.applicant_id and case.status in RATEABLE_STATES and not case.rated
        ),
        # The viewer may start a payment now: the fee is owed (filed, not paid, not ended) and they are no staff.
        "can_pay": (not viewer.is_staff and case.amount_fen > 0 and not case.paid and case.status in PAYABLE_STATES),
        # What the table allows now, less a move its payment guard would refuse (accept before the fee is paid).
        "allowed_actions": [
            action
            for action in allowed_actions(TABLE, case.status, _actor_kinds(viewer))
            if not waits_for_payment(case, guide, action)
        ],
    }
    if summary:
        return view
    files = await _live_files(case.id)
    by_material: dict[int, list[dict]] = {}
    for file in files:
        by_material.setdefault(file.material_id, []).append(_file_view(file))
    licences_by_material: dict[int, list[dict]] = {}
    # Licences attach only to e_licence materials: a guide without one has nothing to look up.
    has_licences = any(m["e_licence"] for m in guide["materials"])
    for row in await licences.live_licences(case.id) if has_licences else ():
        licences_by_material.setdefault(row.material_id, []).append(licences.attached_view(row))
    timeline = await CaseTimelineEntry.filter(case_id=case.id).order_by("id")
    view.update(
        {
            "form": case.form,
            "form_fields": guide["form_fields"],
            "supplement_items": case.supplement_items,
            "delivery": {"method": case.delivery_method, "tracking_no": case.tracking_no}
            if case.delivery_method
            else None,
            "materials": [
                {
                    "id": m["id"],
                    "name": m["name"],
                    "required": m["required"],
                    "form": m["form"],
                    "e_licence": m["e_licence"],
                    "copies": m.get("copies", 1),
                    "files": by_material.get(m["id"], []),
                    "licences": licences_by_material.get(m["id"], []),
                }
                for m in guide["materials"]
            ],
            "timeline": [_timeline_view(entry, for_staff=for_staff) for entry in timeline],
        }
    )
    if for_staff:
        view.update(
            {
                "applicant_id": case.applicant_id,
                "proxy_id": case.proxy_id,
                "filed_by_staff_id": case.filed_by_staff_id,
                "hall_id": case.hall_id,
                "appointment_id": case.appointment_id,
            }
        )
    return view


# ---- who may see a case ----


async def _visible_to_citizen(case: Case, citizen_id: int) -> bool:
    if case.applicant_id == citizen_id:
        return True
    # A proxy sees the case only while the applicant's grant for this matter still stands.
    return (
        case.proxy_id == citizen_id
        and case.applicant_id is not None
        and await identity.is_proxy_for(citizen_id, case.applicant_id, case.matter_id)
    )


async def _case_for(principal: Principal, case_id: int) -> Case:
    """The case if this principal may see it; otherwise the same 404 as a case that does not exist."""
    case = await Case.get_or_none(id=case_id)
    if case is None:
        raise CaseNotFound()
    if principal.is_staff:
        if not principal.covers_department(case.department_id):
            raise CaseNotFound()
    elif not await _visible_to_citizen(case, principal.id):
        raise CaseNotFound()
    return case


async def get_case(
    principal: Principal,
    case_id: int,
    *,
    cache: Cache,
    guide_ttl: int,
    now: datetime | None = None,
    reveal_with: FieldCipher | None = None,
) -> dict:
    """One case with its materials and timeline (404 unless the caller may see it); reveal_with: the staff case desk,
    where the handling department's staff see the form's personal numbers in clear, each such view audited."""
    case = await _case_for(principal, case_id)
    view = await case_view(case, viewer=principal, cache=cache, guide_ttl=guide_ttl, now=now)
    if reveal_with is not None and _handles(principal, case) and case.form_secrets_encrypted:
        secrets = secrets_of(case.form_secrets_encrypted, cipher=reveal_with)
        view["form"] = {**case.form, **secrets}
        # Who saw whose personal data, and when; the record names the fields, never the numbers themselves.
        await audit.record(
            actor=principal.actor,
            staff_id=principal.id,
            action="case.view_personal_data",
            object_type=AGGREGATE,
            object_id=case.id,
            after={"fields": sorted(secrets)},
        )
    return view


def _handles(principal: Principal, case: Case) -> bool:
    """Staff of the case's own department: a supervisor looking across departments does not handle it."""
    return principal.is_staff and principal.department_id == case.department_id


async def list_for_citizen(
    citizen_id: int, *, status: str | None, offset: int, limit: int, cache: Cache, guide_ttl: int, viewer: Principal
) -> tuple[list[dict], int]:
    """The citizen's cases and those they filed as a proxy while the applicant's grant for that matter stands,
    newest first: one page read from the database (and its count only when the page does not tell it)."""
    visible = Q(applicant_id=citizen_id)
    for principal_id, matter_id in await identity.grants_held(citizen_id):
        visible |= Q(proxy_id=citizen_id, applicant_id=principal_id, matter_id=matter_id)
    query = Case.filter(visible)
    if status:
        query = query.filter(status=status)
    page = list(await query.order_by("-id").offset(offset).limit(limit))
    if len(page) < limit and (page or offset == 0):
        total = offset + len(page)
    else:
        total = await query.count()
    items = [await case_view(case, viewer=viewer, cache=cache, guide_ttl=guide_ttl, summary=True) for case in page]
    return items, total


async def list_for_staff(
    staff: Principal,
    *,
    status: str | None,
    light: str | None,
    department_id: int | None,
    offset: int,
    limit: int,
    cache: Cache,
    guide_ttl: int,
    search: str | None = None,
    now: datetime | None = None,
) -> tuple[list[dict], int, dict[str, int]]:
    """Cases of the staff member's department (every department for supervisors), oldest deadline first.

    Also answers how many running cases of the same scope, status and search show each light.
    """
    at = now or clock_now()
    query = Case.exclude(status=CaseStatus.DRAFT)
    if staff.sees_all_departments:
        if department_id is not None:
            query = query.filter(department_id=department_id)
    else:
        query = query.filter(department_id=staff.department_id)
    if status:
        query = query.filter(status=status)
    if search and search.strip():
        term = search.strip()
        query = query.filter(Q(receipt_no__icontains=term) | Q(applicant_name__icontains=term))
    # Lights are a matter of the clock, not of a column: the running cases are lit in memory (a department's running
    # cases are hundreds, not millions).
    running = list(await query.filter(status__in=list(CLOCK_STATES)).order_by("deadline_at", "id"))
    light_counts = {"green": 0, "yellow": 0, "red": 0}
    for case in running:
        lit = light_of(case, at)
        if lit in light_counts:
            light_counts[lit] += 1
    if light:
        running = [case for case in running if light_of(case, at) == light]
        total = len(running)
        rows = running[offset : offset + limit]
    else:
        total = await query.count()
        # Cases with a deadline first, the most urgent on top; the others (not yet accepted, ended) after them.
        with_deadline = await query.filter(deadline_at__isnull=False).count()
        rows = list(
            await query.filter(deadline_at__isnull=False).order_by("deadline_at", "id").offset(offset).limit(limit)
        )
        if len(rows) < limit:
            rest_offset = max(0, offset - with_deadline)
            rows += list(
                await query.filter(deadline_at__isnull=True).order_by("id").offset(rest_offset).limit(limit - len(rows))
            )
    items = [
        await case_view(case, viewer=staff, cache=cache, guide_ttl=guide_ttl, now=at, summary=True) for case in rows
    ]
    return items, total, light_counts


# ---- drafts, forms and materials ----


async def create_draft(
    principal: Principal,
    *,
    matter_id: int,
    form: dict[str, Any],
    appointment_id: int | None,
    on_behalf_of: int | None,
    idempotency_key: str | None,
    cipher: FieldCipher,
    cache: Cache,
    guide_ttl: int,
) -> dict:
    """A draft for a matter, by the applicant or by a proxy holding the applicant's grant for it; the guide's
    pre-filled fields the form leaves empty get the applicant's own name, ID number and phone."""
    applicant_id = principal.id
    proxy_id = None
    if on_behalf_of is not None and on_behalf_of != principal.id:
        if not await identity.is_proxy_for(principal.id, on_behalf_of, matter_id):
            raise Forbidden("没有该申请人对此事项的有效委托")
        applicant_id, proxy_id = on_behalf_of, principal.id
    else:
        await identity.real_name_identity(principal.id)
    if idempotency_key:
        earlier = await Case.get_or_none(applicant_id=applicant_id, idempotency_key=idempotency_key)
        if earlier is not None:
            return await case_view(earlier, viewer=principal, cache=cache, guide_ttl=guide_ttl)
    applicant = await identity.real_name_identity(applicant_id)
    guide = await catalog.get_guide(matter_id, cache=cache, ttl=guide_ttl)
    if guide["online_depth"] < catalog.ONLINE_DEPTH_MIN:
        raise OnlineNotOffered()
    own = await identity.own_details(applicant_id, cipher=cipher)
    prefilled = {
        field["name"]: own[field["prefill"]]
        for field in guide["form_fields"]
        if field.get("prefill") and own.get(field["prefill"]) and form.get(field["name"]) in (None, "")
    }
    stored, sealed = seal(
        check_form({**form, **prefilled}, guide["form_fields"], complete=False), guide["form_fields"], cipher=cipher
    )
    hall_id = None
    if appointment_id is not None:
        appointment = await booking.get_appointment(citizen_id=principal.id, appointment_id=appointment_id)
        if appointment["matter_id"] != matter_id:
            raise ValidationFailed(
                "预约的事项与申请的事项不同",
                details={"fields": [{"field": "appointment_id", "message": "预约的事项不同"}]},
            )
        hall_id = appointment["hall_id"]
    async with in_transaction() as connection:
        case = await Case.create(
            matter_id=matter_id,
            guide_version=guide["version"],
            department_id=guide["department_id"],
            channel=Channel.ONLINE,
            applicant_id=applicant_id,
            proxy_id=proxy_id,
            applicant_name=applicant["name"],
            id_number_hash=applicant["id_number_hash"],
            id_number_masked=applicant["id_number_masked"],
            hall_id=hall_id,
            appointment_id=appointment_id,
            form=stored,
            form_secrets_encrypted=sealed,
            promised_days=guide["promised_days"],
            amount_fen=guide["amount_fen"],
            idempotency_key=idempotency_key,
            using_db=connection,
        )
        await _record(
            case, action="create", from_status=None, to_status=CaseStatus.DRAFT, actor=principal, connection=connection
        )
    return await case_view(case, viewer=principal, cache=cache, guide_ttl=guide_ttl)


async def update_form(
    principal: Principal,
    case_id: int,
    *,
    form: dict[str, Any],
    version: int | None,
    cipher: FieldCipher,
    cache: Cache,
    guide_ttl: int,
) -> dict:
    """Replace the form of a draft (or of a case sent back for supplements); a masked number sent back as shown
    keeps the number behind it."""
    case = await _editable_case(principal, case_id)
    guide = await _guide_of(case, cache, guide_ttl)
    typed = keep_unchanged(form, case.form, case.form_secrets_encrypted, cipher=cipher)
    stored, sealed = seal(check_form(typed, guide["form_fields"], complete=False), guide["form_fields"], cipher=cipher)
    expected = case.version if version is None else version
    updated = await Case.filter(id=case.id, version=expected, status=case.status).update(
        form=stored, form_secrets_encrypted=sealed, version=F("version") + 1
    )
    if not updated:
        raise StaleVersion()
    return await get_case(principal, case_id, cache=cache, guide_ttl=guide_ttl)


async def _editable_case(principal: Principal, case_id: int) -> Case:
    """The citizen's (or their proxy's) case whose materials may still change: 404 for staff, 409 once sent."""
    case = await _case_for(principal, case_id)
    if principal.is_staff:
        raise CaseNotFound()
    _require_editable(case)
    return case


def _require_editable(case: Case) -> None:
    if case.status not in EDITABLE_STATES:
        raise NotEditable()


def _clean_file_name(name: str, extension: str) -> str:
    stem = _SAFE_FILE_NAME.sub("_", name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip("._")[:60] or "material"
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    return f"{stem}.{extension}"


async def upload_material(
    principal: Principal,
    case_id: int,
    *,
    material_id: int,
    data: bytes,
    file_name: str,
    storage: Storage,
    max_bytes: int,
    cache: Cache,
    guide_ttl: int,
) -> dict:
    """Store one file for one material of the case's guide: PDF, JPEG or PNG by content, within the size limit."""
    case = await _editable_case(principal, case_id)
    return await _store_material(
        principal,
        case,
        material_id=material_id,
        data=data,
        file_name=file_name,
        storage=storage,
        max_bytes=max_bytes,
        cache=cache,
        guide_ttl=guide_ttl,
    )


async def upload_material_at_window(
    clerk: Principal,
    case_id: int,
    *,
    material_id: int,
    data: bytes,
    file_name: str,
    storage: Storage,
    max_bytes: int,
    cache: Cache,
    guide_ttl: int,
) -> dict:
    """A clerk of the case's department stores a file scanned at the window for one material, while the window is
    still taking in materials (submitted, supplement_required, accepted; 409 MATERIALS_CLOSED once review starts).
    Staff who may not see the case get its 404; others of its department, or clerks' peers of other roles, 403.
    The upload is audited (case.upload_material), in the file row's transaction."""
    case = await _case_for(clerk, case_id)
    if not clerk.is_staff or not clerk.has_role("clerk") or clerk.department_id != case.department_id:
        raise RoleNotAllowed("只有本部门的窗口人员能为办件收材料")
    if case.status not in STAFF_MATERIAL_STATES:
        raise MaterialsClosed(details={"status": case.status.value})
    return await _store_material(
        clerk,
        case,
        material_id=material_id,
        data=data,
        file_name=file_name,
        storage=storage,
        max_bytes=max_bytes,
        cache=cache,
        guide_ttl=guide_ttl,
        at_window=True,
    )


async def _store_material(
    principal: Principal,
    case: Case,
    *,
    material_id: int,
    data: bytes,
    file_name: str,
    storage: Storage,
    max_bytes: int,
    cache: Cache,
    guide_ttl: int,
    at_window: bool = False,
) -> dict:
    guide = await _guide_of(case, cache, guide_ttl)
    if material_id not in {m["id"] for m in guide["materials"]}:
        raise UnknownMaterial(details={"fields": [{"field": "material_id", "message": "该事项没有这项材料"}]})
    if len(data) > max_bytes:
        raise FileTooLarge(f"文件不能超过 {max_bytes // (1024 * 1024) or 1} MB", details={"max_bytes": max_bytes})
    content_type = sniff_content_type(data)
    if content_type is None:
        raise UnsupportedFileType()
    extension = EXTENSIONS[content_type]
    key = f"cases/{case.id}/{uuid.uuid4().hex}.{extension}"
    await storage.put(key, data, content_type)
    try:
        async with in_transaction() as connection:
            status = case.status
            if at_window:
                # The window's scan lands only while the case still takes materials: re-read under a row lock
                # (PostgreSQL), so a move to review waits for this upload or this upload sees the move.
                locked = await Case.select_for_update().using_db(connection).get(id=case.id)
                status = locked.status
                if status not in STAFF_MATERIAL_STATES:
                    raise MaterialsClosed(details={"status": status.value})
            file = await CaseFile.create(
                case_id=case.id,
                material_id=material_id,
                storage_key=key,
                content_type=content_type,
                size_bytes=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                file_name=_clean_file_name(file_name, extension),
                uploaded_by=principal.actor,
                using_db=connection,
            )
            if at_window:
                await audit.record(
                    actor=principal.actor,
                    staff_id=principal.id,
                    action="case.upload_material",
                    object_type=AGGREGATE,
                    object_id=case.id,
                    after={
                        "file_id": file.id,
                        "material_id": material_id,
                        "content_type": content_type,
                        "size_bytes": len(data),
                        "sha256": file.sha256,
                        "status": status.value,
                    },
                    connection=connection,
                )
    except BaseException:
        await storage.delete(key)  # no orphan file when the row could not be written
        raise
    return _file_view(file)


async def attach_licence(
    principal: Principal,
    case_id: int,
    *,
    material_id: int,
    cipher: FieldCipher,
    licence_service: LicenceService,
    cache: Cache,
    guide_ttl: int,
) -> dict:
    """Choose the applicant's electronic licence for a material marked e_licence, instead of uploading it."""
    case = await _editable_case(principal, case_id)
    guide = await _guide_of(case, cache, guide_ttl)
    return await licences.attach(
        principal, case, guide, material_id=material_id, cipher=cipher, licences=licence_service
    )


async def remove_licence(principal: Principal, case_id: int, licence_id: int) -> None:
    """Take back a chosen licence while the case is still editable."""
    case = await _editable_case(principal, case_id)
    await licences.detach(case, licence_id)


async def remove_material(principal: Principal, case_id: int, file_id: int) -> None:
    """Take back an uploaded file while the case is still editable (the stored bytes stay for the record)."""
    case = await _editable_case(principal, case_id)
    removed = await CaseFile.filter(id=file_id, case_id=case.id, removed_at__isnull=True).update(removed_at=clock_now())
    if not removed:
        raise MaterialFileNotFound()


async def read_material(principal: Principal, case_id: int, file_id: int, *, storage: Storage) -> tuple[bytes, dict]:
    """The bytes of an uploaded file, for the applicant, their proxy and the handling department only."""
    case = await _case_for(principal, case_id)
    file = await CaseFile.get_or_none(id=file_id, case_id=case.id)
    if file is None or (file.removed_at is not None and not principal.is_staff):
        raise MaterialFileNotFound()
    return await storage.get(file.storage_key), _file_view(file)


# ---- the workflow ----


def _actor_label(principal: Principal, case: Case) -> str:
    if not principal.is_staff:
        return "proxy" if case.proxy_id == principal.id and case.applicant_id != principal.id else "applicant"
    for role in ("clerk", "approver"):
        if role in principal.roles:
            return role
    return principal.roles[0] if principal.roles else "staff"


async def _record(
    case: Case,
    *,
    action: str,
    from_status: CaseStatus | None,
    to_status: CaseStatus,
    actor: Principal,
    connection,
    note: str = "",
    details: dict | None = None,
    event_payload: dict | None = None,
) -> None:
    """The timeline entry and the outbox event of a case's making (draft, window filing): no move of the table."""
    await CaseTimelineEntry.create(
        case_id=case.id,
        action=action,
        from_status=from_status.value if from_status else None,
        to_status=to_status.value,
        actor=actor.actor,
        actor_role=_actor_label(actor, case),
        note=note,
        details=details or {},
        using_db=connection,
    )
    payload = {
        "case_id": case.id,
        "matter_id": case.matter_id,
        "receipt_no": case.receipt_no,
        "action": action,
        "from": from_status.value if from_status else None,
        "to": to_status.value,
        "note": note,
        **(event_payload or {}),
    }
    await outbox.emit(
        f"case.{to_status.value}" if action != "create" else "case.created",
        aggregate_type=AGGREGATE,
        aggregate_id=case.id,
        connection=connection,
        payload=payload,
        citizen_id=case.applicant_id,
        department_id=case.department_id,
    )


async def transition(
    principal: Principal,
    case_id: int,
    action: str,
    *,
    version: int | None,
    note: str = "",
    items: list[dict] | None = None,
    method: str | None = None,
    tracking_no: str | None = None,
    pickup_hall_id: int | None = None,
    cipher: FieldCipher | None = None,
    cache: Cache,
    guide_ttl: int,
    now: datetime | None = None,
) -> dict:
    """Make one move of the table, whole or not at all: role, state, version, timeline and event together (cipher:
    to check a submitted form's personal numbers)."""
    at = now or clock_now()
    case = await _case_for(principal, case_id)
    if action not in ACTIONS:
        raise ValidationFailed(details={"fields": [{"field": "action", "message": f"未知操作 {action}"}]})
    if not may_make(TABLE, action, _actor_kinds(principal)):
        raise RoleNotAllowed()
    if principal.is_staff and principal.department_id != case.department_id:
        raise RoleNotAllowed("只能办理本部门的办件")
    guide = await _guide_of(case, cache, guide_ttl)
    await workdays.ensure_overrides_fresh()
    actor = Actor.of(principal, _actor_kinds(principal), role=_actor_label(principal, case))
    await apply_move(
        TABLE,
        case,
        action,
        actor=actor,
        at=at,
        note=note,
        expected_version=version,
        inputs={
            "guide": guide,
            "items": items,
            "method": method,
            "tracking_no": tracking_no,
            "pickup_hall_id": pickup_hall_id,
            "cipher": cipher,
        },
    )
    return await get_case(principal, case_id, cache=cache, guide_ttl=guide_ttl, now=at)


# ---- window filing and linking ----


async def file_at_window(
    clerk: Principal,
    *,
    matter_id: int,
    applicant_name: str,
    id_number: str,
    form: dict[str, Any],
    materials_checked: list[int],
    hall_id: int | None,
    cipher: FieldCipher,
    cache: Cache,
    guide_ttl: int,
    now: datetime | None = None,
) -> dict:
    """A clerk files and accepts a walk-in citizen's case after checking the paper materials at the window."""
    at = now or clock_now()
    if not clerk.has_role("clerk"):
        raise RoleNotAllowed()
    guide = await catalog.get_guide(matter_id, cache=cache, ttl=guide_ttl)
    if clerk.department_id != guide["department_id"]:
        raise RoleNotAllowed("只能受理本部门的事项")
    applicant = identity.describe_id_number(id_number, cipher=cipher)
    stored, sealed = seal(check_form(form, guide["form_fields"], complete=True), guide["form_fields"], cipher=cipher)
    material_ids = {m["id"] for m in guide["materials"]}
    unknown = [m for m in materials_checked if m not in material_ids]
    if unknown:
        raise UnknownMaterial(details={"fields": [{"field": "materials_checked", "message": f"未知材料 {unknown}"}]})
    missing = [
        {"id": m["id"], "name": m["name"], "reason": "required"}
        for m in guide["materials"]
        if m["required"] and m["id"] not in set(materials_checked)
    ]
    if missing:
        raise MaterialsMissing(details={"missing": [m["id"] for m in missing], "materials": missing})
    await workdays.ensure_overrides_fresh()
    async with in_transaction() as connection:
        receipt_no = await next_receipt_no(guide["department_id"], workdays.local_date(at), connection)
        deadline = workdays.deadline_after(at, guide["promised_days"])
        case = await Case.create(
            matter_id=matter_id,
            guide_version=guide["version"],
            department_id=guide["department_id"],
            channel=Channel.WINDOW,
            applicant_name=applicant_name,
            **applicant,
            filed_by_staff_id=clerk.id,
            hall_id=hall_id,
            form=stored,
            form_secrets_encrypted=sealed,
            promised_days=guide["promised_days"],
            amount_fen=guide["amount_fen"],
            status=CaseStatus.ACCEPTED,
            version=2,
            receipt_no=receipt_no,
            submitted_at=at,
            accepted_at=at,
            deadline_at=deadline,
            using_db=connection,
        )
        checked = [
            {"material_id": m["id"], "material_name": m["name"]}
            for m in guide["materials"]
            if m["id"] in set(materials_checked)
        ]
        await _record(
            case,
            action="file_at_window",
            from_status=None,
            to_status=CaseStatus.SUBMITTED,
            actor=clerk,
            connection=connection,
            details={"materials_checked": checked},
            event_payload={"matter_name": guide["name"]},
        )
        await _record(
            case,
            action="accept",
            from_status=CaseStatus.SUBMITTED,
            to_status=CaseStatus.ACCEPTED,
            actor=clerk,
            connection=connection,
            details={"receipt_no": receipt_no},
            event_payload={"matter_name": guide["name"], "receipt_no": receipt_no, "deadline": to_iso(deadline)},
        )
        await audit.record(
            actor=clerk.actor,
            staff_id=clerk.id,
            action="case.file_at_window",
            object_type=AGGREGATE,
            object_id=case.id,
            after={"receipt_no": receipt_no},
            connection=connection,
        )
    return await case_view(case, viewer=clerk, cache=cache, guide_ttl=guide_ttl, now=at)


async def link_case(
    principal: Principal, *, receipt_no: str, id_number: str, cipher: FieldCipher, cache: Cache, guide_ttl: int
) -> dict:
    """Attach a window-filed case to the citizen whose real-name ID it was filed under (404 for any wrong pair)."""
    # Guessing receipt numbers against ID numbers must be slow: a few tries an hour per citizen.
    await limit_rate(cache, f"case-link:{principal.id}", LINK_TRIES_PER_HOUR, 3600)
    me = await identity.real_name_identity(principal.id)
    try:
        typed = identity.describe_id_number(id_number, cipher=cipher)["id_number_hash"]
    except ValidationFailed:
        raise CaseNotFound() from None
    case = await Case.get_or_none(receipt_no=receipt_no.strip())
    if (
        case is None
        or case.id_number_hash != typed
        or me["id_number_hash"] != typed
        or case.applicant_id not in (None, principal.id)
    ):
        raise CaseNotFound()
    if case.applicant_id is None:
        async with in_transaction() as connection:
            linked = (
                await Case.filter(id=case.id, applicant_id__isnull=True)
                .using_db(connection)
                .update(applicant_id=principal.id)
            )
            if linked:
                await CaseTimelineEntry.create(
                    case_id=case.id,
                    action="link",
                    from_status=case.status.value,
                    to_status=case.status.value,
                    actor=principal.actor,
                    actor_role="applicant",
                    using_db=connection,
                )
        case = await Case.get(id=case.id)
        if case.applicant_id != principal.id:
            raise CaseNotFound()
    return await case_view(case, viewer=principal, cache=cache, guide_ttl=guide_ttl)


# ---- deadline lights (the worker's job) ----


async def announce_lights(*, now: datetime | None = None) -> int:
    """Emit case.deadline_warning (yellow) and case.overdue (red) once per case and level; returns how many."""
    at = now or clock_now()
    await workdays.ensure_overrides_fresh()
    announced = 0
    running = await Case.filter(
        status__in=[CaseStatus.ACCEPTED, CaseStatus.IN_REVIEW], deadline_at__isnull=False
    ).exclude(light_announced="red")
    for case in running:
        light = light_of(case, at)
        if light is None or LIGHT_RANK[light] <= LIGHT_RANK[case.light_announced]:
            continue
        async with in_transaction() as connection:
            # Conditional on the level we read: another worker announcing the same level changes nothing here.
            won = (
                await Case.filter(id=case.id, light_announced=case.light_announced)
                .using_db(connection)
                .update(light_announced=light)
            )
            if not won:
                continue
            kind = "case.overdue" if light == "red" else "case.deadline_warning"
            await outbox.emit(
                kind,
                aggregate_type=AGGREGATE,
                aggregate_id=case.id,
                connection=connection,
                citizen_id=case.applicant_id,
                department_id=case.department_id,
                payload={
                    "case_id": case.id,
                    "matter_id": case.matter_id,
                    "light": light,
                    "receipt_no": case.receipt_no,
                    "deadline": to_iso(case.deadline_at),
                    "status": case.status.value,
                },
            )
        announced += 1
    return announced


# ---- what payments need to know ----

PAYABLE_STATES = frozenset(
    {
        CaseStatus.SUBMITTED,
        CaseStatus.SUPPLEMENT_REQUIRED,
        CaseStatus.ACCEPTED,
        CaseStatus.IN_REVIEW,
        CaseStatus.SUSPENDED,
        CaseStatus.APPROVED,
    }
)


async def payment_facts(principal: Principal, case_id: int, *, cache: Cache, guide_ttl: int) -> dict:
    """What a payment for this case needs (404 unless the caller may see it; 409 when nothing is due)."""
    case = await _case_for(principal, case_id)
    if case.amount_fen > 0 and not case.paid and case.status == CaseStatus.DRAFT:
        # The fee is owed once the case is filed: a draft may still change or be dropped.
        raise SubmitBeforePaying(details={"amount_fen": case.amount_fen, "status": case.status.value})
    if case.amount_fen <= 0 or case.paid or case.status not in PAYABLE_STATES:
        raise NothingToPay(details={"amount_fen": case.amount_fen, "paid": case.paid, "status": case.status.value})
    guide = await _guide_of(case, cache, guide_ttl)
    return {
        "case_id": case.id,
        "amount_fen": case.amount_fen,
        "matter_name": guide["name"],
        "applicant_id": case.applicant_id,
        "department_id": case.department_id,
    }


async def mark_paid(case_id: int, *, connection, paid: bool = True) -> None:
    """Record, inside the payment's (or full refund's) transaction, whether the case's fee is paid."""
    await Case.filter(id=case_id).using_db(connection).update(paid=paid)


REFUND_STATES = frozenset({CaseStatus.DENIED, CaseStatus.WITHDRAWN, CaseStatus.REJECTED})


async def refund_verdicts(case_ids: list[int], *, cache: Cache, guide_ttl: int) -> dict[int, bool | None]:
    """Per case: True when it ended so that its fee goes back in full (denied or withdrawn, where the matter says
    so), False when it ended keeping the fee, None while it runs."""
    verdicts: dict[int, bool | None] = {}
    for case in await Case.filter(id__in=case_ids):
        if case.status not in ENDED_STATES:
            verdicts[case.id] = None
        elif case.status in REFUND_STATES:
            verdicts[case.id] = bool((await _guide_of(case, cache, guide_ttl)).get("refund_on_denial"))
        else:
            verdicts[case.id] = False
    return verdicts


# ---- what ratings and feedback need to know ----

# A case the citizen may rate: it ended with a decision or a result (not withdrawn: no service was given).
RATEABLE_STATES = frozenset({CaseStatus.REJECTED, CaseStatus.APPROVED, CaseStatus.DENIED, CaseStatus.DELIVERED})


def _facts(case: Case) -> dict:
    return {
        "case_id": case.id,
        "department_id": case.department_id,
        "matter_id": case.matter_id,
        "hall_id": case.hall_id,
        "status": case.status.value,
        "ended_at": case.ended_at,
        "rateable": case.status in RATEABLE_STATES,
        "rated": case.rated,
        "applicant_id": case.applicant_id,
        "receipt_no": case.receipt_no,
    }


async def service_facts(principal: Principal, case_id: int) -> dict:
    """Where and how a case was served (404 unless the caller may see it): for its rating or feedback."""
    return _facts(await _case_for(principal, case_id))


async def mark_rated(case_id: int, *, connection) -> bool:
    """Record, inside the rating's transaction, that the case has its rating; False when it already had one."""
    return bool(await Case.filter(id=case_id, rated=False).using_db(connection).update(rated=True))


async def unrated_ended_cases(*, ended_before: datetime, limit: int) -> list[dict]:
    """Rateable cases that ended before this time and have no rating yet, earliest first."""
    rows = (
        await Case.filter(rated=False, ended_at__lte=ended_before, status__in=list(RATEABLE_STATES))
        .order_by("ended_at", "id")
        .limit(limit)
    )
    return [_facts(case) for case in rows]


# ---- figures for the published statistics ----

DECIDED_STATES = (CaseStatus.APPROVED, CaseStatus.DENIED, CaseStatus.DELIVERED)


async def figures(
    *,
    key: str,
    start: datetime,
    end: datetime,
    only: int | list[int] | None = None,
    now: datetime | None = None,
    connection: BaseDBAsyncClient | None = None,
) -> dict[int, dict]:
    """Per department_id, hall_id or matter_id (or only some): cases decided in [start, end), their days from
    acceptance to decision, how many were decided by their deadline, and how many are overdue now (read on
    connection: None, the primary)."""
    at = now or clock_now()
    decided = Case.filter(
        ended_at__gte=start, ended_at__lt=end, accepted_at__isnull=False, status__in=list(DECIDED_STATES)
    ).using_db(connection)
    found = await figures_by(
        key,
        decided,
        {
            "cases_decided": None,
            "cases_on_time": Q(ended_at__lte=F("deadline_at")),
            "cases_days_total": RawSQL(f"SUM({days_between('accepted_at', 'ended_at', dialect())})"),
        },
        only=only,
    )
    # Red now, whatever the period: a suspended case's clock stands still, so it is not counted.
    overdue = Case.filter(status__in=[CaseStatus.ACCEPTED, CaseStatus.IN_REVIEW], deadline_at__lt=at).using_db(
        connection
    )
    for group, counts in (await figures_by(key, overdue, {"cases_overdue_now": None}, only=only)).items():
        found.setdefault(group, {}).update(counts)
    return found


async def reseal_personal_data(*, cipher: FieldCipher) -> dict[str, int]:
    """Reseal cases' ID numbers, form secrets and licence numbers under the current key (rows changed per table)."""
    from app.cases.forms import SECRETS_CONTEXT
    from app.cases.models import CaseLicence
    from app.core.sealing import reseal_rows

    columns = {"id_number_encrypted": identity.ID_NUMBER, "form_secrets_encrypted": SECRETS_CONTEXT}
    return {
        "case": await reseal_rows(Case, columns, cipher=cipher),
        "case_licence": await reseal_rows(CaseLicence, {"licence_no_encrypted": licences.LICENCE_NO}, cipher=cipher),
    }


async def accepted_and_decided(
    *, start: datetime, end: datetime, department_id: int | None = None, connection: BaseDBAsyncClient | None = None
) -> list[dict]:
    """The moments of the cases accepted or decided in [start, end) (of one department or all): acceptance, decision
    (decided ones only) and deadline, for the supervisors' weekly series (read on connection: None, the primary)."""
    query = Case.filter(accepted_at__isnull=False).filter(
        Q(accepted_at__gte=start, accepted_at__lt=end)
        | Q(ended_at__gte=start, ended_at__lt=end, status__in=list(DECIDED_STATES))
    )
    if department_id is not None:
        query = query.filter(department_id=department_id)
    rows = await query.using_db(connection).values("accepted_at", "ended_at", "deadline_at", "status")
    decided = {state.value for state in DECIDED_STATES}
    return [
        {
            "accepted_at": row["accepted_at"],
            "decided_at": row["ended_at"] if str(getattr(row["status"], "value", row["status"])) in decided else None,
            "deadline_at": row["deadline_at"],
        }
        for row in rows
    ]
