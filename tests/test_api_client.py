"""The committed TypeScript types of the API client are generated from the backend's OpenAPI document of now."""

from __future__ import annotations

import importlib.util
import re

import pytest

from tests.servers import ROOT

pytestmark = pytest.mark.backend_independent


def _export_script():
    spec = importlib.util.spec_from_file_location("export_openapi", ROOT / "scripts" / "export_openapi.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_types__match_the_backends_document():
    export = _export_script()
    first_line = export.TYPES_PATH.read_text(encoding="utf-8").split("\n", 1)[0]
    recorded = re.search(r"sha256 ([0-9a-f]{64})", first_line)
    assert recorded, f"{export.TYPES_PATH} has no generator header: regenerate it with `make api-client`"
    assert recorded.group(1) == export.digest(export.document_text()), (
        "packages/api-client/src/schema.d.ts is out of date with the backend's routes and schemas: "
        "run `make api-client` and commit the result"
    )
