"""Identity rules: platform logins, real-name binding (one person, one citizen), staff accounts, proxies."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from datetime import timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from app.audit import service as audit
from app.catalog import service as catalog
from app.core.auth import (
    CITIZEN,
    STAFF,
    Principal,
    end_staff_sessions,
    issue_token,
    limit_rate,
    repoint_token,
    revoke_token,
)
from app.core.cache import Cache
from app.core.crypto import FieldCipher
from app.core.errors import Unauthorized
from app.core.timeutil import now, to_iso
from app.identity import id_number as ids
from app.identity import passwords
from app.identity.errors import (
    AccountLocked,
    CannotChangeSelf,
    CannotProxySelf,
    ConsentCodeRequired,
    IdentityAlreadyBound,
    IdentityNotVerified,
    IdentityTaken,
    InvalidCredentials,
    InvalidIdNumber,
    InvalidPhone,
    ProxyGrantNotFound,
    ProxyNotFound,
    RealNameRequired,
    SmsCodeWrong,
    StaffExists,
    StaffNotFound,
    UnknownDepartment,
    VerificationClosed,
    VerificationExpired,
    VerificationMethodUnavailable,
    VerificationNotFound,
    WeakPassword,
)
from app.identity.models import (
    Citizen,
    IdentityVerification,
    ProxyGrant,
    Role,
    Staff,
    VerificationMethod,
    VerificationStatus,
)
from app.platforms.wechat import REAL_NAME_CONSENT_APPID, REAL_NAME_CONSENT_PATH

log = logging.getLogger("app.identity")

ID_NUMBER = "id_number"
PHONE = "phone"


# ---- views ----


def citizen_view(citizen: Citizen) -> dict:
    channels = [
        name for name, value in (("wechat", citizen.wechat_openid), ("alipay", citizen.alipay_user_id)) if value
    ]
    return {
        "id": citizen.id,
        "real_name_verified": citizen.real_name_verified_at is not None,
        "name": citizen.name,
        "id_number_masked": citizen.id_number_masked,
        "phone_masked": citizen.phone_masked,
        "real_name_method": citizen.real_name_method if citizen.real_name_verified_at else None,
        "channels": channels,
        "created_at": to_iso(citizen.created_at),
    }


def staff_view(staff: Staff) -> dict:
    return {
        "id": staff.id,
        "username": staff.username,
        "name": staff.name,
        "roles": list(staff.roles),
        "department_id": staff.department_id,
    }


def staff_admin_view(staff: Staff) -> dict:
    """A staff account as the administrators' console shows it."""
    return {
        **staff_view(staff),
        "is_active": staff.is_active,
        "created_at": to_iso(staff.created_at),
        "last_login_at": to_iso(staff.last_login_at),
        "locked_until": to_iso(staff.locked_until),
    }


# ---- citizens ----


async def _citizen_login(lookup: dict, updates: dict, *, cache: Cache, ttl: int) -> tuple[str, dict]:
    citizen = await Citizen.get_or_none(**lookup)
    if citizen is None:
        try:
            citizen = await Citizen.create(**lookup, **updates, last_login_at=now())
        except IntegrityError:
            # Two first logins of one user raced; the other one created the row.
            citizen = await Citizen.get(**lookup)
    else:
        for key, value in updates.items():
            setattr(citizen, key, value)
        citizen.last_login_at = now()
        await citizen.save(update_fields=[*updates, "last_login_at"])
    token = await issue_token(cache, Principal(kind=CITIZEN, id=citizen.id), ttl)
    return token, citizen_view(citizen)


async def login_wechat(code: str, *, wechat, cache: Cache, ttl: int) -> tuple[str, dict]:
    """wx.login code -> code2session -> the citizen of that openid (created on first login) and a token."""
    session = await wechat.code_to_session(code)
    updates = {"wechat_unionid": session.unionid} if session.unionid else {}
    return await _citizen_login({"wechat_openid": session.openid}, updates, cache=cache, ttl=ttl)


async def login_alipay(auth_code: str, *, alipay, cache: Cache, ttl: int) -> tuple[str, dict]:
    """my.getAuthCode code -> alipay.system.oauth.token -> the citizen of that user_id and a token."""
    user = await alipay.oauth_token(auth_code)
    return await _citizen_login({"alipay_user_id": user.user_id}, {}, cache=cache, ttl=ttl)


async def logout(token: str, *, cache: Cache) -> None:
    """Revoke a token."""
    await revoke_token(cache, token)


async def _citizen(citizen_id: int) -> Citizen:
    citizen = await Citizen.get_or_none(id=citizen_id)
    if citizen is None:
        # The row behind a live token is gone (merged into another account): log in again.
        raise Unauthorized("登录已失效，请重新登录")
    return citizen


async def get_citizen(citizen_id: int) -> dict:
    """The citizen as /me shows them."""
    return citizen_view(await _citizen(citizen_id))


async def require_real_name(citizen_id: int) -> dict:
    """The citizen, or 403 REAL_NAME_REQUIRED when they have not bound a real-name identity."""
    citizen = await _citizen(citizen_id)
    if citizen.real_name_verified_at is None:
        raise RealNameRequired()
    return citizen_view(citizen)


async def real_name_identity(citizen_id: int) -> dict:
    """Name, ID hash and masked ID of a real-name citizen (403 REAL_NAME_REQUIRED otherwise), for case records."""
    citizen = await _citizen(citizen_id)
    if citizen.real_name_verified_at is None:
        raise RealNameRequired()
    return {
        "name": citizen.name,
        "id_number_hash": citizen.id_number_hash,
        "id_number_masked": citizen.id_number_masked,
    }


async def names_of(citizen_ids: list[int]) -> dict[int, dict]:
    """Name and masked ID number of these citizens (blank before real-name binding), as staff see applicants."""
    rows = await Citizen.filter(id__in=list(set(citizen_ids))).values("id", "name", "id_number_masked")
    return {row["id"]: {"name": row["name"] or "", "id_number_masked": row["id_number_masked"] or ""} for row in rows}


async def own_details(citizen_id: int, *, cipher: FieldCipher) -> dict:
    """A real-name citizen's own name, ID number and phone in clear (403 otherwise), to pre-fill their forms."""
    citizen = await _citizen(citizen_id)
    if citizen.real_name_verified_at is None:
        raise RealNameRequired()
    return {
        "name": citizen.name,
        "id_number": cipher.decrypt(citizen.id_number_encrypted, context=ID_NUMBER),
        "phone": cipher.decrypt(citizen.phone_encrypted, context=PHONE) if citizen.phone_encrypted else "",
    }


async def reseal_personal_numbers(*, cipher: FieldCipher) -> dict[str, int]:
    """Reseal citizens' and verifications' ID and phone numbers under the current key (rows changed per table)."""
    from app.core.sealing import reseal_rows

    columns = {"id_number_encrypted": ID_NUMBER, "phone_encrypted": PHONE}
    return {
        "citizen": await reseal_rows(Citizen, columns, cipher=cipher),
        "identity_verification": await reseal_rows(IdentityVerification, columns, cipher=cipher),
    }


def describe_id_number(raw: str, *, cipher: FieldCipher) -> dict:
    """A typed-in ID number checked (422 when invalid) and turned into its hash, masked and encrypted forms."""
    number = normalise_id_number(raw)
    return {
        "id_number_hash": id_number_hash(number, cipher=cipher),
        "id_number_masked": ids.mask_id_number(number),
        "id_number_encrypted": cipher.encrypt(number, context=ID_NUMBER),
    }


def normalise_id_number(raw: str) -> str:
    """The 18-character ID number, or 422 INVALID_ID_NUMBER saying what is wrong."""
    try:
        return ids.normalise_id_number(raw)
    except ids.InvalidIdNumber as exc:
        raise InvalidIdNumber(str(exc)) from None


def id_number_hash(id_number: str, *, cipher: FieldCipher) -> str:
    """The keyed lookup hash of a (normalised) ID number."""
    return cipher.lookup_hash(id_number, context=ID_NUMBER)


def _verification_view(verification: IdentityVerification, *, certify_url: str | None = None) -> dict:
    wechat = None
    if verification.method == VerificationMethod.WECHAT:
        wechat = {"appid": REAL_NAME_CONSENT_APPID, "path": REAL_NAME_CONSENT_PATH}
    alipay = None
    if verification.method == VerificationMethod.ALIPAY:
        alipay = {"certify_id": verification.certify_id, "certify_url": certify_url}
    return {
        "id": verification.id,
        "method": verification.method.value,
        "status": verification.status.value,
        "name": verification.name,
        "id_number_masked": verification.id_number_masked,
        "phone_masked": verification.phone_masked,
        "sms_code_required": verification.sms_code_hash is not None,
        "expires_at": to_iso(verification.expires_at),
        "wechat": wechat,
        "alipay": alipay,
    }


def _sms_code_hash(code: str, verification: IdentityVerification, *, cipher: FieldCipher) -> str:
    # Keyed and salted by the verification, so a leaked row does not give the six digits away.
    return cipher.lookup_hash(f"{verification.outer_order_no}:{code}", context="sms_code")


def _method_for(citizen: Citizen, method: str | None) -> VerificationMethod:
    """The method asked for, or the one of the platform this citizen uses; 422 when they cannot use it."""
    if method is None:
        method = VerificationMethod.WECHAT if citizen.wechat_openid else VerificationMethod.ALIPAY
    chosen = VerificationMethod(method)
    logged_in = citizen.wechat_openid if chosen == VerificationMethod.WECHAT else citizen.alipay_user_id
    if not logged_in:
        raise VerificationMethodUnavailable(details={"method": chosen.value})
    return chosen


async def claim_identity(
    citizen_id: int,
    *,
    name: str,
    id_number: str,
    phone: str,
    method: str | None,
    settings,
    cipher: FieldCipher,
    cache: Cache,
    platforms,
) -> dict:
    """Start verifying that this citizen is the person named; nothing is bound until a platform confirms it.

    The answer is the same whether another account holds this ID number or none does: the claim looks at no one
    else's data (the binding, after verification, does).
    """
    id_number = normalise_id_number(id_number)
    phone = re.sub(r"[\s-]", "", phone)
    if not ids.is_mobile(phone):
        raise InvalidPhone()
    citizen = await _citizen(citizen_id)
    lookup_hash = id_number_hash(id_number, cipher=cipher)
    if citizen.real_name_verified_at is not None and citizen.id_number_hash != lookup_hash:
        raise IdentityAlreadyBound()
    chosen = _method_for(citizen, method)
    rules = settings.identity
    # Per account (one attacker trying many numbers) and per number (many accounts trying one person), a day each.
    await limit_rate(cache, f"identity-claim:citizen:{citizen.id}", rules.claims_per_account_per_day, 86400)
    await limit_rate(cache, f"identity-claim:id:{lookup_hash}", rules.claims_per_id_per_day, 86400)
    verification = IdentityVerification(
        citizen_id=citizen.id,
        method=chosen,
        name=name,
        id_number_encrypted=cipher.encrypt(id_number, context=ID_NUMBER),
        id_number_hash=lookup_hash,
        id_number_masked=ids.mask_id_number(id_number),
        phone_encrypted=cipher.encrypt(phone, context=PHONE),
        phone_masked=ids.mask_phone(phone),
        outer_order_no="GHV" + secrets.token_hex(14)[:29],
        expires_at=now() + timedelta(minutes=rules.verification_minutes),
    )
    sms_code = None
    if rules.sms_code:
        sms_code = f"{secrets.randbelow(10**6):06d}"
        verification.sms_code_hash = _sms_code_hash(sms_code, verification, cipher=cipher)
    certify_url = None
    if chosen == VerificationMethod.ALIPAY:
        return_url = rules.certify_return_url or settings.app.public_base_url.rstrip("/") + "/m/"
        started = await platforms.alipay.start_certify(
            outer_order_no=verification.outer_order_no, name=name, id_number=id_number, return_url=return_url
        )
        verification.certify_id, certify_url = started["certify_id"], started["certify_url"]
    await verification.save()
    if sms_code is not None:
        await platforms.sms.send_code(phone=phone, code=sms_code, minutes=rules.verification_minutes)
    return {"verification": _verification_view(verification, certify_url=certify_url), "citizen": citizen_view(citizen)}


async def confirm_identity(
    citizen_id: int,
    verification_id: int,
    *,
    code: str | None,
    sms_code: str | None,
    settings,
    cipher: FieldCipher,
    cache: Cache,
    platforms,
    token: str,
    ttl: int,
) -> dict:
    """Ask the platform whether the claim holds; when it does, bind the identity (see _bind_verified)."""
    verification = await IdentityVerification.get_or_none(id=verification_id, citizen_id=citizen_id)
    if verification is None:
        raise VerificationNotFound()
    if verification.status != VerificationStatus.PENDING:
        raise VerificationClosed(details={"status": verification.status.value})
    if verification.expires_at <= now():
        await _close(verification, VerificationStatus.FAILED, "expired")
        raise VerificationExpired()
    if verification.sms_code_hash is not None:
        await _check_sms_code(verification, sms_code, attempts=settings.identity.sms_attempts, cipher=cipher)
    citizen = await _citizen(citizen_id)
    id_number = cipher.decrypt(verification.id_number_encrypted, context=ID_NUMBER)
    if verification.method == VerificationMethod.WECHAT:
        if not code:
            raise ConsentCodeRequired()
        if not citizen.wechat_openid:
            raise VerificationMethodUnavailable(details={"method": verification.method.value})
        verdict = await platforms.wechat.check_real_name(
            openid=citizen.wechat_openid, name=verification.name, id_number=id_number, code=code
        )
    else:
        verdict = await platforms.alipay.query_certify(verification.certify_id)
    if not verdict.passed:
        await _close(verification, VerificationStatus.FAILED, verdict.reason)
        raise IdentityNotVerified.because(verdict.reason)
    target = await _bind_verified(citizen_id, verification, cipher=cipher)
    if target.id != citizen_id:
        await repoint_token(cache, token, target.id, ttl)
    return citizen_view(target)


async def _close(verification: IdentityVerification, status: VerificationStatus, reason: str | None) -> None:
    await IdentityVerification.filter(id=verification.id, status=VerificationStatus.PENDING).update(
        status=status, failure_reason=reason, finished_at=now()
    )


async def _check_sms_code(
    verification: IdentityVerification, sms_code: str | None, *, attempts: int, cipher: FieldCipher
) -> None:
    """Nothing when the code is right; otherwise one try used (the last one closes the verification) and 422."""
    expected = verification.sms_code_hash or ""
    if sms_code and secrets.compare_digest(_sms_code_hash(sms_code, verification, cipher=cipher), expected):
        return
    await IdentityVerification.filter(id=verification.id).update(sms_failures=F("sms_failures") + 1)
    failures = verification.sms_failures + 1
    if failures >= attempts:
        await _close(verification, VerificationStatus.FAILED, "sms_code")
    raise SmsCodeWrong(details={"attempts_left": max(0, attempts - failures)})


async def _bind_verified(citizen_id: int, verification: IdentityVerification, *, cipher: FieldCipher) -> Citizen:
    """Bind a confirmed identity: take it back from an unverified claim, or fold into the person's verified account.

    Two accounts become one only when both were verified as this person; an account that merely claimed the
    identity (bound by checksum before verification existed) loses it to the verified person and keeps its logins.
    """
    fields = {
        "name": verification.name,
        "id_number_encrypted": verification.id_number_encrypted,
        "id_number_hash": verification.id_number_hash,
        "id_number_masked": verification.id_number_masked,
        "phone_encrypted": verification.phone_encrypted,
        "phone_masked": verification.phone_masked,
    }
    async with in_transaction() as connection:
        closed = (
            await IdentityVerification.filter(id=verification.id, status=VerificationStatus.PENDING)
            .using_db(connection)
            .update(status=VerificationStatus.PASSED, finished_at=now())
        )
        if not closed:
            raise VerificationClosed()
        me = await Citizen.select_for_update().using_db(connection).get_or_none(id=citizen_id)
        if me is None:
            raise Unauthorized("登录已失效，请重新登录")
        if me.real_name_verified_at is not None and me.id_number_hash != verification.id_number_hash:
            raise IdentityAlreadyBound()
        holder = (
            await Citizen.select_for_update()
            .using_db(connection)
            .filter(id_number_hash=verification.id_number_hash)
            .exclude(id=me.id)
            .first()
        )
        target = me
        if holder is not None and holder.real_name_verified_at is None:
            await _take_back(holder, by=me, connection=connection)
        elif holder is not None:
            target = await _fold_into(me, holder, connection=connection)
        for key, value in fields.items():
            setattr(target, key, value)
        target.real_name_verified_at = target.real_name_verified_at or now()
        target.real_name_method = verification.method.value
        await target.save(using_db=connection)
    return target


async def _take_back(holder: Citizen, *, by: Citizen, connection) -> None:
    """An unverified claim gives the identity up to the verified person (audited; the claimant keeps their logins)."""
    await audit.record(
        actor="identity-verification",
        action="identity_taken_back",
        object_type="citizen",
        object_id=holder.id,
        before={"id_number_masked": holder.id_number_masked, "verified": False},
        after={"bound_to_citizen": by.id},
        connection=connection,
    )
    log.warning("identity: unverified claim of citizen %s gave way to verified citizen %s", holder.id, by.id)
    for key in (
        "name",
        "id_number_encrypted",
        "id_number_hash",
        "id_number_masked",
        "phone_encrypted",
        "phone_masked",
        "real_name_method",
    ):
        setattr(holder, key, None)
    await holder.save(using_db=connection)


async def _fold_into(me: Citizen, other: Citizen, *, connection) -> Citizen:
    """The verified person logged in through another platform: keep their account, add this platform to it.

    The account folded away holds nothing yet: booking, applying and proxies all need a verified real name first.
    """
    if (me.wechat_openid and other.wechat_openid) or (me.alipay_user_id and other.alipay_user_id):
        # Only the verified person reaches this: telling them which account holds it gives nothing away.
        raise IdentityTaken()
    moved = {
        "wechat_openid": me.wechat_openid,
        "wechat_unionid": me.wechat_unionid,
        "alipay_user_id": me.alipay_user_id,
    }
    await me.delete(using_db=connection)
    for key, value in moved.items():
        if value and not getattr(other, key):
            setattr(other, key, value)
    return other


async def citizen_id_by_id_number(id_number: str, *, cipher: FieldCipher) -> int | None:
    """The verified citizen holding this ID number, if any (for linking window-filed cases)."""
    number_hash = id_number_hash(normalise_id_number(id_number), cipher=cipher)
    citizen = await Citizen.get_or_none(id_number_hash=number_hash, real_name_verified_at__isnull=False)
    return citizen.id if citizen else None


async def push_targets(citizen_id: int) -> dict:
    """Where a citizen can be pushed to: their WeChat openid and Alipay user id, when they have logged in there."""
    citizen = await Citizen.get_or_none(id=citizen_id)
    if citizen is None:
        return {"wechat_openid": None, "alipay_user_id": None}
    return {"wechat_openid": citizen.wechat_openid, "alipay_user_id": citizen.alipay_user_id}


# ---- staff ----


def _check_password_strength(password: str) -> None:
    if len(password) < 10 or not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        raise WeakPassword()


async def hash_password(password: str) -> str:
    """Argon2id hash, computed off the event loop (it is deliberately slow)."""
    return await asyncio.to_thread(passwords.current().hash, password)


async def _verify_password(password_hash: str, password: str) -> bool:
    return await asyncio.to_thread(passwords.current().verify, password_hash, password)


async def _checked_roles(roles: list[str], department_id: int | None) -> list[str]:
    """Known roles, at least one; clerks, approvers and department admins belong to an existing department."""
    roles = list(dict.fromkeys(Role(role).value for role in roles))
    if not roles:
        raise ValueError("at least one role")
    if department_id is not None and await catalog.get_department(department_id) is None:
        raise UnknownDepartment()
    scoped = {Role.CLERK.value, Role.APPROVER.value, Role.DEPT_ADMIN.value}.intersection(roles)
    all_departments = {Role.SUPERVISOR.value, Role.ADMIN.value}.intersection(roles)
    if scoped and not all_departments and department_id is None:
        raise UnknownDepartment("窗口、审批和部门管理员账号必须属于一个部门")
    return roles


async def department_of(department_id: int | None, department_code: str | None) -> int | None:
    """The department given by id or by code (as the CLI and the demo data name it); 422 for an unknown code."""
    if department_code is None:
        return department_id
    found = (await catalog.department_ids_by_code()).get(department_code)
    if found is None:
        raise UnknownDepartment(details={"fields": [{"field": "department_code", "message": "没有这个部门代码"}]})
    return found


async def create_staff(
    *, username: str, password: str, roles: list[str], name: str, department_id: int | None, actor: str
) -> dict:
    """A staff account; clerks, approvers and department admins must belong to a department."""
    _check_password_strength(password)
    roles = await _checked_roles(roles, department_id)
    password_hash = await hash_password(password)
    async with in_transaction() as connection:
        if await Staff.filter(username=username).using_db(connection).exists():
            raise StaffExists()
        staff = await Staff.create(
            username=username,
            password_hash=password_hash,
            name=name or username,
            roles=roles,
            department_id=department_id,
            using_db=connection,
        )
        await audit.record(
            actor=actor,
            action="staff.create",
            object_type="staff",
            object_id=staff.id,
            after=staff_view(staff),
            connection=connection,
        )
    return staff_admin_view(staff)


async def list_staff(
    *, department_id: int | None, active: bool | None, offset: int, limit: int, q: str | None = None
) -> tuple[list[dict], int]:
    """Staff accounts for the administrators, by username; q finds a part of the username or the name."""
    query = Staff.all()
    if q:
        query = query.filter(Q(username__icontains=q) | Q(name__icontains=q))
    if department_id is not None:
        query = query.filter(department_id=department_id)
    if active is not None:
        query = query.filter(is_active=active)
    total = await query.count()
    return [staff_admin_view(staff) for staff in await query.order_by("username").offset(offset).limit(limit)], total


# What an administrator may change of an account; each change ends the account's open sessions, so new roles, a new
# department, a new password or a closed account take effect at once rather than when the old token expires.
STAFF_CHANGES = ("name", "roles", "department_id", "is_active", "password")


async def update_staff(staff_id: int, changes: dict, *, actor: Principal, cache: Cache, token_ttl: int) -> dict:
    """Change an account's name, roles, department, password or whether it is open; its sessions end."""
    staff = await Staff.get_or_none(id=staff_id)
    if staff is None:
        raise StaffNotFound()
    if changes.get("department_code") is not None:
        changes = {**changes, "department_id": await department_of(None, changes["department_code"])}
    changes = {key: value for key, value in changes.items() if key in STAFF_CHANGES}
    if staff.id == actor.id and (
        changes.get("is_active") is False or ("roles" in changes and Role.ADMIN.value not in changes["roles"])
    ):
        raise CannotChangeSelf()  # the last word on accounts must not lock its own holder out by a slip
    before = staff_admin_view(staff)
    updates: dict = {}
    if "name" in changes:
        updates["name"] = changes["name"]
    if "roles" in changes or "department_id" in changes:
        department_id = changes.get("department_id", staff.department_id)
        updates["roles"] = await _checked_roles(changes.get("roles", staff.roles), department_id)
        updates["department_id"] = department_id
    if "is_active" in changes:
        updates["is_active"] = changes["is_active"]
    if changes.get("password") is not None:
        _check_password_strength(changes["password"])
        updates.update(password_hash=await hash_password(changes["password"]), failed_logins=0, locked_until=None)
    async with in_transaction() as connection:
        await Staff.filter(id=staff.id).using_db(connection).update(**updates)
        staff = await Staff.get(id=staff.id).using_db(connection)
        after = staff_admin_view(staff)
        await audit.record(
            actor=actor.actor,
            staff_id=actor.id,
            action="staff.update",
            object_type="staff",
            object_id=staff.id,
            before=before,
            after={**after, **({"password": "changed"} if "password_hash" in updates else {})},
            connection=connection,
        )
    if updates:
        await end_staff_sessions(cache, staff.id, token_ttl)
    return after


async def login_staff(
    *, username: str, password: str, cache: Cache, ttl: int, max_failed: int, lock_minutes: int
) -> tuple[str, dict]:
    """Username + password -> token; max_failed wrong passwords in a row lock the account for lock_minutes."""
    staff = await Staff.get_or_none(username=username)
    if staff is None or not staff.is_active:
        await asyncio.to_thread(passwords.current().verify_unknown_user, password)
        raise InvalidCredentials()
    if staff.locked_until and staff.locked_until > now():
        raise AccountLocked(details={"locked_until": to_iso(staff.locked_until)})
    if not await _verify_password(staff.password_hash, password):
        await Staff.filter(id=staff.id).update(failed_logins=F("failed_logins") + 1)
        failed = (await Staff.get(id=staff.id)).failed_logins
        if failed >= max_failed:
            locked_until = now() + timedelta(minutes=lock_minutes)
            await Staff.filter(id=staff.id).update(locked_until=locked_until, failed_logins=0)
            await audit.record(
                actor="system",
                action="staff.lock",
                object_type="staff",
                object_id=staff.id,
                after={"locked_until": to_iso(locked_until)},
            )
            raise AccountLocked(details={"locked_until": to_iso(locked_until)})
        raise InvalidCredentials()
    if passwords.current().needs_rehash(staff.password_hash):
        staff.password_hash = await hash_password(password)
    staff.failed_logins = 0
    staff.locked_until = None
    staff.last_login_at = now()
    await staff.save(update_fields=["password_hash", "failed_logins", "locked_until", "last_login_at"])
    principal = Principal(
        kind=STAFF, id=staff.id, roles=tuple(staff.roles), department_id=staff.department_id, name=staff.name
    )
    return await issue_token(cache, principal, ttl), staff_view(staff)


async def get_staff(staff_id: int) -> dict:
    """A staff member's account."""
    staff = await Staff.get_or_none(id=staff_id, is_active=True)
    if staff is None:
        raise Unauthorized("登录已失效，请重新登录")
    return staff_view(staff)


# ---- proxies (代办) ----


def _party(citizen: Citizen) -> dict:
    return {"id": citizen.id, "name": citizen.name, "id_number_masked": citizen.id_number_masked}


def _grant_view(grant: ProxyGrant) -> dict:
    return {
        "id": grant.id,
        "matter_id": grant.matter_id,
        "principal": _party(grant.principal),
        "proxy": _party(grant.proxy),
        "created_at": to_iso(grant.created_at),
        "revoked_at": to_iso(grant.revoked_at),
        "active": grant.revoked_at is None,
    }


async def grant_proxy(
    principal_id: int,
    *,
    matter_id: int,
    name: str,
    id_number: str,
    cipher: FieldCipher,
    cache: Cache,
    lookups_per_day: int,
) -> tuple[dict, bool]:
    """Authorise the real-name citizen with this name and ID number for one matter; (grant, created)."""
    await require_real_name(principal_id)
    await catalog.require_matter(matter_id)
    # Finding the proxy says whether a verified person has this name and number: not a way to test many of them.
    await limit_rate(cache, f"proxy-lookup:{principal_id}", lookups_per_day, 86400)
    proxy = await Citizen.get_or_none(id_number_hash=id_number_hash(normalise_id_number(id_number), cipher=cipher))
    if proxy is None or proxy.name != name or proxy.real_name_verified_at is None:
        raise ProxyNotFound()
    if proxy.id == principal_id:
        raise CannotProxySelf()
    existing = (
        await ProxyGrant.filter(principal_id=principal_id, proxy_id=proxy.id, matter_id=matter_id, revoked_at=None)
        .prefetch_related("principal", "proxy")
        .first()
    )
    if existing is not None:
        return _grant_view(existing), False
    grant = await ProxyGrant.create(principal_id=principal_id, proxy_id=proxy.id, matter_id=matter_id)
    await grant.fetch_related("principal", "proxy")
    return _grant_view(grant), True


async def list_grants(citizen_id: int, *, received: bool, offset: int, limit: int) -> tuple[list[dict], int]:
    """Grants this citizen gave (or received), newest first."""
    query = ProxyGrant.filter(**({"proxy_id": citizen_id} if received else {"principal_id": citizen_id}))
    total = await query.count()
    grants = await query.order_by("-id").offset(offset).limit(limit).prefetch_related("principal", "proxy")
    return [_grant_view(g) for g in grants], total


async def revoke_grant(citizen_id: int, grant_id: int) -> dict:
    """The principal (or the proxy, stepping down) ends a grant; anyone else gets 404."""
    grant = await ProxyGrant.get_or_none(id=grant_id).prefetch_related("principal", "proxy")
    if grant is None or citizen_id not in (grant.principal_id, grant.proxy_id):
        raise ProxyGrantNotFound()
    if grant.revoked_at is None:
        grant.revoked_at = now()
        await grant.save(update_fields=["revoked_at"])
    return _grant_view(grant)


async def is_proxy_for(proxy_id: int, principal_id: int, matter_id: int) -> bool:
    """Whether proxy_id may act for principal_id on this matter right now."""
    return await ProxyGrant.exists(proxy_id=proxy_id, principal_id=principal_id, matter_id=matter_id, revoked_at=None)


async def grants_held(proxy_id: int) -> list[tuple[int, int]]:
    """(principal, matter) of every grant this proxy holds now."""
    rows = await ProxyGrant.filter(proxy_id=proxy_id, revoked_at=None).values_list("principal_id", "matter_id")
    return [(principal_id, matter_id) for principal_id, matter_id in rows]


async def principals_for(proxy_id: int, matter_id: int | None = None) -> list[int]:
    """The citizens this proxy currently acts for (on one matter, or any)."""
    query = ProxyGrant.filter(proxy_id=proxy_id, revoked_at=None)
    if matter_id is not None:
        query = query.filter(matter_id=matter_id)
    return list(await query.values_list("principal_id", flat=True))


DEMO_STAFF = (
    ("clerk", "窗口工作人员（演示）", ["clerk"], "RS"),
    ("approver", "审批人员（演示）", ["approver"], "RS"),
    ("dept_admin", "部门管理员（演示）", ["dept_admin"], "RS"),
    ("supervisor", "效能监察（演示）", ["supervisor"], None),
    ("admin", "系统管理员（演示）", ["admin"], None),
)


async def seed_demo_staff(department_ids_by_code: dict[str, int]) -> list[dict] | None:
    """One demo account per role with a fresh random password (returned once, never stored in clear)."""
    if await Staff.exists():
        return None
    created = []
    for username, name, roles, department_code in DEMO_STAFF:
        password = "Demo" + secrets.token_urlsafe(9) + "7"
        department_id = department_ids_by_code.get(department_code) if department_code else None
        account = await create_staff(
            username=username, password=password, roles=roles, name=name, department_id=department_id, actor="seed"
        )
        created.append({**account, "password": password})
    return created


async def department_members(department_id: int | None, roles: tuple[str, ...]) -> list[dict]:
    """Active staff of the department holding one of roles ({id, name, roles}), by name: who may be given its work."""
    if department_id is None:
        return []
    members = await Staff.filter(is_active=True, department_id=department_id).order_by("name", "id")
    return [{"id": m.id, "name": m.name, "roles": list(m.roles)} for m in members if set(m.roles).intersection(roles)]


async def staff_names(staff_ids: list[int]) -> dict[int, str]:
    """The names of these staff accounts (closed ones too: a record keeps who it named)."""
    if not staff_ids:
        return {}
    return {row["id"]: row["name"] for row in await Staff.filter(id__in=staff_ids).values("id", "name")}


async def alert_recipients(
    *, department_id: int | None, roles: tuple[str, ...], all_department_roles: tuple[str, ...] = ()
) -> list[str]:
    """WeChat Work user ids of active staff holding one of roles in the department, plus any holding one of
    all_department_roles wherever they sit; the WeChat Work user id is the staff username."""
    found: list[str] = []
    for member in await Staff.filter(is_active=True).order_by("id"):
        member_roles = set(member.roles)
        in_department = department_id is not None and member.department_id == department_id
        if (in_department and member_roles.intersection(roles)) or member_roles.intersection(all_department_roles):
            found.append(member.username)
    return found
