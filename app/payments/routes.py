"""Payment HTTP: orders for citizens, the providers' callbacks, refunds and reconciliation for admins."""

from __future__ import annotations

from datetime import date

from sanic import Blueprint, Request
from sanic.response import raw

from app.core.auth import citizen_required, staff_required
from app.core.errors import ValidationFailed
from app.core.http import page_of, parse_body, parse_query, respond
from app.core.openapi import NO_CONTENT, Raw, doc
from app.payments import service
from app.payments.schemas import (
    AbnormalRetryIn,
    PaymentIn,
    PaymentOut,
    ReconciliationOut,
    ReconciliationQuery,
    RefundIn,
    RefundOut,
    RefundPageOut,
    RefundQuery,
)

bp = Blueprint("payments", url_prefix="/api/v1")
# What an order number can be (the column holds 32; WeChat Pay allows letters, digits, _ and -): anything else is
# no order of ours, so the router answers 404 before any query.
ORDER_NO_PATTERN = r"[A-Za-z0-9_-]{1,32}"
REFUND_NO_PATTERN = r"[A-Za-z0-9]{1,32}"  # ours: R + the order number's digits and letters


# The providers' callbacks speak the providers' formats, not ours.
WECHAT_NOTIFICATION = Raw(
    {
        "application/json": {
            "schema": {
                "type": "object",
                "description": "WeChat Pay v3 notification: a signed envelope around an encrypted resource",
                "required": ["id", "event_type", "resource"],
                "properties": {
                    "id": {"type": "string"},
                    "create_time": {"type": "string"},
                    "event_type": {"type": "string"},
                    "resource_type": {"type": "string"},
                    "summary": {"type": "string"},
                    "resource": {"type": "object"},
                },
            }
        }
    }
)
WECHAT_REFUSAL = Raw(
    {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"const": "FAIL"}, "message": {"type": "string"}},
            }
        }
    }
)
ALIPAY_NOTIFICATION = Raw(
    {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "description": "Alipay asynchronous notification: RSA2-signed form fields",
                "required": ["sign", "out_trade_no"],
                "additionalProperties": {"type": "string"},
            }
        }
    }
)
ALIPAY_ANSWER = Raw({"text/plain": {"schema": {"enum": ["success", "failure"]}}})


def _ctx(request: Request) -> dict:
    return {
        "platforms": request.app.ctx.platforms,
        "settings": request.app.ctx.settings,
        "cache": request.app.ctx.cache,
    }


@bp.post("/cases/<case_id:int>/payments")
@doc(
    "为办件缴费：同一办件同一渠道只有一张未支付订单（已有时 200 与该订单）",
    tag="payments",
    body=PaymentIn,
    response=PaymentOut,
    status=201,
    responses={200: PaymentOut},
    errors=(401, 404, 409, 422, 502, 503),
    secured=True,
)
@citizen_required
async def create(request: Request, case_id: int):
    data = parse_body(request, PaymentIn)
    order, created = await service.create_order(
        request.ctx.principal,
        case_id,
        channel=data.channel,
        guide_ttl=request.app.ctx.settings.catalog.cache_seconds,
        **_ctx(request),
    )
    return respond(PaymentOut, order, status=201 if created else 200)


@bp.get(f"/payments/<order_no:{ORDER_NO_PATTERN}>")
@doc("支付结果（未支付时向支付平台查询）", tag="payments", response=PaymentOut, errors=(401, 404), secured=True)
@citizen_required
async def status(request: Request, order_no: str):
    return respond(PaymentOut, await service.get_order(request.ctx.principal, order_no, **_ctx(request)))


async def _notify(request: Request, channel: str):
    ack = await service.handle_notification(
        channel, headers=dict(request.headers), body=request.body or b"", **_ctx(request)
    )
    return raw(ack.body, status=ack.status, content_type=ack.content_type)


@bp.post("/pay/notify/wechat")
@doc(
    "微信支付回调（验签、解密、核对后入账；200 无内容为收到，400 为拒收（伪造、无效、不符），"
    "500 为本方故障让微信支付重发）",
    tag="payments-callbacks",
    body=WECHAT_NOTIFICATION,
    response=NO_CONTENT,
    responses={400: WECHAT_REFUSAL, 500: WECHAT_REFUSAL},
    errors=(),
)
async def notify_wechat(request: Request):
    return await _notify(request, "wechat")


@bp.post("/pay/notify/alipay")
@doc(
    "支付宝回调（验签、核对后入账；应答 success，failure 让支付宝重发）",
    tag="payments-callbacks",
    body=ALIPAY_NOTIFICATION,
    response=ALIPAY_ANSWER,
    errors=(),
)
async def notify_alipay(request: Request):
    return await _notify(request, "alipay")


@bp.post(f"/admin/payments/<order_no:{ORDER_NO_PATTERN}>/refunds")
@doc(
    "退款（可部分退款，累计不超过已付金额）",
    tag="payments-admin",
    body=RefundIn,
    response=RefundOut,
    status=201,
    errors=(401, 403, 404, 409, 422),
    secured=True,
)
@staff_required("admin")
async def refund(request: Request, order_no: str):
    data = parse_body(request, RefundIn)
    result = await service.admin_refund(
        order_no,
        amount_fen=data.amount_fen,
        reason=data.reason,
        actor=request.ctx.principal,
        platforms=request.app.ctx.platforms,
    )
    return respond(RefundOut, result, status=201)


@bp.post(f"/admin/payments/refunds/<refund_no:{REFUND_NO_PATTERN}>/abnormal-retry")
@doc(
    "重发微信支付退款异常的退款：退到用户的另一张借记卡，或退到商户银行账户再由工作人员线下退给用户"
    "（退款回到处理中；金额始终占用，不会被再次退款）",
    tag="payments-admin",
    body=AbnormalRetryIn,
    response=RefundOut,
    errors=(401, 403, 404, 409, 422, 502, 503),
    secured=True,
)
@staff_required("admin")
async def abnormal_retry(request: Request, refund_no: str):
    data = parse_body(request, AbnormalRetryIn)
    result = await service.retry_abnormal_refund(
        refund_no,
        to=data.to.upper(),
        bank_type=data.bank_type or "",
        bank_account=data.bank_account or "",
        real_name=data.real_name or "",
        actor=request.ctx.principal,
        platforms=request.app.ctx.platforms,
    )
    return respond(RefundOut, result)


@bp.get("/admin/reconciliations")
@doc(
    "某日对账报告（两个渠道）",
    tag="payments-admin",
    response=list[ReconciliationOut],
    errors=(401, 403, 422),
    secured=True,
    query=ReconciliationQuery,
)
@staff_required("admin", "supervisor")
async def reconciliations(request: Request):
    query = parse_query(request, ReconciliationQuery)
    try:
        day = date.fromisoformat(query.date)
    except ValueError:
        raise ValidationFailed(details={"fields": [{"field": "date", "message": "日期无效"}]}) from None
    return respond(list[ReconciliationOut], await service.reports_for(day))


@bp.get("/admin/refunds")
@doc(
    "退款记录（可按状态筛选，如退款异常 abnormal）",
    tag="payments-admin",
    response=RefundPageOut,
    errors=(401, 403, 422),
    secured=True,
    query=RefundQuery,
)
@staff_required("admin")
async def refunds(request: Request):
    query = parse_query(request, RefundQuery)
    items, total = await service.list_refunds(status=query.status, offset=query.offset, limit=query.page_size)
    return respond(RefundPageOut, page_of(items, total, query.page, query.page_size))
