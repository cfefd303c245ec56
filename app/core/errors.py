"""One error base class with a stable code; one handler renders the API.md error shape."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg
import redis.exceptions as redis_errors
from sanic import Request, Sanic
from sanic.exceptions import SanicException
from sanic.response import JSONResponse, json
from tortoise.exceptions import DBConnectionError, DoesNotExist, IntegrityError

log = logging.getLogger("app.errors")


class AppError(SanicException):
    """Base of every error the API answers on purpose: an HTTP status, a stable code, a message."""

    status_code = 400
    code = "BAD_REQUEST"
    message = "请求有误"

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        self.details = details
        super().__init__(self.message, status_code=self.status_code, headers=headers)


class BadRequest(AppError):
    status_code = 400
    code = "BAD_REQUEST"
    message = "请求格式有误"


class MalformedJson(AppError):
    status_code = 400
    code = "MALFORMED_JSON"
    message = "请求体不是合法的 JSON"


class Unauthorized(AppError):
    status_code = 401
    code = "UNAUTHORIZED"
    message = "请先登录"


class Forbidden(AppError):
    status_code = 403
    code = "FORBIDDEN"
    message = "没有权限执行此操作"


class NotFound(AppError):
    status_code = 404
    code = "NOT_FOUND"
    message = "找不到请求的资源"


class Conflict(AppError):
    status_code = 409
    code = "CONFLICT"
    message = "与当前状态冲突"


class StaleVersion(Conflict):
    code = "STALE_VERSION"
    message = "数据已被他人修改，请刷新后重试"


class IllegalTransition(Conflict):
    """A move no row of the table allows from the current state (details: status, action, allowed_actions)."""

    code = "ILLEGAL_TRANSITION"
    message = "当前状态不允许该操作"


class ValidationFailed(AppError):
    status_code = 422
    code = "VALIDATION_FAILED"
    message = "提交的数据未通过校验"


class NoteRequired(ValidationFailed):
    code = "NOTE_REQUIRED"
    message = "该操作必须填写理由"


class RateLimited(AppError):
    status_code = 429
    code = "RATE_LIMITED"
    message = "请求过于频繁，请稍后再试"


class ServiceUnavailable(AppError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    message = "服务暂不可用"


# How long a client is asked to wait after a 503 of ours (seconds); the outage or crowd is usually that short.
RETRY_AFTER_SECONDS = 5

# A database or cache that is down, unreachable or too slow: the request could not be served now, not a bug.
_DEPENDENCY_FAILURES: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    asyncio.TimeoutError,
    DBConnectionError,
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.BusyLoadingError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.OperatorInterventionError,
)


def is_dependency_failure(exception: BaseException) -> bool:
    """Whether the database or the cache failed (down, unreachable, timed out), directly or as the cause."""
    seen = 0
    while exception is not None and seen < 5:
        if isinstance(exception, _DEPENDENCY_FAILURES):
            return True
        exception = exception.__cause__ or exception.__context__
        seen += 1
    return False


# Sanic's own exceptions (routing, body size, method) by status, so they carry a stable code too.
_SANIC_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    408: "REQUEST_TIMEOUT",
    413: "PAYLOAD_TOO_LARGE",
    416: "RANGE_NOT_SATISFIABLE",
    417: "EXPECTATION_FAILED",
}
_SANIC_MESSAGES = {
    404: "找不到请求的资源",
    405: "不支持该请求方法",
    413: "请求体过大",
}


def error_body(code: str, message: str, request_id: str | None, details: dict | None = None) -> dict:
    """The API.md error shape."""
    error: dict[str, Any] = {"code": code, "message": message, "request_id": request_id}
    if details is not None:
        error["details"] = details
    return {"error": error}


def _request_id(request: Request | None) -> str | None:
    return getattr(getattr(request, "ctx", None), "request_id", None) if request is not None else None


def render_error(request: Request, exception: BaseException) -> JSONResponse:
    """Turn any exception into the API.md error shape; only unexpected ones are logged with a stack trace."""
    request_id = _request_id(request)
    if isinstance(exception, AppError):
        return json(
            error_body(exception.code, exception.message, request_id, exception.details),
            status=exception.status_code,
            headers=exception.headers,
        )
    if isinstance(exception, DoesNotExist):
        return json(error_body(NotFound.code, NotFound.message, request_id), status=404)
    if isinstance(exception, IntegrityError):
        log.warning("integrity error: %s", exception.__class__.__name__)
        return json(error_body(Conflict.code, "数据与已有记录冲突", request_id), status=409)
    if is_dependency_failure(exception):
        log.warning(
            "dependency unavailable on %s %s: %s",
            getattr(request, "method", "?"),
            getattr(request, "path", "?"),
            exception.__class__.__name__,
        )
        if request is not None:
            request.ctx.dependency_failed = True
        return json(
            error_body(ServiceUnavailable.code, "服务繁忙或暂不可用，请稍后再试", request_id),
            status=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(exception, SanicException):
        status = exception.status_code or 500
        if status < 500:
            code = _SANIC_CODES.get(status, "BAD_REQUEST")
            message = _SANIC_MESSAGES.get(status) or str(exception) or "请求有误"
            return json(error_body(code, message, request_id), status=status, headers=exception.headers)
    log.exception("unhandled error on %s %s", getattr(request, "method", "?"), getattr(request, "path", "?"))
    return json(error_body("INTERNAL", "服务内部错误，请稍后再试", request_id), status=500)


def install_error_handler(app: Sanic) -> None:
    """Route every exception through render_error."""
    app.error_handler.add(Exception, render_error)
