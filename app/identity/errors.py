"""Identity errors."""

from app.core.errors import AppError, Conflict, Forbidden, NotFound, RateLimited, Unauthorized, ValidationFailed


class InvalidIdNumber(ValidationFailed):
    code = "INVALID_ID_NUMBER"
    message = "身份证号码不正确"


class InvalidPhone(ValidationFailed):
    code = "INVALID_PHONE"
    message = "请填写正确的手机号码"


class IdentityAlreadyBound(Conflict):
    code = "IDENTITY_ALREADY_BOUND"
    message = "该账号已绑定其他实名身份，不能更换"


class IdentityTaken(Conflict):
    code = "IDENTITY_TAKEN"
    message = "该身份已绑定另一个同平台账号"


class RealNameRequired(Forbidden):
    code = "REAL_NAME_REQUIRED"
    message = "请先完成实名认证"


class InvalidCredentials(Unauthorized):
    code = "INVALID_CREDENTIALS"
    message = "用户名或密码错误"


class AccountLocked(RateLimited):
    code = "ACCOUNT_LOCKED"
    message = "密码错误次数过多，账号已临时锁定，请稍后再试"


class ProxyNotFound(NotFound):
    code = "PROXY_NOT_FOUND"
    message = "未找到该实名用户，请确认对方已在本平台完成实名认证"


class ProxyGrantNotFound(NotFound):
    code = "PROXY_GRANT_NOT_FOUND"
    message = "代办授权不存在"


class CannotProxySelf(ValidationFailed):
    code = "CANNOT_PROXY_SELF"
    message = "不能授权自己代办"


class WeakPassword(ValidationFailed):
    code = "WEAK_PASSWORD"
    message = "密码至少 10 位，且需同时包含字母和数字"


class StaffExists(Conflict):
    code = "STAFF_EXISTS"
    message = "用户名已存在"


class UnknownDepartment(ValidationFailed):
    code = "UNKNOWN_DEPARTMENT"
    message = "部门不存在"


class StaffNotFound(NotFound):
    code = "STAFF_NOT_FOUND"
    message = "工作人员账号不存在"


class CannotChangeSelf(Conflict):
    code = "CANNOT_CHANGE_SELF"
    message = "不能停用自己的账号或取消自己的管理员角色"


__all__ = [
    "AppError",
    "InvalidIdNumber",
    "InvalidPhone",
    "IdentityAlreadyBound",
    "IdentityTaken",
    "RealNameRequired",
    "InvalidCredentials",
    "AccountLocked",
    "ProxyNotFound",
    "ProxyGrantNotFound",
    "CannotProxySelf",
    "WeakPassword",
    "StaffExists",
    "UnknownDepartment",
    "StaffNotFound",
    "CannotChangeSelf",
]
