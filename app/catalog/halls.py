"""Halls and their windows as a department admin (or an admin) keeps them: scoped to the department that runs the
hall, audited, and never closing a window someone is served at or waiting for, nor removing a hall with
appointments still to come. Separate from service.py because it asks booking (which reads the catalogue) what a
hall has going on."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from app.audit import service as audit
from app.booking import service as booking
from app.catalog.errors import (
    HallCodeTaken,
    HallInUse,
    HallNotFound,
    UnknownReference,
    WindowBusy,
    WindowNotFound,
    WindowNumberTaken,
)
from app.catalog.models import Department, Hall, HallWindow, Matter
from app.catalog.schemas import HallIn, WindowIn
from app.catalog.service import hall_view, window_view, windows_by_hall
from app.core.auth import Principal
from app.core.cache import Cache
from app.core.errors import Forbidden

HALLS_KEY = "catalog:halls"


def _hall_record(hall: Hall) -> dict:
    return {
        "code": hall.code,
        "name": hall.name,
        "district": hall.district,
        "address": hall.address,
        "opening_hours": hall.opening_hours,
        "opening_periods": hall.opening_periods,
        "phone": hall.phone,
        "department_id": hall.department_id,
    }


async def _audit(actor: Principal, action: str, object_type: str, object_id, *, before=None, after=None, connection):
    await audit.record(
        actor=actor.actor,
        staff_id=actor.id if actor.is_staff else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        before=before,
        after=after,
        connection=connection,
    )


async def _own_hall(hall_id: int, actor: Principal, connection=None) -> Hall:
    """The hall, when the actor runs it (its department's admin, or an admin); else 404 as if it did not exist."""
    query = Hall.filter(id=hall_id)
    if connection is not None:
        query = query.select_for_update().using_db(connection)
    hall = await query.first()
    if hall is None or not (actor.sees_all_departments or actor.covers_department(hall.department_id)):
        raise HallNotFound()
    return hall


def _department_for(actor: Principal, wanted: int | None) -> int | None:
    """The department a hall is written for: a department admin's own (another is 403), an admin's choice."""
    if actor.sees_all_departments:
        return wanted
    if wanted is not None and wanted != actor.department_id:
        raise Forbidden("只能管理本部门的大厅")
    return actor.department_id


async def _check_department(department_id: int | None, field: str = "department_id") -> None:
    if department_id is not None and not await Department.exists(id=department_id):
        raise UnknownReference(details={"fields": [{"field": field, "message": "部门不存在"}]})


async def list_admin_halls(*, actor: Principal) -> list[dict]:
    """The halls this staff member keeps (an admin: every hall), with their windows."""
    query = Hall.all()
    if not actor.sees_all_departments:
        query = query.filter(department_id=actor.department_id)
    halls = await query.order_by("id")
    windows = await windows_by_hall([h.id for h in halls])
    return [hall_view(h, windows.get(h.id)) for h in halls]


async def _hall_answer(hall: Hall) -> dict:
    return hall_view(hall, await HallWindow.filter(hall_id=hall.id).order_by("number"))


async def create_hall(data: HallIn, *, actor: Principal, cache: Cache) -> dict:
    """A new hall, run by the actor's department (an admin names one, or none: the city's)."""
    department_id = _department_for(actor, data.department_id)
    await _check_department(department_id)
    if await Hall.exists(code=data.code):
        raise HallCodeTaken()
    async with in_transaction() as connection:
        hall = await Hall.create(
            code=data.code,
            name=data.name,
            district=data.district,
            address=data.address,
            opening_hours=data.opening_hours,
            opening_periods=[p.model_dump() for p in data.opening_periods] or None,
            phone=data.phone,
            windows=0,
            department_id=department_id,
            using_db=connection,
        )
        await _audit(actor, "hall.create", "hall", hall.id, after=_hall_record(hall), connection=connection)
    await cache.delete(HALLS_KEY)
    return await _hall_answer(hall)


async def update_hall(hall_id: int, data: HallIn, *, actor: Principal, cache: Cache) -> dict:
    """Change a hall's name, address, hours ... (a department admin keeps it in their department)."""
    await _own_hall(hall_id, actor)
    department_id = _department_for(actor, data.department_id)
    await _check_department(department_id)
    if await Hall.filter(code=data.code).exclude(id=hall_id).exists():
        raise HallCodeTaken()
    async with in_transaction() as connection:
        hall = await _own_hall(hall_id, actor, connection)
        before = _hall_record(hall)
        hall.code = data.code
        hall.name = data.name
        hall.district = data.district
        hall.address = data.address
        hall.opening_hours = data.opening_hours
        hall.opening_periods = [p.model_dump() for p in data.opening_periods] or None
        hall.phone = data.phone
        hall.department_id = department_id
        await hall.save(using_db=connection)
        await _audit(
            actor, "hall.update", "hall", hall.id, before=before, after=_hall_record(hall), connection=connection
        )
    await cache.delete(HALLS_KEY)
    return await _hall_answer(hall)


async def delete_hall(hall_id: int, *, actor: Principal, cache: Cache) -> dict:
    """Remove a hall nothing uses any more: appointments to come, a queue today, schedules or matters naming it are
    409 HALL_IN_USE, saying which."""
    hall = await _own_hall(hall_id, actor)
    activity = await booking.hall_activity(hall_id)
    matters = await Matter.filter(halls__id=hall_id).count()
    reasons = []
    if activity["future_appointments"]:
        reasons.append(f"还有 {activity['future_appointments']} 个未办结的预约")
    if activity["waiting"] or activity["serving"]:
        reasons.append("今天还有人排队或正在办理")
    if activity["schedules"]:
        reasons.append(f"还有 {activity['schedules']} 个放号中的排班")
    if matters:
        reasons.append(f"还有 {matters} 个事项的指南列出了此大厅")
    if reasons:
        raise HallInUse(
            f"不能删除大厅：{'；'.join(reasons)}",
            details={**activity, "matters": matters},
        )
    answer = await _hall_answer(hall)
    async with in_transaction() as connection:
        await HallWindow.filter(hall_id=hall_id).using_db(connection).delete()
        await Hall.filter(id=hall_id).using_db(connection).delete()
        await _audit(actor, "hall.delete", "hall", hall_id, before=_hall_record(hall), connection=connection)
    await cache.delete(HALLS_KEY)
    return answer


async def _check_window_refs(data: WindowIn) -> None:
    await _check_department(data.department_id)
    if data.matter_ids:
        found = set(await Matter.filter(id__in=data.matter_ids).values_list("id", flat=True))
        missing = sorted(set(data.matter_ids) - found)
        if missing:
            raise UnknownReference(details={"fields": [{"field": "matter_ids", "message": f"事项不存在: {missing}"}]})


def _window_record(window: HallWindow) -> dict:
    view = window_view(window)
    view.pop("id")
    return view


async def _sync_count(hall_id: int, connection) -> None:
    count = await HallWindow.filter(hall_id=hall_id).using_db(connection).count()
    await Hall.filter(id=hall_id).using_db(connection).update(windows=count)


async def _refuse_if_busy(hall_id: int, window: HallWindow, *, doing: str) -> None:
    """A window someone is served at, or the hall's last open one while numbers wait, stays open: 409 WINDOW_BUSY."""
    if not window.open:
        return
    activity = await booking.hall_activity(hall_id, window=window.number)
    if activity["serving"]:
        raise WindowBusy(
            f"{window.number} 号窗口正在办理叫到的号，办结或过号后才能{doing}",
            details={"window": window.number, "serving": activity["serving"], "waiting": activity["waiting"]},
        )
    others_open = await HallWindow.filter(hall_id=hall_id, open=True).exclude(id=window.id).count()
    if activity["waiting"] and not others_open:
        raise WindowBusy(
            f"还有 {activity['waiting']} 人在排队，{window.number} 号是大厅最后一个开放的窗口，不能{doing}",
            details={"window": window.number, "serving": 0, "waiting": activity["waiting"]},
        )
    # Windows call only what they serve: numbers no other open window would call are waiting for this one.
    only_here = await booking.waiting_only_for(hall_id, window.number) if activity["waiting"] else 0
    if only_here:
        raise WindowBusy(
            f"还有 {only_here} 人在等只有 {window.number} 号窗口能办的事项，不能{doing}",
            details={"window": window.number, "serving": 0, "waiting": only_here},
        )


async def create_window(hall_id: int, data: WindowIn, *, actor: Principal, cache: Cache) -> dict:
    """Add a window to a hall the actor runs."""
    await _own_hall(hall_id, actor)
    await _check_window_refs(data)
    async with in_transaction() as connection:
        await _own_hall(hall_id, actor, connection)
        if await HallWindow.filter(hall_id=hall_id, number=data.number).using_db(connection).exists():
            raise WindowNumberTaken()
        window = await HallWindow.create(hall_id=hall_id, **data.model_dump(), using_db=connection)
        await _sync_count(hall_id, connection)
        await _audit(
            actor, "hall_window.create", "hall_window", window.id, after=_window_record(window), connection=connection
        )
    await cache.delete(HALLS_KEY)
    return window_view(window)


async def _own_window(hall_id: int, window_id: int, actor: Principal) -> HallWindow:
    await _own_hall(hall_id, actor)
    window = await HallWindow.get_or_none(id=window_id, hall_id=hall_id)
    if window is None:
        raise WindowNotFound()
    return window


async def update_window(hall_id: int, window_id: int, data: WindowIn, *, actor: Principal, cache: Cache) -> dict:
    """Change a window (number, name, whom it serves); closing one that is busy is 409 WINDOW_BUSY."""
    window = await _own_window(hall_id, window_id, actor)
    await _check_window_refs(data)
    if not data.open or data.number != window.number:
        await _refuse_if_busy(hall_id, window, doing="关闭或改号")
    async with in_transaction() as connection:
        await _own_hall(hall_id, actor, connection)
        if (
            data.number != window.number
            and await HallWindow.filter(hall_id=hall_id, number=data.number).using_db(connection).exists()
        ):
            raise WindowNumberTaken()
        before = _window_record(window)
        for key, value in data.model_dump().items():
            setattr(window, key, value)
        await window.save(using_db=connection)
        await _audit(
            actor,
            "hall_window.update",
            "hall_window",
            window.id,
            before=before,
            after=_window_record(window),
            connection=connection,
        )
    await cache.delete(HALLS_KEY)
    return window_view(window)


async def delete_window(hall_id: int, window_id: int, *, actor: Principal, cache: Cache) -> dict:
    """Remove a window; one that is busy is 409 WINDOW_BUSY."""
    window = await _own_window(hall_id, window_id, actor)
    await _refuse_if_busy(hall_id, window, doing="删除")
    async with in_transaction() as connection:
        await _own_hall(hall_id, actor, connection)
        await HallWindow.filter(id=window.id).using_db(connection).delete()
        await _sync_count(hall_id, connection)
        await _audit(
            actor, "hall_window.delete", "hall_window", window.id, before=_window_record(window), connection=connection
        )
    await cache.delete(HALLS_KEY)
    return window_view(window)
