"""Identity through HTTP, from the mini-program's and the console's point of view."""

import asyncio
import time
import uuid

import pytest

from app.core.auth import CITIZEN, Principal, issue_token
from tests import factories
from tests.core.test_errors import assert_error_shape

# ---- WeChat and Alipay login ----


async def test_wechat_login_creates_the_citizen_once_and_me_shows_them_unverified(client):
    openid = "o" + uuid.uuid4().hex[:27]
    first = await factories.wechat_login(client, openid)
    again = await factories.wechat_login(client, openid)
    assert first["id"] == again["id"]
    assert first["token"] != again["token"]
    me = (await client.get("/api/v1/me", headers=again["headers"])).json()
    assert me["id"] == first["id"]
    assert me["real_name_verified"] is False
    assert me["channels"] == ["wechat"]
    assert me["id_number_masked"] is None


async def test_wechat_code_works_once(client):
    code = (await client.post("/sim/wechat/code", json={})).json()["code"]
    assert (await client.post("/api/v1/auth/wechat", json={"code": code})).status_code == 200
    assert_error_shape(await client.post("/api/v1/auth/wechat", json={"code": code}), 401, "LOGIN_CODE_INVALID")
    assert_error_shape(
        await client.post("/api/v1/auth/wechat", json={"code": "never-issued"}), 401, "LOGIN_CODE_INVALID"
    )


async def test_alipay_login_through_the_signed_gateway(client):
    user_id = "2088" + str(uuid.uuid4().int)[:12]
    first = await factories.alipay_login(client, user_id)
    again = await factories.alipay_login(client, user_id)
    assert first["id"] == again["id"]
    me = (await client.get("/api/v1/me", headers=first["headers"])).json()
    assert me["channels"] == ["alipay"]
    code = (await client.post("/sim/alipay/auth_code", json={})).json()["auth_code"]
    assert (await client.post("/api/v1/auth/alipay", json={"auth_code": code})).status_code == 200
    assert_error_shape(await client.post("/api/v1/auth/alipay", json={"auth_code": code}), 401, "LOGIN_CODE_INVALID")


@pytest.mark.parametrize(
    "path",
    ["/api/v1/auth/wechat", "/api/v1/auth/alipay", "/api/v1/auth/staff", "/api/v1/me/identity", "/api/v1/me/proxies"],
)
@pytest.mark.parametrize(
    "body, status, code",
    [
        (b"", 400, "BAD_REQUEST"),
        (b"not json", 400, "MALFORMED_JSON"),
        (b"[1]", 400, "BAD_REQUEST"),
        (b'{"code": 5, "auth_code": 5}', 422, "VALIDATION_FAILED"),
        (b'{"code": ""}', 422, "VALIDATION_FAILED"),
        (b'{"username": null}', 422, "VALIDATION_FAILED"),
        (('{"code": "' + "x" * 5000 + '"}').encode(), 422, "VALIDATION_FAILED"),
    ],
)
async def test_malformed_identity_input_is_400_unless_it_is_a_json_object_then_422(client, path, body, status, code):
    citizen = await factories.wechat_login(client)
    method = client.put if path.endswith("identity") else client.post
    response = await method(path, content=body, headers={**citizen["headers"], "Content-Type": "application/json"})
    assert_error_shape(response, status, code)


# ---- tokens ----


async def test_missing_bad_revoked_and_expired_tokens_are_401(client, cache):
    assert_error_shape(await client.get("/api/v1/me"), 401, "UNAUTHORIZED")
    assert_error_shape(await client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}), 401, "UNAUTHORIZED")
    citizen = await factories.wechat_login(client)
    assert (await client.post("/api/v1/auth/logout", headers=citizen["headers"])).status_code == 200
    assert_error_shape(await client.get("/api/v1/me", headers=citizen["headers"]), 401, "UNAUTHORIZED")

    short_lived = await issue_token(cache, Principal(kind=CITIZEN, id=citizen["id"]), ttl_seconds=1)
    headers = {"Authorization": f"Bearer {short_lived}"}
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    # Gone within 2.1 s of issue (1 s to live, the cache's rounding): asked until then, not slept through.
    gone_by = time.monotonic() + 2.1
    while (await client.get("/api/v1/me", headers=headers)).status_code == 200 and time.monotonic() < gone_by:
        await asyncio.sleep(0.05)
    assert_error_shape(await client.get("/api/v1/me", headers=headers), 401, "UNAUTHORIZED")


async def test_tokens_are_kept_hashed_in_the_cache(client, cache):
    citizen = await factories.wechat_login(client)
    assert await cache.get(f"session:{citizen['token']}") is None


async def test_citizen_and_staff_endpoints_refuse_each_others_tokens(client):
    citizen = await factories.wechat_login(client)
    clerk = await factories.staff(client, "supervisor")
    assert_error_shape(await client.get("/api/v1/me", headers=clerk["headers"]), 403, "FORBIDDEN")
    assert_error_shape(await client.get("/api/v1/staff/me", headers=citizen["headers"]), 403, "FORBIDDEN")


# ---- staff ----


async def test_staff_login_returns_roles_and_department(client, cache):
    department = await factories.department(cache)
    clerk = await factories.staff(client, "clerk", department_id=department["id"])
    me = (await client.get("/api/v1/staff/me", headers=clerk["headers"])).json()
    assert me["roles"] == ["clerk"] and me["department_id"] == department["id"]


async def test_wrong_password_and_unknown_user_look_the_same(client):
    clerk = await factories.staff(client, "supervisor")
    wrong = await client.post("/api/v1/auth/staff", json={"username": clerk["username"], "password": "nope"})
    unknown = await client.post(
        "/api/v1/auth/staff", json={"username": "nobody-" + uuid.uuid4().hex, "password": "nope"}
    )
    assert (
        assert_error_shape(wrong, 401, "INVALID_CREDENTIALS")["message"]
        == assert_error_shape(unknown, 401, "INVALID_CREDENTIALS")["message"]
    )


async def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(client):
    account = await factories.staff(client, "supervisor")
    for _ in range(4):
        assert_error_shape(
            await client.post("/api/v1/auth/staff", json={"username": account["username"], "password": "wrong"}),
            401,
            "INVALID_CREDENTIALS",
        )
    locked = await client.post("/api/v1/auth/staff", json={"username": account["username"], "password": "wrong"})
    error = assert_error_shape(locked, 429, "ACCOUNT_LOCKED")
    assert error["details"]["locked_until"]
    right = await client.post(
        "/api/v1/auth/staff", json={"username": account["username"], "password": factories.STAFF_PASSWORD}
    )
    assert_error_shape(right, 429, "ACCOUNT_LOCKED")


async def test_a_right_password_resets_the_failure_count(client):
    account = await factories.staff(client, "supervisor")
    credentials = {"username": account["username"], "password": "wrong"}
    for _ in range(4):
        await client.post("/api/v1/auth/staff", json=credentials)
    assert (
        await client.post("/api/v1/auth/staff", json={**credentials, "password": factories.STAFF_PASSWORD})
    ).status_code == 200
    for _ in range(4):
        assert (await client.post("/api/v1/auth/staff", json=credentials)).status_code == 401


async def test_logins_are_rate_limited_per_ip(app, client, monkeypatch):
    from app.identity import routes

    address = f"203.0.113.{uuid.uuid4().int % 250}-{uuid.uuid4().hex[:6]}"
    monkeypatch.setattr(routes, "client_ip", lambda request: address)
    security = app.ctx.settings.security.model_copy(update={"login_attempts_per_minute": 3})
    monkeypatch.setattr(app.ctx, "settings", app.ctx.settings.model_copy(update={"security": security}))
    for _ in range(3):
        assert_error_shape(
            await client.post("/api/v1/auth/staff", json={"username": "x", "password": "y"}), 401, "INVALID_CREDENTIALS"
        )
    limited = await client.post("/api/v1/auth/staff", json={"username": "x", "password": "y"})
    assert_error_shape(limited, 429, "RATE_LIMITED")
    assert int(limited.headers["retry-after"]) <= 60


# ---- proxies (代办) ----


async def test_proxy_authorisation_life(client, cache):
    matter = await factories.matter(cache)
    principal = await factories.real_name_citizen(client, name="陈一")
    proxy = await factories.real_name_citizen(client, name="陈二")
    body = {"matter_id": matter["id"], "name": "陈二", "id_number": proxy["id_number"]}
    created = await client.post("/api/v1/me/proxies", headers=principal["headers"], json=body)
    assert created.status_code == 201, created.text
    grant = created.json()
    assert grant["proxy"]["id"] == proxy["id"] and grant["active"] is True
    assert proxy["id_number"] not in created.text
    again = await client.post("/api/v1/me/proxies", headers=principal["headers"], json=body)
    assert again.status_code == 200 and again.json()["id"] == grant["id"]

    received = (await client.get("/api/v1/me/proxies", params={"received": "true"}, headers=proxy["headers"])).json()
    assert [g["id"] for g in received["items"]] == [grant["id"]]
    given = (await client.get("/api/v1/me/proxies", headers=principal["headers"])).json()
    assert [g["id"] for g in given["items"]] == [grant["id"]]

    stranger = await factories.real_name_citizen(client)
    assert_error_shape(
        await client.post(f"/api/v1/me/proxies/{grant['id']}/revoke", headers=stranger["headers"]),
        404,
        "PROXY_GRANT_NOT_FOUND",
    )
    revoked = await client.post(f"/api/v1/me/proxies/{grant['id']}/revoke", headers=principal["headers"])
    assert revoked.status_code == 200 and revoked.json()["active"] is False


async def test_proxy_must_be_a_real_name_citizen_matching_name_and_number(client, cache):
    matter = await factories.matter(cache)
    principal = await factories.real_name_citizen(client, name="林一")
    proxy = await factories.real_name_citizen(client, name="林二")
    cases = [
        ({"name": "林三", "id_number": proxy["id_number"]}, 404, "PROXY_NOT_FOUND"),
        ({"name": "林二", "id_number": factories.id_number()}, 404, "PROXY_NOT_FOUND"),
        ({"name": "林一", "id_number": principal["id_number"]}, 422, "CANNOT_PROXY_SELF"),
        ({"name": "林二", "id_number": "123"}, 422, "INVALID_ID_NUMBER"),
    ]
    for change, status, code in cases:
        response = await client.post(
            "/api/v1/me/proxies", headers=principal["headers"], json={"matter_id": matter["id"], **change}
        )
        assert_error_shape(response, status, code)
    unknown_matter = await client.post(
        "/api/v1/me/proxies",
        headers=principal["headers"],
        json={"matter_id": 999999, "name": "林二", "id_number": proxy["id_number"]},
    )
    assert_error_shape(unknown_matter, 404, "MATTER_NOT_FOUND")


async def test_granting_a_proxy_needs_a_real_name(client, cache):
    matter = await factories.matter(cache)
    unverified = await factories.wechat_login(client)
    proxy = await factories.real_name_citizen(client, name="黄二")
    response = await client.post(
        "/api/v1/me/proxies",
        headers=unverified["headers"],
        json={"matter_id": matter["id"], "name": "黄二", "id_number": proxy["id_number"]},
    )
    assert_error_shape(response, 403, "REAL_NAME_REQUIRED")


async def test_looking_up_proxies_is_limited_so_it_cannot_test_many_id_numbers(client, cache, settings):
    matter = await factories.matter(cache)
    principal = await factories.real_name_citizen(client, name="黄三")
    for _ in range(settings.identity.claims_per_account_per_day):
        guess = {"matter_id": matter["id"], "name": "黄四", "id_number": factories.id_number()}
        assert_error_shape(
            await client.post("/api/v1/me/proxies", headers=principal["headers"], json=guess), 404, "PROXY_NOT_FOUND"
        )
    guess = {"matter_id": matter["id"], "name": "黄四", "id_number": factories.id_number()}
    assert_error_shape(
        await client.post("/api/v1/me/proxies", headers=principal["headers"], json=guess), 429, "RATE_LIMITED"
    )


# ---- staff accounts (administrators) ----


async def _login(client, username: str, password: str = factories.STAFF_PASSWORD):
    return await client.post("/api/v1/auth/staff", json={"username": username, "password": password})


async def _me(client, staff: dict):
    return await client.get("/api/v1/staff/me", headers=staff["headers"])


async def test_an_admin_opens_staff_accounts_and_only_an_admin(client, cache):
    admin = await factories.shared_staff(client, "admin")
    department = await factories.department(cache)
    username = factories.unique("clerk_")
    body = {
        "username": username,
        "password": factories.STAFF_PASSWORD,
        "name": "王窗口",
        "roles": ["clerk"],
        "department_id": department["id"],
    }
    created = await client.post("/api/v1/admin/staff", json=body, headers=admin["headers"])
    assert created.status_code == 201, created.text
    assert {key: created.json()[key] for key in ("username", "name", "roles", "department_id", "is_active")} == {
        "username": username,
        "name": "王窗口",
        "roles": ["clerk"],
        "department_id": department["id"],
        "is_active": True,
    }
    assert "password" not in created.text and "password_hash" not in created.text
    logged_in = await _login(client, username)
    assert logged_in.status_code == 200 and logged_in.json()["staff"]["roles"] == ["clerk"]
    listed = (
        await client.get("/api/v1/admin/staff", params={"department_id": department["id"]}, headers=admin["headers"])
    ).json()
    assert [item["username"] for item in listed["items"]] == [username] and listed["total"] == 1
    # an admin finds an account by a part of its username or its name, across departments
    for part in (username[-6:].upper(), "王窗"):
        found = (await client.get("/api/v1/admin/staff", params={"q": part}, headers=admin["headers"])).json()
        assert username in [item["username"] for item in found["items"]], part
    nobody = (await client.get("/api/v1/admin/staff", params={"q": "无此人zz"}, headers=admin["headers"])).json()
    assert nobody == {**nobody, "items": [], "total": 0}
    assert_error_shape(
        await client.get("/api/v1/admin/staff", params={"q": "x" * 51}, headers=admin["headers"]),
        422,
        "VALIDATION_FAILED",
    )

    assert_error_shape(
        await client.post("/api/v1/admin/staff", json=body, headers=admin["headers"]), 409, "STAFF_EXISTS"
    )
    no_department = {**body, "username": factories.unique("clerk_"), "department_id": None}
    assert_error_shape(
        await client.post("/api/v1/admin/staff", json=no_department, headers=admin["headers"]),
        422,
        "UNKNOWN_DEPARTMENT",
    )
    weak = {**body, "username": factories.unique("clerk_"), "password": "short"}
    assert_error_shape(
        await client.post("/api/v1/admin/staff", json=weak, headers=admin["headers"]), 422, "WEAK_PASSWORD"
    )
    unknown_role = {**body, "username": factories.unique("clerk_"), "roles": ["root"]}
    assert_error_shape(
        await client.post("/api/v1/admin/staff", json=unknown_role, headers=admin["headers"]), 422, "VALIDATION_FAILED"
    )
    dept_admin = await factories.staff(client, "dept_admin", department_id=department["id"])
    citizen = await factories.wechat_login(client)
    for outsider in (dept_admin, citizen):
        assert_error_shape(
            await client.post("/api/v1/admin/staff", json={**body, "username": "x_y_z"}, headers=outsider["headers"]),
            403,
            "FORBIDDEN",
        )
        assert_error_shape(await client.get("/api/v1/admin/staff", headers=outsider["headers"]), 403, "FORBIDDEN")
    assert_error_shape(await client.get("/api/v1/admin/staff"), 401, "UNAUTHORIZED")


async def test_a_role_change_takes_effect_at_once_and_closed_accounts_cannot_log_in(client, cache):
    admin = await factories.shared_staff(client, "admin")
    department = await factories.department(cache)
    clerk = await factories.staff(client, "clerk", department_id=department["id"])
    assert (await _me(client, clerk)).status_code == 200
    url = f"/api/v1/admin/staff/{clerk['id']}"

    # New roles: the token that carried the old ones no longer opens anything; a new login carries the new ones.
    changed = await client.patch(url, json={"roles": ["approver"]}, headers=admin["headers"])
    assert changed.status_code == 200 and changed.json()["roles"] == ["approver"], changed.text
    assert_error_shape(await _me(client, clerk), 401, "UNAUTHORIZED")
    again = await _login(client, clerk["username"])
    assert again.status_code == 200 and again.json()["staff"]["roles"] == ["approver"]
    clerk["headers"] = {"Authorization": f"Bearer {again.json()['token']}"}
    assert (await _me(client, clerk)).status_code == 200

    # Closed: out at once, and the right password no longer logs in; reopened, it does.
    closed = await client.patch(url, json={"is_active": False}, headers=admin["headers"])
    assert closed.status_code == 200 and closed.json()["is_active"] is False
    assert_error_shape(await _me(client, clerk), 401, "UNAUTHORIZED")
    assert_error_shape(await _login(client, clerk["username"]), 401, "INVALID_CREDENTIALS")
    assert (await client.patch(url, json={"is_active": True}, headers=admin["headers"])).status_code == 200
    assert (await _login(client, clerk["username"])).status_code == 200

    # A new password: the old one and the sessions opened with it end.
    session = await _login(client, clerk["username"])
    headers = {"Authorization": f"Bearer {session.json()['token']}"}
    new_password = "Another-horse-77"
    assert (await client.patch(url, json={"password": new_password}, headers=admin["headers"])).status_code == 200
    assert_error_shape(await client.get("/api/v1/staff/me", headers=headers), 401, "UNAUTHORIZED")
    assert_error_shape(await _login(client, clerk["username"]), 401, "INVALID_CREDENTIALS")
    assert (await _login(client, clerk["username"], new_password)).status_code == 200
    # Other staff's sessions are untouched.
    assert (await _me(client, admin)).status_code == 200


async def test_staff_changes_are_checked_and_an_admin_cannot_lock_himself_out(client, cache):
    admin = await factories.staff(client, "admin")
    clerk = await factories.staff(client, "clerk", department_id=(await factories.department(cache))["id"])
    own = f"/api/v1/admin/staff/{admin['id']}"
    for change in ({"is_active": False}, {"roles": ["supervisor"]}):
        assert_error_shape(await client.patch(own, json=change, headers=admin["headers"]), 409, "CANNOT_CHANGE_SELF")
    assert (await _me(client, admin)).status_code == 200
    url = f"/api/v1/admin/staff/{clerk['id']}"
    assert_error_shape(
        await client.patch(url, json={"department_id": None}, headers=admin["headers"]), 422, "UNKNOWN_DEPARTMENT"
    )  # a clerk belongs to a department
    assert_error_shape(
        await client.patch(url, json={"department_id": 99_999_999}, headers=admin["headers"]), 422, "UNKNOWN_DEPARTMENT"
    )
    assert_error_shape(await client.patch(url, json={"roles": []}, headers=admin["headers"]), 422, "VALIDATION_FAILED")
    assert_error_shape(
        await client.patch(url, json={"is_active": "no"}, headers=admin["headers"]), 422, "VALIDATION_FAILED"
    )
    assert_error_shape(
        await client.patch("/api/v1/admin/staff/99999999", json={"name": "无"}, headers=admin["headers"]),
        404,
        "STAFF_NOT_FOUND",
    )
    assert (await _me(client, clerk)).status_code == 200  # refused changes end no session
    assert_error_shape(await client.patch(url, json={"name": "无"}, headers=clerk["headers"]), 403, "FORBIDDEN")
