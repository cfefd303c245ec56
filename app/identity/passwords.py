"""Argon2id staff password hashes at the configured cost; a hash carries its own cost, so older ones still verify."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.core.config import SecuritySection, get_settings


class Passwords:
    """Hashes and verifies passwords at one Argon2id cost."""

    def __init__(self, *, time_cost: int, memory_cost: int, parallelism: int):
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
        # Verified against when the username is unknown, so a wrong username costs as long as a wrong password.
        self._dummy_hash = self.hash("not-a-real-password-0")

    @classmethod
    def from_settings(cls, security: SecuritySection) -> Passwords:
        return cls(
            time_cost=security.password_time_cost,
            memory_cost=security.password_memory_cost,
            parallelism=security.password_parallelism,
        )

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def verify_unknown_user(self, password: str) -> None:
        """Spend what a wrong password costs, so a wrong username cannot be told apart by its speed."""
        self.verify(self._dummy_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made at another cost than the configured one (a login then rehashes it)."""
        return self._hasher.check_needs_rehash(password_hash)


_current: Passwords | None = None


def configure(security: SecuritySection) -> None:
    """Hash at the cost these settings give; called once where a process builds its app or opens the database."""
    global _current
    _current = Passwords.from_settings(security)


def current() -> Passwords:
    """The configured hashing; the process-wide settings' when nothing called configure()."""
    global _current
    if _current is None:
        _current = Passwords.from_settings(get_settings().security)
    return _current
