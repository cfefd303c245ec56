"""Test data built through the services, with unique codes so tests never collide."""

from __future__ import annotations

import itertools
import uuid

from app.catalog import service as catalog
from app.catalog.schemas import MatterCreate
from app.core.auth import SYSTEM

_counter = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_counter)}{uuid.uuid4().hex[:4]}"


async def department(cache, **overrides) -> dict:
    data = {"code": unique("D"), "name": f"测试部门{unique('')}", "short_name": "测试", "phone": "0571-00000000"}
    data.update(overrides)
    return await catalog.create_department(**data, cache=cache)


async def hall(cache, **overrides) -> dict:
    data = {
        "code": unique("H"),
        "name": f"测试大厅{unique('')}",
        "district": "测试区",
        "address": "测试路1号",
        "opening_hours": "周一至周五 09:00-17:00",
        "windows": 5,
    }
    data.update(overrides)
    return await catalog.create_hall(**data, cache=cache)


def guide_payload(department_id: int, hall_ids: list[int] | None = None, **overrides) -> dict:
    """A complete, valid guide body as the staff console would send it."""
    payload = {
        "name": f"测试事项{unique('')}",
        "department_id": department_id,
        "kind": "public_service",
        "audience": "citizen",
        "themes": [],
        "conditions": "本市户籍居民",
        "materials": [
            {"name": "居民身份证", "required": True, "form": "original", "copies": 1, "e_licence": True},
            {"name": "申请表", "required": True, "form": "copy", "copies": 2},
            {"name": "其他证明材料", "required": False, "form": "electronic", "copies": 0},
        ],
        "form_fields": [{"name": "reason", "label": "申请事由", "type": "text", "required": True, "max_length": 200}],
        "legal_days": 20,
        "promised_days": 5,
        "fees": [],
        "max_visits": 1,
        "online_depth": 3,
        "hall_ids": hall_ids or [],
        "bookable": bool(hall_ids),
    }
    payload.update(overrides)
    return payload


async def matter(cache, *, department_id: int | None = None, hall_ids: list[int] | None = None, **overrides) -> dict:
    if department_id is None:
        department_id = (await department(cache))["id"]
    payload = guide_payload(department_id, hall_ids, **overrides)
    payload.setdefault("code", unique("T-"))
    return await catalog.create_matter(MatterCreate.model_validate(payload), actor=SYSTEM, cache=cache, ttl=60)


# ---- identity ----


def id_number(birth: str | None = None) -> str:
    """A valid 18-digit resident ID number (GB 11643 check digit), unique in the run unless birth is given."""
    from datetime import date, timedelta

    from app.identity.id_number import check_digit

    n = next(_counter)
    # 1000 sequence numbers per birth date: move to the next date rather than repeat a number.
    born = birth or (date(1960, 1, 1) + timedelta(days=n // 1000)).strftime("%Y%m%d")
    first17 = "110101" + born + f"{n % 1000:03d}"
    return first17 + check_digit(first17)


def phone() -> str:
    return f"139{next(_counter) % 100_000_000:08d}"


async def wechat_login(client, openid: str | None = None) -> dict:
    """Log in as the mini-program does: wx.login (the simulator) then POST /auth/wechat."""
    openid = openid or "o" + uuid.uuid4().hex[:27]
    code = (await client.post("/sim/wechat/code", json={"openid": openid})).json()["code"]
    response = await client.post("/api/v1/auth/wechat", json={"code": code})
    assert response.status_code == 200, response.text
    body = response.json()
    return {
        "token": body["token"],
        "id": body["citizen"]["id"],
        "openid": openid,
        "headers": {"Authorization": f"Bearer {body['token']}"},
    }


async def alipay_login(client, user_id: str | None = None) -> dict:
    user_id = user_id or f"2088{uuid.uuid4().int % 10**12:012d}"
    code = (await client.post("/sim/alipay/auth_code", json={"user_id": user_id})).json()
    response = await client.post("/api/v1/auth/alipay", json={"auth_code": code["auth_code"]})
    assert response.status_code == 200, response.text
    body = response.json()
    return {
        "token": body["token"],
        "id": body["citizen"]["id"],
        "user_id": user_id,
        "headers": {"Authorization": f"Bearer {body['token']}"},
    }


async def texted_code(client, phone_number: str) -> str:
    """The one-time code in the last SMS the simulated gateway took for this number."""
    import re

    response = await client.get("/sim/sms/messages", params={"phone": phone_number})
    items = response.json()["items"]
    assert items, f"no SMS reached {phone_number[:3]}..."
    return re.search(r"[0-9]{6}", items[-1]["text"]).group(0)


async def claim_identity(client, citizen: dict, *, name: str, number: str, phone_number: str, method=None):
    """PUT /me/identity: the first step, which binds nothing."""
    body = {"name": name, "id_number": number, "phone": phone_number}
    if method:
        body["method"] = method
    return await client.put("/api/v1/me/identity", headers=citizen["headers"], json=body)


async def verify_identity(
    client,
    citizen: dict,
    *,
    name: str,
    number: str,
    phone_number: str | None = None,
    method: str = "wechat",
    really: tuple[str, str] | None = None,
):
    """Claim an identity and confirm it as the app would; `really` is who the person is (default: who they claim).

    WeChat: the simulator learns the real name WeChat Pay holds for the openid, the person agrees on the consent
    page, the code goes to confirm. Alipay: the face before the camera is `really`'s.
    """
    phone_number = phone_number or phone()
    real_name, real_number = really or (name, number)
    if method == "wechat":
        registered = {"openid": citizen["openid"], "real_name": real_name, "id_number": real_number}
        assert (await client.post("/sim/wechat/real-name", json=registered)).status_code == 200
    claim = await claim_identity(client, citizen, name=name, number=number, phone_number=phone_number, method=method)
    assert claim.status_code == 202, claim.text
    verification = claim.json()["verification"]
    body = {"sms_code": await texted_code(client, phone_number)}
    if method == "wechat":
        consent = await client.post("/sim/wechat/real-name/consent", json={"openid": citizen["openid"]})
        body["code"] = consent.json()["code"]
    else:
        face = {"certify_id": verification["alipay"]["certify_id"], "real_name": real_name, "id_number": real_number}
        assert (await client.post("/sim/alipay/certify/face", json=face)).status_code == 200
    return await client.post(
        f"/api/v1/me/identity/verifications/{verification['id']}/confirm", headers=citizen["headers"], json=body
    )


async def real_name_citizen(client, name: str = "张三") -> dict:
    """A WeChat citizen whose real-name identity WeChat confirmed."""
    citizen = await wechat_login(client)
    number = id_number()
    response = await verify_identity(client, citizen, name=name, number=number)
    assert response.status_code == 200, response.text
    return {**citizen, "name": name, "id_number": number}


STAFF_PASSWORD = "Correct-horse-42"


async def staff(client, *roles: str, department_id: int | None = None) -> dict:
    """A staff account of these roles, logged in through POST /auth/staff."""
    from app.identity import service as identity

    username = unique("staff_")
    account = await identity.create_staff(
        username=username,
        password=STAFF_PASSWORD,
        roles=list(roles),
        name=username,
        department_id=department_id,
        actor="test",
    )
    response = await client.post("/api/v1/auth/staff", json={"username": username, "password": STAFF_PASSWORD})
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    return {**account, "token": token, "headers": {"Authorization": f"Bearer {token}"}}


# One account per roles and department for the whole run (the database lives as long as the run).
_shared_staff: dict[tuple[tuple[str, ...], int | None], dict] = {}


async def shared_staff(client, *roles: str, department_id: int | None = None) -> dict:
    """The run's one logged-in account of these roles (and department), for a test that only acts as it.

    A test that changes the account or its session (password, lockout, roles, department, closing, logout, an
    attempt on its own account) or counts what it received takes staff(): a fresh account of its own.
    """
    key = (tuple(sorted(roles)), department_id)
    if key not in _shared_staff:
        _shared_staff[key] = await staff(client, *roles, department_id=department_id)
    return _shared_staff[key]


# ---- booking ----


async def bookable_matter(cache, *, windows: int = 3) -> dict:
    """A department, a hall and a bookable matter of that department offered at that hall."""
    dep = await department(cache)
    place = await hall(cache, windows=windows)
    item = await matter(cache, department_id=dep["id"], hall_ids=[place["id"]])
    return {"department": dep, "hall": place, "matter": item}


async def schedule(cache, setup: dict, *, now=None, **overrides) -> dict:
    """A booking schedule for a bookable_matter: every weekday, 09:00-12:00 in 60-minute slots of 2 seats,
    released 5 working days ahead at 00:00, booking open until the slot starts, cancel until 2 hours before."""
    from app.booking import service as booking
    from app.booking.schemas import ScheduleIn

    data = {
        "hall_id": setup["hall"]["id"],
        "matter_id": setup["matter"]["id"],
        "weekdays": [1, 2, 3, 4, 5, 6, 7],
        "ranges": [{"start": "09:00", "end": "12:00"}],
        "slot_minutes": 60,
        "capacity": 2,
        "release_days": 5,
        "release_time": "00:00",
        "booking_closes_minutes": 0,
        "cancel_cutoff_minutes": 120,
    }
    data.update(overrides)
    return await booking.create_schedule(
        ScheduleIn.model_validate(data), actor=SYSTEM, cache=cache, catalog_ttl=60, now=now
    )


async def open_slot(client, setup: dict) -> dict:
    """The first slot of the matter the citizen can book now (the next working day's morning)."""
    response = await client.get(
        f"/api/v1/matters/{setup['matter']['id']}/slots", params={"hall_id": setup["hall"]["id"]}
    )
    assert response.status_code == 200, response.text
    from app.core.timeutil import now
    from app.core.workdays import local_date

    # After midnight in the city, today's morning is open too: take a later day, as the docstring promises.
    today = local_date(now()).isoformat()
    later = [slot for slot in response.json() if slot["date"] > today]
    assert later, "no open slot after today"
    return later[0]


# ---- cases ----

PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32


async def case_setup(client, cache, **matter_fields) -> dict:
    """A department with an online matter (matter_fields change its guide), its clerk, its approver, and a
    real-name citizen."""
    dep = await department(cache)
    item = await matter(cache, department_id=dep["id"], **matter_fields)
    return {
        "department": dep,
        "matter": item,
        "required": [m["id"] for m in item["materials"] if m["required"]],
        "optional": [m["id"] for m in item["materials"] if not m["required"]],
        "clerk": await staff(client, "clerk", department_id=dep["id"]),
        "approver": await staff(client, "approver", department_id=dep["id"]),
        "citizen": await real_name_citizen(client),
    }


async def granted_proxy(client, setup: dict, name: str = "王五") -> tuple[dict, dict]:
    """Another real-name citizen whom setup's citizen lets file and follow setup's matter for them: (proxy, grant)."""
    proxy = await real_name_citizen(client, name)
    response = await client.post(
        "/api/v1/me/proxies",
        headers=setup["citizen"]["headers"],
        json={"matter_id": setup["matter"]["id"], "name": name, "id_number": proxy["id_number"]},
    )
    assert response.status_code == 201, response.text
    return proxy, response.json()


async def draft(client, setup: dict, citizen: dict | None = None, **body) -> dict:
    """A draft case with the form filled in."""
    citizen = citizen or setup["citizen"]
    payload = {"matter_id": setup["matter"]["id"], "form": {"reason": "办理需要"}, **body}
    response = await client.post("/api/v1/cases", json=payload, headers=citizen["headers"])
    assert response.status_code == 201, response.text
    return response.json()


async def upload(
    client, case_id: int, material_id: int, citizen: dict, data: bytes = PDF_BYTES, name: str = "scan.pdf"
):
    return await client.post(
        f"/api/v1/cases/{case_id}/materials",
        headers=citizen["headers"],
        data={"material_id": str(material_id)},
        files={"file": (name, data)},
    )


async def submitted_case(client, setup: dict, citizen: dict | None = None) -> dict:
    """A draft with every required material uploaded, submitted."""
    citizen = citizen or setup["citizen"]
    case = await draft(client, setup, citizen)
    for material_id in setup["required"]:
        response = await upload(client, case["id"], material_id, citizen)
        assert response.status_code == 201, response.text
    response = await client.post(f"/api/v1/cases/{case['id']}/submit", headers=citizen["headers"])
    assert response.status_code == 200, response.text
    return response.json()


async def move(client, case: dict, actor: dict, action: str, **body):
    """POST a staff transition with the case's current version."""
    payload = {"action": action, "version": case["version"], **body}
    return await client.post(f"/api/v1/staff/cases/{case['id']}/transitions", json=payload, headers=actor["headers"])


async def moved(client, case: dict, actor: dict, action: str, **body) -> dict:
    response = await move(client, case, actor, action, **body)
    assert response.status_code == 200, response.text
    return response.json()


async def every_item(client, path: str, **params) -> list[dict]:
    """All items of a list endpoint, page by page: tests share one database, so page one holds no promise."""
    items: list[dict] = []
    page = 1
    while True:
        body = (await client.get(path, params={**params, "page": page, "page_size": 100})).json()
        items += body["items"]
        if len(items) >= body["total"] or not body["items"]:
            return items
        page += 1


# ---- payments ----


async def fee_case_setup(
    client, cache, *, amount_fen: int = 1250, pay_before: str = "delivery", channel: str = "wechat"
) -> dict:
    """A matter with a fee, its clerk and approver, and a real-name citizen of the channel with a submitted case."""
    dep = await department(cache)
    item = await matter(
        cache, department_id=dep["id"], fees=[{"name": "工本费", "amount_fen": amount_fen}], pay_before=pay_before
    )
    if channel == "wechat":
        citizen = await real_name_citizen(client)
    else:
        citizen = await alipay_login(client)
        bound = await verify_identity(client, citizen, name="钱八", number=id_number(), method="alipay")
        assert bound.status_code == 200, bound.text
    setup = {
        "department": dep,
        "matter": item,
        "required": [m["id"] for m in item["materials"] if m["required"]],
        "optional": [],
        "citizen": citizen,
        "clerk": await staff(client, "clerk", department_id=dep["id"]),
        "approver": await staff(client, "approver", department_id=dep["id"]),
    }
    setup["case"] = await submitted_case(client, setup)
    return setup


# ---- ratings and feedback ----


async def ended_case(client, setup: dict, citizen: dict | None = None, *, decision: str = "approve") -> dict:
    """A case of the setup's matter taken from submission to a decision (approve or deny)."""
    case = await submitted_case(client, setup, citizen)
    case = await moved(client, case, setup["clerk"], "accept")
    case = await moved(client, case, setup["approver"], "start_review")
    return await moved(
        client, case, setup["approver"], decision, **({"note": "不符合条件"} if decision == "deny" else {})
    )


async def rating_setup(client, cache) -> dict:
    """case_setup plus the department's admin and the run's supervisor (who sees every department).

    Shared: every supervisor hears of every department's escalations, so a fresh one per test made each alert go to
    more and more of them; tests tell their alerts apart by ticket or case number.
    """
    setup = await case_setup(client, cache)
    setup["dept_admin"] = await staff(client, "dept_admin", department_id=setup["department"]["id"])
    setup["supervisor"] = await shared_staff(client, "supervisor")
    return setup


async def rated(client, citizen: dict, **body) -> dict:
    """POST /ratings that must succeed."""
    response = await client.post("/api/v1/ratings", json=body, headers=citizen["headers"])
    assert response.status_code == 201, response.text
    return response.json()
