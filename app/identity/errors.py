"""Identity errors."""

from __future__ import annotations

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
    message = "您的实名身份已绑定本平台的另一个账号，请用原账号登录"


class VerificationNotFound(NotFound):
    code = "VERIFICATION_NOT_FOUND"
    message = "实名认证记录不存在"


class VerificationClosed(Conflict):
    code = "VERIFICATION_CLOSED"
    message = "本次实名认证已结束，请重新发起"


class VerificationExpired(Conflict):
    code = "VERIFICATION_EXPIRED"
    message = "本次实名认证已超时，请重新发起"


class VerificationMethodUnavailable(ValidationFailed):
    code = "VERIFICATION_METHOD_UNAVAILABLE"
    message = "请在对应的平台（微信或支付宝）中登录后再用它认证"


class ConsentCodeRequired(ValidationFailed):
    code = "CONSENT_CODE_REQUIRED"
    message = "请先在微信授权页同意校验实名信息"


class SmsCodeWrong(ValidationFailed):
    code = "SMS_CODE_WRONG"
    message = "短信验证码不正确"


# What each platform verdict means to the person (reasons from app.platforms).
NOT_VERIFIED_MESSAGES = {
    "not_real_named": "您的账号尚未完成平台实名（如开通微信支付），无法校验，请先完成实名或改用其他方式",
    "name_mismatch": "姓名与您账号的实名信息不一致，请核对后重试",
    "id_mismatch": "身份证号码与姓名不一致，请核对后重试",
    "face_failed": "人脸核验未通过或未完成，请重新发起认证",
    "code_invalid": "授权已失效，请重新发起认证",
}


class IdentityNotVerified(ValidationFailed):
    code = "IDENTITY_NOT_VERIFIED"
    message = "实名信息未通过校验"

    @classmethod
    def because(cls, reason: str | None) -> IdentityNotVerified:
        """The error for a platform's reason, with a message saying what the person can do."""
        return cls(NOT_VERIFIED_MESSAGES.get(reason or "", cls.message), details={"reason": reason})


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
    "VerificationNotFound",
    "VerificationClosed",
    "VerificationExpired",
    "VerificationMethodUnavailable",
    "ConsentCodeRequired",
    "SmsCodeWrong",
    "IdentityNotVerified",
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
