"""The committed TypeScript types of the API client are generated from the backend's OpenAPI document of now."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.servers import ROOT

pytestmark = pytest.mark.backend_independent

TYPES = ROOT / "packages" / "api-client" / "src" / "schema.d.ts"


def test_generated_types__match_the_backends_document():
    first_line = TYPES.read_text(encoding="utf-8").split("\n", 1)[0]
    recorded = re.search(r"sha256 ([0-9a-f]{64})", first_line)
    assert recorded, f"{TYPES} has no generator header: regenerate it with `make api-client`"
    # In a process of its own: building the app configures logging and password hashing process-wide.
    done = subprocess.run(
        [sys.executable, "scripts/export_openapi.py", "--digest"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert recorded.group(1) == done.stdout.strip(), (
        "packages/api-client/src/schema.d.ts is out of date with the backend's routes and schemas: "
        "run `make api-client` and commit the result"
    )
