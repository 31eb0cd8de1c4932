"""Settings from the environment and an optional `.env` file, validated once at start."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/sotay.db"
DEFAULT_TELEGRAM_BASE_URL = "https://api.telegram.org"
DEFAULT_ZALO_BASE_URL = "https://bot-api.zaloplatforms.com"
DEFAULT_HTTP_PORT = 8080
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"

_TELEGRAM_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
# Telegram accepts 1-256 characters A-Z, a-z, 0-9, _ and - as a webhook secret.
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# Zalo documents its token as "<bot id>:<access key>"; it goes into the URL path, so no
# whitespace, slash, ? or #.
_ZALO_TOKEN = re.compile(r"^\d+:[^\s/?#]+$")
# Zalo wants 8-256 characters (bot.zaloplatforms.com, setWebhook); the same safe alphabet.
_ZALO_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{8,256}$")
_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    telegram_token: str | None = None
    telegram_base_url: str = DEFAULT_TELEGRAM_BASE_URL
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    http_port: int = DEFAULT_HTTP_PORT
    http_port_set: bool = False
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))
    public_handbook: bool = False
    # Telegram allows about 30 messages a second overall; a little under keeps clear of 429s.
    telegram_rate_per_second: float = 29.5
    telegram_burst: int = 1
    # Seconds before a row claimed by a process that died is sent again.
    outbox_claim_timeout: float = 60.0
    # A reminder missed while the bot was down is still sent this many hours late.
    reminder_grace_hours: float = 6.0
    zalo_token: str | None = None
    zalo_base_url: str = DEFAULT_ZALO_BASE_URL
    zalo_webhook_url: str | None = None
    zalo_webhook_secret: str | None = None
    # Zalo publishes no sending limits; 10 a second overall is a cautious guess.
    zalo_rate_per_second: float = 10.0
    # The one secret every key is derived from (bot/keys.py); None only without a messenger,
    # and then a key generated once into secret_key_file is used.
    secret_key: str | None = None
    secret_key_file: Path = Path("var/secret_key")
    # Handbook query texts and outbox bodies older than this are purged.
    retention_days: int = 180
    # Where staff reach the web console (/admin/ below it), for the sign-in links the bot
    # sends; None: http://127.0.0.1:SOTAY_HTTP_PORT, for a console on this machine.
    web_url: str | None = None

    @classmethod
    def load(cls, environ: Mapping[str, str], env_file: Path | None = Path(".env")) -> Settings:
        """Read settings: the process environment wins over the `.env` file."""
        values: dict[str, str] = {}
        if env_file is not None and env_file.is_file():
            values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        values.update(environ)
        return cls.from_mapping(values)

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> Settings:
        def get(name: str) -> str | None:
            value = values.get(name, "").strip()
            return value or None

        webhook_url = _url(get("TELEGRAM_WEBHOOK_URL"), "TELEGRAM_WEBHOOK_URL", https=True)
        webhook_secret = get("TELEGRAM_WEBHOOK_SECRET")
        if webhook_secret is not None and not _WEBHOOK_SECRET.match(webhook_secret):
            raise SettingsError(
                "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
            )
        if webhook_url and not webhook_secret:
            raise SettingsError(
                "TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_WEBHOOK_URL is set"
            )
        token = get("TELEGRAM_TOKEN")
        if token is not None and not _TELEGRAM_TOKEN.match(token):
            raise SettingsError("TELEGRAM_TOKEN does not look like a bot token (digits:letters)")
        if webhook_url and token is None:
            raise SettingsError("TELEGRAM_TOKEN is required when TELEGRAM_WEBHOOK_URL is set")
        zalo_token = _zalo_token(get("ZALO_TOKEN"))
        zalo_webhook_url, zalo_webhook_secret = _zalo_webhook(
            get("ZALO_WEBHOOK_URL"), get("ZALO_WEBHOOK_SECRET"), zalo_token
        )
        port_text = get("SOTAY_HTTP_PORT")
        secret_key = _secret_key(
            get("SOTAY_SECRET_KEY"), token is not None or zalo_token is not None
        )
        return cls(
            database_url=_database_url(get("SOTAY_DATABASE_URL") or DEFAULT_DATABASE_URL),
            telegram_token=token,
            telegram_base_url=_telegram_base_url(get("TELEGRAM_BASE_URL")),
            telegram_webhook_url=webhook_url,
            telegram_webhook_secret=webhook_secret,
            http_port=_port(port_text) if port_text else DEFAULT_HTTP_PORT,
            http_port_set=port_text is not None,
            timezone=_timezone(get("SOTAY_TIMEZONE") or DEFAULT_TIMEZONE),
            public_handbook=_flag(get("SOTAY_PUBLIC_HANDBOOK"), "SOTAY_PUBLIC_HANDBOOK"),
            telegram_rate_per_second=_positive(
                get("TELEGRAM_RATE_PER_SECOND") or "29.5", "TELEGRAM_RATE_PER_SECOND"
            ),
            telegram_burst=int(_positive(get("TELEGRAM_BURST") or "1", "TELEGRAM_BURST")),
            outbox_claim_timeout=_positive(
                get("SOTAY_OUTBOX_CLAIM_TIMEOUT") or "60", "SOTAY_OUTBOX_CLAIM_TIMEOUT"
            ),
            reminder_grace_hours=_positive(
                get("SOTAY_REMINDER_GRACE_HOURS") or "6", "SOTAY_REMINDER_GRACE_HOURS"
            ),
            zalo_token=zalo_token,
            # Zalo's documentation writes the base URL with the "/bot" before the token.
            zalo_base_url=(
                _url(get("ZALO_BASE_URL"), "ZALO_BASE_URL") or DEFAULT_ZALO_BASE_URL
            ).removesuffix("/bot"),
            zalo_webhook_url=zalo_webhook_url,
            zalo_webhook_secret=zalo_webhook_secret,
            zalo_rate_per_second=_positive(
                get("ZALO_RATE_PER_SECOND") or "10", "ZALO_RATE_PER_SECOND"
            ),
            secret_key=secret_key,
            retention_days=int(
                _positive(get("SOTAY_RETENTION_DAYS") or "180", "SOTAY_RETENTION_DAYS")
            ),
            web_url=_url(get("SOTAY_WEB_URL"), "SOTAY_WEB_URL"),
        )

    @property
    def telegram_webhook_mode(self) -> bool:
        return self.telegram_webhook_url is not None

    @property
    def zalo_webhook_mode(self) -> bool:
        return self.zalo_webhook_url is not None

    @property
    def has_messenger(self) -> bool:
        return self.telegram_token is not None or self.zalo_token is not None

    @property
    def web_base_url(self) -> str:
        return self.web_url or f"http://127.0.0.1:{self.http_port}"

    @property
    def serves_http(self) -> bool:
        """The web app runs for webhooks, or when a port was asked for (health checks)."""
        return self.telegram_webhook_mode or self.zalo_webhook_mode or self.http_port_set


def _secret_key(value: str | None, messenger: bool) -> str | None:
    if value is None and messenger:
        raise SettingsError(
            "SOTAY_SECRET_KEY is required with a messenger token: set at least 32 random "
            "characters (python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    if value is not None and len(value) < 32:
        raise SettingsError("SOTAY_SECRET_KEY must be at least 32 characters")
    return value


def _zalo_token(value: str | None) -> str | None:
    if value is not None and not _ZALO_TOKEN.match(value):
        raise SettingsError("ZALO_TOKEN does not look like a Zalo bot token (digits:key)")
    return value


def _zalo_webhook(
    url: str | None, secret: str | None, token: str | None
) -> tuple[str | None, str | None]:
    url = _url(url, "ZALO_WEBHOOK_URL", https=True)
    if secret is not None and not _ZALO_WEBHOOK_SECRET.match(secret):
        raise SettingsError(
            "ZALO_WEBHOOK_SECRET must be 8-256 characters of A-Z, a-z, 0-9, _ and -"
        )
    if url and not secret:
        raise SettingsError("ZALO_WEBHOOK_SECRET is required when ZALO_WEBHOOK_URL is set")
    if url and token is None:
        raise SettingsError("ZALO_TOKEN is required when ZALO_WEBHOOK_URL is set")
    return url, secret


def _url(value: str | None, name: str, *, https: bool = False) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    allowed = {"https"} if https else {"http", "https"}
    if parts.scheme not in allowed or not parts.netloc:
        scheme = "https://" if https else "http:// or https://"
        raise SettingsError(f"{name} must be a URL starting with {scheme} (got {value!r})")
    return value.rstrip("/")


def _telegram_base_url(value: str | None) -> str:
    url = _url(value, "TELEGRAM_BASE_URL") or DEFAULT_TELEGRAM_BASE_URL
    # Accept the form python-telegram-bot documents ("https://api.telegram.org/bot") too.
    return url.removesuffix("/bot")


def _database_url(value: str) -> str:
    scheme, sep, rest = value.partition("://")
    if not sep or scheme not in _DRIVERS:
        raise SettingsError(
            "SOTAY_DATABASE_URL must start with sqlite:/// or postgresql:// "
            f"(got scheme {scheme!r})"
        )
    return f"{_DRIVERS[scheme]}://{rest}"


def _port(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise SettingsError(
            f"SOTAY_HTTP_PORT must be a whole number from 1 to 65535 (got {value!r})"
        )
    return int(value)


def _positive(value: str, name: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if not number > 0:
        raise SettingsError(f"{name} must be a positive number (got {value!r})")
    return number


def _timezone(value: str) -> ZoneInfo:
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"SOTAY_TIMEZONE must be an IANA time zone such as {DEFAULT_TIMEZONE} (got {value!r})"
        ) from None


def _flag(value: str | None, name: str) -> bool:
    text = (value or "").lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SettingsError(f"{name} must be 1 or 0 (got {value!r})")
