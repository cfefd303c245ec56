"""WeChat Work (企业微信) through wechatpy's enterprise client: application messages to staff, the shared token.

WeCom speaks WeChat's dialect (errcode/errmsg, an access token on every call), so the client follows
WeChatPlatform: the token lives in the shared cache, the SDK runs on its own thread pool, the base URL is configured.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import requests
from wechatpy.enterprise.client import WeChatClient as WeChatEnterpriseClient
from wechatpy.exceptions import WeChatClientException

from app.core.cache import Cache
from app.core.config import Settings
from app.platforms import MessageRejected, PlatformError, PlatformUnavailable
from app.platforms.executor import SdkExecutor
from app.platforms.wechat import OnOurBaseUrl, SharedAccessToken, TokenRejected, platform_base_url

log = logging.getLogger("app.platforms.wecom")

LIVE_API_BASE_URL = "https://qyapi.weixin.qq.com/"
ACCESS_TOKEN_KEY = "wecom:access_token"
REFRESH_LOCK_KEY = "wecom:access_token:refreshing"

# WeCom's refusals of the token itself: invalid (40014) or expired (42001); fetched again, the call retried once.
TOKEN_REJECTED_ERRCODES = frozenset({40014, 42001})
# message/send refusals that no retry changes: invalid UserID, every recipient invalid or outside the app's visible
# range, empty content.
MESSAGE_REJECTED_ERRCODES = frozenset({40003, 81013, 44004})
# Worth another try later: system busy, call frequency limit, concurrency limit.
TRANSIENT_ERRCODES = frozenset({-1, 45009, 45033})
# WeCom drops a message equal to one sent to the same member within this many seconds, so a retry after an answer
# lost to a timeout is not delivered twice; short, so a genuinely repeated notice a while later still arrives.
DUPLICATE_CHECK_SECONDS = 600


def wecom_api_base_url(settings: Settings) -> str:
    """settings.wecom.api_base_url, or this app's /sim/wecom/ in sim mode and WeCom's own host in live mode."""
    return platform_base_url(
        settings.wecom.api_base_url, settings, sim_path="/sim/wecom/", live_base_url=LIVE_API_BASE_URL
    )


class WeComSdkClient(OnOurBaseUrl, WeChatEnterpriseClient):
    """wechatpy's enterprise client on our base URL."""

    LIVE_BASE_URL = LIVE_API_BASE_URL

    def __init__(self, corp_id: str, secret: str, *, api_base_url: str, timeout_seconds: float) -> None:
        # auto_retry off: on 40014/42001 wechatpy would fetch a private token; ours is shared through the cache.
        super().__init__(corp_id, secret, timeout=timeout_seconds, auto_retry=False)
        self._on_our_base_setup(api_base_url, timeout_seconds)

    def fetch_access_token(self) -> dict:
        """GET cgi-bin/gettoken on our base URL (wechatpy hard-codes WeCom's host here)."""
        return self._fetch_access_token(
            url=self.api_base_url + "cgi-bin/gettoken", params={"corpid": self.corp_id, "corpsecret": self.secret}
        )


class WeComPlatform:
    """The WeCom self-built app that tells staff about their work: text messages and its shared access token."""

    def __init__(self, settings: Settings, cache: Cache) -> None:
        corp_id, secret, base_url = settings.wecom.corp_id, settings.wecom.corp_secret, wecom_api_base_url(settings)
        timeout_seconds = settings.platforms.timeout_seconds
        self._agent_id = settings.wecom.agent_id
        self._executor: SdkExecutor[WeComSdkClient] = SdkExecutor(
            "wecom",
            threads=settings.platforms.sdk_threads,
            timeout_seconds=timeout_seconds,
            new_client=lambda: WeComSdkClient(corp_id, secret, api_base_url=base_url, timeout_seconds=timeout_seconds),
        )
        self._token = SharedAccessToken(
            "wecom",
            cache,
            key=ACCESS_TOKEN_KEY,
            refresh_lock_key=REFRESH_LOCK_KEY,
            timeout_seconds=timeout_seconds,
            fetch=lambda: self._call("access_token", lambda client: client.fetch_access_token()),
        )

    async def send_text(self, *, userids: list[str], content: str) -> None:
        """Send a text message from the app to these members; MessageRejected when WeCom refuses it for good."""
        message = {
            "msgtype": "text",
            "text": {"content": content},
            "safe": 0,
            "enable_duplicate_check": 1,
            "duplicate_check_interval": DUPLICATE_CHECK_SECONDS,
        }

        def send(client: WeComSdkClient) -> Any:
            return client.message.send(self._agent_id, list(userids), msg=message)

        result = await self._token.call("send_text", lambda token: self._call("send_text", send, token=token))
        # Some recipients unknown or outside the app's range: WeCom still delivers to the others and says errcode 0.
        invalid = [userid for userid in str(result.get("invaliduser") or "").split("|") if userid]
        if invalid:
            log.warning("wecom send_text: %d of %d recipients not reachable (invaliduser)", len(invalid), len(userids))

    async def access_token(self) -> str:
        """The current access token, from the shared cache; fetched from WeCom by one caller when missing."""
        return await self._token.get()

    async def drop_access_token(self, stale_token: str) -> None:
        """Forget a token WeCom refused (40014/42001), unless another caller already replaced it."""
        await self._token.drop(stale_token)

    async def close(self) -> None:
        await self._executor.close()

    async def _call(self, what: str, operation: Callable[[WeComSdkClient], Any], *, token: str | None = None) -> Any:
        def with_token(client: WeComSdkClient) -> Any:
            client.call_token = token
            try:
                return operation(client)
            finally:
                client.call_token = None

        try:
            result = await self._executor.run(with_token)
        except WeChatClientException as exc:
            raise _mapped_error(what, exc) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            log.warning("wecom %s: %s", what, exc.__class__.__name__)
            raise PlatformUnavailable() from None
        except (requests.RequestException, ValueError) as exc:  # ValueError: an answer that is not JSON
            log.warning("wecom %s: unreadable answer (%s)", what, exc.__class__.__name__)
            raise PlatformError() from None
        if not isinstance(result, dict):
            # wechatpy hands back the raw response when the body is not JSON (a proxy's error page).
            log.warning("wecom %s: answer is not JSON", what)
            raise PlatformError()
        return result


def _mapped_error(what: str, exc: WeChatClientException) -> Exception:
    # Only the errcode is logged: errmsg and the request may carry the secret, the token or the recipients.
    if exc.errcode is None:
        status = getattr(exc.response, "status_code", None)
        log.warning("wecom %s: HTTP %s", what, status)
        return PlatformUnavailable() if status is None or status >= 500 else PlatformError()
    errcode = _as_int(exc.errcode)
    if errcode in TOKEN_REJECTED_ERRCODES:
        return TokenRejected(errcode)
    if errcode in MESSAGE_REJECTED_ERRCODES:
        log.info("wecom %s: message refused (errcode %s)", what, errcode)
        return MessageRejected(str(errcode), str(exc.errmsg or ""))
    if errcode in TRANSIENT_ERRCODES:
        log.warning("wecom %s: errcode %s, try again later", what, errcode)
        return PlatformUnavailable(errcode=str(errcode))
    log.warning("wecom %s: errcode %s", what, errcode)
    return PlatformError()


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
