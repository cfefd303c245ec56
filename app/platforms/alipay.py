"""Alipay open platform through alipay-sdk-python: the auth_code login (alipay.system.oauth.token) and template
messages to users (alipay.open.app.mini.templatemessage.send); the client pieces payments share (alipay_pay.py).

The SDK builds and RSA2-signs each request and verifies the gateway's signed answer; only its transport is replaced
(see AlipaySdkClient), because its http.client helper drops the port of the gateway URL.
"""

from __future__ import annotations

import datetime as datetime_module
import json
import logging
import types
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import alipay.aop.api.DefaultAlipayClient as sdk_client_module
import requests
from alipay.aop.api.AlipayClientConfig import AlipayClientConfig
from alipay.aop.api.constant.CommonConstants import THREAD_LOCAL
from alipay.aop.api.DefaultAlipayClient import DefaultAlipayClient
from alipay.aop.api.domain.AlipayOpenAppMiniTemplatemessageSendModel import AlipayOpenAppMiniTemplatemessageSendModel
from alipay.aop.api.domain.AlipayUserCertifyOpenCertifyModel import AlipayUserCertifyOpenCertifyModel
from alipay.aop.api.domain.AlipayUserCertifyOpenInitializeModel import AlipayUserCertifyOpenInitializeModel
from alipay.aop.api.domain.AlipayUserCertifyOpenQueryModel import AlipayUserCertifyOpenQueryModel
from alipay.aop.api.domain.OpenCertifyIdentityParam import OpenCertifyIdentityParam
from alipay.aop.api.domain.OpenCertifyMerchantConfig import OpenCertifyMerchantConfig
from alipay.aop.api.exception.Exception import RequestException as SdkRequestError
from alipay.aop.api.exception.Exception import ResponseException as SdkResponseError
from alipay.aop.api.request.AlipayOpenAppMiniTemplatemessageSendRequest import (
    AlipayOpenAppMiniTemplatemessageSendRequest,
)
from alipay.aop.api.request.AlipaySystemOauthTokenRequest import AlipaySystemOauthTokenRequest
from alipay.aop.api.request.AlipayUserCertifyOpenCertifyRequest import AlipayUserCertifyOpenCertifyRequest
from alipay.aop.api.request.AlipayUserCertifyOpenInitializeRequest import AlipayUserCertifyOpenInitializeRequest
from alipay.aop.api.request.AlipayUserCertifyOpenQueryRequest import AlipayUserCertifyOpenQueryRequest
from alipay.aop.api.response.AlipayOpenAppMiniTemplatemessageSendResponse import (
    AlipayOpenAppMiniTemplatemessageSendResponse,
)
from alipay.aop.api.response.AlipayResponse import AlipayResponse
from alipay.aop.api.response.AlipaySystemOauthTokenResponse import AlipaySystemOauthTokenResponse
from alipay.aop.api.response.AlipayUserCertifyOpenInitializeResponse import AlipayUserCertifyOpenInitializeResponse
from alipay.aop.api.response.AlipayUserCertifyOpenQueryResponse import AlipayUserCertifyOpenQueryResponse
from alipay.aop.api.util.WebUtils import url_encode

from app.core.cache import Cache
from app.core.config import PROJECT_ROOT, ConfigError, Settings
from app.platforms import (
    FACE_FAILED,
    AlipayUser,
    IdentityVerdict,
    LoginCodeInvalid,
    MessageRejected,
    PlatformError,
    PlatformUnavailable,
)
from app.platforms.executor import SdkExecutor, TimeoutSession
from app.platforms.keys import ensure_sim_keys, load_private_key, load_public_key, pkcs1_private_pem, public_pem_of

log = logging.getLogger("app.platforms.alipay")

LIVE_GATEWAY_URL = "https://openapi.alipay.com/gateway.do"
SUCCESS_CODE = "10000"
UNAVAILABLE_CODE = "20000"  # "Service Currently Unavailable"
# "Business Failed": the gateway took the request and the service refused it (for a message: user, template, data).
BUSINESS_FAILED_CODE = "40004"
# Alipay's own failures, worth another try later whatever the code says (besides every isp.* sub_code).
TRANSIENT_SUB_CODES = frozenset({"ACQ.SYSTEM_ERROR", "SYSTEM_ERROR"})
LOGIN_CODE_SUB_CODES = frozenset({"isv.code-invalid"})
AnyResponse = TypeVar("AnyResponse", bound=AlipayResponse)
Result = TypeVar("Result")


BEIJING = ZoneInfo("Asia/Shanghai")


class _BeijingDatetime(datetime_module.datetime):
    """datetime whose now() is the wall clock in Beijing, whatever the host's time zone."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        moment = datetime_module.datetime.now(tz or BEIJING)
        return moment if tz is not None else moment.replace(tzinfo=None)


# The SDK stamps every request's `timestamp` with datetime.datetime.now(), the host's local time, and the gateway
# reads it as Beijing time: on a UTC server every call would be eight hours off. Its module gets a datetime whose
# now() is Beijing's; nothing else in that module uses datetime.
sdk_client_module.datetime = types.SimpleNamespace(datetime=_BeijingDatetime)


def alipay_gateway_url(settings: Settings) -> str:
    """settings.alipay.gateway_url, or this app's /sim/alipay/gateway.do in sim mode and Alipay's in live mode."""
    if settings.alipay.gateway_url:
        return settings.alipay.gateway_url
    if settings.platforms.mode == "sim":
        return settings.app.public_base_url.rstrip("/") + "/sim/alipay/gateway.do"
    return LIVE_GATEWAY_URL


@dataclass(frozen=True)
class AlipayKeys:
    app_private_key: str  # PEM (PKCS#1 or PKCS#8) or bare base64
    alipay_public_key: str  # PEM or bare base64


def alipay_keys(settings: Settings) -> AlipayKeys:
    """Sim mode: the simulator's generated keys; live mode: the files named by settings.alipay.*_path."""
    if settings.platforms.mode == "sim":
        sim_keys = ensure_sim_keys(settings)
        return AlipayKeys(
            app_private_key=sim_keys.alipay_app.private_pem, alipay_public_key=sim_keys.alipay_platform.public_pem
        )
    return AlipayKeys(
        app_private_key=_read_key_file("app_private_key_path", settings.alipay.app_private_key_path),
        alipay_public_key=_read_key_file("alipay_public_key_path", settings.alipay.alipay_public_key_path),
    )


def _read_key_file(setting: str, value: str) -> str:
    path = Path(value) if Path(value).is_absolute() else PROJECT_ROOT / value
    try:
        return path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config: alipay.{setting}: cannot read {path} ({exc.__class__.__name__})") from None


class GatewayHttpStatus(Exception):
    """The gateway answered with an HTTP status other than 200."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


class AlipaySdkClient(DefaultAlipayClient):
    """DefaultAlipayClient over a requests session; request signing and answer verification stay the SDK's own.

    The SDK's do_post connects to port 80/443 whatever the URL says, raises TypeError on a URL with a port and on
    any non-200 answer, so it can reach neither the simulator nor a gateway on a non-default port.
    """

    def __init__(self, config: AlipayClientConfig, *, timeout_seconds: float) -> None:
        super().__init__(config)
        self._config = config
        self._http = TimeoutSession(timeout_seconds)

    def execute(self, request) -> str:
        """Sign and POST the request as the SDK's own execute does; return the verified response object's JSON."""
        if request.get_multipart_params():
            raise NotImplementedError("file uploads to the Alipay gateway are not supported")
        THREAD_LOCAL.uuid = uuid.uuid4().hex  # the SDK's error messages refer to it
        query_string, params = self._DefaultAlipayClient__prepare_request(request)
        charset = self._config.charset
        response = self._http.post(
            f"{self._config.server_url}?{query_string}",
            data=url_encode(params, charset) if params else None,
            headers={"Content-Type": f"application/x-www-form-urlencoded;charset={charset}"},
        )
        if response.status_code != 200:
            raise GatewayHttpStatus(response.status_code)
        return self._DefaultAlipayClient__parse_response(response.content)

    def download(self, url: str) -> bytes:
        """GET a file the gateway pointed at (a bill); GatewayHttpStatus unless the answer is 200."""
        response = self._http.get(url)
        if response.status_code != 200:
            raise GatewayHttpStatus(response.status_code)
        return response.content

    def close(self) -> None:
        self._http.close()


def sdk_config(settings: Settings, keys: AlipayKeys) -> AlipayClientConfig:
    """The SDK configuration: gateway, app id, RSA2 keys in the forms the SDK can load."""
    config = AlipayClientConfig()
    config.server_url = alipay_gateway_url(settings)
    config.app_id = settings.alipay.app_id
    config.sign_type = "RSA2"
    try:
        config.app_private_key = pkcs1_private_pem(load_private_key(keys.app_private_key))
        config.alipay_public_key = public_pem_of(load_public_key(keys.alipay_public_key))
    except ValueError as exc:
        raise ConfigError(f"config: alipay keys are not usable RSA keys ({exc})") from None
    config.timeout = settings.platforms.timeout_seconds
    return config


def sdk_executor(
    settings: Settings, config: AlipayClientConfig, *, name: str = "alipay"
) -> SdkExecutor[AlipaySdkClient]:
    """A bounded pool of SDK clients for this configuration, one client per thread."""
    timeout_seconds = settings.platforms.timeout_seconds
    return SdkExecutor(
        name,
        threads=settings.platforms.sdk_threads,
        timeout_seconds=timeout_seconds,
        new_client=lambda: AlipaySdkClient(config, timeout_seconds=timeout_seconds),
    )


class AlipayPlatform:
    """The Alipay mini-program's open platform API; keys come from settings unless given (tests)."""

    def __init__(self, settings: Settings, cache: Cache, *, keys: AlipayKeys | None = None) -> None:
        self._cache = cache
        self._id_mode = settings.alipay.id_mode
        self._executor = sdk_executor(settings, sdk_config(settings, keys or alipay_keys(settings)))

    async def oauth_token(self, auth_code: str) -> AlipayUser:
        """Exchange a my.getAuthCode auth_code for the user's id and access token."""
        if not auth_code:
            raise LoginCodeInvalid()
        request = AlipaySystemOauthTokenRequest()
        request.grant_type = "authorization_code"
        request.code = auth_code
        response = await self._execute("oauth_token", request, AlipaySystemOauthTokenResponse)
        user_id = response.open_id if self._id_mode == "open_id" else response.user_id
        if not user_id or not response.access_token:
            log.warning("alipay oauth_token: answer without %s or access_token (alipay.id_mode)", self._id_mode)
            raise PlatformError()
        return AlipayUser(user_id=user_id, access_token=response.access_token)

    async def send_template_message(
        self, *, user_id: str, template_id: str, data: dict[str, str], page: str | None = None
    ) -> None:
        """Send a mini-program template message to a user; MessageRejected when Alipay refuses it for good."""
        model = AlipayOpenAppMiniTemplatemessageSendModel()
        if self._id_mode == "open_id":
            model.to_open_id = user_id
        else:
            model.to_user_id = user_id
        model.user_template_id = template_id
        if page:
            model.page = page
        # data is itself a JSON text inside biz_content, every keyword wrapped as {"value": ...}.
        model.data = json.dumps(
            {key: {"value": value} for key, value in data.items()}, ensure_ascii=False, separators=(",", ":")
        )
        request = AlipayOpenAppMiniTemplatemessageSendRequest(biz_model=model)
        await self._execute("template_message", request, AlipayOpenAppMiniTemplatemessageSendResponse, message=True)

    async def start_certify(self, *, outer_order_no: str, name: str, id_number: str, return_url: str) -> dict[str, str]:
        """Open a face verification of the claimed person (alipay.user.certify.open.initialize) and the URL that
        my.startAPVerify opens for it (alipay.user.certify.open.certify, signed but not sent)."""
        identity = OpenCertifyIdentityParam()
        identity.identity_type = "CERT_INFO"
        identity.cert_type = "IDENTITY_CARD"
        identity.cert_name = name
        identity.cert_no = id_number
        merchant = OpenCertifyMerchantConfig()
        merchant.return_url = return_url
        model = AlipayUserCertifyOpenInitializeModel()
        model.outer_order_no = outer_order_no
        model.biz_code = "FACE"
        model.identity_param = identity
        model.merchant_config = merchant
        request = AlipayUserCertifyOpenInitializeRequest(biz_model=model)
        response = await self._execute("certify_initialize", request, AlipayUserCertifyOpenInitializeResponse)
        if not response.certify_id:
            log.warning("alipay certify_initialize: answer without certify_id")
            raise PlatformError()
        certify = AlipayUserCertifyOpenCertifyModel()
        certify.certify_id = response.certify_id
        url = await run_sdk(
            self._executor,
            "certify_url",
            lambda client: client.page_execute(
                AlipayUserCertifyOpenCertifyRequest(biz_model=certify), http_method="GET"
            ),
        )
        return {"certify_id": response.certify_id, "certify_url": url}

    async def query_certify(self, certify_id: str) -> IdentityVerdict:
        """Whether the face verification of certify_id passed (alipay.user.certify.open.query)."""
        model = AlipayUserCertifyOpenQueryModel()
        model.certify_id = certify_id
        request = AlipayUserCertifyOpenQueryRequest(biz_model=model)
        response = await self._execute("certify_query", request, AlipayUserCertifyOpenQueryResponse)
        # "T" only when the person finished and passed; an unfinished or failed verification answers "F".
        return IdentityVerdict(passed=True) if response.passed == "T" else IdentityVerdict(False, FACE_FAILED)

    async def close(self) -> None:
        await self._executor.close()

    async def _execute(
        self, what: str, request, response_type: Callable[[], AnyResponse], *, message: bool = False
    ) -> AnyResponse:
        response = await execute_request(self._executor, what, request, response_type)
        raise_for_code(what, response, message=message)
        return response


async def execute_request(
    executor: SdkExecutor[AlipaySdkClient], what: str, request, response_type: Callable[[], AnyResponse]
) -> AnyResponse:
    """Sign, send and verify one gateway call on the pool; the answer whatever its code (see raise_for_code)."""

    def call(client: AlipaySdkClient) -> AnyResponse:
        response = response_type()
        response.parse_response_content(client.execute(request))
        return response

    return await run_sdk(executor, what, call)


async def run_sdk(
    executor: SdkExecutor[AlipaySdkClient], what: str, operation: Callable[[AlipaySdkClient], Result]
) -> Result:
    """Run operation(client) on the pool; transport failures become PlatformUnavailable or PlatformError."""
    # Errors are logged by kind and code only: the SDK's messages quote whole answers (tokens, user ids).
    try:
        return await executor.run(operation)
    except GatewayHttpStatus as exc:
        log.warning("alipay %s: HTTP %s", what, exc.status)
        raise (PlatformUnavailable() if exc.status >= 500 else PlatformError()) from None
    except (requests.ConnectionError, requests.Timeout) as exc:
        log.warning("alipay %s: %s", what, exc.__class__.__name__)
        raise PlatformUnavailable() from None
    except SdkResponseError as exc:
        reason = "signature did not verify" if "sign verify failed" in str(exc) else "unexpected shape"
        log.warning("alipay %s: answer refused, %s", what, reason)
        raise PlatformError() from None
    except SdkRequestError:
        log.error("alipay %s: could not sign the request (app private key)", what)
        raise PlatformError() from None
    except (requests.RequestException, ValueError) as exc:  # ValueError: an answer that is not JSON
        log.warning("alipay %s: unreadable answer (%s)", what, exc.__class__.__name__)
        raise PlatformError() from None


def is_success(response: AlipayResponse) -> bool:
    """Whether the gateway's answer says the call succeeded."""
    return not response.sub_code and response.code in (None, SUCCESS_CODE)


def is_transient(response: AlipayResponse) -> bool:
    """Whether a failed answer is Alipay's own trouble, worth another try later."""
    sub_code = response.sub_code or ""
    return response.code == UNAVAILABLE_CODE or sub_code.startswith("isp.") or sub_code in TRANSIENT_SUB_CODES


def raise_for_code(what: str, response: AlipayResponse, *, message: bool = False) -> None:
    """Nothing on success; otherwise the error the answer's code and sub_code mean."""
    # message: a refusal of the business (40004) is MessageRejected, which a retrying sender must not retry.
    if is_success(response):
        return
    sub_code = response.sub_code or ""
    if sub_code in LOGIN_CODE_SUB_CODES:
        log.info("alipay %s: auth code refused (sub_code %s)", what, sub_code)
        raise LoginCodeInvalid()
    if is_transient(response):
        log.warning("alipay %s: code %s sub_code %s, try again later", what, response.code, sub_code)
        raise PlatformUnavailable(errcode=sub_code or response.code)
    if message and response.code == BUSINESS_FAILED_CODE:
        log.info("alipay %s: message refused (sub_code %s)", what, sub_code)
        raise MessageRejected(sub_code or response.code, response.sub_msg or response.msg or "")
    log.warning("alipay %s: code %s sub_code %s", what, response.code, sub_code)
    raise PlatformError()
