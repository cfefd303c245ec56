"""WeChat mini-program server API through wechatpy: code2Session login, subscribe messages, the shared token."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import requests
from wechatpy.client import WeChatClient
from wechatpy.exceptions import WeChatClientException

from app.core.cache import Cache
from app.core.config import Settings
from app.platforms import (
    CODE_INVALID,
    ID_MISMATCH,
    NAME_MISMATCH,
    NOT_REAL_NAMED,
    IdentityVerdict,
    LoginBlocked,
    LoginCodeInvalid,
    LoginTooFrequent,
    MessageRejected,
    PlatformError,
    PlatformUnavailable,
    WeChatSession,
)
from app.platforms.executor import SdkExecutor, TimeoutSession

log = logging.getLogger("app.platforms.wechat")
Result = TypeVar("Result")

LIVE_API_BASE_URL = "https://api.weixin.qq.com/"
ACCESS_TOKEN_KEY = "wechat:access_token"
REFRESH_LOCK_KEY = "wechat:access_token:refreshing"
# Refresh this long before WeChat's expiry (capped at a tenth of the lifetime for short-lived test tokens).
REFRESH_MARGIN_SECONDS = 300
REFRESH_POLL_SECONDS = 0.05

LOGIN_CODE_ERRCODES = frozenset({40029, 40163})  # invalid code, code been used
LOGIN_BLOCKED_ERRCODE = 40226  # high-risk user blocked: not the code's fault, and a new code does not help
LOGIN_TOO_FREQUENT_ERRCODE = 45011  # API minute-quota reached: try again shortly
BUSY_ERRCODES = frozenset({-1})  # "system error, please retry"
# The access token was refused: invalid or not the latest (40001, 40014) or expired (42001). Another worker may have
# fetched a newer one, or the cache outlived WeChat's expiry: fetch again and retry the call once.
TOKEN_REJECTED_ERRCODES = frozenset({40001, 40014, 42001})
# subscribeMessage.send refusals that no retry changes: bad openid, bad template id, bad page, the user refused or
# has no subscription left for this template, data not JSON, a value breaking its keyword's rule.
MESSAGE_REJECTED_ERRCODES = frozenset({40003, 40037, 41030, 43101, 47001, 47003})
# Worth another try later: system busy, daily quota used up, per-minute quota used up.
MESSAGE_TRANSIENT_ERRCODES = frozenset({-1, 45009, 45011})


# 城市服务实名信息校验: the mini-program sends the user to WeChat's consent page (this app id and path); WeChat
# comes back with extraData.code, which checkrealnameinfo takes with the claimed name and ID number.
REAL_NAME_CONSENT_APPID = "wx308bd2aeb83d3345"
REAL_NAME_CONSENT_PATH = "subPages/city/wxpay-auth/main"
REAL_NAME_CHECK_URL = LIVE_API_BASE_URL + "intp/realname/checkrealnameinfo"
# checkrealnameinfo's verdicts: the openid's own real name against the claimed name, then the name against the ID.
OPENID_NOT_REAL_NAMED, OPENID_NAME_MATCHES, OPENID_NAME_DIFFERS = "V_OP_NA", "V_OP_NM_MA", "V_OP_NM_UM"
NAME_ID_MATCH = "V_NM_ID_MA"
CONSENT_CODE_ERRCODES = frozenset({40029, 40163})


class TokenRejected(Exception):
    """The platform refused the access token of a call (internal: the caller fetches a new one and retries)."""

    def __init__(self, errcode: int) -> None:
        super().__init__(f"errcode {errcode}")
        self.errcode = errcode


def platform_base_url(configured: str, settings: Settings, *, sim_path: str, live_base_url: str) -> str:
    """The configured base URL, or this app's /sim/<platform>/ in sim mode and the platform's host in live mode."""
    base = configured or (
        settings.app.public_base_url.rstrip("/") + sim_path if settings.platforms.mode == "sim" else live_base_url
    )
    return base if base.endswith("/") else base + "/"


def wechat_api_base_url(settings: Settings) -> str:
    """settings.wechat.api_base_url, or this app's /sim/wechat/ in sim mode and WeChat's own host in live mode."""
    return platform_base_url(
        settings.wechat.api_base_url, settings, sim_path="/sim/wechat/", live_base_url=LIVE_API_BASE_URL
    )


def rebased_url(url: str, *, live_base_url: str, api_base_url: str) -> str:
    """A URL on the platform's live host moved onto our configured base URL; any other URL unchanged."""
    return api_base_url + url[len(live_base_url) :] if url.startswith(live_base_url) else url


class SharedAccessToken:
    """An access token kept in the shared cache for every worker; when it is missing, one caller fetches it."""

    def __init__(
        self,
        platform: str,
        cache: Cache,
        *,
        key: str,
        refresh_lock_key: str,
        timeout_seconds: float,
        fetch: Callable[[], Awaitable[dict]],
    ) -> None:
        self._platform = platform
        self._cache = cache
        self._key = key
        self._refresh_lock_key = refresh_lock_key
        self._timeout_seconds = timeout_seconds
        self._fetch = fetch
        self._lock = asyncio.Lock()
        self._log = logging.getLogger(f"app.platforms.{platform}")

    async def get(self) -> str:
        """The current token, from the shared cache; fetched from the platform by one caller when missing."""
        token = await self._cache.get(self._key)
        if token:
            return token
        async with self._lock:
            # Whoever held the lock before us has probably just stored a fresh token.
            return await self._cache.get(self._key) or await self._refresh_shared()

    async def drop(self, stale_token: str) -> None:
        """Forget a token the platform refused, unless another caller already replaced it."""
        if await self._cache.get(self._key) == stale_token:
            await self._cache.delete(self._key)

    async def call(self, what: str, operation: Callable[[str], Awaitable[Result]]) -> Result:
        """operation(token); on TokenRejected the token is dropped, fetched anew and operation runs once more."""
        token = await self.get()
        try:
            return await operation(token)
        except TokenRejected as exc:
            self._log.info(
                "%s %s: access token refused (errcode %s), fetching a new one", self._platform, what, exc.errcode
            )
            await self.drop(token)
        # Once only: a freshly fetched token refused again is not a stale token (another system fetching with our
        # secret, a wrong app id); retrying in a loop would only burn the daily token quota.
        token = await self.get()
        try:
            return await operation(token)
        except TokenRejected as exc:
            await self.drop(token)
            self._log.warning(
                "%s %s: a fresh access token was refused too (errcode %s)", self._platform, what, exc.errcode
            )
            raise PlatformError() from None

    async def _refresh_shared(self) -> str:
        # Each fetch counts against a daily quota (and on WeChat invalidates the previous token within minutes), so
        # across workers one fetches while the others wait for the cache (the add() is the cross-process lock).
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout_seconds
        lock_ttl = math.ceil(self._timeout_seconds) + 1
        while True:
            if await self._cache.add(self._refresh_lock_key, "1", lock_ttl):
                try:
                    return await self._fetch_and_store()
                finally:
                    await self._cache.delete(self._refresh_lock_key)
            if loop.time() >= deadline:
                self._log.warning("%s access token: another worker's refresh did not finish in time", self._platform)
                raise PlatformUnavailable()
            await asyncio.sleep(REFRESH_POLL_SECONDS)
            token = await self._cache.get(self._key)
            if token:
                return token

    async def _fetch_and_store(self) -> str:
        result = await self._fetch()
        token, expires_in = result.get("access_token"), result.get("expires_in", 7200)
        if not token or not isinstance(expires_in, int) or expires_in <= 0:
            self._log.warning("%s access_token: answer without a token or lifetime", self._platform)
            raise PlatformError()
        margin = min(REFRESH_MARGIN_SECONDS, expires_in // 10)
        await self._cache.set(self._key, token, ttl_seconds=max(1, expires_in - margin))
        self._log.info("%s access token refreshed (expires in %ss)", self._platform, expires_in)
        return token


class OnOurBaseUrl:
    """For wechatpy clients: every call goes to our configured base URL, and the access token is handed in (it is
    shared through the cache, never fetched by wechatpy itself)."""

    LIVE_BASE_URL = LIVE_API_BASE_URL
    API_BASE_URL: str

    def _on_our_base_setup(self, api_base_url: str, timeout_seconds: float) -> None:
        self._http = TimeoutSession(timeout_seconds)
        self.api_base_url = api_base_url
        self.call_token: str | None = None

    @property
    def access_token(self) -> str | None:
        # wechatpy appends ?access_token= to every call; None drops it (code2Session and gettoken take none).
        return self.call_token

    def _on_our_base(self, url: str) -> str:
        return rebased_url(url, live_base_url=self.LIVE_BASE_URL, api_base_url=self.api_base_url)

    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
        # wechatpy spells the platform's host in class attributes and in some absolute URLs; all go to our base.
        if url_or_endpoint.startswith(("http://", "https://")):
            url_or_endpoint = self._on_our_base(url_or_endpoint)
        else:
            kwargs["api_base_url"] = self._on_our_base(kwargs.get("api_base_url", self.API_BASE_URL))
        return super()._request(method, url_or_endpoint, **kwargs)  # type: ignore[misc]

    def close(self) -> None:
        self._http.close()


class WeChatSdkClient(OnOurBaseUrl, WeChatClient):
    """wechatpy's mini-program client on our base URL."""

    def __init__(self, appid: str, secret: str, *, api_base_url: str, timeout_seconds: float) -> None:
        # auto_retry off: on 40001/42001 wechatpy would fetch a private token; ours is shared through the cache.
        super().__init__(appid, secret, timeout=timeout_seconds, auto_retry=False)
        self._on_our_base_setup(api_base_url, timeout_seconds)

    def fetch_access_token(self) -> dict:
        """GET cgi-bin/token on our base URL (wechatpy hard-codes WeChat's host here)."""
        return self._fetch_access_token(
            url=self.api_base_url + "cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


class WeChatPlatform:
    """The mini-program's WeChat server API: login codes, subscribe messages, the access token all workers share."""

    def __init__(self, settings: Settings, cache: Cache) -> None:
        appid, secret, base_url = settings.wechat.appid, settings.wechat.secret, wechat_api_base_url(settings)
        self._executor: SdkExecutor[WeChatSdkClient] = SdkExecutor(
            "wechat",
            threads=settings.platforms.sdk_threads,
            timeout_seconds=settings.platforms.timeout_seconds,
            new_client=lambda: WeChatSdkClient(
                appid, secret, api_base_url=base_url, timeout_seconds=settings.platforms.timeout_seconds
            ),
        )
        self._token = SharedAccessToken(
            "wechat",
            cache,
            key=ACCESS_TOKEN_KEY,
            refresh_lock_key=REFRESH_LOCK_KEY,
            timeout_seconds=settings.platforms.timeout_seconds,
            fetch=lambda: self._call("access_token", lambda client: client.fetch_access_token()),
        )

    async def code_to_session(self, code: str) -> WeChatSession:
        """Exchange a wx.login code for the user's openid, unionid and session_key (code2Session)."""
        if not code:
            raise LoginCodeInvalid()
        result = await self._call("code2session", lambda client: client.wxa.code_to_session(code))
        if not isinstance(result, dict) or not result.get("openid") or not result.get("session_key"):
            log.warning("wechat code2session: answer without openid or session_key")
            raise PlatformError()
        return WeChatSession(
            openid=result["openid"], unionid=result.get("unionid") or None, session_key=result["session_key"]
        )

    async def send_subscribe_message(
        self,
        *,
        openid: str,
        template_id: str,
        data: dict[str, str],
        page: str | None = None,
        dedupe_key: str | None = None,
    ) -> None:
        """Send a subscribe message (subscribeMessage.send); MessageRejected when WeChat refuses it for good."""
        # WeChat wants every keyword as {"value": ...}; mini-program template messages (switched off in 2020) are not
        # an alternative, so there is no fallback.
        payload = {key: {"value": value} for key, value in data.items()}

        def send(client: WeChatSdkClient) -> Any:
            if dedupe_key is None:
                return client.wxa.send_subscribe_message(openid, template_id, payload, page=page)
            # The same body as wxa.send_subscribe_message plus client_msg_id, our key for this message and user: a
            # resend after a worker died between WeChat's answer and our record of it can be recognised (the
            # simulator delivers it once; WeChat itself ignores the field today).
            body = {"touser": openid, "template_id": template_id, "data": payload, "client_msg_id": dedupe_key}
            if page:
                body["page"] = page
            return client.post("message/subscribe/send", data=body)  # relative to wechatpy's cgi-bin/ base

        await self._token.call(
            "subscribe_message", lambda token: self._call("subscribe_message", send, token=token, errors=_message_error)
        )

    async def check_real_name(self, *, openid: str, name: str, id_number: str, code: str) -> IdentityVerdict:
        """Whether this WeChat user is the claimed person, by the real name WeChat Pay holds (checkrealnameinfo)."""
        body = {"openid": openid, "real_name": name, "cred_id": id_number, "cred_type": "1", "code": code}

        def check(client: WeChatSdkClient) -> Any:
            return client.post(REAL_NAME_CHECK_URL, data=body)

        try:
            result = await self._token.call(
                "check_real_name",
                lambda token: self._call("check_real_name", check, token=token, errors=_real_name_error),
            )
        except _ConsentCodeRefused:
            return IdentityVerdict(passed=False, reason=CODE_INVALID)
        if not isinstance(result, dict):
            raise PlatformError()
        # Several verdicts may come joined by ";": any of "not real-named" or "name differs" fails the check.
        openid_verdicts = set(str(result.get("verify_openid") or "").split(";"))
        if OPENID_NOT_REAL_NAMED in openid_verdicts:
            return IdentityVerdict(passed=False, reason=NOT_REAL_NAMED)
        if OPENID_NAME_DIFFERS in openid_verdicts or OPENID_NAME_MATCHES not in openid_verdicts:
            return IdentityVerdict(passed=False, reason=NAME_MISMATCH)
        if result.get("verify_real_name") != NAME_ID_MATCH:
            return IdentityVerdict(passed=False, reason=ID_MISMATCH)
        return IdentityVerdict(passed=True)

    async def access_token(self) -> str:
        """The current access token, from the shared cache; fetched from WeChat by one caller when missing."""
        return await self._token.get()

    async def drop_access_token(self, stale_token: str) -> None:
        """Forget a token WeChat called invalid (40001/42001), unless another caller already replaced it."""
        await self._token.drop(stale_token)

    async def close(self) -> None:
        await self._executor.close()

    async def _call(
        self,
        what: str,
        operation: Callable[[WeChatSdkClient], Any],
        *,
        token: str | None = None,
        errors: Callable[[str, WeChatClientException], Exception] | None = None,
    ) -> Any:
        def with_token(client: WeChatSdkClient) -> Any:
            client.call_token = token
            try:
                return operation(client)
            finally:
                client.call_token = None

        try:
            return await self._executor.run(with_token)
        except WeChatClientException as exc:
            raise (errors or _mapped_error)(what, exc) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            log.warning("wechat %s: %s", what, exc.__class__.__name__)
            raise PlatformUnavailable() from None
        except (requests.RequestException, ValueError) as exc:  # ValueError: an answer that is not JSON
            log.warning("wechat %s: unreadable answer (%s)", what, exc.__class__.__name__)
            raise PlatformError() from None


def _mapped_error(what: str, exc: WeChatClientException) -> Exception:
    # Only the errcode is logged: errmsg and the request may carry the code, the secret or the token.
    if exc.errcode is None:
        status = getattr(exc.response, "status_code", None)
        log.warning("wechat %s: HTTP %s", what, status)
        return PlatformUnavailable() if status is None or status >= 500 else PlatformError()
    errcode = _as_int(exc.errcode)
    if errcode in LOGIN_CODE_ERRCODES:
        log.info("wechat %s: login code refused (errcode %s)", what, errcode)
        return LoginCodeInvalid()
    if what == "code2session" and errcode == LOGIN_BLOCKED_ERRCODE:
        log.info("wechat %s: user blocked as high-risk (errcode %s)", what, errcode)
        return LoginBlocked()
    if what == "code2session" and errcode == LOGIN_TOO_FREQUENT_ERRCODE:
        log.warning("wechat %s: logins too frequent (errcode %s)", what, errcode)
        return LoginTooFrequent()
    log.warning("wechat %s: errcode %s", what, errcode)
    return PlatformUnavailable(errcode=str(errcode)) if errcode in BUSY_ERRCODES else PlatformError()


def _message_error(what: str, exc: WeChatClientException) -> Exception:
    # Sorted for a retrying sender: refused for good, worth retrying later, or neither (configuration, surprises).
    errcode = _as_int(exc.errcode)
    if errcode in TOKEN_REJECTED_ERRCODES:
        return TokenRejected(errcode)
    if errcode in MESSAGE_REJECTED_ERRCODES:
        log.info("wechat %s: message refused (errcode %s)", what, errcode)
        return MessageRejected(str(errcode), str(exc.errmsg or ""))
    if errcode in MESSAGE_TRANSIENT_ERRCODES:
        log.warning("wechat %s: errcode %s, try again later", what, errcode)
        return PlatformUnavailable(errcode=str(errcode))
    return _mapped_error(what, exc)


class _ConsentCodeRefused(Exception):
    """checkrealnameinfo refused the consent code (unknown, expired or used)."""


def _real_name_error(what: str, exc: WeChatClientException) -> Exception:
    errcode = _as_int(exc.errcode)
    if errcode in TOKEN_REJECTED_ERRCODES:
        return TokenRejected(errcode)
    if errcode in CONSENT_CODE_ERRCODES:
        log.info("wechat %s: consent code refused (errcode %s)", what, errcode)
        return _ConsentCodeRefused()
    return _mapped_error(what, exc)


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
