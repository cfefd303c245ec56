"""A fee and the case's moves: a draft is submitted before it is paid; staff are offered only moves that can succeed."""

from __future__ import annotations

from tests import factories as f


async def _pay(client, setup: dict, case_id: int) -> None:
    order = await client.post(
        f"/api/v1/cases/{case_id}/payments", json={"channel": "wechat"}, headers=setup["citizen"]["headers"]
    )
    assert order.status_code == 201, order.text
    paid = await client.post("/sim/wechatpay/pay", json={"order_no": order.json()["order_no"]})
    assert paid.status_code == 200 and paid.json()["delivered"] is True, paid.text


async def test_paying_a_draft_says_to_submit_it_first(client, cache):
    setup = await f.fee_case_setup(client, cache, pay_before="acceptance")
    draft = await f.draft(client, setup)
    response = await client.post(
        f"/api/v1/cases/{draft['id']}/payments", json={"channel": "wechat"}, headers=setup["citizen"]["headers"]
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "CASE_NOT_SUBMITTED" and "提交" in error["message"]
    assert error["details"] == {"amount_fen": 1250, "status": "draft"}


async def test_staff_are_not_offered_accept_before_the_fee_is_paid(client, cache):
    setup = await f.fee_case_setup(client, cache, pay_before="acceptance")
    case_id = setup["case"]["id"]
    path = f"/api/v1/staff/cases/{case_id}"
    unpaid = (await client.get(path, headers=setup["clerk"]["headers"])).json()
    assert "accept" not in unpaid["allowed_actions"]
    assert {"request_supplement", "reject"} <= set(unpaid["allowed_actions"])
    # The department is the test's own: its one submitted case is on the first page.
    listed = await client.get("/api/v1/staff/cases", params={"status": "submitted"}, headers=setup["clerk"]["headers"])
    assert "accept" not in next(c for c in listed.json()["items"] if c["id"] == case_id)["allowed_actions"]

    await _pay(client, setup, case_id)
    paid = (await client.get(path, headers=setup["clerk"]["headers"])).json()
    assert "accept" in paid["allowed_actions"]
    assert (await f.move(client, paid, setup["clerk"], "accept")).status_code == 200


async def test_deliver_is_offered_only_once_a_fee_due_before_delivery_is_paid(client, cache):
    setup = await f.fee_case_setup(client, cache, pay_before="delivery")
    case = await f.moved(client, setup["case"], setup["clerk"], "accept")
    case = await f.moved(client, case, setup["approver"], "start_review")
    case = await f.moved(client, case, setup["approver"], "approve")
    path = f"/api/v1/staff/cases/{case['id']}"
    assert "deliver" not in (await client.get(path, headers=setup["clerk"]["headers"])).json()["allowed_actions"]
    await _pay(client, setup, case["id"])
    assert "deliver" in (await client.get(path, headers=setup["clerk"]["headers"])).json()["allowed_actions"]
