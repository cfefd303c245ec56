"""Payment errors."""

from app.core.errors import AppError, Conflict, NotFound, ValidationFailed


class PaymentNotFound(NotFound):
    code = "PAYMENT_NOT_FOUND"
    message = "支付订单不存在"


class RefundNotFound(NotFound):
    code = "REFUND_NOT_FOUND"
    message = "退款单不存在"


class ChannelUnavailable(ValidationFailed):
    code = "CHANNEL_UNAVAILABLE"
    message = "请先用该渠道登录（微信或支付宝）再支付"


class UnknownChannel(ValidationFailed):
    code = "UNKNOWN_CHANNEL"
    message = "不支持的支付渠道（只有 wechat 和 alipay）"


class RefundTooLarge(Conflict):
    code = "REFUND_EXCEEDS_PAID"
    message = "退款金额超过可退金额"


class Mismatch(AppError):
    status_code = 400
    code = "PAYMENT_MISMATCH"
    message = "支付结果与订单不符"
