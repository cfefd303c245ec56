"""Identity HTTP: citizen logins (WeChat, Alipay), staff login, /me, real-name binding, proxies."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from sanic import Blueprint, Request

from app.core.auth import authenticate, citizen_required, client_ip, limit_rate, staff_required
from app.core.http import PageQuery, page_of, parse_body, parse_query, respond
from app.core.openapi import doc
from app.identity import service
from app.identity.schemas import (
    AlipayLoginIn,
    CitizenLoginOut,
    CitizenOut,
    IdentityClaimOut,
    IdentityConfirmIn,
    IdentityIn,
    ProxyGrantIn,
    ProxyGrantOut,
    ProxyGrantPageOut,
    StaffAdminOut,
    StaffCreateIn,
    StaffLoginIn,
    StaffLoginOut,
    StaffOut,
    StaffPageOut,
    StaffQuery,
    StaffUpdateIn,
    WeChatLoginIn,
)

bp = Blueprint("identity", url_prefix="/api/v1")


class GrantQuery(PageQuery):
    model_config = ConfigDict(extra="ignore")
    received: bool = False


class LogoutOut(BaseModel):
    status: str


def _security(request: Request):
    return request.app.ctx.settings.security


async def _limit_logins(request: Request) -> None:
    await limit_rate(request.app.ctx.cache, f"login:{client_ip(request)}", _security(request).login_attempts_per_minute)


async def _citizen_login(request: Request, login, code: str, **platform):
    await _limit_logins(request)
    ttl = _security(request).token_ttl_seconds
    token, citizen = await login(code, **platform, cache=request.app.ctx.cache, ttl=ttl)
    return respond(CitizenLoginOut, {"token": token, "expires_in": ttl, "citizen": citizen})


@bp.post("/auth/wechat")
@doc(
    "微信小程序登录（wx.login 的 code）",
    tag="auth",
    body=WeChatLoginIn,
    response=CitizenLoginOut,
    errors=(400, 401, 403, 422, 429, 502, 503),
)
async def login_wechat(request: Request):
    body = parse_body(request, WeChatLoginIn)
    return await _citizen_login(request, service.login_wechat, body.code, wechat=request.app.ctx.platforms.wechat)


@bp.post("/auth/alipay")
@doc(
    "支付宝小程序登录（my.getAuthCode 的 auth_code）",
    tag="auth",
    body=AlipayLoginIn,
    response=CitizenLoginOut,
    errors=(400, 401, 422, 429, 502, 503),
)
async def login_alipay(request: Request):
    body = parse_body(request, AlipayLoginIn)
    return await _citizen_login(request, service.login_alipay, body.auth_code, alipay=request.app.ctx.platforms.alipay)


@bp.post("/auth/staff")
@doc("工作人员登录", tag="auth", body=StaffLoginIn, response=StaffLoginOut, errors=(400, 401, 422, 429))
async def login_staff(request: Request):
    body = parse_body(request, StaffLoginIn)
    await _limit_logins(request)
    security = _security(request)
    token, staff = await service.login_staff(
        username=body.username,
        password=body.password,
        cache=request.app.ctx.cache,
        ttl=security.token_ttl_seconds,
        max_failed=security.staff_max_failed_logins,
        lock_minutes=security.staff_lock_minutes,
    )
    return respond(StaffLoginOut, {"token": token, "expires_in": security.token_ttl_seconds, "staff": staff})


@bp.post("/auth/logout")
@doc("退出登录（令牌立即失效）", tag="auth", response=LogoutOut, errors=(401,), secured=True)
async def logout(request: Request):
    principal = await authenticate(request)
    await service.logout(principal.token, cache=request.app.ctx.cache)
    return respond(LogoutOut, {"status": "ok"})


@bp.get("/me")
@doc("当前办事人", tag="me", response=CitizenOut, errors=(401, 403), secured=True)
@citizen_required
async def me(request: Request):
    return respond(CitizenOut, await service.get_citizen(request.ctx.principal.id))


@bp.put("/me/identity")
@doc(
    "实名认证第一步：提交姓名、身份证号、手机号，由微信或支付宝核验（核验通过前不绑定）",
    tag="me",
    body=IdentityIn,
    response=IdentityClaimOut,
    status=202,
    errors=(400, 401, 403, 409, 422, 429, 502, 503),
    secured=True,
)
@citizen_required
async def claim_identity(request: Request):
    body = parse_body(request, IdentityIn)
    ctx = request.app.ctx
    claim = await service.claim_identity(
        request.ctx.principal.id,
        name=body.name,
        id_number=body.id_number,
        phone=body.phone,
        method=body.method,
        settings=ctx.settings,
        cipher=ctx.cipher,
        cache=ctx.cache,
        platforms=ctx.platforms,
    )
    return respond(IdentityClaimOut, claim, status=202)


@bp.post("/me/identity/verifications/<verification_id:int>/confirm")
@doc(
    "实名认证第二步：平台核验完成后确认（微信授权 code、短信验证码），通过即绑定",
    tag="me",
    body=IdentityConfirmIn,
    response=CitizenOut,
    errors=(400, 401, 403, 404, 409, 422, 502, 503),
    secured=True,
)
@citizen_required
async def confirm_identity(request: Request, verification_id: int):
    body = parse_body(request, IdentityConfirmIn)
    ctx = request.app.ctx
    principal = request.ctx.principal
    citizen = await service.confirm_identity(
        principal.id,
        verification_id,
        code=body.code,
        sms_code=body.sms_code,
        settings=ctx.settings,
        cipher=ctx.cipher,
        cache=ctx.cache,
        platforms=ctx.platforms,
        token=principal.token,
        ttl=_security(request).token_ttl_seconds,
    )
    return respond(CitizenOut, citizen)


@bp.post("/me/proxies")
@doc(
    "授权他人代办某事项（已有同样的授权时 200）",
    tag="me",
    body=ProxyGrantIn,
    response=ProxyGrantOut,
    status=201,
    responses={200: ProxyGrantOut},
    errors=(400, 401, 403, 404, 422, 429),
    secured=True,
)
@citizen_required
async def grant_proxy(request: Request):
    body = parse_body(request, ProxyGrantIn)
    grant, created = await service.grant_proxy(
        request.ctx.principal.id,
        matter_id=body.matter_id,
        name=body.name,
        id_number=body.id_number,
        cipher=request.app.ctx.cipher,
        cache=request.app.ctx.cache,
        lookups_per_day=request.app.ctx.settings.identity.claims_per_account_per_day,
    )
    return respond(ProxyGrantOut, grant, status=201 if created else 200)


@bp.get("/me/proxies")
@doc(
    "我给出的代办授权（?received=true：我收到的）",
    tag="me",
    response=ProxyGrantPageOut,
    errors=(401, 403, 422),
    secured=True,
    query=GrantQuery,
)
@citizen_required
async def list_proxies(request: Request):
    query = parse_query(request, GrantQuery)
    items, total = await service.list_grants(
        request.ctx.principal.id, received=query.received, offset=query.offset, limit=query.page_size
    )
    return respond(ProxyGrantPageOut, page_of(items, total, query.page, query.page_size))


@bp.post("/me/proxies/<grant_id:int>/revoke")
@doc("撤销代办授权", tag="me", response=ProxyGrantOut, errors=(401, 403, 404), secured=True)
@citizen_required
async def revoke_proxy(request: Request, grant_id: int):
    return respond(ProxyGrantOut, await service.revoke_grant(request.ctx.principal.id, grant_id))


@bp.get("/staff/me")
@doc("当前工作人员", tag="staff", response=StaffOut, errors=(401, 403), secured=True)
@staff_required()
async def staff_me(request: Request):
    return respond(StaffOut, await service.get_staff(request.ctx.principal.id))


# ---- staff accounts (administrators) ----


@bp.get("/admin/staff")
@doc(
    "工作人员账号列表（管理员）",
    tag="staff",
    response=StaffPageOut,
    errors=(401, 403, 422),
    secured=True,
    query=StaffQuery,
)
@staff_required("admin")
async def list_staff(request: Request):
    query = parse_query(request, StaffQuery)
    items, total = await service.list_staff(
        department_id=await service.department_of(query.department_id, query.department_code),
        active=query.active,
        q=query.q,
        offset=query.offset,
        limit=query.page_size,
    )
    return respond(StaffPageOut, page_of(items, total, query.page, query.page_size))


@bp.post("/admin/staff")
@doc(
    "新建工作人员账号（管理员）",
    tag="staff",
    body=StaffCreateIn,
    response=StaffAdminOut,
    status=201,
    errors=(401, 403, 409, 422),
    secured=True,
)
@staff_required("admin")
async def create_staff(request: Request):
    body = parse_body(request, StaffCreateIn)
    principal = request.ctx.principal
    return respond(
        StaffAdminOut,
        await service.create_staff(
            username=body.username,
            password=body.password,
            roles=list(body.roles),
            name=body.name,
            department_id=await service.department_of(body.department_id, body.department_code),
            actor=principal.actor,
        ),
        status=201,
    )


@bp.patch("/admin/staff/<staff_id:int>")
@doc(
    "修改工作人员账号：姓名、角色、部门、密码、停用（其登录立即失效）",
    tag="staff",
    body=StaffUpdateIn,
    body_required=True,
    response=StaffAdminOut,
    errors=(401, 403, 404, 409, 422),
    secured=True,
)
@staff_required("admin")
async def update_staff(request: Request, staff_id: int):
    body = parse_body(request, StaffUpdateIn)
    return respond(
        StaffAdminOut,
        await service.update_staff(
            staff_id,
            body.model_dump(exclude_unset=True),
            actor=request.ctx.principal,
            cache=request.app.ctx.cache,
            token_ttl=_security(request).token_ttl_seconds,
        ),
    )
