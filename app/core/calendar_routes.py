"""Working-day calendar HTTP: anyone asks whether a date is a working day; admins keep the overrides."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool
from sanic import Blueprint, Request

from app.core import calendar as service
from app.core.auth import staff_required
from app.core.errors import ValidationFailed
from app.core.http import parse_body, parse_query, respond
from app.core.openapi import doc

bp = Blueprint("calendar", url_prefix="/api/v1")


class CalendarDayIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    is_workday: StrictBool
    note: str = Field("", max_length=64)


class CalendarDayOut(BaseModel):
    date: str
    is_workday: bool
    note: str
    source: str


class StatutoryDayOut(BaseModel):
    date: str
    is_workday: bool
    kind: Literal["holiday", "makeup"] = Field(description="holiday: a statutory rest day; makeup: 调休上班")
    name: str = Field(description="the holiday, in Chinese (国庆节)")


class CalendarQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    year: int = Field(ge=2004, le=2100)


def _date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(details={"fields": [{"field": "date", "message": "日期格式应为 YYYY-MM-DD"}]}) from None


@bp.get("/calendar/<day:str>")
@doc(
    "某日是否为工作日（管理员日历 > 法定节假日数据 > 周一至周五）",
    tag="booking",
    response=CalendarDayOut,
    errors=(422,),
)
async def calendar_day(request: Request, day: str):
    return respond(CalendarDayOut, await service.calendar_day(_date(day)))


@bp.get("/admin/calendar")
@doc(
    "管理员维护的工作日日历（某年）",
    tag="booking-admin",
    response=list[CalendarDayOut],
    errors=(401, 403, 422),
    secured=True,
    query=CalendarQuery,
)
@staff_required("admin")
async def calendar(request: Request):
    query = parse_query(request, CalendarQuery)
    return respond(list[CalendarDayOut], await service.list_calendar(query.year))


@bp.get("/admin/calendar/statutory")
@doc(
    "某年的法定节假日与调休上班日（国家公布的数据，不含管理员设定）",
    tag="booking-admin",
    response=list[StatutoryDayOut],
    errors=(401, 403, 422),
    secured=True,
    query=CalendarQuery,
)
@staff_required("admin")
async def statutory_days(request: Request):
    query = parse_query(request, CalendarQuery)
    return respond(list[StatutoryDayOut], service.statutory_days(query.year))


@bp.put("/admin/calendar/<day:str>")
@doc(
    "设定某日为工作日或休息日（覆盖法定节假日数据）",
    tag="booking-admin",
    body=CalendarDayIn,
    response=CalendarDayOut,
    errors=(400, 401, 403, 422),
    secured=True,
)
@staff_required("admin")
async def set_calendar_day(request: Request, day: str):
    data = parse_body(request, CalendarDayIn)
    return respond(
        CalendarDayOut,
        await service.set_calendar_day(
            _date(day), is_workday=data.is_workday, note=data.note, actor=request.ctx.principal
        ),
    )


@bp.delete("/admin/calendar/<day:str>")
@doc("删除某日的管理员设定", tag="booking-admin", response=CalendarDayOut, errors=(401, 403, 422), secured=True)
@staff_required("admin")
async def delete_calendar_day(request: Request, day: str):
    return respond(CalendarDayOut, await service.delete_calendar_day(_date(day), actor=request.ctx.principal))
