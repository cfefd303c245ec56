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
    alipay_user_id = fields.CharField(max_length=32, unique=True, null=True)
    name = fields.CharField(max_length=64, null=True)
    # The ID number only ever at rest encrypted; found by its keyed hash; shown masked.
    id_number_encrypted = fields.TextField(null=True)
    id_number_hash = fields.CharField(max_length=64, unique=True, null=True)
    id_number_masked = fields.CharField(max_length=18, null=True)
    phone_encrypted = fields.TextField(null=True)
    phone_masked = fields.CharField(max_length=11, null=True)
    real_name_verified_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_login_at = fields.DatetimeField(null=True)

    class Meta:
        table = "citizen"


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
