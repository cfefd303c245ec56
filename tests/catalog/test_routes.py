"""The catalog through HTTP, as the mini-program and the staff console use it."""

import pytest

from tests import factories
from tests.core.test_errors import assert_error_shape


async def test_demo_catalog_lists_departments_halls_and_themes(client):
    departments = await factories.every_item(client, "/api/v1/departments")
    assert len(departments) >= 8
    names = {d["name"] for d in departments}
    assert any("公安" in name for name in names)
    assert any("医疗保障" in name for name in names)
    halls = await factories.every_item(client, "/api/v1/halls")
    assert len(halls) >= 3
    assert len({h["district"] for h in halls}) >= 3
    themes = (await client.get("/api/v1/themes")).json()
    assert {"code", "name", "audience"} <= set(themes["items"][0])


@pytest.mark.parametrize("keyword", ["社保", "户籍", "公积金", "身份证"])
async def test_two_character_chinese_keyword_finds_matters_containing_it(client, keyword):
    theme_names = {t["code"]: t["name"] for t in (await client.get("/api/v1/themes")).json()["items"]}
    response = await client.get("/api/v1/matters", params={"q": keyword, "page_size": 100})
    assert response.status_code == 200
    page = response.json()
    assert page["total"] >= 1
    for item in page["items"]:
        guide = (await client.get(f"/api/v1/matters/{item['id']}")).json()
        haystack = guide["name"] + guide["conditions"] + "".join(m["name"] for m in guide["materials"])
        haystack += "".join(theme_names[code] for code in guide["themes"])
        assert keyword in haystack, (keyword, guide["name"])


async def test_search_puts_name_matches_first(client, cache):
    department = await factories.department(cache)
    in_name = await factories.matter(cache, department_id=department["id"], name="奇异果排序测试申领")
    in_conditions = await factories.matter(
        cache, department_id=department["id"], name="另一个排序测试", conditions="需持有奇异果排序证明"
    )
    page = (await client.get("/api/v1/matters", params={"q": "奇异果排序"})).json()
    assert [item["id"] for item in page["items"]] == [in_name["id"], in_conditions["id"]]


async def test_search_with_several_words_needs_all_of_them(client, cache):
    department = await factories.department(cache)
    both = await factories.matter(cache, department_id=department["id"], name="蓝莓多词测试 证件补办")
    await factories.matter(cache, department_id=department["id"], name="蓝莓多词测试 其他")
    page = (await client.get("/api/v1/matters", params={"q": "蓝莓多词测试 补办"})).json()
    assert [item["id"] for item in page["items"]] == [both["id"]]


async def test_search_with_like_wildcards_is_literal(client):
    page = (await client.get("/api/v1/matters", params={"q": "%_%"})).json()
    assert page["total"] == 0


async def test_filter_by_department_theme_and_audience(client, cache):
    departments = await factories.every_item(client, "/api/v1/departments")
    gjj = next(d for d in departments if "公积金" in d["name"])
    page = (await client.get("/api/v1/matters", params={"department_id": gjj["id"], "page_size": 100})).json()
    assert page["total"] >= 3
    assert all(item["department_id"] == gjj["id"] for item in page["items"])

    enterprise = (await client.get("/api/v1/matters", params={"audience": "enterprise", "page_size": 100})).json()
    assert enterprise["total"] >= 1
    assert all(item["audience"] == "enterprise" for item in enterprise["items"])

    themes = (await client.get("/api/v1/themes")).json()["items"]
    theme = next(t for t in themes if t["code"] == "marriage")
    married = (await client.get("/api/v1/matters", params={"theme": theme["code"]})).json()
    assert married["total"] >= 1
    for item in married["items"]:
        guide = (await client.get(f"/api/v1/matters/{item['id']}")).json()
        assert "marriage" in guide["themes"]

    unknown = (await client.get("/api/v1/matters", params={"theme": "no-such-theme"})).json()
    assert unknown == {"items": [], "total": 0, "page": 1, "page_size": 20}


async def test_pagination_shape_and_pages(client):
    first = (await client.get("/api/v1/matters", params={"page": 1, "page_size": 5})).json()
    second = (await client.get("/api/v1/matters", params={"page": 2, "page_size": 5})).json()
    assert first["page"] == 1 and first["page_size"] == 5 and len(first["items"]) == 5
    assert first["total"] == second["total"] >= 30
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}


async def test_guide_has_every_contract_field(client):
    page = (await client.get("/api/v1/matters", params={"q": "身份证"})).json()
    guide = (await client.get(f"/api/v1/matters/{page['items'][0]['id']}")).json()
    for field in (
        "id",
        "code",
        "name",
        "department_id",
        "materials",
        "legal_days",
        "promised_days",
        "fees",
        "max_visits",
        "bookable",
        "hall_ids",
        "version",
    ):
        assert field in guide
    material = guide["materials"][0]
    assert {"id", "name", "required", "form", "copies", "e_licence"} <= set(material)
    assert all(isinstance(fee["amount_fen"], int) for fee in guide["fees"])
    assert guide["amount_fen"] == sum(fee["amount_fen"] for fee in guide["fees"])


async def test_some_demo_matters_charge_fees_in_fen(client):
    charged = 0
    demo_codes = {"GA", "RS", "MZ", "GJJ", "SJ", "ZR", "SW", "YB"}
    departments = await factories.every_item(client, "/api/v1/departments")
    for department in (d for d in departments if d["code"] in demo_codes):
        page = (
            await client.get("/api/v1/matters", params={"department_id": department["id"], "page_size": 100})
        ).json()
        for item in page["items"]:
            guide = (await client.get(f"/api/v1/matters/{item['id']}")).json()
            charged += guide["amount_fen"] > 0
    assert charged >= 5


async def test_unknown_matter_is_404(client):
    assert_error_shape(await client.get("/api/v1/matters/999999"), 404, "MATTER_NOT_FOUND")
    assert_error_shape(await client.get("/api/v1/matters/not-a-number"), 404, "NOT_FOUND")


# ---- editing and versions ----


async def test_admin_creates_a_matter_and_citizens_read_it(client, cache, admin_headers):
    department = await factories.department(cache)
    hall = await factories.hall(cache)
    body = factories.guide_payload(
        department["id"],
        [hall["id"]],
        code=factories.unique("NEW-"),
        fees=[{"name": "工本费", "amount_fen": 2000}],
        pay_before="acceptance",
    )
    response = await client.post("/api/v1/admin/matters", json=body, headers=admin_headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["version"] == 1
    assert created["amount_fen"] == 2000
    assert created["hall_ids"] == [hall["id"]]
    assert [m["code"] for m in created["materials"]] == ["M1", "M2", "M3"]
    read = (await client.get(f"/api/v1/matters/{created['id']}")).json()
    assert read == created


async def test_editing_makes_a_new_version_and_keeps_the_old_one(client, cache, admin_headers):
    created = await factories.matter(cache)
    body = factories.guide_payload(
        created["department_id"],
        name=created["name"] + "（新）",
        version=1,
        materials=[{"name": "居民身份证", "required": True, "form": "original"}],
        change_note="材料精简",
    )
    response = await client.put(f"/api/v1/admin/matters/{created['id']}", json=body, headers=admin_headers)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["version"] == 2
    assert len(updated["materials"]) == 1
    # the material ids of version 1 still point at version 1's list (cases filed under it keep it)
    assert updated["materials"][0]["id"] not in {m["id"] for m in created["materials"]}

    current = (await client.get(f"/api/v1/matters/{created['id']}")).json()
    assert current["version"] == 2 and current["name"].endswith("（新）")
    old = (await client.get(f"/api/v1/matters/{created['id']}", params={"version": 1})).json()
    assert old["version"] == 1 and old["is_current"] is False
    assert [m["id"] for m in old["materials"]] == [m["id"] for m in created["materials"]]
    versions = (await client.get(f"/api/v1/matters/{created['id']}/versions")).json()
    assert [v["version"] for v in versions["items"]] == [2, 1]
    assert versions["items"][0]["change_note"] == "材料精简"
    search = (await client.get("/api/v1/matters", params={"q": created["name"] + "（新）"})).json()
    assert [item["id"] for item in search["items"]] == [created["id"]]


async def test_edit_from_a_stale_version_is_409_and_changes_nothing(client, cache, admin_headers):
    created = await factories.matter(cache)
    first = factories.guide_payload(created["department_id"], version=1)
    assert (
        await client.put(f"/api/v1/admin/matters/{created['id']}", json=first, headers=admin_headers)
    ).status_code == 200
    stale = factories.guide_payload(created["department_id"], version=1, name="不应生效")
    response = await client.put(f"/api/v1/admin/matters/{created['id']}", json=stale, headers=admin_headers)
    error = assert_error_shape(response, 409, "STALE_VERSION")
    assert error["details"]["current_version"] == 2
    current = (await client.get(f"/api/v1/matters/{created['id']}")).json()
    assert current["version"] == 2 and current["name"] != "不应生效"


async def test_unknown_guide_version_is_404(client, cache):
    created = await factories.matter(cache)
    response = await client.get(f"/api/v1/matters/{created['id']}", params={"version": 7})
    assert_error_shape(response, 404, "GUIDE_VERSION_NOT_FOUND")


async def test_editing_needs_a_staff_login(client, cache):
    created = await factories.matter(cache)
    body = factories.guide_payload(created["department_id"])
    for headers in ({}, {"Authorization": "Bearer not-a-live-token"}, {"Authorization": "Basic abc"}):
        assert_error_shape(
            await client.put(f"/api/v1/admin/matters/{created['id']}", json=body, headers=headers), 401, "UNAUTHORIZED"
        )
        assert_error_shape(await client.post("/api/v1/admin/matters", json=body, headers=headers), 401, "UNAUTHORIZED")


async def test_editing_is_for_department_admins_not_clerks_or_citizens(client, cache):
    created = await factories.matter(cache)
    body = factories.guide_payload(created["department_id"])
    clerk = await factories.staff(client, "clerk", department_id=created["department_id"])
    citizen = await factories.wechat_login(client)
    for who in (clerk, citizen):
        assert_error_shape(
            await client.put(f"/api/v1/admin/matters/{created['id']}", json=body, headers=who["headers"]),
            403,
            "FORBIDDEN",
        )


async def test_department_admin_edits_only_their_own_departments_matters(client, cache):
    own = await factories.matter(cache)
    other = await factories.matter(cache)
    dept_admin = await factories.staff(client, "dept_admin", department_id=own["department_id"])

    response = await client.put(
        f"/api/v1/admin/matters/{own['id']}",
        headers=dept_admin["headers"],
        json=factories.guide_payload(own["department_id"], version=1),
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2

    # another department's matter does not exist for them, and nothing changes
    response = await client.put(
        f"/api/v1/admin/matters/{other['id']}",
        headers=dept_admin["headers"],
        json=factories.guide_payload(other["department_id"]),
    )
    assert_error_shape(response, 404, "MATTER_NOT_FOUND")
    assert (await client.get(f"/api/v1/matters/{other['id']}")).json()["version"] == 1

    # nor can they move their matter to, or create one in, another department
    moved = factories.guide_payload(other["department_id"])
    assert_error_shape(
        await client.put(f"/api/v1/admin/matters/{own['id']}", json=moved, headers=dept_admin["headers"]),
        403,
        "FORBIDDEN",
    )
    foreign = factories.guide_payload(other["department_id"], code=factories.unique("X-"))
    assert_error_shape(
        await client.post("/api/v1/admin/matters", json=foreign, headers=dept_admin["headers"]), 403, "FORBIDDEN"
    )


async def test_guide_edits_are_audited_with_who_and_versions(client, cache):
    from app.audit import service as audit

    own = await factories.matter(cache)
    dept_admin = await factories.staff(client, "dept_admin", department_id=own["department_id"])
    response = await client.put(
        f"/api/v1/admin/matters/{own['id']}",
        headers=dept_admin["headers"],
        json=factories.guide_payload(own["department_id"]),
    )
    entries = await audit.entries_for("matter", own["id"])
    assert [e["action"] for e in entries] == ["matter.create", "matter.update"]
    update = entries[-1]
    assert update["staff_id"] == dept_admin["id"]
    assert update["before"]["version"] == 1 and update["after"]["version"] == 2
    assert update["request_id"] == response.headers["x-request-id"]


async def test_editing_an_unknown_matter_is_404(client, cache, admin_headers):
    department = await factories.department(cache)
    response = await client.put(
        "/api/v1/admin/matters/999999", json=factories.guide_payload(department["id"]), headers=admin_headers
    )
    assert_error_shape(response, 404, "MATTER_NOT_FOUND")


async def test_duplicate_code_is_409(client, cache, admin_headers):
    created = await factories.matter(cache)
    body = factories.guide_payload(created["department_id"], code=created["code"])
    assert_error_shape(await client.post("/api/v1/admin/matters", json=body, headers=admin_headers), 409, "CONFLICT")


@pytest.mark.parametrize(
    "change, field",
    [
        ({"promised_days": 30, "legal_days": 20}, "body"),
        ({"fees": [{"name": "工本费", "amount_fen": 12.5}]}, "fees.0.amount_fen"),
        ({"fees": [{"name": "工本费", "amount_fen": "2000"}]}, "fees.0.amount_fen"),
        ({"fees": [{"name": "工本费", "amount_fen": -1}]}, "fees.0.amount_fen"),
        ({"fees": [{"name": "工本费", "amount_fen": 2000}]}, "body"),  # a charged matter must say when it is paid
        ({"materials": [{"name": "x", "required": "yes", "form": "original"}]}, "materials.0.required"),
        ({"materials": [{"name": "x", "required": True, "form": "scan"}]}, "materials.0.form"),
        ({"online_depth": 9}, "online_depth"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_invalid_guides_are_422_naming_the_field(client, cache, admin_headers, change, field):
    department = await factories.department(cache)
    body = factories.guide_payload(department["id"], code=factories.unique("BAD-"), **change)
    error = assert_error_shape(
        await client.post("/api/v1/admin/matters", json=body, headers=admin_headers), 422, "VALIDATION_FAILED"
    )
    assert field in {item["field"] for item in error["details"]["fields"]}


async def test_references_to_unknown_department_theme_or_hall_are_422(client, cache, admin_headers):
    department = await factories.department(cache)
    for change, field in (
        ({"department_id": 999999}, "department_id"),
        ({"themes": ["nope"]}, "themes"),
        ({"hall_ids": [999999], "bookable": True}, "hall_ids"),
    ):
        body = factories.guide_payload(department["id"], code=factories.unique("REF-"))
        body.update(change)
        error = assert_error_shape(
            await client.post("/api/v1/admin/matters", json=body, headers=admin_headers), 422, "UNKNOWN_REFERENCE"
        )
        assert error["details"]["fields"][0]["field"] == field


async def test_new_department_shows_up_despite_the_cached_list(client, cache):
    before = (await client.get("/api/v1/departments")).json()["total"]
    await factories.department(cache)
    after = (await client.get("/api/v1/departments")).json()["total"]
    assert after == before + 1


async def test_search_answers_and_guides_remembered_by_the_process_follow_an_edit_at_once(client, cache):
    from app.catalog.service import memo

    assert memo.seconds > 0  # create_app switched the memo on (catalog.memo_seconds)
    word = factories.unique("独有词")
    before = (await client.get("/api/v1/matters", params={"q": word})).json()
    assert before["total"] == 0 and before["items"] == []
    created = await factories.matter(cache, name=f"测试{word}")
    found = (await client.get("/api/v1/matters", params={"q": word})).json()
    assert [item["id"] for item in found["items"]] == [created["id"]] and found["total"] == 1
    # The same answer again comes from the memo; the guide read fills it too.
    assert (await client.get("/api/v1/matters", params={"q": word})).json() == found
    assert (await client.get(f"/api/v1/matters/{created['id']}")).json()["name"] == f"测试{word}"

    admin = await factories.staff(client, "admin")
    payload = factories.guide_payload(created["department_id"], name=f"改名{word}", version=created["version"])
    updated = await client.put(f"/api/v1/admin/matters/{created['id']}", json=payload, headers=admin["headers"])
    assert updated.status_code == 200, updated.text
    assert (await client.get(f"/api/v1/matters/{created['id']}")).json()["name"] == f"改名{word}"
    renamed = (await client.get("/api/v1/matters", params={"q": f"改名{word}"})).json()
    assert [item["id"] for item in renamed["items"]] == [created["id"]]
