"""A guide read with GET goes back with PUT as it is: its read-only fields are ignored, unknown ones still refused."""

from __future__ import annotations

from tests import factories
from tests.core.test_errors import assert_error_shape


async def test_a_guide_read_with_get_can_be_sent_back_with_put(client, cache, admin_headers):
    created = await factories.matter(cache, fees=[{"name": "工本费", "amount_fen": 2000}], pay_before="acceptance")
    read = (await client.get(f"/api/v1/matters/{created['id']}")).json()
    assert {"id", "code", "department_name", "amount_fen", "is_current", "updated_at"} <= set(read)
    assert all("id" in material for material in read["materials"])

    edited = {**read, "name": read["name"] + "（改）", "change_note": "改名"}
    response = await client.put(f"/api/v1/admin/matters/{created['id']}", json=edited, headers=admin_headers)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["version"] == 2 and updated["name"].endswith("（改）")
    # Read-only means ignored: the code, the total and the materials' ids are the server's, not the body's.
    assert updated["code"] == read["code"] and updated["amount_fen"] == 2000
    assert [m["name"] for m in updated["materials"]] == [m["name"] for m in read["materials"]]
    assert not {m["id"] for m in updated["materials"]} & {m["id"] for m in read["materials"]}

    sent_back = {**updated, "code": "OTHER-CODE", "amount_fen": 1, "id": 1}
    again = await client.put(f"/api/v1/admin/matters/{created['id']}", json=sent_back, headers=admin_headers)
    assert again.status_code == 200, again.text
    assert again.json()["code"] == read["code"] and again.json()["amount_fen"] == 2000


async def test_a_field_no_answer_shows_is_still_refused(client, cache, admin_headers):
    created = await factories.matter(cache)
    read = (await client.get(f"/api/v1/matters/{created['id']}")).json()
    response = await client.put(
        f"/api/v1/admin/matters/{created['id']}", json={**read, "colour": "blue"}, headers=admin_headers
    )
    assert_error_shape(response, 422, "VALIDATION_FAILED")
    materials = [{**read["materials"][0], "colour": "blue"}, *read["materials"][1:]]
    response = await client.put(
        f"/api/v1/admin/matters/{created['id']}", json={**read, "materials": materials}, headers=admin_headers
    )
    assert_error_shape(response, 422, "VALIDATION_FAILED")
