"""Logging with the request id on every line, and a last-line guard against personal numbers and tokens in logs."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from app.core.redaction import mask_personal_numbers

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# A resident ID number, a mobile number or a bearer token must never reach a log file, even when some library
# formats one into a message. Masking here is the safety net, not the first line of defence.
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
# Platform URLs carry credentials in their query strings (WeChat secret, js_code, access_token; Alipay sign).
_SECRET_PARAM = re.compile(r"(?i)\b(secret|js_code|access_token|session_key|auth_code|code|sign|password)=[^&\s\"']+")


def redact(text: str) -> str:
    """Mask ID numbers, mobile numbers, credentials and bearer tokens in a log line."""
    text = _SECRET_PARAM.sub(r"\1=[redacted]", text)
    text = _BEARER.sub(r"\1[redacted]", text)
    return mask_personal_numbers(text)


class RequestContextFilter(logging.Filter):
    """Adds the current request id to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class RedactingFormatter(logging.Formatter):
    """Stamps each line in the city's zone with its offset, formats as usual, then masks what must never be logged."""

    def __init__(self, fmt: str, timezone: str = "Asia/Shanghai") -> None:
        super().__init__(fmt)
        self.zone = ZoneInfo(timezone)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        # The host's zone is often UTC while people read the city's; the offset makes either unambiguous.
        return datetime.fromtimestamp(record.created, self.zone).isoformat(timespec="milliseconds")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(RedactingFormatter):
    """One JSON object a line for a log collector; the message is redacted like the text format's."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "process": record.process,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": redact(record.getMessage()),
        }
        http = getattr(record, "http", None)
        if isinstance(http, dict):
            line.update(http)
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


LOG_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s rid=%(request_id)s %(message)s"


def configure_logging(level: str, timezone: str = "Asia/Shanghai", log_format: str = "text") -> None:
    """Send every logger (ours, Sanic's, Tortoise's) through one redacting handler on stderr, times in timezone."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = JsonFormatter if log_format == "json" else RedactingFormatter
    handler.setFormatter(formatter(LOG_FORMAT, timezone))
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_govhall", False):
            root.removeHandler(existing)
    handler._govhall = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("sanic.root", "sanic.error", "sanic.server", "sanic.access", "tortoise", "aerich"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # Sanic's own access log prints the raw URL; ours (app.access) prints the path without the query string.
    logging.getLogger("sanic.access").disabled = True
    quiet = max(logging.getLevelName(level), logging.INFO)
    logging.getLogger("tortoise").setLevel(quiet)
    # urllib3 logs whole request URLs at DEBUG, credentials included.
    logging.getLogger("urllib3").setLevel(quiet)
