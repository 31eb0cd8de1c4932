import stat
from dataclasses import replace
from pathlib import Path

import pytest

from bot.keys import Keys, Purpose
from bot.settings import Settings, SettingsError
from tests.secret import TEST_SECRET_KEY


def test_defaults() -> None:
    settings = Settings.from_mapping({})
    assert settings.database_url == "sqlite+aiosqlite:///var/sotay.db"
    assert settings.telegram_token is None
    assert settings.telegram_base_url == "https://api.telegram.org"
    assert str(settings.timezone) == "Asia/Ho_Chi_Minh"
    assert settings.http_port == 8080
    assert not settings.serves_http
    assert not settings.public_handbook


def test_plain_database_urls_get_async_drivers() -> None:
    assert (
        Settings.from_mapping({"SOTAY_DATABASE_URL": "postgresql://u:p@db/sotay"}).database_url
        == "postgresql+asyncpg://u:p@db/sotay"
    )
    assert (
        Settings.from_mapping({"SOTAY_DATABASE_URL": "sqlite:///x.db"}).database_url
        == "sqlite+aiosqlite:///x.db"
    )


def test_base_url_accepts_the_ptb_form() -> None:
    settings = Settings.from_mapping({"TELEGRAM_BASE_URL": "http://127.0.0.1:8081/bot"})
    assert settings.telegram_base_url == "http://127.0.0.1:8081"


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"SOTAY_DATABASE_URL": "mysql://x"}, "SOTAY_DATABASE_URL"),
        ({"SOTAY_HTTP_PORT": "eighty"}, "SOTAY_HTTP_PORT"),
        ({"SOTAY_HTTP_PORT": "70000"}, "SOTAY_HTTP_PORT"),
        ({"SOTAY_TIMEZONE": "Mars/Olympus"}, "SOTAY_TIMEZONE"),
        ({"TELEGRAM_TOKEN": "not a token"}, "TELEGRAM_TOKEN"),
        ({"TELEGRAM_BASE_URL": "ftp://x"}, "TELEGRAM_BASE_URL"),
        (
            {
                "TELEGRAM_TOKEN": "1:abc",
                "TELEGRAM_WEBHOOK_URL": "https://bot.example.vn/telegram/webhook",
            },
            "TELEGRAM_WEBHOOK_SECRET",
        ),
        ({"TELEGRAM_WEBHOOK_URL": "http://insecure.example.vn"}, "TELEGRAM_WEBHOOK_URL"),
        ({"TELEGRAM_WEBHOOK_SECRET": "has spaces"}, "TELEGRAM_WEBHOOK_SECRET"),
        ({"SOTAY_PUBLIC_HANDBOOK": "maybe"}, "SOTAY_PUBLIC_HANDBOOK"),
    ],
)
def test_bad_settings_name_the_variable(values: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_mapping(values)


def test_environment_wins_over_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("SOTAY_HTTP_PORT=9000\nSOTAY_TIMEZONE=UTC\n")
    settings = Settings.load({"SOTAY_HTTP_PORT": "9100"}, env_file)
    assert settings.http_port == 9100
    assert str(settings.timezone) == "UTC"
    assert settings.serves_http


def test_env_example_is_valid(project_root: Path) -> None:
    settings = Settings.load({}, project_root / ".env.example")
    assert settings.telegram_token is None


ZALO_TOKEN = "1459232241454765289:AbcDEF-ghi_jkl"


def test_zalo_settings() -> None:
    settings = Settings.from_mapping(
        {
            "ZALO_TOKEN": ZALO_TOKEN,
            "SOTAY_SECRET_KEY": TEST_SECRET_KEY,
            "ZALO_BASE_URL": "https://bot-api.zaloplatforms.com/bot",
            "ZALO_WEBHOOK_URL": "https://bot.example.vn/zalo/webhook",
            "ZALO_WEBHOOK_SECRET": "8chars-ok",
            "ZALO_RATE_PER_SECOND": "2.5",
        }
    )
    assert settings.zalo_token == ZALO_TOKEN
    assert settings.zalo_base_url == "https://bot-api.zaloplatforms.com"
    assert settings.zalo_webhook_mode and settings.serves_http and settings.has_messenger
    assert not settings.telegram_webhook_mode
    assert settings.zalo_rate_per_second == 2.5
    defaults = Settings.from_mapping(
        {"ZALO_TOKEN": ZALO_TOKEN, "SOTAY_SECRET_KEY": TEST_SECRET_KEY}
    )
    assert defaults.zalo_base_url == "https://bot-api.zaloplatforms.com"
    assert defaults.zalo_rate_per_second == 10.0
    assert defaults.has_messenger and not defaults.serves_http
    assert not Settings.from_mapping({}).has_messenger


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"ZALO_TOKEN": "no colon"}, "ZALO_TOKEN"),
        ({"ZALO_TOKEN": "123:a/b"}, "ZALO_TOKEN"),
        ({"ZALO_BASE_URL": "ftp://x"}, "ZALO_BASE_URL"),
        ({"ZALO_WEBHOOK_URL": "http://insecure.example.vn"}, "ZALO_WEBHOOK_URL"),
        (
            {"ZALO_TOKEN": ZALO_TOKEN, "ZALO_WEBHOOK_URL": "https://bot.example.vn/zalo/webhook"},
            "ZALO_WEBHOOK_SECRET",
        ),
        (
            {
                "ZALO_WEBHOOK_URL": "https://bot.example.vn/zalo/webhook",
                "ZALO_WEBHOOK_SECRET": "long-enough",
            },
            "ZALO_TOKEN",
        ),
        ({"ZALO_WEBHOOK_SECRET": "short"}, "ZALO_WEBHOOK_SECRET"),
        ({"ZALO_WEBHOOK_SECRET": "x" * 257}, "ZALO_WEBHOOK_SECRET"),
        ({"ZALO_WEBHOOK_SECRET": "has spaces in it"}, "ZALO_WEBHOOK_SECRET"),
        ({"ZALO_RATE_PER_SECOND": "0"}, "ZALO_RATE_PER_SECOND"),
        ({"ZALO_RATE_PER_SECOND": "fast"}, "ZALO_RATE_PER_SECOND"),
    ],
)
def test_bad_zalo_settings_name_the_variable(values: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_mapping(values)


def test_outbox_and_reminder_settings() -> None:
    settings = Settings.from_mapping(
        {"SOTAY_OUTBOX_CLAIM_TIMEOUT": "5", "SOTAY_REMINDER_GRACE_HOURS": "2.5"}
    )
    assert settings.outbox_claim_timeout == 5.0
    assert settings.reminder_grace_hours == 2.5
    assert Settings.from_mapping({}).reminder_grace_hours == 6.0
    with pytest.raises(SettingsError, match="SOTAY_OUTBOX_CLAIM_TIMEOUT"):
        Settings.from_mapping({"SOTAY_OUTBOX_CLAIM_TIMEOUT": "-1"})
    with pytest.raises(SettingsError, match="TELEGRAM_RATE_PER_SECOND"):
        Settings.from_mapping({"TELEGRAM_RATE_PER_SECOND": "fast"})


def test_secret_key_signs_the_web_console_and_must_be_long() -> None:
    assert Settings.from_mapping({}).secret_key is None
    key = "k" * 32
    assert Settings.from_mapping({"SOTAY_SECRET_KEY": key}).secret_key == key
    with pytest.raises(SettingsError, match="SOTAY_SECRET_KEY"):
        Settings.from_mapping({"SOTAY_SECRET_KEY": "short"})


@pytest.mark.parametrize(
    "token", [{"TELEGRAM_TOKEN": "1:abc"}, {"ZALO_TOKEN": "1459232241454765289:Abc"}]
)
def test_a_messenger_needs_the_secret_key(token: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match=r"^SOTAY_SECRET_KEY is required") as refused:
        Settings.from_mapping(token)
    assert "\n" not in str(refused.value)
    with pytest.raises(SettingsError, match="at least 32 characters"):
        Settings.from_mapping({**token, "SOTAY_SECRET_KEY": "x" * 31})
    assert Settings.from_mapping({**token, "SOTAY_SECRET_KEY": "x" * 32}).secret_key == "x" * 32


def test_without_a_messenger_a_key_is_generated_once_into_var(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret_key"
    settings = replace(Settings.from_mapping({}), secret_key_file=path)
    first = Keys.for_settings(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_text().strip()) >= 32
    assert Keys.for_settings(settings) == first
    # Each use gets its own key, none of them the secret itself.
    derived = {first.derive(p) for p in (Purpose.CODES, Purpose.WEB_SESSIONS, Purpose.WEB_LOGINS)}
    assert len(derived) == 3 and first.root not in derived
    configured = Keys.for_settings(replace(settings, secret_key="y" * 40))
    assert configured.root == b"y" * 40 and configured != first
