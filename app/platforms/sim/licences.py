"""The simulated licence-sharing gateway: checks the app key and signature, answers a holder's licences.

Every holder whose name and ID number are given holds a resident ID card and a household register (issued by the
city's public security bureau); test persons registered at /sim/licences/holders hold what they are given there
(a business licence, a marriage certificate, an expired ID card ...).
"""

from __future__ import annotations

import hmac
import json as jsonlib
import time

from pydantic import BaseModel, ConfigDict, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from app.core.cache import get_json, set_json
from app.core.http import parse_body
from app.core.openapi import doc
from app.platforms.licences import LICENCE_TYPES, signature
from app.platforms.sim.faults import TAG, platform_fault

HOLDER_TTL_SECONDS = 30 * 86400
TIMESTAMP_SKEW_SECONDS = 300
ID_NUMBER = r"^[0-9]{17}[0-9X]$"


class QueryIn(BaseModel):
    """What the gateway takes (documentation only: the handler answers bad input the way the gateway does)."""

    holder_id_number: str
    holder_name: str


class LicenceOut(BaseModel):
    licence_type: str
    licence_no: str
    name: str
    issuer: str
    holder_name: str
    valid_from: str
    valid_until: str | None


class QueryOut(BaseModel):
    code: str
    message: str | None = None
    licences: list[LicenceOut] | None = None


class HeldLicenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    licence_type: str = Field(pattern="^(" + "|".join(LICENCE_TYPES) + ")$")
    valid_until: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="null: long-term")


class HolderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id_number: str = Field(pattern=ID_NUMBER)
    name: str = Field(min_length=1, max_length=64)
    licences: list[HeldLicenceIn] = Field(max_length=10)


def _holder_key(id_number: str) -> str:
    return f"sim:licences:holder:{id_number}"


def _licence(licence_type: str, id_number: str, name: str, valid_until: str | None) -> dict:
    title, _ = LICENCE_TYPES[licence_type]
    numbers = {
        "id_card": id_number,
        "household_register": f"HJ{id_number[:6]}{id_number[-6:]}",
        "business_licence": f"91{id_number[:6]}MA{id_number[-8:]}",
        "marriage_certificate": f"J{id_number[:6]}-{id_number[6:10]}-{id_number[-5:]}",
    }
    issuers = {
        "id_card": "临江市公安局江滨分局",
        "household_register": "临江市公安局江滨分局",
        "business_licence": "临江市市场监督管理局",
        "marriage_certificate": "临江市民政局",
    }
    return {
        "licence_type": licence_type,
        "licence_no": numbers[licence_type],
        "name": title,
        "issuer": issuers[licence_type],
        "holder_name": name,
        "valid_from": "2020-01-01",
        "valid_until": valid_until,
    }


def _refuse(status: int, code: str, message: str) -> HTTPResponse:
    return json({"code": code, "message": message}, status=status)


@doc("模拟电子证照共享网关：验签后返回持证人的证照", tag=TAG, body=QueryIn, response=QueryOut, errors=(400, 401, 503))
async def query(request: Request):
    app = request.app
    if await platform_fault(app.ctx.cache, "licences") is not None:
        return _refuse(503, "SERVICE_BUSY", "系统繁忙")
    configured = app.ctx.settings.licences
    body = request.body or b""
    timestamp, nonce = request.headers.get("X-Timestamp", ""), request.headers.get("X-Nonce", "")
    expected = signature(configured.app_secret, timestamp=timestamp, nonce=nonce, body=body)
    if request.headers.get("X-App-Key") != configured.app_key or not hmac.compare_digest(
        expected, request.headers.get("X-Signature", "")
    ):
        return _refuse(401, "SIGNATURE_INVALID", "签名错误")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TIMESTAMP_SKEW_SECONDS:
        return _refuse(401, "TIMESTAMP_EXPIRED", "时间戳超出允许范围")
    try:
        data = jsonlib.loads(body)
    except ValueError:
        return _refuse(400, "PARAM_ERROR", "请求体不是 JSON")
    id_number, name = (
        (data.get("holder_id_number"), data.get("holder_name")) if isinstance(data, dict) else (None, None)
    )
    if not isinstance(id_number, str) or not isinstance(name, str) or not name:
        return _refuse(400, "PARAM_ERROR", "缺少持证人身份证号或姓名")
    registered = await get_json(app.ctx.cache, _holder_key(id_number))
    if registered is not None:
        held = [] if registered["name"] != name else registered["licences"]
    else:
        held = [{"licence_type": "id_card", "valid_until": "2040-01-01"}, {"licence_type": "household_register"}]
    licences = [_licence(item["licence_type"], id_number, name, item.get("valid_until")) for item in held]
    return json({"code": "0", "licences": licences})


@doc(
    "测试辅助：登记测试持证人持有的证照（如营业执照、结婚证、已过期的身份证）",
    tag=TAG,
    body=HolderIn,
    response=HolderIn,
)
async def register_holder(request: Request):
    data = parse_body(request, HolderIn)
    record = {"name": data.name, "licences": [item.model_dump() for item in data.licences]}
    await set_json(request.app.ctx.cache, _holder_key(data.id_number), record, HOLDER_TTL_SECONDS)
    return json(data.model_dump())


def add_routes(bp: Blueprint) -> None:
    """Mount the licence gateway stand-in under /sim/licences."""
    bp.add_route(query, "/licences/licences/query", methods=["POST"], name="sim_licences_query")
    bp.add_route(register_holder, "/licences/holders", methods=["POST"], name="sim_licences_holders")
