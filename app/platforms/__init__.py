"""Clients of the outside platforms (WeChat, WeChat Work, Alipay, SMS), one module each, and the simulator for them.

The SDKs (wechatpy, alipay-sdk-python) are synchronous: every call runs on a bounded thread pool, never on the
event loop. Base URLs come from configuration, so sim and live mode run the same code paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.core.errors import AppError

if TYPE_CHECKING:
    from app.core.cache import Cache
    from app.core.config import Settings
    from app.platforms.alipay import AlipayPlatform
    from app.platforms.alipay_pay import AlipayPayProvider
    from app.platforms.licences import LicenceService
    from app.platforms.sms import SmsSender
    from app.platforms.wechat import WeChatPlatform
    from app.platforms.wechatpay import WeChatPayProvider
    from app.platforms.wecom import WeComPlatform


class PlatformError(AppError):
    """The platform answered with an error we cannot pass on as the user's fault."""

    status_code = 502
    code = "PLATFORM_ERROR"
    message = "第三方平台返回错误，请稍后再试"


class MessageRejected(PlatformError):
    """The platform refused this message for good (recipient, template or data): sending it again cannot help."""

    code = "MESSAGE_REJECTED"
    message = "第三方平台拒绝了这条消息"

    def __init__(self, errcode: str, errmsg: str) -> None:
        super().__init__()
        # The platform's own code and text, for the sender's records; never shown to a client.
        self.errcode = errcode
        self.errmsg = errmsg


class PlatformUnavailable(AppError):
    """The platform did not answer or asked us to come back later (timeout, HTTP 5xx, busy, rate limit)."""

    status_code = 503
    code = "PLATFORM_UNAVAILABLE"
    message = "第三方平台暂时无法访问，请稍后再试"

    def __init__(
        self,
        message: str | None = None,
        *,
        errcode: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, details=details, headers=headers)
        # The platform's code when it answered (e.g. "-1", "45009", "isp.unknow-error"); None when it did not.
        self.errcode = errcode


class LoginCodeInvalid(AppError):
    """The wx.login code or Alipay auth_code is unknown, expired or already used."""

    status_code = 401
    code = "LOGIN_CODE_INVALID"
    message = "登录凭证无效或已过期，请重新登录"


class LoginTooFrequent(AppError):
    """WeChat answered 45011: this app's logins come too fast for now; the same tap a little later works."""

    status_code = 429
    code = "LOGIN_TOO_FREQUENT"
    message = "登录人数较多，请稍等几秒后重试"
    RETRY_AFTER_SECONDS = 5

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": str(self.RETRY_AFTER_SECONDS)})


class LoginBlocked(AppError):
    """WeChat answered 40226: it judged this user high-risk and blocks their logins to mini-programs."""

    status_code = 403
    code = "LOGIN_BLOCKED"
    message = "微信判定您的账号存在安全风险，暂时无法登录；请在微信中完成安全验证后再试，或到大厅窗口办理"


@dataclass(frozen=True)
class WeChatSession:
    openid: str
    unionid: str | None
    session_key: str


@dataclass(frozen=True)
class AlipayUser:
    user_id: str  # the id alipay.id_mode names: a 2088 user_id, or the user's open_id for this app
    access_token: str


# Why a platform did not confirm that the person is who they claim to be.
NOT_REAL_NAMED = "not_real_named"  # the platform account has no real-name identity of its own
NAME_MISMATCH = "name_mismatch"  # the account's real name is another one
ID_MISMATCH = "id_mismatch"  # the name matches, the ID number does not
FACE_FAILED = "face_failed"  # the face did not match the ID photo, or the check was not finished
CODE_INVALID = "code_invalid"  # the consent code was unknown, expired or already used


@dataclass(frozen=True)
class IdentityVerdict:
    """What a platform's identity check said: passed, or the reason it did not."""

    passed: bool
    reason: str | None = None


@dataclass
class Platforms:
    wechat: WeChatPlatform
    alipay: AlipayPlatform
    wecom: WeComPlatform
    alipay_pay: AlipayPayProvider
    wechatpay: WeChatPayProvider
    sms: SmsSender
    licences: LicenceService

    async def close(self) -> None:
        await self.wechat.close()
        await self.alipay.close()
        await self.wecom.close()
        # aclose: a payment provider's close(order_no) closes a trade.
        await self.alipay_pay.aclose()
        await self.wechatpay.aclose()
        await self.sms.close()
        await self.licences.close()


def build_platforms(settings: Settings, cache: Cache) -> Platforms:
    """The platform clients for these settings (sim mode points them at this app's /sim)."""
    from app.platforms.alipay import AlipayPlatform
    from app.platforms.alipay_pay import AlipayPayProvider
    from app.platforms.licences import LicenceService
    from app.platforms.sms import build_sms_sender
    from app.platforms.wechat import WeChatPlatform
    from app.platforms.wechatpay import WeChatPayProvider
    from app.platforms.wecom import WeComPlatform

    return Platforms(
        wechat=WeChatPlatform(settings, cache),
        alipay=AlipayPlatform(settings, cache),
        wecom=WeComPlatform(settings, cache),
        alipay_pay=AlipayPayProvider(settings, cache),
        wechatpay=WeChatPayProvider(settings, cache),
        sms=build_sms_sender(settings),
        licences=LicenceService(settings),
    )
