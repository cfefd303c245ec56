"""WeChat mini-program server API through wechatpy: code2Session login and the shared access token."""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any, Callable

import requests
from wechatpy.client import WeChatClient
from wechatpy.exceptions import WeChatClientException

from app.core.cache import Cache
from app.core.config import Settings
from app.platforms import LoginCodeInvalid, PlatformError, PlatformUnavailable, WeChatSession
from app.platforms.executor import SdkExecutor, TimeoutSession

log = logging.getLogger("app.platforms.wechat")

LIVE_API_BASE_URL = "https://api.weixin.qq.com/"
ACCESS_TOKEN_KEY = "wechat:access_token"
REFRESH_LOCK_KEY = "wechat:access_token:refreshing"
# Refresh this long before WeChat's expiry (capped at a tenth of the lifetime for short-lived test tokens).
REFRESH_MARGIN_SECONDS = 300
REFRESH_POLL_SECONDS = 0.05

LOGIN_CODE_ERRCODES = frozenset({40029, 40163, 40226})  # invalid code, code been used, high-risk user blocked
BUSY_ERRCODES = frozenset({-1})  # "system error, please retry"


def wechat_api_base_url(settings: Settings) -> str:
    """settings.wechat.api_base_url, or this app's /sim/wechat/ in sim mode and WeChat's own host in live mode."""
    base = settings.wechat.api_base_url
    if not base:
        base = (settings.app.public_base_url.rstrip("/") + "/sim/wechat/" if settings.platforms.mode == "sim"
                else LIVE_API_BASE_URL)
    return base if base.endswith("/") else base + "/"


class WeChatSdkClient(WeChatClient):
    """wechatpy's client sending every call to our base URL; the access token is handed in, never fetched by it."""

    def __init__(self, appid: str, secret: str, *, api_base_url: str, timeout_seconds: float) -> None:
        # auto_retry off: on 40001/42001 wechatpy would fetch a private token; ours is shared through the cache.
        super().__init__(appid, secret, timeout=timeout_seconds, auto_retry=False)
        self._http = TimeoutSession(timeout_seconds)
        self.api_base_url = api_base_url
        self.call_token: str | None = None

    @property
    def access_token(self) -> str | None:
        # wechatpy appends ?access_token= to every call; None drops it (code2Session takes none).
        return self.call_token

    def _on_our_base(self, url: str) -> str:
        return self.api_base_url + url[len(LIVE_API_BASE_URL):] if url.startswith(LIVE_API_BASE_URL) else url

    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
        # wechatpy spells WeChat's host in class attributes and in some absolute URLs; all go to our base URL.
        if url_or_endpoint.startswith(("http://", "https://")):
            url_or_endpoint = self._on_our_base(url_or_endpoint)
        else:
            kwargs["api_base_url"] = self._on_our_base(kwargs.get("api_base_url", self.API_BASE_URL))
        return super()._request(method, url_or_endpoint, **kwargs)

    def fetch_access_token(self) -> dict:
        """GET cgi-bin/token on our base URL (wechatpy hard-codes WeChat's host here)."""
        return self._fetch_access_token(url=self.api_base_url + "cgi-bin/token", params={
            "grant_type": "client_credential", "appid": self.appid, "secret": self.secret})

    def close(self) -> None:
        self._http.close()


class WeChatPlatform:
    """The mini-program's WeChat server API: login codes and the access token shared by every worker."""

    def __init__(self, settings: Settings, cache: Cache) -> None:
        self._cache = cache
        self._timeout_seconds = settings.platforms.timeout_seconds
        self._token_lock = asyncio.Lock()
        appid, secret, base_url = settings.wechat.appid, settings.wechat.secret, wechat_api_base_url(settings)
        self._executor: SdkExecutor[WeChatSdkClient] = SdkExecutor(
            "wechat", threads=settings.platforms.sdk_threads, timeout_seconds=settings.platforms.timeout_seconds,
            new_client=lambda: WeChatSdkClient(appid, secret, api_base_url=base_url,
                                               timeout_seconds=settings.platforms.timeout_seconds))

    async def code_to_session(self, code: str) -> WeChatSession:
        """Exchange a wx.login code for the user's openid, unionid and session_key (code2Session)."""
        if not code:
            raise LoginCodeInvalid()
        result = await self._call("code2session", lambda client: client.wxa.code_to_session(code))
        if not isinstance(result, dict) or not result.get("openid") or not result.get("session_key"):
            log.warning("wechat code2session: answer without openid or session_key")
            raise PlatformError()
        return WeChatSession(openid=result["openid"], unionid=result.get("unionid") or None,
                             session_key=result["session_key"])

    async def access_token(self) -> str:
        """The current access token, from the shared cache; fetched from WeChat by one caller when missing."""
        token = await self._cache.get(ACCESS_TOKEN_KEY)
        if token:
            return token
        async with self._token_lock:
            # Whoever held the lock before us has probably just stored a fresh token.
            return await self._cache.get(ACCESS_TOKEN_KEY) or await self._refresh_shared_token()

    async def drop_access_token(self, stale_token: str) -> None:
        """Forget a token WeChat called invalid (40001/42001), unless another caller already replaced it."""
        if await self._cache.get(ACCESS_TOKEN_KEY) == stale_token:
            await self._cache.delete(ACCESS_TOKEN_KEY)

    async def close(self) -> None:
        await self._executor.close()

    async def _refresh_shared_token(self) -> str:
        # Each fetch invalidates the previous token within minutes and counts against a daily quota, so across
        # workers one fetches while the others wait for the cache (the add() is the cross-process lock).
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout_seconds
        lock_ttl = math.ceil(self._timeout_seconds) + 1
        while True:
            if await self._cache.add(REFRESH_LOCK_KEY, "1", lock_ttl):
                try:
                    return await self._fetch_and_store_token()
                finally:
                    await self._cache.delete(REFRESH_LOCK_KEY)
            if loop.time() >= deadline:
                log.warning("wechat access token: another worker's refresh did not finish in time")
                raise PlatformUnavailable()
            await asyncio.sleep(REFRESH_POLL_SECONDS)
            token = await self._cache.get(ACCESS_TOKEN_KEY)
            if token:
                return token

    async def _fetch_and_store_token(self) -> str:
        result = await self._call("access_token", lambda client: client.fetch_access_token())
        token, expires_in = result.get("access_token"), result.get("expires_in", 7200)
        if not token or not isinstance(expires_in, int) or expires_in <= 0:
            log.warning("wechat access_token: answer without a token or lifetime")
            raise PlatformError()
        margin = min(REFRESH_MARGIN_SECONDS, expires_in // 10)
        await self._cache.set(ACCESS_TOKEN_KEY, token, ttl_seconds=max(1, expires_in - margin))
        log.info("wechat access token refreshed (expires in %ss)", expires_in)
        return token

    async def _call(self, what: str, operation: Callable[[WeChatSdkClient], Any], *,
                    token: str | None = None) -> Any:
        def with_token(client: WeChatSdkClient) -> Any:
            client.call_token = token
            try:
                return operation(client)
            finally:
                client.call_token = None

        try:
            return await self._executor.run(with_token)
        except WeChatClientException as exc:
            raise _mapped_error(what, exc) from None
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
    log.warning("wechat %s: errcode %s", what, errcode)
    return PlatformUnavailable() if errcode in BUSY_ERRCODES else PlatformError()


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
