"""Runs the real Telegram adapter (python-telegram-bot) against the fake Bot API server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bot.channels.telegram import TelegramChannel
from bot.chat import ChatCore
from bot.settings import Settings
from tests.fakes.telegram_api import FakeTelegramServer
from tests.secret import TEST_SECRET_KEY


def telegram_settings(server: FakeTelegramServer, database_url: str, **extra: str) -> Settings:
    return Settings.from_mapping(
        {
            "SOTAY_DATABASE_URL": database_url,
            "TELEGRAM_TOKEN": server.token,
            "SOTAY_SECRET_KEY": TEST_SECRET_KEY,
            "TELEGRAM_BASE_URL": server.base_url,
            **extra,
        }
    )


@asynccontextmanager
async def running_channel(settings: Settings, core: ChatCore) -> AsyncIterator[TelegramChannel]:
    channel = TelegramChannel(settings, core, poll_timeout=1)
    await channel.start()
    try:
        yield channel
    finally:
        await channel.stop()


def keyboard_labels(params: dict[str, Any]) -> list[str]:
    markup = params.get("reply_markup") or {}
    rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
    return [button["text"] for row in rows for button in row]
