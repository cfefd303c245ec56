from app.core.logging import redact


def test_redact_masks_id_numbers_and_bearer_tokens():
    line = "user 11010119900307457X called with Authorization: Bearer abc.def-123"
    redacted = redact(line)
    assert "11010119900307457X" not in redacted
    assert "110***********457X" in redacted
    assert "abc.def-123" not in redacted


def test_redact_leaves_ordinary_numbers():
    assert redact("order 2026112300001 paid 2000 fen") == "order 2026112300001 paid 2000 fen"


def test_redact_masks_credentials_in_platform_urls():
    line = "GET /sns/jscode2session?appid=wx1&secret=abc123&js_code=zzz&grant_type=authorization_code"
    redacted = redact(line)
    assert "abc123" not in redacted and "zzz" not in redacted
    assert "appid=wx1" in redacted


def test_redact_masks_mobile_numbers_as_people_write_them():
    for written in ("13812345678", "138 1234 5678", "138-1234-5678", "+86 13812345678"):
        redacted = redact(f"call me on {written} please")
        assert "138****5678" in redacted, written


def test_mask_personal_numbers_leaves_receipts_orders_and_amounts():
    from app.core.redaction import mask_personal_numbers

    text = "RS-20261123-0007 order WX202611301381234567800 paid 13800 fen, hotline 0571-12345678"
    assert mask_personal_numbers(text) == text


def test_mask_in_masks_every_string_of_a_payload():
    from app.core.redaction import mask_in

    payload = {"content": "我的身份证 11010119900307457X", "items": [{"reason": "电话13812345678"}], "case_id": 7}
    assert mask_in(payload) == {
        "content": "我的身份证 110***********457X",
        "items": [{"reason": "电话138****5678"}],
        "case_id": 7,
    }


def test_the_worker_process_logs_through_the_redacting_handler():
    """What `python -m app worker` sets up first, in a process of its own: its lines come out masked."""
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import logging\n"
        "from app.core.config import get_settings\n"
        "from app.worker import configure_process\n"
        "configure_process(get_settings())\n"
        "logging.getLogger('app.worker').warning('job failed for 11010119900307457X, phone 13812345678')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "app.worker" in done.stderr and "rid=-" in done.stderr  # the server's format, through its handler
    assert "110***********457X" in done.stderr and "138****5678" in done.stderr
    assert "11010119900307457X" not in done.stderr and "13812345678" not in done.stderr


def test_run_worker_configures_logging_before_its_jobs(monkeypatch):
    from app import worker
    from app.core.config import get_settings

    calls = []
    monkeypatch.setattr(worker, "configure_process", lambda settings: calls.append("logging"))
    monkeypatch.setattr(worker.asyncio, "run", lambda coroutine: calls.append("jobs") or coroutine.close())
    worker.run_worker(get_settings())
    assert calls == ["logging", "jobs"]


def test_json_lines_carry_the_request_fields_and_stay_redacted():
    import json
    import logging

    from app.core.logging import LOG_FORMAT, JsonFormatter

    record = logging.LogRecord(
        "app.access", logging.INFO, __file__, 1, "GET %s 200", ("/x?id=11010119900307457X",), None
    )
    record.request_id = "rid-0001"
    record.http = {"method": "GET", "route": "/x", "status": 200, "duration_ms": 1.5}
    line = json.loads(JsonFormatter(LOG_FORMAT, "Asia/Shanghai").format(record))
    assert line["request_id"] == "rid-0001"
    assert (line["route"], line["status"], line["level"], line["logger"]) == ("/x", 200, "INFO", "app.access")
    assert "11010119900307457X" not in line["message"]
    assert line["time"].endswith("+08:00")
