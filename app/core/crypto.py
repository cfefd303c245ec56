"""Field encryption (AES-256-GCM) and keyed lookup hashes (HMAC-SHA256) for personal data such as ID numbers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = "v1"


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"govhall", info=purpose).derive(secret.encode())


class FieldCipher:
    """Encrypts short personal values; one key for encryption, another for the lookup hash, both from one secret."""

    def __init__(self, secret_key: str) -> None:
        self._aead = AESGCM(_derive(secret_key, b"field-encryption"))
        self._mac_key = _derive(secret_key, b"field-lookup-hash")

    def encrypt(self, plaintext: str, *, context: str) -> str:
        """Ciphertext as 'v1:<base64(nonce|ct)>'; context (e.g. the column name) is bound as associated data."""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return f"{_VERSION}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, *, context: str) -> str:
        """The plaintext of encrypt(); raises on tampering or a wrong key."""
        version, _, payload = token.partition(":")
        if version != _VERSION:
            raise ValueError("unknown ciphertext version")
        raw = base64.b64decode(payload)
        return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()

    def lookup_hash(self, value: str, *, context: str) -> str:
        """A keyed hash to find a row by an encrypted value without decrypting every row."""
        return hmac.new(self._mac_key, f"{context}:{value}".encode(), hashlib.sha256).hexdigest()


def token_digest(token: str) -> str:
    """What the cache stores for a login token: its SHA-256, so a cache dump holds no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()
