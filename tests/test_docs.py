"""docs/API.md stays true: every operation the app serves (the simulator aside) is named there by its path."""

from __future__ import annotations

import re
from pathlib import Path

API_MD = Path(__file__).resolve().parents[1] / "docs" / "API.md"
PARAMETER = re.compile(r"\{[^}]+\}")


def _shape(path: str) -> str:
    """A path with its parameters' names left out: /cases/{case_id} and /cases/{id} are the same path."""
    return PARAMETER.sub("{}", path.rstrip("/"))


def _documented_paths(text: str) -> set[str]:
    paths = set()
    for match in re.finditer(r"(/(?:api/v1|healthz|openapi\.json|docs|m/|console)[^\s`;,)?]*)", text):
        paths.add(_shape(match.group(1)))
    # "/callback, /fix, /close" after a path: the same prefix with another last part
    for match in re.finditer(r"(/api/v1/[^\s`;,)?]*/)[a-z-]+((?:, /[a-z-]+)+)", text):
        prefix = match.group(1)
        for tail in re.findall(r"/([a-z-]+)", match.group(2)):
            paths.add(_shape(prefix + tail))
    return paths


async def test_every_operation_of_the_app_is_in_api_md(client):
    document = (await client.get("/openapi.json")).json()
    documented = _documented_paths(API_MD.read_text())
    missing = sorted(
        path for path in document["paths"] if not path.startswith("/sim/") and _shape(path) not in documented
    )
    assert not missing, f"docs/API.md does not name: {missing}"
