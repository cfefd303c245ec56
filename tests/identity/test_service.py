"""Identity rules below HTTP: ID numbers, proxies as other domains will ask, staff accounts."""

import pytest

from app.core.errors import AppError
from app.identity import service as identity
from app.identity.id_number import InvalidIdNumber, check_digit, mask_id_number, normalise_id_number
from tests import factories


def test_check_digit_follows_gb_11643():
    # Worked example from the standard's annex: 11010519491231002X
    assert check_digit("11010519491231002") == "X"
    assert normalise_id_number("11010519491231002x") == "11010519491231002X"


def test_masking_keeps_three_and_four():
    assert mask_id_number("110101199003074578") == "110***********4578"


@pytest.mark.parametrize("raw", ["110101199003074577", "110101900307457", "1101011990030745781", ""])
def test_invalid_numbers_raise(raw):
    with pytest.raises(InvalidIdNumber):
        normalise_id_number(raw)


async def test_is_proxy_for_follows_grant_and_revocation(client, cache, app):
    matter = await factories.matter(cache)
    other_matter = await factories.matter(cache)
    principal = await factories.real_name_citizen(client, name="马一")
    proxy = await factories.real_name_citizen(client, name="马二")
    grant, _ = await identity.grant_proxy(
        principal["id"],
        matter_id=matter["id"],
        name="马二",
        id_number=proxy["id_number"],
        cipher=app.ctx.cipher,
        cache=cache,
        lookups_per_day=10,
    )
    assert await identity.is_proxy_for(proxy["id"], principal["id"], matter["id"])
    assert not await identity.is_proxy_for(proxy["id"], principal["id"], other_matter["id"])
    assert not await identity.is_proxy_for(principal["id"], proxy["id"], matter["id"])
    assert await identity.principals_for(proxy["id"], matter["id"]) == [principal["id"]]
    await identity.revoke_grant(principal["id"], grant["id"])
    assert not await identity.is_proxy_for(proxy["id"], principal["id"], matter["id"])


async def test_citizen_found_by_id_number_for_linking(client, app):
    citizen = await factories.real_name_citizen(client)
    assert await identity.citizen_id_by_id_number(citizen["id_number"], cipher=app.ctx.cipher) == citizen["id"]


async def test_an_unverified_claim_is_not_found_for_linking(client, app):
    from app.identity.models import Citizen

    claimant = await factories.wechat_login(client)
    number = factories.id_number()
    held = identity.describe_id_number(number, cipher=app.ctx.cipher)
    await Citizen.filter(id=claimant["id"]).update(name="张三", real_name_verified_at=None, **held)
    assert await identity.citizen_id_by_id_number(number, cipher=app.ctx.cipher) is None
    assert await identity.citizen_id_by_id_number(factories.id_number(), cipher=app.ctx.cipher) is None


async def test_staff_need_strong_passwords_unique_names_and_a_department_for_scoped_roles(cache):
    department = await factories.department(cache)
    with pytest.raises(AppError) as weak:
        await identity.create_staff(
            username=factories.unique("s"),
            password="short1",
            roles=["clerk"],
            name="x",
            department_id=department["id"],
            actor="test",
        )
    assert weak.value.code == "WEAK_PASSWORD"
    with pytest.raises(AppError) as no_department:
        await identity.create_staff(
            username=factories.unique("s"),
            password="Long-enough-123",
            roles=["clerk"],
            name="x",
            department_id=None,
            actor="test",
        )
    assert no_department.value.code == "UNKNOWN_DEPARTMENT"
    username = factories.unique("s")
    await identity.create_staff(
        username=username, password="Long-enough-123", roles=["supervisor"], name="x", department_id=None, actor="test"
    )
    with pytest.raises(AppError) as duplicate:
        await identity.create_staff(
            username=username,
            password="Long-enough-123",
            roles=["supervisor"],
            name="x",
            department_id=None,
            actor="test",
        )
    assert duplicate.value.code == "STAFF_EXISTS"


async def test_passwords_are_stored_as_argon2_hashes(client):
    from app.identity.models import Staff

    account = await factories.staff(client, "supervisor")
    stored = await Staff.get(id=account["id"])
    assert stored.password_hash.startswith("$argon2id$")
    assert factories.STAFF_PASSWORD not in stored.password_hash


async def test_passwords_are_hashed_at_the_configured_cost(client, settings):
    from app.identity.models import Staff

    account = await factories.staff(client, "supervisor")
    stored = (await Staff.get(id=account["id"])).password_hash
    security = settings.security
    assert (
        f"$m={security.password_memory_cost},t={security.password_time_cost},"
        f"p={security.password_parallelism}$" in stored
    )


async def test_a_hash_of_another_cost_still_logs_in_and_is_rehashed_at_the_configured_cost(client):
    from argon2 import PasswordHasher

    from app.identity import passwords
    from app.identity.models import Staff

    account = await factories.staff(client, "supervisor")
    # As if hashed before the cost was changed: the hash carries its own cost.
    older = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash(factories.STAFF_PASSWORD)
    await Staff.filter(id=account["id"]).update(password_hash=older)
    login = {"username": account["username"], "password": factories.STAFF_PASSWORD}
    assert (await client.post("/api/v1/auth/staff", json=login)).status_code == 200
    rehashed = (await Staff.get(id=account["id"])).password_hash
    assert rehashed != older and not passwords.current().needs_rehash(rehashed)
    # A hash already at the configured cost is kept as it is.
    assert (await client.post("/api/v1/auth/staff", json=login)).status_code == 200
    assert (await Staff.get(id=account["id"])).password_hash == rehashed
