"""Schemathesis over every operation (but /sim), anonymously, as a real-name citizen and as the admin: 0 server
errors, every answer as the document describes it."""

from __future__ import annotations

import asyncio

from tests import factories
from tests.conftest import SERVER_PORT
from tests.fuzzing import Pass, admin_allows, anonymous_allows, citizen_allows, fuzz, load

BASE_URL = f"http://127.0.0.1:{SERVER_PORT}"
# Few examples per operation, the same ones every run (seeded), no shrinking: seconds per pass, reproducible.
# bench/fuzz.py runs the same passes at length.
MAX_EXAMPLES = 5
SEED = 20261130


async def test_no_operation_answers_a_server_error_or_off_its_document(client, admin_headers):
    citizen = await factories.real_name_citizen(client)
    passes = [
        Pass("anonymous", {}, anonymous_allows, anonymous=True),
        Pass("citizen", citizen["headers"], citizen_allows),
        Pass("admin", admin_headers, admin_allows),
    ]
    # Schemathesis calls synchronously; the app answers on this event loop, so the calls run in a thread.
    schema = await asyncio.to_thread(load, BASE_URL)
    failures = []
    for fuzz_pass in passes:
        failures += await asyncio.to_thread(fuzz, schema, BASE_URL, fuzz_pass, max_examples=MAX_EXAMPLES, seed=SEED)
    assert not failures, "\n\n".join(failures)
