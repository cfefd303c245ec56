from pathlib import Path

import pytest

from app.core.config import ConfigError, load_settings

BASE = {"APP_APP__ENV": "development"}


def test_defaults_are_the_embedded_set_up():
    settings = load_settings(environ={})
    assert settings.database.url.startswith("sqlite://")
    assert settings.cache.url == ""
    assert settings.server.port == 8000


def test_no_read_replica_unless_one_is_named():
    assert load_settings(environ={}).database.read_replica_url == ""
    settings = load_settings(
        environ={
            "APP_DATABASE__URL": "postgres://u@db:5432/hall",
            "APP_DATABASE__READ_REPLICA_URL": "postgres://u@replica:5432/hall",
        }
    )
    assert settings.database.read_replica_url == "postgres://u@replica:5432/hall"


def test_environment_overrides_any_key_with_types_coerced():
    settings = load_settings(
        environ={
            "APP_SERVER__PORT": "9001",
            "APP_SERVER__ACCESS_LOG": "false",
            "APP_DATABASE__URL": "postgres://u@db:5432/hall",
        }
    )
    assert settings.server.port == 9001
    assert settings.server.access_log is False
    assert settings.database.url == "postgres://u@db:5432/hall"


@pytest.mark.parametrize(
    "environ, named_key",
    [
        ({"APP_SERVER__PORT": "eighty"}, "server.port"),
        ({"APP_SERVER__PORT": "70000"}, "server.port"),
        ({"APP_DATABASE__URL": "mysql://x"}, "database.url"),
        ({"APP_CACHE__URL": "memcached://x"}, "cache.url"),
        ({"APP_SERVER__COLOUR": "blue"}, "server.colour"),
        ({"APP_LOGGING__FORMAT": "xml"}, "logging.format"),
        ({"APP_METRICS__ALLOW_NETWORKS": '["10.0.0.0/33"]'}, "metrics.allow_networks"),
        # a replica is a PostgreSQL streaming replica of a PostgreSQL primary
        ({"APP_DATABASE__READ_REPLICA_URL": "sqlite://var/copy.sqlite3"}, "database.read_replica_url"),
        ({"APP_DATABASE__READ_REPLICA_URL": "postgres://u@replica:5432/hall"}, "database.read_replica_url"),
    ],
)
def test_bad_setting_stops_with_one_line_naming_the_key(environ, named_key):
    with pytest.raises(ConfigError) as error:
        load_settings(environ=environ)
    message = str(error.value)
    assert named_key in message
    assert "\n" not in message


def test_missing_setting_is_named(tmp_path: Path):
    source = Path(__file__).resolve().parents[2] / "config.toml"
    text = source.read_text(encoding="utf-8").replace('url = "sqlite://var/govhall.sqlite3"\n', "")
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"database\.url is missing"):
        load_settings(path=config, environ={})


def test_production_refuses_placeholder_secrets():
    live = {
        "APP_APP__ENV": "production",
        "APP_PLATFORMS__MODE": "live",
        "APP_ALIPAY__APP_PRIVATE_KEY_PATH": "/etc/govhall/app.pem",
        "APP_ALIPAY__ALIPAY_PUBLIC_KEY_PATH": "/etc/govhall/alipay.pem",
    }
    # Each refusal names its key in one line; setting that key reaches the next refusal, until none is left.
    steps = [
        ("security.secret_key", "APP_SECURITY__SECRET_KEY", "a-real-long-random-secret-value-0123456789"),
        ("wechat.secret", "APP_WECHAT__SECRET", "0123456789abcdef0123456789abcdef"),
        ("wecom.corp_secret", "APP_WECOM__CORP_SECRET", "wecom-application-secret-0123456789abcdef"),
        ("wechatpay.apiv3_key", "APP_WECHATPAY__APIV3_KEY", "A7f3Kq9Zr2Lm8Xv4Bn6Tc1Wd5Hy0Pj3S"),
        ("alipay.seller_id", "APP_ALIPAY__SELLER_ID", "2088123456789012"),
        # WeChat Pay posts notifications only to https: the default notify URL lives under public_base_url.
        ("app.public_base_url must be https", "APP_APP__PUBLIC_BASE_URL", "https://govhall.example.gov.cn"),
        # Only the simulator's SMS gateway is built: live mode must not promise SMS codes it cannot send.
        ("identity.sms_code", "APP_IDENTITY__SMS_CODE", "false"),
    ]
    for refusal, key, value in steps:
        with pytest.raises(ConfigError, match=refusal):
            load_settings(environ=live)
        live[key] = value
    assert load_settings(environ=live).is_production


def test_live_mode_refuses_an_http_wechat_pay_notify_url_in_one_line():
    live = {
        "APP_PLATFORMS__MODE": "live",
        "APP_SECURITY__SECRET_KEY": "a-real-long-random-secret-value-0123456789",
        "APP_WECHAT__SECRET": "0123456789abcdef0123456789abcdef",
        "APP_WECOM__CORP_SECRET": "wecom-application-secret-0123456789abcdef",
        "APP_WECHATPAY__APIV3_KEY": "A7f3Kq9Zr2Lm8Xv4Bn6Tc1Wd5Hy0Pj3S",
        "APP_ALIPAY__APP_PRIVATE_KEY_PATH": "/etc/govhall/app.pem",
        "APP_ALIPAY__ALIPAY_PUBLIC_KEY_PATH": "/etc/govhall/alipay.pem",
        "APP_IDENTITY__SMS_CODE": "false",
        "APP_APP__PUBLIC_BASE_URL": "https://govhall.example.gov.cn",
        "APP_WECHATPAY__NOTIFY_URL": "http://govhall.example.gov.cn/api/v1/pay/notify/wechat",
    }
    with pytest.raises(ConfigError) as error:
        load_settings(environ=live)
    assert str(error.value) == "config: wechatpay.notify_url must be an https:// URL when platforms.mode = live"


@pytest.mark.parametrize("key, weak", [("password_time_cost", "1"), ("password_memory_cost", "19455")])
def test_production_refuses_cheap_password_hashing(key, weak):
    live = {
        "APP_APP__ENV": "production",
        "APP_PLATFORMS__MODE": "live",
        "APP_ALIPAY__APP_PRIVATE_KEY_PATH": "/etc/govhall/app.pem",
        "APP_ALIPAY__ALIPAY_PUBLIC_KEY_PATH": "/etc/govhall/alipay.pem",
        "APP_SECURITY__SECRET_KEY": "a-real-long-random-secret-value-0123456789",
        "APP_WECHAT__SECRET": "0123456789abcdef0123456789abcdef",
        "APP_WECOM__CORP_SECRET": "wecom-application-secret-0123456789abcdef",
        "APP_WECHATPAY__APIV3_KEY": "A7f3Kq9Zr2Lm8Xv4Bn6Tc1Wd5Hy0Pj3S",
        "APP_IDENTITY__SMS_CODE": "false",
        "APP_ALIPAY__SELLER_ID": "2088123456789012",
        "APP_APP__PUBLIC_BASE_URL": "https://govhall.example.gov.cn",
    }
    assert load_settings(environ=live).security.password_memory_cost == 65536
    with pytest.raises(ConfigError) as error:
        load_settings(environ={**live, f"APP_SECURITY__{key.upper()}": weak})
    message = str(error.value)
    assert f"security.{key}" in message and "production" in message and "\n" not in message


def test_password_memory_must_cover_every_lane():
    with pytest.raises(ConfigError, match="security.password_parallelism"):
        load_settings(environ={"APP_SECURITY__PASSWORD_MEMORY_COST": "8", "APP_SECURITY__PASSWORD_PARALLELISM": "2"})


def test_production_refuses_the_simulator():
    with pytest.raises(ConfigError, match="platforms.mode"):
        load_settings(
            environ={
                "APP_APP__ENV": "production",
                "APP_PLATFORMS__MODE": "sim",
                "APP_SECURITY__SECRET_KEY": "a-real-long-random-secret-value-0123456789",
                "APP_WECHAT__SECRET": "0123456789abcdef0123456789abcdef",
            }
        )


def test_live_mode_needs_alipay_key_files():
    with pytest.raises(ConfigError, match="alipay.app_private_key_path"):
        load_settings(
            environ={
                "APP_PLATFORMS__MODE": "live",
                "APP_SECURITY__SECRET_KEY": "a-real-long-random-secret-value-0123456789",
                "APP_WECHAT__SECRET": "0123456789abcdef0123456789abcdef",
                "APP_WECOM__CORP_SECRET": "wecom-application-secret-0123456789abcdef",
                "APP_WECHATPAY__APIV3_KEY": "A7f3Kq9Zr2Lm8Xv4Bn6Tc1Wd5Hy0Pj3S",
            }
        )


def test_unset_public_base_url_follows_the_served_address():
    # Another port needs no second setting: the SDKs reach /sim where the server really is.
    assert load_settings(environ={"APP_SERVER__PORT": "8201"}).app.public_base_url == "http://127.0.0.1:8201"
    settings = load_settings(environ={})
    assert settings.app.public_base_url == "http://127.0.0.1:8000"
    # `serve --host 0.0.0.0 --port 8202`: reached on loopback from this machine.
    served = settings.served_at("0.0.0.0", 8202)
    assert (served.app.public_base_url, served.server.host, served.server.port) == (
        "http://127.0.0.1:8202",
        "0.0.0.0",
        8202,
    )
    assert served.served_at("::1", 8203).app.public_base_url == "http://[::1]:8203"


def test_explicit_public_base_url_is_kept_wherever_served():
    settings = load_settings(
        environ={"APP_APP__PUBLIC_BASE_URL": "https://hall.example.gov.cn", "APP_SERVER__PORT": "8201"}
    )
    assert settings.app.public_base_url == "https://hall.example.gov.cn"
    assert settings.served_at("0.0.0.0", 9000).app.public_base_url == "https://hall.example.gov.cn"
