"""One-time codes by SMS: the interface the identity check uses, and its client of the simulator's SMS gateway.

A city contracts an SMS provider of its own (Tencent Cloud, Aliyun, a carrier's gateway); each speaks HTTP with a
signed request and answers a message id or an error. No provider is reachable from here, so the one client is for
the simulator's gateway, which checks the signature and the number the way a provider does. A live deployment that
asks for SMS codes must name a provider, and start-up refuses one that is not built (see config.identity).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from typing import Protocol

import httpx

from app.core.config import Settings
from app.platforms import PlatformError, PlatformUnavailable

log = logging.getLogger("app.platforms.sms")


class SmsSender(Protocol):
    async def send_code(self, *, phone: str, code: str, minutes: int) -> None:
        """Text the one-time code to the phone; PlatformUnavailable when the provider did not take it."""

    async def close(self) -> None: ...


def sim_sms_signature(secret: str, *, timestamp: str, phone: str, text: str) -> str:
    """HMAC-SHA256 over timestamp, number and text: what the simulated gateway checks."""
    message = f"{timestamp}\n{phone}\n{text}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def code_text(code: str, minutes: int) -> str:
    """The text of the message carrying a code (the provider's approved template, filled)."""
    return f"【临江市政务服务】您的实名认证验证码为 {code}，{minutes} 分钟内有效。如非本人操作，请忽略本短信。"


class SimSmsSender:
    """Sends through the simulator's SMS gateway at /sim/sms/send, signed with a key derived from the secret key."""

    def __init__(self, settings: Settings) -> None:
        self._url = settings.app.public_base_url.rstrip("/") + "/sim/sms/send"
        self._secret = sim_sms_secret(settings)
        self._http = httpx.AsyncClient(timeout=settings.platforms.timeout_seconds)

    async def send_code(self, *, phone: str, code: str, minutes: int) -> None:
        text = code_text(code, minutes)
        timestamp = str(int(time.time()))
        signature = sim_sms_signature(self._secret, timestamp=timestamp, phone=phone, text=text)
        try:
            response = await self._http.post(
                self._url,
                json={"phone": phone, "text": text, "timestamp": timestamp},
                headers={"X-Signature": signature},
            )
        except httpx.HTTPError as exc:
            log.warning("sms send: %s", exc.__class__.__name__)
            raise PlatformUnavailable() from None
        if response.status_code >= 500:
            log.warning("sms send: HTTP %s", response.status_code)
            raise PlatformUnavailable()
        if response.status_code != 200:
            # The number is never logged; the gateway's code says what was wrong with the request.
            log.warning("sms send: HTTP %s %s", response.status_code, _error_code(response))
            raise PlatformError()

    async def close(self) -> None:
        await self._http.aclose()


class NoSmsSender:
    """Where no SMS is configured: asking for a code is a programming error, never a silent success."""

    async def send_code(self, *, phone: str, code: str, minutes: int) -> None:
        raise PlatformError("短信服务未配置")

    async def close(self) -> None:
        return None


def _error_code(response: httpx.Response) -> str:
    try:
        return str(response.json().get("code"))
    except ValueError:
        return "-"


def sim_sms_secret(settings: Settings) -> str:
    """The key the app and the simulated SMS gateway share (derived, so no setting of its own)."""
    return hmac.new(settings.security.secret_key.encode(), b"sim-sms", hashlib.sha256).hexdigest()


def build_sms_sender(settings: Settings) -> SmsSender:
    """The simulator's gateway in sim mode; otherwise none (config refuses identity.sms_code in live mode)."""
    if settings.platforms.mode == "sim":
        return SimSmsSender(settings)
    return NoSmsSender()
