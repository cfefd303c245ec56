"""Answers are UTF-8 JSON with Chinese as it is; log lines carry the city's time with its offset."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from app.core.logging import LOG_FORMAT, RedactingFormatter


async def test_answers_carry_chinese_as_utf8_not_escapes(client):
    found = (await client.get("/api/v1/matters", params={"q": "居民身份证换领"})).json()["items"]
    response = await client.get(f"/api/v1/matters/{found[0]['id']}")
    assert response.status_code == 200
    assert "居民身份证换领".encode() in response.content and "临江市公安局".encode() in response.content
    assert b"\\u" not in response.content


async def test_error_answers_carry_chinese_as_utf8_too(client):
    response = await client.get("/api/v1/matters/2000000000")
    assert response.status_code == 404
    assert b"\\u" not in response.content
    message = response.json()["error"]["message"]
    assert message and message.encode() in response.content


def _record_at(moment: datetime) -> logging.LogRecord:
    record = logging.LogRecord("app.test", logging.INFO, __file__, 1, "hello", None, None)
    record.created = moment.timestamp()
    record.request_id = "-"
    return record


def test_log_lines_carry_the_city_time_with_its_offset():
    # 16:30 UTC is already the next day in the city: the line says so, with +08:00 to leave no doubt.
    line = RedactingFormatter(LOG_FORMAT, "Asia/Shanghai").format(
        _record_at(datetime(2026, 11, 30, 16, 30, tzinfo=UTC))
    )
    assert line.startswith("2026-12-01T00:30:00.000+08:00 INFO ")
    other = RedactingFormatter(LOG_FORMAT, "Europe/Berlin").format(_record_at(datetime(2026, 6, 1, 8, 0, tzinfo=UTC)))
    assert other.startswith("2026-06-01T10:00:00.000+02:00 ")


def test_configure_logging_stamps_in_the_given_zone():
    from app.core.logging import configure_logging

    configure_logging("INFO", "Asia/Shanghai")
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "_govhall", False))
    assert handler.formatter.zone.key == "Asia/Shanghai"


def test_an_unknown_time_zone_stops_start_up_with_one_line():
    import pytest

    from app.core.config import ConfigError, load_settings

    with pytest.raises(ConfigError, match=r"app\.timezone"):
        load_settings(environ={"APP_APP__TIMEZONE": "Mars/Olympus"})
