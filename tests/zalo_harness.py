"""Runs the real Zalo adapter against the fake Zalo Bot API server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.channels.zalo import ZaloChannel
from bot.chat import ChatCore
from bot.settings import Settings
from tests.fakes.zalo_api import FakeZaloServer
from tests.secret import TEST_SECRET_KEY

# Short pauses after a failed poll keep the tests fast.
TEST_BACKOFF = (0.05, 0.1)


def zalo_settings(server: FakeZaloServer, database_url: str, **extra: str) -> Settings:
    return Settings.from_mapping(
        {
            "SOTAY_DATABASE_URL": database_url,
            "ZALO_TOKEN": server.token,
            "SOTAY_SECRET_KEY": TEST_SECRET_KEY,
            "ZALO_BASE_URL": server.base_url,
            **extra,
        }
    )


@asynccontextmanager
async def running_zalo(settings: Settings, core: ChatCore) -> AsyncIterator[ZaloChannel]:
    channel = ZaloChannel(settings, core, poll_timeout=1, backoff=TEST_BACKOFF)
    await channel.start()
    try:
        yield channel
    finally:
        await channel.stop()
