"""The answers a process remembers (app/core/view_memo.py): a citizen's case, cases and inbox, forgotten on every
change PostgreSQL tells of, whoever made it; and the public guide and search answers, forgotten on a catalogue edit."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from app.core.db import own_connection
from app.core.view_memo import CHANNEL, ChangeListener, ViewMemo, citizen_views
from tests import factories as f
from tests.conftest import BACKEND
from tests.core.test_metrics import sample, scrape

# PostgreSQL's notice of a change arrives in milliseconds; a loaded two-core machine gets a margin. A bound on
# behaviour, not a speed target.
NOTICE_BOUND_SECONDS = 3

postgres_only = pytest.mark.skipif(
    BACKEND != "postgres", reason="the notices come from PostgreSQL triggers; SQLite remembers nothing per citizen"
)


# ---- the memo itself ----


def test_a_body_read_before_its_owner_was_forgotten_is_not_kept():
    memo = ViewMemo(needs_listener=False)
    memo.configure(30)
    stamp = memo.stamp(7)
    memo.forget(7)  # the owner's data changed while the read was under way
    memo.put(7, "/cases", stamp, b"old")
    assert memo.get(7, "/cases") is None
    memo.put(7, "/cases", memo.stamp(7), b"new")
    assert memo.get(7, "/cases") == b"new"


def test_forgetting_one_owner_keeps_the_others():
    memo = ViewMemo(needs_listener=False)
    memo.configure(30)
    memo.put(1, "/cases", memo.stamp(1), b"one")
    memo.put(1, "/cases/5", memo.stamp(1), b"one's case")
    memo.put(2, "/cases", memo.stamp(2), b"two")
    memo.forget(1)
    assert memo.get(1, "/cases") is None and memo.get(1, "/cases/5") is None
    assert memo.get(2, "/cases") == b"two"
    stamp = memo.stamp(2)
    memo.forget_all()
    memo.put(2, "/cases", stamp, b"stale")
    assert memo.get(2, "/cases") is None


def test_a_citizen_memo_without_a_listener_remembers_nothing():
    memo = ViewMemo(needs_listener=True)
    memo.configure(30)
    memo.put(1, "/cases", memo.stamp(1), b"one")
    assert not memo.serving and memo.get(1, "/cases") is None
    memo.listening = True
    memo.put(1, "/cases", memo.stamp(1), b"one")
    assert memo.get(1, "/cases") == b"one"


async def test_citizens_answers_are_remembered_only_where_changes_are_heard_of(app, settings):
    """SQLite has no NOTIFY: there a server remembers no citizen's answer, whatever the configuration says."""
    from app.main import start_change_listener

    configured = settings.model_copy(update={"server": settings.server.model_copy(update={"citizen_memo_seconds": 30})})
    await start_change_listener(app, configured)
    try:
        assert citizen_views.serving is (BACKEND == "postgres")
        assert (app.ctx.change_listener is not None) is (BACKEND == "postgres")
    finally:
        if app.ctx.change_listener is not None:
            await app.ctx.change_listener.stop()
        citizen_views.configure(0)
        app.ctx.change_listener = None


# ---- on PostgreSQL: the notices ----


@pytest.fixture
async def remembering(app, settings):
    """The suite's server remembering citizens' answers as a production server does (30 s), told of changes by a
    listener of its own; off again afterwards."""
    listener = ChangeListener(lambda: own_connection(settings), retry_seconds=0.2)
    citizen_views.configure(30)
    await listener.start()
    assert citizen_views.serving
    yield listener
    await listener.stop()
    citizen_views.configure(0)


def remembered_body(citizen: dict, path: str) -> bytes | None:
    return citizen_views.bodies.get((citizen["id"], (path, "")))


async def until_forgotten(citizen: dict, path: str) -> None:
    """Wait until the citizen's remembered answer for path is gone (fails past the bound)."""
    started = time.monotonic()
    while remembered_body(citizen, path) is not None:
        assert time.monotonic() - started < NOTICE_BOUND_SECONDS, f"{path} still remembered"
        await asyncio.sleep(0.01)


async def submitted_case(client, cache) -> tuple[dict, dict, dict, str]:
    """A department's setup, its citizen, their submitted case and the case's path."""
    setup = await f.case_setup(client, cache)
    case = await f.submitted_case(client, setup)
    return setup, setup["citizen"], case, f"/api/v1/cases/{case['id']}"


@postgres_only
async def test_a_staff_move_is_seen_by_the_citizen_once_the_notice_arrives(client, cache, remembering):
    setup, citizen, case, path = await submitted_case(client, cache)
    first = await client.get(path, headers=citizen["headers"])
    again = await client.get(path, headers=citizen["headers"])
    assert again.status_code == 200 and again.content == first.content
    assert remembered_body(citizen, path) == first.content
    assert remembered_body(citizen, "/api/v1/cases") is None
    listed = await client.get("/api/v1/cases", headers=citizen["headers"])
    assert remembered_body(citizen, "/api/v1/cases") == listed.content

    accepted = await f.moved(client, case, setup["clerk"], "accept")
    await until_forgotten(citizen, path)
    assert remembered_body(citizen, "/api/v1/cases") is None  # every answer of theirs, not just that case
    seen = (await client.get(path, headers=citizen["headers"])).json()
    assert seen["status"] == accepted["status"] != "submitted"
    assert [entry["action"] for entry in seen["timeline"]][-1] == "accept"
    mine = (await client.get("/api/v1/cases", headers=citizen["headers"])).json()
    assert [item["status"] for item in mine["items"] if item["id"] == case["id"]] == [accepted["status"]]


@postgres_only
async def test_a_change_written_by_another_process_is_heard_of(client, cache, settings, remembering):
    """A worker or another node writes with its own connection: the trigger tells every listener."""
    setup, citizen, case, path = await submitted_case(client, cache)
    assert (await client.get(path, headers=citizen["headers"])).json()["paid"] is False
    assert (await client.get("/api/v1/me/messages", headers=citizen["headers"])).json()["total"] == 0
    assert remembered_body(citizen, path) is not None

    other = await own_connection(settings)
    try:
        await other.execute("UPDATE case_file SET paid = true WHERE id = $1", case["id"])
        await until_forgotten(citizen, path)
        assert (await client.get(path, headers=citizen["headers"])).json()["paid"] is True

        await other.execute(
            "INSERT INTO inbox_message (event_id, citizen_id, kind, title, body, subject, created_at) "
            "VALUES ($1, $2, 'case.accepted', '办件进度', '您的办件已受理', $3, now())",
            time.time_ns() % 2**62,
            citizen["id"],
            f'{{"type": "case", "id": {case["id"]}}}',
        )
        await until_forgotten(citizen, "/api/v1/me/messages")
        inbox = (await client.get("/api/v1/me/messages", headers=citizen["headers"])).json()
        assert inbox["total"] == 1 and inbox["unread"] == 1
    finally:
        await other.close()


@postgres_only
async def test_a_citizens_own_write_is_seen_at_once_without_waiting_for_the_notice(client, cache, remembering):
    setup = await f.case_setup(client, cache)
    citizen = setup["citizen"]
    case = await f.draft(client, setup)
    path = f"/api/v1/cases/{case['id']}"
    assert (await client.get(path, headers=citizen["headers"])).json()["form"] == {"reason": "办理需要"}
    # Notices are not heard for a moment: the process's own forgetting must be enough for the writer.
    await remembering.connection.remove_listener(CHANNEL, remembering._notified)
    edited = await client.put(
        f"{path}/form", json={"form": {"reason": "补办"}, "version": case["version"]}, headers=citizen["headers"]
    )
    assert edited.status_code == 200, edited.text
    assert (await client.get(path, headers=citizen["headers"])).json()["form"] == {"reason": "补办"}


@postgres_only
async def test_a_revoked_grant_ends_the_proxys_remembered_view(client, cache, remembering):
    setup = await f.case_setup(client, cache)
    principal, (proxy, grant) = setup["citizen"], await f.granted_proxy(client, setup, "王五")
    case = await f.draft(client, setup, proxy, on_behalf_of=principal["id"])
    path = f"/api/v1/cases/{case['id']}"
    assert (await client.get(path, headers=proxy["headers"])).status_code == 200
    assert [c["id"] for c in (await client.get("/api/v1/cases", headers=proxy["headers"])).json()["items"]] == [
        case["id"]
    ]
    revoked = await client.post(f"/api/v1/me/proxies/{grant['id']}/revoke", headers=principal["headers"])
    assert revoked.status_code == 200
    await until_forgotten(proxy, path)
    await until_forgotten(proxy, "/api/v1/cases")
    assert (await client.get(path, headers=proxy["headers"])).status_code == 404
    assert (await client.get("/api/v1/cases", headers=proxy["headers"])).json()["items"] == []


@postgres_only
async def test_a_lost_listening_connection_turns_the_memo_off_until_it_listens_again(
    client, cache, settings, remembering
):
    setup, citizen, case, path = await submitted_case(client, cache)
    await client.get(path, headers=citizen["headers"])
    assert remembered_body(citizen, path) is not None
    assert sample(await scrape(client), "govhall_citizen_memo_listening") == 1
    listening_pid = remembering.connection.get_server_pid()

    admin = await asyncpg.connect(settings.database.url)
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", listening_pid)
    finally:
        await admin.close()
    started = time.monotonic()
    while citizen_views.serving:  # the connection's loss is noticed
        assert time.monotonic() - started < NOTICE_BOUND_SECONDS
        await asyncio.sleep(0.01)
    assert remembered_body(citizen, path) is None
    assert sample(await scrape(client), "govhall_citizen_memo_listening") == 0  # what an operator sees
    # Meanwhile every read goes to the database, and a change is seen at once.
    accepted = await f.moved(client, case, setup["clerk"], "accept")
    assert (await client.get(path, headers=citizen["headers"])).json()["version"] == accepted["version"]
    assert remembered_body(citizen, path) is None
    while not citizen_views.serving:  # listening again on a new connection
        assert time.monotonic() - started < 5 * NOTICE_BOUND_SECONDS
        await asyncio.sleep(0.05)
    assert remembering.connection.get_server_pid() != listening_pid
    await client.get(path, headers=citizen["headers"])
    assert remembered_body(citizen, path) is not None


# ---- the public answers ----


async def test_a_guide_edit_is_answered_at_once_by_the_process_that_made_it(client, cache, admin_headers):
    from app.catalog.service import memo

    matter = await f.matter(cache)
    path = f"/api/v1/matters/{matter['id']}"
    before = await client.get(path)
    assert before.status_code == 200
    assert memo.answers.get("public", (path, "")) == before.content
    body = f.guide_payload(matter["department_id"], version=1, name="新名称的事项")
    renamed = await client.put(f"/api/v1/admin/matters/{matter['id']}", json=body, headers=admin_headers)
    assert renamed.status_code == 200, renamed.text
    assert memo.answers.get("public", (path, "")) is None
    assert (await client.get(path)).json()["name"] == "新名称的事项"


def test_a_remembered_result_is_encoded_once_and_a_new_one_again():
    """The slot listing a process remembers is answered many times: its body is shaped once per object."""
    from pydantic import BaseModel

    from app.core.http import respond_remembered

    class Seat(BaseModel):
        id: int
        remaining: int

    listing = [{"id": 1, "remaining": 3}]
    first = respond_remembered(list[Seat], listing)
    assert respond_remembered(list[Seat], listing).body is first.body  # the same bytes, not encoded again
    reloaded = [{"id": 1, "remaining": 2}]  # the memo expired or a booking dropped it: a new object
    assert respond_remembered(list[Seat], reloaded).body == b'[{"id":1,"remaining":2}]'
    assert respond_remembered(list[Seat], listing).body == b'[{"id":1,"remaining":3}]'
