"""The electronic licence service (电子证照): which licences a person holds, as the issuing agencies recorded them.

A province's licence-sharing gateway answers a holder's licences to an authorised government system. Its protocol
here: POST {base_url}licences/query with JSON {"holder_id_number", "holder_name"}, signed by HMAC-SHA256 of
"timestamp\\nnonce\\nsha256(body)" with the app secret in X-App-Key / X-Timestamp / X-Nonce / X-Signature; answer
{"code": "0", "licences": [{"licence_type", "licence_no", "name", "issuer", "holder_name", "valid_from",
"valid_until"}]}. The base URL and the key come from configuration (the simulator's /sim/licences/ in sim mode).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass

import httpx

from app.core.config import Settings
from app.platforms import PlatformError, PlatformUnavailable

log = logging.getLogger("app.platforms.licences")

# The licences the service shares, and the words in a guide's material name that one of them satisfies.
LICENCE_TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "id_card": ("居民身份证", ("身份证",)),
    "household_register": ("居民户口簿", ("户口簿", "户口本", "户籍")),
    "business_licence": ("营业执照", ("营业执照",)),
    "marriage_certificate": ("结婚证", ("结婚证",)),
}


@dataclass(frozen=True)
class Licence:
    licence_type: str
    licence_no: str
    name: str
    issuer: str
    holder_name: str
    valid_from: str  # YYYY-MM-DD
    valid_until: str | None  # YYYY-MM-DD; None: long-term (长期)


def licence_type_for(material_name: str) -> str | None:
    """The licence that satisfies a material of this name, if any."""
    for licence_type, (_, words) in LICENCE_TYPES.items():
        if any(word in material_name for word in words):
            return licence_type
    return None


def signature(secret: str, *, timestamp: str, nonce: str, body: bytes) -> str:
    """HMAC-SHA256 over the time stamp, the nonce and the body's digest."""
    message = f"{timestamp}\n{nonce}\n{hashlib.sha256(body).hexdigest()}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class LicenceService:
    """The licence-sharing gateway's client."""

    def __init__(self, settings: Settings) -> None:
        configured = settings.licences
        base = configured.base_url or (
            settings.app.public_base_url.rstrip("/") + "/sim/licences/" if settings.platforms.mode == "sim" else ""
        )
        self._url = (base if base.endswith("/") else base + "/") + "licences/query" if base else ""
        self._app_key = configured.app_key
        self._secret = configured.app_secret
        self._http = httpx.AsyncClient(timeout=settings.platforms.timeout_seconds)

    @property
    def configured(self) -> bool:
        return bool(self._url)

    async def licences_of(self, *, id_number: str, name: str) -> list[Licence]:
        """The holder's licences; PlatformUnavailable when the service cannot be reached (or is not configured)."""
        if not self._url:
            raise PlatformUnavailable("电子证照服务未接入，请上传材料")
        body = json.dumps({"holder_id_number": id_number, "holder_name": name}, ensure_ascii=False).encode()
        timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
        headers = {
            "Content-Type": "application/json",
            "X-App-Key": self._app_key,
            "X-Timestamp": timestamp,
            "X-Nonce": nonce,
            "X-Signature": signature(self._secret, timestamp=timestamp, nonce=nonce, body=body),
        }
        try:
            response = await self._http.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("licences query: %s", exc.__class__.__name__)
            raise PlatformUnavailable() from None
        if response.status_code >= 500:
            log.warning("licences query: HTTP %s", response.status_code)
            raise PlatformUnavailable()
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code != 200 or not isinstance(answer, dict) or answer.get("code") != "0":
            # Only the service's code is logged: its message may quote the holder.
            code = answer.get("code") if isinstance(answer, dict) else "-"
            log.warning("licences query: HTTP %s code %s", response.status_code, code)
            raise PlatformError()
        return [
            Licence(
                licence_type=item["licence_type"],
                licence_no=item["licence_no"],
                name=item["name"],
                issuer=item["issuer"],
                holder_name=item["holder_name"],
                valid_from=item["valid_from"],
                valid_until=item.get("valid_until"),
            )
            for item in answer.get("licences") or []
            if item.get("licence_type") in LICENCE_TYPES
        ]

    async def close(self) -> None:
        await self._http.aclose()
