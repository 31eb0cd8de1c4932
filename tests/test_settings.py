from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError


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
