"""Notification HTTP: the citizen's inbox and subscription credits; the operators' view of failed pushes."""

from __future__ import annotations

from sanic import Blueprint, Request

from app.core.auth import citizen_required, staff_required
from app.core.http import page_of, parse_body, parse_query, respond
from app.core.openapi import doc
from app.core.view_memo import per_citizen
from app.notifications import service
from app.notifications.schemas import (
    AlertCountOut,
    AlertOut,
    AlertPageOut,
    AlertQuery,
    AlertsReadOut,
    CreditOut,
    DeliveryOut,
    DeliveryPageOut,
    DeliveryQuery,
    MessageOut,
    MessagePageOut,
    MessageQuery,
    SubscriptionsIn,
    TemplateOut,
    TemplatesQuery,
)

bp = Blueprint("notifications", url_prefix="/api/v1")

OPERATOR_ROLES = ("admin", "supervisor")


@bp.get("/me/messages")
@doc(
    "我的消息（站内信）",
    tag="notifications",
    response=MessagePageOut,
    errors=(401, 422),
    secured=True,
    query=MessageQuery,
)
@citizen_required
@per_citizen
async def messages(request: Request):
    query = parse_query(request, MessageQuery)
    items, total, unread = await service.inbox(
        request.ctx.principal.id, unread_only=query.unread, offset=query.offset, limit=query.page_size
    )
    return respond(MessagePageOut, {**page_of(items, total, query.page, query.page_size), "unread": unread})


@bp.post("/me/messages/<message_id:int>/read", ctx_big_ids=True)
@doc("标记消息已读", tag="notifications", response=MessageOut, errors=(401, 404), secured=True)
@citizen_required
async def read(request: Request, message_id: int):
    return respond(MessageOut, await service.mark_read(request.ctx.principal.id, message_id))


@bp.get("/subscriptions/templates")
@doc(
    "小程序应请求订阅的消息模板（按用途；?channel=alipay 为支付宝的）",
    tag="notifications",
    response=dict[str, TemplateOut],
    query=TemplatesQuery,
    errors=(422,),
)
async def templates(request: Request):
    query = parse_query(request, TemplatesQuery)
    return respond(dict[str, TemplateOut], service.template_catalogue(request.app.ctx.settings, query.channel))


@bp.post("/me/subscriptions")
@doc(
    "记录 wx.requestSubscribeMessage / my.requestSubscribeMessage 的结果（每个 accept 一次发送额度）",
    tag="notifications",
    body=SubscriptionsIn,
    response=list[CreditOut],
    errors=(401, 422),
    secured=True,
)
@citizen_required
async def subscribe(request: Request):
    data = parse_body(request, SubscriptionsIn)
    return respond(
        list[CreditOut],
        await service.grant_subscriptions(
            request.ctx.principal.id, data.channel, data.results, settings=request.app.ctx.settings
        ),
    )


@bp.get("/me/subscriptions")
@doc("我剩余的订阅消息额度", tag="notifications", response=list[CreditOut], errors=(401,), secured=True)
@citizen_required
async def my_credits(request: Request):
    return respond(list[CreditOut], await service.credits(request.ctx.principal.id))


@bp.get("/staff/deliveries")
@doc(
    "推送记录（运维：失败终止的可重试）",
    tag="notifications-staff",
    response=DeliveryPageOut,
    errors=(401, 403, 422),
    secured=True,
    query=DeliveryQuery,
)
@staff_required(*OPERATOR_ROLES)
async def deliveries(request: Request):
    query = parse_query(request, DeliveryQuery)
    items, total = await service.list_deliveries(status=query.status, offset=query.offset, limit=query.page_size)
    return respond(DeliveryPageOut, page_of(items, total, query.page, query.page_size))


@bp.post("/staff/deliveries/<delivery_id:int>/retry", ctx_big_ids=True)
@doc(
    "重试一条失败终止的推送", tag="notifications-staff", response=DeliveryOut, errors=(401, 403, 404, 409), secured=True
)
@staff_required(*OPERATOR_ROLES)
async def retry(request: Request, delivery_id: int):
    return respond(DeliveryOut, await service.retry_delivery(delivery_id, actor=request.ctx.principal))


# ---- staff alerts: the console's copy of what WeChat Work tells staff ----


@bp.get("/staff/alerts")
@doc(
    "工作提醒（企业微信推送的同一内容：本部门的；监督员、管理员为全部），含未读数",
    tag="notifications-staff",
    response=AlertPageOut,
    errors=(401, 403, 422),
    secured=True,
    query=AlertQuery,
)
@staff_required()
async def alerts(request: Request):
    query = parse_query(request, AlertQuery)
    items, total, unread = await service.list_alerts(
        request.ctx.principal, unread_only=query.unread, offset=query.offset, limit=query.page_size
    )
    return respond(AlertPageOut, {**page_of(items, total, query.page, query.page_size), "unread": unread})


@bp.get("/staff/alerts/unread-count")
@doc(
    "未读工作提醒数（控制台菜单角标）",
    tag="notifications-staff",
    response=AlertCountOut,
    errors=(401, 403),
    secured=True,
)
@staff_required()
async def alert_count(request: Request):
    return respond(AlertCountOut, {"unread": await service.unread_alert_count(request.ctx.principal)})


@bp.post("/staff/alerts/read-all")
@doc("全部工作提醒标为已读", tag="notifications-staff", response=AlertsReadOut, errors=(401, 403), secured=True)
@staff_required()
async def read_all_alerts(request: Request):
    return respond(AlertsReadOut, await service.read_all_alerts(request.ctx.principal))


@bp.post("/staff/alerts/<alert_id:int>/read", ctx_big_ids=True)
@doc("标记一条工作提醒已读", tag="notifications-staff", response=AlertOut, errors=(401, 403, 404), secured=True)
@staff_required()
async def read_alert(request: Request, alert_id: int):
    return respond(AlertOut, await service.read_alert(request.ctx.principal, alert_id))
