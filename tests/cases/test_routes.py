"""Cases through HTTP, as the mini-program, the window clerk and the approver use them."""

import asyncio

import pytest

from app.core import outbox
from tests import factories as f
from tests.core.test_errors import assert_error_shape


async def _events(case_id: int) -> list[str]:
    return [event["kind"] for event in await outbox.events_for("case", case_id)]


async def _staff_view(client, case_id: int, actor: dict) -> dict:
    response = await client.get(f"/api/v1/staff/cases/{case_id}", headers=actor["headers"])
    assert response.status_code == 200, response.text
    return response.json()


# ---- application ----


async def test_submit_lists_exactly_the_missing_required_materials(client, cache):
    setup = await f.case_setup(client, cache)
    citizen = setup["citizen"]
    case = await f.draft(client, setup)
    assert case["status"] == "draft" and case["allowed_actions"] == ["submit", "withdraw"]
    assert [m["e_licence"] for m in case["materials"]] == [True, False, False]

    refused = await client.post(f"/api/v1/cases/{case['id']}/submit", headers=citizen["headers"])
    assert_error_shape(refused, 422, "MATERIALS_MISSING")
    assert sorted(refused.json()["error"]["details"]["missing"]) == sorted(setup["required"])

    assert (await f.upload(client, case["id"], setup["required"][0], citizen)).status_code == 201
    assert (await f.upload(client, case["id"], setup["optional"][0], citizen, f.PNG_BYTES, "x.png")).status_code == 201
    refused = await client.post(f"/api/v1/cases/{case['id']}/submit", headers=citizen["headers"])
    assert refused.json()["error"]["details"]["missing"] == [setup["required"][1]]
    unchanged = (await client.get(f"/api/v1/cases/{case['id']}", headers=citizen["headers"])).json()
    assert unchanged["status"] == "draft" and unchanged["version"] == case["version"]

    assert (await f.upload(client, case["id"], setup["required"][1], citizen, f.JPEG_BYTES, "b.jpg")).status_code == 201
    submitted = await client.post(f"/api/v1/cases/{case['id']}/submit", headers=citizen["headers"])
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"
    assert await _events(case["id"]) == ["case.created", "case.submitted"]


async def test_submit_needs_the_required_form_fields(client, cache):
    setup = await f.case_setup(client, cache)
    case = await f.draft(client, setup, form={})
    for material_id in setup["required"]:
        await f.upload(client, case["id"], material_id, setup["citizen"])
    refused = await client.post(f"/api/v1/cases/{case['id']}/submit", headers=setup["citizen"]["headers"])
    assert_error_shape(refused, 422, "INVALID_FORM")
    assert refused.json()["error"]["details"]["fields"][0]["field"] == "form.reason"
    filled = await client.put(
        f"/api/v1/cases/{case['id']}/form",
        headers=setup["citizen"]["headers"],
        json={"form": {"reason": "补办"}, "version": case["version"]},
    )
    assert filled.status_code == 200 and filled.json()["form"] == {"reason": "补办"}
    assert (
        await client.post(f"/api/v1/cases/{case['id']}/submit", headers=setup["citizen"]["headers"])
    ).status_code == 200


async def test_draft_refuses_unknown_form_fields_and_matters(client, cache):
    setup = await f.case_setup(client, cache)
    headers = setup["citizen"]["headers"]
    bad = await client.post(
        "/api/v1/cases", headers=headers, json={"matter_id": setup["matter"]["id"], "form": {"salary": 1}}
    )
    assert_error_shape(bad, 422, "INVALID_FORM")
    missing = await client.post("/api/v1/cases", headers=headers, json={"matter_id": 99_999_999})
    assert missing.status_code == 404
    anonymous = await client.post("/api/v1/cases", json={"matter_id": setup["matter"]["id"]})
    assert anonymous.status_code == 401


async def test_only_real_name_citizens_apply(client, cache):
    setup = await f.case_setup(client, cache)
    stranger = await f.wechat_login(client)
    response = await client.post(
        "/api/v1/cases", headers=stranger["headers"], json={"matter_id": setup["matter"]["id"], "form": {}}
    )
    assert_error_shape(response, 403, "REAL_NAME_REQUIRED")


async def test_a_matter_not_offered_online_is_refused(client, cache):
    dep = await f.department(cache)
    window_only = await f.matter(cache, department_id=dep["id"], online_depth=2)
    citizen = await f.real_name_citizen(client)
    response = await client.post(
        "/api/v1/cases", headers=citizen["headers"], json={"matter_id": window_only["id"], "form": {}}
    )
    assert_error_shape(response, 422, "ONLINE_NOT_OFFERED")


async def test_idempotency_key_returns_the_same_draft(client, cache):
    setup = await f.case_setup(client, cache)
    headers = {**setup["citizen"]["headers"], "Idempotency-Key": "draft-1"}
    body = {"matter_id": setup["matter"]["id"], "form": {"reason": "x"}}
    first = await client.post("/api/v1/cases", headers=headers, json=body)
    again = await client.post("/api/v1/cases", headers=headers, json=body)
    assert first.status_code == 201 and again.status_code == 201
    assert first.json()["id"] == again.json()["id"]


# ---- uploads ----


async def test_uploads_are_checked_by_content_and_size(client, cache, settings):
    setup = await f.case_setup(client, cache)
    citizen = setup["citizen"]
    case = await f.draft(client, setup)
    material_id = setup["required"][0]
    disguised = await f.upload(client, case["id"], material_id, citizen, b"MZ\x90\x00 not a pdf", "virus.pdf")
    assert_error_shape(disguised, 415, "UNSUPPORTED_FILE_TYPE")
    gif = await f.upload(client, case["id"], material_id, citizen, b"GIF89a" + b"\x00" * 20, "a.png")
    assert_error_shape(gif, 415, "UNSUPPORTED_FILE_TYPE")
    limit = settings.storage.max_upload_bytes
    too_big = await f.upload(client, case["id"], material_id, citizen, f.PDF_BYTES + b"\x00" * limit, "big.pdf")
    assert_error_shape(too_big, 413, "FILE_TOO_LARGE")
    unknown = await f.upload(client, case["id"], 99_999_999, citizen)
    assert_error_shape(unknown, 422, "UNKNOWN_MATERIAL")
    no_file = await client.post(
        f"/api/v1/cases/{case['id']}/materials", headers=citizen["headers"], data={"material_id": str(material_id)}
    )
    assert_error_shape(no_file, 422, "VALIDATION_FAILED")
    view = (await client.get(f"/api/v1/cases/{case['id']}", headers=citizen["headers"])).json()
    assert all(m["files"] == [] for m in view["materials"])


async def test_the_applicant_reads_back_the_file_and_may_take_it_back_before_submitting(client, cache):
    setup = await f.case_setup(client, cache)
    citizen = setup["citizen"]
    case = await f.draft(client, setup)
    stored = (await f.upload(client, case["id"], setup["required"][0], citizen, f.PNG_BYTES, "../../id.png")).json()
    assert stored["content_type"] == "image/png" and stored["file_name"] == "id.png"
    download = await client.get(f"/api/v1/cases/{case['id']}/materials/{stored['id']}", headers=citizen["headers"])
    assert download.status_code == 200
    assert download.content == f.PNG_BYTES
    assert download.headers["content-type"] == "image/png"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith("attachment")
    removed = await client.delete(f"/api/v1/cases/{case['id']}/materials/{stored['id']}", headers=citizen["headers"])
    assert removed.status_code == 204
    gone = await client.get(f"/api/v1/cases/{case['id']}/materials/{stored['id']}", headers=citizen["headers"])
    assert gone.status_code == 404


async def test_files_cannot_change_after_submission(client, cache):
    setup = await f.case_setup(client, cache)
    case = await f.submitted_case(client, setup)
    late = await f.upload(client, case["id"], setup["optional"][0], setup["citizen"])
    assert_error_shape(late, 409, "CASE_NOT_EDITABLE")
    file_id = case["materials"][0]["files"][0]["id"]
    removal = await client.delete(
        f"/api/v1/cases/{case['id']}/materials/{file_id}", headers=setup["citizen"]["headers"]
    )
    assert_error_shape(removal, 409, "CASE_NOT_EDITABLE")


# ---- who sees what ----


async def test_another_citizen_and_another_department_get_404(client, cache):
    setup = await f.case_setup(client, cache)
    case = await f.submitted_case(client, setup)
    file_id = case["materials"][0]["files"][0]["id"]
    other = await f.real_name_citizen(client, "李四")
    for path in (f"/api/v1/cases/{case['id']}", f"/api/v1/cases/{case['id']}/materials/{file_id}"):
        assert_error_shape(await client.get(path, headers=other["headers"]), 404, "CASE_NOT_FOUND")
    assert (await f.upload(client, case["id"], setup["optional"][0], other)).status_code == 404
    assert (await client.post(f"/api/v1/cases/{case['id']}/withdraw", headers=other["headers"])).status_code == 404
    assert case["id"] not in [
        c["id"] for c in (await client.get("/api/v1/cases", headers=other["headers"])).json()["items"]
    ]

    foreign_dep = await f.department(cache)
    foreign_clerk = await f.staff(client, "clerk", department_id=foreign_dep["id"])
    for path in (f"/api/v1/staff/cases/{case['id']}", f"/api/v1/staff/cases/{case['id']}/materials/{file_id}"):
        assert (await client.get(path, headers=foreign_clerk["headers"])).status_code == 404
    attempt = await f.move(client, case, foreign_clerk, "accept")
    assert attempt.status_code == 404
    listed = (await client.get("/api/v1/staff/cases", headers=foreign_clerk["headers"])).json()
    assert case["id"] not in [c["id"] for c in listed["items"]]

    own = await client.get(f"/api/v1/staff/cases/{case['id']}/materials/{file_id}", headers=setup["clerk"]["headers"])
    assert own.status_code == 200 and own.content == f.PDF_BYTES
    supervisor = await f.shared_staff(client, "supervisor")
    assert (await client.get(f"/api/v1/staff/cases/{case['id']}", headers=supervisor["headers"])).status_code == 200
    # A supervisor sees every department but cannot act for one.
    assert_error_shape(await f.move(client, case, supervisor, "accept"), 403, "ROLE_NOT_ALLOWED")


async def test_citizens_cannot_use_staff_endpoints_and_staff_not_citizen_ones(client, cache):
    setup = await f.case_setup(client, cache)
    case = await f.submitted_case(client, setup)
    assert (await client.get("/api/v1/staff/cases", headers=setup["citizen"]["headers"])).status_code == 403
    assert (await f.move(client, case, setup["citizen"], "accept")).status_code == 403
    assert (await client.get(f"/api/v1/cases/{case['id']}", headers=setup["clerk"]["headers"])).status_code == 403


async def test_proxy_files_for_the_grantor_and_loses_sight_when_the_grant_is_revoked(client, cache):
    setup = await f.case_setup(client, cache)
    principal, (proxy, grant) = setup["citizen"], await f.granted_proxy(client, setup, "王五")
    case = await f.draft(client, setup, proxy, on_behalf_of=principal["id"])
    assert case["filed_by_proxy"] is True and case["applicant_name"] == principal["name"]
    for material_id in setup["required"]:
        assert (await f.upload(client, case["id"], material_id, proxy)).status_code == 201
    assert (await client.get(f"/api/v1/cases/{case['id']}", headers=principal["headers"])).status_code == 200
    timeline = (await client.get(f"/api/v1/cases/{case['id']}", headers=principal["headers"])).json()["timeline"]
    assert timeline[0]["actor"] == "proxy"

    # a citizen who granted this proxy nothing (a staff id was used here once: as a citizen id it could be the
    # principal's, when the suite ran in another order)
    stranger = await f.real_name_citizen(client, "赵七")
    unauthorised = await client.post(
        "/api/v1/cases",
        headers=proxy["headers"],
        json={"matter_id": setup["matter"]["id"], "on_behalf_of": stranger["id"]},
    )
    assert unauthorised.status_code == 403
    revoked = await client.post(f"/api/v1/me/proxies/{grant['id']}/revoke", headers=principal["headers"])
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["active"] is False
    assert (await client.get(f"/api/v1/cases/{case['id']}", headers=proxy["headers"])).status_code == 404
    assert (await client.get(f"/api/v1/cases/{case['id']}", headers=principal["headers"])).status_code == 200


async def test_my_cases_are_paged_in_the_database_with_the_proxy_cases_of_standing_grants(client, cache):
    setup = await f.case_setup(client, cache)
    principal, proxy = setup["citizen"], await f.real_name_citizen(client, "赵六")
    own = [(await f.draft(client, setup, proxy))["id"] for _ in range(3)]
    grant = await client.post(
        "/api/v1/me/proxies",
        headers=principal["headers"],
        json={"matter_id": setup["matter"]["id"], "name": "赵六", "id_number": proxy["id_number"]},
    )
    assert grant.status_code == 201, grant.text
    for_principal = [(await f.draft(client, setup, proxy, on_behalf_of=principal["id"]))["id"] for _ in range(2)]
    newest_first = sorted(own + for_principal, reverse=True)

    async def page(number: int, **params) -> dict:
        answer = await client.get(
            "/api/v1/cases", headers=proxy["headers"], params={"page": number, "page_size": 2, **params}
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    pages = [await page(number) for number in (1, 2, 3, 4)]
    assert [[c["id"] for c in p["items"]] for p in pages] == [
        newest_first[0:2],
        newest_first[2:4],
        newest_first[4:],
        [],
    ]
    assert [p["total"] for p in pages] == [5, 5, 5, 5]
    assert (await page(1, status="submitted"))["total"] == 0

    revoked = await client.post(f"/api/v1/me/proxies/{grant.json()['id']}/revoke", headers=principal["headers"])
    assert revoked.status_code == 200, revoked.text
    after = [await page(number) for number in (1, 2)]
    assert [c["id"] for p in after for c in p["items"]] == sorted(own, reverse=True)
    assert [p["total"] for p in after] == [3, 3]
    # The grantor sees the cases filed in their name either way.
    theirs = (await client.get("/api/v1/cases", headers=principal["headers"])).json()
    assert set(for_principal) <= {c["id"] for c in theirs["items"]}


# ---- the workflow ----


async def test_the_whole_road_from_draft_to_delivery(client, cache):
    setup = await f.case_setup(client, cache)
    clerk, approver, citizen = setup["clerk"], setup["approver"], setup["citizen"]
    case = await f.submitted_case(client, setup)
    listed = (await client.get("/api/v1/staff/cases", params={"status": "submitted"}, headers=clerk["headers"])).json()
    assert case["id"] in [c["id"] for c in listed["items"]]
    seen = await _staff_view(client, case["id"], clerk)
    assert seen["allowed_actions"] == ["accept", "request_supplement", "reject"]

    accepted = await f.moved(client, seen, clerk, "accept")
    assert accepted["status"] == "accepted" and accepted["light"] == "green"
    assert accepted["receipt_no"].startswith(f"{setup['department']['code']}-")
    assert accepted["deadline"] is not None
    assert (await f.move(client, accepted, clerk, "start_review")).status_code == 403
    reviewing = await f.moved(client, accepted, approver, "start_review")
    approved = await f.moved(client, reviewing, approver, "approve", note="符合条件")
    no_tracking = await f.move(client, approved, clerk, "deliver", method="express")
    assert_error_shape(no_tracking, 422, "VALIDATION_FAILED")
    delivered = await f.moved(client, approved, clerk, "deliver", method="express", tracking_no="SF1234567890")
    assert delivered["status"] == "delivered" and delivered["light"] is None
    assert delivered["delivery"] == {"method": "express", "tracking_no": "SF1234567890"}

    mine = (await client.get(f"/api/v1/cases/{case['id']}", headers=citizen["headers"])).json()
    assert [(t["from"], t["to"]) for t in mine["timeline"]] == [
        (None, "draft"),
        ("draft", "submitted"),
        ("submitted", "accepted"),
        ("accepted", "in_review"),
        ("in_review", "approved"),
        ("approved", "delivered"),
    ]
    assert [t["actor"] for t in mine["timeline"]] == [
        "applicant",
        "applicant",
        "clerk",
        "approver",
        "approver",
        "clerk",
    ]
    assert all("actor_id" not in t for t in mine["timeline"])  # staff identities stay inside the hall
    assert mine["receipt_no"] == accepted["receipt_no"] and mine["allowed_actions"] == []
    assert await _events(case["id"]) == [
        "case.created",
        "case.submitted",
        "case.accepted",
        "case.in_review",
        "case.approved",
        "case.delivered",
    ]
    accepted_event = [e for e in await outbox.events_for("case", case["id"]) if e["kind"] == "case.accepted"][0]
    assert accepted_event["citizen_id"] == citizen["id"]
    assert accepted_event["payload"]["receipt_no"] == accepted["receipt_no"]
    assert accepted_event["payload"]["deadline"] == accepted["deadline"]


async def test_supplement_lists_every_item_and_resubmission_needs_new_files(client, cache):
    setup = await f.case_setup(client, cache)
    clerk, citizen = setup["clerk"], setup["citizen"]
    case = await _staff_view(client, (await f.submitted_case(client, setup))["id"], clerk)
    empty = await f.move(client, case, clerk, "request_supplement", items=[])
    assert_error_shape(empty, 422, "VALIDATION_FAILED")
    items = [{"material_id": setup["required"][0], "reason": "身份证照片模糊"}, {"reason": "申请事由写得不清楚"}]
    waiting = await f.moved(client, case, clerk, "request_supplement", items=items)
    assert waiting["status"] == "supplement_required" and waiting["light"] is None
    mine = (await client.get(f"/api/v1/cases/{case['id']}", headers=citizen["headers"])).json()
    assert [i["reason"] for i in mine["supplement_items"]] == ["身份证照片模糊", "申请事由写得不清楚"]
    assert mine["allowed_actions"] == ["submit", "withdraw"]
    event = (await outbox.events_for("case", case["id"]))[-1]
    assert event["kind"] == "case.supplement_required" and len(event["payload"]["items"]) == 2

    again = await client.post(f"/api/v1/cases/{case['id']}/submit", headers=citizen["headers"])
    assert_error_shape(again, 422, "MATERIALS_MISSING")
    assert again.json()["error"]["details"]["missing"] == [setup["required"][0]]
    assert (
        await f.upload(client, case["id"], setup["required"][0], citizen, f.JPEG_BYTES, "clear.jpg")
    ).status_code == 201
    resubmitted = await client.post(f"/api/v1/cases/{case['id']}/submit", headers=citizen["headers"])
    assert resubmitted.status_code == 200 and resubmitted.json()["supplement_items"] == []
    accepted = await f.moved(client, await _staff_view(client, case["id"], clerk), clerk, "accept")
    assert accepted["status"] == "accepted"


async def test_refusals_need_a_reason(client, cache):
    setup = await f.case_setup(client, cache)
    clerk, approver = setup["clerk"], setup["approver"]
    case = await _staff_view(client, (await f.submitted_case(client, setup))["id"], clerk)
    assert_error_shape(await f.move(client, case, clerk, "reject"), 422, "NOTE_REQUIRED")
    rejected = await f.moved(client, case, clerk, "reject", note="不属于本部门受理范围")
    assert rejected["status"] == "rejected" and rejected["ended_at"]
    other = await _staff_view(client, (await f.submitted_case(client, setup))["id"], clerk)
    reviewing = await f.moved(client, await f.moved(client, other, clerk, "accept"), approver, "start_review")
    assert_error_shape(await f.move(client, reviewing, approver, "deny"), 422, "NOTE_REQUIRED")
    assert_error_shape(await f.move(client, reviewing, approver, "suspend"), 422, "NOTE_REQUIRED")
    denied = await f.moved(client, reviewing, approver, "deny", note="不符合申请条件")
    mine = (await client.get(f"/api/v1/cases/{other['id']}", headers=setup["citizen"]["headers"])).json()
    assert mine["status"] == "denied" and mine["timeline"][-1]["note"] == "不符合申请条件"
    assert denied["allowed_actions"] == []


async def test_citizen_withdraws_until_acceptance(client, cache):
    setup = await f.case_setup(client, cache)
    citizen = setup["citizen"]
    draft = await f.draft(client, setup)
    withdrawn = await client.post(f"/api/v1/cases/{draft['id']}/withdraw", headers=citizen["headers"])
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    case = await _staff_view(client, (await f.submitted_case(client, setup))["id"], setup["clerk"])
    await f.moved(client, case, setup["clerk"], "accept")
    late = await client.post(f"/api/v1/cases/{case['id']}/withdraw", headers=citizen["headers"])
    assert_error_shape(late, 409, "ILLEGAL_TRANSITION")


async def _case_in(client, setup: dict, status: str) -> dict:
    """A case driven through HTTP into the given state (staff view)."""
    clerk, approver, citizen = setup["clerk"], setup["approver"], setup["citizen"]
    case = await _staff_view(client, (await f.submitted_case(client, setup))["id"], clerk)
    road = {
        "submitted": [],
        "supplement_required": [(clerk, "request_supplement", {"items": [{"reason": "补充说明"}]})],
        "rejected": [(clerk, "reject", {"note": "不予受理"})],
        "accepted": [(clerk, "accept", {})],
        "in_review": [(clerk, "accept", {}), (approver, "start_review", {})],
        "suspended": [(clerk, "accept", {}), (approver, "start_review", {}), (approver, "suspend", {"note": "听证"})],
        "approved": [(clerk, "accept", {}), (approver, "start_review", {}), (approver, "approve", {})],
        "denied": [(clerk, "accept", {}), (approver, "start_review", {}), (approver, "deny", {"note": "不符合"})],
        "delivered": [
            (clerk, "accept", {}),
            (approver, "start_review", {}),
            (approver, "approve", {}),
            (clerk, "deliver", {"method": "pickup"}),
        ],
    }
    if status == "withdrawn":
        await client.post(f"/api/v1/cases/{case['id']}/withdraw", headers=citizen["headers"])
        return await _staff_view(client, case["id"], clerk)
    for actor, action, body in road[status]:
        case = await f.moved(client, case, actor, action, **body)
    return case


STAFF_ACTIONS = [
    "accept",
    "request_supplement",
    "reject",
    "start_review",
    "suspend",
    "resume",
    "approve",
    "deny",
    "deliver",
]
LEGAL = {
    "submitted": {"accept", "request_supplement", "reject"},
    "accepted": {"start_review"},
    "in_review": {"suspend", "approve", "deny"},
    "suspended": {"resume"},
    "approved": {"deliver"},
}


@pytest.mark.parametrize(
    "status",
    [
        "submitted",
        "supplement_required",
        "accepted",
        "in_review",
        "suspended",
        "approved",
        "rejected",
        "denied",
        "delivered",
        "withdrawn",
    ],
)
async def test_every_illegal_staff_move_is_refused_whole(client, cache, status):
    setup = await f.case_setup(client, cache)
    # One member holding both roles: a refusal can only come from the state.
    both = await f.staff(client, "clerk", "approver", department_id=setup["department"]["id"])
    case = await _case_in(client, setup, status)
    assert case["status"] == status
    events_before = await _events(case["id"])
    for action in STAFF_ACTIONS:
        if action in LEGAL.get(status, set()):
            continue
        body = {"note": "理由", "items": [{"reason": "x"}], "method": "pickup"}
        response = await f.move(client, case, both, action, **body)
        assert_error_shape(response, 409, "ILLEGAL_TRANSITION")
    after = await _staff_view(client, case["id"], both)
    assert (after["status"], after["version"], len(after["timeline"])) == (
        status,
        case["version"],
        len(case["timeline"]),
    )
    assert await _events(case["id"]) == events_before


@pytest.mark.parametrize("status", ["accepted", "in_review", "rejected", "delivered", "withdrawn"])
async def test_citizen_moves_are_illegal_once_the_case_left_their_hands(client, cache, status):
    setup = await f.case_setup(client, cache)
    case = await _case_in(client, setup, status)
    for action in ("submit", "withdraw"):
        response = await client.post(f"/api/v1/cases/{case['id']}/{action}", headers=setup["citizen"]["headers"])
        assert_error_shape(response, 409, "ILLEGAL_TRANSITION")
    mine = (await client.get(f"/api/v1/cases/{case['id']}", headers=setup["citizen"]["headers"])).json()
    assert (mine["status"], mine["version"]) == (status, case["version"])


async def test_two_clerks_race_one_wins_the_other_is_stale(client, cache):
    setup = await f.case_setup(client, cache)
    second = await f.staff(client, "clerk", department_id=setup["department"]["id"])
    case = await _staff_view(client, (await f.submitted_case(client, setup))["id"], setup["clerk"])
    results = await asyncio.gather(
        f.move(client, case, setup["clerk"], "accept"),
        f.move(client, case, second, "request_supplement", items=[{"reason": "材料不清"}]),
    )
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409]
    loser = next(r for r in results if r.status_code == 409)
    assert_error_shape(loser, 409, "STALE_VERSION")
    after = await _staff_view(client, case["id"], second)
    assert after["version"] == case["version"] + 1
    assert len(after["timeline"]) == len(case["timeline"]) + 1
    assert len(await _events(case["id"])) == 3  # created, submitted, and the winner's move only
    stale_again = await f.move(client, case, second, "accept")
    assert_error_shape(stale_again, 409, "STALE_VERSION")


async def test_concurrent_acceptances_get_distinct_receipt_numbers(client, cache):
    setup = await f.case_setup(client, cache)
    cases = [await _staff_view(client, (await f.submitted_case(client, setup))["id"], setup["clerk"]) for _ in range(4)]
    accepted = await asyncio.gather(*(f.moved(client, case, setup["clerk"], "accept") for case in cases))
    receipts = [case["receipt_no"] for case in accepted]
    assert len(set(receipts)) == 4
    assert sorted(int(r.rsplit("-", 1)[1]) for r in receipts) == [1, 2, 3, 4]


# ---- staff lists ----


async def test_staff_list_puts_the_nearest_deadline_first_and_filters_by_light(client, cache):
    setup = await f.case_setup(client, cache)
    clerk = setup["clerk"]
    first = await f.moved(
        client, await _staff_view(client, (await f.submitted_case(client, setup))["id"], clerk), clerk, "accept"
    )
    waiting = await f.submitted_case(client, setup)
    listed = (await client.get("/api/v1/staff/cases", headers=clerk["headers"])).json()
    ids = [c["id"] for c in listed["items"]]
    assert ids.index(first["id"]) < ids.index(waiting["id"])
    assert listed["total"] == len(ids)
    green = (await client.get("/api/v1/staff/cases", params={"light": "green"}, headers=clerk["headers"])).json()
    assert [c["id"] for c in green["items"]] == [first["id"]]
    red = (await client.get("/api/v1/staff/cases", params={"light": "red"}, headers=clerk["headers"])).json()
    assert red["items"] == []
    bad = await client.get("/api/v1/staff/cases", params={"light": "blue"}, headers=clerk["headers"])
    assert bad.status_code == 422


async def test_staff_list_counts_lights_and_finds_by_receipt_number_or_applicant_name(client, cache):
    setup = await f.case_setup(client, cache)
    clerk = setup["clerk"]
    accepted = await f.moved(
        client, await _staff_view(client, (await f.submitted_case(client, setup))["id"], clerk), clerk, "accept"
    )
    waiting = await f.submitted_case(client, setup)
    listed = (await client.get("/api/v1/staff/cases", headers=clerk["headers"])).json()
    assert listed["light_counts"] == {"green": 1, "yellow": 0, "red": 0}

    by_receipt = await client.get(
        "/api/v1/staff/cases", params={"q": accepted["receipt_no"][-6:]}, headers=clerk["headers"]
    )
    assert [c["id"] for c in by_receipt.json()["items"]] == [accepted["id"]]
    name = waiting["applicant_name"]
    by_name = (await client.get("/api/v1/staff/cases", params={"q": name[:1]}, headers=clerk["headers"])).json()
    assert {accepted["id"], waiting["id"]} <= {c["id"] for c in by_name["items"]}
    nobody = (await client.get("/api/v1/staff/cases", params={"q": "查无此人"}, headers=clerk["headers"])).json()
    assert (nobody["items"], nobody["total"], nobody["light_counts"]) == ([], 0, {"green": 0, "yellow": 0, "red": 0})

    # Another department's clerk finds nothing by the same receipt number, and its lights count none of them.
    foreign_clerk = await f.staff(client, "clerk", department_id=(await f.department(cache))["id"])
    foreign = (
        await client.get("/api/v1/staff/cases", params={"q": accepted["receipt_no"]}, headers=foreign_clerk["headers"])
    ).json()
    assert (foreign["items"], foreign["light_counts"]["green"]) == ([], 0)
    too_long = await client.get("/api/v1/staff/cases", params={"q": "x" * 33}, headers=clerk["headers"])
    assert_error_shape(too_long, 422, "VALIDATION_FAILED")


async def test_staff_case_materials_name_the_copies_the_guide_asks_for(client, cache):
    setup = await f.case_setup(client, cache)
    case = await _staff_view(client, (await f.submitted_case(client, setup))["id"], setup["clerk"])
    assert [(m["name"], m["copies"]) for m in case["materials"]] == [
        ("居民身份证", 1),
        ("申请表", 2),
        ("其他证明材料", 0),
    ]


# ---- window filing and linking ----


async def test_window_filing_then_the_citizen_links_it_with_receipt_and_id(client, cache):
    setup = await f.case_setup(client, cache)
    clerk = setup["clerk"]
    walk_in = await f.real_name_citizen(client, "赵六")
    body = {
        "matter_id": setup["matter"]["id"],
        "applicant_name": "赵六",
        "id_number": walk_in["id_number"],
        "form": {"reason": "现场办理"},
        "materials_checked": setup["required"][:1],
    }
    short = await client.post("/api/v1/staff/cases", headers=clerk["headers"], json=body)
    assert_error_shape(short, 422, "MATERIALS_MISSING")
    assert short.json()["error"]["details"]["missing"] == setup["required"][1:]
    body["materials_checked"] = setup["required"]
    filed = await client.post("/api/v1/staff/cases", headers=clerk["headers"], json=body)
    assert filed.status_code == 201, filed.text
    case = filed.json()
    assert case["status"] == "accepted" and case["channel"] == "window" and case["receipt_no"]
    assert case["id_number_masked"].endswith(walk_in["id_number"][-4:]) and "*" in case["id_number_masked"]
    assert walk_in["id_number"] not in filed.text

    link = "/api/v1/cases/link"
    wrong_id = await client.post(
        link, headers=walk_in["headers"], json={"receipt_no": case["receipt_no"], "id_number": f.id_number()}
    )
    unknown = await client.post(
        link, headers=walk_in["headers"], json={"receipt_no": "NOPE-20260101-0001", "id_number": walk_in["id_number"]}
    )
    assert_error_shape(wrong_id, 404, "CASE_NOT_FOUND")
    assert_error_shape(unknown, 404, "CASE_NOT_FOUND")
    assert wrong_id.json()["error"]["message"] == unknown.json()["error"]["message"]
    # Knowing someone's receipt and ID number is not enough: the linking account must hold that identity.
    other = await f.real_name_citizen(client, "孙七")
    stolen = await client.post(
        link, headers=other["headers"], json={"receipt_no": case["receipt_no"], "id_number": walk_in["id_number"]}
    )
    assert_error_shape(stolen, 404, "CASE_NOT_FOUND")

    linked = await client.post(
        link, headers=walk_in["headers"], json={"receipt_no": case["receipt_no"], "id_number": walk_in["id_number"]}
    )
    assert linked.status_code == 200, linked.text
    mine = linked.json()
    assert mine["id"] == case["id"] and mine["status"] == "accepted"
    assert [(t["from"], t["to"]) for t in mine["timeline"]][:2] == [(None, "submitted"), ("submitted", "accepted")]
    assert case["id"] in [
        c["id"] for c in (await client.get("/api/v1/cases", headers=walk_in["headers"])).json()["items"]
    ]


async def test_window_filing_is_for_the_clerks_own_department(client, cache):
    setup = await f.case_setup(client, cache)
    foreign_clerk = await f.staff(client, "clerk", department_id=(await f.department(cache))["id"])
    body = {
        "matter_id": setup["matter"]["id"],
        "applicant_name": "赵六",
        "id_number": f.id_number(),
        "form": {"reason": "x"},
        "materials_checked": setup["required"],
    }
    assert_error_shape(
        await client.post("/api/v1/staff/cases", headers=foreign_clerk["headers"], json=body), 403, "ROLE_NOT_ALLOWED"
    )
    assert (
        await client.post("/api/v1/staff/cases", headers=setup["approver"]["headers"], json=body)
    ).status_code == 403
    bad_id = {**body, "id_number": "110101199003071234"}
    assert (await client.post("/api/v1/staff/cases", headers=setup["clerk"]["headers"], json=bad_id)).status_code == 422


async def test_linking_is_rate_limited(client, cache):
    citizen = await f.real_name_citizen(client)
    codes = []
    for attempt in range(12):
        response = await client.post(
            "/api/v1/cases/link",
            headers=citizen["headers"],
            json={"receipt_no": f"X-20260101-{attempt:04d}", "id_number": citizen["id_number"]},
        )
        codes.append(response.status_code)
    assert codes[:10] == [404] * 10
    assert codes[10:] == [429, 429]
