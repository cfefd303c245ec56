"""Typed settings, read once from config.toml and APP_<SECTION>__<KEY> environment overrides."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, ValidationInfo, field_validator

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "config.toml"
ENV_PREFIX = "APP_"
PLACEHOLDER_MARKERS = ("change-me", "placeholder")
# OWASP's minimum Argon2id cost: below it a stolen staff password table is cheap to crack.
PRODUCTION_MIN_PASSWORD_COST = {"password_time_cost": 2, "password_memory_cost": 19456}


class ConfigError(Exception):
    """A setting is missing or invalid; the message is one line naming the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AppSection(_Section):
    env: Literal["development", "test", "production"]
    timezone: str
    # Empty: the served address (Settings.served_at), so another port needs no second setting.
    public_base_url: str

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as Asia/Shanghai") from None
        return value


class ServerSection(_Section):
    host: str
    port: int = Field(ge=1, le=65535)
    workers: int = Field(ge=1, le=64)
    max_body_bytes: int = Field(ge=1024)
    access_log: bool
    max_in_flight: int = Field(ge=1, le=100_000)
    proxies_count: int = Field(ge=0, le=5)
    citizen_memo_seconds: float = Field(ge=0, le=60)


class DatabaseSection(_Section):
    url: str
    # A streaming replica of url that the public statistics read from (empty: none, everything on url).
    read_replica_url: str = ""
    pool_max: int = Field(ge=1, le=200)
    connect_timeout_seconds: float = Field(gt=0, le=60)
    command_timeout_seconds: float = Field(gt=0, le=600)

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgres://", "postgresql://")):
            raise ValueError("must start with sqlite:// or postgres://")
        return value

    @field_validator("read_replica_url")
    @classmethod
    def _replica_of_postgres(cls, value: str, info: ValidationInfo) -> str:
        if not value:
            return value
        if not value.startswith(("postgres://", "postgresql://")):
            raise ValueError("must be empty or a postgres:// URL (a streaming replica of database.url)")
        # A replica of SQLite does not exist: a second file would be another database, not a copy of this one.
        if str(info.data.get("url", "")).startswith("sqlite://"):
            raise ValueError("needs a postgres:// database.url (SQLite has no replicas)")
        return value


class CacheSection(_Section):
    url: str
    key_prefix: str
    pool_max_connections: int = Field(ge=1, le=10_000)
    pool_timeout_seconds: float = Field(gt=0, le=60)
    connect_timeout_seconds: float = Field(gt=0, le=60)
    command_timeout_seconds: float = Field(gt=0, le=60)

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://", "redis+sentinel://")):
            raise ValueError("must be empty (in-process cache) or start with redis:// (redis+sentinel:// for Sentinel)")
        if value.startswith("redis+sentinel://"):
            hosts, _, path = value.removeprefix("redis+sentinel://").rpartition("@")[2].partition("/")
            if not hosts or not path.split("/")[0]:
                raise ValueError("a Sentinel URL is redis+sentinel://[:password@]host:port[,host:port]/service[/db]")
        return value


class LoggingSection(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"]
    format: Literal["text", "json"]


class SecuritySection(_Section):
    secret_key: str = Field(min_length=32)
    previous_secret_keys: list[str]
    lookup_secret: str = Field(repr=False)
    token_ttl_seconds: int = Field(ge=60)
    token_memo_seconds: float = Field(ge=0, le=60)
    staff_max_failed_logins: int = Field(ge=1, le=100)
    staff_lock_minutes: int = Field(ge=1)
    login_attempts_per_minute: int = Field(ge=1)
    password_time_cost: int = Field(ge=1, le=100)
    password_memory_cost: int = Field(ge=8, le=4_194_304)
    password_parallelism: int = Field(ge=1, le=64)

    @field_validator("previous_secret_keys")
    @classmethod
    def _previous_keys(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if any(len(key) < 32 for key in value):
            raise ValueError("every previous key has at least 32 characters, as secret_key")
        if info.data.get("secret_key") in value:
            raise ValueError("must not hold the current secret_key")
        return value

    @field_validator("lookup_secret")
    @classmethod
    def _lookup_secret(cls, value: str) -> str:
        if value and len(value) < 32:
            raise ValueError("must have at least 32 characters (or be empty: secret_key)")
        return value

    @field_validator("password_parallelism")
    @classmethod
    def _memory_for_every_lane(cls, value: int, info: ValidationInfo) -> int:
        # Argon2 needs at least 8 KiB per lane; the hashing library would only say so at the first hash.
        memory = info.data.get("password_memory_cost")
        if memory is not None and memory < 8 * value:
            raise ValueError("password_memory_cost must be at least 8 KiB per lane")
        return value


class IdentitySection(_Section):
    verification_minutes: int = Field(ge=1, le=60)
    sms_code: bool
    sms_attempts: int = Field(ge=1, le=20)
    claims_per_account_per_day: int = Field(ge=1)
    claims_per_id_per_day: int = Field(ge=1)
    certify_return_url: str


class LicencesSection(_Section):
    base_url: str
    app_key: str = Field(min_length=1)
    app_secret: str = Field(min_length=16, repr=False)


class PlatformsSection(_Section):
    mode: Literal["sim", "live"]
    sim_keys_dir: str
    sdk_threads: int = Field(ge=1, le=256)
    timeout_seconds: float = Field(gt=0, le=120)


class WeChatSection(_Section):
    appid: str = Field(min_length=1)
    secret: str = Field(min_length=1)
    api_base_url: str


class AlipaySection(_Section):
    app_id: str = Field(min_length=1)
    id_mode: Literal["user_id", "open_id"]
    gateway_url: str
    app_private_key_path: str
    alipay_public_key_path: str
    notify_url: str
    seller_id: str

    @field_validator("notify_url")
    @classmethod
    def _notify_url_is_http(cls, value: str) -> str:
        if value and not re.fullmatch(r"https?://[^\s?#]+", value):
            raise ValueError("must be empty or an http:// or https:// URL without query string")
        return value

    @field_validator("seller_id")
    @classmethod
    def _seller_id_is_a_pid(cls, value: str) -> str:
        # A merchant's PID: 2088 and twelve digits, as Alipay's console shows it.
        if value and not re.fullmatch(r"2088[0-9]{12}", value):
            raise ValueError("must be empty or a PID (2088 followed by 12 digits)")
        return value


class WeComSection(_Section):
    corp_id: str = Field(min_length=1)
    corp_secret: str = Field(min_length=1, repr=False)
    agent_id: int = Field(ge=1)
    api_base_url: str


class WeChatPaySection(_Section):
    mchid: str = Field(pattern=r"^[0-9]{1,32}$")
    appid: str
    apiv3_key: str = Field(repr=False)
    merchant_serial_no: str = Field(pattern=r"^[0-9A-Fa-f]{1,64}$")
    merchant_private_key_path: str
    platform_cert_path: str
    platform_public_key_path: str
    platform_public_key_id: str
    api_base_url: str
    notify_url: str

    @field_validator("apiv3_key")
    @classmethod
    def _aes_256_key(cls, value: str) -> str:
        # WeChat Pay uses the key's UTF-8 bytes as the AES-256-GCM key of notification resources: exactly 32.
        if len(value.encode("utf-8")) != 32 or not value.isascii():
            raise ValueError("must be exactly 32 ASCII characters (the APIv3 key set in pay.weixin.qq.com)")
        return value

    @field_validator("api_base_url", "notify_url")
    @classmethod
    def _http_url_or_empty(cls, value: str) -> str:
        # WeChat Pay refuses a notify_url with a query string.
        if value and not re.fullmatch(r"https?://[^\s?#]+", value):
            raise ValueError("must be empty or an http:// or https:// URL without query string")
        return value

    @field_validator("platform_public_key_id")
    @classmethod
    def _id_with_its_key(cls, value: str, info: ValidationInfo) -> str:
        # The id is what WeChat Pay puts in Wechatpay-Serial when it signs with that key: one is useless alone.
        if bool(value) != bool(info.data.get("platform_public_key_path")):
            raise ValueError("platform_public_key_path and platform_public_key_id go together")
        return value


# The value types of WeChat subscribe-message keywords; a keyword's key is its type and an index ("thing1").
SubscribeFieldType = Literal[
    "thing",
    "number",
    "letter",
    "symbol",
    "character_string",
    "time",
    "date",
    "amount",
    "phone_number",
    "car_number",
    "name",
    "phrase",
]


class WeChatTemplate(_Section):
    template_id: str = Field(min_length=1)
    fields: dict[str, SubscribeFieldType] = Field(min_length=1, max_length=5)
    # 长期订阅: a template WeChat lets government services send whenever needed, with no one-time credit spent.
    long_term: bool = False

    @field_validator("fields")
    @classmethod
    def _keys_name_their_type(cls, value: dict[str, str]) -> dict[str, str]:
        # WeChat names every keyword <type><n>; a key that disagrees with its type is a typo in this file.
        for key, kind in value.items():
            if not re.fullmatch(rf"{kind}\d+", key):
                raise ValueError(f"key {key!r} must be its type {kind!r} followed by a number (e.g. {kind}1)")
        return value


class AlipayTemplate(_Section):
    template_id: str = Field(min_length=1)
    keywords: int = Field(ge=1)


StaffRole = Literal["clerk", "approver", "dept_admin", "supervisor", "admin"]


class StaffAlert(_Section):
    # Roles in the event's own department, and roles that hear of it wherever they sit.
    roles: list[StaffRole] = Field(default_factory=list)
    all_departments: list[StaffRole] = Field(default_factory=list)


class NotificationsSection(_Section):
    wechat_templates: dict[str, WeChatTemplate]
    alipay_templates: dict[str, AlipayTemplate]
    staff_alerts: dict[str, StaffAlert]
    batch_size: int = Field(ge=1, le=1000)
    lease_seconds: int = Field(ge=5)
    max_attempts: int = Field(ge=1, le=50)
    backoff_base_seconds: float = Field(gt=0)
    backoff_max_seconds: float = Field(gt=0)
    credits_kept_for_essentials: int = Field(ge=0, le=10)


class PaymentsSection(_Section):
    expire_minutes: int = Field(ge=1, le=120)
    query_after_seconds: int = Field(ge=10)
    alert_interval_seconds: int = Field(ge=1, le=86400)


class RatingsSection(_Section):
    period_days: int = Field(ge=1, le=60)
    callback_workdays: int = Field(ge=1, le=30)
    fix_workdays: int = Field(ge=1, le=60)


class FeedbackSection(_Section):
    consult_reply_workdays: int = Field(ge=1, le=60)
    complaint_reply_workdays: int = Field(ge=1, le=60)
    suggestion_reply_workdays: int = Field(ge=1, le=60)
    escalate_at_reopen: int = Field(ge=1, le=10)
    per_citizen_per_hour: int = Field(ge=1)
    answer_days: int = Field(ge=1, le=90)

    def reply_workdays(self, kind: str) -> int:
        """Working days the department has to answer this kind of feedback."""
        return getattr(self, f"{kind}_reply_workdays")


class StatsSection(_Section):
    cache_seconds: int = Field(ge=0, le=3600)
    computed_per_minute: int = Field(ge=1)


class MetricsSection(_Section):
    enabled: bool
    multiproc_dir: str = Field(min_length=1)
    token: str = Field(repr=False)
    allow_networks: list[str]

    @field_validator("allow_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for network in value:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"{network!r} is not an address or network (127.0.0.1/32, 10.0.0.0/8)") from None
        return value


class FrontendsSection(_Section):
    console_dir: str = Field(min_length=1)
    citizen_h5_dir: str = Field(min_length=1)


class CatalogSection(_Section):
    cache_seconds: int = Field(ge=0)
    memo_seconds: float = Field(ge=0, le=60)


class BookingSection(_Section):
    listing_cache_seconds: float = Field(ge=0, le=60)
    full_memo_seconds: float = Field(ge=0, le=60)
    seat_counter_seconds: int = Field(ge=10)
    idempotency_seconds: int = Field(ge=60)
    kiosk_tickets_per_minute: int = Field(ge=1)


class WorkerSection(_Section):
    embedded: bool
    no_show_interval_seconds: int = Field(ge=5)
    slots_interval_seconds: int = Field(ge=60)
    seat_counters_interval_seconds: int = Field(ge=1)
    case_lights_interval_seconds: int = Field(ge=5)
    notify_interval_seconds: float = Field(gt=0)
    payments_interval_seconds: int = Field(ge=5)
    tickets_interval_seconds: int = Field(ge=5)
    rating_defaults_interval_seconds: int = Field(ge=5)


class StorageSection(_Section):
    backend: Literal["local", "s3"]
    local_dir: str
    max_upload_bytes: int = Field(ge=1024)
    s3_endpoint: str
    s3_bucket: str
    s3_access_key: str
    s3_secret_key: str = Field(repr=False)
    s3_region: str
    s3_path_style: bool

    @field_validator("s3_endpoint", "s3_bucket", "s3_access_key", "s3_secret_key")
    @classmethod
    def _required_for_s3(cls, value: str, info: ValidationInfo) -> str:
        if not value and info.data.get("backend") == "s3":
            raise ValueError("is required when storage.backend = s3")
        return value

    @field_validator("s3_endpoint")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not re.fullmatch(r"https?://[^/?#\s]+/?", value):
            raise ValueError("must be an http:// or https:// URL with no path (https://oss-cn-hangzhou.aliyuncs.com)")
        return value

    @field_validator("s3_bucket")
    @classmethod
    def _bucket_name(cls, value: str) -> str:
        # The S3 naming rule, checked here so a typo stops start-up instead of the first upload.
        if value and not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", value):
            raise ValueError("must be 3-63 lowercase letters, digits, dots or hyphens")
        return value


class Settings(_Section):
    app: AppSection
    server: ServerSection
    database: DatabaseSection
    cache: CacheSection
    logging: LoggingSection
    security: SecuritySection
    identity: IdentitySection
    catalog: CatalogSection
    platforms: PlatformsSection
    licences: LicencesSection
    wechat: WeChatSection
    alipay: AlipaySection
    wecom: WeComSection
    wechatpay: WeChatPaySection
    booking: BookingSection
    worker: WorkerSection
    storage: StorageSection
    notifications: NotificationsSection
    payments: PaymentsSection
    ratings: RatingsSection
    feedback: FeedbackSection
    stats: StatsSection
    frontends: FrontendsSection
    metrics: MetricsSection

    # True when app.public_base_url was left empty and so follows the address the server is served on.
    _base_url_follows_server: bool = PrivateAttr(False)

    @property
    def is_production(self) -> bool:
        return self.app.env == "production"

    def served_at(self, host: str, port: int) -> Settings:
        """These settings for a server on host:port: an unset public_base_url follows that address."""
        if not self._base_url_follows_server:
            return self
        served = self.model_copy(
            update={
                "server": self.server.model_copy(update={"host": host, "port": port}),
                "app": self.app.model_copy(update={"public_base_url": base_url_of(host, port)}),
            }
        )
        served._base_url_follows_server = True
        return served


def base_url_of(host: str, port: int) -> str:
    """The URL this machine reaches a server bound to host:port at (a wildcard address is reached on loopback)."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


SECRET_KEYS = (
    ("security", "secret_key"),
    ("security", "lookup_secret"),
    ("wechat", "secret"),
    ("wecom", "corp_secret"),
    ("wechatpay", "apiv3_key"),
)


def _apply_env(data: dict, environ: dict[str, str]) -> dict:
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        if not section or not key:
            continue
        data.setdefault(section, {})
        if not isinstance(data[section], dict):
            raise ConfigError(f"config: {name} overrides {section!r}, which is not a section")
        data[section][key] = _list_or_text(value)
    return data


def _list_or_text(value: str):
    """A list written as JSON (APP_METRICS__ALLOW_NETWORKS='["10.0.0.0/8"]'); any other value stays text."""
    if value.lstrip().startswith("["):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        if isinstance(parsed, list):
            return parsed
    return value


def _first_error_line(error: ValidationError) -> str:
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"])
    kind = first["type"]
    if kind == "missing":
        return f"config: {key} is missing"
    if kind == "extra_forbidden":
        return f"config: {key} is not a known setting"
    if any(word in key for word in ("secret", "token", "password")):
        return f"config: {key}: {first['msg']}"  # never echo a secret into a log or a terminal
    return f"config: {key}: {first['msg']} (got {first.get('input')!r})"


def load_settings(path: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read config.toml, apply environment overrides, validate; raise ConfigError with one line on failure."""
    path = path or Path(os.environ.get("APP_CONFIG", DEFAULT_CONFIG_PATH))
    environ = dict(os.environ if environ is None else environ)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config: file {path} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config: {path} is not valid TOML: {exc}") from None
    data = _apply_env(data, environ)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_first_error_line(exc)) from None
    if settings.security.previous_secret_keys and not settings.security.lookup_secret:
        # The lookup hashes were keyed with the old secret_key: without it named here, no citizen is found by ID.
        raise ConfigError(
            "config: security.lookup_secret must be set when previous_secret_keys are (to the secret_key the stored "
            "lookup hashes were made with, usually the oldest; docs/OPERATIONS.md)"
        )
    if not settings.app.public_base_url:
        # Unset: the SDKs reach /sim (and the providers our notify routes) wherever this server is served.
        settings._base_url_follows_server = True
        settings = settings.served_at(settings.server.host, settings.server.port)
    if settings.platforms.mode == "live" or settings.is_production:
        for section, key in SECRET_KEYS:
            value = getattr(getattr(settings, section), key)
            if any(marker in value.lower() for marker in PLACEHOLDER_MARKERS) or value.startswith("dev-"):
                raise ConfigError(
                    f"config: {section}.{key} is a placeholder; set a real secret for production "
                    f"or platforms.mode = live"
                )
        if settings.is_production:
            for key, minimum in PRODUCTION_MIN_PASSWORD_COST.items():
                if getattr(settings.security, key) < minimum:
                    raise ConfigError(
                        f"config: security.{key} must be at least {minimum} in production "
                        f"(the cheap value is for tests)"
                    )
        if settings.is_production and not settings.alipay.seller_id:
            # Without it a notification of another merchant's trade with our out_trade_no would be taken as paid.
            raise ConfigError("config: alipay.seller_id (our merchant PID) is required in production")
        if settings.is_production and settings.platforms.mode != "live":
            raise ConfigError("config: platforms.mode must be live in production (the simulator is for development)")
        if settings.platforms.mode == "live":
            for key in ("app_private_key_path", "alipay_public_key_path"):
                if not getattr(settings.alipay, key):
                    raise ConfigError(f"config: alipay.{key} is required when platforms.mode = live")
            # WeChat Pay posts notifications only to https://; an http:// one would leave every payment unconfirmed.
            if settings.wechatpay.notify_url and not settings.wechatpay.notify_url.startswith("https://"):
                raise ConfigError("config: wechatpay.notify_url must be an https:// URL when platforms.mode = live")
            if not settings.wechatpay.notify_url and not settings.app.public_base_url.startswith("https://"):
                raise ConfigError(
                    "config: app.public_base_url must be https:// when platforms.mode = live "
                    "(WeChat Pay notifications come back to it; or set wechatpay.notify_url)"
                )
            if settings.identity.sms_code:
                raise ConfigError(
                    "config: identity.sms_code needs an SMS provider, and only the simulator's is built; "
                    "set identity.sms_code = false in live mode"
                )
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
