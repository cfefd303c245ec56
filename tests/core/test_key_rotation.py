"""Rotating security.secret_key: values sealed under an old key stay readable, rows are found as before, and
`python -m app rotate-keys` reseals every stored value under the new key."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest
from cryptography.exceptions import InvalidTag

from app.core.crypto import FieldCipher, _derive, key_id
from tests import factories
from tests.servers import ROOT

OLD = "old-secret-0123456789abcdef0123456789abcdef"
NEW = "new-secret-fedcba9876543210fedcba9876543210"


def _sealed_before_rotations(secret: str, plaintext: str, context: str) -> str:
    """A value as the first release sealed it: 'v1:' and no key id."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    sealed = AESGCM(_derive(secret, b"field-encryption")).encrypt(nonce, plaintext.encode(), context.encode())
    return "v1:" + base64.b64encode(nonce + sealed).decode()


def test_old_values_open_under_the_previous_key_and_new_ones_are_sealed_under_the_new():
    rotated = FieldCipher(NEW, previous_keys=[OLD], lookup_secret=OLD)
    first_release = _sealed_before_rotations(OLD, "11010119900307457X", "id_number")
    named_old = FieldCipher(OLD).encrypt("13812345678", context="phone")
    assert rotated.decrypt(first_release, context="id_number") == "11010119900307457X"
    assert rotated.decrypt(named_old, context="phone") == "13812345678"

    fresh = rotated.encrypt("11010119900307457X", context="id_number")
    assert fresh.startswith(f"v2:{key_id(NEW)}:") and rotated.is_current(fresh)
    assert not rotated.is_current(named_old)
    assert FieldCipher(NEW).decrypt(rotated.reseal(first_release, context="id_number"), context="id_number") == (
        "11010119900307457X"
    )
    # rows are found as before: the lookup hash does not follow the encryption key
    assert rotated.lookup_hash("11010119900307457X", context="id_number") == FieldCipher(OLD).lookup_hash(
        "11010119900307457X", context="id_number"
    )


def test_a_value_under_a_key_nobody_configured_is_refused_not_guessed():
    with pytest.raises(ValueError, match="previous_secret_keys"):
        FieldCipher(NEW).decrypt(FieldCipher(OLD).encrypt("x", context="id_number"), context="id_number")
    with pytest.raises(ValueError, match="previous_secret_keys"):
        FieldCipher(NEW).decrypt(_sealed_before_rotations(OLD, "x", "id_number"), context="id_number")
    # the context is bound: a phone's ciphertext does not open as an ID number
    with pytest.raises(InvalidTag):
        FieldCipher(OLD).decrypt(FieldCipher(OLD).encrypt("x", context="phone"), context="id_number")


def _rotate(settings, *, to: str, previous: list[str], lookup: str) -> str:
    env = {
        **os.environ,
        "APP_DATABASE__URL": settings.database.url,
        "APP_CACHE__URL": settings.cache.url,
        "APP_CACHE__KEY_PREFIX": settings.cache.key_prefix,
        "APP_SECURITY__SECRET_KEY": to,
        "APP_SECURITY__PREVIOUS_SECRET_KEYS": json.dumps(previous),
        "APP_SECURITY__LOOKUP_SECRET": lookup,
    }
    done = subprocess.run(
        [sys.executable, "-m", "app", "rotate-keys"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_rotate_keys_reseals_every_stored_value_and_the_service_reads_them(app, client, cache, settings):
    from app.cases.models import Case
    from app.identity.models import Citizen

    current = settings.security.secret_key
    setup = await factories.case_setup(client, cache)
    citizen = await factories.real_name_citizen(client, "王五")
    case = await factories.submitted_case(client, setup, citizen)

    # to a new key: every row sealed under it, readable with the new key alone
    output = _rotate(settings, to=NEW, previous=[current], lookup=current)
    assert "citizen:" in output and "resealed" in output
    row = await Citizen.get(id=citizen["id"])
    assert row.id_number_encrypted.startswith(f"v2:{key_id(NEW)}:")
    assert FieldCipher(NEW).decrypt(row.id_number_encrypted, context="id_number") == citizen["id_number"]
    sealed_case = await Case.get(id=case["id"])
    if sealed_case.id_number_encrypted:
        assert sealed_case.id_number_encrypted.startswith(f"v2:{key_id(NEW)}:")
    assert (
        await Citizen.exclude(id_number_encrypted=None)
        .exclude(id_number_encrypted__startswith=f"v2:{key_id(NEW)}:")
        .count()
        == 0
    )

    # and back to this run's key, which the running service reads: the citizen sees their identity as before
    _rotate(settings, to=current, previous=[NEW], lookup=current)
    me = (await client.get("/api/v1/me", headers=citizen["headers"])).json()
    assert me["real_name_verified"] is True
    assert me["id_number_masked"] == citizen["id_number"][:3] + "*" * 11 + citizen["id_number"][-4:]
    row = await Citizen.get(id=citizen["id"])
    assert app.ctx.cipher.is_current(row.id_number_encrypted)


def test_previous_keys_need_the_lookup_secret_named():
    from app.core.config import ConfigError, load_settings

    with pytest.raises(ConfigError, match="lookup_secret"):
        load_settings(environ={"APP_SECURITY__PREVIOUS_SECRET_KEYS": json.dumps([OLD])})
    with pytest.raises(ConfigError, match="previous_secret_keys"):
        load_settings(environ={"APP_SECURITY__PREVIOUS_SECRET_KEYS": json.dumps(["short"])})
