"""Field encryption (AES-256-GCM) and keyed lookup hashes (HMAC-SHA256) for personal data such as ID numbers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# v1: sealed under the only key there was (no key id); v2: "v2:<key id>:<base64>", the key named by its id.
_UNNAMED = "v1"
_NAMED = "v2"


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"govhall", info=purpose).derive(secret.encode())


def key_id(secret: str) -> str:
    """A short public name of a secret (not enough to guess it), written beside what it sealed."""
    return hmac.new(_derive(secret, b"key-id"), b"govhall", hashlib.sha256).hexdigest()[:8]


class FieldCipher:
    """Encrypts short personal values under the current key and opens them under any key it was given; the lookup
    hash has a key of its own, so rotating the encryption key never changes how rows are found."""

    def __init__(self, secret_key: str, *, previous_keys: Sequence[str] = (), lookup_secret: str = "") -> None:
        secrets = [secret_key, *previous_keys]
        self.current_key_id = key_id(secret_key)
        self._keys = {key_id(secret): AESGCM(_derive(secret, b"field-encryption")) for secret in secrets}
        # Oldest last: a v1 value was sealed by the key in use before rotations began.
        self._unnamed_order = [self._keys[key_id(secret)] for secret in reversed(secrets)]
        self._mac_key = _derive(lookup_secret or secret_key, b"field-lookup-hash")

    def encrypt(self, plaintext: str, *, context: str) -> str:
        """Ciphertext as 'v2:<key id>:<base64(nonce|ct)>'; context (the column) is bound as associated data."""
        nonce = os.urandom(12)
        sealed = self._keys[self.current_key_id].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{_NAMED}:{self.current_key_id}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, *, context: str) -> str:
        """The plaintext of encrypt() under any known key; raises on tampering or an unknown key."""
        version, _, rest = token.partition(":")
        if version == _NAMED:
            name, _, payload = rest.partition(":")
            if name not in self._keys:
                raise ValueError(f"sealed under key {name}, which is not configured (security.previous_secret_keys)")
            return self._open(self._keys[name], payload, context)
        if version == _UNNAMED:
            for aead in self._unnamed_order:
                try:
                    return self._open(aead, rest, context)
                except InvalidTag:
                    continue
            raise ValueError("sealed under a key that is not configured (security.previous_secret_keys)")
        raise ValueError("unknown ciphertext version")

    def is_current(self, token: str) -> bool:
        """Whether this value is sealed under the current key (a rotation leaves it as it is)."""
        return token.startswith(f"{_NAMED}:{self.current_key_id}:")

    def reseal(self, token: str, *, context: str) -> str:
        """The same value sealed under the current key."""
        return token if self.is_current(token) else self.encrypt(self.decrypt(token, context=context), context=context)

    @staticmethod
    def _open(aead: AESGCM, payload: str, context: str) -> str:
        raw = base64.b64decode(payload)
        return aead.decrypt(raw[:12], raw[12:], context.encode()).decode()

    def lookup_hash(self, value: str, *, context: str) -> str:
        """A keyed hash to find a row by an encrypted value without decrypting every row."""
        return hmac.new(self._mac_key, f"{context}:{value}".encode(), hashlib.sha256).hexdigest()


def cipher_from(security) -> FieldCipher:
    """The field cipher of these security settings (current key, previous keys, lookup secret)."""
    return FieldCipher(
        security.secret_key, previous_keys=security.previous_secret_keys, lookup_secret=security.lookup_secret
    )


def token_digest(token: str) -> str:
    """What the cache stores for a login token: its SHA-256, so a cache dump holds no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()
