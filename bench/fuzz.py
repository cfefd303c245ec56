"""Schemathesis at length over a running server: the passes of tests/test_fuzz.py with many examples.

    .venv/bin/python bench/fuzz.py --base-url http://127.0.0.1:8000 [--max-examples 500] [--seed N] [--shrink]
        [--admin-username NAME --admin-password PASSWORD]

Every operation but /sim, anonymously and as a new real-name citizen (logged in through the server's /sim
simulators, so the server runs with app.env test or dev), and, given an admin's credentials, the admin's reads - the
same operations as the test, for the reasons written in tests/fuzzing.py, so a run leaves the data as it found it
apart from the citizen's own. Without --seed each run draws new examples. Prints every failure with a curl command
that reproduces it; exits 1 when there is any.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import factories  # noqa: E402
from tests.fuzzing import Pass, admin_allows, anonymous_allows, citizen_allows, fuzz, load  # noqa: E402


async def _logins(base_url: str, admin_username: str | None, admin_password: str | None) -> list[Pass]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        citizen = await factories.real_name_citizen(http)
        passes = [
            Pass("anonymous", {}, anonymous_allows, anonymous=True),
            Pass("citizen", citizen["headers"], citizen_allows),
        ]
        if admin_username:
            answer = await http.post(
                "/api/v1/auth/staff", json={"username": admin_username, "password": admin_password or ""}
            )
            answer.raise_for_status()
            passes.append(Pass("admin", {"Authorization": f"Bearer {answer.json()['token']}"}, admin_allows))
    return passes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--max-examples", type=int, default=500, help="examples per operation and pass")
    parser.add_argument("--seed", type=int, default=None, help="draw the same examples as an earlier run")
    parser.add_argument("--shrink", action="store_true", help="shrink a failing example to its smallest form")
    parser.add_argument("--admin-username")
    parser.add_argument("--admin-password")
    args = parser.parse_args()
    base_url = args.base_url.rstrip("/")
    passes = asyncio.run(_logins(base_url, args.admin_username, args.admin_password))
    schema = load(base_url)
    failures = []
    for fuzz_pass in passes:
        started = time.monotonic()
        found = fuzz(schema, base_url, fuzz_pass, max_examples=args.max_examples, seed=args.seed, shrink=args.shrink)
        print(f"{fuzz_pass.name}: {len(found)} failing operations in {time.monotonic() - started:.0f}s", flush=True)
        failures += found
    for failure in failures:
        print(f"\n{failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
