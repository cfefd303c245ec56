"""Electronic licences (电子证照) through HTTP: a material marked e_licence is satisfied by the applicant's licence."""

from tests import factories as f
from tests.core.test_errors import assert_error_shape


def _material(setup: dict, name: str) -> dict:
    return next(m for m in setup["matter"]["materials"] if m["name"] == name)


async def _attach(client, case: dict, material_id: int, citizen: dict):
    return await client.post(
        f"/api/v1/cases/{case['id']}/licences", headers=citizen["headers"], json={"material_id": material_id}
    )


async def test_a_citizen_sees_their_licences_with_numbers_masked(client):
    citizen = await f.real_name_citizen(client, name="郑一")
    response = await client.get("/api/v1/me/licences", headers=citizen["headers"])
    assert response.status_code == 200, response.text
    by_type = {item["licence_type"]: item for item in response.json()}
    assert set(by_type) == {"id_card", "household_register"}
    id_card = by_type["id_card"]
    assert id_card["licence_no_masked"] == citizen["id_number"][:3] + "*" * 11 + citizen["id_number"][-4:]
    assert id_card["issuer"] and id_card["valid"] is True
    assert citizen["id_number"] not in response.text
    unverified = await f.wechat_login(client)
    assert_error_shape(
        await client.get("/api/v1/me/licences", headers=unverified["headers"]), 403, "REAL_NAME_REQUIRED"
    )


async def test_an_id_card_licence_stands_for_the_upload_and_the_clerk_sees_issuer_and_validity(client, cache):
    setup = await f.case_setup(client, cache)
    citizen, clerk = setup["citizen"], setup["clerk"]
    id_card = _material(setup, "居民身份证")
    form = _material(setup, "申请表")
    # The guide says which materials need no upload.
    guide = (await client.get(f"/api/v1/matters/{setup['matter']['id']}")).json()
    assert {m["name"]: m["licence_type"] for m in guide["materials"]} == {
        "居民身份证": "id_card",
        "申请表": None,
        "其他证明材料": None,
    }
    case = await f.draft(client, setup)
    attached = await _attach(client, case, id_card["id"], citizen)
    assert attached.status_code == 201, attached.text
    assert attached.json()["licence_type"] == "id_card" and attached.json()["valid_until"] == "2040-01-01"
    assert (await f.upload(client, case["id"], form["id"], citizen)).status_code == 201
    submitted = await client.post(f"/api/v1/cases/{case['id']}/submit", headers=citizen["headers"])
    assert submitted.status_code == 200, submitted.text  # no upload of the ID card was needed

    desk = (await client.get(f"/api/v1/staff/cases/{case['id']}", headers=clerk["headers"])).json()
    material = next(m for m in desk["materials"] if m["id"] == id_card["id"])
    assert material["files"] == []
    [licence] = material["licences"]
    assert licence["issuer"] == "临江市公安局江滨分局" and licence["valid_until"] == "2040-01-01"
    assert licence["licence_no_masked"].startswith(citizen["id_number"][:3]) and "*" in licence["licence_no_masked"]
    # Submitted: the choice can no longer change.
    again = await _attach(client, case, id_card["id"], citizen)
    assert_error_shape(again, 409, "CASE_NOT_EDITABLE")


async def test_taking_the_licence_back_makes_the_material_missing_again(client, cache):
    setup = await f.case_setup(client, cache)
    citizen = setup["citizen"]
    id_card, form = _material(setup, "居民身份证"), _material(setup, "申请表")
    case = await f.draft(client, setup)
    attached = (await _attach(client, case, id_card["id"], citizen)).json()
    assert (await f.upload(client, case["id"], form["id"], citizen)).status_code == 201
    removed = await client.delete(f"/api/v1/cases/{case['id']}/licences/{attached['id']}", headers=citizen["headers"])
    assert removed.status_code == 204
    missing = await client.post(f"/api/v1/cases/{case['id']}/submit", headers=citizen["headers"])
    error = assert_error_shape(missing, 422, "MATERIALS_MISSING")
    assert error["details"]["missing"] == [id_card["id"]]
    gone = await client.delete(f"/api/v1/cases/{case['id']}/licences/{attached['id']}", headers=citizen["headers"])
    assert_error_shape(gone, 404, "MATERIAL_FILE_NOT_FOUND")


async def test_only_e_licence_materials_of_the_case_and_only_its_own_citizens(client, cache):
    setup = await f.case_setup(client, cache)
    citizen = setup["citizen"]
    case = await f.draft(client, setup)
    not_a_licence = await _attach(client, case, _material(setup, "申请表")["id"], citizen)
    assert_error_shape(not_a_licence, 422, "LICENCE_NOT_ACCEPTED")
    assert_error_shape(await _attach(client, case, 999999, citizen), 422, "UNKNOWN_MATERIAL")
    stranger = await f.real_name_citizen(client)
    assert_error_shape(
        await _attach(client, case, _material(setup, "居民身份证")["id"], stranger), 404, "CASE_NOT_FOUND"
    )
    staff = await _attach(client, case, _material(setup, "居民身份证")["id"], setup["clerk"])
    assert_error_shape(staff, 403, "FORBIDDEN")


async def test_a_licence_the_holder_lacks_or_that_expired_is_refused_with_the_next_step(client, cache):
    materials = [
        {"name": "营业执照", "required": True, "form": "original", "copies": 1, "e_licence": True},
        {"name": "居民身份证", "required": True, "form": "original", "copies": 1, "e_licence": True},
        {"name": "结婚证", "required": False, "form": "original", "copies": 1, "e_licence": True},
    ]
    setup = await f.case_setup(client, cache, materials=materials)
    citizen = setup["citizen"]
    case = await f.draft(client, setup)
    lacking = await _attach(client, case, _material(setup, "营业执照")["id"], citizen)
    assert "请上传材料" in assert_error_shape(lacking, 404, "LICENCE_NOT_FOUND")["message"]
    # A test person of the licence service: married, their ID card expired last year.
    holder = {
        "id_number": citizen["id_number"],
        "name": citizen["name"],
        "licences": [
            {"licence_type": "id_card", "valid_until": "2025-01-01"},
            {"licence_type": "marriage_certificate", "valid_until": None},
        ],
    }
    assert (await client.post("/sim/licences/holders", json=holder)).status_code == 200
    expired = await _attach(client, case, _material(setup, "居民身份证")["id"], citizen)
    assert assert_error_shape(expired, 422, "LICENCE_EXPIRED")["details"]["valid_until"] == "2025-01-01"
    married = await _attach(client, case, _material(setup, "结婚证")["id"], citizen)
    assert married.status_code == 201 and married.json()["issuer"] == "临江市民政局"
    assert married.json()["valid_until"] is None


async def test_a_proxy_chooses_the_applicants_licence(client, cache):
    setup = await f.case_setup(client, cache)
    principal, (proxy, _) = setup["citizen"], await f.granted_proxy(client, setup, "王五")
    case = await f.draft(client, setup, proxy, on_behalf_of=principal["id"])
    attached = await _attach(client, case, _material(setup, "居民身份证")["id"], proxy)
    assert attached.status_code == 201, attached.text
    assert attached.json()["licence_no_masked"][-4:] == principal["id_number"][-4:]


async def test_the_licence_service_down_is_503_and_uploading_still_works(client, cache, faults):
    setup = await f.case_setup(client, cache)
    citizen = setup["citizen"]
    case = await f.draft(client, setup)
    await faults("licences", 1.0)
    down = await _attach(client, case, _material(setup, "居民身份证")["id"], citizen)
    assert_error_shape(down, 503, "PLATFORM_UNAVAILABLE")
    assert (await f.upload(client, case["id"], _material(setup, "居民身份证")["id"], citizen)).status_code == 201
