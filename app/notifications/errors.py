"""Notification errors."""

from app.core.errors import Conflict, NotFound


class DeliveryNotFound(NotFound):
    code = "DELIVERY_NOT_FOUND"
    message = "推送记录不存在"


class MessageNotFound(NotFound):
    code = "MESSAGE_NOT_FOUND"
    message = "消息不存在"


class DeliveryNotRetryable(Conflict):
    message = "只有失败终止的推送可以重试"


class AlertNotFound(NotFound):
    code = "ALERT_NOT_FOUND"
    message = "提醒不存在"
