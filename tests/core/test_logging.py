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
