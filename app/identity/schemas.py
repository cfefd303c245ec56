"""Identity request and response shapes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from app.core.http import Id, Page, PageQuery, StrictId


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class WeChatLoginIn(_Input):
    code: str = Field(min_length=1, max_length=128)


class AlipayLoginIn(_Input):
    auth_code: str = Field(min_length=1, max_length=128)


class StaffLoginIn(_Input):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class IdentityIn(_Input):
    # Names: Chinese, or Latin letters, with the middle dot of ethnic-minority and foreign names.
    name: str = Field(min_length=2, max_length=30, pattern=r"^[\u4e00-\u9fa5A-Za-z·•\. ]+$")
    id_number: str = Field(min_length=1, max_length=32)
    phone: str = Field(min_length=1, max_length=20)
    method: Literal["wechat", "alipay"] | None = Field(
        None, description="Who confirms the person: WeChat (实名信息校验) or Alipay (face); default: the login's"
    )


class IdentityConfirmIn(_Input):
    code: str | None = Field(
        None, min_length=1, max_length=128, description="WeChat: extraData.code from the consent page"
    )
    sms_code: str | None = Field(None, pattern=r"^[0-9]{6}$", description="The code texted to the phone")


class WeChatConsentOut(BaseModel):
    appid: str
    path: str


class AlipayCertifyOut(BaseModel):
    certify_id: str | None
    certify_url: str | None


class VerificationOut(BaseModel):
    id: int
    method: Literal["wechat", "alipay"]
    status: Literal["pending", "passed", "failed"]
    name: str
    id_number_masked: str
    phone_masked: str
    sms_code_required: bool
    expires_at: str | None
    wechat: WeChatConsentOut | None
    alipay: AlipayCertifyOut | None


class ProxyGrantIn(_Input):
    matter_id: StrictId
    name: str = Field(min_length=2, max_length=30)
    id_number: str = Field(min_length=1, max_length=32)


class CitizenOut(BaseModel):
    id: int
    real_name_verified: bool
    name: str | None
    id_number_masked: str | None
    phone_masked: str | None
    real_name_method: Literal["wechat", "alipay"] | None
    channels: list[str]
    created_at: str | None


class IdentityClaimOut(BaseModel):
    verification: VerificationOut
    citizen: CitizenOut


class CitizenLoginOut(BaseModel):
    token: str
    expires_in: int
    citizen: CitizenOut


class StaffOut(BaseModel):
    id: int
    username: str
    name: str
    roles: list[str]
    department_id: int | None


RoleName = Literal["clerk", "approver", "dept_admin", "supervisor", "admin"]


# A department as the CLI and the demo data name it (GA, RS ...): staff admin takes it instead of department_id.
def _department_code():
    return Field(None, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$", description="or department_id")


class _OneDepartment(_Input):
    @model_validator(mode="after")
    def _id_or_code(self):
        if self.department_code is not None and self.department_id is not None:
            raise ValueError("give department_id or department_code, not both")
        return self


class StaffCreateIn(_OneDepartment):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=1, max_length=256)
    name: str = Field(min_length=1, max_length=64)
    roles: list[RoleName] = Field(min_length=1, max_length=5)
    department_id: StrictId | None = None
    department_code: str | None = _department_code()


class StaffUpdateIn(_OneDepartment):
    name: str | None = Field(None, min_length=1, max_length=64)
    roles: list[RoleName] | None = Field(None, min_length=1, max_length=5)
    department_id: StrictId | None = Field(
        None, description="send null to take the account out of its department (supervisors and admins only)"
    )
    department_code: str | None = _department_code()
    is_active: StrictBool | None = Field(None, description="false closes the account; its sessions end at once")
    password: str | None = Field(None, min_length=1, max_length=256)


class StaffQuery(PageQuery):
    q: str | None = Field(None, min_length=1, max_length=50, description="part of the username or the name")
    department_id: Id | None = None
    department_code: str | None = _department_code()
    active: bool | None = None


class StaffAdminOut(StaffOut):
    is_active: bool
    created_at: str | None
    last_login_at: str | None
    locked_until: str | None


class StaffPageOut(Page[StaffAdminOut]):
    """A page of staff accounts."""


class StaffLoginOut(BaseModel):
    token: str
    expires_in: int
    staff: StaffOut


class ProxyPartyOut(BaseModel):
    id: int
    name: str | None
    id_number_masked: str | None


class ProxyGrantOut(BaseModel):
    id: int
    matter_id: int
    principal: ProxyPartyOut
    proxy: ProxyPartyOut
    created_at: str | None
    revoked_at: str | None
    active: bool


class ProxyGrantPageOut(Page[ProxyGrantOut]):
    """A page of proxy grants."""
