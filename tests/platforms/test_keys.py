"""Simulator keys: generated once, shared by every process, never half-written; RSA2 as the Alipay SDK does it."""

from __future__ import annotations

import json
import stat
import subprocess
import sys

from alipay.aop.api.util.SignatureUtils import sign_with_rsa2, verify_with_rsa

from app.core.config import PROJECT_ROOT
from app.platforms.keys import (
    SIM_KEY_PAIRS,
    _write_once,
    ensure_sim_keys,
    generate_key_pair,
    key_pair_from_private,
    load_private_key,
    pkcs1_private_pem,
    rsa2_sign,
    rsa2_verify,
)
from tests.platforms.conftest import with_changes

# A freshly started process: loads (or generates) the keys of a folder and prints their public halves.
_CHILD = """
import json, sys
from app.platforms.keys import _load_sim_keys
print(json.dumps({name: pair.public_pem for name, pair in _load_sim_keys(sys.argv[1]).pairs.items()}))
"""


def test_keys_are_generated_once_into_the_folder_and_kept(settings, tmp_path):
    folder = tmp_path / "keys"
    keys = ensure_sim_keys(with_changes(settings, platforms={"sim_keys_dir": str(folder)}))
    assert set(keys.pairs) == set(SIM_KEY_PAIRS)
    assert keys.alipay_app.public_pem != keys.alipay_platform.public_pem
    for name in SIM_KEY_PAIRS:
        path = folder / f"{name}.pem"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert key_pair_from_private(load_private_key(path.read_text())) == keys[name]


def test_relative_key_folder_is_under_the_project_root(settings):
    assert not settings.platforms.sim_keys_dir.startswith("/")
    keys = ensure_sim_keys(settings)
    assert (PROJECT_ROOT / settings.platforms.sim_keys_dir / "alipay_app.pem").exists()
    assert keys.alipay_app.private_pem


def test_processes_starting_together_end_up_with_the_same_keys(tmp_path):
    folder = tmp_path / "shared-keys"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(folder)], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    seen = [json.loads(child.communicate(timeout=60)[0]) for child in children]
    assert all(child.returncode == 0 for child in children)
    assert all(keys == seen[0] for keys in seen)
    # No temporary files left behind, only the pairs themselves.
    assert sorted(path.name for path in folder.iterdir()) == sorted(f"{name}.pem" for name in SIM_KEY_PAIRS)


def test_a_key_file_is_never_replaced_once_written(tmp_path):
    path = tmp_path / "pair.pem"
    _write_once(path, "first")
    _write_once(path, "second")
    assert path.read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["pair.pem"]


def test_rsa2_matches_the_alipay_sdk_both_ways():
    pair = generate_key_pair()
    text = "app_id=2021000000000001&method=alipay.system.oauth.token&sign_type=RSA2&中文=值"
    ours = rsa2_sign(pair.private_pem, text)
    assert verify_with_rsa(pair.public_pem, text.encode("utf-8"), ours)
    theirs = sign_with_rsa2(pkcs1_private_pem(load_private_key(pair.private_pem)), text, "utf-8")
    assert theirs == ours  # PKCS#1 v1.5 signatures are deterministic
    assert rsa2_verify(pair.public_pem, text, theirs)
    assert not rsa2_verify(pair.public_pem, text + "&tampered=1", theirs)
    assert not rsa2_verify(pair.public_pem, text, "not base64!")
