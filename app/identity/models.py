"""Who is who: citizens (WeChat and/or Alipay, real-name bound), staff, and proxy authorisations (代办)."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Role(StrEnum):
    CLERK = "clerk"
    APPROVER = "approver"
    DEPT_ADMIN = "dept_admin"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Citizen(Model):
    id = fields.IntField(primary_key=True)
    wechat_openid = fields.CharField(max_length=64, unique=True, null=True)
    wechat_unionid = fields.CharField(max_length=64, null=True, db_index=True)
    # The Alipay id of alipay.id_mode: a user_id (2088 + 12 digits) or an open_id (longer), whichever login gave.
    alipay_user_id = fields.CharField(max_length=128, unique=True, null=True)
    name = fields.CharField(max_length=64, null=True)
    # The ID number only ever at rest encrypted; found by its keyed hash; shown masked.
    id_number_encrypted = fields.TextField(null=True)
    id_number_hash = fields.CharField(max_length=64, unique=True, null=True)
    id_number_masked = fields.CharField(max_length=18, null=True)
    phone_encrypted = fields.TextField(null=True)
    phone_masked = fields.CharField(max_length=11, null=True)
    # Set only when a trusted source (WeChat's or Alipay's identity check) confirmed the person; a row holding an
    # identity without it holds an unverified claim (bound by checksum alone, before verification existed).
    real_name_verified_at = fields.DatetimeField(null=True)
    real_name_method = fields.CharField(max_length=16, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_login_at = fields.DatetimeField(null=True)

    class Meta:
        table = "citizen"


class VerificationMethod(StrEnum):
    WECHAT = "wechat"  # WeChat 城市服务实名信息校验 (the real name WeChat Pay holds for this openid)
    ALIPAY = "alipay"  # Alipay face verification (alipay.user.certify.open.*)


class VerificationStatus(StrEnum):
    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"


class IdentityVerification(Model):
    """A citizen's claim to be a person, until a platform confirms it; the claim itself binds nothing."""

    id = fields.IntField(primary_key=True)
    citizen_id = fields.IntField(db_index=True)
    method = fields.CharEnumField(VerificationMethod, max_length=16)
    status = fields.CharEnumField(VerificationStatus, max_length=16, default=VerificationStatus.PENDING)
    name = fields.CharField(max_length=64)
    id_number_encrypted = fields.TextField()
    id_number_hash = fields.CharField(max_length=64, db_index=True)
    id_number_masked = fields.CharField(max_length=18)
    phone_encrypted = fields.TextField()
    phone_masked = fields.CharField(max_length=11)
    # Alipay: our outer_order_no and Alipay's certify_id.
    outer_order_no = fields.CharField(max_length=32, unique=True)
    certify_id = fields.CharField(max_length=64, null=True)
    # The SMS code as a keyed hash, and the wrong tries so far.
    sms_code_hash = fields.CharField(max_length=64, null=True)
    sms_failures = fields.IntField(default=0)
    failure_reason = fields.CharField(max_length=32, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "identity_verification"


class Staff(Model):
    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True)
    password_hash = fields.CharField(max_length=255)
    name = fields.CharField(max_length=64)
    roles = fields.JSONField(default=list)
    department_id = fields.IntField(null=True, db_index=True)
    is_active = fields.BooleanField(default=True)
    failed_logins = fields.IntField(default=0)
    locked_until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_login_at = fields.DatetimeField(null=True)

    class Meta:
        table = "staff"


class ProxyGrant(Model):
    """A citizen (principal) lets another (proxy) file and follow one matter's cases for them."""

    id = fields.IntField(primary_key=True)
    principal: fields.ForeignKeyRelation[Citizen] = fields.ForeignKeyField(
        "models.Citizen", related_name="proxies_given", on_delete=fields.CASCADE
    )
    proxy: fields.ForeignKeyRelation[Citizen] = fields.ForeignKeyField(
        "models.Citizen", related_name="proxies_received", on_delete=fields.CASCADE
    )
    matter_id = fields.IntField(db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "proxy_grant"
