"""ID and phone numbers in case forms: validated, pre-filled from the applicant's identity, encrypted at rest, masked
to everyone but the handling department's case desk, where each view is audited."""

import asyncio
import logging
import re
from pathlib import Path

from app.audit import service as audit
from tests import factories as f
from tests.conftest import BACKEND
from tests.core.test_errors import assert_error_shape

MASKED_ID = re.compile(r"^\d{3}\*{11}[\dX]{4}$")
MASKED_PHONE = re.compile(r"^1\d{2}\*{4}\d{4}$")
FORM_FIELDS = [
    {"name": "applicant_name", "label": "申请人姓名", "type": "text", "required": True, "prefill": "name"},
    {"name": "id_number", "label": "身份证号码", "type": "id_number", "required": True, "prefill": "id_number"},
    {"name": "phone", "label": "联系电话", "type": "phone", "required": True, "prefill": "phone"},
    {"name": "elder_id", "label": "老年人身份证号码", "type": "id_number"},
    {"name": "reason", "label": "申请事由", "type": "text", "max_length": 200},
]


def _masked_id(number: str) -> str:
    return number[:3] + "*" * 11 + number[-4:]


async def _setup(client, cache) -> dict:
    """case_setup with a matter whose guide asks for the applicant's own and another person's ID number and a phone."""
    setup = await f.case_setup(client, cache)
    setup["matter"] = await f.matter(cache, department_id=setup["department"]["id"], form_fields=FORM_FIELDS)
    setup["required"] = [m["id"] for m in setup["matter"]["materials"] if m["required"]]
    return setup


async def _draft(client, setup: dict, form: dict) -> dict:
    response = await client.post(
        "/api/v1/cases", headers=setup["citizen"]["headers"], json={"matter_id": setup["matter"]["id"], "form": form}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _submitted(client, setup: dict, form: dict) -> dict:
    case = await _draft(client, setup, form)
    for material_id in setup["required"]:
        assert (await f.upload(client, case["id"], material_id, setup["citizen"])).status_code == 201
    response = await client.post(f"/api/v1/cases/{case['id']}/submit", headers=setup["citizen"]["headers"])
    assert response.status_code == 200, response.text
    return response.json()


async def _views(case_id: int) -> list[dict]:
    return [e for e in await audit.entries_for("case", case_id) if e["action"] == "case.view_personal_data"]


async def _database_bytes(settings) -> bytes:
    """Everything the database holds, as bytes: pg_dump of the run's PostgreSQL database, or the SQLite files."""
    url = settings.database.url
    if BACKEND == "postgres":
        dump = await asyncio.create_subprocess_exec(
            "pg_dump", "--no-owner", url, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await asyncio.wait_for(dump.communicate(), timeout=120)
        assert dump.returncode == 0, err.decode()
        assert b"case_file" in out  # the dump is of the run's database, cases table included
        return out
    path = Path(url.removeprefix("sqlite://"))
    files = [str(p) for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists()]
    # Read by another process: closing a file this process opened on the database would drop SQLite's POSIX locks
    # that the app's own connection holds (sqlite.org/howtocorrupt.html, 2.2), and other processes would misread it.
    read = await asyncio.create_subprocess_exec(
        "cat", *files, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(read.communicate(), timeout=120)
    assert read.returncode == 0 and out, err.decode()
    return out


# ---- at rest ----


async def test_a_case_forms_id_and_phone_numbers_appear_in_no_table_in_clear(app, client, cache, settings, caplog):
    caplog.set_level(logging.DEBUG)
    setup = await _setup(client, cache)
    own, elder, mobile = setup["citizen"]["id_number"], f.id_number(), f.phone()
    case = await _submitted(client, setup, {"elder_id": elder, "phone": mobile, "reason": "为老人申领"})
    assert case["status"] == "submitted"  # the submission check saw the numbers behind the masks
    desk = (await client.get(f"/api/v1/staff/cases/{case['id']}", headers=setup["clerk"]["headers"])).json()
    assert desk["form"]["elder_id"] == elder and desk["form"]["phone"] == mobile and desk["form"]["id_number"] == own
    accepted = await f.moved(client, desk, setup["clerk"], "accept")
    await f.moved(client, accepted, setup["approver"], "start_review")

    dump = await _database_bytes(settings)
    for clear in (own, elder, mobile):
        assert clear.encode() not in dump, f"{clear} stored in clear"
    assert _masked_id(elder).encode() in dump  # the form is there, masked
    for clear in (own, elder, mobile):
        assert clear not in caplog.text


# ---- who sees what ----


async def test_masked_to_the_citizen_clear_to_the_handling_clerk_each_view_audited(client, cache):
    setup = await _setup(client, cache)
    elder, mobile = f.id_number(), f.phone()
    case = await _submitted(client, setup, {"elder_id": elder, "phone": mobile})
    url = f"/api/v1/staff/cases/{case['id']}"

    mine = (await client.get(f"/api/v1/cases/{case['id']}", headers=setup["citizen"]["headers"])).json()
    assert mine["form"]["elder_id"] == _masked_id(elder) and mine["form"]["phone"] == mobile[:3] + "****" + mobile[-4:]
    assert elder not in str(mine) and mobile not in str(mine)
    assert await _views(case["id"]) == []

    for seen in (1, 2):
        desk = await client.get(url, headers=setup["clerk"]["headers"])
        assert desk.status_code == 200 and desk.json()["form"]["elder_id"] == elder
        views = await _views(case["id"])
        assert len(views) == seen  # one row per view: who looked at whose data, and when
        assert views[-1]["staff_id"] == setup["clerk"]["id"] and views[-1]["after"] == {
            "fields": ["elder_id", "id_number", "phone"]
        }
        assert elder not in str(views) and mobile not in str(views)

    # Another department's clerk does not learn the case exists; a supervisor, who does not handle it, sees masks.
    outsider = await f.staff(client, "clerk", department_id=(await f.department(cache))["id"])
    assert_error_shape(await client.get(url, headers=outsider["headers"]), 404, "CASE_NOT_FOUND")
    supervisor = await f.shared_staff(client, "supervisor")
    overseen = await client.get(url, headers=supervisor["headers"])
    assert overseen.status_code == 200 and overseen.json()["form"]["elder_id"] == _masked_id(elder)
    assert elder not in overseen.text and mobile not in overseen.text
    assert len(await _views(case["id"])) == 2

    # Lists and the answer to a move stay masked, even for the handling clerk.
    page = await client.get("/api/v1/staff/cases", headers=setup["clerk"]["headers"], params={"page_size": 100})
    assert page.status_code == 200 and case["id"] in [item["id"] for item in page.json()["items"]]
    assert elder not in page.text and mobile not in page.text
    moved = await f.move(client, case, setup["clerk"], "accept")
    assert (
        moved.status_code == 200 and elder not in moved.text and moved.json()["form"]["elder_id"] == _masked_id(elder)
    )
    assert len(await _views(case["id"])) == 2


async def test_resending_the_masked_form_keeps_the_numbers_and_a_new_number_replaces_them(client, cache):
    setup = await _setup(client, cache)
    elder, mobile = f.id_number(), f.phone()
    case = await _draft(client, setup, {"elder_id": elder, "phone": mobile})
    url = f"/api/v1/cases/{case['id']}/form"
    headers = setup["citizen"]["headers"]

    # The app sends the whole form back as it was shown, with one field changed.
    again = await client.put(url, headers=headers, json={"form": {**case["form"], "reason": "补充说明"}})
    assert again.status_code == 200, again.text
    assert again.json()["form"] == {**case["form"], "reason": "补充说明"}
    newer = f.id_number()
    replaced = await client.put(url, headers=headers, json={"form": {**again.json()["form"], "elder_id": newer}})
    assert replaced.status_code == 200 and replaced.json()["form"]["elder_id"] == _masked_id(newer)

    for material_id in setup["required"]:
        assert (await f.upload(client, case["id"], material_id, setup["citizen"])).status_code == 201
    submitted = await client.post(f"/api/v1/cases/{case['id']}/submit", headers=headers)
    assert submitted.status_code == 200, submitted.text
    desk = (await client.get(f"/api/v1/staff/cases/{case['id']}", headers=setup["clerk"]["headers"])).json()
    assert desk["form"]["elder_id"] == newer and desk["form"]["phone"] == mobile


async def test_a_masked_value_that_is_not_the_one_shown_is_refused(client, cache):
    setup = await _setup(client, cache)
    case = await _draft(client, setup, {"elder_id": f.id_number()})
    forged = {**case["form"], "elder_id": "110***********0000"}
    response = await client.put(
        f"/api/v1/cases/{case['id']}/form", headers=setup["citizen"]["headers"], json={"form": forged}
    )
    error = assert_error_shape(response, 422, "INVALID_FORM")
    assert [p["field"] for p in error["details"]["fields"]] == ["form.elder_id"]


# ---- pre-fill ----


async def test_a_draft_is_pre_filled_with_the_applicants_own_identity(client, cache):
    setup = await _setup(client, cache)
    citizen = setup["citizen"]
    case = await _draft(client, setup, {})
    assert case["form"]["applicant_name"] == citizen["name"]
    assert case["form"]["id_number"] == _masked_id(citizen["id_number"])
    assert MASKED_PHONE.match(case["form"]["phone"])
    assert "elder_id" not in case["form"]  # not the applicant's own: nothing to fill in
    # What the citizen typed wins over the identity.
    typed = await _draft(client, setup, {"applicant_name": "张三丰", "phone": "13700000000"})
    assert typed["form"]["applicant_name"] == "张三丰" and typed["form"]["phone"] == "137****0000"
    desk = (await client.get(f"/api/v1/staff/cases/{case['id']}", headers=setup["clerk"]["headers"])).json()
    assert desk["form"]["id_number"] == citizen["id_number"]


async def test_a_proxys_draft_is_pre_filled_with_the_applicants_identity_and_shown_masked(client, cache):
    setup = await _setup(client, cache)
    principal, (proxy, _) = setup["citizen"], await f.granted_proxy(client, setup, "王五")
    case = await f.draft(
        client, setup, proxy, on_behalf_of=principal["id"], form={"elder_id": (elder := f.id_number())}
    )
    assert case["form"]["applicant_name"] == principal["name"]
    assert case["form"]["id_number"] == _masked_id(principal["id_number"])  # the applicant's, not the proxy's
    seen = await client.get(f"/api/v1/cases/{case['id']}", headers=proxy["headers"])
    assert seen.status_code == 200 and seen.json()["form"]["elder_id"] == _masked_id(elder)
    assert principal["id_number"] not in seen.text and elder not in seen.text


async def test_a_citizen_without_real_name_gets_no_draft_to_pre_fill(client, cache):
    setup = await _setup(client, cache)
    anonymous = await f.wechat_login(client)
    response = await client.post(
        "/api/v1/cases", headers=anonymous["headers"], json={"matter_id": setup["matter"]["id"], "form": {}}
    )
    assert_error_shape(response, 403, "REAL_NAME_REQUIRED")


# ---- bad input ----


async def test_an_id_number_with_a_bad_check_digit_is_422_naming_the_field(client, cache):
    setup = await _setup(client, cache)
    good = f.id_number()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    response = await client.post(
        "/api/v1/cases",
        headers=setup["citizen"]["headers"],
        json={"matter_id": setup["matter"]["id"], "form": {"elder_id": bad}},
    )
    error = assert_error_shape(response, 422, "INVALID_FORM")
    assert error["details"]["fields"][0]["field"] == "form.elder_id"
    assert "校验位" in error["details"]["fields"][0]["message"]
    assert bad not in response.text  # the refusal does not echo the number either
    short = await client.post(
        "/api/v1/cases",
        headers=setup["citizen"]["headers"],
        json={"matter_id": setup["matter"]["id"], "form": {"elder_id": "1101011990"}},
    )
    assert assert_error_shape(short, 422, "INVALID_FORM")["details"]["fields"][0]["field"] == "form.elder_id"


async def test_a_guide_may_pre_fill_only_a_field_of_the_matching_type(client, cache, admin_headers):
    setup = await _setup(client, cache)
    body = f.guide_payload(
        setup["department"]["id"],
        code=f.unique("T-"),
        form_fields=[{"name": "who", "label": "证件号", "type": "text", "prefill": "id_number"}],
    )
    response = await client.post("/api/v1/admin/matters", headers=admin_headers, json=body)
    assert_error_shape(response, 422, "VALIDATION_FAILED")


# ---- window filing ----


async def test_window_filing_takes_clear_numbers_and_stores_them_the_same_way(client, cache, settings):
    setup = await _setup(client, cache)
    applicant, elder, mobile = f.id_number(), f.id_number(), f.phone()
    body = {
        "matter_id": setup["matter"]["id"],
        "applicant_name": "赵六",
        "id_number": applicant,
        "form": {"applicant_name": "赵六", "id_number": applicant, "phone": mobile, "elder_id": elder},
        "materials_checked": setup["required"],
    }
    filed = await client.post("/api/v1/staff/cases", headers=setup["clerk"]["headers"], json=body)
    assert filed.status_code == 201, filed.text
    assert filed.json()["form"]["elder_id"] == _masked_id(elder) and applicant not in filed.text
    desk = (await client.get(f"/api/v1/staff/cases/{filed.json()['id']}", headers=setup["clerk"]["headers"])).json()
    assert desk["form"]["elder_id"] == elder and desk["form"]["phone"] == mobile
    dump = await _database_bytes(settings)
    for clear in (applicant, elder, mobile):
        assert clear.encode() not in dump

    bad = {**body, "form": {**body["form"], "elder_id": elder[:17] + ("0" if elder[17] != "0" else "1")}}
    refused = await client.post("/api/v1/staff/cases", headers=setup["clerk"]["headers"], json=bad)
    assert assert_error_shape(refused, 422, "INVALID_FORM")["details"]["fields"][0]["field"] == "form.elder_id"
